//! Long messages sent in parts (a concatenation UDH or the SAR TLVs) are joined into one
//! stored message, so that all parts leave through one route (a handset joins only parts
//! from one sender) and a receipt names the whole. A part is answered once the whole
//! message is committed, all parts with its id; should the rest not come within
//! `part_timeout`, the parts that came are queued as they are, each with its header.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::read::Part;
use crate::face::submit::{Body, Request};

/// A message to queue, and the sequence numbers of the submit_sm it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub request: Request,
    pub sequences: Vec<u32>,
}

struct Waiting {
    since: Instant,
    /// By part number: the part and the sequence numbers that carried it (a client may
    /// send a part again).
    parts: BTreeMap<u8, (Part, Vec<u32>)>,
}

/// The parts of one bind waiting for the rest.
#[derive(Default)]
pub struct Joiner {
    waiting: HashMap<(String, String, u16, u8), Waiting>,
}

impl Joiner {
    /// Adds a part (submit_sm `sequence`); the joined message once every part is here, or
    /// an error for the sequences of a message whose parts cannot be joined (text and data
    /// mixed).
    pub fn add(&mut self, part: Part, sequence: u32) -> Option<Result<Ready, (Vec<u32>, String)>> {
        let key = part.key.clone();
        let total = key.3;
        let w = self.waiting.entry(key.clone()).or_insert_with(|| Waiting {
            since: Instant::now(),
            parts: BTreeMap::new(),
        });
        let index = part.index;
        let slot = w
            .parts
            .entry(index)
            .or_insert_with(|| (part.clone(), Vec::new()));
        slot.0 = part;
        slot.1.push(sequence);
        if w.parts.len() < usize::from(total) {
            return None;
        }
        let w = self.waiting.remove(&key)?;
        Some(joined(w))
    }

    /// Messages whose first part waited longer than `timeout`: each part that came, as it
    /// is (one part with its header).
    pub fn expired(&mut self, timeout: Duration) -> Vec<Ready> {
        let old: Vec<_> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.since.elapsed() >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::new();
        for k in old {
            if let Some(w) = self.waiting.remove(&k) {
                for (part, sequences) in w.parts.into_values() {
                    out.push(Ready {
                        request: Request {
                            udh: Some(part.udh),
                            ..part.request
                        },
                        sequences,
                    });
                }
            }
        }
        out
    }

    /// Parts held now.
    pub fn held(&self) -> usize {
        self.waiting.values().map(|w| w.parts.len()).sum()
    }

    /// Every sequence held (answered with an error when the bind ends).
    pub fn drain(&mut self) -> Vec<u32> {
        self.waiting
            .drain()
            .flat_map(|(_, w)| w.parts.into_values().flat_map(|(_, s)| s))
            .collect()
    }
}

fn joined(w: Waiting) -> Result<Ready, (Vec<u32>, String)> {
    let sequences: Vec<u32> = w.parts.values().flat_map(|(_, s)| s.clone()).collect();
    let mut parts = w.parts.into_values().map(|(p, _)| p);
    let Some(first) = parts.next() else {
        return Err((sequences, "no parts".into()));
    };
    let mut request = first.request;
    for p in parts {
        request.unicode |= p.request.unicode;
        match (&mut request.body, p.request.body) {
            (Body::Text(all), Body::Text(t)) => all.push_str(&t),
            (Body::Binary(all), Body::Binary(b)) => all.extend(b),
            _ => {
                return Err((
                    sequences,
                    "the parts mix text and 8-bit data: they cannot be joined".into(),
                ))
            }
        }
    }
    Ok(Ready { request, sequences })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(index: u8, total: u8, text: &str) -> Part {
        Part {
            request: Request {
                to: vec!["+4790000001".into()],
                body: Body::Text(text.into()),
                ..Request::default()
            },
            key: ("NOC".into(), "4790000001".into(), 7, total),
            index,
            udh: vec![5, 0, 3, 7, total, index],
        }
    }

    #[test]
    fn parts_in_any_order_make_one_message() {
        let mut j = Joiner::default();
        assert!(j.add(part(2, 3, "b"), 11).is_none());
        assert!(j.add(part(1, 3, "a"), 10).is_none());
        assert_eq!(j.held(), 2);
        let r = j.add(part(3, 3, "c"), 12).unwrap().unwrap();
        assert_eq!(r.request.body, Body::Text("abc".into()));
        assert_eq!(r.sequences, [10, 11, 12]);
        assert_eq!(j.held(), 0);
    }

    #[test]
    fn a_lonely_part_is_queued_as_it_is_after_the_timeout() {
        let mut j = Joiner::default();
        assert!(j.add(part(1, 2, "a"), 5).is_none());
        assert!(j.expired(Duration::from_secs(60)).is_empty());
        let r = j.expired(Duration::ZERO);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].sequences, [5]);
        assert_eq!(r[0].request.udh.as_deref(), Some(&[5, 0, 3, 7, 2, 1][..]));
    }
}
