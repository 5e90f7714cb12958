//! The simulated modem checked against a client nobody here wrote: Debian's `gammu` command
//! talks to `smsgw sim` on a pseudo-terminal (identify, sendsms, getallsms). The simulator
//! runs as a script or a service starts it: in the background, standard input closed,
//! driven through `--control`, stopped by a signal.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

fn gammu_available() -> bool {
    let found = Command::new("gammu").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "gammu is not installed: .ci/run installs it (apt-get install gammu)"
        );
        eprintln!("SKIPPED: gammu is not installed (apt-get install gammu); the simulator is not checked against it");
    }
    found
}

struct SimProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    control: PathBuf,
}

impl SimProcess {
    fn start(dir: &Path) -> SimProcess {
        std::fs::write(
            dir.join("inbox.txt"),
            "# the GSM 03.40 tutorial's DELIVER\n07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37\n",
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["sim", "--link"])
            .arg(dir.join("modem"))
            .arg("--record")
            .arg(dir.join("sent.jsonl"))
            .arg("--inbox")
            .arg(dir.join("inbox.txt"))
            .arg("--control")
            .arg(dir.join("sim.sock"))
            // As `smsgw sim </dev/null &` or a service: nothing on standard input.
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start smsgw sim");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.starts_with("Simulated modem on /dev/pts/"), "{first}");
        SimProcess {
            child,
            _stdout: stdout,
            control: dir.join("sim.sock"),
        }
    }

    /// One command to the running simulator, as a script sends it
    /// (`smsgw sim --control PATH --tell COMMAND`); its whole answer.
    fn control(&mut self, line: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["sim", "--control"])
            .arg(&self.control)
            .args(["--tell", line])
            .stdin(Stdio::null())
            .output()
            .expect("run smsgw sim --tell");
        assert!(out.status.success(), "{line}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// SIGTERM: the simulator exits 0 and removes its link and control socket.
    fn stop(mut self, dir: &Path) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        assert!(self.child.wait().unwrap().success());
        assert!(!dir.join("modem").exists(), "the link is removed on exit");
        assert!(
            !self.control.exists(),
            "the control socket is removed on exit"
        );
    }
}

impl SimProcess {
    /// (sent PDUs, stored messages) from the `status` command.
    fn status(&mut self) -> (usize, usize) {
        let head = self.control("status");
        let first = head.lines().next().unwrap_or_default();
        let number = |key: &str| {
            first
                .split(';')
                .find_map(|p| p.trim().strip_prefix(key))
                .and_then(|p| p.split_whitespace().next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("no {key:?} in {head:?}"))
        };
        let (sent, stored) = (number("sent "), number("stored "));
        assert_eq!(head.lines().count(), 1 + sent + stored, "{head}");
        (sent, stored)
    }
}

fn gammu(rc: &Path, args: &[&str]) -> String {
    let out = Command::new("gammu")
        .arg("-c")
        .arg(rc)
        .args(args)
        .output()
        .expect("run gammu");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "gammu {args:?} failed:\n{text}");
    text
}

#[test]
fn gammu_identifies_sends_and_reads_through_the_simulator() {
    if !gammu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sim = SimProcess::start(dir.path());
    let rc = dir.path().join("gammurc");
    std::fs::write(
        &rc,
        format!(
            "[gammu]\ndevice = {}\nconnection = at\n",
            dir.path().join("modem").display()
        ),
    )
    .unwrap();

    let id = gammu(&rc, &["identify"]);
    assert!(id.contains("490154203237518"), "{id}");
    assert!(id.contains("260011234567890"), "{id}");
    assert!(id.contains("SimModem"), "{id}");

    let out = gammu(
        &rc,
        &[
            "sendsms",
            "TEXT",
            "+48123456789",
            "-text",
            "Hello from gammu",
        ],
    );
    assert!(out.contains("OK, message reference=0"), "{out}");
    let long = "A long message that gammu splits itself. ".repeat(9);
    gammu(
        &rc,
        &[
            "sendsms",
            "TEXT",
            "+48123456789",
            "-len",
            "400",
            "-text",
            &long,
        ],
    );
    let sent: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("sent.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[0]["to"], "+48123456789");
    assert_eq!(sent[0]["text"], "Hello from gammu");
    let joined: String = sent[1..]
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(joined, long);
    assert_eq!(sent[3]["part"][0], 3);

    assert_eq!(
        sim.control("sms +48700111222 Hello from the network")
            .trim(),
        "delivered 1 part(s)"
    );
    let all = gammu(&rc, &["getallsms"]);
    assert!(all.contains("hellohello"), "{all}");
    assert!(all.contains("Hello from the network"), "{all}");
    assert!(all.contains("+48700111222"), "{all}");

    sim.stop(dir.path());
}

#[test]
fn sigusr1_delivers_a_test_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = SimProcess::start(dir.path());
    assert_eq!(sim.status(), (0, 1), "the preloaded message");
    let pid = nix::unistd::Pid::from_raw(sim.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR1).unwrap();
    let mut status = sim.status();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while status.1 != 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        status = sim.status();
    }
    assert_eq!(status, (0, 2), "the test message arrived");
    sim.stop(dir.path());
}
