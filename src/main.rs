//! The `smsgw` command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// sysexits' EX_USAGE: the command line was wrong.
const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // gammu-smsd-inject's single-dash options, as Gammu users type them.
    if argv.get(1).is_some_and(|a| a == "inject") {
        match cli::inject_gammu_args(&argv[2..]) {
            Ok(rest) => argv.splice(2.., rest).for_each(drop),
            Err(e) => {
                eprintln!("smsgw inject: {e}");
                return ExitCode::from(EX_USAGE);
            }
        }
    }
    let args = match cli::Cli::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EX_USAGE),
            };
        }
    };
    if !args.is_daemon() {
        // A command whose output is piped into `head` ends quietly when the reader goes,
        // as every Unix tool does (Rust ignores SIGPIPE and would panic on the write).
        // SAFETY: setting a signal's disposition to the default before any thread starts.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("smsgw: {e:#}");
            ExitCode::FAILURE
        }
    }
}
