//! A real HTTP server on 127.0.0.1 for the gateway tests: it records every request
//! (method, target, headers, body) and answers as the test says (status, body, delay).

#![allow(dead_code)]

pub mod daemon;
pub mod peer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, exactly as sent.
    pub target: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Wait this long before answering (a slow gateway).
    pub delay: Duration,
}

impl Answer {
    pub fn ok(body: &str) -> Answer {
        Answer {
            status: 200,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

type Script = Box<dyn Fn(&Request) -> Answer + Send + Sync>;

/// The server; stops when dropped.
pub struct Gateway {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    script: Arc<Mutex<Script>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn parse_head(head: &str) -> Option<(String, String, HashMap<String, String>)> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((method, target, headers))
}

async fn serve(
    mut s: tokio::net::TcpStream,
    requests: Arc<Mutex<Vec<Request>>>,
    script: Arc<Mutex<Script>>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let Some((method, target, headers)) = parse_head(&head) else {
        return Ok(());
    };
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let req = Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    };
    let answer = (script.lock().unwrap())(&req);
    requests.lock().unwrap().push(req);
    arrived.notify_waiters();
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let text = format!(
        "HTTP/1.1 {} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        answer.status,
        answer.body.len(),
        answer.body
    );
    s.write_all(text.as_bytes()).await?;
    s.shutdown().await
}

impl Gateway {
    /// A server on a free port answering 200 "OK".
    pub async fn start() -> Gateway {
        Gateway::on(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    /// A server on `addr` (a port reserved earlier).
    pub async fn start_at(addr: SocketAddr) -> Gateway {
        Gateway::on(TcpListener::bind(addr).await.unwrap())
    }

    fn on(listener: TcpListener) -> Gateway {
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(Box::new(|_| Answer::ok("OK"))));
        let arrived = Arc::new(Notify::new());
        let (r, sc, a) = (requests.clone(), script.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s, r.clone(), sc.clone(), a.clone()));
            }
        });
        Gateway {
            addr,
            requests,
            script,
            arrived,
            task,
        }
    }

    /// From now on, answers with `f`.
    pub fn answer(&self, f: impl Fn(&Request) -> Answer + Send + Sync + 'static) {
        *self.script.lock().unwrap() = Box::new(f);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits (at most `within`) until `n` requests arrived; returns them.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Request> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.arrived.notified();
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "the gateway got {} requests, wanted {n}: {:#?}",
                    self.requests().len(),
                    self.requests()
                );
            }
        }
    }
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Decodes `%XX` and `+` (form encoding).
pub fn form_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
