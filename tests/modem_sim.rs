//! The modem driver against the simulated modem on a real pseudo-terminal, one scenario each.

use std::time::Duration;

use smsgw::at::Channel;
use smsgw::modem::{
    Delivery, Modem, ModemConfig, ModemError, ModemEvent, SendErrorKind as FailureKind,
};
use smsgw::pdu::{self, Address, ConcatRef, Encoding, Pdu, Submit, UserData};
use smsgw::sim::{PtyHandle, Sim, SimConfig};
use tempfile::TempDir;

const T: Duration = Duration::from_secs(5);

struct Bench {
    sim: Sim,
    pty: PtyHandle,
    state: TempDir,
}

impl Bench {
    fn new(cfg: SimConfig) -> Bench {
        // The AT trace of a failing test is shown with its output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("smsgw=debug")
            .try_init();
        let sim = Sim::new(cfg);
        let pty = sim.attach_pty(None).expect("pty");
        Bench {
            sim,
            pty,
            state: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn config(&self, pin: Option<&str>) -> ModemConfig {
        let path = self.pty.path().expect("device present");
        let mut c = ModemConfig::new("phone1", path.to_str().expect("utf-8 path"));
        c.pin = pin.map(str::to_string);
        c.state_dir = self.state.path().to_path_buf();
        c.command_timeout = Duration::from_secs(2);
        c.send_timeout = Duration::from_secs(2);
        c
    }

    async fn modem(&self, pin: Option<&str>) -> Result<Modem, ModemError> {
        let mut m = Modem::open(self.config(pin)).await?;
        match m.init().await {
            Ok(()) => Ok(m),
            Err(e) => {
                m.close().await;
                Err(e)
            }
        }
    }
}

fn submits(to: &str, text: &str, reference: u8) -> Vec<pdu::Encoded> {
    let mut template = Submit::new(Address::number(to).unwrap(), "");
    template.status_report_request = true;
    pdu::split(&template, text, Encoding::Auto, ConcatRef::Eight(reference))
        .unwrap()
        .iter()
        .map(|s| s.encode().unwrap())
        .collect()
}

async fn next_event(m: &mut Modem) -> ModemEvent {
    tokio::time::timeout(T, m.next_event())
        .await
        .expect("event in time")
        .expect("port open")
}

#[tokio::test]
async fn init_identifies_and_sends_a_multipart_message() {
    let b = Bench::new(SimConfig::default());
    let mut m = b.modem(None).await.unwrap();
    assert_eq!(m.identity.manufacturer.as_deref(), Some("smsgw"));
    assert_eq!(m.identity.model.as_deref(), Some("SimModem"));
    assert_eq!(m.identity.imei.as_deref(), Some("490154203237518"));
    assert_eq!(m.identity.imsi.as_deref(), Some("260011234567890"));
    assert_eq!(m.identity.iccid.as_deref(), Some("8948011234567890123"));
    assert_eq!(m.smsc.as_deref(), Some("+48602000000"));
    assert_eq!(m.delivery, Delivery::Stored);
    assert_eq!(m.read_memories, ["SM", "ME", "SR"]);
    assert_eq!(m.receive_memory, "ME");
    let text = "Zażółć gęślą jaźń 😀 ".repeat(8);
    let mut mrs = Vec::new();
    for part in submits("+48123456789", &text, 42) {
        mrs.push(m.send(&part).await.unwrap());
    }
    assert_eq!(mrs, [0, 1, 2]);
    let sent = b.sim.snapshot().sent;
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|s| s.to == "+48123456789" && s.report));
    assert_eq!(
        sent.iter().map(|s| s.text.as_str()).collect::<String>(),
        text
    );
    assert_eq!(sent[2].part, Some((3, 3, 42)));
    let signal = m.signal().await.unwrap();
    assert_eq!((signal.rssi, signal.dbm), (Some(20), Some(-73)));
    assert_eq!(m.battery().await.unwrap().percent, 80);
    assert!(m.registration().await.unwrap().is_registered());
    assert_eq!(
        m.operator().await,
        (Some("26001".into()), Some("Sim Network".into()))
    );
}

#[tokio::test]
async fn pin_is_entered_when_asked() {
    let b = Bench::new(SimConfig {
        pin: Some("1234".into()),
        ..SimConfig::default()
    });
    let mut m = b.modem(Some("1234")).await.unwrap();
    m.send(&submits("123", "hi", 0)[0]).await.unwrap();
    assert_eq!(b.sim.snapshot().sent.len(), 1);
}

#[tokio::test]
async fn missing_pin_is_a_clear_error() {
    let b = Bench::new(SimConfig {
        pin: Some("1234".into()),
        ..SimConfig::default()
    });
    let e = b.modem(None).await.err().expect("refused");
    assert!(matches!(e, ModemError::PinRequired { .. }), "{e}");
    assert!(e.to_string().contains("set `pin` for phone phone1"), "{e}");
}

#[tokio::test]
async fn a_rejected_pin_is_never_sent_again() {
    let b = Bench::new(SimConfig {
        pin: Some("1234".into()),
        ..SimConfig::default()
    });
    let e = b.modem(Some("0000")).await.err().expect("rejected");
    assert!(matches!(e, ModemError::PinRejected { .. }), "{e}");
    assert_eq!(b.sim.snapshot().pin_attempts_left, 2);
    // A restart with the same config does not try again.
    for _ in 0..3 {
        let e = b.modem(Some("0000")).await.err().expect("still refused");
        assert!(e.to_string().contains("will not be sent again"), "{e}");
    }
    assert_eq!(
        b.sim.snapshot().pin_attempts_left,
        2,
        "the SIM saw no new attempt"
    );
    // The operator fixes the PIN: it is tried, works, and the memory is cleared.
    b.modem(Some("1234")).await.unwrap().close().await;
    assert!(!b.state.path().join("pin-rejected/phone1.txt").exists());
}

#[tokio::test]
async fn a_puk_locked_sim_is_reported_not_touched() {
    let b = Bench::new(SimConfig {
        pin: Some("1234".into()),
        ..SimConfig::default()
    });
    // Three different wrong PINs (each tried once) lock the SIM.
    for pin in ["0001", "0002", "0003"] {
        assert!(b.modem(Some(pin)).await.is_err());
    }
    assert!(b.sim.snapshot().puk_locked);
    let e = b.modem(Some("1234")).await.err().expect("locked");
    assert!(matches!(e, ModemError::PukRequired { .. }), "{e}");
}

#[tokio::test]
async fn lists_reads_and_deletes_stored_messages() {
    let mut inbox = smsgw::sim::deliver_pdus(
        "+48111222333",
        &"Long text in three parts. ".repeat(15),
        7,
        "+48602000000",
    )
    .unwrap();
    assert_eq!(inbox.len(), 3);
    inbox.swap(0, 2); // stored out of order
    inbox.push("07911326040000F006090B911326880736F4111011719551401110117195714000".into());
    let b = Bench::new(SimConfig {
        inbox: inbox.clone(),
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    let all = m.list_all().await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|s| s.memory == "SM"));
    let mut parts = Vec::new();
    let mut reports = 0;
    for s in &all {
        match s.decoded.as_ref().unwrap() {
            Pdu::Deliver(d) => parts.push((d.concat().unwrap().seq, d.user_data.clone())),
            Pdu::StatusReport(r) => {
                reports += 1;
                assert_eq!(r.message_reference, 9);
            }
            Pdu::Submit(_) => panic!("no submits stored"),
        }
    }
    assert_eq!(reports, 1);
    let joined = pdu::join(3, parts.iter().map(|(s, u)| (*s, u))).unwrap();
    assert_eq!(
        joined,
        UserData::Text("Long text in three parts. ".repeat(15))
    );
    let one = m.read("SM", all[0].index).await.unwrap().unwrap();
    assert_eq!(one.pdu, all[0].pdu);
    assert_eq!(one.stat, Some(1), "listed messages are read");
    for s in &all {
        m.delete(&s.memory, s.index).await.unwrap();
    }
    assert!(b.sim.snapshot().stored.is_empty());
    assert!(m.read("SM", all[0].index).await.unwrap().is_none());
}

#[tokio::test]
async fn a_live_message_is_announced_read_and_deleted() {
    let b = Bench::new(SimConfig::default());
    let mut m = b.modem(None).await.unwrap();
    b.sim.deliver_text("+48999", "Hello there", 0).unwrap();
    let (memory, index) = match next_event(&mut m).await {
        ModemEvent::NewMessage { memory, index } => (memory, index),
        other => panic!("{other:?}"),
    };
    assert_eq!(memory, "ME");
    let s = m.read(&memory, index).await.unwrap().unwrap();
    match s.decoded.unwrap() {
        Pdu::Deliver(d) => {
            assert_eq!(d.originator.to_string(), "+48999");
            assert_eq!(d.user_data.text(), Some("Hello there"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        b.sim.snapshot().stored.len(),
        1,
        "still there until deleted"
    );
    m.delete(&memory, index).await.unwrap();
    assert!(b.sim.snapshot().stored.is_empty());
}

#[tokio::test]
async fn status_reports_come_back_pending_then_final() {
    let b = Bench::new(SimConfig {
        report_pending_first: true,
        report_memory_sr: true,
        report_delay: Duration::from_millis(50),
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    let mr = m
        .send(&submits("+4812345", "report me", 0)[0])
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let (memory, index) = match next_event(&mut m).await {
            ModemEvent::NewReport { memory, index } => (memory, index),
            other => panic!("{other:?}"),
        };
        assert_eq!(memory, "SR");
        match m
            .read(&memory, index)
            .await
            .unwrap()
            .unwrap()
            .decoded
            .unwrap()
        {
            Pdu::StatusReport(r) => {
                assert_eq!(r.message_reference, mr);
                assert_eq!(r.recipient.to_string(), "+4812345");
                statuses.push(r.delivery_status());
            }
            other => panic!("{other:?}"),
        }
        m.delete(&memory, index).await.unwrap();
    }
    use smsgw::pdu::DeliveryStatus::*;
    assert_eq!(statuses, [DeliveryPending, DeliveryOK]);
}

#[tokio::test]
async fn direct_delivery_is_acknowledged_only_when_asked() {
    let b = Bench::new(SimConfig {
        direct_only: true,
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    assert_eq!(m.delivery, Delivery::Direct);
    b.sim.deliver_text("+48777", "direct", 0).unwrap();
    match next_event(&mut m).await {
        ModemEvent::Direct { pdu, report: false } => {
            let bytes = pdu::from_hex(&pdu).unwrap();
            assert!(matches!(pdu::decode(&bytes).unwrap(), Pdu::Deliver(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        b.sim.snapshot().acks,
        0,
        "nothing acknowledged before the commit"
    );
    m.ack().await.unwrap();
    assert_eq!(b.sim.snapshot().acks, 1);
    assert!(b.sim.snapshot().stored.is_empty());
}

#[tokio::test]
async fn send_failures_say_whether_retrying_helps() {
    let b = Bench::new(SimConfig::default());
    let mut m = b.modem(None).await.unwrap();
    let part = &submits("+4812", "x", 0)[0];
    b.sim.fail_next_sends(1, 42);
    let f = m.send(part).await.unwrap_err();
    assert_eq!((f.kind, f.code), (FailureKind::NotSent, Some(42)));
    b.sim.fail_next_sends(1, 1);
    let f = m.send(part).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::Rejected);
    assert!(f.reason.contains("unassigned"), "{}", f.reason);
    b.sim.set_network(false);
    assert_eq!(m.send(part).await.unwrap_err().kind, FailureKind::RouteDown);
    b.sim.set_network(true);
    assert_eq!(m.send(part).await.unwrap(), 0);
}

#[tokio::test]
async fn a_hanging_modem_times_out_and_the_send_is_unknown_only_after_the_pdu() {
    let b = Bench::new(SimConfig {
        send_delay: Duration::from_secs(3),
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    // The PDU went out but +CMGS never came in time: maybe sent.
    let f = m.send(&submits("+4812", "slow", 0)[0]).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::Unknown, "{f}");
    // No prompt at all: certainly not sent.
    b.sim.set_hang(true);
    let f = m.send(&submits("+4812", "hang", 0)[0]).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::NotSent, "{f}");
    b.sim.set_hang(false);
    assert!(
        m.command("AT").await.unwrap().result.is_ok(),
        "the channel resynchronises"
    );
}

#[tokio::test]
async fn storage_index_zero() {
    let b = Bench::new(SimConfig {
        index_base: 0,
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    b.sim.deliver_text("+48555", "zero", 0).unwrap();
    match next_event(&mut m).await {
        ModemEvent::NewMessage { memory, index: 0 } => {
            assert!(m.read(&memory, 0).await.unwrap().is_some());
            m.delete(&memory, 0).await.unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert!(b.sim.snapshot().stored.is_empty());
}

#[tokio::test]
async fn huawei_noise_stuck_echo_and_cpin_without_ok() {
    let b = Bench::new(SimConfig {
        huawei: true,
        echo_stuck: true,
        cpin_no_ok: true,
        manufacturer: "huawei".into(),
        model: "E173".into(),
        inbox: smsgw::sim::deliver_pdus("+4811", "noise", 1, "+48602000000").unwrap(),
        ..SimConfig::default()
    });
    let mut cfg = b.config(None);
    cfg.command_timeout = Duration::from_millis(500);
    let mut m = Modem::open(cfg).await.unwrap();
    m.init().await.unwrap();
    assert_eq!(m.identity.model.as_deref(), Some("E173"));
    assert_eq!(m.list_all().await.unwrap().len(), 1);
    assert_eq!(
        m.send(&submits("+4812", "through the noise", 0)[0])
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn unplug_and_back_on_a_new_device() {
    let mut b = Bench::new(SimConfig::default());
    let mut m = b.modem(None).await.unwrap();
    let mut watch = b.pty.watch();
    b.sim.unplug();
    let e = m.command("AT").await.unwrap_err();
    assert!(e.is_link_down(), "{e}");
    m.close().await;
    // Gone, then back (the kernel may give the new pseudo-terminal the old number).
    tokio::time::timeout(T, watch.wait_for(Option::is_none))
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(T, b.pty.wait_path())
        .await
        .unwrap()
        .unwrap();
    let mut m = b.modem(None).await.unwrap();
    assert_eq!(
        m.send(&submits("+4812", "after unplug", 0)[0])
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn reset_reenumerates_and_asks_for_the_pin_again() {
    let mut b = Bench::new(SimConfig {
        pin: Some("1234".into()),
        ..SimConfig::default()
    });
    let mut m = b.modem(Some("1234")).await.unwrap();
    m.reset().await.unwrap();
    m.close().await;
    // The device goes away, then comes back under a new name.
    let mut watch = b.pty.watch();
    tokio::time::timeout(T, watch.wait_for(Option::is_none))
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(T, b.pty.wait_path())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        b.modem(None).await.err(),
        Some(ModemError::PinRequired { .. })
    ));
    b.modem(Some("1234")).await.unwrap().close().await;
}

#[tokio::test]
async fn tcp_device_behind_a_terminal_server() {
    let sim = Sim::new(SimConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = sim.clone();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        server.serve(sock).await;
    });
    let state = tempfile::tempdir().unwrap();
    let mut cfg = ModemConfig::new("tcp1", &format!("tcp://{addr}"));
    cfg.state_dir = state.path().to_path_buf();
    let mut m = Modem::open(cfg).await.unwrap();
    m.init().await.unwrap();
    m.send(&submits("+4812", "over tcp", 0)[0]).await.unwrap();
    assert_eq!(sim.snapshot().sent[0].text, "over tcp");
}

#[tokio::test]
async fn a_missing_device_says_so() {
    let mut cfg = ModemConfig::new("x", "/dev/ttyUSB-does-not-exist");
    cfg.state_dir = std::env::temp_dir();
    let e = Modem::open(cfg).await.err().expect("no device");
    assert!(e.to_string().contains("no such device"), "{e}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn the_simulator_is_strict_like_a_real_modem() {
    let sim = Sim::new(SimConfig {
        pin: Some("1111".into()),
        echo: false,
        ..SimConfig::default()
    });
    let (mut chan, _urcs) = Channel::new(sim.connect(), "strict");
    let r = chan.command("AT+CMGL=4", T).await.unwrap();
    assert_eq!(
        r.result.cme(),
        Some(11),
        "SIM PIN required before SMS commands"
    );
    chan.ok("AT+CPIN=\"1111\"", T).await.unwrap();
    // Wrong length for the PDU: +CMS ERROR: 304.
    let r = chan
        .send_pdu("AT+CMGS=5", "0001000381214300000161", T)
        .await
        .unwrap();
    assert_eq!(r.result.cms(), Some(304));
    // Not a PDU at all.
    let r = chan.send_pdu("AT+CMGS=3", "00ZZZZZZ", T).await.unwrap();
    assert_eq!(r.result.cms(), Some(304));
    // The right length: the TPDU, without the SMSC octet.
    let r = chan
        .send_pdu("AT+CMGS=10", "000100038121F300000161", T)
        .await
        .unwrap();
    assert_eq!(r.info("+CMGS:"), Some("0"));
    assert_eq!(
        chan.command("AT+FOO", T).await.unwrap().result.to_string(),
        "ERROR"
    );
}

#[tokio::test]
async fn full_storage_keeps_messages_at_the_network_until_room_frees_up() {
    let b = Bench::new(SimConfig {
        capacity: 1,
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    b.sim.deliver_text("+481", "first", 0).unwrap();
    b.sim.deliver_text("+482", "second", 0).unwrap();
    let (memory, index) = match next_event(&mut m).await {
        ModemEvent::NewMessage { memory, index } => (memory, index),
        other => panic!("{other:?}"),
    };
    let snap = b.sim.snapshot();
    assert_eq!((snap.stored.len(), snap.waiting), (1, 1));
    m.delete(&memory, index).await.unwrap();
    let all = m.list(&memory).await.unwrap();
    assert_eq!(all.len(), 1);
    match all[0].decoded.as_ref().unwrap() {
        Pdu::Deliver(d) => assert_eq!(d.user_data.text(), Some("second")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_incoming_call_rings_with_caller_id_and_is_hung_up() {
    let b = Bench::new(SimConfig::default());
    let mut m = b.modem(None).await.unwrap();
    b.sim.ring("+48600100200");
    assert_eq!(next_event(&mut m).await, ModemEvent::Ring);
    assert_eq!(
        next_event(&mut m).await,
        ModemEvent::Caller("+48600100200".into())
    );
    m.hang_up().await.unwrap();
}

/// Each vendor's dialect (`smsgw sim --profile`), played against the driver: it is taken for
/// its profile, gets the profile's init commands, reads the identity through the vendor's
/// noise, sends a message, and the noise never surfaces as an event ahead of a new message.
#[tokio::test]
async fn every_vendor_dialect_is_driven_through_its_profile() {
    for d in smsgw::sim::DIALECTS {
        let mut cfg = SimConfig::default();
        d.apply(&mut cfg);
        let b = Bench::new(cfg);
        let mut mc = b.config(None);
        mc.command_timeout = Duration::from_millis(800);
        let mut m = Modem::open(mc).await.unwrap();
        m.init().await.unwrap_or_else(|e| panic!("{}: {e}", d.name));
        assert_eq!(m.profile.name, d.profile, "{}", d.name);
        assert_eq!(
            m.identity.model.as_deref(),
            Some(d.model.trim()),
            "{}",
            d.name
        );
        assert_eq!(
            m.identity.imei.as_deref(),
            Some("490154203237518"),
            "{}",
            d.name
        );
        let commands = b.sim.snapshot().commands;
        for c in m.profile.init {
            assert!(
                commands.contains(&c.to_ascii_uppercase()),
                "{}: {c} not sent: {commands:?}",
                d.name
            );
        }
        // Enough answers for the noise to come, inside them.
        for _ in 0..4 {
            m.signal().await;
        }
        let mr = m
            .send(&submits("+48123456789", "vendor", 0)[0])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", d.name));
        assert_eq!(b.sim.snapshot().sent.len(), 1, "{} (TP-MR {mr})", d.name);
        b.sim.deliver_text("+48999", "Hello there", 0).unwrap();
        match next_event(&mut m).await {
            ModemEvent::NewMessage { .. } => {}
            other => panic!("{}: {other:?} came before the new message", d.name),
        }
        m.close().await;
    }
}

/// A device that refuses PDU mode is driven in text mode: UCS2 character set, a message with
/// a status report asked for sent (and its report read back as the report it stands for), a
/// received message read with its Polish letters, a concatenated part refused with a reason.
#[tokio::test]
async fn a_modem_that_refuses_pdu_mode_is_driven_in_text_mode() {
    let b = Bench::new(SimConfig {
        text_only: true,
        ..SimConfig::default()
    });
    let mut m = b.modem(None).await.unwrap();
    assert_eq!(m.text, Some(smsgw::modem::text::Charset::Ucs2));
    assert_eq!(m.delivery, Delivery::Stored);
    let one = &submits("+48123456789", "Zażółć gęślą jaźń", 0)[0];
    let mr = m.send(one).await.unwrap();
    let sent = b.sim.snapshot().sent;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].to.as_str(),
            sent[0].text.as_str(),
            sent[0].report,
            sent[0].mr
        ),
        ("+48123456789", "Zażółć gęślą jaźń", true, mr)
    );
    // The status report the network sends back, read in text mode.
    let (memory, index) = match next_event(&mut m).await {
        ModemEvent::NewReport { memory, index } => (memory, index),
        other => panic!("{other:?}"),
    };
    let report = m.read(&memory, index).await.unwrap().unwrap();
    match report.decoded.unwrap() {
        Pdu::StatusReport(r) => {
            assert_eq!((r.message_reference, r.status), (mr, 0));
            assert_eq!(r.recipient.to_string(), "+48123456789");
        }
        other => panic!("{other:?}"),
    }
    // A received message.
    b.sim.deliver_text("+48999", "Dzień dobry, 10€", 0).unwrap();
    let (memory, index) = match next_event(&mut m).await {
        ModemEvent::NewMessage { memory, index } => (memory, index),
        other => panic!("{other:?}"),
    };
    let got = m.read(&memory, index).await.unwrap().unwrap();
    match got.decoded.unwrap() {
        Pdu::Deliver(d) => {
            assert_eq!(d.originator.to_string(), "+48999");
            assert_eq!(d.user_data.text(), Some("Dzień dobry, 10€"));
        }
        other => panic!("{other:?}"),
    }
    // The sweep lists both.
    assert_eq!(m.list_all().await.unwrap().len(), 2);
    // A part of a long message cannot go in text mode.
    let parts = submits("+48123456789", &"long ".repeat(60), 7);
    let e = m.send(&parts[0]).await.unwrap_err();
    assert_eq!(e.kind, FailureKind::Rejected, "{e}");
    assert!(e.to_string().contains("concatenated"), "{e}");
    assert_eq!(b.sim.snapshot().sent.len(), 1);
}
