//! smsgw: an SMS gateway daemon, the successor to gammu-smsd.
//!
//! The crate is organised as ../shared/DESIGN.md describes; this foundation holds the
//! GSM 03.40 / 03.38 PDU codec ([`pdu`]), which every other part builds on.

pub mod at;
pub mod compose;
pub mod config;
pub mod daemon;
pub mod modem;
pub mod pdu;
pub mod route;
pub mod service;
pub mod sim;

#[path = "../backends/mod.rs"]
pub mod backends;
