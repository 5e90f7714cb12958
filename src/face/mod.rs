//! Faces: how applications reach the core (DESIGN.md, "Faces"). Each knows the storage
//! service and nothing of modems, and they share two paths: [`submit`] in, and the event
//! log out ([`deliver`] takes it to webhooks, Kannel's dlr-url, the SMPP server's binds
//! and the AMQP broker).

pub mod amqp;
pub mod deliver;
pub mod http;
pub mod smpp_server;
pub mod submit;
