//! The HTTP face (`[http]`): Kannel's `/cgi-bin/sendsms` ([`kannel`]), the JSON API under
//! `/api/v1` ([`rest`]), the status page, `/health` and `/metrics` ([`status`]), on one
//! axum router served by [`serve`] (connection cap, header and request timeouts, body
//! limit, a stop that ends within the daemon's grace).

pub mod auth;
pub mod kannel;
pub mod rest;
pub mod status;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tokio::sync::watch;

use crate::config::Config;
use crate::daemon::status::Board;
use crate::service::Service;

/// What every handler sees.
pub struct Face {
    /// The running config: users, routes and limits follow a reload (SIGHUP); the listen
    /// address and TLS files need a restart.
    cfg: std::sync::RwLock<Arc<Config>>,
    pub storage: Arc<dyn Service>,
    pub board: Board,
    /// Wakes the senders: a message queued here goes out at once.
    pub wake: watch::Sender<u64>,
    pub limits: auth::Limits,
    pub started: Instant,
}

impl Face {
    pub fn new(
        cfg: Arc<Config>,
        storage: Arc<dyn Service>,
        board: Board,
        wake: watch::Sender<u64>,
    ) -> Arc<Face> {
        Arc::new(Face {
            cfg: std::sync::RwLock::new(cfg),
            storage,
            board,
            wake,
            limits: auth::Limits::default(),
            started: Instant::now(),
        })
    }

    /// The config now.
    pub fn cfg(&self) -> Arc<Config> {
        self.cfg.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A reloaded config.
    pub fn set_cfg(&self, cfg: Arc<Config>) {
        let mut held = self.cfg.write().unwrap_or_else(|p| p.into_inner());
        if held.http.listen != cfg.http.listen
            || held.http.tls_cert != cfg.http.tls_cert
            || held.http.tls_key != cfg.http.tls_key
        {
            tracing::warn!("reload: [http] listen and the TLS files change at the next restart; users, routes and limits change now");
        }
        *held = cfg;
    }

    pub(crate) fn poke(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Every route of the face.
pub fn router(face: Arc<Face>) -> Router {
    let cfg = face.cfg();
    let h = &cfg.http;
    Router::new()
        .route(
            "/cgi-bin/sendsms",
            get(kannel::sendsms_get).post(kannel::sendsms_post),
        )
        .merge(rest::routes())
        .route("/health", get(status::health))
        .route("/status", get(status::page))
        .route("/status.json", get(status::json))
        .route("/metrics", get(status::metrics))
        .fallback(status::not_found)
        .layer(axum::middleware::from_fn(access_log))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(h.max_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(h.timeout),
        ))
        .with_state(face)
}

/// Only `/metrics` (`[metrics] listen` of its own).
pub fn metrics_router(face: Arc<Face>) -> Router {
    Router::new()
        .route("/metrics", get(status::metrics_open))
        .fallback(status::not_found)
        .with_state(face)
}

/// The request line as logged: passwords replaced (Kannel writes them to its access log;
/// we do not).
pub fn redacted(uri: &axum::http::Uri) -> String {
    let Some(q) = uri.query() else {
        return uri.path().to_string();
    };
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        k == "password" || k == "pass" || k == "token"
    };
    let q: Vec<String> = q
        .split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            // A value may carry a URL with credentials of its own (Kannel puts its DLR
            // port's password into the dlr-url it passes on).
            let decoded = String::from_utf8_lossy(&kannel::percent_decode(value.as_bytes()))
                .to_ascii_lowercase();
            let inner = ["password=", "pass=", "token="]
                .iter()
                .any(|n| decoded.contains(n));
            if secret(key) || inner {
                format!("{key}=***")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), q.join("&"))
}

async fn access_log(req: Request, next: Next) -> Response {
    let (method, uri) = (req.method().clone(), redacted(req.uri()));
    let t = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        target: "smsgw::http",
        status = resp.status().as_u16(),
        ms = t.elapsed().as_millis() as u64,
        "{method} {uri}"
    );
    resp
}

/// Serves `app` on `listener` until `stop` turns true: at most `max_connections` at once,
/// request headers (and the TLS handshake, with `tls`) within `timeout` (an idle or slow
/// client is cut off), then a graceful end of the connections within a second.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    max_connections: usize,
    timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(true);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            () = stopped(&mut stop) => break,
        };
        let (stream, peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pass, and try again.
                    tracing::warn!("http: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let (app, http, watcher, tls) =
            (app.clone(), http.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let result = match tls {
                None => connection(&http, watcher, stream, app).await,
                Some(tls) => match tokio::time::timeout(timeout, tls.accept(stream)).await {
                    Ok(Ok(stream)) => connection(&http, watcher, stream, app).await,
                    Ok(Err(e)) => Err(format!("TLS handshake: {e}")),
                    Err(_) => Err("no TLS handshake within the timeout".into()),
                },
            };
            if let Err(e) = result {
                tracing::debug!(%peer, "http connection: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(1), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("http: connections still open at the stop: dropped");
    }
}

/// One connection, plain or TLS, served until it ends (or the stop ends it).
async fn connection<I>(
    http: &hyper::server::conn::http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    io: I,
    app: Router,
) -> Result<(), String>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(app);
    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    watcher.watch(conn).await.map_err(|e| e.to_string())
}

/// Returns when `stop` turns true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Binds `listen` (the error names the key and what to do).
pub async fn bind(listen: &str, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!(
            "{key} = {listen:?}: cannot listen: {e} (another program on that port? `ss -ltnp` shows it)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        let uri: axum::http::Uri = "/cgi-bin/sendsms?username=u&password=s3cret&to=1&PASS=x"
            .parse()
            .unwrap();
        let line = redacted(&uri);
        assert_eq!(
            line,
            "/cgi-bin/sendsms?username=u&password=***&to=1&PASS=***"
        );
        // Kannel passes its DLR port's password on inside the dlr-url.
        let uri: axum::http::Uri = "/cgi-bin/sendsms?to=1&dlr-url=http%3A%2F%2Fh%2F%3Fusername%3Dk%26password%3Ds3cret%26to%3D%25p&dlr-mask=3"
            .parse()
            .unwrap();
        assert_eq!(
            redacted(&uri),
            "/cgi-bin/sendsms?to=1&dlr-url=***&dlr-mask=3"
        );
    }
}
