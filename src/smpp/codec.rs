//! Framing SMPP PDUs on a byte stream (`tokio_util::codec::Framed`): a PDU is as long as its
//! first four octets say. A length outside 16..=[`MAX_PDU`] cannot be resynchronised from,
//! so it is an error that ends the connection; a body that does not decode is handed up as
//! [`Frame::Bad`] with its header, so that the session can answer it with `generic_nack`
//! and go on.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::pdu::{Pdu, PduError, MAX_PDU};

/// What the decoder hands up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Pdu(Pdu),
    /// A PDU whose body does not decode: its command_id and sequence, and why.
    Bad {
        command_id: u32,
        sequence: u32,
        error: PduError,
    },
}

/// The codec; `max` is the longest PDU it takes (at most [`MAX_PDU`]; the SMPP server's
/// `max_pdu`).
#[derive(Debug, Clone, Copy)]
pub struct SmppCodec {
    pub max: usize,
}

impl Default for SmppCodec {
    fn default() -> Self {
        SmppCodec { max: MAX_PDU }
    }
}

/// A broken stream (or I/O).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the stream is not SMPP: {0}")]
    Framing(PduError),
    #[error("cannot encode: {0}")]
    Encode(PduError),
}

impl Decoder for SmppCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        if !(16..=self.max.min(MAX_PDU) as u32).contains(&len) {
            return Err(CodecError::Framing(PduError::BadLength(len)));
        }
        let len = len as usize;
        if src.len() < len {
            src.reserve(len - src.len());
            return Ok(None);
        }
        let bytes = src.split_to(len);
        Ok(Some(match Pdu::decode(&bytes) {
            Ok(p) => Frame::Pdu(p),
            Err(error) => {
                let mut header = &bytes[4..16];
                let command_id = header.get_u32();
                let _status = header.get_u32();
                Frame::Bad {
                    command_id,
                    sequence: header.get_u32(),
                    error,
                }
            }
        }))
    }
}

impl Encoder<&Pdu> for SmppCodec {
    type Error = CodecError;

    fn encode(&mut self, pdu: &Pdu, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.extend_from_slice(&pdu.encode().map_err(CodecError::Encode)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::pdu::{cmd, Body};

    #[test]
    fn frames_split_and_joined_arbitrarily() {
        let a = Pdu::new(cmd::ENQUIRE_LINK, 1, Body::EnquireLink)
            .encode()
            .unwrap();
        let b = Pdu::new(
            cmd::SUBMIT_SM_RESP,
            2,
            Body::Resp {
                message_id: "m-1".into(),
                tlvs: vec![],
            },
        )
        .encode()
        .unwrap();
        let all: Vec<u8> = a.iter().chain(&b).copied().collect();
        for cut in 0..all.len() {
            let mut c = SmppCodec::default();
            let mut buf = BytesMut::from(&all[..cut]);
            let mut got = Vec::new();
            while let Some(f) = c.decode(&mut buf).unwrap() {
                got.push(f);
            }
            buf.extend_from_slice(&all[cut..]);
            while let Some(f) = c.decode(&mut buf).unwrap() {
                got.push(f);
            }
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn a_bad_body_is_a_frame_a_bad_length_an_error() {
        let mut c = SmppCodec::default();
        // submit_sm with a 3-octet body.
        let mut buf = BytesMut::from(
            &b"\x00\x00\x00\x13\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x09abc"[..],
        );
        match c.decode(&mut buf).unwrap() {
            Some(Frame::Bad {
                command_id,
                sequence,
                ..
            }) => assert_eq!((command_id, sequence), (cmd::SUBMIT_SM, 9)),
            other => panic!("{other:?}"),
        }
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x05xxxxxxxx"[..]);
        assert!(matches!(c.decode(&mut buf), Err(CodecError::Framing(_))));
    }
}
