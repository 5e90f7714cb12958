//! The AT channel: commands and their responses over any byte stream, with unsolicited
//! result codes (URCs) separated out onto their own stream.
//!
//! A reader task owns the read half of the port. It frames lines, drops the echo of the
//! command being run, and sorts each line: a final result ends the command, a line that
//! starts with the command's own prefix (`+CREG:` for `AT+CREG?`) belongs to it, a known URC
//! goes to the URC stream (with its PDU line for `+CMT:`/`+CDS:`), anything else is part of
//! the response. Lines that arrive while no command runs are URCs.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::framer::{Frame, Framer};
use super::line::{
    mask_secrets, parse_final, response_prefix, strip_prefix_ci, urc_shape, Final, UrcShape,
};

/// How many URCs wait for their reader before new ones are dropped (with a warning). A
/// dropped `+CMTI` is found again by the periodic storage sweep.
pub const URC_QUEUE: usize = 1024;

/// Quiet time that marks the end of a late response after a timeout.
const RESYNC_QUIET: Duration = Duration::from_millis(150);
const RESYNC_MAX: Duration = Duration::from_secs(2);

/// An unsolicited result code, with the PDU line that follows `+CMT:`, `+CDS:` and `+CBM:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urc {
    pub line: String,
    pub pdu: Option<String>,
}

impl Urc {
    /// The code's name: `+CMTI` for `+CMTI: "SM",3`, `RING` for `RING`.
    pub fn name(&self) -> &str {
        let l = self.line.trim();
        l.split(':').next().unwrap_or(l).trim()
    }

    /// What follows `name:`, trimmed (empty when there is no colon).
    pub fn value(&self) -> &str {
        self.line.split_once(':').map_or("", |(_, v)| v.trim())
    }
}

/// A command's answer: its information lines and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub lines: Vec<String>,
    pub result: Final,
}

impl Response {
    /// The value after `prefix` (e.g. `+CSQ:`) on the first line that has it.
    pub fn info(&self, prefix: &str) -> Option<&str> {
        self.lines
            .iter()
            .find_map(|l| strip_prefix_ci(l.trim(), prefix).map(str::trim))
    }
}

/// What can go wrong talking to the modem.
#[derive(Debug, thiserror::Error)]
pub enum AtError {
    /// No final result within the command's timeout. `lines` holds what did arrive (some
    /// modems answer `AT+CPIN?` without the final `OK`).
    #[error("no answer to {command} within {timeout:?}")]
    Timeout {
        command: String,
        timeout: Duration,
        lines: Vec<String>,
    },
    /// `AT+CMGS` got no `> ` prompt in time (the text was not sent; ESC cancelled it).
    #[error("no prompt after {command} within {timeout:?}")]
    NoPrompt { command: String, timeout: Duration },
    /// The command ended with an error result.
    #[error("{command} failed: {result}")]
    Failed { command: String, result: Final },
    /// The port closed (modem unplugged, reset, or the far end of a TCP link went away).
    #[error("modem connection closed{}", .0.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Closed(Option<String>),
    #[error("writing to the modem: {0}")]
    Io(#[from] io::Error),
}

impl AtError {
    /// Whether the link itself is gone (reconnect) rather than one command failing.
    pub fn is_link_down(&self) -> bool {
        matches!(self, AtError::Closed(_) | AtError::Io(_))
    }
}

#[derive(Debug)]
enum Event {
    Line(String),
    Final(Final),
    Prompt,
    Closed(Option<String>),
}

#[derive(Debug)]
struct Active {
    echo: String,
    echo_seen: bool,
    prefix: Option<String>,
    expect_prompt: bool,
    pdu: Option<String>,
}

#[derive(Debug)]
struct Shared {
    active: Option<Active>,
    last_rx: Instant,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding this lock cannot leave it inconsistent: recover the data.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// One AT connection. Dropping it stops the reader and releases the port.
pub struct Channel {
    writer: Box<dyn AsyncWrite + Send + Unpin>,
    shared: Arc<Mutex<Shared>>,
    events: mpsc::UnboundedReceiver<Event>,
    reader: JoinHandle<()>,
    label: String,
    /// After a timeout: how long to wait for the late final result before the next command
    /// (zero: only wait for a quiet moment).
    dirty: Option<Duration>,
    /// Commands in a row that got no answer at all.
    silent: u32,
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Channel {
    /// Starts a channel on `io`; `label` names it in the trace (the PhoneID). Returns the
    /// channel and the stream of URCs, which ends when the port closes.
    pub fn new<T>(io: T, label: &str) -> (Channel, mpsc::Receiver<Urc>)
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(io);
        let shared = Arc::new(Mutex::new(Shared {
            active: None,
            last_rx: Instant::now(),
        }));
        let (etx, erx) = mpsc::unbounded_channel();
        let (utx, urx) = mpsc::channel(URC_QUEUE);
        let reader = tokio::spawn(read_loop(r, shared.clone(), etx, utx, label.to_string()));
        let chan = Channel {
            writer: Box::new(w),
            shared,
            events: erx,
            reader,
            label: label.to_string(),
            dirty: None,
            silent: 0,
        };
        (chan, urx)
    }

    /// How many commands in a row timed out (0 after any answer): a hung modem.
    pub fn silent_commands(&self) -> u32 {
        self.silent
    }

    /// Stops the reader and closes the port, waiting until it is closed (so that the device
    /// can be opened again at once; dropping the channel closes it a moment later).
    pub async fn close(mut self) {
        self.reader.abort();
        let _ = (&mut self.reader).await;
        let _ = self.writer.shutdown().await;
    }

    /// Runs `command` (without the trailing `\r`) and waits up to `timeout` for its final
    /// result. An error result is a `Response` too; see [`Channel::ok`] for a `Result`.
    pub async fn command(&mut self, command: &str, timeout: Duration) -> Result<Response, AtError> {
        self.exchange(command, None, timeout).await
    }

    /// Runs `command` and turns anything but `OK` into [`AtError::Failed`].
    pub async fn ok(&mut self, command: &str, timeout: Duration) -> Result<Response, AtError> {
        let r = self.command(command, timeout).await?;
        if r.result.is_ok() {
            Ok(r)
        } else {
            Err(AtError::Failed {
                command: mask_secrets(command).into_owned(),
                result: r.result,
            })
        }
    }

    /// `AT+CMGS=<n>`-style exchange: sends `command`, waits for the `> ` prompt (an error
    /// result instead ends it), writes `pdu` and Ctrl-Z, then waits for the final result.
    /// A missing prompt is answered with ESC, which makes the modem drop the command.
    pub async fn send_pdu(
        &mut self,
        command: &str,
        pdu: &str,
        timeout: Duration,
    ) -> Result<Response, AtError> {
        self.exchange(command, Some(pdu), timeout).await
    }

    /// Writes raw bytes (ESC, a lone `\r`) without waiting for anything.
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), AtError> {
        self.writer.write_all(bytes).await?;
        self.writer.flush().await?;
        Ok(())
    }

    async fn exchange(
        &mut self,
        command: &str,
        pdu: Option<&str>,
        timeout: Duration,
    ) -> Result<Response, AtError> {
        if let Some(wait) = self.dirty.take() {
            if let Some(why) = self.resync(wait).await {
                return Err(AtError::Closed(why));
            }
        }
        // What came while idle is stale, except that the port went away.
        while let Ok(e) = self.events.try_recv() {
            if let Event::Closed(why) = e {
                return Err(AtError::Closed(why));
            }
        }
        lock(&self.shared).active = Some(Active {
            echo: command.trim().to_string(),
            echo_seen: false,
            prefix: response_prefix(command),
            expect_prompt: pdu.is_some(),
            pdu: pdu.map(str::to_string),
        });
        let result = self.run(command, pdu, timeout).await;
        lock(&self.shared).active = None;
        if matches!(
            result,
            Err(AtError::Timeout { .. } | AtError::NoPrompt { .. })
        ) {
            self.silent += 1;
        } else {
            self.silent = 0;
        }
        match &result {
            // The PDU went out: its +CMGS may still come, and must not be taken for the
            // answer to the next command.
            Err(AtError::Timeout { .. }) if pdu.is_some() => self.dirty = Some(timeout),
            Err(AtError::Timeout { .. } | AtError::NoPrompt { .. }) => {
                self.dirty = Some(Duration::ZERO)
            }
            _ => {}
        }
        result
    }

    async fn run(
        &mut self,
        command: &str,
        pdu: Option<&str>,
        timeout: Duration,
    ) -> Result<Response, AtError> {
        tracing::debug!(target: "smsgw::at", port = %self.label, "-> {}", mask_secrets(command));
        self.writer.write_all(command.as_bytes()).await?;
        self.writer.write_all(b"\r").await?;
        self.writer.flush().await?;
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        let timed_out = |lines: Vec<String>| AtError::Timeout {
            command: mask_secrets(command).into_owned(),
            timeout,
            lines,
        };
        if let Some(pdu) = pdu {
            loop {
                match tokio::time::timeout_at(deadline, self.events.recv()).await {
                    Ok(Some(Event::Prompt)) => break,
                    Ok(Some(Event::Final(result))) => return Ok(Response { lines, result }),
                    Ok(Some(Event::Line(l))) => lines.push(l),
                    Ok(Some(Event::Closed(e))) => return Err(AtError::Closed(e)),
                    Ok(None) => return Err(AtError::Closed(None)),
                    Err(_) => {
                        // No prompt: abort the command so the modem does not take what we
                        // send next as message text.
                        let _ = self.write_raw(b"\x1b").await;
                        return Err(AtError::NoPrompt {
                            command: command.to_string(),
                            timeout,
                        });
                    }
                }
            }
            if let Some(a) = lock(&self.shared).active.as_mut() {
                a.expect_prompt = false;
            }
            tracing::debug!(target: "smsgw::at", port = %self.label, "-> {pdu}<Ctrl-Z>");
            self.writer.write_all(pdu.as_bytes()).await?;
            self.writer.write_all(b"\x1a").await?;
            self.writer.flush().await?;
        }
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Event::Final(result))) => return Ok(Response { lines, result }),
                Ok(Some(Event::Line(l))) => lines.push(l),
                Ok(Some(Event::Prompt)) => {}
                Ok(Some(Event::Closed(e))) => return Err(AtError::Closed(e)),
                Ok(None) => return Err(AtError::Closed(None)),
                Err(_) => return Err(timed_out(lines)),
            }
        }
    }

    /// After a timeout the answer may still come: abort any prompt, wait up to `late` for a
    /// late final result, then until the port has been quiet for a moment, and throw away
    /// what came, so that it is not taken for the next command's answer.
    /// Returns `Some(why)` when the port went away meanwhile.
    async fn resync(&mut self, late: Duration) -> Option<Option<String>> {
        let _ = self.write_raw(b"\x1b\r").await;
        let start = Instant::now();
        if !late.is_zero() {
            let deadline = start + late;
            while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
                match e {
                    Event::Closed(why) => return Some(why),
                    Event::Final(_) => break,
                    _ => {}
                }
            }
        }
        let start = Instant::now();
        loop {
            let last = lock(&self.shared).last_rx;
            let quiet_at = last.max(start) + RESYNC_QUIET;
            let now = Instant::now();
            if now >= quiet_at || now >= start + RESYNC_MAX {
                break;
            }
            tokio::time::sleep_until(quiet_at.min(start + RESYNC_MAX)).await;
        }
        while let Ok(e) = self.events.try_recv() {
            if let Event::Closed(why) = e {
                return Some(why);
            }
        }
        None
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut r: R,
    shared: Arc<Mutex<Shared>>,
    events: mpsc::UnboundedSender<Event>,
    urcs: mpsc::Sender<Urc>,
    label: String,
) {
    let mut framer = Framer::new();
    let mut buf = [0u8; 2048];
    let mut frames = Vec::new();
    let mut pdu_urc: Option<String> = None;
    let mut dropped = 0u64;
    let mut send_urc = |u: Urc| {
        if urcs.try_send(u).is_err() {
            dropped += 1;
            if dropped.is_power_of_two() {
                tracing::warn!(port = %label, dropped, "URC queue full: dropping unsolicited codes (the storage sweep finds missed messages)");
            }
        }
    };
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) => {
                let _ = events.send(Event::Closed(None));
                return;
            }
            Ok(n) => n,
            Err(e) => {
                let _ = events.send(Event::Closed(Some(e.to_string())));
                return;
            }
        };
        let expect_prompt = {
            let mut s = lock(&shared);
            s.last_rx = Instant::now();
            s.active.as_ref().is_some_and(|a| a.expect_prompt)
        };
        framer.push(&buf[..n], expect_prompt, &mut frames);
        for frame in frames.drain(..) {
            let line = match frame {
                Frame::Prompt => {
                    tracing::debug!(target: "smsgw::at", port = %label, "<- > ");
                    let _ = events.send(Event::Prompt);
                    continue;
                }
                Frame::Line(l) => l,
            };
            tracing::debug!(target: "smsgw::at", port = %label, "<- {}", mask_secrets(&line));
            if let Some(header) = pdu_urc.take() {
                send_urc(Urc {
                    line: header,
                    pdu: Some(line),
                });
                continue;
            }
            let mut s = lock(&shared);
            let shape = urc_shape(&line);
            let Some(active) = s.active.as_mut() else {
                drop(s);
                match (shape, parse_final(&line)) {
                    (Some(UrcShape::WithPdu), _) => pdu_urc = Some(line),
                    (Some(UrcShape::Line), _) | (None, None) => send_urc(Urc { line, pdu: None }),
                    (None, Some(f)) => {
                        // A late answer to a command that timed out: the next command's
                        // resync waits for it and throws it away.
                        let _ = events.send(Event::Final(f));
                    }
                }
                continue;
            };
            if !active.echo_seen && line.eq_ignore_ascii_case(&active.echo) {
                active.echo_seen = true;
                continue;
            }
            if active
                .pdu
                .as_deref()
                .is_some_and(|p| line.trim_start_matches('>').trim().eq_ignore_ascii_case(p))
            {
                continue;
            }
            if let Some(f) = parse_final(&line) {
                let _ = events.send(Event::Final(f));
                // The command is over: what follows (a +CUSD right after OK) is unsolicited,
                // even before the command's task has cleared it.
                s.active = None;
                continue;
            }
            let own = active
                .prefix
                .as_deref()
                .is_some_and(|p| strip_prefix_ci(&line, p).is_some());
            drop(s);
            match shape {
                Some(UrcShape::WithPdu) if !own => pdu_urc = Some(line),
                Some(UrcShape::Line) if !own => send_urc(Urc { line, pdu: None }),
                _ => {
                    let _ = events.send(Event::Line(line));
                }
            }
        }
    }
}
