//! SMPP 3.4, the ESME side: the PDUs ([`pdu`]), a `tokio_util` codec framing them on a
//! stream ([`codec`]), delivery receipts ([`receipt`]) and the bound session ([`session`]).
//! The transport that sends through it is `crate::transport::smpp`.

pub mod codec;
pub mod deliver;
pub mod pdu;
pub mod receipt;
pub mod session;
