//! SMS-DELIVER (GSM 03.40 9.2.2.1): a message from the SMSC to the phone.

use super::address::Address;
use super::dcs::{Dcs, MessageClass};
use super::error::{EncodeError, PduError};
use super::reader::Reader;
use super::time::Scts;
use super::ud::{self, UserData};
use super::udh::{Concat, Udh};
use super::Encoded;

/// TP-MTI of SMS-DELIVER.
pub(crate) const MTI: u8 = 0x00;

/// An SMS-DELIVER: a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliver {
    /// The SMSC that delivered it, when the modem reports it.
    pub smsc: Option<Address>,
    /// TP-MMS cleared: the SMSC has more messages waiting.
    pub more_messages: bool,
    /// TP-LP, loop prevention.
    pub loop_prevention: bool,
    /// TP-RP: a reply path exists.
    pub reply_path: bool,
    /// TP-SRI: the sender asked for a status report.
    pub status_report_indication: bool,
    /// TP-OA, the sender.
    pub originator: Address,
    pub pid: u8,
    pub dcs: Dcs,
    /// TP-SCTS: when the SMSC received it.
    pub scts: Scts,
    pub udh: Option<Udh>,
    pub user_data: UserData,
}

impl Deliver {
    /// The concatenation element, when this is a part of a longer message.
    pub fn concat(&self) -> Option<Concat> {
        self.udh.as_ref().and_then(Udh::concat_info)
    }

    /// The message class (class 0 = flash).
    pub fn class(&self) -> Option<MessageClass> {
        self.dcs.class()
    }

    fn first_octet(&self) -> u8 {
        let mut b = MTI;
        if !self.more_messages {
            b |= 0x04;
        }
        if self.loop_prevention {
            b |= 0x08;
        }
        if self.status_report_indication {
            b |= 0x20;
        }
        if self.udh.is_some() {
            b |= 0x40;
        }
        if self.reply_path {
            b |= 0x80;
        }
        b
    }

    /// The PDU as a modem lists it: SMSC prefix, then the TPDU (what the simulated modem
    /// stores for a received message).
    pub fn encode(&self) -> Result<Encoded, EncodeError> {
        let mut out = Vec::with_capacity(176);
        Address::encode_smsc(self.smsc.as_ref(), &mut out)?;
        let smsc_len = out.len();
        out.push(self.first_octet());
        self.originator.encode_tp(&mut out)?;
        out.push(self.pid);
        out.push(self.dcs.0);
        self.scts.encode(&mut out);
        ud::encode(self.dcs, self.udh.as_ref(), &self.user_data, &mut out)?;
        Ok(Encoded {
            bytes: out,
            smsc_len,
        })
    }

    pub(crate) fn decode_tpdu(
        r: &mut Reader<'_>,
        smsc: Option<Address>,
    ) -> Result<Deliver, PduError> {
        let first = r.u8("first octet")?;
        let originator = Address::decode_tp(r, "TP-OA")?;
        let pid = r.u8("TP-PID")?;
        let dcs = Dcs(r.u8("TP-DCS")?);
        let scts = Scts::decode(r, "TP-SCTS")?;
        let (udh, user_data) = ud::decode(r, dcs, first & 0x40 != 0)?;
        Ok(Deliver {
            smsc,
            more_messages: first & 0x04 == 0,
            loop_prevention: first & 0x08 != 0,
            reply_path: first & 0x80 != 0,
            status_report_indication: first & 0x20 != 0,
            originator,
            pid,
            dcs,
            scts,
            udh,
            user_data,
        })
    }
}
