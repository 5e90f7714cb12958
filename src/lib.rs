//! smsgw: an SMS gateway daemon, the successor to gammu-smsd.
//!
//! The crate is organised as ../shared/DESIGN.md describes: [`pdu`] (the GSM 03.40 / 03.38
//! codec, pure), [`at`] (the AT line protocol), [`modem`] (GSM 07.05/07.07 on top of it),
//! [`sim`] (a simulated modem), [`config`], [`service`] (the storage trait) and
//! [`backends`] (its implementations), [`compose`] (messages as stored ↔ PDUs), [`route`]
//! (the Transport trait), and [`daemon`], which alone wires them together.

pub mod at;
pub mod compose;
pub mod config;
pub mod daemon;
pub mod face;
pub mod import;
pub mod import_nav;
pub mod modem;
pub mod pdu;
pub mod route;
pub mod secret;
pub mod service;
pub mod sim;
pub mod smpp;
pub mod spool;
pub mod transport;
pub mod unit;

#[path = "../backends/mod.rs"]
pub mod backends;
