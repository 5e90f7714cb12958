//! `smsgw run` as a process: the PID file refuses a second instance, SIGTERM stops it
//! cleanly and removes what it created, the demo config works.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_daemon_on_the_same_pid_file_refuses_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/run/smsgw.pid\"\n[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"demo\"\ndevice = \"sim\"\n"
        ),
    )
    .unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-c"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = dir.path().join("run/smsgw.pid");
    let pid = first.id().to_string();
    wait_for("the PID file", Duration::from_secs(20), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| s.trim() == pid)
    });
    let second = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(10));
    let msg = String::from_utf8_lossy(&second.stderr);
    assert!(
        msg.contains(&format!("another smsgw is running (PID {pid}")),
        "{msg}"
    );
    // The welcome message of the simulated modem reached the inbox: the daemon works.
    let db = dir.path().join("smsgw.db");
    wait_for("the welcome message", Duration::from_secs(20), || {
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT count(*) FROM inbox", [], |r| r.get::<_, i64>(0)))
            .is_ok_and(|n| n == 1)
    });
    // monitor, from the running daemon, in each form.
    let monitor = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["monitor", "-c"])
            .arg(&config)
            .args(["-n", "1"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    wait_for(
        "monitor to see the received message",
        Duration::from_secs(20),
        || monitor(&["--json"]).contains("\"received\":1"),
    );
    let text = monitor(&[]);
    assert!(text.contains("Source: daemon"), "{text}");
    for line in [
        "PhoneID: demo",
        "State: connected",
        "IMEI: 490154203237518",
        "IMSI: 260011234567890",
        "Received: 1",
        "BatterPercent: 80",
        "NetworkSignal: 65",
        "Storage: up",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let csv = monitor(&["-C"]);
    assert!(
        csv.trim_end()
            .ends_with(";demo;490154203237518;260011234567890;0;1;0;80;65"),
        "{csv}"
    );
    let json: serde_json::Value = serde_json::from_str(monitor(&["--json"]).trim()).unwrap();
    assert_eq!(json["phones"][0]["state"], "connected");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = first.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!pid_file.exists(), "the PID file is removed on exit");
    assert!(
        !dir.path().join("control.sock").exists(),
        "the control socket is removed on exit"
    );
    // Without a daemon, monitor reads the phones table and says so.
    let text = monitor(&[]);
    assert!(
        text.contains("Source: phones table of") && text.contains("no daemon answers"),
        "{text}"
    );
    assert!(text.contains("IMEI: 490154203237518"), "{text}");
}

#[test]
fn a_bad_config_exits_2_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        "[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nbaud = \"fast\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("smsgw.toml:4: phone.baud:"), "{msg}");
}

#[test]
fn config_check_takes_the_file_as_argument_or_with_c() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        "[[phone]]\nid = \"a\"\ndevice = \"/dev/ttyUSB0\"\n",
    )
    .unwrap();
    for form in [
        &["config", "check"][..],
        &["config", "check", "-c"],
        &["config", "check", "--config"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(form)
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{form:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(": OK: storage sqlite"));
    }
}

#[test]
fn config_check_refuses_what_the_daemon_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgw.toml");
    for (url, says) in [
        (
            "ftp://gw.example.org/send?to={phone}",
            "ftp:// is not a gateway URL",
        ),
        ("gw.example.org/send", "not a URL"),
        ("https://", "not a URL"),
    ] {
        std::fs::write(
            &config,
            format!("[[transport]]\nid = \"gw\"\nkind = \"http\"\nurl = \"{url}\"\n"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["config", "check", "-c"])
            .arg(&config)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(msg.contains("url: ") && msg.contains(says), "{url}: {msg}");
    }
}

/// A simulated modem behind a TCP port (as with ser2net), counting connections.
async fn tcp_sim() -> (
    smsgw::sim::Sim,
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let sim = smsgw::sim::Sim::new(smsgw::sim::SimConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("tcp://{}", listener.local_addr().unwrap());
    let conns = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (server, count) = (sim.clone(), conns.clone());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let s = server.clone();
            tokio::spawn(async move { s.serve(sock).await });
        }
    });
    (sim, addr, conns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_phone_list_and_sigusr1_sigusr2_release_and_take_back() {
    use std::sync::atomic::Ordering::SeqCst;
    let t = Duration::from_secs(20);
    let (sim_a, addr_a, conns_a) = tcp_sim().await;
    let (sim_b, addr_b, conns_b) = tcp_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let config = dir.path().join("smsgw.toml");
    let base = format!(
        "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"a\"\ndevice = \"{addr_a}\"\n"
    );
    std::fs::write(&config, &base).unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-c"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(daemon.id() as i32);
    sim_a
        .wait_until(t, |s| s.wakeups >= 1)
        .await
        .expect("phone a connected");
    // SIGHUP with one phone added: it starts, the other is left alone.
    std::fs::write(
        &config,
        format!("{base}[[phone]]\nid = \"b\"\ndevice = \"{addr_b}\"\n"),
    )
    .unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    sim_b
        .wait_until(t, |s| s.wakeups >= 1)
        .await
        .expect("phone b started by the reload");
    assert_eq!(conns_a.load(SeqCst), 1, "phone a was not restarted");
    assert!(sim_a.snapshot().connected);
    // SIGUSR1 releases both modems...
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR1).unwrap();
    sim_a
        .wait_until(t, |s| !s.connected)
        .await
        .expect("a released");
    sim_b
        .wait_until(t, |s| !s.connected)
        .await
        .expect("b released");
    // ...and SIGUSR2 takes them back.
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR2).unwrap();
    sim_a
        .wait_until(t, |s| s.connected && s.wakeups >= 2)
        .await
        .expect("a taken back");
    sim_b
        .wait_until(t, |s| s.connected && s.wakeups >= 2)
        .await
        .expect("b taken back");
    assert_eq!((conns_a.load(SeqCst), conns_b.load(SeqCst)), (2, 2));
    // A reload that removes phone b stops it.
    std::fs::write(&config, &base).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    sim_b
        .wait_until(t, |s| !s.connected)
        .await
        .expect("b stopped by the reload");
    assert!(sim_a.snapshot().connected);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(daemon.wait().unwrap().success());
}

#[test]
fn user_and_group_are_checked_against_the_devices_then_taken() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED: --user needs root");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let d = dir.path().display().to_string();
    // A device only root can open.
    let device = dir.path().join("ttyFAKE");
    std::fs::write(&device, "").unwrap();
    std::fs::set_permissions(&device, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.path().join("smsgw.toml");
    let write = |device: &str| {
        std::fs::write(
            &config,
            format!(
                "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/ctl/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n[storage]\npath = \"{d}/state/smsgw.db\"\n[[phone]]\nid = \"m\"\ndevice = \"{device}\"\n"
            ),
        )
        .unwrap()
    };
    write(&device.display().to_string());
    let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-U", "nobody", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("user nobody could not open") && msg.contains("add the user to group"),
        "{msg}"
    );
    // With a device it can use, the daemon runs as nobody.
    write("sim");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-U", "nobody", "-c"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", daemon.id());
    wait_for(
        "the daemon to run as nobody with its socket",
        Duration::from_secs(20),
        || {
            let uid_ok = std::fs::read_to_string(&status)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("65534"));
            uid_ok && dir.path().join("ctl/control.sock").exists()
        },
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(daemon.wait().unwrap().success());
}

#[test]
fn systemd_hears_ready_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        format!("[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"demo\"\ndevice = \"sim\"\n"),
    )
    .unwrap();
    let notify = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&notify).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["run", "-c"])
        .arg(&config)
        .env("NOTIFY_SOCKET", &notify)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).expect("a notification");
    assert_eq!(std::str::from_utf8(&buf[..n]).unwrap().trim(), "READY=1");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let n = sock.recv(&mut buf).expect("a notification");
    assert_eq!(std::str::from_utf8(&buf[..n]).unwrap().trim(), "STOPPING=1");
    assert!(daemon.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_the_modems_and_says_what_to_fix() {
    let sim = smsgw::sim::Sim::new(smsgw::sim::SimConfig::default());
    let mut pty = sim.attach_pty(None).unwrap();
    let device = pty.wait_path().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nstate_dir = \"{d}/state\"\n[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"good\"\ndevice = \"{}\"\n[[phone]]\nid = \"gone\"\ndevice = \"/dev/ttyUSB-smsgw-missing\"\n",
            device.display()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["doctor", "-c"])
        .arg(&config)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("good: OK: smsgw SimModem (IMEI 490154203237518), PIN OK, signal -73 dBm, home network on Sim Network"), "{text}");
    assert!(
        text.contains("gone: /dev/ttyUSB-smsgw-missing: no such device"),
        "{text}"
    );
    assert!(text.contains("to fix:\n  - phone gone:"), "{text}");
    assert!(
        text.contains("smsgw.db: missing (the daemon creates it"),
        "{text}"
    );
}

#[test]
fn outbox_and_inbox_commands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ncontrol_socket = \"{d}/none.sock\"\n[storage]\npath = \"{d}/smsgw.db\"\n"
        ),
    )
    .unwrap();
    let smsgw = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(args)
            .arg("-c")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    assert_eq!(
        smsgw(&["inject", "TEXT", "+48600100200", "--text", "first"]).0,
        Some(0)
    );
    assert_eq!(
        smsgw(&[
            "inject",
            "TEXT",
            "+48600100201",
            "--phone-id",
            "m1",
            "--text",
            &"long ".repeat(40)
        ])
        .0,
        Some(0)
    );
    let (code, list) = smsgw(&["outbox", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        list.contains("+48600100200") && list.contains("first"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains("+48600100201") && l.contains(" m1 ") && l.contains(" 2 ")),
        "route and parts: {list}"
    );
    let (_, json) = smsgw(&["outbox", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["parts"], 2);
    let (_, show) = smsgw(&["outbox", "show", "1"]);
    assert!(
        show.contains("ID: 1") && show.contains("Held by: nobody"),
        "{show}"
    );
    assert_eq!(smsgw(&["outbox", "show", "99"]).0, Some(1));
    let (_, stuck) = smsgw(&["outbox", "list", "--stuck", "--json"]);
    assert_eq!(stuck.trim(), "[]");
    let (code, cancel) = smsgw(&["outbox", "cancel", "1"]);
    assert_eq!(code, Some(0));
    assert!(cancel.contains("Message 1 cancelled by"), "{cancel}");
    let db = rusqlite::Connection::open(dir.path().join("smsgw.db")).unwrap();
    let status: String = db
        .query_row("SELECT Status FROM sentitems WHERE ID = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "Error");
    let reason: String = db
        .query_row("SELECT Reason FROM smsgw_failures WHERE ID = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(reason.starts_with("cancelled by"), "{reason}");
    db.execute("UPDATE outbox SET Retries = 3, SendingTimeOut = datetime('now','localtime','+1 hours') WHERE ID = 2", []).unwrap();
    assert_eq!(smsgw(&["outbox", "retry", "2"]).0, Some(0));
    let retries: i64 = db
        .query_row("SELECT Retries FROM outbox WHERE ID = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(retries, 0);
    db.execute(
        "INSERT INTO inbox (ReceivingDateTime, Text, SenderNumber, UDH, TextDecoded, RecipientID) VALUES ('2020-01-01 10:00:00', '', '+48111', '', 'old one', 'm1'), (datetime('now','localtime'), '', '+48222', '', 'new one', 'm1')",
        [],
    )
    .unwrap();
    let (_, inbox) = smsgw(&["inbox", "list", "--since", "2024-01-01"]);
    assert!(
        inbox.contains("new one") && !inbox.contains("old one"),
        "{inbox}"
    );
    let (_, dry) = smsgw(&["db", "prune", "--older-than", "90d", "--dry-run"]);
    assert!(dry.contains("would delete 1 inbox"), "{dry}");
    let (_, done) = smsgw(&["db", "prune", "--older-than", "90d"]);
    assert!(done.contains("deleted 1 inbox"), "{done}");
    let left: i64 = db
        .query_row("SELECT count(*) FROM inbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1);
}
