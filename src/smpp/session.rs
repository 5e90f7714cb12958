//! An SMPP session as an ESME: connect, bind, then one task owns the connection. It answers
//! the SMSC's `enquire_link` and `unbind`, sends our `enquire_link` every interval and drops
//! the link when no answer comes, hands responses to the requests waiting for them (by
//! sequence number: 1..0x7FFFFFFF, wrapping, never two outstanding alike), answers bad
//! PDUs with `generic_nack`, and passes `deliver_sm`s up. Requests may be sent from several
//! tasks at once (the send window).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_rustls::rustls::{
    self,
    pki_types::{pem::PemObject, CertificateDer, ServerName},
};
use tokio_rustls::TlsConnector;
use tokio_util::codec::Framed;

use super::codec::{Frame, SmppCodec};
use super::pdu::{cmd, status, Bind, Body, Pdu};
use super::quickack::QuickAck;

/// How to bind.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port`.
    pub address: String,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    /// The bind's address_range and interface_version (0x34).
    pub address_range: String,
    pub interface_version: u8,
    /// Which bind.
    pub bind: BindAs,
    /// Seconds between our `enquire_link`s; the link is dropped when one is not answered
    /// within `response_timeout`.
    pub enquire_link: Duration,
    /// How long a request waits for its response.
    pub response_timeout: Duration,
    /// TLS from the start, when set.
    pub tls: Option<Tls>,
}

/// TLS to the SMSC: the certificate is checked for `name` against the usual (webpki)
/// roots and the CA certificates in `ca_file`, read at each connect.
#[derive(Debug, Clone)]
pub struct Tls {
    pub name: String,
    pub ca_file: Option<std::path::PathBuf>,
}

impl Tls {
    fn connector(&self) -> Result<(TlsConnector, ServerName<'static>), String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(file) = &self.ca_file {
            let certs = CertificateDer::pem_file_iter(file)
                .map_err(|e| format!("ca_file {}: {e}", file.display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("ca_file {}: {e}", file.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("ca_file {}: {e}", file.display()))?;
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = ServerName::try_from(self.name.clone())
            .map_err(|e| format!("{:?} is not a host name for TLS: {e}", self.name))?;
        Ok((TlsConnector::from(Arc::new(config)), name))
    }
}

/// The connection: TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Link = Framed<Box<dyn Io>, SmppCodec>;

/// The bind a session makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindAs {
    /// `bind_transmitter`: sends only.
    Transmitter,
    /// `bind_receiver`: receives only (messages and receipts).
    Receiver,
    /// `bind_transceiver`: both on one connection.
    Transceiver,
}

/// Why the session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("the SMSC refused the bind: {0}")]
    BindRefused(String),
    #[error("no answer from the SMSC within {0:?}")]
    Timeout(Duration),
    #[error("the link to the SMSC is down: {0}")]
    LinkDown(String),
}

/// What the SMSC sent us on its own.
#[derive(Debug)]
pub enum Inbound {
    /// A deliver_sm (a message or a receipt): answer it with [`Session::respond`] once it is
    /// stored.
    Deliver(Pdu),
}

type Pending = Arc<Mutex<HashMap<u32, oneshot::Sender<Pdu>>>>;

/// A bound session. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    out: mpsc::UnboundedSender<Pdu>,
    pending: Pending,
    next_seq: Arc<Mutex<u32>>,
    timeout: Duration,
    /// Says why the link is gone, once it is.
    closed: watch::Receiver<Option<String>>,
    /// Tells the connection's task to unbind and end.
    quit: Arc<watch::Sender<bool>>,
    /// The SMSC's system_id from the bind response.
    pub smsc_id: String,
}

/// What a status code means, for messages.
pub fn status_name(code: u32) -> String {
    let name = match code {
        status::ESME_RINVMSGLEN => "ESME_RINVMSGLEN (message length is invalid)",
        status::ESME_RINVCMDLEN => "ESME_RINVCMDLEN (command length is invalid)",
        status::ESME_RINVCMDID => "ESME_RINVCMDID (invalid command)",
        status::ESME_RINVBNDSTS => "ESME_RINVBNDSTS (not bound for this)",
        status::ESME_RALYBND => "ESME_RALYBND (already bound)",
        status::ESME_RSYSERR => "ESME_RSYSERR (system error)",
        status::ESME_RINVDSTADR => "ESME_RINVDSTADR (invalid destination address)",
        status::ESME_RBINDFAIL => "ESME_RBINDFAIL (bind failed)",
        status::ESME_RINVPASWD => "ESME_RINVPASWD (wrong password)",
        status::ESME_RINVSYSID => "ESME_RINVSYSID (unknown system_id)",
        status::ESME_RMSGQFUL => "ESME_RMSGQFUL (the SMSC's queue is full)",
        status::ESME_RSUBMITFAIL => "ESME_RSUBMITFAIL (submit failed)",
        status::ESME_RTHROTTLED => "ESME_RTHROTTLED (sending too fast)",
        _ => return format!("command_status 0x{code:08X}"),
    };
    name.to_string()
}

impl Session {
    /// Connects and binds; the inbound `deliver_sm`s arrive on the returned receiver.
    pub async fn connect(
        s: &Settings,
    ) -> Result<(Session, mpsc::UnboundedReceiver<Inbound>), SessionError> {
        let stream = tokio::time::timeout(s.response_timeout, TcpStream::connect(&s.address))
            .await
            .map_err(|_| SessionError::Connect(s.address.clone(), "timed out".into()))?
            .map_err(|e| SessionError::Connect(s.address.clone(), e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let stream = QuickAck(stream);
        let stream: Box<dyn Io> = match &s.tls {
            None => Box::new(stream),
            Some(tls) => {
                let (connector, name) = tls
                    .connector()
                    .map_err(|e| SessionError::Connect(s.address.clone(), format!("TLS: {e}")))?;
                let handshake = connector.connect(name, stream);
                let stream = tokio::time::timeout(s.response_timeout, handshake)
                    .await
                    .map_err(|_| {
                        SessionError::Connect(s.address.clone(), "TLS handshake timed out".into())
                    })?
                    .map_err(|e| SessionError::Connect(s.address.clone(), format!("TLS: {e}")))?;
                Box::new(stream)
            }
        };
        let mut framed = Framed::new(stream, SmppCodec::default());
        let bind = Bind {
            system_id: s.system_id.clone(),
            password: s.password.clone(),
            system_type: s.system_type.clone(),
            interface_version: s.interface_version,
            address_range: s.address_range.clone(),
            ..Bind::default()
        };
        let (id, body) = match s.bind {
            BindAs::Transmitter => (cmd::BIND_TRANSMITTER, Body::BindTransmitter(bind)),
            BindAs::Receiver => (cmd::BIND_RECEIVER, Body::BindReceiver(bind)),
            BindAs::Transceiver => (cmd::BIND_TRANSCEIVER, Body::BindTransceiver(bind)),
        };
        framed
            .send(&Pdu::new(id, 1, body))
            .await
            .map_err(|e| SessionError::Connect(s.address.clone(), e.to_string()))?;
        let resp = loop {
            match tokio::time::timeout(s.response_timeout, framed.next()).await {
                Err(_) => return Err(SessionError::Timeout(s.response_timeout)),
                Ok(None) => {
                    return Err(SessionError::BindRefused(
                        "the SMSC closed the connection".into(),
                    ))
                }
                Ok(Some(Err(e))) => return Err(SessionError::LinkDown(e.to_string())),
                Ok(Some(Ok(Frame::Pdu(p)))) if p.command_id == (id | 0x8000_0000) => break p,
                Ok(Some(Ok(Frame::Pdu(p)))) if p.command_id == cmd::GENERIC_NACK => {
                    return Err(SessionError::BindRefused(status_name(p.status)))
                }
                // Anything else before the bind response is ignored.
                Ok(Some(Ok(_))) => {}
            }
        };
        if resp.status != status::ESME_ROK {
            return Err(SessionError::BindRefused(status_name(resp.status)));
        }
        let smsc_id = match &resp.body {
            Body::BindResp { system_id, .. } => system_id.clone(),
            _ => String::new(),
        };
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let pending: Pending = Arc::default();
        let (closed_tx, closed) = watch::channel(None);
        let (quit, _) = watch::channel(false);
        let session = Session {
            quit: Arc::new(quit),
            out: out_tx,
            pending: pending.clone(),
            next_seq: Arc::new(Mutex::new(2)),
            timeout: s.response_timeout,
            closed,
            smsc_id,
        };
        tokio::spawn(run(
            framed,
            out_rx,
            in_tx,
            pending,
            closed_tx,
            session.clone(),
            s.enquire_link,
        ));
        Ok((session, in_rx))
    }

    /// Whether the link is gone, and why.
    pub fn down(&self) -> Option<String> {
        self.closed.borrow().clone()
    }

    /// Waits until the link is gone.
    pub async fn closed(&self) {
        let mut c = self.closed.clone();
        let _ = c.wait_for(Option::is_some).await;
    }

    fn sequence(&self) -> u32 {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.next_seq.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let s = *next;
            *next = if s >= 0x7FFF_FFFF { 1 } else { s + 1 };
            if !pending.contains_key(&s) {
                return s;
            }
        }
    }

    /// Sends a request and waits for its response. A link that drops, or no response within
    /// the timeout, is an error: the request may or may not have been acted on.
    pub async fn request(&self, command_id: u32, body: Body) -> Result<Pdu, SessionError> {
        if let Some(why) = self.down() {
            return Err(SessionError::LinkDown(why));
        }
        let seq = self.sequence();
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(seq, tx);
        let forget = || {
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&seq);
        };
        if self.out.send(Pdu::new(command_id, seq, body)).is_err() {
            forget();
            return Err(SessionError::LinkDown("the session ended".into()));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) => Err(SessionError::LinkDown(
                self.down().unwrap_or_else(|| "the session ended".into()),
            )),
            Err(_) => {
                forget();
                Err(SessionError::Timeout(self.timeout))
            }
        }
    }

    /// Answers a request of the SMSC (a deliver_sm once stored).
    pub fn respond(&self, pdu: Pdu) {
        let _ = self.out.send(pdu);
    }

    /// Unbinds (without waiting for the answer) and ends the session.
    pub fn close(&self) {
        self.quit.send_replace(true);
    }
}

async fn run(
    mut framed: Link,
    mut out: mpsc::UnboundedReceiver<Pdu>,
    inbound: mpsc::UnboundedSender<Inbound>,
    pending: Pending,
    closed: watch::Sender<Option<String>>,
    session: Session,
    enquire_every: Duration,
) {
    let mut quit = session.quit.subscribe();
    let mut tick = tokio::time::interval(enquire_every.max(Duration::from_secs(1)));
    tick.tick().await;
    let mut enquiry: Option<tokio::task::JoinHandle<bool>> = None;
    let why = loop {
        tokio::select! {
            frame = framed.next() => match frame {
                None => break "the SMSC closed the connection".to_string(),
                Some(Err(e)) => break e.to_string(),
                Some(Ok(Frame::Bad { command_id, sequence, error })) => {
                    tracing::warn!("SMSC sent a bad PDU (command 0x{command_id:08X}): {error}");
                    let mut nack = Pdu::new(cmd::GENERIC_NACK, sequence, Body::GenericNack);
                    nack.status = status::ESME_RINVCMDLEN;
                    if framed.send(&nack).await.is_err() {
                        break "cannot write to the SMSC".into();
                    }
                }
                Some(Ok(Frame::Pdu(p))) => {
                    if super::pdu::is_response(p.command_id) {
                        let waiter = pending.lock().unwrap_or_else(|e| e.into_inner()).remove(&p.sequence);
                        match waiter {
                            Some(w) => { let _ = w.send(p); }
                            None => tracing::debug!(seq = p.sequence, "a response nobody waits for (timed out)"),
                        }
                        continue;
                    }
                    let answer = match p.command_id {
                        cmd::ENQUIRE_LINK => Some(Pdu::new(cmd::ENQUIRE_LINK_RESP, p.sequence, Body::EnquireLinkResp)),
                        cmd::UNBIND => {
                            let _ = framed.send(&Pdu::new(cmd::UNBIND_RESP, p.sequence, Body::UnbindResp)).await;
                            break "the SMSC unbound".into();
                        }
                        cmd::DELIVER_SM | cmd::DATA_SM => {
                            if inbound.send(Inbound::Deliver(p.clone())).is_err() {
                                // Nobody takes messages: ask for it again later.
                                let mut r = Pdu::new(p.command_id | 0x8000_0000, p.sequence, Body::Resp { message_id: String::new(), tlvs: vec![] });
                                r.status = status::ESME_RX_T_APPN;
                                Some(r)
                            } else {
                                None
                            }
                        }
                        other => {
                            let mut nack = Pdu::new(cmd::GENERIC_NACK, p.sequence, Body::GenericNack);
                            nack.status = status::ESME_RINVCMDID;
                            tracing::debug!("SMSC sent command 0x{other:08X}: not supported");
                            Some(nack)
                        }
                    };
                    if let Some(a) = answer {
                        if framed.send(&a).await.is_err() {
                            break "cannot write to the SMSC".into();
                        }
                    }
                }
            },
            _ = async { let _ = quit.wait_for(|q| *q).await; } => {
                let unbind = Pdu::new(cmd::UNBIND, session.sequence(), Body::Unbind);
                let _ = tokio::time::timeout(Duration::from_secs(2), framed.send(&unbind)).await;
                break "unbound by smsgw".into();
            }
            Some(p) = out.recv() => {
                // What else is queued goes in the same write (a window's submit_sm, the
                // answers to a burst of receipts).
                let mut written = framed.feed(&p).await;
                while written.is_ok() {
                    let Ok(more) = out.try_recv() else { break };
                    written = framed.feed(&more).await;
                }
                let flushed = match written {
                    Ok(()) => framed.flush().await,
                    failed => failed,
                };
                if let Err(e) = flushed {
                    break format!("cannot write to the SMSC: {e}");
                }
            }
            _ = tick.tick() => {
                if let Some(e) = &enquiry {
                    if e.is_finished() {
                        if let Some(e) = enquiry.take() {
                            if !e.await.unwrap_or(false) {
                                break "enquire_link was not answered".into();
                            }
                        }
                    }
                }
                if enquiry.is_none() {
                    let s = session.clone();
                    enquiry = Some(tokio::spawn(async move {
                        s.request(cmd::ENQUIRE_LINK, Body::EnquireLink).await.is_ok()
                    }));
                }
            }
        }
    };
    let quitting = *quit.borrow();
    if quitting {
        tracing::info!(smsc = %session.smsc_id, "SMPP session ended: {why}");
    } else {
        tracing::warn!(smsc = %session.smsc_id, "SMPP link down: {why}");
    }
    let _ = closed.send(Some(why));
    // Waiting requests learn the link is gone (their senders are dropped).
    pending.lock().unwrap_or_else(|e| e.into_inner()).clear();
    if let Some(e) = enquiry {
        e.abort();
    }
}
