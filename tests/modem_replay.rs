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

/// Plays a modem on `io`: each command line gets `reply(command)` (echo included); what it
/// does not know gets the echo and `OK`.
async fn replay(mut io: tokio::io::DuplexStream, reply: impl Fn(&str) -> Option<String>) {
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
            let answer = reply(&cmd).unwrap_or_else(|| format!("{cmd}\r\r\nOK\r\n"));
            if io.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test]
async fn huawei_e1752_recorded_listing() {
    let (ours, theirs) = tokio::io::duplex(4096);
    let replies = recorded();
    tokio::spawn(replay(theirs, move |cmd| {
        replies.get(cmd).map(|r| r.replace(' ', ""))
    }));
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

/// Gammu's captured `AT+CMGR` answers (`tests/at-sms` and `tests/at-sms-failing` of
/// gammu/gammu at 78fd6a92, copied to `tests/data/gammu-at-sms`): the modem as those phones
/// answered, with the echo each capture starts with.
async fn read_captured(dump: &str) -> Result<Option<smsgw::modem::StoredSms>, String> {
    let mut lines = dump.lines().map(|l| l.trim_end_matches('\r'));
    let command = lines.next().unwrap_or_default().trim().to_string();
    let index: usize = command
        .strip_prefix("AT+CMGR=")
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| format!("not an AT+CMGR capture: {command:?}"))?;
    let answer: String = lines.map(|l| format!("{l}\r\n")).collect();
    let (ours, theirs) = tokio::io::duplex(8192);
    tokio::spawn(replay(theirs, move |cmd| {
        (cmd == command).then(|| format!("{cmd}\r\r\n{answer}"))
    }));
    let mut cfg = ModemConfig::new("captured", "recorded");
    cfg.command_timeout = Duration::from_secs(2);
    let mut m = Modem::on_port(cfg, ours);
    tokio::time::timeout(Duration::from_secs(5), m.read("SM", index))
        .await
        .map_err(|_| "no answer".to_string())?
        .map_err(|e| e.to_string())
}

fn captures(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gammu-at-sms")
        .join(dir);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dump"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn every_message_gammu_decodes_is_decoded() {
    let ok = captures("ok");
    assert_eq!(ok.len(), 36, "Gammu's tests/at-sms has 36 captures");
    let mut refused = Vec::new();
    for (name, dump) in &ok {
        match read_captured(dump).await {
            Ok(Some(s)) if s.decoded.is_ok() => {}
            Ok(Some(s)) => refused.push(format!("{name}: {}", s.decoded.unwrap_err())),
            Ok(None) => refused.push(format!("{name}: read as an empty slot")),
            Err(e) => refused.push(format!("{name}: {e}")),
        }
    }
    assert!(refused.is_empty(), "refused: {refused:#?}");
}

#[tokio::test]
async fn odd_captures_decode_what_is_there() {
    let by_name: HashMap<String, String> = captures("ok").into_iter().collect();
    // 20: TP-UDHI set, TP-UDL 0: a SUBMIT the phone stored, with no header and no text.
    let s = read_captured(&by_name["20.dump"]).await.unwrap().unwrap();
    match s.decoded.unwrap() {
        Pdu::Submit(m) => {
            assert_eq!(m.destination.to_string(), "366460353302");
            assert_eq!(m.user_data.text(), Some(""));
            assert!(m.udh.is_none());
        }
        other => panic!("{other:?}"),
    }
    // 41: TP-UDL says 93 septets, 79 octets (90 septets) follow: the 90 that are there,
    // 8 of them the port header (a mailbox update to port 5496), 82 of text.
    let s = read_captured(&by_name["41.dump"]).await.unwrap().unwrap();
    match s.decoded.unwrap() {
        Pdu::Submit(m) => {
            let text = m.user_data.text().unwrap().to_string();
            assert!(text.starts_with("MBOXUPDATE?m=15;server="), "{text:?}");
            assert_eq!(text.chars().count(), 82, "{text:?}");
            assert!(m.udh.is_some(), "the port header is kept");
        }
        other => panic!("{other:?}"),
    }
    // 04: a stray quote after the hex.
    let s = read_captured(&by_name["04.dump"]).await.unwrap().unwrap();
    assert!(matches!(s.decoded, Ok(Pdu::Deliver(_))), "{:?}", s.decoded);
}

#[tokio::test]
async fn what_gammu_refuses_stays_refused() {
    let failing = captures("failing");
    assert_eq!(failing.len(), 10);
    for (name, dump) in &failing {
        if let Ok(Some(s)) = read_captured(dump).await {
            assert!(s.decoded.is_err(), "{name} decoded: {:?}", s.decoded);
        }
    }
}
