//! SMPP 3.4, the ESME side: the PDUs ([`pdu`]), a `tokio_util` codec framing them on a
//! stream ([`codec`]), delivery receipts ([`receipt`]), what an SMSC delivers
//! ([`deliver`]) and the bound session ([`session`]).
//! The transport that sends through it is `crate::transport::smpp`.

pub mod codec;
pub mod deliver;
pub mod pdu;
pub(crate) mod quickack;
pub mod receipt;
pub mod session;

/// What `data_coding` 0, the SMSC's default alphabet, means to an SMSC (its
/// `default_alphabet` setting); GSM 7-bit text is sent in it and received messages in it are
/// read by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultAlphabet {
    /// GSM 03.38, one septet per octet (most SMSCs).
    #[default]
    Gsm,
    /// GSM 03.38 packed eight septets into seven octets.
    GsmPacked,
    /// ISO-8859-1: GSM text is sent as data_coding 3 (refused when a character has no
    /// Latin-1 code, as `€` has not), data_coding 0 received is read as Latin-1.
    Latin1,
}

impl DefaultAlphabet {
    /// From the config's `default_alphabet`.
    pub fn parse(s: &str) -> Result<DefaultAlphabet, String> {
        match s {
            "" | "gsm" => Ok(DefaultAlphabet::Gsm),
            "gsm-packed" => Ok(DefaultAlphabet::GsmPacked),
            "latin1" => Ok(DefaultAlphabet::Latin1),
            other => Err(format!(
                "default_alphabet: {other:?} is not gsm, gsm-packed or latin1"
            )),
        }
    }
}

/// The fill bits that align packed septets after a header of `udh_octets`.
pub fn fill_bits(udh_octets: usize) -> usize {
    (7 - (udh_octets * 8) % 7) % 7
}
