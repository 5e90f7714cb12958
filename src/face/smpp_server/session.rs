//! One SMPP connection: bind, then requests answered in any order as they complete (each
//! submit_sm is committed in a task of its own, at most `window` at once; the next PDU
//! is not read while the window is full), deliver_sm pushed by the account's consumer,
//! enquire_link, unbind. Responses are written by a task of their own, batched.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio_util::codec::FramedRead;

use super::join::{Joiner, Ready};
use super::read::{self, Read};
use super::{Push, Server, PUSH_TIMEOUT};
use crate::config::SmppAccount;
use crate::face::http::auth::same;
use crate::face::submit::{self, Caller, SubmitError};
use crate::service::Submission;
use crate::smpp::codec::{CodecError, Frame, SmppCodec};
use crate::smpp::pdu::{
    cmd, is_response, status, tag, Bind, Body, CancelSm, Pdu, PduError, QuerySm, QuerySmResp, Sm,
    Tlv,
};

/// Binds refused on one connection before it is closed.
const MAX_FAILED_BINDS: u32 = 3;

struct Bound {
    system_id: String,
    transmit: bool,
    id: u64,
}

struct Session {
    server: Arc<Server>,
    peer: SocketAddr,
    /// Encoded PDUs for the writer.
    out: mpsc::Sender<Vec<u8>>,
    bound: Option<Bound>,
    joiner: Joiner,
    /// deliver_sm sent, by sequence number, waiting for their answer.
    pending: HashMap<u32, oneshot::Sender<Result<u32, String>>>,
    sequence: u32,
    permits: Arc<Semaphore>,
    window: u32,
    failed_binds: u32,
    push_tx: mpsc::Sender<Push>,
}

enum Flow {
    Go,
    Close,
}

/// Serves one connection until it unbinds, breaks, idles out or the daemon stops.
pub(super) async fn run<I>(
    server: Arc<Server>,
    io: I,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Send + 'static,
{
    let conf = server.cfg().smpp_server.clone();
    let (r, w) = tokio::io::split(io);
    let mut frames = FramedRead::new(r, SmppCodec { max: conf.max_pdu });
    let (out, out_rx) = mpsc::channel::<Vec<u8>>(conf.window * 2 + 16);
    let writer = tokio::spawn(write_loop(w, out_rx));
    let (push_tx, mut push_rx) = mpsc::channel::<Push>(conf.window);
    let mut s = Session {
        server,
        peer,
        out,
        bound: None,
        joiner: Joiner::default(),
        pending: HashMap::new(),
        sequence: 0,
        permits: Arc::new(Semaphore::new(conf.window)),
        window: conf.window as u32,
        failed_binds: 0,
        push_tx,
    };
    tracing::debug!(%peer, "smpp server: connection");
    let inactivity = Duration::from_secs(conf.inactivity);
    let part_timeout = Duration::from_secs(conf.part_timeout);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut heard = Instant::now();
    loop {
        let flow = tokio::select! {
            frame = frames.next() => {
                heard = Instant::now();
                match frame {
                    None => Flow::Close,
                    Some(Ok(Frame::Pdu(p))) => s.handle(p).await,
                    Some(Ok(Frame::Bad { command_id, sequence, error })) => s.bad(command_id, sequence, &error).await,
                    Some(Err(CodecError::Framing(e))) => {
                        tracing::info!(peer = %s.peer, "smpp server: {e}: generic_nack, closing");
                        s.count_error();
                        let _ = s.send(Pdu { command_id: cmd::GENERIC_NACK, status: status::ESME_RINVCMDLEN, sequence: 0, body: Body::GenericNack }).await;
                        Flow::Close
                    }
                    Some(Err(e)) => {
                        tracing::debug!(peer = %s.peer, "smpp server: {e}");
                        Flow::Close
                    }
                }
            }
            Some(push) = push_rx.recv() => s.push(push).await,
            _ = tick.tick() => {
                if heard.elapsed() >= inactivity {
                    tracing::info!(peer = %s.peer, "smpp server: nothing heard for {inactivity:?}: unbinding");
                    s.unbind(&mut frames).await;
                    Flow::Close
                } else {
                    for ready in s.joiner.expired(part_timeout) {
                        tracing::info!(peer = %s.peer, "smpp server: a long message's parts did not all come within {part_timeout:?}: queued as they are");
                        s.queue(ready, None).await;
                    }
                    s.pending.retain(|_, tx| !tx.is_closed());
                    Flow::Go
                }
            }
            () = crate::face::http::stopped(&mut stop) => {
                // Let the submits in flight answer, then unbind.
                let _ = tokio::time::timeout(Duration::from_millis(500), s.permits.acquire_many(s.window)).await;
                s.unbind(&mut frames).await;
                Flow::Close
            }
        };
        if matches!(flow, Flow::Close) {
            break;
        }
    }
    if let Some(b) = s.bound.take() {
        s.server.unregister(&b.system_id, b.id);
        tracing::info!(peer = %s.peer, account = %b.system_id, "smpp server: unbound");
    }
    let held = s.joiner.drain();
    if !held.is_empty() {
        tracing::info!(peer = %s.peer, parts = held.len(), "smpp server: parts of a long message never answered (the client sends them again)");
    }
    drop(s);
    // The writer ends once every task holding a sender has answered.
    let mut writer = writer;
    if tokio::time::timeout(Duration::from_secs(2), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Writes what the session and its tasks answer (encoded PDUs), many per write.
async fn write_loop<W: AsyncWrite>(w: W, mut rx: mpsc::Receiver<Vec<u8>>) {
    let mut w = Box::pin(w);
    let mut buf = Vec::with_capacity(8192);
    while let Some(first) = rx.recv().await {
        buf.clear();
        buf.extend_from_slice(&first);
        while buf.len() < 64 * 1024 {
            match rx.try_recv() {
                Ok(more) => buf.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        if w.write_all(&buf).await.is_err() || w.flush().await.is_err() {
            return;
        }
    }
    let _ = w.shutdown().await;
}

/// Queues `bytes` for the writer; `Flow::Close` when the client has not read its answers
/// for [`PUSH_TIMEOUT`].
async fn queue_bytes(out: &mpsc::Sender<Vec<u8>>, bytes: Vec<u8>, peer: SocketAddr) -> Flow {
    match out.send_timeout(bytes, PUSH_TIMEOUT).await {
        Ok(()) => Flow::Go,
        Err(_) => {
            tracing::info!(%peer, "smpp server: the client reads no answers: closing");
            Flow::Close
        }
    }
}

/// A response with `status` and the body its command takes.
fn resp(command_id: u32, sequence: u32, st: u32, system_id: &str) -> Pdu {
    let body = match command_id {
        cmd::BIND_TRANSMITTER | cmd::BIND_RECEIVER | cmd::BIND_TRANSCEIVER => Body::BindResp {
            system_id: system_id.to_string(),
            tlvs: if st == status::ESME_ROK {
                vec![Tlv::u8(tag::SC_INTERFACE_VERSION, 0x34)]
            } else {
                vec![]
            },
        },
        cmd::QUERY_SM => Body::QuerySmResp(QuerySmResp::default()),
        cmd::CANCEL_SM => Body::CancelSmResp,
        cmd::UNBIND => Body::UnbindResp,
        cmd::ENQUIRE_LINK => Body::EnquireLinkResp,
        cmd::SUBMIT_SM | cmd::DATA_SM => Body::Resp {
            message_id: String::new(),
            tlvs: vec![],
        },
        _ => {
            return Pdu {
                command_id: cmd::GENERIC_NACK,
                status: st,
                sequence,
                body: Body::GenericNack,
            }
        }
    };
    Pdu {
        command_id: command_id | 0x8000_0000,
        status: st,
        sequence,
        body,
    }
}

/// The command_status a refused submission is answered with.
fn status_of(e: &SubmitError) -> u32 {
    match e {
        SubmitError::NoRecipient
        | SubmitError::TooManyRecipients(_)
        | SubmitError::BadNumber { .. } => status::ESME_RINVDSTADR,
        SubmitError::Empty | SubmitError::TooManyParts { .. } => status::ESME_RINVMSGLEN,
        SubmitError::BadContent(_)
        | SubmitError::UnknownRoute { .. }
        | SubmitError::RouteNotAllowed(_) => status::ESME_RSUBMITFAIL,
        // The client may try again: the storage may be back by then.
        SubmitError::Storage(_) => status::ESME_RMSGQFUL,
    }
}

/// A local `YYYY-MM-DD HH:MM:SS` as an absolute SMPP time (`YYMMDDhhmmss000+`, this
/// host's offset); empty for none.
fn smpp_time(local: &str) -> String {
    let digits: String = local.chars().filter(char::is_ascii_digit).collect();
    let Some(t) = digits.get(2..14) else {
        return String::new();
    };
    let offset = chrono::Local::now().offset().local_minus_utc();
    let quarters = offset.abs() / 900;
    let sign = if offset < 0 { '-' } else { '+' };
    format!("{t}0{quarters:02}{sign}")
}

impl Session {
    fn next_sequence(&mut self) -> u32 {
        self.sequence = if self.sequence >= 0x7FFF_FFFF {
            1
        } else {
            self.sequence + 1
        };
        self.sequence
    }

    fn account_name(&self) -> &str {
        self.bound.as_ref().map_or("", |b| b.system_id.as_str())
    }

    fn count_error(&self) {
        let name = self.account_name().to_string();
        self.server.count("smsgw_smpp_errors_total", &name, 1);
    }

    /// Encodes `p` and queues it for the writer (a PDU that cannot be encoded is logged and
    /// not sent).
    async fn send(&self, p: Pdu) -> Flow {
        match p.encode() {
            Ok(bytes) => queue_bytes(&self.out, bytes, self.peer).await,
            Err(e) => {
                tracing::warn!(peer = %self.peer, "smpp server: cannot encode 0x{:08X}: {e}", p.command_id);
                Flow::Go
            }
        }
    }

    async fn answer(&self, command_id: u32, sequence: u32, st: u32) -> Flow {
        if st != status::ESME_ROK {
            self.count_error();
        }
        // Binds are answered with the system_id by `bind`; an error needs none.
        self.send(resp(command_id, sequence, st, "")).await
    }

    /// The account as configured now (a reload may have changed or removed it).
    fn account(&self) -> Option<SmppAccount> {
        let b = self.bound.as_ref()?;
        self.server
            .cfg()
            .smpp_server
            .accounts
            .iter()
            .find(|a| a.system_id == b.system_id)
            .cloned()
    }

    async fn bad(&mut self, command_id: u32, sequence: u32, error: &PduError) -> Flow {
        tracing::info!(peer = %self.peer, "smpp server: PDU 0x{command_id:08X} (sequence {sequence}) does not decode: {error}");
        self.count_error();
        let nack = Pdu {
            command_id: cmd::GENERIC_NACK,
            status: status::ESME_RINVCMDLEN,
            sequence,
            body: Body::GenericNack,
        };
        let flow = self.send(nack).await;
        // A body that ends before its fields, or a TLV running past the end: the length
        // lies, and what follows cannot be trusted.
        if matches!(error, PduError::Truncated(_) | PduError::BadTlv(_)) {
            Flow::Close
        } else {
            flow
        }
    }

    async fn handle(&mut self, p: Pdu) -> Flow {
        let seq = p.sequence;
        match p.body {
            Body::BindTransmitter(b) => self.bind(p.command_id, seq, b, true, false).await,
            Body::BindReceiver(b) => self.bind(p.command_id, seq, b, false, true).await,
            Body::BindTransceiver(b) => self.bind(p.command_id, seq, b, true, true).await,
            Body::Unbind => {
                let _ = self.answer(cmd::UNBIND, seq, status::ESME_ROK).await;
                Flow::Close
            }
            Body::UnbindResp => Flow::Close,
            Body::EnquireLink => self.answer(cmd::ENQUIRE_LINK, seq, status::ESME_ROK).await,
            Body::EnquireLinkResp => Flow::Go,
            Body::GenericNack => {
                tracing::info!(peer = %self.peer, sequence = seq, "smpp server: the client answered generic_nack 0x{:08X}", p.status);
                if let Some(tx) = self.pending.remove(&seq) {
                    let _ = tx.send(Ok(p.status.max(1)));
                }
                Flow::Go
            }
            Body::SubmitSm(sm) => self.submit(seq, sm).await,
            Body::QuerySm(q) => self.query(seq, q).await,
            Body::CancelSm(c) => self.cancel(seq, c).await,
            Body::Resp { .. } if p.command_id == cmd::DELIVER_SM_RESP => {
                if let Some(tx) = self.pending.remove(&seq) {
                    let _ = tx.send(Ok(p.status));
                }
                Flow::Go
            }
            Body::DataSm(_) => self.answer(cmd::DATA_SM, seq, status::ESME_RINVCMDID).await,
            _ if is_response(p.command_id) => Flow::Go,
            _ => {
                tracing::info!(peer = %self.peer, "smpp server: command 0x{:08X} is not served: generic_nack", p.command_id);
                self.answer(0, seq, status::ESME_RINVCMDID).await
            }
        }
    }

    async fn bind(
        &mut self,
        command_id: u32,
        seq: u32,
        b: Bind,
        transmit: bool,
        receive: bool,
    ) -> Flow {
        if self.bound.is_some() {
            return self.answer(command_id, seq, status::ESME_RALYBND).await;
        }
        let cfg = self.server.cfg();
        let conf = &cfg.smpp_server;
        let account = conf.accounts.iter().find(|a| a.system_id == b.system_id);
        // Compared even for an unknown system_id, so that the time taken does not tell.
        let password_ok = same(
            account.map_or("\u{0}none", |a| a.password.as_str()),
            &b.password,
        );
        let kind = match (transmit, receive) {
            (true, true) => "transceiver",
            (true, false) => "transmitter",
            _ => "receiver",
        };
        let refused = match account {
            None => Some((status::ESME_RINVSYSID, "unknown system_id".to_string())),
            Some(_) if !password_ok => Some((status::ESME_RINVPASWD, "wrong password".into())),
            Some(a) if !a.bind_types.iter().any(|t| t == kind) => Some((
                status::ESME_RBINDFAIL,
                format!("may not bind as {kind} (bind_types)"),
            )),
            Some(_) => None,
        };
        if let Some((st, why)) = refused {
            self.failed_binds += 1;
            tracing::warn!(peer = %self.peer, system_id = %b.system_id, "smpp server: bind refused: {why}");
            self.server
                .count("smsgw_smpp_errors_total", &b.system_id, 1);
            let flow = self.send(resp(command_id, seq, st, &conf.system_id)).await;
            return if self.failed_binds < MAX_FAILED_BINDS {
                flow
            } else {
                Flow::Close
            };
        }
        let Some(id) =
            self.server
                .register(&b.system_id, receive, self.push_tx.clone(), conf.max_binds)
        else {
            tracing::warn!(peer = %self.peer, system_id = %b.system_id, "smpp server: bind refused: the account holds max_binds = {} binds", conf.max_binds);
            self.server
                .count("smsgw_smpp_errors_total", &b.system_id, 1);
            return self
                .send(resp(
                    command_id,
                    seq,
                    status::ESME_RBINDFAIL,
                    &conf.system_id,
                ))
                .await;
        };
        tracing::info!(peer = %self.peer, account = %b.system_id, "smpp server: bound as {kind}");
        self.bound = Some(Bound {
            system_id: b.system_id,
            transmit,
            id,
        });
        self.send(resp(command_id, seq, status::ESME_ROK, &conf.system_id))
            .await
    }

    async fn submit(&mut self, seq: u32, sm: Sm) -> Flow {
        if !self.bound.as_ref().is_some_and(|b| b.transmit) {
            return self
                .answer(cmd::SUBMIT_SM, seq, status::ESME_RINVBNDSTS)
                .await;
        }
        let Some(account) = self.account() else {
            tracing::warn!(peer = %self.peer, account = %self.account_name(), "smpp server: the account was removed by a reload: submit_sm refused");
            return self
                .answer(cmd::SUBMIT_SM, seq, status::ESME_RSUBMITFAIL)
                .await;
        };
        if self
            .server
            .limits
            .take(&format!("smpp:{}", account.system_id), account.rate, 1)
            .is_err()
        {
            return self
                .answer(cmd::SUBMIT_SM, seq, status::ESME_RTHROTTLED)
                .await;
        }
        let meta = (
            sm.source.addr.clone(),
            read::dlr_mask(sm.registered_delivery),
        );
        match read::read(&sm, &account, chrono::Utc::now()) {
            Err(r) => {
                tracing::info!(peer = %self.peer, account = %account.system_id, "smpp server: submit_sm refused (0x{:08X}): {}", r.status, r.reason);
                self.answer(cmd::SUBMIT_SM, seq, r.status).await
            }
            Ok(Read::Whole(request)) => {
                self.queue(
                    Ready {
                        request,
                        sequences: vec![seq],
                    },
                    Some(meta),
                )
                .await;
                Flow::Go
            }
            Ok(Read::Part(part)) => match self.joiner.add(part, seq) {
                None => Flow::Go,
                Some(Ok(ready)) => {
                    self.queue(ready, Some(meta)).await;
                    Flow::Go
                }
                Some(Err((sequences, why))) => {
                    tracing::info!(peer = %self.peer, account = %account.system_id, "smpp server: submit_sm refused: {why}");
                    for s in sequences {
                        if let Flow::Close =
                            self.answer(cmd::SUBMIT_SM, s, status::ESME_RINVDCS).await
                        {
                            return Flow::Close;
                        }
                    }
                    Flow::Go
                }
            },
        }
    }

    /// Queues `ready` in a task of its own (waiting for a place in the window first) and
    /// answers its submit_sm once committed. `meta`: the source address and dlr mask
    /// (`None`: taken from a part that came alone).
    async fn queue(&mut self, ready: Ready, meta: Option<(String, u8)>) {
        let Some(account) = self.account() else {
            return;
        };
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let (server, out, peer) = (self.server.clone(), self.out.clone(), self.peer);
        let (from, mask) = meta.unwrap_or_default();
        tokio::spawn(async move {
            let cfg = server.cfg();
            let caller = Caller {
                routes: &account.routes,
                max_parts: cfg.smpp_server.max_parts,
            };
            let how = Submission {
                face: "smpp".into(),
                owner: account.system_id.clone(),
                idempotency_key: None,
                from,
                dlr_url: None,
                dlr_mask: mask,
                to: String::new(),
            };
            let (st, id) = match submit::submit(
                server.storage.as_ref(),
                &cfg,
                &caller,
                &ready.request,
                &how,
            )
            .await
            {
                Ok(done) => {
                    server.poke();
                    server.count("smsgw_smpp_submits_total", &account.system_id, 1);
                    (
                        status::ESME_ROK,
                        done.ids.first().map(i64::to_string).unwrap_or_default(),
                    )
                }
                Err(e) => {
                    server.count("smsgw_smpp_errors_total", &account.system_id, 1);
                    if matches!(e, SubmitError::Storage(_)) {
                        tracing::warn!(account = %account.system_id, "smpp server: submit_sm not queued: {e}");
                    } else {
                        tracing::info!(account = %account.system_id, "smpp server: submit_sm refused: {e}");
                    }
                    (status_of(&e), String::new())
                }
            };
            for seq in ready.sequences {
                let p = Pdu {
                    command_id: cmd::SUBMIT_SM_RESP,
                    status: st,
                    sequence: seq,
                    body: Body::Resp {
                        message_id: id.clone(),
                        tlvs: vec![],
                    },
                };
                // A message id is at most 20 digits: this encodes.
                let Ok(bytes) = p.encode() else { break };
                if let Flow::Close = queue_bytes(&out, bytes, peer).await {
                    break;
                }
            }
            drop(permit);
        });
    }

    /// The message `id` names if it is this account's; else the status to answer
    /// (ESME_RINVMSGID, or ESME_RSYSERR when the storage fails).
    async fn own_message(&self, id: &str) -> Result<crate::service::MessageView, u32> {
        let Ok(n) = id.trim().parse::<i64>() else {
            return Err(status::ESME_RINVMSGID);
        };
        match self.server.storage.message_view(n).await {
            Ok(Some(v)) if v.owner.as_deref() == Some(self.account_name()) => Ok(v),
            Ok(_) => Err(status::ESME_RINVMSGID),
            Err(e) => {
                tracing::warn!(peer = %self.peer, "smpp server: storage: {e}");
                Err(status::ESME_RSYSERR)
            }
        }
    }

    async fn query(&mut self, seq: u32, q: QuerySm) -> Flow {
        if self.bound.is_none() {
            return self
                .answer(cmd::QUERY_SM, seq, status::ESME_RINVBNDSTS)
                .await;
        }
        let view = match self.own_message(&q.message_id).await {
            Ok(v) => v,
            Err(st) => return self.answer(cmd::QUERY_SM, seq, st).await,
        };
        let (state, final_at) = match view.status.as_str() {
            "delivered" => (2, view.delivered_at.clone()),
            "failed" => (5, view.sent_at.clone()),
            "cancelled" => (4, None),
            // Queued, being sent, or sent and not yet reported: on its way.
            _ => (1, None),
        };
        let p = Pdu::new(
            cmd::QUERY_SM_RESP,
            seq,
            Body::QuerySmResp(QuerySmResp {
                message_id: q.message_id,
                final_date: final_at.as_deref().map(smpp_time).unwrap_or_default(),
                message_state: state,
                error_code: 0,
            }),
        );
        self.send(p).await
    }

    async fn cancel(&mut self, seq: u32, c: CancelSm) -> Flow {
        if !self.bound.as_ref().is_some_and(|b| b.transmit) {
            return self
                .answer(cmd::CANCEL_SM, seq, status::ESME_RINVBNDSTS)
                .await;
        }
        let view = match self.own_message(&c.message_id).await {
            Ok(v) => v,
            Err(st) => return self.answer(cmd::CANCEL_SM, seq, st).await,
        };
        let reason = format!(
            "cancelled by SMPP account {} (cancel_sm)",
            self.account_name()
        );
        let st = match self.server.storage.cancel_outbox(view.id, &reason).await {
            Ok(true) => status::ESME_ROK,
            Ok(false) => status::ESME_RCANCELFAIL,
            Err(e) => {
                tracing::warn!(peer = %self.peer, "smpp server: storage: {e}");
                status::ESME_RCANCELFAIL
            }
        };
        self.answer(cmd::CANCEL_SM, seq, st).await
    }

    /// A deliver_sm from the account's consumer.
    async fn push(&mut self, push: Push) -> Flow {
        let seq = self.next_sequence();
        match Pdu::new(cmd::DELIVER_SM, seq, Body::DeliverSm(push.sm)).encode() {
            Ok(bytes) => {
                self.pending.insert(seq, push.reply);
                queue_bytes(&self.out, bytes, self.peer).await
            }
            Err(e) => {
                let _ = push
                    .reply
                    .send(Err(format!("cannot make the deliver_sm: {e}")));
                Flow::Go
            }
        }
    }

    /// Sends an unbind and waits a second for its answer.
    async fn unbind<R>(&mut self, frames: &mut FramedRead<R, SmppCodec>)
    where
        R: AsyncRead,
        FramedRead<R, SmppCodec>: futures_util::Stream<Item = Result<Frame, CodecError>> + Unpin,
    {
        if self.bound.is_none() {
            return;
        }
        let seq = self.next_sequence();
        if let Flow::Close = self.send(Pdu::new(cmd::UNBIND, seq, Body::Unbind)).await {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(Frame::Pdu(p))) = frames.next().await {
                if p.command_id == cmd::UNBIND_RESP {
                    break;
                }
            }
        })
        .await;
    }
}
