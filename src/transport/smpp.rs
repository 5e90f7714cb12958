//! `kind = "smpp"`: an SMSC over SMPP 3.4. Each part of a message is one `submit_sm` with
//! the part's UDH (esm_class 0x40) and data_coding from its DCS (GSM 7-bit as unpacked
//! septets, UCS-2 big-endian, 8-bit as is); the submit_sm_resp's message_id is kept with the
//! part so that receipts find it. The link binds on first use and again after it went down.
//!
//! With `long_messages = "sar"`, a part's concatenation header goes as the SAR TLVs instead
//! (esm_class 0); with `"payload"`, a long message goes whole in one submit_sm, in the
//! `message_payload` TLV when it is longer than a short_message holds (254 octets).
//!
//! GSM 7-bit text goes in data_coding 0 as the SMSC's `default_alphabet` wants it: one
//! septet per octet (the default), packed, or as Latin-1 (data_coding 3). With `rate`, the
//! submit_sm of the link are spaced to at most that many a second.
//!
//! The send window: the daemon sends a claimed batch over `window` handles on one link
//! ([`Transport::lane`], see `daemon::window`), so up to `window` submit_sm wait for their
//! responses at once.
//!
//! Receiving (`bind = "transceiver"`, or `"transmitter+receiver"` for a second connection
//! bound as receiver): the link is kept up; each deliver_sm (a message or a receipt) goes to
//! the daemon and is answered once it is stored, with `ESME_RX_T_APPN` when it could not be
//! (the SMSC delivers it again), `ESME_RX_P_APPN` when it cannot be read (logged with why).
//!
//! Outcomes: a bind that is refused or a link that cannot be made is `RouteDown` (with the
//! SMSC's reason: a wrong password says so); `ESME_RTHROTTLED` and `ESME_RMSGQFUL` are
//! `RouteDown` too, so the message waits without using up a retry while the SMSC is busy;
//! `ESME_RINVDSTADR`, `ESME_RINVSRCADR` and `ESME_RINVMSGLEN` are `Rejected`; other errors
//! `NotSent`; no submit_sm_resp within `timeout`, or a link that drops while waiting, is
//! `Unknown` (the SMSC may have taken the message).

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::pdu::{Alphabet, Submit, UserData};
use crate::route::{PartReceipt, Received, SendError, SendErrorKind, Transport};
use crate::smpp::deliver::{incoming, Codec, Reading};
use crate::smpp::pdu::{cmd, status, tag, Addr, Body, Pdu, Sm, Tlv};
use crate::smpp::receipt::State;
use crate::smpp::session::{status_name, BindAs, Inbound, Session, SessionError, Settings, Tls};
use crate::smpp::{fill_bits, DefaultAlphabet};

/// The link to one SMSC, shared by the senders of the window and the receiver.
struct Link {
    id: String,
    settings: Settings,
    /// A second connection, bound as receiver, for what the SMSC delivers.
    receiver: Option<Settings>,
    session: tokio::sync::Mutex<Option<Session>>,
    /// What data_coding 0 means to this SMSC.
    alphabet: DefaultAlphabet,
    /// How its deliver_sm are read (the same default alphabet, its codings and receipts).
    reading: Arc<Reading>,
    /// What registered_delivery asks for with a report besides the receipt (0x10
    /// intermediate notifications, 0x04/0x08 SME acknowledgements).
    report_extra: u8,
    /// The earliest moment of the next submit_sm (with `rate`), and the spacing.
    pace: Option<(std::sync::Mutex<tokio::time::Instant>, Duration)>,
    /// Where deliver_sm go once the daemon takes them.
    inbound: std::sync::Mutex<Option<mpsc::UnboundedSender<Received>>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        // The connection's task ends with an unbind (a stop, a reload).
        if let Some(s) = self.session.get_mut() {
            s.close();
        }
    }
}

impl Link {
    /// The bound session, binding when there is none or it went down.
    async fn session(&self) -> Result<Session, SendError> {
        let mut slot = self.session.lock().await;
        if let Some(s) = slot.as_ref() {
            if s.down().is_none() {
                return Ok(s.clone());
            }
        }
        *slot = None;
        let s = self.bind(&self.settings).await?;
        *slot = Some(s.clone());
        Ok(s)
    }

    /// Connects and binds with `settings`; what the session receives goes to the daemon
    /// when it takes it, else is refused for later (`ESME_RX_T_APPN`).
    async fn bind(&self, settings: &Settings) -> Result<Session, SendError> {
        match Session::connect(settings).await {
            Ok((s, inbound)) => {
                tracing::info!(transport = %self.id, smsc = %s.smsc_id, bind = ?settings.bind, "bound to the SMSC");
                let taker = self
                    .inbound
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                if let Some(to) = taker {
                    tokio::spawn(forward(
                        self.id.clone(),
                        s.clone(),
                        inbound,
                        to,
                        self.reading.clone(),
                    ));
                }
                Ok(s)
            }
            Err(e) => Err(SendError::new(
                SendErrorKind::RouteDown,
                format!("SMSC {}: {e}", settings.address),
            )),
        }
    }
}

/// Hands a session's deliver_sm to the daemon in order, answering each once the daemon
/// says whether it is stored (answers may go out of order: SMPP matches them by sequence).
async fn forward(
    id: String,
    session: Session,
    mut inbound: mpsc::UnboundedReceiver<Inbound>,
    to: mpsc::UnboundedSender<Received>,
    reading: Arc<Reading>,
) {
    let answer = |p: &Pdu, status: u32| {
        let mut r = Pdu::new(
            p.command_id | 0x8000_0000,
            p.sequence,
            Body::Resp {
                message_id: String::new(),
                tlvs: Vec::new(),
            },
        );
        r.status = status;
        r
    };
    while let Some(Inbound::Deliver(p)) = inbound.recv().await {
        let what = match incoming(&p, &reading) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(transport = %id, seq = p.sequence, "cannot read a deliver_sm, refused for good (ESME_RX_P_APPN): {e}; PDU: {p:?}");
                session.respond(answer(&p, status::ESME_RX_P_APPN));
                continue;
            }
        };
        let (stored, reply) = oneshot::channel();
        if to.send(Received { what, stored }).is_err() {
            session.respond(answer(&p, status::ESME_RX_T_APPN));
            continue;
        }
        let session = session.clone();
        tokio::spawn(async move {
            let status = if reply.await.unwrap_or(false) {
                status::ESME_ROK
            } else {
                status::ESME_RX_T_APPN
            };
            session.respond(answer(&p, status));
        });
    }
}

/// Keeps a receiving session bound while the link exists (binding again with a growing
/// pause, up to a minute, when the SMSC cannot be reached).
async fn keep_bound(link: Weak<Link>) {
    let mut pause = Duration::from_secs(1);
    loop {
        let Some(l) = link.upgrade() else { return };
        let bound = match l.receiver.clone() {
            Some(rx) => l.bind(&rx).await,
            None => l.session().await,
        };
        drop(l);
        match bound {
            Ok(s) => {
                pause = Duration::from_secs(1);
                tokio::select! {
                    _ = s.closed() => {}
                    _ = async {
                        // The link was dropped (stop, reload): unbind the receiver too.
                        while link.strong_count() > 0 {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    } => {
                        s.close();
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!("cannot bind to receive: {e}; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// An SMSC (one sender of its window).
pub struct Smpp {
    link: Arc<Link>,
    source: Addr,
    long: Long,
    window: usize,
}

/// How the parts of a long message go (`long_messages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Long {
    /// Each part with its UDH (esm_class 0x40).
    Udh,
    /// Each part with the SAR TLVs instead of a UDH.
    Sar,
    /// The whole message in one submit_sm (message_payload when it is long).
    Payload,
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
    let bind = match t.bind.as_str() {
        "" | "transceiver" => BindAs::Transceiver,
        "transmitter" | "transmitter+receiver" => BindAs::Transmitter,
        other => {
            return Err(format!(
                "bind: {other:?} is not transceiver, transmitter or transmitter+receiver"
            ))
        }
    };
    if t.username.len() > 15 {
        return Err("system_id: an SMPP system_id has at most 15 characters".into());
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
    let tls = match t.tls.as_str() {
        "" | "none" => None,
        "tls" => Some(Tls {
            name: t.host.clone(),
            ca_file: (!t.ca_file.as_os_str().is_empty()).then(|| t.ca_file.clone()),
        }),
        other => return Err(format!("tls: {other:?} is not none or tls")),
    };
    if tls.is_none() && !t.ca_file.as_os_str().is_empty() {
        return Err("ca_file: only used with tls = \"tls\"".into());
    }
    Ok(Settings {
        tls,
        address: format!("{host}:{port}"),
        system_id: t.username.clone(),
        password,
        system_type: t.system_type.clone(),
        address_range: t.address_range.clone(),
        interface_version: t.interface_version,
        bind,
        enquire_link: Duration::from_secs(t.enquire_link.max(1)),
        response_timeout: Duration::from_secs(t.timeout.max(1)),
    })
}

/// How the SMSC's deliver_sm are read: `default_alphabet`, `data_coding_overrides`,
/// `receipt_regex`, `receipt_status`.
pub fn reading(t: &crate::config::Transport) -> Result<Reading, String> {
    let mut overrides = Vec::new();
    for (dc, codec) in &t.data_coding_overrides {
        let dc: u8 = dc.parse().map_err(|_| {
            format!("data_coding_overrides: {dc:?} is not a data_coding (0 to 255)")
        })?;
        let codec = Codec::parse(codec).map_err(|e| format!("data_coding_overrides: {e}"))?;
        overrides.push((dc, codec));
    }
    let receipt = match t.receipt_regex.as_str() {
        "" => None,
        re => {
            let re = regex::Regex::new(re).map_err(|e| format!("receipt_regex: {e}"))?;
            for group in ["id", "stat"] {
                if !re.capture_names().flatten().any(|n| n == group) {
                    return Err(format!(
                        "receipt_regex: it has no group named {group} (write (?P<{group}>...))"
                    ));
                }
            }
            Some(re)
        }
    };
    let mut statuses = Vec::new();
    for (stat, meaning) in &t.receipt_status {
        let state = match meaning.as_str() {
            "delivered" => State::Delivered,
            "failed" => State::Failed,
            "pending" => State::Pending,
            other => {
                return Err(format!(
                    "receipt_status: {stat:?} = {other:?}: write delivered, failed or pending"
                ))
            }
        };
        statuses.push((stat.clone(), state));
    }
    Ok(Reading {
        default: DefaultAlphabet::parse(&t.default_alphabet)?,
        overrides,
        receipt,
        statuses,
    })
}

/// The registered_delivery bits asked for with a receipt: `intermediate_notification`
/// and `sme_originated_acks`.
fn report_extra(t: &crate::config::Transport) -> Result<u8, String> {
    let mut bits = if t.intermediate_notification { 0x10 } else { 0 };
    for a in &t.sme_originated_acks {
        bits |= match a.as_str() {
            "delivery" => 0x04,
            "user" => 0x08,
            other => {
                return Err(format!(
                    "sme_originated_acks: {other:?} is not delivery or user"
                ))
            }
        };
    }
    Ok(bits)
}

impl Smpp {
    /// Builds the transport from its config (`password` already resolved).
    pub fn new(t: &crate::config::Transport, password: String) -> Result<Smpp, String> {
        let long = match t.long_messages.as_str() {
            "" | "udh" => Long::Udh,
            "sar" => Long::Sar,
            "payload" => Long::Payload,
            other => {
                return Err(format!(
                    "long_messages: {other:?} is not udh, sar or payload"
                ))
            }
        };
        let settings = settings(t, password)?;
        let receiver = (t.bind == "transmitter+receiver").then(|| Settings {
            bind: BindAs::Receiver,
            ..settings.clone()
        });
        let pace = match t.rate {
            0 => None,
            r @ 1..=10_000 => Some((
                std::sync::Mutex::new(tokio::time::Instant::now()),
                Duration::from_secs(1) / r,
            )),
            other => return Err(format!("rate: {other} is not between 1 and 10000")),
        };
        Ok(Smpp {
            link: Arc::new(Link {
                id: t.id.clone(),
                settings,
                receiver,
                session: tokio::sync::Mutex::new(None),
                alphabet: DefaultAlphabet::parse(&t.default_alphabet)?,
                reading: Arc::new(reading(t)?),
                report_extra: report_extra(t)?,
                pace,
                inbound: std::sync::Mutex::new(None),
            }),
            source: source_addr(&t.sender),
            long,
            // With a rate, a claimed batch must go out well within its lease (60 s): at
            // most 20 seconds' worth of messages at a time.
            window: match t.window {
                1..=1000 if t.rate > 0 => (t.window as usize).min((t.rate as usize * 20).max(1)),
                1..=1000 => t.window as usize,
                other => return Err(format!("window: {other} is not between 1 and 1000")),
            },
        })
    }
}

/// The submit_sm for one part (or, with [`Long::Payload`], a whole message). With
/// [`Long::Sar`], a header holding only the concatenation goes as the SAR TLVs instead.
pub fn submit_sm(
    part: &Submit,
    source: &Addr,
    long: Long,
    alphabet: DefaultAlphabet,
) -> Result<Sm, String> {
    let toa = part.destination.toa();
    let mut udh = part.udh.as_ref();
    let mut tlvs = Vec::new();
    if let Some(c) = udh
        .filter(|u| long == Long::Sar && u.elements.len() == 1)
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
    let mut data_coding = part.dcs.0;
    match (&part.user_data, part.dcs.alphabet()) {
        (UserData::Text(t), Alphabet::Gsm7) => {
            let mut septets = Vec::with_capacity(t.len());
            crate::pdu::gsm7::to_septets(t, &mut septets)
                .map_err(|(i, c)| format!("character {c:?} at {i} is not in the GSM alphabet"))?;
            match alphabet {
                DefaultAlphabet::Gsm => short_message.extend(septets),
                DefaultAlphabet::GsmPacked => {
                    let fill = fill_bits(short_message.len());
                    crate::pdu::gsm7::pack(&septets, fill, &mut short_message);
                }
                // Only the plain GSM coding becomes Latin-1 (a class or other flags stay).
                DefaultAlphabet::Latin1 if data_coding == 0 => {
                    for c in t.chars() {
                        let b = u8::try_from(u32::from(c)).map_err(|_| {
                            format!("character {c:?} has no Latin-1 code (default_alphabet = \"latin1\")")
                        })?;
                        short_message.push(b);
                    }
                    data_coding = 3;
                }
                DefaultAlphabet::Latin1 => short_message.extend(septets),
            }
        }
        (UserData::Text(t), _) => {
            short_message.extend(t.encode_utf16().flat_map(u16::to_be_bytes));
        }
        (UserData::Binary(b), _) => short_message.extend_from_slice(b),
    }
    if short_message.len() > 254 {
        if long != Long::Payload {
            return Err(format!(
                "the part is {} octets, more than a short_message holds",
                short_message.len()
            ));
        }
        tlvs.push(Tlv::new(
            tag::MESSAGE_PAYLOAD,
            std::mem::take(&mut short_message),
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
        data_coding,
        short_message,
        tlvs,
        ..Sm::default()
    })
}

#[async_trait]
impl Transport for Smpp {
    fn id(&self) -> &str {
        &self.link.id
    }
    fn max_in_flight(&self) -> usize {
        self.window
    }
    fn lane(&self) -> Option<Box<dyn Transport>> {
        Some(Box::new(Smpp {
            link: self.link.clone(),
            source: self.source.clone(),
            long: self.long,
            window: self.window,
        }))
    }
    fn whole_messages(&self) -> bool {
        self.long == Long::Payload
    }
    fn take_inbound(&mut self) -> Option<mpsc::UnboundedReceiver<Received>> {
        if self.link.settings.bind == BindAs::Transmitter && self.link.receiver.is_none() {
            return None;
        }
        let mut taker = self.link.inbound.lock().unwrap_or_else(|p| p.into_inner());
        if taker.is_some() {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        *taker = Some(tx);
        tokio::spawn(keep_bound(Arc::downgrade(&self.link)));
        Some(rx)
    }
    async fn send(&mut self, part: &Submit) -> Result<PartReceipt, SendError> {
        let address = &self.link.settings.address;
        let mut sm = submit_sm(part, &self.source, self.long, self.link.alphabet)
            .map_err(|e| SendError::new(SendErrorKind::Rejected, e))?;
        if sm.registered_delivery != 0 {
            sm.registered_delivery |= self.link.report_extra;
        }
        let session = self.link.session().await?;
        if let Some((next, gap)) = &self.link.pace {
            let at = {
                let mut next = next.lock().unwrap_or_else(|p| p.into_inner());
                let at = (*next).max(tokio::time::Instant::now());
                *next = at + *gap;
                at
            };
            tokio::time::sleep_until(at).await;
        }
        let resp = match session.request(cmd::SUBMIT_SM, Body::SubmitSm(sm)).await {
            Ok(r) => r,
            Err(e) => {
                if matches!(e, SessionError::Timeout(_)) {
                    tracing::debug!(transport = %self.link.id, "submit_sm_resp timed out");
                }
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!("SMSC {address}: {e} (it may have taken the message)"),
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
                // Not bound as the SMSC sees it: bind again.
                session.close();
                SendErrorKind::RouteDown
            }
            status::ESME_RINVDSTADR | 0x0A | status::ESME_RINVMSGLEN => SendErrorKind::Rejected,
            _ => SendErrorKind::NotSent,
        };
        let mut err = SendError::new(
            kind,
            format!("SMSC {address}: {}", status_name(resp.status)),
        );
        err.code = u16::try_from(resp.status).ok();
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{Address, ConcatRef, Encoding};

    fn transport(keys: &str) -> crate::config::Transport {
        let text = format!(
            "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"smsc.example.org\"\n{keys}"
        );
        let cfg = crate::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
        cfg.transports[0].clone()
    }

    #[test]
    fn vumi2_s_report_options_set_registered_delivery_bits() {
        assert_eq!(report_extra(&transport("")), Ok(0));
        assert_eq!(
            report_extra(&transport(
                "intermediate_notification = true\nsme_originated_acks = [\"delivery\", \"user\"]"
            )),
            Ok(0x1C)
        );
        let e = reading(&transport("receipt_regex = \"id:(?P<id>\\\\w+)\"")).unwrap_err();
        assert_eq!(
            e,
            "receipt_regex: it has no group named stat (write (?P<stat>...))"
        );
        let e = reading(&transport(
            "data_coding_overrides = { \"300\" = \"latin1\" }",
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "data_coding_overrides: \"300\" is not a data_coding (0 to 255)"
        );
    }

    fn bind_settings(keys: &str) -> Settings {
        let text = format!(
            "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"smsc.example.org\"\n{keys}"
        );
        let cfg = crate::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
        settings(&cfg.transports[0], "pw".into()).unwrap()
    }

    #[test]
    fn the_bind_takes_smpp_names_and_username_still_works() {
        let s = bind_settings(
            "system_id = \"acme\"\nsystem_type = \"VMA\"\naddress_range = \"^4860\"\ninterface_version = 51\n",
        );
        assert_eq!(
            (
                s.system_id.as_str(),
                s.system_type.as_str(),
                s.address_range.as_str(),
                s.interface_version
            ),
            ("acme", "VMA", "^4860", 0x33)
        );
        let s = bind_settings("username = \"acme\"\n");
        assert_eq!((s.system_id.as_str(), s.interface_version), ("acme", 0x34));
        let text =
            "[[transport]]\nid = \"m\"\nkind = \"mail\"\nto = \"a@b\"\naddress_range = \"1\"\n";
        let e = crate::config::Config::parse(text, std::path::Path::new("t.toml")).unwrap_err();
        assert!(e.to_string().contains("address_range"), "{e}");
    }

    #[test]
    fn parts_become_submit_sm() {
        let mut s = Submit::new(Address::number("+4799990000").unwrap(), "a€");
        s.status_report_request = true;
        let sm = submit_sm(&s, &source_addr("NOC"), Long::Udh, DefaultAlphabet::Gsm).unwrap();
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
        let sm = submit_sm(
            &parts[0],
            &source_addr("+4711"),
            Long::Udh,
            DefaultAlphabet::Gsm,
        )
        .unwrap();
        assert_eq!((sm.esm_class, sm.data_coding), (0x40, 8));
        assert_eq!(&sm.short_message[..6], &[5, 0, 3, 7, 2, 1]);
        assert_eq!(sm.short_message.len(), 6 + 134);
        assert_eq!((sm.source.ton, sm.source.addr.as_str()), (1, "4711"));
        let sm = submit_sm(
            &parts[1],
            &source_addr("+4711"),
            Long::Sar,
            DefaultAlphabet::Gsm,
        )
        .unwrap();
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

    #[test]
    fn payload_packed_and_latin1() {
        let to = Address::number("+4799990000").unwrap();
        // A whole long message (as compose::sends joins it) goes in message_payload.
        let mut whole = Submit::new(to.clone(), "é".repeat(300));
        whole.dcs = crate::pdu::Dcs::new(Alphabet::Ucs2, None);
        let sm = submit_sm(
            &whole,
            &source_addr("NOC"),
            Long::Payload,
            DefaultAlphabet::Gsm,
        )
        .unwrap();
        assert!(sm.short_message.is_empty());
        assert_eq!(sm.tlvs[0].tag, tag::MESSAGE_PAYLOAD);
        assert_eq!(sm.tlvs[0].value.len(), 600);
        assert!(submit_sm(&whole, &source_addr("NOC"), Long::Udh, DefaultAlphabet::Gsm).is_err());
        // Packed: eight septets in seven octets.
        let s = Submit::new(to.clone(), "abcdefgh");
        let sm = submit_sm(
            &s,
            &source_addr("NOC"),
            Long::Udh,
            DefaultAlphabet::GsmPacked,
        )
        .unwrap();
        assert_eq!((sm.data_coding, sm.short_message.len()), (0, 7));
        // Latin-1: data_coding 3; the euro sign has no Latin-1 code.
        let s = Submit::new(to.clone(), "café");
        let sm = submit_sm(&s, &source_addr("NOC"), Long::Udh, DefaultAlphabet::Latin1).unwrap();
        assert_eq!(
            (sm.data_coding, sm.short_message.as_slice()),
            (3, &b"caf\xe9"[..])
        );
        let e = submit_sm(
            &Submit::new(to, "5 €"),
            &source_addr("NOC"),
            Long::Udh,
            DefaultAlphabet::Latin1,
        )
        .unwrap_err();
        assert!(e.contains("no Latin-1 code"), "{e}");
    }
}
