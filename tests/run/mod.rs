//! The `smsgw` binary run as a process, for the tests of what a user sees: its output and
//! exit status.

#![allow(dead_code)]

pub mod process;

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `smsgw ARGS` with `stdin` on its standard input (closed at once when `None`).
pub fn smsgw(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run smsgw");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        input.write_all(s).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
