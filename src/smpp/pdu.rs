//! SMPP 3.4 PDUs: the ones an ESME (our client side, `transport::smpp`) and an SMSC (our
//! server side, `face::smpp_server`) send and receive.
//!
//! A PDU is a 16-octet header (command_length, command_id, command_status,
//! sequence_number, all big-endian u32) and a body of mandatory fields (C-octet strings,
//! NUL-terminated, with the spec's maximum lengths; integers) followed by optional TLVs
//! (tag u16, length u16, value). Decoding takes any bytes from the network: every length is
//! checked, nothing panics, and a PDU we do not use is kept as [`Body::Other`] so that the
//! session can answer it with `generic_nack`.

use std::fmt;

/// command_id values.
pub mod cmd {
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    pub const BIND_RECEIVER_RESP: u32 = 0x8000_0001;
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    pub const BIND_TRANSMITTER_RESP: u32 = 0x8000_0002;
    pub const QUERY_SM: u32 = 0x0000_0003;
    pub const QUERY_SM_RESP: u32 = 0x8000_0003;
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
    pub const DELIVER_SM: u32 = 0x0000_0005;
    pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
    pub const UNBIND: u32 = 0x0000_0006;
    pub const UNBIND_RESP: u32 = 0x8000_0006;
    pub const CANCEL_SM: u32 = 0x0000_0008;
    pub const CANCEL_SM_RESP: u32 = 0x8000_0008;
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;
    pub const DATA_SM: u32 = 0x0000_0103;
    pub const DATA_SM_RESP: u32 = 0x8000_0103;
}

/// command_status values we act on.
pub mod status {
    pub const ESME_ROK: u32 = 0x0000_0000;
    /// Message length is invalid.
    pub const ESME_RINVMSGLEN: u32 = 0x0000_0001;
    /// Command length is invalid.
    pub const ESME_RINVCMDLEN: u32 = 0x0000_0002;
    /// Invalid command id.
    pub const ESME_RINVCMDID: u32 = 0x0000_0003;
    /// Incorrect bind status for the command.
    pub const ESME_RINVBNDSTS: u32 = 0x0000_0004;
    /// Already bound.
    pub const ESME_RALYBND: u32 = 0x0000_0005;
    /// System error.
    pub const ESME_RSYSERR: u32 = 0x0000_0008;
    /// Invalid source address.
    pub const ESME_RINVSRCADR: u32 = 0x0000_000A;
    /// Invalid destination address.
    pub const ESME_RINVDSTADR: u32 = 0x0000_000B;
    /// Invalid message id.
    pub const ESME_RINVMSGID: u32 = 0x0000_000C;
    /// Invalid password.
    pub const ESME_RINVPASWD: u32 = 0x0000_000E;
    /// Invalid system id.
    pub const ESME_RINVSYSID: u32 = 0x0000_000F;
    /// Bind failed.
    pub const ESME_RBINDFAIL: u32 = 0x0000_000D;
    /// cancel_sm failed.
    pub const ESME_RCANCELFAIL: u32 = 0x0000_0011;
    /// The SMSC's message queue is full.
    pub const ESME_RMSGQFUL: u32 = 0x0000_0014;
    /// Invalid esm_class.
    pub const ESME_RINVESMCLASS: u32 = 0x0000_0043;
    /// Submit failed.
    pub const ESME_RSUBMITFAIL: u32 = 0x0000_0045;
    /// Throttling error: the ESME exceeded its allowed message rate.
    pub const ESME_RTHROTTLED: u32 = 0x0000_0058;
    /// Invalid scheduled delivery time.
    pub const ESME_RINVSCHED: u32 = 0x0000_0061;
    /// Invalid validity period.
    pub const ESME_RINVEXPIRY: u32 = 0x0000_0062;
    /// The receipt or message could not be handled now: deliver it again later.
    pub const ESME_RX_T_APPN: u32 = 0x0000_0064;
    pub const ESME_RX_P_APPN: u32 = 0x0000_0065;
    /// query_sm failed.
    pub const ESME_RQUERYFAIL: u32 = 0x0000_0067;
    /// Invalid data_coding (SMPP 5.0's code; 3.4 has none for it).
    pub const ESME_RINVDCS: u32 = 0x0000_0104;
}

/// TLV tags we use.
pub mod tag {
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const NETWORK_ERROR_CODE: u16 = 0x0423;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const MESSAGE_STATE: u16 = 0x0427;
}

/// The largest PDU we accept (a 64 KiB message_payload and the rest).
pub const MAX_PDU: usize = 70_000;

/// Why bytes are not a PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduError {
    /// command_length below 16 or above [`MAX_PDU`].
    BadLength(u32),
    /// The body ended inside `field`.
    Truncated(&'static str),
    /// A C-octet string longer than the spec allows, or without its NUL.
    BadString(&'static str),
    /// A TLV whose length runs past the PDU.
    BadTlv(u16),
    /// A field that cannot be encoded (too long).
    TooLong(&'static str),
}

impl fmt::Display for PduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PduError::BadLength(n) => {
                write!(f, "command_length {n} is not between 16 and {MAX_PDU}")
            }
            PduError::Truncated(field) => write!(f, "the PDU ends inside {field}"),
            PduError::BadString(field) => write!(
                f,
                "{field} is not a NUL-terminated string of the allowed length"
            ),
            PduError::BadTlv(t) => write!(f, "TLV 0x{t:04X} runs past the end of the PDU"),
            PduError::TooLong(field) => write!(f, "{field} is too long for SMPP"),
        }
    }
}

impl std::error::Error for PduError {}

/// An optional parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Vec<u8>,
}

impl Tlv {
    pub fn new(tag: u16, value: impl Into<Vec<u8>>) -> Tlv {
        Tlv {
            tag,
            value: value.into(),
        }
    }
    pub fn u8(tag: u16, v: u8) -> Tlv {
        Tlv::new(tag, vec![v])
    }
    pub fn u16(tag: u16, v: u16) -> Tlv {
        Tlv::new(tag, v.to_be_bytes().to_vec())
    }
}

/// An address: type of number, numbering plan, digits or a name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addr {
    pub ton: u8,
    pub npi: u8,
    pub addr: String,
}

/// A bind request (transmitter, receiver or transceiver).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bind {
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: String,
}

/// The fields of submit_sm and deliver_sm (the same layout).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sm {
    pub service_type: String,
    pub source: Addr,
    pub destination: Addr,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    pub short_message: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

/// The fields of data_sm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSm {
    pub service_type: String,
    pub source: Addr,
    pub destination: Addr,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub tlvs: Vec<Tlv>,
}

/// query_sm: which message, and who submitted it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySm {
    pub message_id: String,
    pub source: Addr,
}

/// query_sm_resp: where the message stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySmResp {
    pub message_id: String,
    /// When it reached its final state (`YYMMDDhhmmss000+`), empty while not final.
    pub final_date: String,
    /// 1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED, 5 UNDELIVERABLE, 6 ACCEPTED,
    /// 7 UNKNOWN, 8 REJECTED.
    pub message_state: u8,
    pub error_code: u8,
}

/// cancel_sm: a message by its id (the addresses as submitted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelSm {
    pub service_type: String,
    pub message_id: String,
    pub source: Addr,
    pub destination: Addr,
}

/// A PDU's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    BindTransmitter(Bind),
    BindReceiver(Bind),
    BindTransceiver(Bind),
    /// Any bind response: the SMSC's system_id (absent on some errors) and TLVs.
    BindResp {
        system_id: String,
        tlvs: Vec<Tlv>,
    },
    Unbind,
    UnbindResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSm(Sm),
    DeliverSm(Sm),
    DataSm(DataSm),
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    CancelSm(CancelSm),
    CancelSmResp,
    /// submit_sm_resp, deliver_sm_resp, data_sm_resp: a message id (empty on errors) and
    /// TLVs (data_sm_resp).
    Resp {
        message_id: String,
        tlvs: Vec<Tlv>,
    },
    /// A PDU we do not use; its body as received.
    Other(Vec<u8>),
}

/// A whole PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub command_id: u32,
    pub status: u32,
    pub sequence: u32,
    pub body: Body,
}

/// Whether `command_id` is a response (bit 31).
pub fn is_response(command_id: u32) -> bool {
    command_id & 0x8000_0000 != 0
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.b.len()
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, PduError> {
        let v = *self.b.get(self.at).ok_or(PduError::Truncated(field))?;
        self.at += 1;
        Ok(v)
    }
    fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], PduError> {
        let end = self.at.checked_add(n).ok_or(PduError::Truncated(field))?;
        let v = self.b.get(self.at..end).ok_or(PduError::Truncated(field))?;
        self.at = end;
        Ok(v)
    }
    /// A C-octet string of at most `max` octets including the NUL; read as Latin-1 when it
    /// is not UTF-8 (system ids and addresses are ASCII in practice).
    fn cstr(&mut self, max: usize, field: &'static str) -> Result<String, PduError> {
        let rest = self.b.get(self.at..).ok_or(PduError::Truncated(field))?;
        let nul = rest
            .iter()
            .take(max)
            .position(|&c| c == 0)
            .ok_or(PduError::BadString(field))?;
        let s = &rest[..nul];
        self.at += nul + 1;
        Ok(match std::str::from_utf8(s) {
            Ok(t) => t.to_string(),
            Err(_) => s.iter().map(|&c| c as char).collect(),
        })
    }
    fn addr(&mut self, field: &'static str) -> Result<Addr, PduError> {
        Ok(Addr {
            ton: self.u8(field)?,
            npi: self.u8(field)?,
            addr: self.cstr(21, field)?,
        })
    }
    fn tlvs(&mut self) -> Result<Vec<Tlv>, PduError> {
        let mut v = Vec::new();
        while !self.done() {
            let head = self.bytes(4, "a TLV header")?;
            let tag = u16::from_be_bytes([head[0], head[1]]);
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let value = self
                .bytes(len, "a TLV")
                .map_err(|_| PduError::BadTlv(tag))?;
            v.push(Tlv::new(tag, value.to_vec()));
        }
        Ok(v)
    }
}

fn bind(r: &mut Reader) -> Result<Bind, PduError> {
    Ok(Bind {
        system_id: r.cstr(16, "system_id")?,
        password: r.cstr(9, "password")?,
        system_type: r.cstr(13, "system_type")?,
        interface_version: r.u8("interface_version")?,
        addr_ton: r.u8("addr_ton")?,
        addr_npi: r.u8("addr_npi")?,
        address_range: r.cstr(41, "address_range")?,
    })
}

fn sm(r: &mut Reader) -> Result<Sm, PduError> {
    let mut m = Sm {
        service_type: r.cstr(6, "service_type")?,
        source: r.addr("source_addr")?,
        destination: r.addr("destination_addr")?,
        esm_class: r.u8("esm_class")?,
        protocol_id: r.u8("protocol_id")?,
        priority_flag: r.u8("priority_flag")?,
        schedule_delivery_time: r.cstr(17, "schedule_delivery_time")?,
        validity_period: r.cstr(17, "validity_period")?,
        registered_delivery: r.u8("registered_delivery")?,
        replace_if_present_flag: r.u8("replace_if_present_flag")?,
        data_coding: r.u8("data_coding")?,
        sm_default_msg_id: r.u8("sm_default_msg_id")?,
        ..Sm::default()
    };
    let len = usize::from(r.u8("sm_length")?);
    m.short_message = r.bytes(len, "short_message")?.to_vec();
    m.tlvs = r.tlvs()?;
    Ok(m)
}

impl Pdu {
    /// A request or response with status 0.
    pub fn new(command_id: u32, sequence: u32, body: Body) -> Pdu {
        Pdu {
            command_id,
            status: status::ESME_ROK,
            sequence,
            body,
        }
    }

    /// Decodes one whole PDU (header included).
    pub fn decode(b: &[u8]) -> Result<Pdu, PduError> {
        if b.len() < 16 {
            return Err(PduError::Truncated("the header"));
        }
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let len = word(0);
        if len < 16 || len as usize > MAX_PDU {
            return Err(PduError::BadLength(len));
        }
        if (len as usize) > b.len() {
            return Err(PduError::Truncated("the body"));
        }
        let (command_id, status, sequence) = (word(4), word(8), word(12));
        let body_bytes = &b[16..len as usize];
        let mut r = Reader {
            b: body_bytes,
            at: 0,
        };
        // A failed response may come without its body.
        let empty_error = status != status::ESME_ROK && body_bytes.is_empty();
        let body = match command_id {
            cmd::BIND_TRANSMITTER => Body::BindTransmitter(bind(&mut r)?),
            cmd::BIND_RECEIVER => Body::BindReceiver(bind(&mut r)?),
            cmd::BIND_TRANSCEIVER => Body::BindTransceiver(bind(&mut r)?),
            cmd::BIND_TRANSMITTER_RESP | cmd::BIND_RECEIVER_RESP | cmd::BIND_TRANSCEIVER_RESP => {
                if empty_error {
                    Body::BindResp {
                        system_id: String::new(),
                        tlvs: Vec::new(),
                    }
                } else {
                    Body::BindResp {
                        system_id: r.cstr(16, "system_id")?,
                        tlvs: r.tlvs()?,
                    }
                }
            }
            cmd::UNBIND => Body::Unbind,
            cmd::UNBIND_RESP => Body::UnbindResp,
            cmd::ENQUIRE_LINK => Body::EnquireLink,
            cmd::ENQUIRE_LINK_RESP => Body::EnquireLinkResp,
            cmd::GENERIC_NACK => Body::GenericNack,
            cmd::SUBMIT_SM => Body::SubmitSm(sm(&mut r)?),
            cmd::QUERY_SM => Body::QuerySm(QuerySm {
                message_id: r.cstr(65, "message_id")?,
                source: r.addr("source_addr")?,
            }),
            cmd::QUERY_SM_RESP if empty_error => Body::QuerySmResp(QuerySmResp::default()),
            cmd::QUERY_SM_RESP => Body::QuerySmResp(QuerySmResp {
                message_id: r.cstr(65, "message_id")?,
                final_date: r.cstr(17, "final_date")?,
                message_state: r.u8("message_state")?,
                error_code: r.u8("error_code")?,
            }),
            cmd::CANCEL_SM => Body::CancelSm(CancelSm {
                service_type: r.cstr(6, "service_type")?,
                message_id: r.cstr(65, "message_id")?,
                source: r.addr("source_addr")?,
                destination: r.addr("destination_addr")?,
            }),
            cmd::CANCEL_SM_RESP => Body::CancelSmResp,
            cmd::DELIVER_SM => Body::DeliverSm(sm(&mut r)?),
            cmd::DATA_SM => Body::DataSm(DataSm {
                service_type: r.cstr(6, "service_type")?,
                source: r.addr("source_addr")?,
                destination: r.addr("destination_addr")?,
                esm_class: r.u8("esm_class")?,
                registered_delivery: r.u8("registered_delivery")?,
                data_coding: r.u8("data_coding")?,
                tlvs: r.tlvs()?,
            }),
            cmd::SUBMIT_SM_RESP | cmd::DELIVER_SM_RESP | cmd::DATA_SM_RESP => {
                if empty_error {
                    Body::Resp {
                        message_id: String::new(),
                        tlvs: Vec::new(),
                    }
                } else {
                    Body::Resp {
                        message_id: r.cstr(65, "message_id")?,
                        tlvs: r.tlvs()?,
                    }
                }
            }
            _ => Body::Other(body_bytes.to_vec()),
        };
        Ok(Pdu {
            command_id,
            status,
            sequence,
            body,
        })
    }

    /// Encodes the PDU (header included).
    pub fn encode(&self) -> Result<Vec<u8>, PduError> {
        let mut b = vec![0u8; 16];
        b[4..8].copy_from_slice(&self.command_id.to_be_bytes());
        b[8..12].copy_from_slice(&self.status.to_be_bytes());
        b[12..16].copy_from_slice(&self.sequence.to_be_bytes());
        let cstr = |b: &mut Vec<u8>, s: &str, max: usize, field: &'static str| {
            if s.len() + 1 > max || s.as_bytes().contains(&0) {
                return Err(PduError::TooLong(field));
            }
            b.extend_from_slice(s.as_bytes());
            b.push(0);
            Ok(())
        };
        let addr = |b: &mut Vec<u8>, a: &Addr, field: &'static str| {
            b.push(a.ton);
            b.push(a.npi);
            cstr(b, &a.addr, 21, field)
        };
        let tlvs = |b: &mut Vec<u8>, tlvs: &[Tlv]| {
            for t in tlvs {
                let len = u16::try_from(t.value.len()).map_err(|_| PduError::TooLong("a TLV"))?;
                b.extend_from_slice(&t.tag.to_be_bytes());
                b.extend_from_slice(&len.to_be_bytes());
                b.extend_from_slice(&t.value);
            }
            Ok(())
        };
        match &self.body {
            Body::BindTransmitter(x) | Body::BindReceiver(x) | Body::BindTransceiver(x) => {
                cstr(&mut b, &x.system_id, 16, "system_id")?;
                cstr(&mut b, &x.password, 9, "password")?;
                cstr(&mut b, &x.system_type, 13, "system_type")?;
                b.extend_from_slice(&[x.interface_version, x.addr_ton, x.addr_npi]);
                cstr(&mut b, &x.address_range, 41, "address_range")?;
            }
            Body::BindResp { system_id, tlvs: t } => {
                cstr(&mut b, system_id, 16, "system_id")?;
                tlvs(&mut b, t)?;
            }
            Body::Unbind
            | Body::UnbindResp
            | Body::EnquireLink
            | Body::EnquireLinkResp
            | Body::GenericNack
            | Body::CancelSmResp => {}
            Body::QuerySm(q) => {
                cstr(&mut b, &q.message_id, 65, "message_id")?;
                addr(&mut b, &q.source, "source_addr")?;
            }
            Body::QuerySmResp(q) => {
                cstr(&mut b, &q.message_id, 65, "message_id")?;
                cstr(&mut b, &q.final_date, 17, "final_date")?;
                b.extend_from_slice(&[q.message_state, q.error_code]);
            }
            Body::CancelSm(c) => {
                cstr(&mut b, &c.service_type, 6, "service_type")?;
                cstr(&mut b, &c.message_id, 65, "message_id")?;
                addr(&mut b, &c.source, "source_addr")?;
                addr(&mut b, &c.destination, "destination_addr")?;
            }
            Body::SubmitSm(m) | Body::DeliverSm(m) => {
                cstr(&mut b, &m.service_type, 6, "service_type")?;
                addr(&mut b, &m.source, "source_addr")?;
                addr(&mut b, &m.destination, "destination_addr")?;
                b.extend_from_slice(&[m.esm_class, m.protocol_id, m.priority_flag]);
                cstr(
                    &mut b,
                    &m.schedule_delivery_time,
                    17,
                    "schedule_delivery_time",
                )?;
                cstr(&mut b, &m.validity_period, 17, "validity_period")?;
                b.extend_from_slice(&[
                    m.registered_delivery,
                    m.replace_if_present_flag,
                    m.data_coding,
                    m.sm_default_msg_id,
                ]);
                let len = u8::try_from(m.short_message.len())
                    .ok()
                    .filter(|&n| n <= 254)
                    .ok_or(PduError::TooLong("short_message"))?;
                b.push(len);
                b.extend_from_slice(&m.short_message);
                tlvs(&mut b, &m.tlvs)?;
            }
            Body::DataSm(m) => {
                cstr(&mut b, &m.service_type, 6, "service_type")?;
                addr(&mut b, &m.source, "source_addr")?;
                addr(&mut b, &m.destination, "destination_addr")?;
                b.extend_from_slice(&[m.esm_class, m.registered_delivery, m.data_coding]);
                tlvs(&mut b, &m.tlvs)?;
            }
            Body::Resp {
                message_id,
                tlvs: t,
            } => {
                cstr(&mut b, message_id, 65, "message_id")?;
                tlvs(&mut b, t)?;
            }
            Body::Other(raw) => b.extend_from_slice(raw),
        }
        if b.len() > MAX_PDU {
            return Err(PduError::TooLong("the PDU"));
        }
        let len = b.len() as u32;
        b[0..4].copy_from_slice(&len.to_be_bytes());
        Ok(b)
    }

    /// The TLV with `tag`, if present.
    pub fn tlv(&self, tag: u16) -> Option<&[u8]> {
        let tlvs = match &self.body {
            Body::SubmitSm(m) | Body::DeliverSm(m) => &m.tlvs,
            Body::DataSm(m) => &m.tlvs,
            Body::BindResp { tlvs, .. } | Body::Resp { tlvs, .. } => tlvs,
            _ => return None,
        };
        tlvs.iter()
            .find(|t| t.tag == tag)
            .map(|t| t.value.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn bind_transceiver_as_the_spec_lays_it_out() {
        let p = Pdu::new(
            cmd::BIND_TRANSCEIVER,
            1,
            Body::BindTransceiver(Bind {
                system_id: "smsgw".into(),
                password: "secret".into(),
                system_type: String::new(),
                interface_version: 0x34,
                ..Bind::default()
            }),
        );
        let b = p.encode().unwrap();
        // header: length 34, command 9, status 0, sequence 1
        assert_eq!(&b[..16], &hex("00000022000000090000000000000001")[..]);
        assert_eq!(&b[16..], b"smsgw\0secret\0\0\x34\0\0\0");
        assert_eq!(Pdu::decode(&b).unwrap(), p);
    }

    #[test]
    fn submit_sm_with_tlvs_round_trips() {
        let p = Pdu::new(
            cmd::SUBMIT_SM,
            0x7FFF_FFFF,
            Body::SubmitSm(Sm {
                source: Addr {
                    ton: 5,
                    npi: 0,
                    addr: "NOC".into(),
                },
                destination: Addr {
                    ton: 1,
                    npi: 1,
                    addr: "4799990000".into(),
                },
                esm_class: 0x40,
                registered_delivery: 1,
                data_coding: 8,
                short_message: vec![5, 0, 3, 7, 2, 1, 0, 0x41],
                tlvs: vec![
                    Tlv::u16(tag::SAR_MSG_REF_NUM, 7),
                    Tlv::u8(tag::SAR_TOTAL_SEGMENTS, 2),
                ],
                ..Sm::default()
            }),
        );
        let b = p.encode().unwrap();
        assert_eq!(Pdu::decode(&b).unwrap(), p);
        assert_eq!(p.tlv(tag::SAR_MSG_REF_NUM), Some(&[0, 7][..]));
    }

    #[test]
    fn a_failed_response_without_a_body_decodes() {
        let b = hex("00000010800000090000000e00000001");
        let p = Pdu::decode(&b).unwrap();
        assert_eq!(p.status, status::ESME_RINVPASWD);
        assert!(matches!(p.body, Body::BindResp { .. }));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(Pdu::decode(&[0; 3]), Err(PduError::Truncated("the header")));
        assert_eq!(
            Pdu::decode(&hex("0000000f000000150000000000000001")),
            Err(PduError::BadLength(15))
        );
        // A system_id without its NUL.
        let mut b = hex("00000020800000090000000000000001");
        b.extend_from_slice(b"0123456789abcdef");
        assert_eq!(Pdu::decode(&b), Err(PduError::BadString("system_id")));
        // A TLV running past the end.
        let mut b = hex("0000001a800000040000000000000002");
        b.extend_from_slice(b"1\0\x04\x24\x00\x09x");
        b[3] = b.len() as u8;
        assert_eq!(Pdu::decode(&b), Err(PduError::BadTlv(0x0424)));
        // An unknown command is kept.
        let b = hex("00000014000000210000000000000003deadbeef");
        assert_eq!(Pdu::decode(&b).unwrap().body, Body::Other(hex("deadbeef")));
        // Too long to encode.
        let p = Pdu::new(
            cmd::SUBMIT_SM,
            1,
            Body::SubmitSm(Sm {
                short_message: vec![0; 255],
                ..Sm::default()
            }),
        );
        assert_eq!(p.encode(), Err(PduError::TooLong("short_message")));
    }
}
