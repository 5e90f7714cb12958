//! SMPP 3.4, the ESME side: the PDUs ([`pdu`]), a `tokio_util` codec framing them on a
//! stream ([`codec`]), and delivery receipts ([`receipt`]). The session and the transport
//! come with them (issue 10).

pub mod codec;
pub mod pdu;
pub mod receipt;
