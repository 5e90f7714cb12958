//! SMS-SUBMIT (GSM 03.40 9.2.2.2): a message from the phone to the SMSC. Encoded to send,
//! decoded when a modem lists the sent messages it stores.

use super::address::Address;
use super::dcs::{Alphabet, Dcs, MessageClass};
use super::error::{EncodeError, PduError};
use super::reader::Reader;
use super::time::Validity;
use super::ud::{self, UserData};
use super::udh::Udh;
use super::Encoded;

/// TP-MTI of SMS-SUBMIT.
pub(crate) const MTI: u8 = 0x01;

/// An SMS-SUBMIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    /// The SMSC to use; `None` writes `00`, "the modem's default SMSC".
    pub smsc: Option<Address>,
    /// TP-RD: the SMSC should reject a message with the same TP-MR and destination.
    pub reject_duplicates: bool,
    /// TP-RP: replies should go through the same SMSC.
    pub reply_path: bool,
    /// TP-SRR: ask for a status report (delivery report).
    pub status_report_request: bool,
    /// TP-MR, the message reference. Modems assign their own (and return it in `+CMGS: n`);
    /// write 0 when sending through a modem.
    pub message_reference: u8,
    /// TP-DA, the recipient.
    pub destination: Address,
    /// TP-PID, protocol identifier (0 for a normal SMS).
    pub pid: u8,
    pub dcs: Dcs,
    pub validity: Validity,
    pub udh: Option<Udh>,
    pub user_data: UserData,
}

impl Submit {
    /// A plain text message to `destination`: no SMSC (the modem's), GSM 7-bit when the text
    /// fits it and UCS-2 otherwise, no class, no validity, no report.
    pub fn new(destination: Address, text: impl Into<String>) -> Submit {
        let text = text.into();
        let alphabet = if super::gsm7::is_gsm7(&text) {
            Alphabet::Gsm7
        } else {
            Alphabet::Ucs2
        };
        Submit {
            smsc: None,
            reject_duplicates: false,
            reply_path: false,
            status_report_request: false,
            message_reference: 0,
            destination,
            pid: 0,
            dcs: Dcs::new(alphabet, None),
            validity: Validity::None,
            udh: None,
            user_data: UserData::Text(text),
        }
    }

    /// The message class the DCS gives (class 0 = flash).
    pub fn class(&self) -> Option<MessageClass> {
        self.dcs.class()
    }

    fn first_octet(&self) -> u8 {
        let mut b = MTI | self.validity.vpf_bits();
        if self.reject_duplicates {
            b |= 0x04;
        }
        if self.status_report_request {
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

    /// The PDU a modem is given: SMSC prefix, then the TPDU.
    pub fn encode(&self) -> Result<Encoded, EncodeError> {
        let mut out = Vec::with_capacity(176);
        Address::encode_smsc(self.smsc.as_ref(), &mut out)?;
        let smsc_len = out.len();
        out.push(self.first_octet());
        out.push(self.message_reference);
        self.destination.encode_tp(&mut out)?;
        out.push(self.pid);
        out.push(self.dcs.0);
        self.validity.encode(&mut out);
        ud::encode(self.dcs, self.udh.as_ref(), &self.user_data, &mut out)?;
        Ok(Encoded {
            bytes: out,
            smsc_len,
        })
    }

    /// Reads the TPDU after the SMSC prefix (which the caller read into `smsc`).
    pub(crate) fn decode_tpdu(
        r: &mut Reader<'_>,
        smsc: Option<Address>,
    ) -> Result<Submit, PduError> {
        let first = r.u8("first octet")?;
        let message_reference = r.u8("TP-MR")?;
        let destination = Address::decode_tp(r, "TP-DA")?;
        let pid = r.u8("TP-PID")?;
        let dcs = Dcs(r.u8("TP-DCS")?);
        let validity = Validity::decode(first, r)?;
        let (udh, user_data) = ud::decode(r, dcs, first & 0x40 != 0)?;
        Ok(Submit {
            smsc,
            reject_duplicates: first & 0x04 != 0,
            reply_path: first & 0x80 != 0,
            status_report_request: first & 0x20 != 0,
            message_reference,
            destination,
            pid,
            dcs,
            validity,
            udh,
            user_data,
        })
    }
}
