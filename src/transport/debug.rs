//! `kind = "debug"`: logs `SMS to <phone>: <text>` and answers as `result` says (NAV's
//! DebugDispatcher): for dry runs and for trying a failover list.

use async_trait::async_trait;

use crate::pdu::Submit;
use crate::route::{PartReceipt, SendError, SendErrorKind, Transport};

/// A transport that sends nothing.
#[derive(Debug)]
pub struct Debug {
    id: String,
    /// `None`: success.
    fails: Option<SendErrorKind>,
}

impl Debug {
    pub fn new(t: &crate::config::Transport) -> Result<Debug, String> {
        let fails = match t.result.as_str() {
            "" | "success" => None,
            "fail" | "error" => Some(SendErrorKind::NotSent),
            "permanent" => Some(SendErrorKind::RouteDown),
            "rejected" => Some(SendErrorKind::Rejected),
            "unknown" => Some(SendErrorKind::Unknown),
            other => {
                return Err(format!(
                    "result: {other:?} is not success, fail, error, permanent, rejected or unknown"
                ))
            }
        };
        Ok(Debug {
            id: t.id.clone(),
            fails,
        })
    }
}

#[async_trait]
impl Transport for Debug {
    fn id(&self) -> &str {
        &self.id
    }
    fn takes_text(&self) -> bool {
        true
    }
    async fn send(&mut self, _part: &Submit) -> Result<PartReceipt, SendError> {
        Err(super::pdu_refused(&self.id))
    }
    async fn send_text(
        &mut self,
        to: &str,
        text: &str,
        _id: &str,
    ) -> Result<PartReceipt, SendError> {
        tracing::info!(transport = %self.id, "SMS to {to}: {text}");
        match self.fails {
            None => Ok(PartReceipt {
                tpmr: None,
                message_id: None,
            }),
            Some(kind) => Err(SendError::new(
                kind,
                format!("debug transport {} answers {kind:?}", self.id),
            )),
        }
    }
}
