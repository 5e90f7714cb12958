//! Unsolicited result codes as events: a new message, a report, a call, a registration,
//! a reboot; the vendor's noise dropped.

use super::*;

impl Modem {
    /// The next unsolicited event; `None` when the port closed.
    /// The vendor's noise (its profile's list: Huawei's `^RSSI`, Quectel's `+QIND`) is
    /// dropped here.
    pub async fn next_event(&mut self) -> Option<ModemEvent> {
        loop {
            let e = event(&self.urcs.recv().await?);
            match &e {
                ModemEvent::Other(u) if self.profile.is_noise(&u.name().to_ascii_uppercase()) => {}
                _ => return Some(e),
            }
        }
    }
}

/// What a URC means.
pub fn event(u: &Urc) -> ModemEvent {
    let name = u.name().to_ascii_uppercase();
    let v = u.value();
    match name.as_str() {
        "+CMTI" => parse::mem_index(v).map_or_else(
            || ModemEvent::Other(u.clone()),
            |(memory, index)| ModemEvent::NewMessage { memory, index },
        ),
        "+CDSI" => parse::mem_index(v).map_or_else(
            || ModemEvent::Other(u.clone()),
            |(memory, index)| ModemEvent::NewReport { memory, index },
        ),
        "+CMT" | "+CDS" => match &u.pdu {
            Some(p) => ModemEvent::Direct {
                pdu: p.clone(),
                report: name == "+CDS",
            },
            None => ModemEvent::Other(u.clone()),
        },
        "RING" | "+CRING" => ModemEvent::Ring,
        "+CLIP" => parse::clip(v).map_or(ModemEvent::Ring, ModemEvent::Caller),
        "+CREG" | "+CGREG" | "+CEREG" => parse::creg(v, false).map_or_else(
            || ModemEvent::Other(u.clone()),
            |(r, _, _)| ModemEvent::Registration(r),
        ),
        "+CUSD" => ModemEvent::Ussd(v.to_string()),
        // Not Huawei's `^BOOT`: some firmwares send it every few seconds (a real reboot of
        // a USB stick takes its port away anyway).
        "RDY" | "+CFUN" | "SMS READY" | "CALL READY" | "+PBREADY" | "^SYSSTART" => {
            ModemEvent::Rebooted
        }
        _ => ModemEvent::Other(u.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urc(line: &str, pdu: Option<&str>) -> Urc {
        Urc {
            line: line.into(),
            pdu: pdu.map(Into::into),
        }
    }

    #[test]
    fn urcs_become_events() {
        assert_eq!(
            event(&urc("+CMTI: \"SM\",0", None)),
            ModemEvent::NewMessage {
                memory: "SM".into(),
                index: 0
            }
        );
        assert_eq!(
            event(&urc("+CDSI: \"SR\",2", None)),
            ModemEvent::NewReport {
                memory: "SR".into(),
                index: 2
            }
        );
        assert_eq!(
            event(&urc("+CDS: 25", Some("0006"))),
            ModemEvent::Direct {
                pdu: "0006".into(),
                report: true
            }
        );
        assert_eq!(
            event(&urc("+CLIP: \"+48123\",145", None)),
            ModemEvent::Caller("+48123".into())
        );
        assert_eq!(
            event(&urc("+CREG: 5", None)),
            ModemEvent::Registration(Registration::Roaming)
        );
        assert_eq!(event(&urc("RDY", None)), ModemEvent::Rebooted);
        assert!(matches!(
            event(&urc("^BOOT:20824016,0,0,0,72", None)),
            ModemEvent::Other(_)
        ));
        assert!(matches!(
            event(&urc("+CMTI: garbage", None)),
            ModemEvent::Other(_)
        ));
        assert!(matches!(
            event(&urc("^RSSI: 3", None)),
            ModemEvent::Other(_)
        ));
    }
}
