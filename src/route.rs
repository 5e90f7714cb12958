//! Routes: every way out (a `[[phone]]` modem, a `[[transport]]`) behind one trait,
//! and the one error type every way out maps its failures to (DESIGN.md, "Routes").

use async_trait::async_trait;
use std::fmt;

use crate::pdu::Submit;

/// How a send failed, as far as the message is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendErrorKind {
    /// The network or device refused this message (bad number, barred, invalid PDU):
    /// retrying it will not help.
    Rejected,
    /// Not sent, for a reason that may pass (congestion, temporary failure, SIM busy):
    /// safe to retry, here or on another route.
    NotSent,
    /// The route cannot send anything now (no network, no SIM, PIN needed, no credit): the
    /// message keeps its retries and the route is marked down.
    RouteDown,
    /// May have been sent: it went out and no answer came. Retrying may duplicate it; never
    /// failed over to another route.
    Unknown,
}

/// A failed send with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub kind: SendErrorKind,
    /// The `+CMS ERROR` code (or the transport's status code), when there was one.
    pub code: Option<u16>,
    /// What happened, for logs and the storage's error column.
    pub reason: String,
    /// The route's link went down during the send: reconnect before anything else.
    pub link_down: bool,
}

impl SendError {
    pub fn new(kind: SendErrorKind, reason: impl Into<String>) -> SendError {
        SendError {
            kind,
            code: None,
            reason: reason.into(),
            link_down: false,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SendError {}

/// What a route says of a part it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartReceipt {
    /// The modem's TP-MR (matched by status reports).
    pub tpmr: Option<u8>,
    /// An SMSC's message id (matched by delivery receipts).
    pub message_id: Option<String>,
}

/// Something a route received on its own (an SMSC's deliver_sm), with the way to answer.
#[derive(Debug)]
pub struct Received {
    pub what: crate::smpp::deliver::Incoming,
    /// Send `true` once it is stored (the route acknowledges it), `false` when it could not
    /// be (the route asks its peer to deliver it again later).
    pub stored: tokio::sync::oneshot::Sender<bool>,
}

/// A way out. The modem is the first implementation; SMPP, HTTP and mail add theirs.
#[async_trait]
pub trait Transport: Send {
    /// The route id (Gammu's PhoneID for a modem).
    fn id(&self) -> &str;
    /// How many messages this route sends at once (1 for a modem, the window for SMPP).
    fn max_in_flight(&self) -> usize {
        1
    }
    /// Another sender on the same link, for the send window: the daemon runs up to
    /// `max_in_flight()` senders, each with its own handle. `None` for a route that sends
    /// one message at a time.
    fn lane(&self) -> Option<Box<dyn Transport>> {
        None
    }
    /// What the route receives (messages, receipts), taken once by the daemon; from then on
    /// the route keeps its link up to receive. `None` for a route that receives nothing.
    fn take_inbound(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Received>> {
        None
    }
    /// Whether the route sends a long message in one piece (SMPP's `message_payload`): the
    /// daemon then hands it one SUBMIT with the whole text, and records every stored part
    /// as sent with it.
    fn whole_messages(&self) -> bool {
        false
    }
    /// The SMSC number recorded with sent parts, when known.
    fn smsc(&self) -> Option<String> {
        None
    }
    /// Sends one part.
    async fn send(&mut self, part: &Submit) -> Result<PartReceipt, SendError>;
    /// Whether the route takes a message's whole text ([`Transport::send_text`]: HTTP,
    /// mail, SOAP) rather than its PDUs part by part ([`Transport::send`]: a modem, SMPP).
    fn takes_text(&self) -> bool {
        false
    }
    /// Sends a whole message as text; `id` is the storage's id of the message.
    async fn send_text(
        &mut self,
        _to: &str,
        _text: &str,
        _id: &str,
    ) -> Result<PartReceipt, SendError> {
        Err(SendError::new(
            SendErrorKind::Rejected,
            format!("route {} sends PDUs, not texts", self.id()),
        ))
    }
}
