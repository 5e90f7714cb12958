//! A Gammu user's first hour, as that user types it: gammu-smsd-inject's options, a config
//! with the usual mistakes, import-gammu and its systemd drop-in, the listings piped into
//! `head`. Each test runs the `smsgw` binary as a process and checks what the user sees
//! (exit code, message, the rows written).

mod run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use run::{smsgw, stderr as err, stdout as out};

/// A config with an SQLite storage and one phone in `dir`.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let d = dir.display();
    let path = dir.join("smsgw.toml");
    std::fs::write(
        &path,
        format!("[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"gsm1\"\ndevice = \"/dev/ttyUSB0\"\n{extra}"),
    )
    .unwrap();
    path
}

fn rows(dir: &Path, sql: &str) -> Vec<Vec<String>> {
    let c = rusqlite::Connection::open(dir.join("smsgw.db")).unwrap();
    let mut st = c.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn inject_takes_gammu_smsd_injects_options() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let c = cfg.to_str().unwrap();
    // -text with a leading dash, -unicode, -flash, -report, -validity, any case.
    let o = smsgw(
        &[
            "inject",
            "-c",
            c,
            "TEXT",
            "+48600100200",
            "-text",
            "-5 degrees",
            "-UNICODE",
            "-flash",
            "-report",
            "-validity",
            "DAY",
        ],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o).trim(), "Written message with ID 1");
    assert_eq!(
        rows(
            dir.path(),
            "SELECT TextDecoded, Coding, Class, DeliveryReport, RelativeValidity FROM outbox WHERE ID = 1"
        ),
        [["-5 degrees", "Unicode_No_Compression", "0", "yes", "167"]]
    );
    // -len N: take up to N characters and split them; -16bit ties the parts with a 16-bit
    // reference; the text from standard input, as Gammu reads it.
    let long = "x".repeat(500);
    let o = smsgw(
        &[
            "inject",
            "-c",
            c,
            "TEXT",
            "+48600100200",
            "-len",
            "400",
            "-16bit",
        ],
        Some(long.as_bytes()),
    );
    assert!(o.status.success(), "{}", err(&o));
    let parts = rows(
        dir.path(),
        "SELECT length(TextDecoded), substr(UDH, 1, 6) FROM outbox WHERE ID = 2 UNION ALL SELECT length(TextDecoded), substr(UDH, 1, 6) FROM outbox_multipart WHERE ID = 2",
    );
    assert_eq!(parts.len(), 3, "{parts:?}");
    let chars: usize = parts.iter().map(|p| p[0].parse::<usize>().unwrap()).sum();
    assert_eq!(chars, 400, "-len 400 takes 400 characters");
    assert!(parts.iter().all(|p| p[1] == "060804"), "{parts:?}");
    // -autolen, -textutf8, -maxsms; -l/-L are accepted.
    let o = smsgw(
        &[
            "inject",
            "-c",
            c,
            "-l",
            "TEXT",
            "+48600100200",
            "-autolen",
            "5",
            "-textutf8",
            "Zażółć gęślą",
        ],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        rows(dir.path(), "SELECT TextDecoded FROM outbox WHERE ID = 3"),
        [["Zażół"]]
    );
    let o = smsgw(
        &[
            "inject",
            "-c",
            c,
            "TEXT",
            "+48600100200",
            "-maxsms",
            "1",
            "-text",
            &"y".repeat(200),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("-maxsms"), "{}", err(&o));
    // -inputunicode: UTF-16 with a byte-order mark on standard input.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "Cześć".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let o = smsgw(
        &["inject", "-c", c, "TEXT", "+48600100200", "-inputunicode"],
        Some(&utf16),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        rows(dir.path(), "SELECT TextDecoded FROM outbox WHERE ID = 4"),
        [["Cześć"]]
    );
    // The text as an argument, as `pdu encode NUMBER TEXT` takes it.
    let o = smsgw(&["inject", "-c", c, "TEXT", "+48600100200", "plain"], None);
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn a_wrong_inject_argument_exits_64_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let c = cfg.to_str().unwrap();
    for (args, says) in [
        (&["-enablevoice"][..], "-enablevoice is not supported"),
        (&["-bogus"], "unknown option -bogus"),
        (&["-text"], "-text needs a value"),
        (&["--bogus"], "unexpected argument"),
    ] {
        let mut all = vec!["inject", "-c", c, "TEXT", "+48600100200"];
        all.extend_from_slice(args);
        let o = smsgw(&all, None);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {}", err(&o));
        assert!(err(&o).contains(says), "{args:?}: {}", err(&o));
    }
    let o = smsgw(
        &[
            "inject",
            "-c",
            c,
            "TEXT",
            "+48600100200",
            "-text",
            "x",
            "--phone-id",
            "nope",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("\"nope\" is no phone or transport") && err(&o).contains("gsm1"),
        "{}",
        err(&o)
    );
}

#[test]
fn config_mistakes_say_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smsgw.toml");
    let check = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let o = smsgw(&["config", "check", "-c", path.to_str().unwrap()], None);
        (o.status.code(), err(&o))
    };
    let (code, msg) = check("[[phone]]\nid = \"a\"\ndevice = \"/dev/ttyUSB0\"\npin = 1234\n");
    assert_eq!(code, Some(2));
    assert!(
        msg.contains("smsgw.toml:4: phone.pin: write the PIN in quotes: pin = \"1234\""),
        "{msg}"
    );
    let (_, msg) =
        check("[[phone]]\nid = \"a\"\ndevice = \"/dev/ttyUSB0\"\nrecieve_frequency = 5\n");
    assert!(msg.contains("did you mean `receive_frequency`?"), "{msg}");
    let (_, msg) = check("[[phone]]\nid = \"a\"\ndevice = \"ttyUSB0\"\n");
    assert!(msg.contains("\"/dev/ttyUSB0\""), "{msg}");
    let (_, msg) = check(
        "[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/y\"\n",
    );
    assert!(
        msg.contains("smsgw.toml:5: phone.id"),
        "the second one: {msg}"
    );
    let (_, msg) = check("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nbaud = -1\n");
    assert!(
        !msg.contains("u32") && msg.contains("whole number"),
        "{msg}"
    );
    let (code, msg) = check("");
    assert_eq!(code, Some(2));
    assert!(
        msg.contains("the config is empty") && msg.contains("import-gammu"),
        "{msg}"
    );
    // A missing numbers file refuses the start, as gammu-smsd does.
    let (code, msg) = check("[receiving]\ninclude_numbers_file = \"/nonexistent/allowed.txt\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n");
    assert_eq!(code, Some(2));
    assert!(
        msg.contains("receiving.include_numbers_file: cannot read /nonexistent/allowed.txt"),
        "{msg}"
    );
    std::fs::write(&path, "[receiving]\ninclude_numbers_file = \"/nonexistent/allowed.txt\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n").unwrap();
    let o = smsgw(&["run", "-c", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // No way out: a warning, not an error (inject may queue for a daemon elsewhere).
    let (code, msg) = check("[storage]\nkind = \"sqlite\"\n");
    assert_eq!(code, Some(0));
    assert!(msg.contains("no [[phone]] or [[transport]]"), "{msg}");
}

#[test]
fn gammu_habits_get_hints() {
    let dir = tempfile::tempdir().unwrap();
    let gammurc = dir.path().join("gammu-smsdrc");
    std::fs::write(
        &gammurc,
        "[gammu]\nport = /dev/ttyUSB0\nconnection = at\n[smsd]\nservice = files\n",
    )
    .unwrap();
    let o = smsgw(&["run", "-c", gammurc.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("looks like a gammu-smsd config")
            && err(&o).contains("smsgw config import-gammu"),
        "{}",
        err(&o)
    );
    let o = smsgw(&["run", "-c", "/nonexistent/smsgw.toml"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("examples") && err(&o).contains("import-gammu"),
        "{}",
        err(&o)
    );
    let o = smsgw(&["run", "-d", "-c", gammurc.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        err(&o).contains("does not fork") && err(&o).contains("systemd"),
        "{}",
        err(&o)
    );
    let toml = config(dir.path(), "");
    let o = smsgw(
        &["config", "import-gammu", "-c", toml.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("not a gammu-smsd config"), "{}", err(&o));
}

#[test]
fn import_gammu_writes_the_systemd_dropin_for_the_paths_it_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    for f in ["inbox", "outbox", "sent", "error"] {
        std::fs::create_dir_all(spool.join(f)).unwrap();
    }
    let s = spool.display();
    let gammurc = dir.path().join("gammu-smsdrc");
    std::fs::write(
        &gammurc,
        format!("[gammu]\ndevice = /dev/ttyUSB0\nconnection = at\n[smsd]\nservice = files\ninboxpath = {s}/inbox/\noutboxpath = {s}/outbox/\nsentsmspath = {s}/sent/\nerrorsmspath = {s}/error/\nlogfile = syslog\n"),
    )
    .unwrap();
    let dropin = dir.path().join("smsgw.service.d/paths.conf");
    let o = smsgw(
        &[
            "config",
            "import-gammu",
            "-c",
            gammurc.to_str().unwrap(),
            "--systemd-dropin",
            dropin.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("kind = \"files\""), "{}", out(&o));
    assert!(
        out(&o).contains("LogFile = syslog: smsgw logs to standard error"),
        "{}",
        out(&o)
    );
    let text = std::fs::read_to_string(&dropin).unwrap();
    assert!(
        text.contains(&format!(
            "ReadWritePaths={s}/error {s}/inbox {s}/outbox {s}/sent\n"
        )),
        "{text}"
    );
    assert!(text.contains("[Service]"), "{text}");
    // Without the flag it says what to add.
    let o = smsgw(&["config", "import-gammu", gammurc.to_str().unwrap()], None);
    assert!(err(&o).contains("ReadWritePaths="), "{}", err(&o));
}

#[test]
fn listings_end_quietly_when_the_reader_goes_and_since_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let c = cfg.to_str().unwrap();
    for i in 0..50 {
        let o = smsgw(
            &[
                "inject",
                "-c",
                c,
                "TEXT",
                "+48600100200",
                "-text",
                &format!("m{i}"),
            ],
            None,
        );
        assert!(o.status.success());
    }
    // `smsgw outbox list | head -0`: the reader is gone before the first line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["outbox", "list", "-c", c])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(
        !err(&o).contains("Broken pipe") && !err(&o).contains("panicked"),
        "{}",
        err(&o)
    );
    assert_ne!(o.status.code(), Some(101), "no panic");
    let o = smsgw(&["inbox", "list", "-c", c, "--since", "2026-13-45"], None);
    assert_eq!(o.status.code(), Some(64));
    assert!(err(&o).contains("is not a date"), "{}", err(&o));
    let o = smsgw(&["inbox", "list", "-c", c, "--since", "yesterday"], None);
    assert!(o.status.success(), "{}", err(&o));
}

/// The first line `smsgw run -c CONFIG` writes on its standard error (a pipe), then the
/// daemon is killed.
fn first_stderr_line(config: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-c"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn a_log_file_is_announced_and_no_colours_go_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("smsgw.log");
    let cfg = config(dir.path(), "");
    // Move the log to a file: the foreground daemon says where it goes.
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[storage]",
        &format!("log = \"{}\"\n[storage]", log.display()),
    );
    std::fs::write(&cfg, text).unwrap();
    let first = first_stderr_line(&cfg);
    assert!(
        first.contains(&format!("logging to {}", log.display())),
        "{first}"
    );
    // Logging to a pipe: no ANSI escapes.
    let line = first_stderr_line(&config(dir.path(), ""));
    assert!(!line.is_empty());
    assert!(!line.contains('\u{1b}'), "colours off a terminal: {line:?}");
}
