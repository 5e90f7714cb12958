//! Remembering a PIN the SIM rejected, so that it is never sent again by itself: three wrong
//! PINs lock the SIM (PUK), and a daemon that retries after every restart gets there fast.
//!
//! The memory is a file per PhoneID in the state directory holding the SIM's ICCID (when
//! readable) and a hash of the rejected PIN. A new PIN in the config or a new SIM no longer
//! matches, so it is tried once; a PIN that works removes the file.

use std::io;
use std::path::{Path, PathBuf};

/// FNV-1a, 64 bit: stable across Rust versions (the file outlives the binary), and enough
/// to tell one PIN from another without writing the PIN down.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The rejected-PIN memory of one phone.
#[derive(Debug, Clone)]
pub struct PinMemory {
    path: PathBuf,
    phone_id: String,
}

impl PinMemory {
    pub fn new(state_dir: &Path, phone_id: &str) -> PinMemory {
        let safe: String = phone_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PinMemory {
            path: state_dir.join("pin-rejected").join(format!("{safe}.txt")),
            phone_id: phone_id.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&self, iccid: Option<&str>, pin: &str) -> String {
        let iccid = iccid.unwrap_or("unknown");
        format!(
            "phone={}\niccid={iccid}\npin-hash={:016x}\n",
            self.phone_id,
            fnv1a(&[&self.phone_id, iccid, pin])
        )
    }

    /// Whether this PIN was rejected before by this SIM.
    pub fn rejected(&self, iccid: Option<&str>, pin: &str) -> bool {
        std::fs::read_to_string(&self.path).is_ok_and(|s| s == self.record(iccid, pin))
    }

    /// Remembers that the SIM rejected `pin`.
    pub fn remember(&self, iccid: Option<&str>, pin: &str) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.path, self.record(iccid, pin))
    }

    /// Forgets a rejection (the PIN worked).
    pub fn clear(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pin_or_a_new_sim_is_tried_again() {
        let dir = tempfile::tempdir().unwrap();
        let m = PinMemory::new(dir.path(), "modem/1");
        assert!(!m.rejected(Some("8948"), "1234"));
        m.remember(Some("8948"), "1234").unwrap();
        assert!(m.rejected(Some("8948"), "1234"));
        assert!(!m.rejected(Some("8948"), "4321"), "new PIN");
        assert!(!m.rejected(Some("8949"), "1234"), "new SIM");
        let text = std::fs::read_to_string(m.path()).unwrap();
        assert!(
            !text.contains("1234"),
            "the PIN itself is not written: {text}"
        );
        assert!(m.path().ends_with("pin-rejected/modem_1.txt"));
        m.clear();
        assert!(!m.rejected(Some("8948"), "1234"));
    }
}
