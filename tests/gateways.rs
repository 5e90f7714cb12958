//! The ways out other than a modem, end to end: the daemon (`smsgw::daemon::run`) with an
//! SQLite outbox sends through real servers on 127.0.0.1: an HTTP gateway and a SOAP
//! endpoint (tests/gateway), an SMTP server (aiosmtpd, Debian's python3-aiosmtpd), and
//! failover lists of them; and NAV's alert queue (`profiles.smsq` made from NAV's DDL in the
//! machine's PostgreSQL) through those gateways and a simulated modem.

mod gateway;
mod servers;

use gateway::daemon::{Daemon, SENT, T};

use std::process::{Command, Stdio};
use std::time::Duration;

use gateway::peer::Peer;
use gateway::{Answer, Gateway};
use rusqlite::Connection;
use smsgw::config::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_get_with_navs_template_escapes_number_and_text() {
    let gw = Gateway::start().await;
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"gw\"\nkind = \"http\"\nurl = \"{}\"\n",
        gw.url("/sms/send?user=me&recv=%(phone)s&msg=%(sms)s")
    ))
    .await;
    d.inject(&["+4799990000", "Link down: a&b 50% æ+ø"]);
    let r = gw.wait_for(1, T).await;
    assert_eq!(r[0].method, "GET");
    assert_eq!(
        r[0].target,
        "/sms/send?user=me&recv=%2B4799990000&msg=Link%20down%3A%20a%26b%2050%25%20%C3%A6%2B%C3%B8"
    );
    let sent = d.wait_rows(SENT, 1).await;
    assert_eq!(sent[0], vec!["+4799990000", "gw", "SendingOKNoReport"]);
    // The row goes once the message is finished (after its sentitems row is written).
    d.wait_rows("SELECT ID FROM outbox", 0).await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_post_json_with_a_bearer_token_and_a_body_pattern() {
    let gw = Gateway::start().await;
    gw.answer(|r| {
        if r.body.contains("no credit") {
            Answer::ok(r#"{"status":"error","error":"no credit"}"#)
        } else {
            Answer::ok(r#"{"status":"ok","id":"m-17"}"#)
        }
    });
    std::env::set_var("SMSGW_TEST_GW_TOKEN", "t0ken");
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"api\"\nkind = \"http\"\nurl = \"{}\"\nauth = \"bearer\"\npassword_env = \"SMSGW_TEST_GW_TOKEN\"\n\
         body = '{{\"to\": \"{{phone}}\", \"text\": \"{{text}}\"}}'\nsuccess_pattern = '\"status\":\"ok\"'\nid_pattern = '\"id\":\"([^\"]+)\"'\nheaders = {{ \"X-Client\" = \"smsgw {{id}}\" }}\n",
        gw.url("/v1/messages")
    ))
    .await;
    d.inject(&["+48600100200", "say \"hi\"\\ \ttab"]);
    let r = gw.wait_for(1, T).await;
    assert_eq!(r[0].method, "POST");
    assert_eq!(r[0].target, "/v1/messages");
    assert_eq!(r[0].headers["authorization"], "Bearer t0ken");
    assert_eq!(r[0].headers["content-type"], "application/json");
    assert!(
        r[0].headers["x-client"].starts_with("smsgw "),
        "{:?}",
        r[0].headers
    );
    let body: serde_json::Value = serde_json::from_str(&r[0].body).unwrap();
    assert_eq!(body["to"], "+48600100200");
    assert_eq!(body["text"], "say \"hi\"\\ \ttab");
    d.wait_rows(SENT, 1).await;
    // 200 with an error body is not sent: tried again (max_retries = 1), then an error.
    d.inject(&["+48600100201", "no credit"]);
    gw.wait_for(3, T).await;
    let sent = d
        .wait_rows(
            "SELECT Status FROM sentitems WHERE DestinationNumber = '+48600100201'",
            1,
        )
        .await;
    assert_eq!(sent[0][0], "SendingError");
    assert_eq!(gw.requests().len(), 3, "one send, one retry");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_statuses_basic_auth_and_timeouts() {
    let gw = Gateway::start().await;
    gw.answer(|r| {
        let to = gateway::form_decode(r.body.split('&').next().unwrap_or(""));
        match to.as_str() {
            "phone=+1400" => Answer::status(400, "invalid number"),
            "phone=+1503" => Answer::status(503, "busy"),
            "phone=+1401" => Answer::status(401, "who are you"),
            "phone=+1999" => Answer {
                delay: Duration::from_secs(3),
                ..Answer::ok("OK")
            },
            _ => Answer::ok("OK"),
        }
    });
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"gw\"\nkind = \"http\"\nmethod = \"POST\"\nurl = \"{}\"\nauth = \"basic\"\nusername = \"nav\"\npassword = \"s3cret\"\ntimeout = 1\n",
        gw.url("/send")
    ))
    .await;
    // 400: refused for good after one request.
    d.inject(&["+1400", "a"]);
    let r = gw.wait_for(1, T).await;
    // "nav:s3cret"
    assert_eq!(r[0].headers["authorization"], "Basic bmF2OnMzY3JldA==");
    assert_eq!(
        r[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(r[0].body, "phone=%2B1400&text=a");
    let s = d.wait_rows(SENT, 1).await;
    assert_eq!(s[0][2], "SendingError");
    // 503: tried again once, then an error.
    d.inject(&["+1503", "b"]);
    d.wait_rows(SENT, 2).await;
    let n503 = gw
        .requests()
        .iter()
        .filter(|r| r.body.contains("%2B1503"))
        .count();
    assert_eq!(n503, 2);
    // A timeout (the gateway may have sent it): retried on the same gateway only.
    d.inject(&["+1999", "c"]);
    let s = d.wait_rows(SENT, 3).await;
    assert_eq!(s[2][2], "SendingError");
    let n999 = gw
        .requests()
        .iter()
        .filter(|r| r.body.contains("%2B1999"))
        .count();
    assert_eq!(n999, 2);
    // A normal one still goes.
    d.inject(&["+1200", "d"]);
    let s = d.wait_rows(SENT, 4).await;
    assert_eq!(s[3][2], "SendingOKNoReport");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_uses_the_second_gateway_then_the_first_after_its_cooldown() {
    let first_addr = gateway::closed_port();
    let second = Gateway::start().await;
    let hanging = Gateway::start().await;
    hanging.answer(|_| Answer {
        delay: Duration::from_secs(3),
        ..Answer::ok("OK")
    });
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"alerts\"\nkind = \"failover\"\nmembers = [\"first\", \"second\"]\nfailures = 2\ncooldown = 2\n\n\
         [[transport]]\nid = \"first\"\nkind = \"http\"\nurl = \"http://{first_addr}/send?to={{phone}}&text={{text}}\"\n\n\
         [[transport]]\nid = \"second\"\nkind = \"http\"\nurl = \"{}\"\n\n\
         [[transport]]\nid = \"slow\"\nkind = \"failover\"\nmembers = [\"hanging\", \"second2\"]\n\n\
         [[transport]]\nid = \"hanging\"\nkind = \"http\"\nurl = \"{}\"\ntimeout = 1\n\n\
         [[transport]]\nid = \"second2\"\nkind = \"http\"\nurl = \"{}\"\n",
        second.url("/send?to={phone}&text={text}"),
        hanging.url("/h?to={phone}&text={text}"),
        second.url("/second2?to={phone}&text={text}"),
    ))
    .await;
    // The first gateway is down: every message goes through the second, once.
    for i in 0..5 {
        d.inject(&["-i", "alerts", "+4711111111", &format!("m{i}")]);
    }
    d.wait_rows(SENT, 5).await;
    let texts: Vec<String> = second.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
    for i in 0..5 {
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.ends_with(&format!("text=m{i}")))
                .count(),
            1
        );
    }
    assert!(d
        .rows(SENT)
        .iter()
        .all(|r| r[1] == "alerts" && r[2] == "SendingOKNoReport"));
    // The first comes back: after its cool-down it is used again.
    let first = Gateway::start_at(first_addr).await;
    let mut i = 5;
    let deadline = tokio::time::Instant::now() + T;
    while first.requests().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first gateway was never tried again"
        );
        d.inject(&["-i", "alerts", "+4711111111", &format!("m{i}")]);
        i += 1;
        d.wait_rows(SENT, i).await;
    }
    // Every message was sent exactly once overall.
    assert_eq!(first.requests().len() + second.requests().len(), i);
    // A gateway that takes the message and answers too late is not failed over.
    d.inject(&["-i", "slow", "+4722222222", "maybe"]);
    d.wait_rows(SENT, i + 1).await;
    assert_eq!(
        hanging.requests().len(),
        2,
        "sent, then retried on the same gateway"
    );
    assert!(second
        .requests()
        .iter()
        .all(|r| !r.target.starts_with("/second2")));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_posts_boosts_envelope_and_a_fault_is_not_sent() {
    let gw = Gateway::start().await;
    gw.answer(|r| {
        if r.body.contains("<phone>+4700000000</phone>") {
            Answer::status(500, "<soap:Envelope><soap:Body><soap:Fault><faultstring>bad</faultstring></soap:Fault></soap:Body></soap:Envelope>")
        } else {
            Answer::ok("<soap:Envelope><soap:Body><sendMessageResponse><return>true</return></sendMessageResponse></soap:Body></soap:Envelope>")
        }
    });
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"boost\"\nkind = \"soap\"\nurl = \"{}\"\nusername = \"u&1\"\npassword = \"p<2>\"\nsender = \"NAV\"\nsoap_namespace = \"urn:boost\"\nsoap_action = \"urn:boost#sendMessage\"\n",
        gw.url("/axis/services/ExternalSender")
    ))
    .await;
    d.inject(&["+4712345678", "a < b & c"]);
    let r = gw.wait_for(1, T).await;
    assert_eq!(r[0].method, "POST");
    assert_eq!(r[0].headers["soapaction"], "\"urn:boost#sendMessage\"");
    assert!(r[0].headers["content-type"].starts_with("text/xml"));
    let b = &r[0].body;
    for part in [
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">",
        "<m:sendMessage xmlns:m=\"urn:boost\">",
        "<username>u&amp;1</username><password>p&lt;2&gt;</password><sender>NAV</sender>",
        "<phone>+4712345678</phone><text>a &lt; b &amp; c</text>",
    ] {
        assert!(b.contains(part), "{part} not in {b}");
    }
    d.wait_rows(SENT, 1).await;
    d.inject(&["+4700000000", "x"]);
    let s = d
        .wait_rows(
            "SELECT Status FROM sentitems WHERE DestinationNumber = '+4700000000'",
            1,
        )
        .await;
    assert_eq!(s[0][0], "SendingError");
    assert_eq!(gw.requests().len(), 3, "the fault was tried again once");
    d.stop().await;
}

/// aiosmtpd on a free port; one JSON line per message accepted.
fn start_smtp(args: &[&str]) -> Peer {
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/gateway/smtp_sink.py"
    ))
    .args(args)
    .stdin(Stdio::piped())
    .stderr(Stdio::null());
    Peer::spawn(cmd, "the SMTP server (python3-aiosmtpd)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_to_sms_with_navs_layout_and_auth() {
    let smtp = start_smtp(&["--user", "smsgw", "--password", "pw"]);
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"mail\"\nkind = \"mail\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"smsgw\"\npassword = \"pw\"\nsender = \"nav@example.org\"\nto = \"sms@gw.example.org\"\n\n\
         [[transport]]\nid = \"refusing\"\nkind = \"mail\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"smsgw\"\npassword = \"pw\"\nto = \"refuse-{{phone}}@gw.example.org\"\n",
        smtp.port, smtp.port
    ))
    .await;
    d.inject(&["-i", "mail", "+4798765432", "Strøm borte i rack 3"]);
    let m = smtp.next("mail");
    assert_eq!(m["to"], serde_json::json!(["sms@gw.example.org"]));
    assert_eq!(m["from"], "nav@example.org");
    assert_eq!(m["subject"], "sms +4798765432");
    assert_eq!(
        m["body"].as_str().unwrap().trim_end(),
        "Strøm borte i rack 3"
    );
    assert_eq!(m["login"], "smsgw");
    let s = d.wait_rows(SENT, 1).await;
    assert_eq!(s[0], vec!["+4798765432", "mail", "SendingOKNoReport"]);
    // 550 for the recipient: refused for good, one attempt.
    d.inject(&["-i", "refusing", "+4700000001", "x"]);
    let s = d.wait_rows(SENT, 2).await;
    assert_eq!(s[1][2], "SendingError");
    assert!(smtp.lines.try_recv().is_err());
    d.stop().await;
}

// ---- NAV's alert queue ----

/// A database of its own with NAV's `profiles.smsq`, and a connection to it.
async fn nav_db() -> Option<(servers::TestDb, sqlx::PgPool)> {
    let db = servers::TestDb::create(servers::Kind::Postgres).await?;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(include_str!("data/nav-profiles.sql"))
        .execute(&pool)
        .await
        .unwrap();
    Some((db, pool))
}

fn nav_storage(db: &servers::TestDb, extra: &str) -> String {
    format!(
        "[storage]\nkind = \"nav\"\nurl = \"{}\"\ntls = \"disable\"\npoll_interval = 200\n{extra}\n",
        db.url
    )
}

/// Queues an alert as NAV's alertengine does; `age` in seconds.
async fn alert(pool: &sqlx::PgPool, phone: &str, msg: &str, severity: Option<i32>, age: i64) {
    sqlx::query(
        "INSERT INTO profiles.smsq (accountid, time, phone, msg, severity) \
         VALUES (1000, LOCALTIMESTAMP - make_interval(secs => $4), $1, $2, $3)",
    )
    .bind(phone)
    .bind(msg)
    .bind(severity)
    .bind(age as f64)
    .execute(pool)
    .await
    .unwrap();
}

/// (msg, sent, smsid, timesent is set) of a phone's rows, by id.
async fn nav_rows(pool: &sqlx::PgPool, phone: &str) -> Vec<(String, String, Option<i32>, bool)> {
    sqlx::query_as(
        "SELECT msg, sent::text, smsid, timesent IS NOT NULL FROM profiles.smsq WHERE phone = $1 ORDER BY id",
    )
    .bind(phone)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn wait_unsent(pool: &sqlx::PgPool, want: i64) {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles.smsq WHERE sent = 'N'")
            .fetch_one(pool)
            .await
            .unwrap();
        if n == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} alerts still queued, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The text each request carried (`msg=` of NAV's URL), by phone.
fn texts_by_phone(gw: &Gateway) -> Vec<(String, String)> {
    gw.requests()
        .iter()
        .map(|r| {
            let q = r.target.split_once('?').map_or("", |(_, q)| q);
            let get = |k: &str| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .map(gateway::form_decode)
                    .unwrap_or_default()
            };
            (get("recv"), get("msg"))
        })
        .collect()
}

fn nav_gateway(gw: &Gateway) -> String {
    format!(
        "[[transport]]\nid = \"gw\"\nkind = \"http\"\nurl = \"{}\"\n",
        gw.url("/send?recv=%(phone)s&msg=%(sms)s")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nav_combines_by_severity_and_marks_sent_ignored_and_cancelled() {
    let Some((db, pool)) = nav_db().await else {
        return;
    };
    let x = |c: &str| format!("{c}: {}", "x".repeat(36));
    // One phone: five alerts of 40 characters, queued out of order.
    for (sev, age) in [
        (Some(3), 50),
        (Some(1), 10),
        (Some(5), 60),
        (None, 70),
        (Some(2), 40),
    ] {
        let label = match sev {
            Some(s) => format!("s{s}"),
            None => "sN".into(),
        };
        alert(&pool, "+4711111111", &x(&label), sev, age).await;
    }
    alert(&pool, "+4722222222", "box down sw2 10.0.0.2", Some(2), 5).await;
    // Older than autocancel: cancelled at start, never sent.
    alert(&pool, "+4733333333", "stale", Some(1), 2 * 86400).await;
    let gw = Gateway::start().await;
    let mut d = Daemon::start_with_storage(
        &nav_gateway(&gw),
        Some(&nav_storage(&db, "autocancel = \"1 day\"")),
    )
    .await;
    wait_unsent(&pool, 0).await;
    let got = texts_by_phone(&gw);
    assert_eq!(got.len(), 2, "{got:?}");
    let one = &got.iter().find(|(p, _)| p == "+4711111111").unwrap().1;
    assert_eq!(
        one,
        &format!("1: {}; 2: {}; 3: {} +2 see web.", x("s1"), x("s2"), x("s3"))
    );
    assert_eq!(one.chars().count(), 145);
    let rows = nav_rows(&pool, "+4711111111").await;
    let state = |m: &str| {
        rows.iter()
            .find(|r| r.0 == x(m))
            .map(|r| (r.1.clone(), r.2, r.3))
            .unwrap()
    };
    for m in ["s1", "s2", "s3"] {
        assert_eq!(state(m), ("Y".into(), Some(0), true), "{m}");
    }
    for m in ["s5", "sN"] {
        assert_eq!(
            state(m),
            ("I".into(), Some(0), true),
            "{m}: left out, see web"
        );
    }
    assert_eq!(nav_rows(&pool, "+4722222222").await[0].1, "Y");
    // Cancelled: 'I' with no timesent and no smsid, as NAV's cancel.
    assert_eq!(
        nav_rows(&pool, "+4733333333").await,
        vec![("stale".to_string(), "I".to_string(), None, false)]
    );
    // A new alert is picked up by the poll.
    alert(&pool, "+4722222222", "box up sw2", Some(4), 0).await;
    gw.wait_for(3, T).await;
    wait_unsent(&pool, 0).await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nav_a_failing_phone_does_not_hold_up_the_others_and_waits_for_the_gateway() {
    let Some((db, pool)) = nav_db().await else {
        return;
    };
    let gw = Gateway::start().await;
    let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let d2 = down.clone();
    gw.answer(move |r| {
        if r.target.contains("recv=%2B4700000000") {
            Answer::status(400, "invalid number")
        } else if r.target.contains("recv=%2B4755555555")
            && d2.load(std::sync::atomic::Ordering::SeqCst)
        {
            Answer::status(503, "try later")
        } else {
            Answer::ok("OK")
        }
    });
    alert(&pool, "+4700000000", "to a bad number", Some(1), 30).await;
    alert(
        &pool,
        "+4755555555",
        "gateway busy for this one",
        Some(1),
        20,
    )
    .await;
    alert(&pool, "+4766666666", "fine", Some(5), 10).await;
    // Waited longer than expire_after: cancelled on its own, not sent.
    alert(&pool, "+4777777777", "too old", Some(1), 7200).await;
    let mut d = Daemon::start_with_storage(
        &nav_gateway(&gw),
        Some(&nav_storage(
            &db,
            "delay = 1\ndelay_factor = 2.0\nmax_delay = 2\nexpire_after = \"1 hour\"",
        )),
    )
    .await;
    // The refused number is cancelled, the fine one sent, the busy one waits.
    wait_unsent(&pool, 1).await;
    assert_eq!(nav_rows(&pool, "+4700000000").await[0].1, "I");
    assert!(
        !nav_rows(&pool, "+4700000000").await[0].3,
        "cancelled: no timesent"
    );
    assert_eq!(nav_rows(&pool, "+4766666666").await[0].1, "Y");
    // Tried again after the backoff, not thrown away.
    let before = gw.requests().len();
    gw.wait_for(before + 1, T).await;
    assert_eq!(nav_rows(&pool, "+4755555555").await[0].1, "N");
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    wait_unsent(&pool, 0).await;
    assert_eq!(nav_rows(&pool, "+4755555555").await[0].1, "Y");
    assert_eq!(
        nav_rows(&pool, "+4777777777").await,
        vec![("too old".to_string(), "I".to_string(), None, false)]
    );
    assert!(gw
        .requests()
        .iter()
        .all(|r| !r.target.contains("%2B4777777777")));
    let refused = gw
        .requests()
        .iter()
        .filter(|r| r.target.contains("%2B4700000000"))
        .count();
    assert_eq!(refused, 1, "a refused number is not retried");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nav_two_daemons_never_send_one_phones_alerts_twice() {
    let Some((db, pool)) = nav_db().await else {
        return;
    };
    let gw = Gateway::start().await;
    gw.answer(|_| Answer {
        delay: Duration::from_millis(15),
        ..Answer::ok("OK")
    });
    let phones: Vec<String> = (0..40).map(|i| format!("+47900000{i:02}")).collect();
    for p in &phones {
        alert(&pool, p, "first", Some(2), 10).await;
        alert(&pool, p, "second", Some(3), 5).await;
    }
    let storage = nav_storage(&db, "");
    let mut a = Daemon::start_with_storage(&nav_gateway(&gw), Some(&storage)).await;
    let mut b = Daemon::start_with_storage(&nav_gateway(&gw), Some(&storage)).await;
    wait_unsent(&pool, 0).await;
    let got = texts_by_phone(&gw);
    assert_eq!(got.len(), phones.len(), "one SMS per phone: {got:?}");
    for p in &phones {
        let mine: Vec<&String> = got.iter().filter(|(q, _)| q == p).map(|(_, t)| t).collect();
        assert_eq!(mine, vec!["1: first; 2: second"], "{p}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nav_through_a_simulated_modem_in_gsm_and_ucs2() {
    let Some((db, pool)) = nav_db().await else {
        return;
    };
    let sim = smsgw::sim::Sim::new(smsgw::sim::SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("modem");
    let _pty = sim.attach_pty(Some(link.clone())).unwrap();
    alert(&pool, "+4711111111", "Strøm borte i rack 3", Some(1), 20).await;
    alert(&pool, "+4711111111", "Svitsj nede", Some(2), 10).await;
    alert(&pool, "+48600100200", "Zasilanie: łącze", Some(1), 10).await;
    // Received messages go to an SQLite [inbox_storage]: NAV's queue keeps none.
    sim.deliver_text("+4790000000", "ack 17", 1).unwrap();
    let inbox = dir.path().join("inbox.db");
    let mut d = Daemon::start_with_storage(
        &format!(
            "[[phone]]\nid = \"modem\"\ndevice = \"{}\"\ncommand_timeout = 2\nsend_timeout = 3\nreceive_frequency = 1\n\n[inbox_storage]\nkind = \"sqlite\"\npath = \"{}\"\n",
            link.display(),
            inbox.display()
        ),
        Some(&nav_storage(&db, "")),
    )
    .await;
    wait_unsent(&pool, 0).await;
    let sent = sim.snapshot().sent;
    assert_eq!(sent.len(), 2);
    let mut texts = Vec::new();
    for s in &sent {
        let smsgw::pdu::Pdu::Submit(sub) =
            smsgw::pdu::decode(&smsgw::pdu::from_hex(&s.pdu).unwrap()).unwrap()
        else {
            panic!("not a SUBMIT")
        };
        texts.push((
            sub.destination.to_string(),
            sub.user_data.text().unwrap().to_string(),
            sub.dcs.alphabet(),
        ));
    }
    texts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        texts,
        vec![
            (
                "+4711111111".to_string(),
                "1: Strøm borte i rack 3; 2: Svitsj nede".to_string(),
                smsgw::pdu::Alphabet::Gsm7
            ),
            (
                "+48600100200".to_string(),
                "Zasilanie: łącze".to_string(),
                smsgw::pdu::Alphabet::Ucs2
            ),
        ]
    );
    // smsid is the modem's TP-MR.
    let rows = nav_rows(&pool, "+4711111111").await;
    assert!(rows.iter().all(|r| r.1 == "Y" && r.3), "{rows:?}");
    assert!(rows.iter().all(|r| r.2 == rows[0].2));
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let got: Option<(String, String)> = Connection::open(&inbox).ok().and_then(|c| {
            c.query_row("SELECT SenderNumber, TextDecoded FROM inbox", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ok()
        });
        if let Some(got) = got {
            assert_eq!(got, ("+4790000000".to_string(), "ack 17".to_string()));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the received message was not stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        sim.snapshot().stored.is_empty(),
        "deleted from the SIM once stored"
    );
    d.stop().await;
}

#[test]
fn config_check_reads_transport_secrets_and_inject_does_not_need_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let config = gateway::daemon::write_config(
        dir.path(),
        &format!(
            "[storage]\npath = \"{d}/smsgw.db\"\n\
             [[transport]]\nid = \"gw\"\nkind = \"http\"\nurl = \"https://gw.example.org/send\"\nauth = \"bearer\"\npassword_file = \"{d}/token\"\n"
        ),
    );
    let smsgw = || Command::new(env!("CARGO_BIN_EXE_smsgw"));
    let out = smsgw()
        .args(["config", "check"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("transport \"gw\": password_file:"), "{err}");
    // inject only queues: it does not read the gateway's token.
    let out = smsgw()
        .args(["inject", "-c"])
        .arg(&config)
        .args(["TEXT", "+4712345678", "--text", "hi"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.path().join("token"), "t0ken\n").unwrap();
    let out = smsgw()
        .args(["config", "check"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 transport(s) (gw)"));
}

#[test]
fn import_nav_writes_a_config_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let smsd = dir.path().join("smsd.conf");
    std::fs::write(
        &smsd,
        "[main]\ndelay = 60\nautocancel = 0\n\n[dispatcher]\ndispatcher1 = HttpGetDispatcher\ndispatcher2 = DebugDispatcher\n\n\
         [HttpGetDispatcher]\nurl = https://smsgw/sms/send?recv=%(phone)s&msg=%(sms)s\n\n[DebugDispatcher]\nresult = success\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["config", "import-nav"])
        .arg(&smsd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = dir.path().join("smsgw.toml");
    std::fs::write(&toml, &out.stdout).unwrap();
    let c = Config::load(&toml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.storage.delay, 60);
    assert_eq!(c.transports[0].members, ["http1", "debug2"]);
}

// ---- SMPP ----

/// smpp34's SMSC (tests/gateway/smsc.py) on `port` (0: a free one); its events as JSON
/// lines. `None` outside CI when smpp34 is not installed.
fn start_smsc(port: u16) -> Option<Peer> {
    start_smsc_with(port, &[])
}

/// The SMSC with more arguments (`--hold-receipts`); commands go to it with `Peer::tell`.
fn start_smsc_with(port: u16, args: &[&str]) -> Option<Peer> {
    let mut cmd = Command::new(gateway::peer::smpp34_python()?);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/gateway/smsc.py"
    ))
    .args(["--port", &port.to_string()])
    .args(args)
    .stdin(Stdio::piped());
    Some(Peer::spawn(cmd, "smpp34's SMSC"))
}

/// The SMSC's answer to the next deliver_sm it sent us (skipping other events).
fn next_delivered(smsc: &Peer) -> serde_json::Value {
    loop {
        let v = smsc.next("deliver_sm answer");
        if v.get("delivered").is_some() {
            return v;
        }
    }
}

/// The next submit_sm the SMSC got (skipping binds).
fn next_submit(smsc: &Peer) -> serde_json::Value {
    loop {
        let v = smsc.next("submit_sm");
        if v.get("submit").is_some() {
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smpp_submits_single_multipart_refused_throttled_and_survives_an_smsc_restart() {
    let Some(smsc) = start_smsc(0) else { return };
    let port = smsc.port;
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\nsystem_id = \"smsgw\"\npassword = \"pw\"\nsender = \"NOC\"\ntimeout = 5\n"
    ))
    .await;
    // SMPP's own name for the login reaches the bind.
    assert_eq!(smsc.next("bind")["bind"], "smsgw");
    // A single GSM part.
    d.inject(&["+4799990000", "box down [sw1] €5"]);
    let s = next_submit(&smsc);
    let f = &s["submit"];
    assert_eq!(
        (
            f["destination_addr"].as_str(),
            f["dest_addr_ton"].as_u64(),
            f["dest_addr_npi"].as_u64()
        ),
        (Some("4799990000"), Some(1), Some(1))
    );
    assert_eq!(
        (f["source_addr"].as_str(), f["source_addr_ton"].as_u64()),
        (Some("NOC"), Some(5))
    );
    assert_eq!(
        (f["data_coding"].as_u64(), f["esm_class"].as_u64()),
        (Some(0), Some(0))
    );
    // Unpacked septets, the extension table escaped.
    let mut septets = Vec::new();
    smsgw::pdu::gsm7::to_septets("box down [sw1] €5", &mut septets).unwrap();
    let hex: String = septets.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(f["short_message"].as_str(), Some(hex.as_str()));
    let sent = d.wait_rows(SENT, 1).await;
    assert_eq!(sent[0], vec!["+4799990000", "smsc", "SendingOKNoReport"]);
    // Three UCS-2 parts with a concatenation UDH.
    let long = "Zasilanie: łącze ".repeat(10);
    d.inject(&["+48600100200", &long]);
    let mut texts = Vec::new();
    for i in 1..=3u8 {
        let s = next_submit(&smsc);
        let f = &s["submit"];
        assert_eq!(
            (f["data_coding"].as_u64(), f["esm_class"].as_u64()),
            (Some(8), Some(0x40))
        );
        let sm = f["short_message"].as_str().unwrap();
        assert_eq!(&sm[..4], "0500");
        assert_eq!(&sm[8..12], format!("03{i:02x}"), "part {i}");
        let units: Vec<u16> = (12..sm.len())
            .step_by(4)
            .map(|j| u16::from_str_radix(&sm[j..j + 4], 16).unwrap())
            .collect();
        texts.push(String::from_utf16(&units).unwrap());
    }
    assert_eq!(texts.concat(), long);
    d.wait_rows(SENT, 4).await;
    // Refused destination: an error at once, not retried.
    d.inject(&["+4700000000", "x"]);
    assert_eq!(next_submit(&smsc)["answer"], "ESME_RINVDSTADR");
    let s = d
        .wait_rows(
            "SELECT Status FROM sentitems WHERE DestinationNumber = '+4700000000'",
            1,
        )
        .await;
    assert_eq!(s[0][0], "SendingError");
    // A full queue: the message waits and goes (no retry used up).
    d.inject(&["+4714000000", "later"]);
    assert_eq!(next_submit(&smsc)["answer"], "ESME_RMSGQFUL");
    assert!(next_submit(&smsc)["answer"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    let s = d
        .wait_rows(
            "SELECT Status FROM sentitems WHERE DestinationNumber = '+4714000000'",
            1,
        )
        .await;
    assert_eq!(s[0][0], "SendingOKNoReport");
    // The SMSC restarts: the transport binds again and nothing is lost.
    drop(smsc);
    let smsc = start_smsc(port).unwrap();
    d.inject(&["+4799990001", "after the restart"]);
    let s = next_submit(&smsc);
    assert_eq!(s["submit"]["destination_addr"], "4799990001");
    d.wait_rows("SELECT ID FROM sentitems WHERE DestinationNumber = '+4799990001' AND Status = 'SendingOKNoReport'", 1).await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nav_sends_an_unanswered_sms_again_once_then_gives_up() {
    let Some((db, pool)) = nav_db().await else {
        return;
    };
    let gw = Gateway::start().await;
    gw.answer(|_| Answer {
        delay: Duration::from_secs(3),
        ..Answer::ok("OK")
    });
    alert(&pool, "+4788888888", "link down", Some(1), 10).await;
    let mut d = Daemon::start_with_storage(
        &format!(
            "[[transport]]\nid = \"gw\"\nkind = \"http\"\ntimeout = 1\nurl = \"{}\"\n",
            gw.url("/send?recv=%(phone)s&msg=%(sms)s")
        ),
        Some(&nav_storage(&db, "delay = 1\nmax_delay = 1")),
    )
    .await;
    wait_unsent(&pool, 0).await;
    assert_eq!(gw.requests().len(), 2, "sent, then again once");
    assert_eq!(
        nav_rows(&pool, "+4788888888").await,
        vec![("link down".to_string(), "I".to_string(), None, false)]
    );
    d.stop().await;
}

#[test]
fn doctor_binds_to_the_smsc() {
    let Some(smsc) = start_smsc(0) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let closed = gateway::closed_port().port();
    let config = gateway::daemon::write_config(
        dir.path(),
        &format!(
            "[storage]\npath = \"{d}/smsgw.db\"\n\
             [[transport]]\nid = \"up\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\nusername = \"doctor\"\n\
             [[transport]]\nid = \"down\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {closed}\n",
            smsc.port
        ),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["doctor", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("up (SMPP 127.0.0.1:") && text.contains("bound, the SMSC is \"SIMSC\""),
        "{text}"
    );
    assert!(
        text.contains(&format!("down (SMPP 127.0.0.1:{closed}): cannot connect")),
        "{text}"
    );
    assert!(text.contains("transport down: cannot connect"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smpp_long_messages_by_sar_tlvs() {
    let Some(smsc) = start_smsc(0) else { return };
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\nlong_messages = \"sar\"\n",
        smsc.port
    ))
    .await;
    let long = "0123456789".repeat(20);
    d.inject(&["+4799990000", &long]);
    let mut text = String::new();
    let mut refs = Vec::new();
    for i in 1..=2u8 {
        let s = next_submit(&smsc);
        let f = &s["submit"];
        assert_eq!(f["esm_class"].as_u64(), Some(0), "no UDH");
        let tlvs = f["tlvs"].as_array().unwrap();
        let tlv = |tag: u64| {
            tlvs.iter()
                .find(|t| t[0].as_u64() == Some(tag))
                .and_then(|t| t[1].as_str())
                .unwrap_or_else(|| panic!("no TLV 0x{tag:04x} in {tlvs:?}"))
                .to_string()
        };
        refs.push(tlv(0x020C));
        assert_eq!(tlv(0x020E), "02");
        assert_eq!(tlv(0x020F), format!("{i:02x}"));
        let sm = f["short_message"].as_str().unwrap();
        let septets: Vec<u8> = (0..sm.len())
            .step_by(2)
            .map(|j| u8::from_str_radix(&sm[j..j + 2], 16).unwrap())
            .collect();
        text.push_str(&String::from_utf8(septets).unwrap());
    }
    assert_eq!(refs[0], refs[1], "one reference for both parts");
    assert_eq!(text, long);
    d.wait_rows(SENT, 2).await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smpp_receipts_match_after_a_restart_and_messages_come_in() {
    let Some(mut smsc) = start_smsc_with(0, &["--hold-receipts"]) else {
        return;
    };
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\nsender = \"NOC\"\nintermediate_notification = true\n",
        smsc.port
    ))
    .await;
    // Two messages with receipts asked for (and intermediate notifications, 0x10); the
    // SMSC answers with decimal ids.
    for to in ["+4799990001", "+4799990002"] {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["inject", "-c"])
            .arg(&d.config)
            .args(["TEXT", to, "--report", "--text", "receipt please"])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(next_submit(&smsc)["submit"]["registered_delivery"], 0x11);
    }
    d.wait_rows("SELECT ID FROM sentitems WHERE Status = 'SendingOK'", 2)
        .await;
    // The daemon restarts; the receipts (ids in hex) come to the new session.
    d.restart().await;
    loop {
        let v = smsc.next("bind");
        if v["receives"] == true {
            break;
        }
    }
    smsc.tell(r#"{"release": true}"#);
    for _ in 0..2 {
        assert_eq!(next_delivered(&smsc)["status"], 0, "receipt acknowledged");
    }
    let ok = d
        .wait_rows(
            "SELECT DestinationNumber FROM sentitems WHERE Status = 'DeliveryOK' AND DeliveryDateTime = '2026-11-23 14:06:00' ORDER BY ID",
            2,
        )
        .await;
    assert_eq!(ok, vec![vec!["+4799990001"], vec!["+4799990002"]]);
    // A message from a number (GSM septets), then a long one in two UCS-2 parts with a UDH,
    // the second part first, then one in two parts tied by SAR TLVs.
    let mut septets = Vec::new();
    smsgw::pdu::gsm7::to_septets("Hello [NOC] €", &mut septets).unwrap();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let ucs2 = |t: &str| {
        hex(&t
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect::<Vec<_>>())
    };
    smsc.tell(&format!(
        r#"{{"mo": {{"source_addr": "4712345678", "short_message": "{}"}}}}"#,
        hex(&septets)
    ));
    assert_eq!(next_delivered(&smsc)["status"], 0);
    for (seq, text) in [(2, "ęść"), (1, "Zażółć gęślą ja")] {
        smsc.tell(&format!(
            r#"{{"mo": {{"source_addr": "4712345679", "esm_class": 64, "data_coding": 8, "short_message": "0500032a020{seq}{}"}}}}"#,
            ucs2(text)
        ));
        assert_eq!(next_delivered(&smsc)["status"], 0);
    }
    for (seq, text) in [(1, "first half, "), (2, "second half")] {
        smsc.tell(&format!(
            r#"{{"mo": {{"source_addr": "4712345670", "data_coding": 3, "short_message": "{}", "tlvs": [[524, "0102"], [526, "02"], [527, "0{seq}"]]}}}}"#,
            hex(text.as_bytes())
        ));
        assert_eq!(next_delivered(&smsc)["status"], 0);
    }
    // A part whose UDH runs past its data cannot be read: refused for good, not stored.
    smsc.tell(r#"{"mo": {"source_addr": "4712345671", "esm_class": 64, "short_message": "0900"}}"#);
    assert_eq!(next_delivered(&smsc)["status"], 0x65);
    let inbox = d
        .wait_rows(
            "SELECT SenderNumber, TextDecoded, RecipientID FROM inbox WHERE TextDecoded <> '' ORDER BY ID",
            3,
        )
        .await;
    assert_eq!(
        inbox,
        vec![
            vec!["+4712345678", "Hello [NOC] €", "smsc"],
            vec!["+4712345679", "Zażółć gęślą jaęść", "smsc"],
            vec!["+4712345670", "first half, second half", "smsc"],
        ]
    );
    assert_eq!(d.rows("SELECT ID FROM inbox").len(), 5, "one row per part");
    d.stop().await;
}

/// Queues `n` messages to `+47999900<i>` straight into the outbox (as Kalkun would).
fn queue_rows(d: &Daemon, n: usize) {
    let db = d.db();
    for i in 0..n {
        db.execute(
            "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID) VALUES (?1, ?2, 'test')",
            [format!("+47999900{i:02}"), format!("window {i}")],
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smpp_window_keeps_submits_in_flight_and_a_dropped_link_is_unknown() {
    // The SMSC answers each submit_sm 300 ms late: with a window of 4, four wait at once.
    let Some(smsc) = start_smsc_with(0, &["--answer-delay", "0.3"]) else {
        return;
    };
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\nwindow = 4\n",
        smsc.port
    ))
    .await;
    d.wait_rows("SELECT name FROM sqlite_master WHERE name = 'outbox'", 1)
        .await;
    queue_rows(&d, 12);
    let in_flight: Vec<u64> = (0..12)
        .map(|_| next_submit(&smsc)["submit"]["in_flight"].as_u64().unwrap())
        .collect();
    assert_eq!(in_flight.iter().max(), Some(&4), "{in_flight:?}");
    d.wait_rows(
        "SELECT ID FROM sentitems WHERE Status = 'SendingOKNoReport'",
        12,
    )
    .await;
    // Stopped while a batch is out: the batch is recorded, and the next one (claimed in
    // the same commit) is given back instead of waiting out its lease.
    queue_rows(&d, 20);
    next_submit(&smsc);
    d.stop().await;
    let leased =
        d.rows("SELECT ID FROM outbox WHERE SendingTimeOut > datetime('now', 'localtime')");
    assert!(leased.is_empty(), "still leased after a stop: {leased:?}");
    assert!(
        !d.rows("SELECT ID FROM outbox").is_empty(),
        "everything went out before the stop: the case was not tried"
    );
    assert!(d.rows("SELECT ID FROM smsgw_claims").is_empty());
    drop(smsc);

    // An SMSC that takes three submit_sm and never answers, then goes away: the three are
    // Unknown (maybe sent), tried again once when the SMSC is back, each exactly once more.
    let Some(smsc) = start_smsc_with(0, &["--answer-delay", "60"]) else {
        return;
    };
    let port = smsc.port;
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\nwindow = 3\ntimeout = 20\n"
    ))
    .await;
    d.wait_rows("SELECT name FROM sqlite_master WHERE name = 'outbox'", 1)
        .await;
    queue_rows(&d, 3);
    for _ in 0..3 {
        next_submit(&smsc);
    }
    drop(smsc);
    d.wait_rows("SELECT ID FROM outbox WHERE Retries = 1", 3)
        .await;
    let smsc = start_smsc(port).unwrap();
    let mut again: Vec<String> = (0..3)
        .map(|_| {
            next_submit(&smsc)["submit"]["destination_addr"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    again.sort();
    assert_eq!(again, ["4799990000", "4799990001", "4799990002"]);
    d.wait_rows(
        "SELECT ID FROM sentitems WHERE Status = 'SendingOKNoReport'",
        3,
    )
    .await;
    assert!(
        smsc.lines.recv_timeout(Duration::from_millis(500)).is_err(),
        "nothing sent a third time"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smpp_whole_messages_in_message_payload_latin1_and_a_rate() {
    let Some(smsc) = start_smsc(0) else { return };
    let mut d = Daemon::start(&format!(
        "[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\n\
         long_messages = \"payload\"\ndefault_alphabet = \"latin1\"\nrate = 20\nwindow = 4\n",
        smsc.port
    ))
    .await;
    // Six UCS-2 parts as stored (340 characters), one submit_sm with the whole text in
    // message_payload.
    let long = "Zasilanie: łącze ".repeat(20);
    d.inject(&["+4799990000", &long]);
    let f = next_submit(&smsc)["submit"].clone();
    assert_eq!(
        (
            f["data_coding"].as_u64(),
            f["esm_class"].as_u64(),
            f["short_message"].as_str()
        ),
        (Some(8), Some(0), Some(""))
    );
    let payload = f["tlvs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0].as_u64() == Some(0x0424))
        .and_then(|t| t[1].as_str())
        .expect("message_payload")
        .to_string();
    let units: Vec<u16> = (0..payload.len())
        .step_by(4)
        .map(|j| u16::from_str_radix(&payload[j..j + 4], 16).unwrap())
        .collect();
    assert_eq!(String::from_utf16(&units).unwrap(), long);
    let parts = d
        .wait_rows(
            "SELECT SequencePosition, Status FROM sentitems ORDER BY SequencePosition",
            6,
        )
        .await;
    assert!(
        parts.iter().all(|p| p[1] == "SendingOKNoReport"),
        "{parts:?}"
    );
    // GSM text goes as Latin-1, data_coding 3.
    d.inject(&["+4799990001", "café"]);
    let f = next_submit(&smsc)["submit"].clone();
    assert_eq!(
        (f["data_coding"].as_u64(), f["short_message"].as_str()),
        (Some(3), Some("636166e9"))
    );
    // Ten messages at most 20 a second: spread over at least 0.45 s.
    queue_rows(&d, 10);
    let at: Vec<f64> = (0..10)
        .map(|_| next_submit(&smsc)["submit"]["at"].as_f64().unwrap())
        .collect();
    let spread =
        at.iter().cloned().fold(f64::MIN, f64::max) - at.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread >= 0.4,
        "10 submit_sm within {spread:.3} s at rate 20"
    );
    d.stop().await;
}
