//! SMPP 3.4: our codec checked against smpp34's (PyPI smpp34 1.5.0, a Rust-backed SMPP
//! codec, client and server nobody here wrote; installed into target/test-venv by
//! scripts/install-test-deps.sh). PDUs we encode decode to the same fields with theirs, and
//! PDUs they encode decode to the same fields with ours.

mod gateway;
mod run;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use smsgw::smpp::pdu::{cmd, tag, Addr, Bind, Body, Pdu, Sm, Tlv};

/// smpp34's codec behind a pipe.
struct Oracle {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Oracle {
    fn start() -> Option<Oracle> {
        let python = gateway::peer::smpp34_python()?;
        let mut child = Command::new(python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/gateway/smpp_codec.py"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        Some(Oracle { child, out })
    }

    fn ask(&mut self, req: Value) -> Value {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{req}").unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(v.get("error").is_none(), "smpp34 refused {req}: {v}");
        v
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The fields of `sm` as the oracle names them.
fn as_json(kind: &str, seq: u32, m: &Sm) -> Value {
    json!({
        "kind": kind,
        "sequence_number": seq,
        "service_type": m.service_type,
        "source_addr_ton": m.source.ton,
        "source_addr_npi": m.source.npi,
        "source_addr": m.source.addr,
        "dest_addr_ton": m.destination.ton,
        "dest_addr_npi": m.destination.npi,
        "destination_addr": m.destination.addr,
        "esm_class": m.esm_class,
        "protocol_id": m.protocol_id,
        "priority_flag": m.priority_flag,
        "schedule_delivery_time": m.schedule_delivery_time,
        "validity_period": m.validity_period,
        "registered_delivery": m.registered_delivery,
        "replace_if_present_flag": m.replace_if_present_flag,
        "data_coding": m.data_coding,
        "sm_default_msg_id": m.sm_default_msg_id,
        "short_message": hex(&m.short_message),
        "tlvs": m.tlvs.iter().map(|t| json!([t.tag, hex(&t.value)])).collect::<Vec<_>>(),
    })
}

fn samples() -> Vec<Sm> {
    let ucs2: Vec<u8> = "Zasilanie: łącze ✓"
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    vec![
        Sm {
            source: Addr { ton: 5, npi: 0, addr: "NOC".into() },
            destination: Addr { ton: 1, npi: 1, addr: "4799990000".into() },
            short_message: b"box down sw1 10.0.0.1".to_vec(),
            registered_delivery: 1,
            ..Sm::default()
        },
        // UCS-2 with a concatenation UDH (esm_class 0x40), a validity and a service type.
        Sm {
            service_type: "CMT".into(),
            source: Addr { ton: 1, npi: 1, addr: "48600100200".into() },
            destination: Addr { ton: 1, npi: 1, addr: "48600100201".into() },
            esm_class: 0x40,
            data_coding: 8,
            validity_period: "000001000000000R".into(),
            short_message: [vec![5, 0, 3, 0x2a, 2, 1], ucs2.clone()].concat(),
            ..Sm::default()
        },
        // SAR TLVs, and message_payload with an empty short_message.
        Sm {
            destination: Addr { ton: 1, npi: 1, addr: "4711111111".into() },
            data_coding: 0,
            tlvs: vec![
                Tlv::u16(tag::SAR_MSG_REF_NUM, 0x1234),
                Tlv::u8(tag::SAR_TOTAL_SEGMENTS, 3),
                Tlv::u8(tag::SAR_SEGMENT_SEQNUM, 2),
                Tlv::new(tag::MESSAGE_PAYLOAD, vec![b'x'; 400]),
            ],
            ..Sm::default()
        },
        // A receipt as an SMSC sends it.
        Sm {
            source: Addr { ton: 1, npi: 1, addr: "4799990000".into() },
            destination: Addr { ton: 5, npi: 0, addr: "NOC".into() },
            esm_class: 0x04,
            short_message: b"id:m-17 sub:001 dlvrd:001 submit date:2611231405 done date:2611231406 stat:DELIVRD err:000 text:box down".to_vec(),
            tlvs: vec![
                Tlv::new(tag::RECEIPTED_MESSAGE_ID, b"m-17\0".to_vec()),
                Tlv::u8(tag::MESSAGE_STATE, 2),
            ],
            ..Sm::default()
        },
    ]
}

#[test]
fn what_we_encode_smpp34_decodes_to_the_same_fields() {
    let Some(mut o) = Oracle::start() else { return };
    for (i, m) in samples().into_iter().enumerate() {
        for (kind, id) in [
            ("submit_sm", cmd::SUBMIT_SM),
            ("deliver_sm", cmd::DELIVER_SM),
        ] {
            let seq = 0x7FFF_FFF0 + i as u32;
            let body = if id == cmd::SUBMIT_SM {
                Body::SubmitSm(m.clone())
            } else {
                Body::DeliverSm(m.clone())
            };
            let bytes = Pdu::new(id, seq, body).encode().unwrap();
            let mut got = o.ask(json!({ "decode": hex(&bytes) }));
            let mut want = as_json(kind, seq, &m);
            want.as_object_mut().unwrap().remove("kind");
            assert_eq!(
                got.as_object_mut().unwrap().remove("command_id"),
                Some(json!(id))
            );
            assert_eq!(got, want, "{kind} sample {i}");
        }
    }
    // PDUs without a class of theirs: the header and body as we laid them out.
    for p in [
        Pdu::new(cmd::ENQUIRE_LINK, 7, Body::EnquireLink),
        Pdu::new(
            cmd::BIND_TRANSCEIVER,
            1,
            Body::BindTransceiver(Bind {
                system_id: "smsgw".into(),
                password: "secret".into(),
                interface_version: 0x34,
                ..Bind::default()
            }),
        ),
        Pdu::new(
            cmd::DELIVER_SM_RESP,
            9,
            Body::Resp {
                message_id: String::new(),
                tlvs: vec![],
            },
        ),
    ] {
        let bytes = p.encode().unwrap();
        let got = o.ask(json!({ "decode": hex(&bytes) }));
        assert_eq!(got["command_id"], json!(p.command_id));
        assert_eq!(got["sequence_number"], json!(p.sequence));
        assert_eq!(got["body"], json!(hex(&bytes[16..])));
    }
}

#[test]
fn what_smpp34_encodes_we_decode_to_the_same_fields() {
    let Some(mut o) = Oracle::start() else { return };
    for (i, m) in samples().into_iter().enumerate() {
        for (kind, id) in [
            ("submit_sm", cmd::SUBMIT_SM),
            ("deliver_sm", cmd::DELIVER_SM),
        ] {
            let seq = 1000 + i as u32;
            let got = o.ask(json!({ "encode": as_json(kind, seq, &m) }));
            let bytes = unhex(got["hex"].as_str().unwrap());
            let p = Pdu::decode(&bytes).unwrap_or_else(|e| panic!("{kind} sample {i}: {e}"));
            assert_eq!((p.command_id, p.sequence, p.status), (id, seq, 0));
            let ours = match p.body {
                Body::SubmitSm(s) | Body::DeliverSm(s) => s,
                other => panic!("{other:?}"),
            };
            assert_eq!(ours, m, "{kind} sample {i}");
            // And our encoding is byte for byte theirs.
            assert_eq!(Pdu::decode(&bytes).unwrap().encode().unwrap(), bytes);
        }
    }
}

// ---- the session against a scripted peer (what smpp34's server cannot be made to do) ----

use futures_util::{SinkExt, StreamExt};
use smsgw::smpp::codec::{Frame, SmppCodec};
use smsgw::smpp::pdu::status;
use smsgw::smpp::session::{BindAs, Session, SessionError, Settings};
use std::time::Duration;
use tokio_util::codec::Framed;

fn settings(port: u16) -> Settings {
    Settings {
        address: format!("127.0.0.1:{port}"),
        system_id: "smsgw".into(),
        password: "wrong".into(),
        system_type: String::new(),
        address_range: "^4860".into(),
        interface_version: 0x33,
        bind: BindAs::Transceiver,
        enquire_link: Duration::from_secs(1),
        response_timeout: Duration::from_secs(1),
        tls: None,
    }
}

/// Accepts one connection and answers the bind with `bind_status`.
async fn peer(
    bind_status: u32,
) -> (
    u16,
    tokio::task::JoinHandle<Framed<tokio::net::TcpStream, SmppCodec>>,
) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let mut f = Framed::new(s, SmppCodec::default());
        let Some(Ok(Frame::Pdu(bind))) = f.next().await else {
            panic!("no bind")
        };
        assert_eq!(bind.command_id, cmd::BIND_TRANSCEIVER);
        let Body::BindTransceiver(b) = &bind.body else {
            panic!("{bind:?}")
        };
        assert_eq!(
            (
                b.system_id.as_str(),
                b.address_range.as_str(),
                b.interface_version
            ),
            ("smsgw", "^4860", 0x33),
            "the bind carries the configured fields"
        );
        let mut resp = Pdu::new(
            cmd::BIND_TRANSCEIVER_RESP,
            bind.sequence,
            Body::BindResp {
                system_id: "PEER".into(),
                tlvs: vec![],
            },
        );
        resp.status = bind_status;
        f.send(&resp).await.unwrap();
        f
    });
    (port, task)
}

#[tokio::test]
async fn a_wrong_password_is_reported_as_such() {
    let (port, _peer) = peer(status::ESME_RINVPASWD).await;
    let e = Session::connect(&settings(port)).await.err().unwrap();
    assert_eq!(
        e.to_string(),
        "the SMSC refused the bind: ESME_RINVPASWD (wrong password)"
    );
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    assert!(matches!(
        Session::connect(&settings(port)).await.err().unwrap(),
        SessionError::Connect(..)
    ));
}

#[tokio::test]
async fn the_session_answers_enquire_link_nacks_garbage_and_drops_a_silent_link() {
    let (port, peer) = peer(status::ESME_ROK).await;
    let (session, _inbound) = Session::connect(&settings(port)).await.unwrap();
    assert_eq!(session.smsc_id, "PEER");
    let mut f = peer.await.unwrap();
    // The SMSC asks: we answer.
    f.send(&Pdu::new(cmd::ENQUIRE_LINK, 77, Body::EnquireLink))
        .await
        .unwrap();
    // An unknown command: generic_nack.
    f.send(&Pdu::new(0x0000_0021, 78, Body::Other(vec![1, 2, 3])))
        .await
        .unwrap();
    let mut answered = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // Our own enquire_link comes too; it is not answered, so the link goes down.
    while session.down().is_none() {
        match tokio::time::timeout_at(deadline, f.next()).await {
            Ok(Some(Ok(Frame::Pdu(p)))) => answered.push((p.command_id, p.sequence, p.status)),
            Ok(_) => break,
            Err(_) => panic!("the silent link was never dropped: {answered:?}"),
        }
    }
    assert!(
        answered.contains(&(cmd::ENQUIRE_LINK_RESP, 77, 0)),
        "{answered:?}"
    );
    assert!(
        answered.contains(&(cmd::GENERIC_NACK, 78, status::ESME_RINVCMDID)),
        "{answered:?}"
    );
    assert!(
        answered.iter().any(|a| a.0 == cmd::ENQUIRE_LINK),
        "{answered:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while session.down().is_none() {
        assert!(tokio::time::Instant::now() < deadline, "the link stayed up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        session.down().unwrap().contains("enquire_link"),
        "{:?}",
        session.down()
    );
    // A request on a dead link fails at once.
    assert!(matches!(
        session.request(cmd::ENQUIRE_LINK, Body::EnquireLink).await,
        Err(SessionError::LinkDown(_))
    ));
}

/// The smpp34 crate's SMSC (nobody here wrote it): binds only with the password "right".
struct CheckingSmsc;

#[async_trait::async_trait]
impl smpp34::SmppServerListener for CheckingSmsc {
    async fn on_bind_transceiver(
        &self,
        req: smpp34::bind_transceiver,
        _c: &smpp34::SmppConnectionInformation,
        _s: &String,
    ) -> smpp34::bind_transceiver_resp {
        if req.password == "right" {
            req.accept("CRATE".to_string(), Some(0x34))
        } else {
            req.reject(smpp34::SmppError::ESME_RINVPASWD)
        }
    }
}

/// The smpp34 crate's SMSC (with [`CheckingSmsc`]) on a free port, accepting.
async fn crate_smsc() -> (u16, smpp34::SmppServer) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = smpp34::SmppServer::new(
        std::net::IpAddr::from([127, 0, 0, 1]),
        port,
        std::sync::Arc::new(CheckingSmsc),
    );
    server.start().await;
    // The server listens from a task of its own: wait until it accepts.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the SMSC did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (port, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smpp34_crates_smsc_refuses_a_wrong_password_and_binds_the_right_one() {
    let (port, _server) = crate_smsc().await;
    let e = Session::connect(&settings(port)).await.err().unwrap();
    assert_eq!(
        e.to_string(),
        "the SMSC refused the bind: ESME_RINVPASWD (wrong password)"
    );
    let right = Settings {
        password: "right".into(),
        ..settings(port)
    };
    let (session, _inbound) = Session::connect(&right).await.unwrap();
    assert_eq!(session.smsc_id, "CRATE");
    session.close();
}

/// A TLS front for `backend` (as stunnel puts one before an SMSC); its port.
async fn tls_front(cert: &std::path::Path, key: &std::path::Path, backend: u16) -> u16 {
    use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let certs: Vec<_> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", backend))
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_over_tls_with_the_smscs_ca_and_refuses_an_unknown_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = run::process::certificates(dir.path());
    let (port, _server) = crate_smsc().await;
    let front = tls_front(&cert, &key, port).await;
    let tls = |ca: Option<&std::path::Path>| Settings {
        password: "right".into(),
        address: format!("localhost:{front}"),
        tls: Some(smsgw::smpp::session::Tls {
            name: "localhost".into(),
            ca_file: ca.map(std::path::Path::to_path_buf),
        }),
        ..settings(port)
    };
    let (session, _inbound) = Session::connect(&tls(Some(&ca))).await.unwrap();
    assert_eq!(session.smsc_id, "CRATE");
    let resp = session
        .request(cmd::ENQUIRE_LINK, Body::EnquireLink)
        .await
        .unwrap();
    assert_eq!(resp.command_id, cmd::ENQUIRE_LINK_RESP);
    session.close();
    // Without the SMSC's CA the certificate is not trusted: said so, no bind.
    let e = Session::connect(&tls(None))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("TLS") && e.contains("certificate"), "{e}");
    // A CA file that is not there is named.
    let e = Session::connect(&tls(Some(&dir.path().join("missing.pem"))))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("missing.pem"), "{e}");
}
