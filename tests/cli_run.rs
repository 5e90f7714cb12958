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
