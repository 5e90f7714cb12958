//! The SMPP server as its users meet it: the release binary in the background with a
//! simulated modem on a pseudo-terminal, and ESMEs nobody here wrote bound to it (smpp34's
//! client and aiosmpplib from PyPI, Debian's Kannel as an SMPP client in front of its
//! smsbox), status reports and received messages made by python-gammu; bad input over a
//! raw socket.

mod gateway;
mod run;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use gateway::peer::{smpp34_python, Peer};
use gateway::Gateway;
use run::process::*;
use serde_json::{json, Value};
use smsgw::smpp::codec::{Frame, SmppCodec};
use smsgw::smpp::pdu::{cmd, status, tag, Addr, Bind, Body, CancelSm, Pdu, QuerySm, Sm, Tlv};
use tokio_util::codec::Framed;

use smsgw::pdu::to_hex as hex;

/// What a peer printed as hex.
fn unhex(s: &str) -> Vec<u8> {
    smsgw::pdu::from_hex(s).expect("hex from the peer")
}

fn ucs2(t: &str) -> Vec<u8> {
    t.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// The daemon with a modem (gsm1) and an SMPP server on a free port: account `app`
/// (receives what gsm1 receives, sends through gsm1), `slow` (2 submit_sm a second),
/// `tx` (a transmitter only).
fn start(dir: &Path, extra: &str) -> (Sim, Daemon, u16) {
    let sim = Sim::start(dir, &["--report-delay", "3600000"]);
    let port = free_port();
    let daemon = Daemon::start(
        dir,
        &format!(
            "[storage]\nkind = \"sqlite\"\npath = \"{d}/smsgw.db\"\n\n[[phone]]\nid = \"gsm1\"\ndevice = \"{}\"\nreceive_frequency = 60\n\n\
[smpp_server]\nlisten = \"127.0.0.1:{port}\"\n{extra}\n\n\
[[smpp_server.account]]\nsystem_id = \"app\"\npassword = \"app-pw\"\nreceive = [\"gsm1\"]\nroutes = [\"gsm1\"]\n\n\
[[smpp_server.account]]\nsystem_id = \"slow\"\npassword = \"slow-pw\"\nrate = 2.0\n\n\
[[smpp_server.account]]\nsystem_id = \"tx\"\npassword = \"tx-pw\"\nbind_types = [\"transmitter\"]\n",
            sim.link.display(),
            d = dir.display()
        ),
    );
    daemon.wait_started();
    daemon.wait_log("SMPP server on");
    daemon.wait_log("connected");
    (sim, daemon, port)
}

/// The TLV `t` of a deliver_sm as the smpp34 peer printed it.
fn tlv(d: &Value, t: u16) -> Option<Vec<u8>> {
    d["tlvs"].as_array()?.iter().find_map(|x| {
        (x[0].as_u64() == Some(u64::from(t))).then(|| unhex(x[1].as_str().unwrap_or("")))
    })
}

fn short_text(d: &Value) -> String {
    String::from_utf8_lossy(&unhex(d["short_message_hex"].as_str().unwrap())).into_owned()
}

fn smpp34_peer() -> Option<Peer> {
    let python = smpp34_python()?;
    let mut cmd = Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/smpp34_esme.py"
    ))
    .stdin(Stdio::piped());
    Some(Peer::spawn(cmd, "the smpp34 ESME"))
}

fn ask(peer: &mut Peer, req: Value) -> Value {
    peer.tell(&req.to_string());
    let v = peer.next(&format!("an answer to {req}"));
    assert!(v.get("error").is_none(), "{req}: {v}");
    v
}

/// The next deliver_sm the peer got.
fn next_deliver(peer: &mut Peer, daemon: &Daemon) -> Value {
    let v = ask(peer, json!({"next": 30}));
    assert!(
        v.get("timeout").is_none(),
        "no deliver_sm:\n{}",
        daemon.log()
    );
    v
}

#[test]
fn an_esme_sends_through_the_modem_and_gets_receipts_and_received_messages() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let Some(mut esme) = smpp34_peer() else {
        return;
    };
    let (sim, mut daemon, port) = start(dir, "");
    let messages = peer_messages();
    // A message received before the account binds waits for it.
    let pdu = messages["single_gsm"][0].as_str().unwrap();
    assert_eq!(sim.tell(&format!("deliver {pdu}")).trim(), "delivered");
    let bound = ask(
        &mut esme,
        json!({"bind": {"port": port, "system_id": "app", "password": "app-pw"}}),
    );
    assert_eq!(bound["bound"], true);
    let mo = next_deliver(&mut esme, &daemon);
    assert_eq!(mo["esm_class"], 0);
    assert_eq!(mo["data_coding"], 0);
    assert_eq!(mo["source_addr"], "48600111222");
    assert_eq!(mo["source_addr_ton"], 1);
    assert_eq!(mo["destination_addr"], "gsm1");
    // GSM 03.38, one septet per octet: '@' is 0x00.
    let mut text = String::new();
    smsgw::pdu::gsm7::decode_septets(unhex(mo["short_message_hex"].as_str().unwrap()), &mut text);
    assert_eq!(text, messages["texts"]["single_gsm"]);

    // An ordinary one-part message, with a receipt asked for.
    let r = ask(
        &mut esme,
        json!({"submit": {"destination_addr": "48123456789", "short_message_hex": hex(b"Hello over SMPP"),
               "source_addr": "Shop", "source_addr_ton": 5, "registered_delivery": 1}}),
    );
    assert_eq!(r["status"], 0, "{r}");
    let id = r["message_id"].as_str().unwrap().to_string();
    assert!(id.parse::<i64>().is_ok(), "{id}");
    wait_for_or(
        "the modem to send",
        || !sim.sent().is_empty(),
        || daemon.log(),
    );
    let sent = sim.sent();
    assert_eq!(sent[0]["to"], "+48123456789");
    assert_eq!(sent[0]["text"], "Hello over SMPP");
    assert_eq!(sent[0]["report"], true);
    let mr = sent[0]["mr"].as_u64().unwrap();
    assert_eq!(
        sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")))
            .trim(),
        "delivered"
    );
    let receipt = next_deliver(&mut esme, &daemon);
    assert_eq!(receipt["esm_class"], 4, "{receipt}");
    assert_eq!(receipt["source_addr"], "48123456789");
    assert_eq!(receipt["destination_addr"], "Shop");
    let mut want_id = id.clone().into_bytes();
    want_id.push(0);
    assert_eq!(tlv(&receipt, tag::RECEIPTED_MESSAGE_ID), Some(want_id));
    assert_eq!(tlv(&receipt, tag::MESSAGE_STATE), Some(vec![2]));
    let text = short_text(&receipt);
    assert!(
        text.starts_with(&format!("id:{id} sub:001 dlvrd:001 submit date:")),
        "{text}"
    );
    assert!(
        text.contains(" stat:DELIVRD err:000 text:Hello over SMPP"),
        "{text}"
    );

    // A long UCS-2 message in two parts tied by the SAR TLVs, sent at once as ESMEs do:
    // one stored message, both parts answered with its id, sent by the modem in two parts.
    let long = "Zażółć gęślą jaźń. ".repeat(6);
    let units = ucs2(&long);
    let (a, b) = units.split_at(134);
    let part = |body: &[u8], seq: u8| {
        json!({"destination_addr": "48123456780", "short_message_hex": hex(body), "data_coding": 8,
               "registered_delivery": 1, "tlvs": [
                   [tag::SAR_MSG_REF_NUM, "1234"], [tag::SAR_TOTAL_SEGMENTS, "02"],
                   [tag::SAR_SEGMENT_SEQNUM, format!("{seq:02x}")]]})
    };
    let all = ask(&mut esme, json!({"submit_many": [part(a, 1), part(b, 2)]}));
    let all = all["all"].as_array().unwrap();
    assert_eq!(all[0]["status"], 0, "{all:?}");
    assert_eq!(all[0]["message_id"], all[1]["message_id"], "{all:?}");
    wait_for_or("the two parts", || sim.sent().len() == 3, || daemon.log());
    let sent = sim.sent();
    let joined: String = sent[1..]
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(joined, long);
    assert_eq!(sent[1]["part"][1], 2);

    // A received two-part message arrives joined, in one deliver_sm.
    for pdu in messages["two_part"].as_array().unwrap() {
        sim.tell(&format!("deliver {}", pdu.as_str().unwrap()));
    }
    let mo = next_deliver(&mut esme, &daemon);
    let mut text = String::new();
    smsgw::pdu::gsm7::decode_septets(unhex(mo["short_message_hex"].as_str().unwrap()), &mut text);
    assert_eq!(text, messages["texts"]["two_part"]);
    // A stop with an ESME bound: it is sent an unbind, the daemon ends within its grace.
    daemon.stop();
}

#[test]
fn aiosmpplib_sends_long_text_in_message_payload_and_gets_one_receipt_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let Some(python) = smpp34_python() else {
        return;
    };
    let (sim, mut daemon, port) = start(dir, "");
    let long = "A long message from aiosmpplib, sent whole in message_payload. ".repeat(4);
    let mut cmd = Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/aiosmpplib_esme.py"
    ))
    .args([
        "--port",
        &port.to_string(),
        "--system-id",
        "app",
        "--password",
        "app-pw",
    ])
    .args(["--to", "48123456789", "Hi from aiosmpplib", &long]);
    let esme = Peer::spawn(cmd, "the aiosmpplib ESME");
    let mut ids = std::collections::HashMap::new();
    while ids.len() < 2 {
        let v = esme.next("a submit_sm_resp");
        if let Some(i) = v["resp"].as_str() {
            assert_eq!(v["status"], 0, "{v}\n{}", daemon.log());
            ids.insert(i.to_string(), v["message_id"].as_str().unwrap().to_string());
        }
    }
    assert_ne!(ids["0"], ids["1"]);
    // 252 characters: two parts.
    wait_for_or(
        "1 + 2 parts sent",
        || sim.sent().len() == 3,
        || daemon.log(),
    );
    let sent = sim.sent();
    let joined: String = sent
        .iter()
        .filter(|s| s["part"].is_array())
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(joined, long);
    for s in &sent {
        let mr = s["mr"].as_u64().unwrap();
        let to = s["to"].as_str().unwrap();
        assert_eq!(
            sim.tell(&format!("deliver {}", peer_report(mr, to))).trim(),
            "delivered"
        );
    }
    // One receipt per message (the long one when its last part is delivered), then a
    // received message.
    let mut receipts = Vec::new();
    while receipts.len() < 2 {
        let v = esme.next("a receipt");
        if v["receipt"] == true {
            receipts.push(v["text"].as_str().unwrap().to_string());
        }
    }
    for id in ids.values() {
        assert!(
            receipts
                .iter()
                .any(|r| r.starts_with(&format!("id:{id} ")) && r.contains("stat:DELIVRD")),
            "{receipts:?}"
        );
    }
    let messages = peer_messages();
    for pdu in messages["three_part_ucs2"].as_array().unwrap() {
        sim.tell(&format!("deliver {}", pdu.as_str().unwrap()));
    }
    let got = loop {
        let v = esme.next("a received message");
        if v.get("received").is_some() {
            break v;
        }
    };
    assert_eq!(
        got["received"], messages["texts"]["three_part_ucs2"],
        "{got}"
    );
    assert!(
        esme.lines.try_recv().is_err(),
        "nothing more (one receipt per message)"
    );
    daemon.stop();
}

/// A connection speaking SMPP with our codec, for what no real client would send.
struct Raw {
    f: Framed<tokio::net::TcpStream, SmppCodec>,
    seq: u32,
}

impl Raw {
    async fn connect(port: u16) -> Raw {
        let s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        Raw {
            f: Framed::new(s, SmppCodec::default()),
            seq: 0,
        }
    }

    async fn call(&mut self, command_id: u32, body: Body) -> Pdu {
        self.seq += 1;
        let p = Pdu::new(command_id, self.seq, body);
        self.f.send(&p).await.unwrap();
        self.answer().await
    }

    async fn answer(&mut self) -> Pdu {
        match tokio::time::timeout(T, self.f.next()).await {
            Ok(Some(Ok(Frame::Pdu(p)))) => p,
            other => panic!("no answer: {other:?}"),
        }
    }

    async fn bind(&mut self, system_id: &str, password: &str, command_id: u32) -> u32 {
        let b = Bind {
            system_id: system_id.into(),
            password: password.into(),
            interface_version: 0x34,
            ..Bind::default()
        };
        let body = match command_id {
            cmd::BIND_TRANSMITTER => Body::BindTransmitter(b),
            cmd::BIND_RECEIVER => Body::BindReceiver(b),
            _ => Body::BindTransceiver(b),
        };
        self.call(command_id, body).await.status
    }

    async fn submit(&mut self, sm: Sm) -> (u32, String) {
        let p = self.call(cmd::SUBMIT_SM, Body::SubmitSm(sm)).await;
        assert_eq!(p.command_id, cmd::SUBMIT_SM_RESP);
        match p.body {
            Body::Resp { message_id, .. } => (p.status, message_id),
            other => panic!("{other:?}"),
        }
    }
}

fn sm(to: &str, text: &[u8]) -> Sm {
    Sm {
        destination: Addr {
            ton: 1,
            npi: 1,
            addr: to.into(),
        },
        short_message: text.to_vec(),
        ..Sm::default()
    }
}

#[test]
fn bad_input_is_answered_with_its_status_and_stops_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let metrics_port = free_port();
    let (sim, mut daemon, port) = start(
        dir,
        &format!("max_parts = 3\n\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\""),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = Raw::connect(port).await;
        // Before a bind.
        let (st, _) = c.submit(sm("4790000001", b"x")).await;
        assert_eq!(st, status::ESME_RINVBNDSTS);
        // An unknown command.
        let p = c.call(0x0000_0021, Body::Other(vec![0; 8])).await;
        assert_eq!(
            (p.command_id, p.status),
            (cmd::GENERIC_NACK, status::ESME_RINVCMDID)
        );
        // Wrong password, unknown account, a bind type the account may not make.
        assert_eq!(
            c.bind("app", "wrong", cmd::BIND_TRANSCEIVER).await,
            status::ESME_RINVPASWD
        );
        assert_eq!(
            c.bind("nobody", "x", cmd::BIND_TRANSCEIVER).await,
            status::ESME_RINVSYSID
        );
        let mut t = Raw::connect(port).await;
        assert_eq!(
            t.bind("tx", "tx-pw", cmd::BIND_RECEIVER).await,
            status::ESME_RBINDFAIL
        );
        assert_eq!(
            t.bind("tx", "tx-pw", cmd::BIND_TRANSMITTER).await,
            status::ESME_ROK
        );
        let mut c = Raw::connect(port).await;
        assert_eq!(
            c.bind("app", "app-pw", cmd::BIND_TRANSCEIVER).await,
            status::ESME_ROK
        );
        assert_eq!(
            c.bind("app", "app-pw", cmd::BIND_TRANSCEIVER).await,
            status::ESME_RALYBND
        );
        // Empty destination, too long a text, UCS-2 of an odd length, a reserved esm_class.
        assert_eq!(c.submit(sm("", b"x")).await.0, status::ESME_RINVDSTADR);
        let mut long = sm("4790000001", b"");
        long.tlvs = vec![Tlv::new(tag::MESSAGE_PAYLOAD, vec![b'x'; 600])];
        assert_eq!(c.submit(long).await.0, status::ESME_RINVMSGLEN);
        let mut odd = sm("4790000001", &[0, 0x41, 0]);
        odd.data_coding = 8;
        assert_eq!(c.submit(odd).await.0, status::ESME_RINVDCS);
        let mut receipt_like = sm("4790000001", b"x");
        receipt_like.esm_class = 0x04;
        assert_eq!(c.submit(receipt_like).await.0, status::ESME_RINVESMCLASS);
        // query_sm and cancel_sm of a message scheduled an hour ahead.
        let mut later = sm("4790000001", b"later");
        later.schedule_delivery_time = "000000010000000R".into();
        let (st, id) = c.submit(later).await;
        assert_eq!(st, status::ESME_ROK);
        let q = c
            .call(
                cmd::QUERY_SM,
                Body::QuerySm(QuerySm {
                    message_id: id.clone(),
                    ..QuerySm::default()
                }),
            )
            .await;
        match &q.body {
            Body::QuerySmResp(r) => assert_eq!((q.status, r.message_state), (0, 1), "{q:?}"),
            other => panic!("{other:?}"),
        }
        let cancel = c
            .call(
                cmd::CANCEL_SM,
                Body::CancelSm(CancelSm {
                    message_id: id.clone(),
                    ..CancelSm::default()
                }),
            )
            .await;
        assert_eq!((cancel.command_id, cancel.status), (cmd::CANCEL_SM_RESP, 0));
        let q = c
            .call(
                cmd::QUERY_SM,
                Body::QuerySm(QuerySm {
                    message_id: id.clone(),
                    ..QuerySm::default()
                }),
            )
            .await;
        assert!(
            matches!(q.body, Body::QuerySmResp(ref r) if r.message_state == 4),
            "{q:?}"
        );
        // Another account's message is not this one's to see.
        assert_eq!(
            t.call(
                cmd::QUERY_SM,
                Body::QuerySm(QuerySm {
                    message_id: id,
                    ..QuerySm::default()
                })
            )
            .await
            .status,
            status::ESME_RINVMSGID
        );
        // Over its rate: throttled.
        let mut s = Raw::connect(port).await;
        assert_eq!(
            s.bind("slow", "slow-pw", cmd::BIND_TRANSMITTER).await,
            status::ESME_ROK
        );
        let mut throttled = 0;
        for _ in 0..5 {
            if s.submit(sm("4790000002", b"fast")).await.0 == status::ESME_RTHROTTLED {
                throttled += 1;
            }
        }
        assert!(throttled >= 2, "{throttled}");

        // A client that writes without reading: its answers pile up, it stops being read,
        // and everyone else goes on.
        let mut flood = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let enquire = Pdu::new(cmd::ENQUIRE_LINK, 1, Body::EnquireLink)
            .encode()
            .unwrap();
        let blob: Vec<u8> = enquire
            .iter()
            .copied()
            .cycle()
            .take(enquire.len() * 500_000)
            .collect();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = flood.write_all(&blob);
            std::thread::sleep(Duration::from_secs(60));
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        for i in 0..10 {
            let (st, _) = c
                .submit(sm("4790000003", format!("still here {i}").as_bytes()))
                .await;
            assert_eq!(st, status::ESME_ROK);
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );

        // A length that lies beyond the limit: generic_nack, and the connection closed.
        let mut bad = Raw::connect(port).await;
        use tokio::io::AsyncWriteExt;
        bad.f
            .get_mut()
            .write_all(&[0, 0x10, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 7])
            .await
            .unwrap();
        let p = bad.answer().await;
        assert_eq!(
            (p.command_id, p.status),
            (cmd::GENERIC_NACK, status::ESME_RINVCMDLEN)
        );
        assert!(
            matches!(
                tokio::time::timeout(T, bad.f.next()).await,
                Ok(None) | Ok(Some(Err(_)))
            ),
            "the connection stays open"
        );
    });
    wait_for_or(
        "the ten messages",
        || {
            sim.sent()
                .iter()
                .filter(|s| s["text"].as_str().unwrap_or("").starts_with("still here"))
                .count()
                == 10
        },
        || daemon.log(),
    );
    let log = daemon.log();
    assert!(!log.contains("panicked"), "{log}");
    // The counters per account, as Prometheus reads them.
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10"])
        .arg(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&out.stdout);
    let value = |line: &str| -> i64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line} in\n{metrics}"))
    };
    assert_eq!(value("smsgw_smpp_submits_total{account=\"app\"}"), 11);
    assert!(value("smsgw_smpp_errors_total{account=\"app\"}") >= 6);
    assert!(value("smsgw_smpp_errors_total{account=\"slow\"}") >= 2);
    assert_eq!(value("smsgw_smpp_binds_total{account=\"tx\"}"), 1);
    assert_eq!(value("smsgw_smpp_binds_total{account=\"app\"}"), 1);
    daemon.stop();
}

/// An account added by a reload (SIGHUP) binds at once and gets the messages its phones
/// receive from then on (its consumer of the event log starts with the reload).
#[test]
fn an_account_added_by_sighup_gets_received_messages() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let Some(mut esme) = smpp34_peer() else {
        return;
    };
    let (sim, mut daemon, port) = start(dir, "");
    let mut config = std::fs::read_to_string(&daemon.config).unwrap();
    config.push_str("\n[[smpp_server.account]]\nsystem_id = \"late\"\npassword = \"late-pw\"\nreceive = [\"*\"]\n");
    std::fs::write(&daemon.config, config).unwrap();
    let pid = nix::unistd::Pid::from_raw(daemon.child.as_ref().unwrap().id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    daemon.wait_log("new event log consumers started");
    let bound = ask(
        &mut esme,
        json!({"bind": {"port": port, "system_id": "late", "password": "late-pw", "bind_type": "RX"}}),
    );
    assert_eq!(bound["bound"], true);
    let messages = peer_messages();
    let pdu = messages["single_ucs2"][0].as_str().unwrap();
    assert_eq!(sim.tell(&format!("deliver {pdu}")).trim(), "delivered");
    let mo = next_deliver(&mut esme, &daemon);
    assert_eq!(mo["data_coding"], 8);
    let units: Vec<u16> = unhex(mo["short_message_hex"].as_str().unwrap())
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(
        String::from_utf16(&units).unwrap(),
        messages["texts"]["single_ucs2"].as_str().unwrap()
    );
    daemon.stop();
}

/// SMPP over TLS: a client trusting the certificate binds and submits; plain SMPP to the
/// TLS port gets nothing, and the server goes on.
#[test]
fn smpp_over_tls() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{
        self,
        pki_types::{pem::PemObject, CertificateDer, ServerName},
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ca, cert, key) = certificates(dir);
    let tls_port = free_port();
    let (sim, mut daemon, _) = start(
        dir,
        &format!(
            "tls_listen = \"127.0.0.1:{tls_port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"",
            cert.display(),
            key.display()
        ),
    );
    daemon.wait_log("SMPP server over TLS on");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        // Plain SMPP to the TLS port: no answer, the connection dropped.
        let mut plain = Raw::connect(tls_port).await;
        plain
            .f
            .send(&Pdu::new(cmd::ENQUIRE_LINK, 1, Body::EnquireLink))
            .await
            .unwrap();
        assert!(matches!(
            tokio::time::timeout(T, plain.f.next()).await,
            Ok(None) | Ok(Some(Err(_)))
        ));
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", tls_port))
            .await
            .unwrap();
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .expect("the TLS handshake");
        let mut f = Framed::new(tls, SmppCodec::default());
        let mut call = async |seq: u32, command_id: u32, body: Body| {
            f.send(&Pdu::new(command_id, seq, body)).await.unwrap();
            match tokio::time::timeout(T, f.next()).await {
                Ok(Some(Ok(Frame::Pdu(p)))) => p,
                other => panic!("{other:?}"),
            }
        };
        let b = Bind {
            system_id: "app".into(),
            password: "app-pw".into(),
            interface_version: 0x34,
            ..Bind::default()
        };
        assert_eq!(
            call(1, cmd::BIND_TRANSCEIVER, Body::BindTransceiver(b))
                .await
                .status,
            0
        );
        let r = call(
            2,
            cmd::SUBMIT_SM,
            Body::SubmitSm(sm("48123456789", b"over TLS")),
        )
        .await;
        assert_eq!((r.command_id, r.status), (cmd::SUBMIT_SM_RESP, 0));
    });
    wait_for_or(
        "the modem to send",
        || sim.sent().iter().any(|s| s["text"] == "over TLS"),
        || daemon.log(),
    );
    daemon.stop();
}

/// Debian's Kannel as an SMPP client: its bearerbox binds to smsgw as a transceiver;
/// an application sends through Kannel's smsbox (one message and one Kannel splits in
/// parts), gets the delivery report through its dlr-url, and a received message reaches it
/// through Kannel's sms-service.
#[test]
fn kannel_binds_as_a_transceiver_and_sends_receives_and_gets_reports() {
    if !Kannel::installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(Gateway::start());
    let (sim, mut daemon, port) = start(dir, "");
    let kannel = Kannel::start(
        dir,
        &format!(
            "group = smsc\nsmsc = smpp\nsmsc-id = smsgw\nhost = 127.0.0.1\nport = {port}\ntransceiver-mode = true\nsmsc-username = app\nsmsc-password = app-pw\nsystem-type = \"\"\nmsg-id-type = 0x00\nenquire-link-interval = 30\n\n\
group = sms-service\nkeyword = default\nget-url = \"{}\"\nmax-messages = 0\ncatch-all = true\n",
            app.url("/mo?from=%p&to=%P&coding=%c&text=%a")
        ),
    );
    let sendsms = kannel.sendsms;
    let kannel_log = || format!("{}\n{}", kannel.log(), daemon.log());
    wait_for_or(
        "Kannel to bind",
        || daemon.log().contains("bound as transceiver"),
        kannel_log,
    );
    let send = |text: &str, to: &str| {
        let out = Command::new("curl")
            .args(["-s", "-G", "--max-time", "20"])
            .args([
                "--data-urlencode",
                "username=shop",
                "--data-urlencode",
                "password=shop-pw",
            ])
            .args([
                "--data-urlencode",
                &format!("to={to}"),
                "--data-urlencode",
                &format!("text={text}"),
            ])
            .args([
                "--data-urlencode",
                "dlr-mask=3",
                "--data-urlencode",
                "from=Shop",
            ])
            .args([
                "--data-urlencode",
                &format!("dlr-url={}", app.url("/dlr?type=%d&to=%p")),
            ])
            .arg(format!("http://127.0.0.1:{sendsms}/cgi-bin/sendsms"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let answer = send("Via Kannel over SMPP", "+48123456789");
    assert!(
        answer.contains("Accepted") || answer.contains("Sent"),
        "{answer}\n{}",
        kannel_log()
    );
    wait_for_or(
        "smsgw's modem to send",
        || !sim.sent().is_empty(),
        kannel_log,
    );
    let sent = sim.sent();
    assert_eq!(sent[0]["text"], "Via Kannel over SMPP");
    assert_eq!(sent[0]["to"], "+48123456789");
    assert_eq!(sent[0]["report"], true);
    let mr = sent[0]["mr"].as_u64().unwrap();
    sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")));
    let query = |target: &str, name: &str| -> Option<String> {
        let q = target.split_once('?')?.1;
        q.split('&').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k == name).then(|| gateway::form_decode(v))
        })
    };
    wait_for_or(
        "a DLR type 1 at the application",
        || {
            app.requests().iter().any(|r| {
                r.target.starts_with("/dlr") && query(&r.target, "type").as_deref() == Some("1")
            })
        },
        kannel_log,
    );
    // Kannel splits a long text into parts with a UDH and sends them in its window: smsgw
    // joins them, and its modem sends the whole in parts of its own.
    let long = "Kannel splits this text, smsgw joins it again and sends it whole. ".repeat(3);
    let answer = send(&long, "+48123456780");
    assert!(
        answer.contains("Accepted") || answer.contains("Sent"),
        "{answer}"
    );
    wait_for_or(
        "the long message",
        || {
            sim.sent()
                .iter()
                .any(|s| s["to"] == "+48123456780" && s["part"][0] == 2)
        },
        kannel_log,
    );
    let joined: String = sim
        .sent()
        .iter()
        .filter(|s| s["to"] == "+48123456780")
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(joined, long);
    // A message the modem received reaches the application through Kannel.
    // Kannel hands a UCS-2 text to its service as UTF-16BE (%c is its coding, 2).
    let messages = peer_messages();
    sim.tell(&format!(
        "deliver {}",
        messages["single_ucs2"][0].as_str().unwrap()
    ));
    let text_of = |target: &str| -> Option<String> {
        let q = target.split_once('?')?.1;
        let raw = q.split('&').find_map(|p| p.strip_prefix("text="))?;
        let mut bytes = Vec::new();
        let mut it = raw.bytes();
        while let Some(b) = it.next() {
            match b {
                b'%' => {
                    let h: String = [it.next()?, it.next()?]
                        .iter()
                        .map(|&c| c as char)
                        .collect();
                    bytes.push(u8::from_str_radix(&h, 16).ok()?);
                }
                b'+' => bytes.push(b' '),
                b => bytes.push(b),
            }
        }
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16(&units).ok()
    };
    wait_for_or(
        "the received message at the application",
        || {
            app.requests().iter().any(|r| {
                r.target.starts_with("/mo")
                    && text_of(&r.target).as_deref() == messages["texts"]["single_ucs2"].as_str()
            })
        },
        || format!("{:#?}\n{}", app.requests(), kannel_log()),
    );
    daemon.stop();
}
