//! The modem as a route of the daemon: one part at a time.

use super::*;

/// The modem as a route: one part at a time.
pub struct ModemRoute<'a> {
    pub modem: &'a mut Modem,
}

#[async_trait::async_trait]
impl crate::route::Transport for ModemRoute<'_> {
    fn id(&self) -> &str {
        &self.modem.cfg.id
    }

    fn max_in_flight(&self) -> usize {
        1
    }

    fn smsc(&self) -> Option<String> {
        self.modem.smsc.clone()
    }

    async fn send(
        &mut self,
        part: &crate::pdu::Submit,
    ) -> Result<crate::route::PartReceipt, SendError> {
        let encoded = part.encode().map_err(|e| {
            SendError::new(
                SendErrorKind::Rejected,
                format!("cannot encode the PDU: {e}"),
            )
        })?;
        let mr = match self.modem.send(&encoded).await {
            Ok(mr) => mr,
            // Several commands in a row unanswered: the link is dead (a device that went
            // away without an error, a hung modem); reconnect instead of trying every
            // queued message against it.
            Err(mut e) if self.modem.is_hung() => {
                e.link_down = true;
                e.reason.push_str("; the modem stopped answering");
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        Ok(crate::route::PartReceipt {
            tpmr: Some(mr),
            message_id: None,
        })
    }
}
