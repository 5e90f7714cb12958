//! `kind = "smpp"`: an SMSC over SMPP 3.4. Each part of a message is one `submit_sm` with
//! the part's UDH (esm_class 0x40) and data_coding from its DCS (GSM 7-bit as unpacked
//! septets, UCS-2 big-endian, 8-bit as is); the submit_sm_resp's message_id is the part's
//! receipt id. The session binds on first use and again after the link went down.
//!
//! With `long_messages = "sar"`, a part's concatenation header goes as the SAR TLVs instead
//! (esm_class 0).
//!
//! Outcomes: a bind that is refused or a link that cannot be made is `RouteDown` (with the
//! SMSC's reason: a wrong password says so); `ESME_RTHROTTLED` and `ESME_RMSGQFUL` are
//! `RouteDown` too, so the message waits without using up a retry while the SMSC is busy;
//! `ESME_RINVDSTADR`, `ESME_RINVSRCADR` and `ESME_RINVMSGLEN` are `Rejected`; other errors
//! `NotSent`; no submit_sm_resp within `timeout`, or a link that drops while waiting, is
//! `Unknown` (the SMSC may have taken it).
//!
//! Received messages and receipts (deliver_sm) are not stored yet: on a transceiver bind
//! they are answered `ESME_RX_T_APPN` so that the SMSC keeps them and delivers them again.

use std::time::Duration;

use async_trait::async_trait;

use crate::pdu::{Alphabet, Submit, UserData};
use crate::route::{PartReceipt, SendError, SendErrorKind, Transport};
use crate::smpp::pdu::{cmd, status, tag, Addr, Body, Sm, Tlv};
use crate::smpp::session::{status_name, Session, SessionError, Settings};

/// An SMSC.
pub struct Smpp {
    id: String,
    settings: Settings,
    source: Addr,
    /// Long messages tied by SAR TLVs instead of a UDH.
    sar: bool,
    session: Option<Session>,
}

impl Drop for Smpp {
    fn drop(&mut self) {
        // The connection's task ends with an unbind (a stop, a reload).
        if let Some(s) = &self.session {
            s.close();
        }
    }
}

/// TON/NPI for a sender: alphanumeric (5/0), international with `+` (1/1), else 0/1.
fn source_addr(sender: &str) -> Addr {
    let digits = sender.trim_start_matches('+');
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Addr {
            ton: if sender.starts_with('+') { 1 } else { 0 },
            npi: 1,
            addr: digits.to_string(),
        }
    } else {
        Addr {
            ton: if sender.is_empty() { 0 } else { 5 },
            npi: 0,
            addr: sender.to_string(),
        }
    }
}

/// The session settings of a transport's config (`password` already resolved).
pub fn settings(t: &crate::config::Transport, password: String) -> Result<Settings, String> {
    if t.host.is_empty() {
        return Err("host: the SMSC's host name or address is needed".into());
    }
    let transmitter_only = match t.bind.as_str() {
        "" | "transmitter" => true,
        "transceiver" => false,
        other => return Err(format!("bind: {other:?} is not transmitter or transceiver")),
    };
    if t.username.len() > 15 {
        return Err("username: an SMPP system_id has at most 15 characters".into());
    }
    if password.len() > 8 {
        return Err("password: an SMPP password has at most 8 characters".into());
    }
    let port = if t.port == 0 { 2775 } else { t.port };
    let host = if t.host.contains(':') && !t.host.starts_with('[') {
        format!("[{}]", t.host)
    } else {
        t.host.clone()
    };
    Ok(Settings {
        address: format!("{host}:{port}"),
        system_id: t.username.clone(),
        password,
        system_type: t.system_type.clone(),
        transmitter_only,
        enquire_link: Duration::from_secs(t.enquire_link.max(1)),
        response_timeout: Duration::from_secs(t.timeout.max(1)),
    })
}

impl Smpp {
    /// Builds the transport from its config (`password` already resolved).
    pub fn new(t: &crate::config::Transport, password: String) -> Result<Smpp, String> {
        let sar = match t.long_messages.as_str() {
            "" | "udh" => false,
            "sar" => true,
            other => return Err(format!("long_messages: {other:?} is not udh or sar")),
        };
        Ok(Smpp {
            id: t.id.clone(),
            settings: settings(t, password)?,
            source: source_addr(&t.sender),
            sar,
            session: None,
        })
    }

    /// The bound session, binding when there is none or it went down.
    async fn session(&mut self) -> Result<Session, SendError> {
        if let Some(s) = &self.session {
            if s.down().is_none() {
                return Ok(s.clone());
            }
        }
        self.session = None;
        match Session::connect(&self.settings).await {
            Ok((s, inbound)) => {
                tracing::info!(transport = %self.id, smsc = %s.smsc_id, "bound to the SMSC");
                // Not stored yet: dropping the receiver makes the session answer
                // ESME_RX_T_APPN, so the SMSC keeps them.
                drop(inbound);
                self.session = Some(s.clone());
                Ok(s)
            }
            Err(e) => Err(SendError::new(
                SendErrorKind::RouteDown,
                format!("SMSC {}: {e}", self.settings.address),
            )),
        }
    }
}

/// The submit_sm for one part; with `sar`, a header holding only the concatenation goes as
/// the SAR TLVs instead.
pub fn submit_sm(part: &Submit, source: &Addr, sar: bool) -> Result<Sm, String> {
    let toa = part.destination.toa();
    let mut udh = part.udh.as_ref();
    let mut tlvs = Vec::new();
    if let Some(c) = udh
        .filter(|u| sar && u.elements.len() == 1)
        .and_then(|u| u.concat_info())
    {
        tlvs = vec![
            Tlv::u16(tag::SAR_MSG_REF_NUM, c.reference),
            Tlv::u8(tag::SAR_TOTAL_SEGMENTS, c.total),
            Tlv::u8(tag::SAR_SEGMENT_SEQNUM, c.seq),
        ];
        udh = None;
    }
    let mut short_message = udh.map(|u| u.to_bytes()).unwrap_or_default();
    match (&part.user_data, part.dcs.alphabet()) {
        (UserData::Text(t), Alphabet::Gsm7) => {
            crate::pdu::gsm7::to_septets(t, &mut short_message)
                .map_err(|(i, c)| format!("character {c:?} at {i} is not in the GSM alphabet"))?;
        }
        (UserData::Text(t), _) => {
            short_message.extend(t.encode_utf16().flat_map(u16::to_be_bytes));
        }
        (UserData::Binary(b), _) => short_message.extend_from_slice(b),
    }
    if short_message.len() > 254 {
        return Err(format!(
            "the part is {} octets, more than a short_message holds",
            short_message.len()
        ));
    }
    Ok(Sm {
        source: source.clone(),
        destination: Addr {
            ton: (toa >> 4) & 0x07,
            npi: toa & 0x0F,
            addr: part.destination.value.clone(),
        },
        esm_class: if udh.is_some() { 0x40 } else { 0 },
        protocol_id: part.pid,
        registered_delivery: u8::from(part.status_report_request),
        data_coding: part.dcs.0,
        short_message,
        tlvs,
        ..Sm::default()
    })
}

#[async_trait]
impl Transport for Smpp {
    fn id(&self) -> &str {
        &self.id
    }
    async fn send(&mut self, part: &Submit) -> Result<PartReceipt, SendError> {
        let sm = submit_sm(part, &self.source, self.sar)
            .map_err(|e| SendError::new(SendErrorKind::Rejected, e))?;
        let session = self.session().await?;
        let resp = match session.request(cmd::SUBMIT_SM, Body::SubmitSm(sm)).await {
            Ok(r) => r,
            Err(e) => {
                if matches!(e, SessionError::LinkDown(_)) {
                    self.session = None;
                }
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!(
                        "SMSC {}: {e} (it may have taken the message)",
                        self.settings.address
                    ),
                ));
            }
        };
        if resp.status == status::ESME_ROK {
            let message_id = match resp.body {
                Body::Resp { message_id, .. } => message_id,
                _ => String::new(),
            };
            return Ok(PartReceipt {
                tpmr: None,
                message_id: Some(message_id),
            });
        }
        let kind = match resp.status {
            status::ESME_RTHROTTLED | status::ESME_RMSGQFUL => SendErrorKind::RouteDown,
            status::ESME_RINVBNDSTS => {
                self.session = None;
                SendErrorKind::RouteDown
            }
            status::ESME_RINVDSTADR | 0x0A | status::ESME_RINVMSGLEN => SendErrorKind::Rejected,
            _ => SendErrorKind::NotSent,
        };
        let mut err = SendError::new(
            kind,
            format!(
                "SMSC {}: {}",
                self.settings.address,
                status_name(resp.status)
            ),
        );
        err.code = u16::try_from(resp.status).ok();
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{Address, ConcatRef, Encoding};

    #[test]
    fn parts_become_submit_sm() {
        let mut s = Submit::new(Address::number("+4799990000").unwrap(), "a€");
        s.status_report_request = true;
        let sm = submit_sm(&s, &source_addr("NOC"), false).unwrap();
        assert_eq!(
            (
                sm.destination.ton,
                sm.destination.npi,
                sm.destination.addr.as_str()
            ),
            (1, 1, "4799990000")
        );
        assert_eq!((sm.source.ton, sm.source.npi), (5, 0));
        assert_eq!(sm.short_message, vec![0x61, 0x1B, 0x65]);
        assert_eq!(
            (sm.data_coding, sm.esm_class, sm.registered_delivery),
            (0, 0, 1)
        );
        let parts =
            crate::pdu::split(&s, &"ł".repeat(100), Encoding::Auto, ConcatRef::Eight(7)).unwrap();
        let sm = submit_sm(&parts[0], &source_addr("+4711"), false).unwrap();
        assert_eq!((sm.esm_class, sm.data_coding), (0x40, 8));
        assert_eq!(&sm.short_message[..6], &[5, 0, 3, 7, 2, 1]);
        assert_eq!(sm.short_message.len(), 6 + 134);
        assert_eq!((sm.source.ton, sm.source.addr.as_str()), (1, "4711"));
        let sm = submit_sm(&parts[1], &source_addr("+4711"), true).unwrap();
        assert_eq!((sm.esm_class, sm.short_message.len()), (0, 66));
        assert_eq!(
            sm.tlvs,
            vec![
                Tlv::u16(tag::SAR_MSG_REF_NUM, 7),
                Tlv::u8(tag::SAR_TOTAL_SEGMENTS, 2),
                Tlv::u8(tag::SAR_SEGMENT_SEQNUM, 2)
            ]
        );
    }
}
