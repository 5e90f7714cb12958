//! The AMQP face: smsgw as a vumi transport on RabbitMQ (`[amqp]`).
//!
//! Outbound: `<name>.outbound` is consumed with `prefetch` messages unacknowledged; each
//! is queued through [`submit`](crate::face::submit) (its vumi `message_id` is the
//! submission's idempotency key, so a redelivered message is queued once) and acked only
//! after the commit. A body that cannot be a message is rejected without requeue (the
//! queue's dead-letter exchange takes it, if it has one), after a `nack` event when its
//! `message_id` could be read; a message the checks refuse (a bad number, too long) is
//! answered with a `nack` event and acked; a storage failure is nacked with requeue.
//!
//! Events and received messages come from the event log (consumer `amqp:<name>`, in
//! [`deliver`](crate::face::deliver)): each is published persistent and the cursor moves
//! only after the broker's confirm, so a broker restart or a SIGKILL loses nothing and
//! repeats at most what was unconfirmed (its `event_id` is stable).
//!
//! The connection is remade after any failure, waiting `reconnect_min` doubling to
//! `reconnect_max`; the exchange and the three queues are declared durable each time.

pub mod vumi;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::Value;
use tokio::sync::watch;

use crate::config::Config;
use crate::daemon::status::Board;
use crate::face::http::stopped;
use crate::face::submit::{self, Body, Caller, Request, SubmitError};
use crate::service::{Service, Submission};

/// The counters on `/metrics` (label `account`: the transport name).
pub const CONSUMED: &str = "smsgw_amqp_consumed_total";
pub const PUBLISHED: &str = "smsgw_amqp_published_total";
pub const REFUSED: &str = "smsgw_amqp_refused_total";
pub const UNCONFIRMED: &str = "smsgw_amqp_unconfirmed";
pub const CONNECTED: &str = "smsgw_amqp_connected";

/// The face: its config, and the channel events are published on while connected.
pub struct Face {
    cfg: RwLock<Arc<Config>>,
    storage: Arc<dyn Service>,
    board: Board,
    wake: watch::Sender<u64>,
    /// The publishing channel (publisher confirms on), `None` while disconnected.
    publisher: watch::Sender<Option<Channel>>,
    connected: AtomicBool,
    /// A queue was missing (a message came back unroutable): connect again, declaring.
    redeclare: tokio::sync::Notify,
}

impl Face {
    pub fn new(
        cfg: Arc<Config>,
        storage: Arc<dyn Service>,
        board: Board,
        wake: watch::Sender<u64>,
    ) -> Arc<Face> {
        if cfg.amqp.on() {
            // The gauges and counters show from the start, at 0.
            for m in [CONSUMED, PUBLISHED, REFUSED, UNCONFIRMED, CONNECTED] {
                board.count(m, &cfg.amqp.transport_name, 0);
            }
        }
        Arc::new(Face {
            cfg: RwLock::new(cfg),
            storage,
            board,
            wake,
            publisher: watch::channel(None).0,
            connected: AtomicBool::new(false),
            redeclare: tokio::sync::Notify::new(),
        })
    }

    pub fn cfg(&self) -> Arc<Config> {
        self.cfg.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A reloaded config (its connection settings kept as they were:
    /// [`Amqp::keep_connection`]).
    pub fn set_cfg(&self, new: Arc<Config>) {
        *self.cfg.write().unwrap_or_else(|p| p.into_inner()) = new;
    }

    fn name(&self) -> String {
        self.cfg().amqp.transport_name.clone()
    }

    /// Waits until the broker is connected: false when `stop` came first.
    pub async fn until_connected(&self, stop: &mut watch::Receiver<bool>) -> bool {
        let mut rx = self.publisher.subscribe();
        tokio::select! {
            r = rx.wait_for(Option::is_some) => r.is_ok(),
            () = stopped(stop) => false,
        }
    }

    /// Publishes `body` on `<name>.<flow>` (persistent) and waits for the broker's confirm.
    pub async fn publish(&self, flow: &str, body: &Value) -> Result<(), String> {
        let Some(channel) = self.publisher.borrow().clone() else {
            return Err("not connected to the broker".into());
        };
        let cfg = self.cfg();
        let a = &cfg.amqp;
        let payload = body.to_string();
        self.board.count(UNCONFIRMED, &a.transport_name, 1);
        let r = async {
            let confirm = channel
                .basic_publish(
                    a.exchange.as_str().into(),
                    a.queue(flow).into(),
                    // A queue deleted under us returns the message instead of losing it.
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    payload.as_bytes(),
                    BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("application/json".into()),
                )
                .await
                .map_err(|e| format!("publish: {e}"))?;
            match confirm.await.map_err(|e| format!("confirm: {e}"))? {
                lapin::Confirmation::Ack(None) => Ok(()),
                lapin::Confirmation::Ack(Some(_)) => {
                    self.redeclare.notify_one();
                    Err(format!(
                        "no queue is bound to {} on exchange {} (deleted?): declaring the queues again",
                        a.queue(flow),
                        a.exchange
                    ))
                }
                _ => Err("the broker refused the message (nack)".to_string()),
            }
        }
        .await;
        self.board.count(UNCONFIRMED, &a.transport_name, -1);
        if r.is_ok() {
            self.board.count(PUBLISHED, &a.transport_name, 1);
        }
        r
    }

    /// Publishing on `channel` from now (`None`: disconnected), with the gauge.
    fn set_publisher(&self, channel: Option<Channel>) {
        let on = channel.is_some();
        self.publisher.send_replace(channel);
        if self.connected.swap(on, Ordering::Relaxed) != on {
            self.board
                .count(CONNECTED, &self.name(), if on { 1 } else { -1 });
        }
    }
}

/// Keeps the face connected until `stop`.
pub async fn run(face: Arc<Face>, mut stop: watch::Receiver<bool>) {
    let cfg = face.cfg();
    let min = Duration::from_secs(cfg.amqp.reconnect_min.max(1));
    let max = Duration::from_secs(cfg.amqp.reconnect_max.max(1));
    let mut delay = min;
    loop {
        let connected = session(&face, &mut stop, &mut delay, min).await;
        face.set_publisher(None);
        match connected {
            Ok(()) => return,
            Err(e) => tracing::warn!(
                broker = %face.cfg().amqp.url_for_logs(),
                "AMQP: {e}; connecting again in {delay:?}"
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            () = stopped(&mut stop) => return,
        }
        delay = (delay * 2).min(max);
    }
}

/// One connection: declare, consume, handle each delivery, until it fails (`Err`) or
/// `stop` (`Ok`).
async fn session(
    face: &Arc<Face>,
    stop: &mut watch::Receiver<bool>,
    delay: &mut Duration,
    min: Duration,
) -> Result<(), String> {
    let cfg = face.cfg();
    let a = &cfg.amqp;
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag = format!("smsgw {host} {}", std::process::id());
    let props = ConnectionProperties::default().with_connection_name(tag.as_str().into());
    let conn = tokio::select! {
        c = Connection::connect(&a.url, props) => c.map_err(|e| format!("cannot connect: {e}"))?,
        () = stopped(stop) => return Ok(()),
    };
    let setup = async {
        let input = conn.create_channel().await?;
        let output = conn.create_channel().await?;
        output
            .exchange_declare(
                a.exchange.as_str().into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        // The application's queues too: what smsgw publishes waits there until it
        // consumes, even if it never started yet. A queue that exists is taken as it is
        // (its arguments, a dead-letter exchange, are the application's).
        for flow in ["outbound", "inbound", "event"] {
            let q = a.queue(flow);
            let probe = conn.create_channel().await?;
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            if probe
                .queue_declare(q.as_str().into(), passive, FieldTable::default())
                .await
                .is_ok()
            {
                let _ = probe.close(200, "".into()).await;
            } else {
                // The failed probe closed its channel.
                output
                    .queue_declare(
                        q.as_str().into(),
                        QueueDeclareOptions {
                            durable: true,
                            ..QueueDeclareOptions::default()
                        },
                        FieldTable::default(),
                    )
                    .await?;
            }
            output
                .queue_bind(
                    q.as_str().into(),
                    a.exchange.as_str().into(),
                    q.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        output
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        input
            .basic_qos(a.prefetch, BasicQosOptions::default())
            .await?;
        let consumer = input
            .basic_consume(
                a.queue("outbound").as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok::<_, lapin::Error>((input, output, consumer))
    };
    let (input, output, mut consumer) = setup
        .await
        .map_err(|e| format!("setting up the queues: {e}"))?;
    *delay = min;
    face.set_publisher(Some(output));
    tracing::info!(
        broker = %a.url_for_logs(),
        "AMQP: consuming {} (prefetch {}), publishing {} and {} on exchange {}",
        a.queue("outbound"),
        a.prefetch,
        a.queue("inbound"),
        a.queue("event"),
        a.exchange
    );
    let mut handling = tokio::task::JoinSet::new();
    let end = loop {
        tokio::select! {
            d = consumer.next() => match d {
                Some(Ok(delivery)) => {
                    let face = face.clone();
                    handling.spawn(async move { handle(&face, delivery).await });
                }
                Some(Err(e)) => break Err(format!("the connection failed: {e}")),
                None => break Err("the broker ended the consumer".to_string()),
            },
            Some(_) = handling.join_next(), if !handling.is_empty() => {}
            () = face.redeclare.notified() => break Err("a queue was missing".to_string()),
            () = stopped(stop) => break Ok(()),
        }
    };
    // No more deliveries; those being committed are acked (if the connection still
    // works), then it closes: what is unacknowledged goes back to the queue.
    face.set_publisher(None);
    let _ = tokio::time::timeout(Duration::from_millis(300), async {
        input
            .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
            .await
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_millis(1200), async {
        while handling.join_next().await.is_some() {}
    })
    .await;
    let _ = tokio::time::timeout(
        Duration::from_millis(300),
        conn.close(200, "smsgw stopping".into()),
    )
    .await;
    end
}

/// One outbound delivery: queued and acked, answered with a nack event, or given back.
async fn handle(face: &Face, delivery: lapin::message::Delivery) {
    let cfg = face.cfg();
    let a = &cfg.amqp;
    let name = a.transport_name.clone();
    face.board.count(CONSUMED, &name, 1);
    let msg = match vumi::parse(&delivery.data) {
        Ok(m) => m,
        Err(bad) => {
            face.board.count(REFUSED, &name, 1);
            tracing::warn!(
                queue = %a.queue("outbound"),
                message_id = bad.message_id.as_deref().unwrap_or("?"),
                "AMQP: rejected a message: {} (to the queue's dead-letter exchange, if any)",
                bad.reason
            );
            if let Some(id) = &bad.message_id {
                if let Err(e) = face.publish("event", &vumi::refusal(id, &bad.reason)).await {
                    return give_back(&delivery, &format!("its nack event: {e}")).await;
                }
            }
            let _ = delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..BasicNackOptions::default()
                })
                .await;
            return;
        }
    };
    let req = Request {
        to: vec![msg.to.clone()],
        body: Body::Text(msg.content.clone()),
        report: Some(a.delivery_reports),
        route: a.route.clone(),
        ..Request::default()
    };
    let how = Submission {
        face: "amqp".into(),
        owner: name.clone(),
        idempotency_key: Some(msg.message_id.clone()),
        from: msg.from.clone(),
        dlr_url: None,
        dlr_mask: 0,
        to: String::new(),
    };
    let caller = Caller {
        routes: &[],
        max_parts: a.max_parts,
    };
    match submit::submit(face.storage.as_ref(), &cfg, &caller, &req, &how).await {
        Ok(done) => {
            if !done.repeated {
                face.wake.send_modify(|n| *n = n.wrapping_add(1));
            }
            // Committed: a lost ack only brings it again, and the key queues it once.
            let _ = delivery.ack(BasicAckOptions::default()).await;
        }
        Err(SubmitError::Storage(e)) => {
            give_back(&delivery, &format!("storage: {e}")).await;
        }
        Err(refused) => {
            face.board.count(REFUSED, &name, 1);
            let reason = refused.to_string();
            tracing::info!(message_id = %msg.message_id, "AMQP: refused: {reason}");
            match face
                .publish("event", &vumi::refusal(&msg.message_id, &reason))
                .await
            {
                Ok(()) => {
                    let _ = delivery.ack(BasicAckOptions::default()).await;
                }
                Err(e) => give_back(&delivery, &format!("its nack event: {e}")).await,
            }
        }
    }
}

/// Returns a delivery to the queue after a pause (storage or broker trouble: it is tried
/// again, not lost).
async fn give_back(delivery: &lapin::message::Delivery, why: &str) {
    tracing::warn!("AMQP: an outbound message goes back to the queue: {why}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = delivery
        .nack(BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        })
        .await;
}
