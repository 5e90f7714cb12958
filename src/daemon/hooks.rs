//! Programs run on events (Gammu's RunOnReceive, RunOnSent, RunOnFailure,
//! RunOnIncomingCall): Gammu's arguments and environment, but run as an argument vector —
//! message data only ever reaches them in environment variables and never passes through a
//! shell — with a timeout, and never blocking a modem's loop.

use std::process::Stdio;
use std::sync::LazyLock;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio_util::task::TaskTracker;

/// The hooks running in the background: a stop waits for them (up to its deadline), then
/// the runtime's end kills what is left.
static RUNNING: LazyLock<TaskTracker> = LazyLock::new(TaskTracker::new);

/// Splits a configured command into its argument vector: whitespace separates, `'...'` and
/// `"..."` quote, `\` escapes the next character. No other shell syntax: write
/// `sh -c '...'` to get a shell.
pub fn split_command(cmd: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_arg = false;
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                cur.push(chars.next().ok_or("a command ends with a lone backslash")?);
                in_arg = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_arg = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_arg {
                    args.push(std::mem::take(&mut cur));
                    in_arg = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_arg = true;
            }
        }
    }
    if quote.is_some() {
        return Err("a quote in the command is not closed".into());
    }
    if in_arg {
        args.push(cur);
    }
    if args.is_empty() {
        return Err("the command is empty".into());
    }
    Ok(args)
}

/// One part of a message, for the hook environment.
#[derive(Debug, Clone, Default)]
pub struct PartEnv {
    pub number: String,
    /// `None` for 8-bit parts (Gammu leaves `SMS_n_TEXT` empty).
    pub text: Option<String>,
    pub class: i32,
    /// TP-MR; for a status report, the TP-MR of the message it reports on.
    pub reference: i32,
    /// `SMS_n_TIMESTAMP`/`SMS_n_DATETIME`: the SMSC's time stamp of a received message, the
    /// time the SMSC took the original message for a status report.
    pub time: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// `SMS_n_SMSC_TIMESTAMP`/`SMS_n_SMSC_DATETIME`: a status report's discharge time.
    pub smsc_time: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// `SMS_n_SENT_ID`: for a status report, the ID of the sent message it matched.
    pub sent_id: Option<String>,
}

/// Gammu's pair of variables for a time: seconds since the epoch and ISO 8601 with the
/// offset the time came with (both empty when there is no time).
fn time_env(
    env: &mut Vec<(String, String)>,
    prefix: &str,
    t: Option<&chrono::DateTime<chrono::FixedOffset>>,
) {
    env.push((
        format!("{prefix}TIMESTAMP"),
        t.map(|t| t.timestamp().to_string()).unwrap_or_default(),
    ));
    env.push((
        format!("{prefix}DATETIME"),
        t.map(|t| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_default(),
    ));
}

/// Gammu's message environment (`docs/manual/smsd/run.rst`): `PHONE_ID`, `SMS_MESSAGES`,
/// per physical part `SMS_n_NUMBER`, `SMS_n_TEXT`, `SMS_n_CLASS`, `SMS_n_REFERENCE`,
/// `SMS_n_SENT_ID`, `SMS_n_TIMESTAMP`, `SMS_n_DATETIME`, `SMS_n_SMSC_TIMESTAMP`,
/// `SMS_n_SMSC_DATETIME`, then `DECODED_PARTS` and `DECODED_n_TEXT`. Like Gammu, every
/// per-part variable is set, empty when it does not apply.
pub fn message_env(phone_id: &str, parts: &[PartEnv], decoded: &[String]) -> Vec<(String, String)> {
    let mut env = vec![
        ("PHONE_ID".to_string(), phone_id.to_string()),
        ("SMS_MESSAGES".to_string(), parts.len().to_string()),
        ("DECODED_PARTS".to_string(), decoded.len().to_string()),
    ];
    for (i, p) in parts.iter().enumerate() {
        let n = i + 1;
        env.push((format!("SMS_{n}_NUMBER"), p.number.clone()));
        env.push((format!("SMS_{n}_CLASS"), p.class.to_string()));
        env.push((format!("SMS_{n}_REFERENCE"), p.reference.to_string()));
        env.push((format!("SMS_{n}_TEXT"), p.text.clone().unwrap_or_default()));
        env.push((
            format!("SMS_{n}_SENT_ID"),
            p.sent_id.clone().unwrap_or_default(),
        ));
        time_env(&mut env, &format!("SMS_{n}_"), p.time.as_ref());
        time_env(&mut env, &format!("SMS_{n}_SMSC_"), p.smsc_time.as_ref());
    }
    for (j, t) in decoded.iter().enumerate() {
        env.push((format!("DECODED_{}_TEXT", j + 1), t.clone()));
    }
    env
}

/// Runs `command` with `args` appended and `env` added; waits at most `timeout` (then kills
/// it). Output and exit status are logged. Returns the exit code, `None` when it could not
/// run, was killed or died by a signal.
pub async fn run(
    name: &str,
    command: &str,
    args: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Option<i32> {
    let argv = match split_command(command) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(hook = name, "cannot run {command:?}: {e}");
            return None;
        }
    };
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(hook = name, "cannot start {}: {e}", argv[0]);
            return None;
        }
    };
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let collect = async { tokio::join!(read_all(stdout.take()), read_all(stderr.take())) };
    let finished = tokio::time::timeout(timeout, async {
        let (out, err) = collect.await;
        (child.wait().await, out, err)
    })
    .await;
    match finished {
        Ok((Ok(status), out, err)) => {
            for line in out.lines().chain(err.lines()) {
                tracing::info!(hook = name, "output: {line}");
            }
            match status.code() {
                Some(0) => {
                    tracing::info!(hook = name, "finished successfully");
                    Some(0)
                }
                Some(code) => {
                    tracing::warn!(hook = name, "failed with exit status {code}");
                    Some(code)
                }
                None => {
                    tracing::warn!(hook = name, "killed by a signal");
                    None
                }
            }
        }
        Ok((Err(e), _, _)) => {
            tracing::error!(hook = name, "waiting for it failed: {e}");
            None
        }
        Err(_) => {
            tracing::warn!(hook = name, "did not finish within {timeout:?}: killed");
            None
        }
    }
}

async fn read_all<R: tokio::io::AsyncRead + Unpin>(stream: Option<R>) -> String {
    let mut text = String::new();
    if let Some(mut s) = stream {
        let _ = s.read_to_string(&mut text).await;
    }
    text
}

/// Runs a hook in the background: the caller does not wait.
pub fn spawn(
    name: &'static str,
    command: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    timeout: Duration,
) {
    RUNNING.spawn(async move {
        run(name, &command, &args, &env, timeout).await;
    });
}

/// At a stop: waits until the hooks running in the background have finished, or until
/// `deadline`; returns how many were still running (they are killed when the runtime ends,
/// as each child is `kill_on_drop`).
pub async fn finish(deadline: tokio::time::Instant) -> usize {
    RUNNING.close();
    let _ = tokio::time::timeout_at(deadline, RUNNING.wait()).await;
    RUNNING.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_a_shell_would_but_nothing_more() {
        assert_eq!(
            split_command("/usr/bin/on-sms").unwrap(),
            ["/usr/bin/on-sms"]
        );
        assert_eq!(
            split_command("  php  /srv/hook.php --x 1 ").unwrap(),
            ["php", "/srv/hook.php", "--x", "1"]
        );
        assert_eq!(
            split_command("sh -c 'echo \"$1\" >> log' hook").unwrap(),
            ["sh", "-c", "echo \"$1\" >> log", "hook"]
        );
        assert_eq!(
            split_command("a\\ b \"c d\" ''").unwrap(),
            ["a b", "c d", ""]
        );
        assert_eq!(
            split_command("$(rm -rf /)").unwrap(),
            ["$(rm", "-rf", "/)"],
            "no substitution, just words"
        );
        assert!(split_command("'unclosed").is_err());
        assert!(split_command("   ").is_err());
    }

    #[test]
    fn gammus_environment() {
        let parts = [
            PartEnv {
                number: "+48111".into(),
                text: Some("Hello".into()),
                class: -1,
                reference: 7,
                ..Default::default()
            },
            PartEnv {
                number: "+48111".into(),
                text: None,
                class: 1,
                reference: 8,
                ..Default::default()
            },
        ];
        let env = message_env("m1", &parts, &["Hello world".into()]);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("SMS_MESSAGES"), Some("2"));
        assert_eq!(get("SMS_1_TEXT"), Some("Hello"));
        assert_eq!(get("SMS_2_TEXT"), Some(""), "8-bit parts have no text");
        assert_eq!(get("SMS_1_TIMESTAMP"), Some(""));
        assert_eq!(get("SMS_1_SENT_ID"), Some(""));
        assert_eq!(get("SMS_2_CLASS"), Some("1"));
        assert_eq!(get("SMS_1_REFERENCE"), Some("7"));
        assert_eq!(get("DECODED_PARTS"), Some("1"));
        assert_eq!(get("DECODED_1_TEXT"), Some("Hello world"));
        assert_eq!(get("PHONE_ID"), Some("m1"));
    }

    #[test]
    fn times_as_gammu_writes_them() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05+01:30").unwrap();
        let p = PartEnv {
            time: Some(t),
            ..Default::default()
        };
        let env = message_env("m1", &[p], &[]);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("SMS_1_TIMESTAMP"), Some("1704159245"));
        assert_eq!(get("SMS_1_DATETIME"), Some("2024-01-02T03:04:05+01:30"));
        assert_eq!(get("SMS_1_SMSC_DATETIME"), Some(""));
    }
}
