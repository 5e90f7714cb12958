//! SQL storages with Gammu's schema.

pub mod sqlite;
