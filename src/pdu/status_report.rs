//! SMS-STATUS-REPORT (GSM 03.40 9.2.2.3): the SMSC's word on a message sent with TP-SRR.

use std::fmt;

use super::address::Address;
use super::dcs::Dcs;
use super::error::{EncodeError, PduError};
use super::reader::Reader;
use super::time::Scts;
use super::ud::{self, UserData};
use super::udh::Udh;
use super::Encoded;

/// TP-MTI of SMS-STATUS-REPORT.
pub(crate) const MTI: u8 = 0x02;

/// What a status report says of the message, from TP-ST (the names of Gammu's `Status`
/// column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// 0x00–0x1F: delivered (or replaced, or forwarded with unknown result).
    DeliveryOK,
    /// 0x20–0x3F: the SMSC is still trying; a final report may follow.
    DeliveryPending,
    /// 0x40–0x7F: the SMSC gave up (0x40–0x5F permanent, 0x60–0x7F temporary but no
    /// longer trying).
    DeliveryFailed,
    /// 0x80–0xFF: reserved or SMSC-specific values.
    DeliveryUnknown,
}

impl DeliveryStatus {
    /// The category of a TP-ST octet.
    pub fn from_status(st: u8) -> DeliveryStatus {
        match st {
            0x00..=0x1F => DeliveryStatus::DeliveryOK,
            0x20..=0x3F => DeliveryStatus::DeliveryPending,
            0x40..=0x7F => DeliveryStatus::DeliveryFailed,
            _ => DeliveryStatus::DeliveryUnknown,
        }
    }

    /// Whether no further report is to be expected for the part.
    pub fn is_final(self) -> bool {
        self != DeliveryStatus::DeliveryPending
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An SMS-STATUS-REPORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub smsc: Option<Address>,
    /// TP-MMS cleared: more messages are waiting.
    pub more_messages: bool,
    pub loop_prevention: bool,
    /// TP-SRQ: the report is about an SMS-COMMAND (set) or an SMS-SUBMIT (clear).
    pub qualifier_command: bool,
    /// TP-MR of the message this report is about.
    pub message_reference: u8,
    /// TP-RA, the recipient of that message.
    pub recipient: Address,
    /// TP-SCTS: when the SMSC received the message.
    pub scts: Scts,
    /// TP-DT: when it was delivered, or the status last changed.
    pub discharge_time: Scts,
    /// TP-ST, raw.
    pub status: u8,
    /// TP-PID, when the parameter indicator says it is present.
    pub pid: Option<u8>,
    /// TP-DCS, when present.
    pub dcs: Option<Dcs>,
    pub udh: Option<Udh>,
    /// TP-UD, when present.
    pub user_data: Option<UserData>,
}

impl StatusReport {
    /// The category of TP-ST.
    pub fn delivery_status(&self) -> DeliveryStatus {
        DeliveryStatus::from_status(self.status)
    }

    /// The PDU as a modem lists it (for the simulated modem's reports).
    pub fn encode(&self) -> Result<Encoded, EncodeError> {
        let mut out = Vec::with_capacity(64);
        Address::encode_smsc(self.smsc.as_ref(), &mut out)?;
        let smsc_len = out.len();
        let mut first = MTI;
        if !self.more_messages {
            first |= 0x04;
        }
        if self.loop_prevention {
            first |= 0x08;
        }
        if self.qualifier_command {
            first |= 0x20;
        }
        if self.udh.is_some() && self.user_data.is_some() {
            first |= 0x40;
        }
        out.push(first);
        out.push(self.message_reference);
        self.recipient.encode_tp(&mut out)?;
        self.scts.encode(&mut out);
        self.discharge_time.encode(&mut out);
        out.push(self.status);
        let mut pi = 0;
        if self.pid.is_some() {
            pi |= 0x01;
        }
        if self.dcs.is_some() {
            pi |= 0x02;
        }
        if self.user_data.is_some() {
            pi |= 0x04;
        }
        if pi != 0 {
            out.push(pi);
            if let Some(p) = self.pid {
                out.push(p);
            }
            if let Some(d) = self.dcs {
                out.push(d.0);
            }
            if let Some(u) = &self.user_data {
                ud::encode(self.dcs.unwrap_or(Dcs(0)), self.udh.as_ref(), u, &mut out)?;
            }
        }
        Ok(Encoded {
            bytes: out,
            smsc_len,
        })
    }

    pub(crate) fn decode_tpdu(
        r: &mut Reader<'_>,
        smsc: Option<Address>,
    ) -> Result<StatusReport, PduError> {
        let first = r.u8("first octet")?;
        let message_reference = r.u8("TP-MR")?;
        let recipient = Address::decode_tp(r, "TP-RA")?;
        let scts = Scts::decode(r, "TP-SCTS")?;
        let discharge_time = Scts::decode(r, "TP-DT")?;
        let status = r.u8("TP-ST")?;
        let mut report = StatusReport {
            smsc,
            more_messages: first & 0x04 == 0,
            loop_prevention: first & 0x08 != 0,
            qualifier_command: first & 0x20 != 0,
            message_reference,
            recipient,
            scts,
            discharge_time,
            status,
            pid: None,
            dcs: None,
            udh: None,
            user_data: None,
        };
        // TP-PI and what it announces are optional; many SMSCs stop after TP-ST, and some
        // pad with octets that are not a parameter indicator. Read them only when whole.
        let Some(pi) = r.peek() else {
            return Ok(report);
        };
        r.u8("TP-PI")?;
        if pi & 0x80 != 0 || pi & 0x78 != 0 {
            // Extension or reserved bits: not a parameter indicator we can trust.
            r.rest();
            return Ok(report);
        }
        if pi & 0x01 != 0 {
            report.pid = Some(r.u8("TP-PID")?);
        }
        if pi & 0x02 != 0 {
            report.dcs = Some(Dcs(r.u8("TP-DCS")?));
        }
        if pi & 0x04 != 0 && r.remaining() > 0 {
            let (udh, data) = ud::decode(r, report.dcs.unwrap_or(Dcs(0)), first & 0x40 != 0)?;
            report.udh = udh;
            report.user_data = Some(data);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_categories_follow_tp_st() {
        assert_eq!(
            DeliveryStatus::from_status(0x00),
            DeliveryStatus::DeliveryOK
        );
        assert_eq!(
            DeliveryStatus::from_status(0x1F),
            DeliveryStatus::DeliveryOK
        );
        assert_eq!(
            DeliveryStatus::from_status(0x20),
            DeliveryStatus::DeliveryPending
        );
        assert_eq!(
            DeliveryStatus::from_status(0x3F),
            DeliveryStatus::DeliveryPending
        );
        assert_eq!(
            DeliveryStatus::from_status(0x40),
            DeliveryStatus::DeliveryFailed
        );
        assert_eq!(
            DeliveryStatus::from_status(0x7F),
            DeliveryStatus::DeliveryFailed
        );
        assert_eq!(
            DeliveryStatus::from_status(0x80),
            DeliveryStatus::DeliveryUnknown
        );
    }
}
