//! The spool directory with real folders and a real SQLite database: every file form,
//! malformed files, half-written files, 1,000 files at once, two daemons on one directory,
//! and recovery of files taken before a crash.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use smsgw::backends::sql::sqlite::Sqlite;
use smsgw::config::Config;
use smsgw::service::Service;
use smsgw::spool::{self, Spool, Taken};
use tokio::sync::watch;

const T: Duration = Duration::from_secs(30);

struct Setup {
    dir: tempfile::TempDir,
    cfg: Config,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::default();
        cfg.spool.dir = dir.path().join("outgoing");
        cfg.spool.queues.insert("alerts".into(), "modem2".into());
        Setup { dir, cfg }
    }

    fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("smsgw.db")
    }

    async fn storage(&self) -> Arc<dyn Service> {
        let s = Sqlite::open(&self.db_path(), 5000).unwrap();
        s.init().await.unwrap();
        Arc::new(s)
    }

    fn spool_dir(&self) -> &Path {
        &self.cfg.spool.dir
    }

    /// Writes a file the recommended way: under a dot name, then renamed in.
    fn drop_file(&self, name: &str, bytes: &[u8]) {
        let tmp = self.spool_dir().join(format!(".{name}.writing"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, self.spool_dir().join(name)).unwrap();
    }

    fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.db_path()).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    async fn wait_count(&self, sql: &str, want: i64) {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let n = self.count(sql);
            if n == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{sql} stayed at {n}, wanted {want}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn utf16(bom_le: bool, text: &str) -> Vec<u8> {
    let mut v = if bom_le {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        v.extend_from_slice(&if bom_le {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    v
}

#[tokio::test]
async fn every_file_form_is_queued_as_the_right_message() {
    let s = Setup::new();
    let storage = s.storage().await;
    let sp = Spool::open(&s.cfg, storage).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "alert.Xa91",
            b"To: 48600100200\nFlash: yes\nReport: yes\nPriority: High\nQueue: alerts\n\nDisk full on srv1\n".to_vec(),
        ),
        ("short", b"To: s1234\nAlphabet: UTF-8\n\nstan konta\n".to_vec()),
        ("OUT+48600100201.txt", "zażółć gęślą jaźń".as_bytes().to_vec()),
        ("OUTA_+48600100202_00.txtd", utf16(true, "emoji 🐢 from playSMS")),
        (
            "OUTZ20250101_120000_00_+48600100203_sms0.txt",
            utf16(false, "big-endian"),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(s.spool_dir().join(name), bytes).unwrap();
        let t = sp.take(name).await;
        assert!(matches!(t, Taken::Queued(_)), "{name}: {t:?}");
        assert!(!s.spool_dir().join(name).exists(), "{name} was removed");
    }
    let db = s.db();
    let row = |to: &str| -> (String, String, String, i64, i64) {
        db.query_row(
            "SELECT TextDecoded, coalesce(SenderID, ''), DeliveryReport, Class, Priority FROM outbox WHERE DestinationNumber = ?1",
            [to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap_or_else(|e| panic!("{to}: {e}"))
    };
    assert_eq!(
        row("+48600100200"),
        (
            "Disk full on srv1".into(),
            "modem2".into(),
            "yes".into(),
            0,
            1
        )
    );
    assert_eq!(row("1234").0, "stan konta");
    assert_eq!(row("+48600100201").0, "zażółć gęślą jaźń");
    let r = row("+48600100202");
    assert_eq!(
        (r.0.as_str(), r.2.as_str()),
        ("emoji 🐢 from playSMS", "yes")
    );
    let z = row("+48600100203");
    assert_eq!(z.0, "big-endian");
    assert!(r.4 > z.4, "OUTA before OUTZ");
    // Nothing is left behind.
    assert_eq!(
        std::fs::read_dir(s.spool_dir().join(".taken"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn a_malformed_file_goes_to_failed_with_the_reason() {
    let s = Setup::new();
    let sp = Spool::open(&s.cfg, s.storage().await).unwrap();
    std::fs::write(
        s.spool_dir().join("bad1"),
        b"To: 48600100200\nFlash: perhaps\n\nhello\n",
    )
    .unwrap();
    assert!(matches!(sp.take("bad1").await, Taken::Failed(_)));
    let why = std::fs::read_to_string(s.spool_dir().join("failed/bad1.error")).unwrap();
    assert_eq!(
        why.trim(),
        "line 2: header Flash: \"perhaps\": use yes or no"
    );
    assert!(s.spool_dir().join("failed/bad1").exists());
    // A number that is no number, and a second file of the same name.
    std::fs::write(s.spool_dir().join("bad1"), b"To: 4860o\n\nhello\n").unwrap();
    assert!(matches!(sp.take("bad1").await, Taken::Failed(_)));
    let why = std::fs::read_to_string(s.spool_dir().join("failed/bad1.1.error")).unwrap();
    assert!(why.starts_with("line 1: header To:"), "{why}");
    assert_eq!(s.count("SELECT count(*) FROM outbox"), 0);
}

#[tokio::test]
async fn a_file_still_being_written_is_not_taken_by_the_rescan() {
    let s = Setup::new();
    let mut sp = Spool::open(&s.cfg, s.storage().await).unwrap();
    let path = s.spool_dir().join("growing");
    std::fs::write(&path, b"To: 48600100200\n").unwrap();
    assert!(sp.stable_files().is_empty(), "new: not stable yet");
    std::fs::write(&path, b"To: 48600100200\n\nhalf a mess").unwrap();
    assert!(sp.stable_files().is_empty(), "changed since the last scan");
    std::fs::write(&path, b"To: 48600100200\n\nhalf a message, now whole\n").unwrap();
    assert!(sp.stable_files().is_empty(), "changed again");
    assert_eq!(sp.stable_files(), ["growing"], "unchanged for two scans");
    // Hidden and lock files are never candidates.
    std::fs::write(s.spool_dir().join(".hidden"), b"x").unwrap();
    std::fs::write(s.spool_dir().join("locked"), b"To: 1\n\nx").unwrap();
    std::fs::write(s.spool_dir().join("locked.LOCK"), b"123").unwrap();
    sp.stable_files();
    assert!(!sp.stable_files().contains(&".hidden".to_string()));
    assert!(matches!(sp.take("locked").await, Taken::Skipped));
    assert!(matches!(sp.take("growing").await, Taken::Queued(_)));
}

#[tokio::test]
async fn files_taken_before_a_crash_are_queued_once() {
    let s = Setup::new();
    let storage = s.storage().await;
    let sp = Spool::open(&s.cfg, storage.clone()).unwrap();
    let keep = s.dir.path().join("keep");
    std::fs::write(s.spool_dir().join("a"), b"To: 48600100200\n\nonce\n").unwrap();
    // Another name for the same file (same inode and time): what a crash between queuing
    // and unlinking leaves in .taken.
    std::fs::hard_link(s.spool_dir().join("a"), &keep).unwrap();
    assert!(matches!(sp.take("a").await, Taken::Queued(_)));
    std::fs::hard_link(&keep, s.spool_dir().join(".taken/a")).unwrap();
    // And a file that was taken but not queued yet.
    std::fs::write(
        s.spool_dir().join(".taken/b"),
        b"To: 48600100200\n\ntaken, not queued\n",
    )
    .unwrap();
    let mut got = sp.recover().await;
    got.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got[0], ("a".to_string(), Taken::AlreadyQueued));
    assert!(matches!(got[1], (_, Taken::Queued(_))));
    assert_eq!(s.count("SELECT count(*) FROM outbox"), 2);
    assert_eq!(
        std::fs::read_dir(s.spool_dir().join(".taken"))
            .unwrap()
            .count(),
        0
    );
    // The same text dropped again later is a new message.
    std::fs::write(s.spool_dir().join("a"), b"To: 48600100200\n\nonce\n").unwrap();
    assert!(matches!(sp.take("a").await, Taken::Queued(_)));
    assert_eq!(s.count("SELECT count(*) FROM outbox"), 3);
}

/// The spool task of a daemon, stopped with the returned sender.
fn start(
    cfg: &Config,
    storage: Arc<dyn Service>,
) -> (
    watch::Sender<bool>,
    watch::Receiver<u64>,
    tokio::task::JoinHandle<()>,
) {
    let sp = Spool::open(cfg, storage).unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let (wake, wake_rx) = watch::channel(0u64);
    let task = tokio::spawn(spool::run(sp, Duration::from_secs(1), wake, stop_rx));
    (stop, wake_rx, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_file_is_queued_at_once_and_wakes_the_senders() {
    let s = Setup::new();
    // Watching starts in open: a file written from now on is seen. The rescan is an hour
    // away, so only the inotify event can take it in time.
    let sp = Spool::open(&s.cfg, s.storage().await).unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let (wake, mut wake_rx) = watch::channel(0u64);
    // Written in place (no rename): taken when closed.
    std::fs::write(s.spool_dir().join("now"), b"To: 48600100200\n\nnow\n").unwrap();
    let task = tokio::spawn(spool::run(sp, Duration::from_secs(3600), wake, stop_rx));
    tokio::time::timeout(Duration::from_secs(10), wake_rx.changed())
        .await
        .expect("woken by the queued file")
        .unwrap();
    assert_eq!(
        s.count("SELECT count(*) FROM outbox WHERE TextDecoded = 'now'"),
        1
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_files_two_daemons_each_queued_once() {
    let s = Setup::new();
    std::fs::create_dir_all(s.spool_dir()).unwrap();
    let (stop1, _w1, t1) = start(&s.cfg, s.storage().await);
    let (stop2, _w2, t2) = start(&s.cfg, s.storage().await);
    for i in 0..1000 {
        s.drop_file(
            &format!("msg{i:04}"),
            format!("To: 48600100200\n\nbatch {i}\n").as_bytes(),
        );
    }
    s.wait_count("SELECT count(*) FROM outbox", 1000).await;
    s.wait_count("SELECT count(DISTINCT TextDecoded) FROM outbox", 1000)
        .await;
    assert_eq!(s.count("SELECT count(*) FROM smsgw_spool"), 1000);
    stop1.send(true).unwrap();
    stop2.send(true).unwrap();
    t1.await.unwrap();
    t2.await.unwrap();
    let left: Vec<_> = std::fs::read_dir(s.spool_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        std::fs::read_dir(s.spool_dir().join(".taken"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_restarted_mid_batch_queues_the_rest_once() {
    let s = Setup::new();
    std::fs::create_dir_all(s.spool_dir()).unwrap();
    let (stop, _w, t) = start(&s.cfg, s.storage().await);
    for i in 0..300 {
        s.drop_file(
            &format!("msg{i:04}"),
            format!("To: 48600100200\n\nrestart {i}\n").as_bytes(),
        );
    }
    // Stop it in the middle (the task is aborted as at a crash), then start another.
    let deadline = tokio::time::Instant::now() + T;
    while s.count("SELECT count(*) FROM outbox") < 50 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    t.abort();
    let _ = t.await;
    drop(stop);
    let (stop, _w, t) = start(&s.cfg, s.storage().await);
    s.wait_count("SELECT count(*) FROM outbox", 300).await;
    assert_eq!(
        s.count("SELECT count(DISTINCT TextDecoded) FROM outbox"),
        300
    );
    stop.send(true).unwrap();
    t.await.unwrap();
}
