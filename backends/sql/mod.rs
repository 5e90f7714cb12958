//! SQL storages with Gammu's schema.

pub mod server;
pub mod sqlite;
