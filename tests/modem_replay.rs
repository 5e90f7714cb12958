//! The driver against a dialogue recorded from real hardware, not against our simulator.
//!
//! The replies are the bytes a Huawei E1752 USB modem sent to gammu-smsd, as its user posted
//! them in Gammu's issue tracker (debug logs in gammu/gammu issues #126 and #138, 2015). The
//! modem echoes commands (`AT...\r` then `\r\n`), so the echo and the reply share `\r\r\n`.
//! Commands the recording does not cover get the echo and `OK`.

use std::collections::HashMap;
use std::time::Duration;

use smsgw::modem::{Modem, ModemConfig, PinState};
use smsgw::pdu::Pdu;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn recorded() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        // gammu/gammu#126 and #138: AT+CPIN? on the E1752.
        ("AT+CPIN?", "AT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        // gammu/gammu#138: one message in SM (50 slots), none in ME.
        ("AT+CPMS=\"SM\"", "AT+CPMS=\"SM\"\r\r\n+CPMS: 1,50,0,23,1,50\r\n\r\nOK\r\n"),
        // gammu/gammu#126: the listing, with the message at index 0.
        (
            "AT+CMGL=4",
            "AT+CMGL=4\r\r\n+CMGL: 0,0,,23\r\n07913366003051F5040B913366304381F9000051807191203480 04D4F29C0E\r\n\r\nOK\r\n",
        ),
    ])
}

/// Answers each command line with its recorded reply.
async fn replay(mut io: tokio::io::DuplexStream) {
    let replies = recorded();
    let mut line = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b != b'\r' {
                line.push(b);
                continue;
            }
            let cmd = String::from_utf8_lossy(&line).trim().to_string();
            line.clear();
            if cmd.is_empty() || cmd.starts_with('\x1b') {
                continue;
            }
            let reply = match replies.get(cmd.as_str()) {
                Some(r) => r.replace(' ', ""),
                None => format!("{cmd}\r\r\nOK\r\n"),
            };
            if io.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test]
async fn huawei_e1752_recorded_listing() {
    let (ours, theirs) = tokio::io::duplex(4096);
    tokio::spawn(replay(theirs));
    let mut cfg = ModemConfig::new("e1752", "recorded");
    cfg.command_timeout = Duration::from_secs(2);
    let mut m = Modem::on_port(cfg, ours);
    assert_eq!(m.pin_state().await.unwrap(), PinState::Ready);
    let listed = tokio::time::timeout(Duration::from_secs(5), m.list("SM"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed.len(), 1);
    let s = &listed[0];
    assert_eq!((s.memory.as_str(), s.index, s.stat), ("SM", 0, Some(0)));
    match s.decoded.as_ref().unwrap() {
        Pdu::Deliver(d) => {
            assert_eq!(d.smsc.as_ref().unwrap().to_string(), "+33660003155");
            assert_eq!(d.originator.to_string(), "+33660334189");
            assert_eq!(d.scts.to_string(), "2015-08-17 19:02:43 +02:00");
            assert_eq!(d.user_data.text(), Some("Test"));
        }
        other => panic!("{other:?}"),
    }
}
