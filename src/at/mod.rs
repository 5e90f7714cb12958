//! The AT line protocol over any `AsyncRead + AsyncWrite` (a serial port, a TCP link to
//! ser2net, a pseudo-terminal, an in-memory pipe): commands with per-command timeouts, final
//! results, echo on or off, the `> ` prompt, and unsolicited result codes separated from
//! responses. It knows nothing of SMS: that is [`crate::modem`]'s job.

mod channel;
pub mod framer;
pub mod line;

pub use channel::{AtError, Channel, Response, Urc, URC_QUEUE};
pub use line::{ErrorCode, Final};
