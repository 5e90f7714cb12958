//! The user data header (UDH, GSM 03.40 9.2.3.24): information elements in front of the user
//! data. The codec reads concatenation (8- and 16-bit references), application ports, and
//! keeps every other element as it came.

use std::fmt;

use super::error::{PduError, PduErrorKind};

/// Concatenation: part `seq` of `total` of the message with this `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    pub reference: u16,
    /// Written with the 16-bit reference element (IEI 08) rather than the 8-bit one (00).
    pub sixteen_bit: bool,
    pub total: u8,
    pub seq: u8,
}

/// One information element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UdhElement {
    /// IEI 00 (8-bit reference) or 08 (16-bit reference).
    Concat(Concat),
    /// IEI 04 (8-bit ports) or 05 (16-bit ports), as WAP push and vCards use.
    Ports {
        destination: u16,
        source: u16,
        sixteen_bit: bool,
    },
    /// Any other element, or a known one with a length it should not have.
    Other { iei: u8, data: Vec<u8> },
}

/// A user data header: its elements in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Udh {
    pub elements: Vec<UdhElement>,
}

impl Udh {
    /// A header with one concatenation element.
    pub fn concat(c: Concat) -> Udh {
        Udh {
            elements: vec![UdhElement::Concat(c)],
        }
    }

    /// The concatenation element, if there is a usable one (sequence 1..=total).
    pub fn concat_info(&self) -> Option<Concat> {
        self.elements.iter().find_map(|e| match e {
            UdhElement::Concat(c) if c.seq >= 1 && c.seq <= c.total => Some(*c),
            _ => None,
        })
    }

    /// Encoded length in octets, including the UDHL octet.
    pub fn encoded_len(&self) -> usize {
        1 + self
            .elements
            .iter()
            .map(|e| 2 + element_len(e))
            .sum::<usize>()
    }

    /// Writes UDHL and the elements.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push((self.encoded_len() - 1) as u8);
        for e in &self.elements {
            match e {
                UdhElement::Concat(c) if c.sixteen_bit => {
                    let r = c.reference.to_be_bytes();
                    out.extend_from_slice(&[0x08, 4, r[0], r[1], c.total, c.seq]);
                }
                UdhElement::Concat(c) => {
                    out.extend_from_slice(&[0x00, 3, c.reference as u8, c.total, c.seq]);
                }
                UdhElement::Ports {
                    destination,
                    source,
                    sixteen_bit: true,
                } => {
                    out.extend_from_slice(&[0x05, 4]);
                    out.extend_from_slice(&destination.to_be_bytes());
                    out.extend_from_slice(&source.to_be_bytes());
                }
                UdhElement::Ports {
                    destination,
                    source,
                    sixteen_bit: false,
                } => {
                    out.extend_from_slice(&[0x04, 2, *destination as u8, *source as u8]);
                }
                UdhElement::Other { iei, data } => {
                    out.push(*iei);
                    out.push(data.len() as u8);
                    out.extend_from_slice(data);
                }
            }
        }
    }

    /// The encoded header as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.encoded_len());
        self.encode(&mut v);
        v
    }

    /// Reads a header from `ud` (which starts with UDHL). Returns the header and its length
    /// in octets with the UDHL octet. `base` is `ud`'s offset in the PDU, for errors.
    pub fn decode(ud: &[u8], base: usize) -> Result<(Udh, usize), PduError> {
        let err = |at: usize, msg| PduError::new(base + at, PduErrorKind::BadUdh(msg));
        let udhl = usize::from(*ud.first().ok_or_else(|| err(0, "missing header length"))?);
        if udhl + 1 > ud.len() {
            return Err(err(0, "header length runs past the user data"));
        }
        let body = &ud[1..=udhl];
        let mut elements = Vec::with_capacity(1);
        let mut i = 0;
        while i < body.len() {
            if i + 2 > body.len() {
                return Err(err(1 + i, "element header cut short"));
            }
            let (iei, len) = (body[i], usize::from(body[i + 1]));
            let data = body
                .get(i + 2..i + 2 + len)
                .ok_or_else(|| err(1 + i, "element runs past the header"))?;
            elements.push(match (iei, data) {
                (0x00, &[r, total, seq]) => UdhElement::Concat(Concat {
                    reference: r.into(),
                    sixteen_bit: false,
                    total,
                    seq,
                }),
                (0x08, &[r1, r2, total, seq]) => UdhElement::Concat(Concat {
                    reference: u16::from_be_bytes([r1, r2]),
                    sixteen_bit: true,
                    total,
                    seq,
                }),
                (0x04, &[d, s]) => UdhElement::Ports {
                    destination: d.into(),
                    source: s.into(),
                    sixteen_bit: false,
                },
                (0x05, &[d1, d2, s1, s2]) => UdhElement::Ports {
                    destination: u16::from_be_bytes([d1, d2]),
                    source: u16::from_be_bytes([s1, s2]),
                    sixteen_bit: true,
                },
                _ => UdhElement::Other {
                    iei,
                    data: data.to_vec(),
                },
            });
            i += 2 + len;
        }
        Ok((Udh { elements }, udhl + 1))
    }
}

fn element_len(e: &UdhElement) -> usize {
    match e {
        UdhElement::Concat(c) => {
            if c.sixteen_bit {
                4
            } else {
                3
            }
        }
        UdhElement::Ports { sixteen_bit, .. } => {
            if *sixteen_bit {
                4
            } else {
                2
            }
        }
        UdhElement::Other { data, .. } => data.len(),
    }
}

impl fmt::Display for UdhElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UdhElement::Concat(c) => write!(
                f,
                "concatenated part {}/{}, {}-bit reference {}",
                c.seq,
                c.total,
                if c.sixteen_bit { 16 } else { 8 },
                c.reference
            ),
            UdhElement::Ports {
                destination,
                source,
                sixteen_bit,
            } => write!(
                f,
                "application port {destination} from {source} ({}-bit)",
                if *sixteen_bit { 16 } else { 8 }
            ),
            UdhElement::Other { iei, data } => {
                write!(f, "element 0x{iei:02X}: ")?;
                data.iter().try_for_each(|b| write!(f, "{b:02X}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_concat_ports_and_unknown_elements() {
        let bytes = [
            0x13, 0x00, 0x03, 0x8A, 0x03, 0x01, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08, 0x04,
            0x12, 0x34, 0x02, 0x02, 0x70, 0x00,
        ];
        let (udh, len) = Udh::decode(&bytes, 0).unwrap();
        assert_eq!(len, 20);
        assert_eq!(udh.elements.len(), 4);
        assert_eq!(
            udh.concat_info(),
            Some(Concat {
                reference: 0x8A,
                sixteen_bit: false,
                total: 3,
                seq: 1
            })
        );
        assert_eq!(
            udh.elements[1],
            UdhElement::Ports {
                destination: 2948,
                source: 9200,
                sixteen_bit: true
            }
        );
        assert_eq!(udh.to_bytes(), bytes);
    }

    #[test]
    fn element_of_the_wrong_length_is_kept_raw() {
        let (udh, _) = Udh::decode(&[0x04, 0x00, 0x02, 0x01, 0x02], 0).unwrap();
        assert_eq!(
            udh.elements,
            [UdhElement::Other {
                iei: 0,
                data: vec![1, 2]
            }]
        );
        assert_eq!(udh.concat_info(), None);
    }

    #[test]
    fn overruns_are_errors_with_their_offset() {
        let e = Udh::decode(&[0x05, 0x00, 0x03], 10).unwrap_err();
        assert_eq!(e.offset, 10);
        let e = Udh::decode(&[0x03, 0x00, 0x05, 0x01], 10).unwrap_err();
        assert_eq!(e.offset, 11);
        let e = Udh::decode(&[0x01, 0x00], 0).unwrap_err();
        assert!(e.to_string().contains("cut short"));
    }

    #[test]
    fn concat_with_sequence_zero_is_not_usable() {
        let udh = Udh::concat(Concat {
            reference: 1,
            sixteen_bit: false,
            total: 2,
            seq: 0,
        });
        assert_eq!(udh.concat_info(), None);
    }
}
