//! A bounds-checked cursor over PDU octets: every read either succeeds or returns a
//! [`PduError`] naming the field and the octet.

use super::error::{PduError, PduErrorKind};

pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Read past what libGammu reads past (see `DecodeOptions::lenient`).
    pub(crate) lenient: bool,
    /// What was off in a PDU that still decoded (read past, as libGammu does).
    pub(crate) quirks: Vec<String>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            lenient: false,
            quirks: Vec::new(),
        }
    }

    /// Notes something off that the decoder read past.
    pub(crate) fn quirk(&mut self, what: String) {
        self.quirks.push(what);
    }

    /// Current offset into the input.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn error(&self, kind: PduErrorKind) -> PduError {
        PduError::new(self.pos, kind)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, PduError> {
        let b = *self.data.get(self.pos).ok_or_else(|| {
            self.error(PduErrorKind::Truncated {
                field,
                needed: 1,
                available: 0,
            })
        })?;
        self.pos += 1;
        Ok(b)
    }

    /// The next octet without consuming it.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], PduError> {
        if n > self.remaining() {
            return Err(self.error(PduErrorKind::Truncated {
                field,
                needed: n,
                available: self.remaining(),
            }));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Everything left, consumed.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.pos..];
        self.pos = self.data.len();
        s
    }
}
