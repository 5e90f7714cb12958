//! The one way in for every face (DESIGN.md, "Faces"): a request checked the same way
//! whatever it came by (numbers, text, coding, route, parts), turned into outbox rows in
//! Gammu's layout, and queued with [`Service::submit`] in one commit, so that a face
//! answers (HTTP 202, `submit_sm_resp`, an AMQP ack) only after the commit.

use std::time::Duration;

use crate::compose::{self, ComposeError, InjectOptions};
use crate::config::Config;
use crate::pdu::{self, Address, Alphabet, Dcs, MessageClass, Submit, Udh, UserData, Validity};
use crate::service::{
    Coding, NewMessage, NewPart, ReportRequest, Service, StorageError, Submission, Submitted,
};

/// What the message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    /// 8-bit data (Kannel's `coding=1`).
    Binary(Vec<u8>),
}

/// A message as a face received it, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Recipients: one message each.
    pub to: Vec<String>,
    pub body: Body,
    /// UCS-2 even when GSM 7-bit would do.
    pub unicode: bool,
    /// Message class (0 is a flash message shown at once).
    pub class: Option<u8>,
    /// A status report: `None` follows `[sending] delivery_reports`.
    pub report: Option<bool>,
    /// How long the network keeps trying; `None` for the configured default.
    pub validity: Option<Duration>,
    /// Not before this many seconds from now.
    pub delay_secs: u32,
    /// The route (phone or transport id) that must send it; `None` for any.
    pub route: Option<String>,
    /// A user data header the client wrote (ports, its own concatenation): the message is
    /// then one part, sent as given.
    pub udh: Option<Vec<u8>>,
    /// Higher goes first.
    pub priority: i32,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            to: Vec::new(),
            body: Body::Text(String::new()),
            unicode: false,
            class: None,
            report: None,
            validity: None,
            delay_secs: 0,
            route: None,
            udh: None,
            priority: 0,
        }
    }
}

/// Why a request is refused; each face words it its own way (Kannel's texts, JSON, SMPP
/// command_status).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("no recipient given")]
    NoRecipient,
    #[error("too many recipients: {0}, at most {MAX_RECIPIENTS} per request")]
    TooManyRecipients(usize),
    #[error("recipient {number:?} is not a phone number: {reason}")]
    BadNumber { number: String, reason: String },
    #[error("the message text is empty")]
    Empty,
    #[error("the text needs {needed} messages, more than the {max} allowed")]
    TooManyParts { needed: usize, max: usize },
    #[error("{0}")]
    BadContent(String),
    #[error("route {route:?} is no phone or transport of this gateway (known: {known})")]
    UnknownRoute { route: String, known: String },
    #[error("route {0:?} is not allowed for this user")]
    RouteNotAllowed(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Most recipients one request may name (each is a message and a row).
pub const MAX_RECIPIENTS: usize = 1000;

/// What a face knows of who asks.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    /// The routes the caller may use; empty for all.
    pub routes: &'a [String],
    /// Most parts a message may need.
    pub max_parts: usize,
}

/// Checks `req` against the config and the caller, and builds its outbox rows (one
/// message per recipient).
pub fn compose(
    cfg: &Config,
    caller: &Caller<'_>,
    req: &Request,
) -> Result<Vec<NewMessage>, SubmitError> {
    if req.to.is_empty() {
        return Err(SubmitError::NoRecipient);
    }
    if req.to.len() > MAX_RECIPIENTS {
        return Err(SubmitError::TooManyRecipients(req.to.len()));
    }
    if let Some(route) = &req.route {
        let known = cfg.route_ids();
        if !known.is_empty() && !known.contains(&route.as_str()) {
            return Err(SubmitError::UnknownRoute {
                route: route.clone(),
                known: known.join(", "),
            });
        }
        if !caller.routes.is_empty() && !caller.routes.contains(route) {
            return Err(SubmitError::RouteNotAllowed(route.clone()));
        }
    }
    // A user held to some routes and naming none sends through the first of them (then
    // failover as configured for that route).
    let route = req.route.clone().or_else(|| caller.routes.first().cloned());
    let validity = match req.validity {
        Some(d) => Validity::relative(d),
        None => cfg.sending.validity,
    };
    let relative_validity = match validity {
        Validity::Relative(v) => i32::from(v),
        _ => -1,
    };
    let class = match req.class {
        Some(c) => Some(
            MessageClass::from_number(c)
                .ok_or_else(|| SubmitError::BadContent(format!("message class {c} is not 0-3")))?,
        ),
        None => None,
    };
    let mut msgs = Vec::with_capacity(req.to.len());
    for number in &req.to {
        let destination = Address::number(number).map_err(|e| SubmitError::BadNumber {
            number: number.clone(),
            reason: match e {
                pdu::EncodeError::BadAddress { reason, .. } => reason.to_string(),
                e => e.to_string(),
            },
        })?;
        let parts = parts(&destination, req, class, caller.max_parts)?;
        msgs.push(NewMessage {
            destination: destination.to_string(),
            parts,
            sender_id: route.clone(),
            creator_id: String::new(),
            delivery_report: match req.report {
                Some(true) => ReportRequest::Yes,
                Some(false) => ReportRequest::No,
                None => ReportRequest::Default,
            },
            relative_validity,
            priority: req.priority,
            delay_secs: req.delay_secs,
        });
    }
    Ok(msgs)
}

/// The rows of one message: split text, split binary, or one part with the client's UDH.
fn parts(
    destination: &Address,
    req: &Request,
    class: Option<MessageClass>,
    max_parts: usize,
) -> Result<Vec<NewPart>, SubmitError> {
    let class_col = class.map_or(-1, |c| i32::from(c.number()));
    if let Some(udh) = &req.udh {
        return one_part_with_udh(destination, req, class, udh).map(|p| vec![p]);
    }
    match &req.body {
        Body::Text(text) => {
            let msg = compose::new_message(
                &destination.to_string(),
                text,
                &InjectOptions {
                    unicode: req.unicode,
                    flash: class == Some(MessageClass::Class0),
                    max_parts: Some(max_parts),
                    reference: compose::new_reference(),
                    ..InjectOptions::default()
                },
            )
            .map_err(|e| match e {
                ComposeError::Empty => SubmitError::Empty,
                ComposeError::TooManyParts { parts, max } => {
                    SubmitError::TooManyParts { needed: parts, max }
                }
                ComposeError::Number(e) | ComposeError::Encode(e) => {
                    SubmitError::BadContent(e.to_string())
                }
            })?;
            Ok(msg
                .parts
                .into_iter()
                .map(|p| NewPart {
                    class: class_col,
                    ..p
                })
                .collect())
        }
        Body::Binary(data) => {
            if data.is_empty() {
                return Err(SubmitError::Empty);
            }
            let mut template = Submit::new(destination.clone(), "");
            template.dcs = Dcs::new(Alphabet::Eight, class);
            let split = pdu::split_data(
                &template,
                data,
                pdu::ConcatRef::Eight(compose::new_reference() as u8),
            )
            .map_err(|e| SubmitError::BadContent(e.to_string()))?;
            if split.len() > max_parts {
                return Err(SubmitError::TooManyParts {
                    needed: split.len(),
                    max: max_parts,
                });
            }
            Ok(split
                .iter()
                .map(|p| NewPart {
                    text_hex: Some(match &p.user_data {
                        UserData::Binary(d) => pdu::to_hex(d),
                        UserData::Text(_) => String::new(),
                    }),
                    text_decoded: String::new(),
                    coding: Coding::EightBit,
                    udh_hex: p.udh.as_ref().map(|u| pdu::to_hex(&u.to_bytes())),
                    class: class_col,
                })
                .collect())
        }
    }
}

fn one_part_with_udh(
    destination: &Address,
    req: &Request,
    class: Option<MessageClass>,
    udh: &[u8],
) -> Result<NewPart, SubmitError> {
    let (header, len) =
        Udh::decode(udh, 0).map_err(|e| SubmitError::BadContent(format!("udh: {e}")))?;
    if len != udh.len() {
        return Err(SubmitError::BadContent(
            "udh has octets after its declared length".into(),
        ));
    }
    let (alphabet, user_data) = match &req.body {
        Body::Binary(d) => (Alphabet::Eight, UserData::Binary(d.clone())),
        Body::Text(t) if req.unicode || !pdu::gsm7::is_gsm7(t) => {
            (Alphabet::Ucs2, UserData::Text(t.clone()))
        }
        Body::Text(t) => (Alphabet::Gsm7, UserData::Text(t.clone())),
    };
    let mut submit = Submit::new(destination.clone(), "");
    submit.dcs = Dcs::new(alphabet, class);
    submit.udh = Some(header);
    submit.user_data = user_data.clone();
    // The client's header is sent as given: the whole must fit one PDU.
    submit
        .encode()
        .map_err(|e| SubmitError::BadContent(format!("with the udh given, {e}")))?;
    let class_col = class.map_or(-1, |c| i32::from(c.number()));
    Ok(match user_data {
        UserData::Binary(d) => NewPart {
            text_hex: Some(pdu::to_hex(&d)),
            text_decoded: String::new(),
            coding: Coding::EightBit,
            udh_hex: Some(pdu::to_hex(udh)),
            class: class_col,
        },
        UserData::Text(t) => NewPart {
            text_hex: Some(compose::ucs2_hex(&t)),
            text_decoded: t,
            coding: Coding::from_alphabet(alphabet),
            udh_hex: Some(pdu::to_hex(udh)),
            class: class_col,
        },
    })
}

/// Checks and queues `req` in one commit: the ids once committed.
pub async fn submit(
    storage: &dyn Service,
    cfg: &Config,
    caller: &Caller<'_>,
    req: &Request,
    how: &Submission,
) -> Result<Submitted, SubmitError> {
    let mut msgs = compose(cfg, caller, req)?;
    for m in &mut msgs {
        m.creator_id = format!("smsgw-{} {}", how.face, how.owner);
    }
    match storage.submit(&msgs, how).await {
        // The same key committed by a request running at the same moment: its ids.
        Err(StorageError::Data(_)) if how.idempotency_key.is_some() => {
            Ok(storage.submit(&msgs, how).await?)
        }
        r => Ok(r?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::parse(
            "[[phone]]\nid = \"m1\"\ndevice = \"/dev/null\"\n[[phone]]\nid = \"m2\"\ndevice = \"/dev/null\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    const ANYONE: Caller<'static> = Caller {
        routes: &[],
        max_parts: 3,
    };

    fn text(to: &[&str], t: &str) -> Request {
        Request {
            to: to.iter().map(|s| s.to_string()).collect(),
            body: Body::Text(t.into()),
            ..Request::default()
        }
    }

    #[test]
    fn one_message_per_recipient_split_gammu_s_way() {
        let msgs = compose(
            &cfg(),
            &ANYONE,
            &text(&["+4790000001", "004790000002"], &"x".repeat(200)),
        )
        .unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].parts.len(), 2);
        assert!(msgs[0].parts[0]
            .udh_hex
            .as_deref()
            .unwrap()
            .starts_with("050003"));
        assert_eq!(msgs[1].destination, "+4790000002", "00 is written as +");
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let e = |r: Request, c: &Caller<'_>| compose(&cfg(), c, &r).unwrap_err().to_string();
        assert_eq!(e(text(&[], "hi"), &ANYONE), "no recipient given");
        assert!(e(text(&["+47abc"], "hi"), &ANYONE)
            .starts_with("recipient \"+47abc\" is not a phone number"));
        assert_eq!(
            e(text(&["+4790000001"], ""), &ANYONE),
            "the message text is empty"
        );
        assert_eq!(
            e(text(&["+4790000001"], &"x".repeat(600)), &ANYONE),
            "the text needs 4 messages, more than the 3 allowed"
        );
        let mut r = text(&["+4790000001"], "hi");
        r.route = Some("m9".into());
        assert_eq!(
            e(r.clone(), &ANYONE),
            "route \"m9\" is no phone or transport of this gateway (known: m1, m2)"
        );
        r.route = Some("m2".into());
        let only_m1 = ["m1".to_string()];
        let held = Caller {
            routes: &only_m1,
            max_parts: 3,
        };
        assert_eq!(e(r, &held), "route \"m2\" is not allowed for this user");
        // Without a route, a user held to routes sends through its first.
        let m = compose(&cfg(), &held, &text(&["+4790000001"], "hi")).unwrap();
        assert_eq!(m[0].sender_id.as_deref(), Some("m1"));
    }

    #[test]
    fn a_client_udh_is_sent_as_given_in_one_part() {
        let mut r = text(&["+4790000001"], "");
        r.body = Body::Binary(vec![0xde, 0xad]);
        r.udh = Some(vec![0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0]);
        let m = compose(&cfg(), &ANYONE, &r).unwrap();
        assert_eq!(m[0].parts.len(), 1);
        assert_eq!(m[0].parts[0].udh_hex.as_deref(), Some("0605040B8423F0"));
        assert_eq!(m[0].parts[0].coding, Coding::EightBit);
        r.body = Body::Binary(vec![0; 140]);
        assert!(compose(&cfg(), &ANYONE, &r)
            .unwrap_err()
            .to_string()
            .starts_with("with the udh given"));
    }
}
