//! Test peers written in Python (aiosmtpd's SMTP server, smpp34's SMSC): a child process that
//! prints `PORT <n>` once it listens, then one JSON line per event.

#![allow(dead_code)]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;

use super::daemon::T;

/// A running peer; killed when dropped.
pub struct Peer {
    child: Child,
    /// Its events, in order.
    pub lines: Receiver<serde_json::Value>,
    pub port: u16,
}

impl Peer {
    /// Starts `cmd` (its standard output is taken over); `what` names it in failures.
    pub fn spawn(mut cmd: Command, what: &str) -> Peer {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e} (scripts/install-test-deps.sh installs it)"));
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                if let Some(p) = l.strip_prefix("PORT ") {
                    let _ = port_tx.send(p.parse::<u16>().unwrap());
                } else if tx.send(serde_json::from_str(&l).unwrap()).is_err() {
                    break;
                }
            }
        });
        let port = port_rx.recv_timeout(T).unwrap_or_else(|_| {
            panic!("{what} did not start (scripts/install-test-deps.sh installs what it needs)")
        });
        Peer { child, lines, port }
    }

    /// Writes a line to its standard input (when it was piped).
    pub fn tell(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self
            .child
            .stdin
            .as_mut()
            .expect("the peer's stdin is piped");
        writeln!(stdin, "{line}").expect("write to the peer");
        stdin.flush().expect("flush to the peer");
    }

    /// The next event (waiting at most [`T`]).
    pub fn next(&self, what: &str) -> serde_json::Value {
        self.lines
            .recv_timeout(T)
            .unwrap_or_else(|_| panic!("no {what} arrived"))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python of target/test-venv (with smpp34), or `None` outside CI when it is missing
/// (said loudly); under CI a missing one fails the test.
pub fn smpp34_python() -> Option<&'static str> {
    venv_python("smpp34")
}

/// The Python of target/test-venv with `module`, or `None` outside CI when it is missing
/// (said loudly); under CI a missing one fails the test.
pub fn venv_python(module: &str) -> Option<&'static str> {
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-venv/bin/python");
    let ok = Command::new(python)
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let msg =
        format!("{module} is not installed in target/test-venv: run scripts/install-test-deps.sh");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
    None
}
