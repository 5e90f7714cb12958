//! Ways out other than a modem (`[[transport]]`): SMPP, HTTP and SOAP gateways, mail-to-SMS,
//! a debug transport, and failover lists of them. Each implements
//! [`crate::route::Transport`]: SMPP part by part like a modem, the others a message's whole
//! text at once ([`Transport::send_text`]).

pub mod debug;
pub mod failover;
pub mod http;
pub mod mail;
pub mod smpp;
pub mod template;

use std::time::Duration;

use crate::config::{Transport as Config, TransportKind};
use crate::route::{SendError, SendErrorKind, Transport};

/// What a text transport answers when handed a PDU.
pub(crate) fn pdu_refused(id: &str) -> SendError {
    SendError::new(
        SendErrorKind::Rejected,
        format!("transport {id} sends texts, not PDUs"),
    )
}

/// The password (or token) from the config, a file or the environment.
pub fn password(t: &Config) -> Result<String, String> {
    crate::secret::resolve("", &t.password, &t.password_file, &t.password_env)
        .map(Option::unwrap_or_default)
}

pub use crate::secret::Secrets;

/// Builds one transport (a failover list with its members).
pub fn build(t: &Config, all: &[Config], secrets: Secrets) -> Result<Box<dyn Transport>, String> {
    let named = |e: String| format!("transport {:?}: {e}", t.id);
    let secret = || match secrets {
        Secrets::Read => password(t).map_err(named),
        Secrets::Skip => Ok("x".to_string()),
    };
    Ok(match t.kind {
        TransportKind::Http | TransportKind::Soap => {
            Box::new(http::Http::new(t, secret()?).map_err(named)?)
        }
        TransportKind::Mail => Box::new(mail::Mail::new(t, secret()?).map_err(named)?),
        TransportKind::Smpp => Box::new(smpp::Smpp::new(t, secret()?).map_err(named)?),
        TransportKind::Debug => Box::new(debug::Debug::new(t).map_err(named)?),
        TransportKind::Failover => {
            let mut members = Vec::new();
            for id in &t.members {
                let m = all
                    .iter()
                    .find(|m| &m.id == id)
                    .ok_or_else(|| named(format!("members: no [[transport]] with id {id:?}")))?;
                if m.kind == TransportKind::Failover {
                    return Err(named(format!("members: {id:?} is itself a failover list")));
                }
                members.push((build(m, all, secrets)?, m.prefixes.clone()));
            }
            if members.is_empty() {
                return Err(named(
                    "members: list the transports to try, in order".into(),
                ));
            }
            Box::new(failover::Failover::new(
                &t.id,
                members,
                t.failures,
                Duration::from_secs(t.cooldown),
            ))
        }
    })
}

/// Builds every transport of `cfg` as the daemon would, so that a config is refused at
/// check time for what the daemon would refuse at run time; the error names the file, the
/// line and the key.
pub fn check(
    cfg: &crate::config::Config,
    secrets: Secrets,
) -> Result<(), crate::config::ConfigError> {
    for t in &cfg.transports {
        if let Err(e) = build(t, &cfg.transports, secrets) {
            // "transport \"id\": key: what is wrong"
            let key = e
                .split_once(": ")
                .and_then(|(_, rest)| rest.split_once(':'))
                .map(|(k, _)| k.to_string())
                .filter(|k| !k.contains(' '))
                .unwrap_or_else(|| "kind".into());
            return Err(cfg.error_at(&key, &format!("transport.{key}"), e));
        }
    }
    Ok(())
}

/// The transports that send on their own: all but the members of a failover list (which
/// send only through their list).
pub fn routes(all: &[Config]) -> Vec<&Config> {
    all.iter()
        .filter(|t| {
            !all.iter()
                .any(|f| f.kind == TransportKind::Failover && f.members.contains(&t.id))
        })
        .collect()
}
