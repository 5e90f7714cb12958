//! The HTTP face as its users meet it: the release binary in the background with a
//! simulated modem on a pseudo-terminal, driven by clients nobody here wrote (curl for
//! Kannel's sendsms, Python's http.client for the JSON API, headless Chromium for the status
//! page), its callbacks (dlr-url, webhooks) caught by a real HTTP server, and stopped by a
//! signal with clients still connected.

mod gateway;
mod run;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gateway::{Answer, Gateway};
use run::process::*;

struct Curl {
    status: u16,
    headers: String,
    body: String,
}

/// `curl -s -D - ARGS URL`.
fn curl(args: &[&str], url: &str) -> Curl {
    let out = Command::new("curl")
        .args(["-s", "-S", "-D", "-", "--max-time", "20"])
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Curl {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The query value of `name` in a request target.
fn query(target: &str, name: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| gateway::form_decode(v))
    })
}

/// `[http]` with two users: `app` (a password and a token) and `held` (only route gsm1,
/// its password given as an argon2 hash).
fn http_toml(port: u16, extra: &str) -> String {
    let hash = smsgw::face::http::auth::hash_password("held-pw").unwrap();
    format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\nmax_parts = 3\n{extra}\n\n[[http.user]]\nname = \"app\"\npassword = \"pw-s3cret\"\ntoken = \"tok-4711\"\n\n[[http.user]]\nname = \"held\"\npassword_hash = \"{hash}\"\nroutes = [\"gsm1\"]\n"
    )
}

fn start(dir: &Path, extra_phone: &str, rest: &str) -> (Sim, Daemon) {
    let sim = Sim::start(dir, &["--report-delay", "3600000"]);
    let daemon = Daemon::start(
        dir,
        &format!(
            "[storage]\nkind = \"sqlite\"\npath = \"{d}/smsgw.db\"\n\n[[phone]]\nid = \"gsm1\"\ndevice = \"{}\"\nreceive_frequency = 60\n{extra_phone}\n\n[[transport]]\nid = \"dbg\"\nkind = \"debug\"\n\n[sending]\ndelivery_reports = true\n\n{rest}",
            sim.link.display(),
            d = dir.display()
        ),
    );
    daemon.wait_started();
    daemon.wait_log("HTTP API on");
    daemon.wait_log("connected");
    (sim, daemon)
}

/// The daemon again on the config it ran with (its `[daemon]` section is written anew).
fn restart(dir: &Path) -> Daemon {
    let config = std::fs::read_to_string(dir.join("smsgw.toml")).unwrap();
    let body = config
        .split_once("\n\n")
        .expect("[daemon], then the rest")
        .1;
    Daemon::start(dir, body)
}

#[test]
fn kannel_sendsms_reaches_the_modem_and_calls_the_dlr_url() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let rt = runtime();
    let app = rt.block_on(Gateway::start());
    let port = free_port();
    let (sim, mut daemon) = start(dir, "", &http_toml(port, ""));
    let base = format!("http://127.0.0.1:{port}/cgi-bin/sendsms");
    let dlr = app.url("/dlr?type=%d&id=%I&to=%p&from=%P&smsc=%i&answer=%A");

    // One part, GSM 7-bit, asking for every kind of report.
    let t0 = Instant::now();
    let r = curl(
        &[
            "-G",
            "--data-urlencode",
            "username=app",
            "--data-urlencode",
            "password=pw-s3cret",
            "--data-urlencode",
            "to=+48123456789",
            "--data-urlencode",
            "from=Shop",
            "--data-urlencode",
            "smsc=gsm1",
            "--data-urlencode",
            "text=Hello from curl",
            "--data-urlencode",
            "dlr-mask=31",
            "--data-urlencode",
            &format!("dlr-url={dlr}"),
        ],
        &base,
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (202, "0: Accepted for delivery"),
        "{}",
        r.headers
    );
    let id: i64 = r
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("x-smsgw-message-id: "))
        .expect("the message id header")
        .trim()
        .parse()
        .unwrap();
    wait_for_or(
        "the modem to send",
        || !sim.sent().is_empty(),
        || daemon.log(),
    );
    eprintln!("sendsms answered to AT+CMGS: {:?}", t0.elapsed());
    let sent = sim.sent();
    assert_eq!(sent[0]["to"], "+48123456789");
    assert_eq!(sent[0]["text"], "Hello from curl");
    assert_eq!(sent[0]["report"], true, "dlr-mask asks for a status report");
    // Type 8: the modem took it.
    let calls = rt.block_on(app.wait_for(1, Duration::from_secs(30)));
    let t = &calls[0].target;
    assert_eq!(query(t, "type").as_deref(), Some("8"), "{t}");
    assert_eq!(query(t, "id"), Some(id.to_string()));
    assert_eq!(query(t, "to").as_deref(), Some("+48123456789"));
    assert_eq!(query(t, "from").as_deref(), Some("Shop"));
    assert_eq!(query(t, "smsc").as_deref(), Some("gsm1"));
    assert_eq!(query(t, "answer").as_deref(), Some("ACK/"));
    // The handset got it: the status report (libGammu's) → type 1.
    let mr = sent[0]["mr"].as_u64().unwrap();
    assert_eq!(
        sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")))
            .trim(),
        "delivered"
    );
    let calls = rt.block_on(app.wait_for(2, Duration::from_secs(30)));
    assert_eq!(query(&calls[1].target, "type").as_deref(), Some("1"));
    assert_eq!(
        query(&calls[1].target, "answer").as_deref(),
        Some("DELIVRD")
    );

    // Two parts, by POST form, UCS-2 from UTF-8.
    let r = curl(
        &[
            "--data-urlencode",
            "username=app",
            "--data-urlencode",
            "password=pw-s3cret",
            "--data-urlencode",
            "to=+48123456789",
            "--data-urlencode",
            "coding=2",
            "--data-urlencode",
            "smsc=gsm1",
            "--data-urlencode",
            "charset=UTF-8",
            "--data-urlencode",
            &format!("text={}", "Zażółć gęślą jaźń. ".repeat(5)),
        ],
        &base,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for_or(
        "both parts",
        || sim.sent().len() == 3,
        || format!("{:#?}\n{}", sim.sent(), daemon.log()),
    );
    let sent = sim.sent();
    assert_eq!(sent[1]["part"][0], 1);
    assert_eq!(sent[2]["part"][0], 2);
    assert_eq!(
        format!(
            "{}{}",
            sent[1]["text"].as_str().unwrap(),
            sent[2]["text"].as_str().unwrap()
        ),
        "Zażółć gęślą jaźń. ".repeat(5)
    );

    // Kannel's refusals, in Kannel's words.
    let ask = |extra: &[&str]| {
        let mut a = vec!["-G"];
        for e in extra {
            a.push("--data-urlencode");
            a.push(e);
        }
        curl(&a, &base)
    };
    let r = ask(&[
        "username=app",
        "password=wrong",
        "to=+48123456789",
        "text=x",
    ]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (403, "Authorization failed for sendsms")
    );
    let r = ask(&["username=app", "password=pw-s3cret", "text=x"]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, "Missing receiver number, rejected")
    );
    let r = ask(&[
        "username=app",
        "password=pw-s3cret",
        "to=+48123456789",
        &format!("text={}", "x".repeat(500)),
    ]);
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("needs 4 messages, more than the 3 allowed"),
        "{}",
        r.body
    );
    let r = ask(&[
        "username=held",
        "password=held-pw",
        "to=+48123456789",
        "text=x",
        "smsc=dbg",
    ]);
    assert_eq!(r.status, 403, "{}", r.body);
    let r = curl(
        &[],
        &format!("{base}?username=app&password=pw-s3cret&to=1&text=%FF%FE"),
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, "Text is not valid UTF-8, rejected")
    );
    assert_eq!(sim.sent().len(), 3, "nothing refused was sent");

    // `smsgw doctor` knows the port is the running daemon's.
    let doctor = Command::new(release_bin())
        .args(["doctor", "-c"])
        .arg(&daemon.config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        said.contains(&format!(
            "[http] listen 127.0.0.1:{port}: in use by the running smsgw"
        )),
        "{said}"
    );

    // The access log names requests, never a password.
    let log = daemon.log();
    assert!(
        log.contains("GET /cgi-bin/sendsms?username=app&password=***"),
        "{log}"
    );
    assert!(
        !log.contains("pw-s3cret") && !log.contains("held-pw"),
        "a password in the log"
    );

    // A client holding an idle keep-alive connection does not delay the stop.
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let _half = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    daemon.stop();
    drop(sim);
}

#[test]
fn the_json_api_answers_as_its_openapi_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let port = free_port();
    let (sim, mut daemon) = start(dir, "", &http_toml(port, ""));
    // Something in the inbox, made by libGammu.
    let peer = peer_messages();
    let pdu = peer["single_gsm"][0].as_str().unwrap();
    assert_eq!(sim.tell(&format!("deliver {pdu}")).trim(), "delivered");
    let out = Command::new("/usr/bin/python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/rest_client.py"))
        .args([
            &format!("http://127.0.0.1:{port}"),
            "app",
            "pw-s3cret",
            "tok-4711",
            "held",
            "held-pw",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rest_client.py: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("{summary}");
    assert!(summary["checked"].as_u64().unwrap() > 50);
    // The modem sent the API's message; its status report makes it delivered.
    let id = summary["sent_id"].as_i64().unwrap();
    let mr = sim
        .sent()
        .iter()
        .find(|s| s["text"] == "REST hello")
        .expect("sent by the modem")["mr"]
        .as_u64()
        .unwrap();
    assert_eq!(
        sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")))
            .trim(),
        "delivered"
    );
    wait_for("delivered", || {
        let r = curl(
            &["-u", "app:pw-s3cret"],
            &format!("http://127.0.0.1:{port}/api/v1/messages/{id}"),
        );
        serde_json::from_str::<serde_json::Value>(&r.body).is_ok_and(|v| v["status"] == "delivered")
    });
    daemon.stop();
}

#[test]
fn webhooks_are_signed_and_delivered_at_least_once_across_a_restart() {
    use hmac::Mac;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let rt = runtime();
    let app = rt.block_on(Gateway::start());
    // The application hangs at first (no answer within the 2 s timeout), then answers 500.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    app.answer(move |_| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Answer {
                status: 200,
                body: "too late".into(),
                delay: Duration::from_secs(20),
            }
        } else {
            Answer::status(500, "down")
        }
    });
    let port = free_port();
    let hooks = format!(
        "[webhooks]\nreceived = \"{}\"\nsecret = \"hook-secret\"\ntimeout = 2\n",
        app.url("/in")
    );
    let (sim, mut daemon) = start(dir, "", &format!("{}\n{hooks}", http_toml(port, "")));
    let peer = peer_messages();
    for pdu in peer["two_part"].as_array().unwrap() {
        assert_eq!(
            sim.tell(&format!("deliver {}", pdu.as_str().unwrap()))
                .trim(),
            "delivered"
        );
    }
    // Tried (it hung), tried again (refused), retried with back-off.
    let tries = rt.block_on(app.wait_for(3, Duration::from_secs(30)));
    assert_eq!(
        tries[2].headers["x-smsgw-event-id"],
        tries[0].headers["x-smsgw-event-id"]
    );
    let id = tries[0].headers["x-smsgw-event-id"].clone();
    assert_eq!(
        tries[1].headers["x-smsgw-event-id"], id,
        "the same event again"
    );
    // Stopped while the event waits for a retry; the application comes back meanwhile.
    daemon.stop();
    drop(daemon);
    app.answer(|_| Answer::ok("thanks"));
    let before = app.requests().len();
    let mut daemon = restart(dir);
    daemon.wait_started();
    let all = rt.block_on(app.wait_for(before + 1, Duration::from_secs(30)));
    let got = &all[before];
    assert_eq!(
        got.headers["x-smsgw-event-id"], id,
        "the same event after the restart"
    );
    let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["event"], "received");
    assert_eq!(body["from"], "+48600111222");
    assert_eq!(body["phone"], "gsm1");
    assert_eq!(body["parts"], 2);
    assert_eq!(body["text"], peer["texts"]["two_part"]);
    assert_eq!(body["event_id"].to_string(), id);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hook-secret").unwrap();
    mac.update(got.body.as_bytes());
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got.headers["x-smsgw-signature"], format!("sha256={want}"));
    // Delivered once it was answered 200: not again.
    daemon.stop();
    let after = app.requests().len();
    assert_eq!(after, before + 1, "{:#?}", app.requests());
}

#[test]
fn the_status_page_shows_the_phones_in_a_browser() {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing: scripts/install-test-deps.sh installs it"
        );
        eprintln!("\n!!!!! SKIPPED: chromium is missing (apt-get install chromium) !!!!!\n");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let port = free_port();
    let (_sim, mut daemon) = start(dir, "", &http_toml(port, "public_status = true"));
    let url = format!("http://127.0.0.1:{port}/status");
    let browser = |args: &[&str]| {
        let out = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.join("chromium").display()
            ))
            .args(args)
            .arg(&url)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dom = String::from_utf8_lossy(&browser(&["--dump-dom"]).stdout).into_owned();
    assert!(dom.contains("<td>gsm1</td>"), "{dom}");
    assert!(dom.contains(">connected</td>"), "{dom}");
    assert!(
        dom.contains("storage <span class=\"ok\">up</span>"),
        "{dom}"
    );
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    browser(&[
        "--window-size=1200,400",
        &format!("--screenshot={}", shot.display()),
    ]);
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
    daemon.stop();
}

#[test]
fn idle_connections_and_floods_do_not_stop_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let port = free_port();
    let users = format!(
        "{}\n[[http.user]]\nname = \"slow\"\npassword = \"slow-pw\"\nrate = 2.0\n",
        http_toml(port, "max_connections = 50\ntimeout = 1")
    );
    let (sim, mut daemon) = start(dir, "", &users);
    // More idle connections than the server serves at once: none of them sends a byte.
    let idle: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    // The modem keeps sending meanwhile.
    daemon.inject(&[
        "TEXT",
        "+48123456789",
        "-text",
        "while flooded",
        "--phone-id",
        "gsm1",
    ]);
    wait_for_or(
        "the modem to send",
        || !sim.sent().is_empty(),
        || daemon.log(),
    );
    // Idle clients are cut off after `timeout`: the API answers again.
    let t = Instant::now();
    let r = curl(&[], &format!("http://127.0.0.1:{port}/health"));
    assert_eq!(r.status, 200, "{}", r.body);
    eprintln!(
        "/health answered {:?} after 200 idle connections",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        first.read(&mut buf).unwrap_or(0),
        0,
        "an idle connection is closed by the server"
    );
    // A user over its rate is told to wait.
    let send = || {
        curl(
            &[],
            &format!("http://127.0.0.1:{port}/cgi-bin/sendsms?username=slow&password=slow-pw&to=%2B48123456789&text=x&smsc=dbg"),
        )
    };
    assert_eq!(send().status, 202);
    assert_eq!(send().status, 202);
    let r = send();
    assert_eq!(
        (r.status, r.body.as_str()),
        (429, "Too many requests, rejected")
    );
    assert!(r.headers.contains("retry-after: 1"), "{}", r.headers);
    drop(idle);
    // A user added by a reload (SIGHUP) can send at once.
    let late = "http://127.0.0.1:{port}/cgi-bin/sendsms?username=late&password=late-pw&to=%2B48123456789&text=x&smsc=dbg";
    let late = late.replace("{port}", &port.to_string());
    assert_eq!(curl(&[], &late).status, 403);
    let mut config = std::fs::read_to_string(&daemon.config).unwrap();
    config.push_str("\n[[http.user]]\nname = \"late\"\npassword = \"late-pw\"\n");
    std::fs::write(&daemon.config, config).unwrap();
    let pid = nix::unistd::Pid::from_raw(daemon.child.as_ref().unwrap().id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    daemon.wait_log("config reloaded");
    assert_eq!(curl(&[], &late).status, 202);
    daemon.stop();
}

#[test]
fn https_with_a_certificate_curl_checks() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ca, cert, key) = certificates(dir);
    let port = free_port();
    let tls = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        cert.display(),
        key.display()
    );
    let (_sim, mut daemon) = start(dir, "", &http_toml(port, &tls));
    assert!(daemon
        .log()
        .contains(&format!("HTTP API on https://127.0.0.1:{port}/")));
    let cacert = ca.display().to_string();
    let r = curl(
        &["--cacert", &cacert],
        &format!("https://127.0.0.1:{port}/health"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = curl(
        &[
            "--cacert",
            &cacert,
            "-u",
            "app:pw-s3cret",
            "-d",
            r#"{"to": "+48123456789", "text": "over TLS", "route": "gsm1"}"#,
        ],
        &format!("https://127.0.0.1:{port}/api/v1/messages"),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    // Plain HTTP to the TLS port is no request: refused, and the server goes on.
    let plain = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "5",
            &format!("http://127.0.0.1:{port}/health"),
        ])
        .output()
        .unwrap();
    assert!(!plain.status.success());
    // Not trusted without the certificate.
    let untrusted = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "5",
            &format!("https://127.0.0.1:{port}/health"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        untrusted.status.code(),
        Some(60),
        "curl: certificate problem"
    );
    assert_eq!(
        curl(
            &["--cacert", &cacert],
            &format!("https://127.0.0.1:{port}/health")
        )
        .status,
        200
    );
    daemon.stop();
}

/// Debian's Kannel in front of smsgw, as a Kannel user chains two gateways: an application
/// sends through Kannel's smsbox; Kannel's bearerbox passes the message on to smsgw's
/// sendsms (its `smsc = http`, `system-type = kannel`), smsgw's modem sends it, and the
/// status report comes back through Kannel's DLR port to the application's dlr-url.
#[test]
fn kannel_passes_messages_to_smsgw_and_its_delivery_reports_back() {
    if !Kannel::installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let rt = runtime();
    let app = rt.block_on(Gateway::start());
    let port = free_port();
    // Kannel's user may send through the modem only: the message goes there (Kannel names
    // no route unless its message had one).
    let users = format!("[http]\nlisten = \"127.0.0.1:{port}\"\n\n[[http.user]]\nname = \"app\"\npassword = \"pw-s3cret\"\nroutes = [\"gsm1\"]\n");
    let (sim, mut daemon) = start(dir, "", &users);
    let dlr_port = free_port();
    let kannel = Kannel::start(
        dir,
        &format!(
            "group = smsc\nsmsc = http\nsmsc-id = gsm1\nsystem-type = kannel\nsend-url = \"http://127.0.0.1:{port}/cgi-bin/sendsms\"\nsmsc-username = app\nsmsc-password = pw-s3cret\nport = {dlr_port}\nconnect-allow-ip = 127.0.0.1\n\
dlr-url = \"http://127.0.0.1:{dlr_port}/?username=app&password=pw-s3cret&to=%p&text=%A\"\n"
        ),
    );
    let sendsms = kannel.sendsms;
    let kannel_log = || format!("{}\n{}", kannel.log(), daemon.log());
    // The application, as it talks to Kannel.
    let r = curl(
        &[
            "-G",
            "--data-urlencode",
            "username=shop",
            "--data-urlencode",
            "password=shop-pw",
            "--data-urlencode",
            "from=Shop",
            "--data-urlencode",
            "to=+48123456789",
            "--data-urlencode",
            "text=Via Kannel",
            "--data-urlencode",
            "dlr-mask=3",
            "--data-urlencode",
            &format!("dlr-url={}", app.url("/kdlr?type=%d&to=%p")),
        ],
        &format!("http://127.0.0.1:{sendsms}/cgi-bin/sendsms"),
    );
    assert_eq!(r.status, 202, "{}\n{}", r.body, kannel_log());
    wait_for_or(
        "smsgw's modem to send",
        || !sim.sent().is_empty(),
        kannel_log,
    );
    let sent = sim.sent();
    assert_eq!(sent[0]["text"], "Via Kannel");
    assert_eq!(sent[0]["to"], "+48123456789");
    assert_eq!(sent[0]["report"], true);
    // The handset got it: the report goes smsgw → Kannel → the application.
    let mr = sent[0]["mr"].as_u64().unwrap();
    assert_eq!(
        sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")))
            .trim(),
        "delivered"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = app.requests();
        if got
            .iter()
            .any(|r| query(&r.target, "type").as_deref() == Some("1"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no DLR type 1 at the application: {got:#?}\n{}",
            kannel_log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    daemon.stop();
}
