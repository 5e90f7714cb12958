//! `smsgw doc`: writes the man pages and shell completions from the command definitions and
//! the config key table (CI checks the committed copies are fresh).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Subcommand};
use smsgw::config::{ARRAY_SECTIONS, KEYS};

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Write smsgw(8), one page per subcommand, and smsgw.toml(5) into DIR.
    Man(DirArg),
    /// Write bash, zsh and fish completions into DIR.
    Completions(DirArg),
}

#[derive(Debug, Args)]
pub struct DirArg {
    /// The directory to write into (created if missing).
    dir: PathBuf,
}

pub fn run(cmd: DocCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DocCommand::Man(a) => {
            std::fs::create_dir_all(&a.dir)?;
            let root = super::Cli::command();
            pages(&root, "smsgw", &a.dir)?;
            std::fs::write(a.dir.join("smsgw.toml.5"), config_page())?;
        }
        DocCommand::Completions(a) => {
            std::fs::create_dir_all(&a.dir)?;
            for shell in [
                clap_complete::Shell::Bash,
                clap_complete::Shell::Zsh,
                clap_complete::Shell::Fish,
            ] {
                let mut cmd = super::Cli::command();
                clap_complete::generate_to(shell, &mut cmd, "smsgw", &a.dir)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// smsgw.8 and smsgw-<sub>.8 for every visible subcommand, recursively.
fn pages(cmd: &clap::Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    let cmd = cmd
        .clone()
        .name(name.to_string())
        .display_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .section("8")
        .render(&mut buf)?;
    match name {
        "smsgw" => buf.extend_from_slice(SMSGW_SECTIONS.as_bytes()),
        "smsgw-run" => {
            buf.extend_from_slice(SIGNALS.as_bytes());
            buf.extend_from_slice(RUN_EXIT.as_bytes());
        }
        _ => buf.extend_from_slice(b".SH SEE ALSO\nsmsgw(8), smsgw.toml(5)\n"),
    }
    std::fs::write(dir.join(format!("{name}.8")), buf)?;
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

/// Signals as the daemon takes them (smsgw.8 and smsgw-run.8).
const SIGNALS: &str = r#".SH SIGNALS
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Stop: every modem and transport ends its step (an AT command, a send, a commit) and the daemon exits 0 within 2 seconds from any state, removing its PID file and control socket. A part that was being sent when the step had to be dropped may be sent again after the restart.
.TP
\fBSIGHUP\fR
Re\-read the config (phones added, removed or changed are restarted, the others keep running) and reopen the log file (after logrotate). A config with errors is refused and the running one stays.
.TP
\fBSIGUSR1\fR
Suspend: release the modems (the ports are closed) until SIGUSR2.
.TP
\fBSIGUSR2\fR
Resume after SIGUSR1.
"#;

/// The sections of smsgw(8) beyond what clap describes.
const SMSGW_SECTIONS: &str = r#".SH SIGNALS
See smsgw\-run(8): SIGTERM and SIGINT stop the daemon, SIGHUP reloads its config, SIGUSR1 and SIGUSR2 suspend and resume it.
.SH FILES
.TP
\fI/etc/smsgw/smsgw.toml\fR
The config (smsgw.toml(5)); every command takes another with \fB\-c FILE\fR.
.TP
\fI/var/lib/smsgw/\fR
The state directory (\fBdaemon.state_dir\fR): the rejected\-PIN memory, and the SQLite database in the example config.
.TP
\fI/run/smsgw/control.sock\fR
The running daemon's control socket (\fBdaemon.control_socket\fR, mode 0660): inject wakes it, monitor, ussd, suspend and resume use it.
.TP
\fI/run/smsgw/smsgw.pid\fR
The PID file (\fBdaemon.pid_file\fR); a second daemon with the same one exits 10.
.TP
\fI/usr/share/doc/smsgw/examples/\fR
Example configs and the udev rule.
.SH EXIT STATUS
.TP
0
Success (the daemon: stopped by a signal).
.TP
1
Failure: the message is not valid (inject), the PDU does not decode (pdu), the daemon could not start (PID file, user).
.TP
2
The config is not usable (file, line and key are named).
.TP
3
The storage failed (inject, db).
.TP
10
Another smsgw runs with the same PID file (as gammu\-smsd).
.TP
64
A wrong command line (an unknown option, a missing argument).
.SH ENVIRONMENT
.TP
\fBRUST_LOG\fR
Overrides \fBdaemon.log_level\fR, per module: \fIsmsgw=debug\fR, or \fIsmsgw=info,smsgw::at=debug\fR to log the AT dialogue (PINs masked).
.TP
\fBNO_COLOR\fR
Set: no colours in the log even at a terminal (off a terminal there are none anyway).
.TP
The variable named by \fBstorage.password_env\fR or a transport's \fBpassword_env\fR
Holds that password.
.SH SEE ALSO
smsgw.toml(5), smsgw\-run(8), smsgw\-inject(8), smsgw\-monitor(8), smsgw\-doctor(8), smsgw\-sim(8), gammu\-smsd(1), systemd.service(5)
"#;

/// The exit status of smsgw-run(8).
const RUN_EXIT: &str = r#".SH EXIT STATUS
.TP
0
Stopped by SIGTERM or SIGINT (or \-\-help).
.TP
1
Could not start: the PID file, the log file, \-\-user or \-\-group, the state directory.
.TP
2
The config is not usable (file, line and key are named), or a transport's secret cannot be read.
.TP
10
Another smsgw runs with the same PID file (as gammu\-smsd).
.TP
64
A wrong command line. gammu\-smsd's \-d is one: smsgw does not fork into the background (use the systemd unit, or start it with & and \-\-pid\-file).
.SH FILES
\fI/etc/smsgw/smsgw.toml\fR, and the PID file, control socket and state directory it names (smsgw(8)).
.SH SEE ALSO
smsgw(8), smsgw.toml(5), systemd.service(5), contrib/smsgw.service
"#;

fn roff(text: &str) -> String {
    text.replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\(aq")
}

/// The file formats of the spool directory and the files storage, with worked examples.
const FORMATS: &str = r#".SH SPOOL FILES
A program drops a file into \fBspool.dir\fR; smsgw queues it into the storage. Write it under a hidden name and rename it in. A file that is not a message moves to \fIfailed/\fR with \fI<name>.error\fR saying why.
.PP
An smstools3 message file: headers, an empty line, the text. \fBTo:\fR is an international number without +, or s and a short number; \fBAlphabet:\fR GSM, ISO, UCS (UTF\-16BE text) or UTF\-8; \fBFlash:\fR, \fBReport:\fR yes or no; \fBValidity:\fR such as 3 days; \fBPriority: High\fR; \fBQueue:\fR a PhoneID or a name mapped by \fBspool.queues\fR.
.PP
.nf
tmp=$(mktemp /var/spool/sms/outgoing/.alert.XXXXXX)
printf 'To: 48600100200\\nReport: yes\\n\\nsrv1: disk full\\n' > "$tmp"
mv "$tmp" /var/spool/sms/outgoing/alert.$$
.fi
.PP
A Gammu outbox file: the name gives the number (OUT<number>.txt, OUT<prio>_<number>_<serial>.txt or OUT<prio><date>_<time>_<serial>_<number>_<any>.txt), d (report) and f (flash) after .txt; the text is UTF\-8 or UTF\-16 with a byte\-order mark.
.PP
.nf
printf 'Hello' > /var/spool/sms/outgoing/.t && mv /var/spool/sms/outgoing/.t /var/spool/sms/outgoing/OUTA_+48600100200_00.txtd
.fi
.SH FILES STORAGE
With \fBstorage.kind = "files"\fR the folders work as gammu\-smsd's FILES service. Messages to send are the Gammu outbox files above, in \fBoutbox_path\fR, taken in name order (OUTA before OUTZ); \fBsmsgw inject\fR writes OUTC<date>_<time>_00_<number>_sms0.txt. Sent files move to \fBsent_path\fR, failed ones to \fBerror_path\fR with <name>.error; attempts are counted in outbox/.smsgw/<name>.state. Received parts are written to \fBinbox_path\fR as IN<YYYYMMDD>_<HHMMSS>_<serial>_<sender>_<part>.txt, for example IN20261123_120000_00_+48600100200_00.txt. Status reports add a line to <sent>/<name>.report, for example "part 1: DeliveryOK (TP\-ST 0) at 2026\-11\-23 12:00:05"."#;

/// smsgw.toml(5), from the key table the parser is tested against.
fn config_page() -> Vec<u8> {
    let mut o = Vec::new();
    let _ = writeln!(
        o,
        ".TH SMSGW.TOML 5 \"\" \"smsgw {}\" \"File Formats\"",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        o,
        ".SH NAME\nsmsgw.toml \\- configuration of the smsgw SMS gateway"
    );
    let _ = writeln!(
        o,
        ".SH DESCRIPTION\nOne TOML file, /etc/smsgw/smsgw.toml by default (\\fB\\-c\\fR selects another). Unknown keys and bad values are errors naming the file, line and key; \\fBsmsgw config check\\fR checks a file."
    );
    let mut section = "";
    for k in KEYS {
        if k.section != section {
            section = k.section;
            let header = if ARRAY_SECTIONS.contains(&section) {
                format!("[[{section}]]")
            } else {
                format!("[{section}]")
            };
            let _ = writeln!(o, ".SH {}", roff(&header));
        }
        let _ = writeln!(
            o,
            ".TP\n\\fB{}\\fR (default: {})",
            roff(k.name),
            roff(k.default)
        );
        let _ = writeln!(o, "{}", roff(k.doc));
        let _ = writeln!(
            o,
            ".br\nFor example: {} = {}",
            roff(k.name),
            roff(k.example)
        );
    }
    let _ = writeln!(o, "{}", FORMATS);
    let _ = writeln!(
        o,
        ".SH EXAMPLE\n.nf\n[storage]\nkind = \"sqlite\"\npath = \"/var/lib/smsgw/smsgw.db\"\n\n[[phone]]\nid = \"modem1\"\ndevice = \"/dev/serial/by\\-id/usb\\-HUAWEI_Mobile\\-if00\\-port0\"\n# pin = \"1234\"   (only if the SIM asks for one)\n.fi\n.SH SEE ALSO\nsmsgw(8)"
    );
    o
}
