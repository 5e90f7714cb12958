//! Subcommands of the `smsgw` binary. Each lives in its own module; this one only declares
//! the command tree and dispatches.

mod config;
mod db;
mod doc;
mod doctor;
mod inject;
mod modems;
mod monitor;
mod pdu;
mod queue;
mod run;
mod sim;
mod ussd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use inject::gammu_args as inject_gammu_args;

/// smsgw: an SMS gateway daemon for GSM modems, SMPP, HTTP and mail gateways, and a drop-in
/// successor to gammu-smsd.
#[derive(Debug, Parser)]
#[command(name = "smsgw", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode, encode and measure SMS PDUs (GSM 03.40), offline.
    #[command(subcommand)]
    Pdu(pdu::PduCommand),
    /// Run the daemon: drive the configured modems, send the outbox, store what arrives.
    Run(run::RunArgs),
    /// Queue a message in the configured storage (like gammu-smsd-inject).
    Inject(inject::InjectArgs),
    /// Check this machine: serial ports and who holds them, the configured modems (PIN,
    /// signal, network, storage) and the database; print what to fix.
    Doctor(doctor::DoctorArgs),
    /// List the serial ports that answer AT: the modem (vendor, model, IMEI) and its SIM
    /// (IMSI, ICCID), what a phone binds to with device = "imei:...".
    Modems(modems::ModemsArgs),
    /// Show the phones' status: signal, battery, network, counters, state.
    Monitor(monitor::MonitorArgs),
    /// Look at and act on the outbox: list, show, cancel, retry.
    #[command(subcommand)]
    Outbox(queue::OutboxCommand),
    /// Send a USSD code (a prepaid balance query such as *100#) through the running daemon
    /// and print the network's answer.
    Ussd(ussd::UssdArgs),
    /// Look at the inbox.
    #[command(subcommand)]
    Inbox(queue::InboxCommand),
    /// Create or check the database schema.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Write the man pages or shell completions (for packagers).
    #[command(subcommand, hide = true)]
    Doc(doc::DocCommand),
    /// Check the configuration file.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Run a simulated GSM modem on a pseudo-terminal (for tests and trying smsgw without
    /// hardware); it prints the device path to use.
    Sim(sim::SimArgs),
}

impl Cli {
    /// Whether the command keeps running and serving (the daemon, the simulator): a
    /// closed pipe must not end it.
    pub fn is_daemon(&self) -> bool {
        matches!(self.command, Command::Run(_) | Command::Sim(_))
    }
}

/// Runs the chosen subcommand; the exit code is the command's own.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Pdu(c) => pdu::run(c),
        Command::Sim(a) => sim::run(a),
        Command::Config(c) => config::run(c),
        Command::Inject(a) => inject::run(a),
        Command::Run(a) => run::run(a),
        Command::Db(c) => db::run(c),
        Command::Monitor(a) => monitor::run(a),
        Command::Modems(a) => modems::run(a),
        Command::Doc(c) => doc::run(c),
        Command::Doctor(a) => doctor::run(a),
        Command::Outbox(c) => queue::outbox(c),
        Command::Inbox(c) => queue::inbox(c),
        Command::Ussd(a) => ussd::run(a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every command says what it is (in --help and the man pages).
    #[test]
    fn every_argument_is_described() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                if a.is_hide_set() || ["help", "version"].contains(&a.get_id().as_str()) {
                    continue;
                }
                if a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "smsgw", &mut missing);
        assert!(missing.is_empty(), "undescribed: {missing:#?}");
    }
}
