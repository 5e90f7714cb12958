//! The AT channel against scripted byte streams: what a modem writes, byte for byte,
//! including the quirks of real devices.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use smsgw::at::{AtError, Channel, Final, Urc};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(5);

/// The modem's side of the pipe.
struct Modem {
    io: DuplexStream,
    got: Vec<u8>,
}

impl Modem {
    /// Waits until the channel has written `text` (after what was already consumed).
    async fn expect(&mut self, text: &str) {
        let want = text.as_bytes();
        let waited = tokio::time::timeout(T, async {
            loop {
                if let Some(i) = self.got.windows(want.len()).position(|w| w == want) {
                    self.got.drain(..i + want.len());
                    return;
                }
                let mut b = [0u8; 512];
                let n = self.io.read(&mut b).await.expect("read");
                assert!(n > 0, "channel closed while waiting for {text:?}");
                self.got.extend_from_slice(&b[..n]);
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "channel never wrote {text:?}; got {:?}",
            String::from_utf8_lossy(&self.got)
        );
    }

    async fn send(&mut self, bytes: &str) {
        self.io.write_all(bytes.as_bytes()).await.expect("write");
    }
}

fn setup() -> (Channel, mpsc::Receiver<Urc>, Modem) {
    let (a, b) = tokio::io::duplex(4096);
    let (chan, urcs) = Channel::new(a, "test");
    (
        chan,
        urcs,
        Modem {
            io: b,
            got: Vec::new(),
        },
    )
}

async fn next_urc(urcs: &mut mpsc::Receiver<Urc>) -> Urc {
    tokio::time::timeout(T, urcs.recv())
        .await
        .expect("URC in time")
        .expect("URC stream open")
}

#[tokio::test]
async fn command_with_echo_and_information_line() {
    let (mut chan, _urcs, mut m) = setup();
    let cmd = tokio::spawn(async move { chan.command("AT+CSQ", T).await });
    m.expect("AT+CSQ\r").await;
    m.send("AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n").await;
    let r = cmd.await.unwrap().unwrap();
    assert_eq!(r.lines, ["+CSQ: 20,99"]);
    assert_eq!(r.result, Final::Ok);
    assert_eq!(r.info("+CSQ:"), Some("20,99"));
}

#[tokio::test]
async fn urc_in_the_middle_of_a_response_goes_to_the_urc_stream() {
    let (mut chan, mut urcs, mut m) = setup();
    let cmd = tokio::spawn(async move { chan.command("AT+CMGL=4", T).await });
    m.expect("AT+CMGL=4\r").await;
    m.send(
        "+CMGL: 1,0,,5\r\n0011\r\n+CMTI: \"SM\",3\r\n^RSSI: 17\r\n+CMGL: 2,0,,5\r\n0022\r\nOK\r\n",
    )
    .await;
    let r = cmd.await.unwrap().unwrap();
    assert_eq!(r.lines, ["+CMGL: 1,0,,5", "0011", "+CMGL: 2,0,,5", "0022"]);
    let u = next_urc(&mut urcs).await;
    assert_eq!((u.name(), u.value()), ("+CMTI", "\"SM\",3"));
    assert_eq!(next_urc(&mut urcs).await.name(), "^RSSI");
}

#[tokio::test]
async fn two_line_urcs_are_read_whole() {
    let (_chan, mut urcs, mut m) = setup();
    m.send("\r\n+CMT: ,23\r\n0791448720003023240DD0E474D81C0EBB01\r\n+CDS: 25\r\n0006090B91\r\n")
        .await;
    let u = next_urc(&mut urcs).await;
    assert_eq!(u.line, "+CMT: ,23");
    assert_eq!(
        u.pdu.as_deref(),
        Some("0791448720003023240DD0E474D81C0EBB01")
    );
    let u = next_urc(&mut urcs).await;
    assert_eq!((u.name(), u.pdu.as_deref()), ("+CDS", Some("0006090B91")));
}

#[tokio::test]
async fn bytes_arriving_one_at_a_time() {
    let (mut chan, _urcs, mut m) = setup();
    let cmd = tokio::spawn(async move {
        let r = chan.command("AT+CGSN", T).await;
        (chan, r)
    });
    m.expect("AT+CGSN\r").await;
    for b in "\r\n490154203237518\r\r\n\r\nOK\r\n".chars() {
        m.send(&b.to_string()).await;
        tokio::task::yield_now().await;
    }
    let (_chan, r) = cmd.await.unwrap();
    let r = r.unwrap();
    assert_eq!(r.lines, ["490154203237518"]);
}

#[tokio::test]
async fn prompt_without_line_end_then_pdu_and_ctrl_z() {
    let (mut chan, _urcs, mut m) = setup();
    let cmd = tokio::spawn(async move {
        chan.send_pdu("AT+CMGS=9", "0001000381214300000161", T)
            .await
    });
    m.expect("AT+CMGS=9\r").await;
    // Echo on, a ZTE URC before the prompt, then the prompt with no line end.
    m.send("AT+CMGS=9\r\r\n+ZPASR: \"UMTS\"\r\n> ").await;
    m.expect("0001000381214300000161\x1a").await;
    m.send("0001000381214300000161\x1a\r\n+CMGS: 42\r\n\r\nOK\r\n")
        .await;
    let r = cmd.await.unwrap().unwrap();
    assert_eq!(r.info("+CMGS:"), Some("42"));
    assert_eq!(r.lines, ["+CMGS: 42"]);
}

#[tokio::test]
async fn error_instead_of_prompt_ends_the_exchange() {
    let (mut chan, _urcs, mut m) = setup();
    let cmd = tokio::spawn(async move { chan.send_pdu("AT+CMGS=9", "00", T).await });
    m.expect("AT+CMGS=9\r").await;
    m.send("\r\n+CMS ERROR: 304\r\n").await;
    let r = cmd.await.unwrap().unwrap();
    assert_eq!(r.result.cms(), Some(304));
}

#[tokio::test]
async fn missing_prompt_times_out_and_sends_escape() {
    let (mut chan, _urcs, mut m) = setup();
    let cmd = tokio::spawn(async move {
        chan.send_pdu("AT+CMGS=9", "00", Duration::from_millis(200))
            .await
    });
    m.expect("AT+CMGS=9\r").await;
    m.expect("\x1b").await;
    assert!(matches!(cmd.await.unwrap(), Err(AtError::NoPrompt { .. })));
}

#[tokio::test]
async fn cpin_without_final_ok_times_out_with_the_answer_and_the_next_command_works() {
    let (mut chan, _urcs, mut m) = setup();
    let modem = tokio::spawn(async move {
        m.expect("AT+CPIN?\r").await;
        m.send("\r\n+CPIN: READY\r\n").await; // Wavecom: no OK
        m.expect("AT\r").await;
        m.send("\r\nOK\r\n").await;
        m
    });
    match chan.command("AT+CPIN?", Duration::from_millis(300)).await {
        Err(AtError::Timeout { lines, .. }) => assert_eq!(lines, ["+CPIN: READY"]),
        other => panic!("{other:?}"),
    }
    let r = chan.command("AT", T).await.unwrap();
    assert_eq!(r.result, Final::Ok);
    modem.await.unwrap();
}

#[tokio::test]
async fn late_answer_after_a_timeout_is_not_taken_for_the_next_command() {
    let (mut chan, _urcs, mut m) = setup();
    let modem = tokio::spawn(async move {
        m.expect("AT+COPS?\r").await;
        m.expect("\x1b").await; // the channel's resync
        m.send("\r\n+COPS: 0,0,\"Late\"\r\n\r\nOK\r\n").await;
        m.expect("AT+CSQ\r").await;
        m.send("\r\n+CSQ: 9,99\r\n\r\nOK\r\n").await;
    });
    assert!(chan
        .command("AT+COPS?", Duration::from_millis(100))
        .await
        .is_err());
    let r = chan.command("AT+CSQ", T).await.unwrap();
    assert_eq!(r.lines, ["+CSQ: 9,99"]);
    modem.await.unwrap();
}

#[tokio::test]
async fn error_results_and_vendor_finals() {
    let (mut chan, _urcs, mut m) = setup();
    let modem = tokio::spawn(async move {
        m.expect("AT+CPIN=\"1234\"\r").await;
        m.send("\r\n+CME ERROR: 16\r\n").await;
        m.expect("AT^FOO\r").await;
        m.send("\r\nCOMMAND NOT SUPPORT\r\n").await;
    });
    let r = chan.command("AT+CPIN=\"1234\"", T).await.unwrap();
    assert_eq!(r.result.cme(), Some(16));
    match chan.ok("AT^FOO", T).await {
        Err(AtError::Failed {
            result: Final::Vendor(v),
            ..
        }) => assert_eq!(v, "COMMAND NOT SUPPORT"),
        other => panic!("{other:?}"),
    }
    modem.await.unwrap();
}

#[tokio::test]
async fn own_prefix_is_a_response_and_the_same_line_idle_is_a_urc() {
    let (mut chan, mut urcs, mut m) = setup();
    let cmd = tokio::spawn(async move {
        let r = chan.command("AT+CREG?", T).await;
        (chan, r)
    });
    m.expect("AT+CREG?\r").await;
    m.send("\r\n+CREG: 2,1,\"00C3\",\"0010\"\r\nOK\r\n").await;
    let (_chan, r) = cmd.await.unwrap();
    assert_eq!(r.unwrap().info("+CREG:"), Some("2,1,\"00C3\",\"0010\""));
    m.send("\r\n+CREG: 5\r\n").await;
    assert_eq!(next_urc(&mut urcs).await.value(), "5");
}

#[tokio::test]
async fn rssi_flood_does_not_disturb_commands() {
    let (mut chan, mut urcs, mut m) = setup();
    let cmd = tokio::spawn(async move { chan.command("AT+CGMM", T).await });
    m.expect("AT+CGMM\r").await;
    let mut flood = String::new();
    for i in 0..300 {
        flood.push_str(&format!("\r\n^RSSI: {}\r\r\n", i % 31));
        if i == 150 {
            flood.push_str("E173\r\n");
        }
    }
    flood.push_str("OK\r\n");
    m.send(&flood).await;
    let r = cmd.await.unwrap().unwrap();
    assert_eq!(r.lines, ["E173"]);
    for _ in 0..300 {
        assert_eq!(next_urc(&mut urcs).await.name(), "^RSSI");
    }
}

#[tokio::test]
async fn unplug_ends_commands_and_the_urc_stream() {
    let (mut chan, mut urcs, mut m) = setup();
    let cmd = tokio::spawn(async move { chan.command("AT", T).await });
    m.expect("AT\r").await;
    drop(m);
    let e = cmd.await.unwrap().unwrap_err();
    assert!(e.is_link_down(), "{e}");
    assert!(tokio::time::timeout(T, urcs.recv())
        .await
        .unwrap()
        .is_none());
}

/// Collects what tracing writes.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn trace_shows_every_line_with_the_pin_masked() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    // Process-wide: a thread-local subscriber can miss events whose callsite another test
    // thread registered first (tracing caches callsite interest).
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only global subscriber in this binary");
    let (mut chan, _urcs, mut m) = setup();
    let modem = tokio::spawn(async move {
        m.expect("AT+CPIN=\"4711\"\r").await;
        m.send("AT+CPIN=\"4711\"\r\r\nOK\r\n").await; // echo carries the PIN back
    });
    chan.ok("AT+CPIN=\"4711\"", T).await.unwrap();
    modem.await.unwrap();
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("-> AT+CPIN=***"), "{text}");
    assert!(text.contains("<- AT+CPIN=***"), "{text}");
    assert!(text.contains("<- OK"), "{text}");
    assert!(!text.contains("4711"), "PIN leaked into the trace:\n{text}");
}
