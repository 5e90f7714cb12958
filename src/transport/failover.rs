//! `kind = "failover"`: other transports tried in order for each message (NAV's
//! `dispatcher1..n`), with a circuit breaker per member.
//!
//! A member that fails `failures` times in a row (`NotSent`), or says the route is down
//! (`RouteDown`), is skipped for `cooldown` seconds; then one message tries it again (half
//! open) and a success closes the breaker. `Rejected` ends the message (another gateway
//! would refuse it too); `Unknown` ends the attempt without failover (the first gateway may
//! have sent it). When every member is skipped the message waits (`RouteDown`): nothing is
//! thrown away, unlike NAV's retry limit.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::pdu::Submit;
use crate::route::{PartReceipt, SendError, SendErrorKind, Transport};

/// One member and its breaker.
struct Member {
    transport: Box<dyn Transport>,
    prefixes: Vec<String>,
    failures_in_row: u32,
    /// Skipped until then.
    open_until: Option<Instant>,
}

/// A failover list.
pub struct Failover {
    id: String,
    members: Vec<Member>,
    failures: u32,
    cooldown: Duration,
}

impl Failover {
    pub fn new(
        id: &str,
        members: Vec<(Box<dyn Transport>, Vec<String>)>,
        failures: u32,
        cooldown: Duration,
    ) -> Failover {
        Failover {
            id: id.to_string(),
            members: members
                .into_iter()
                .map(|(transport, prefixes)| Member {
                    transport,
                    prefixes,
                    failures_in_row: 0,
                    open_until: None,
                })
                .collect(),
            failures: failures.max(1),
            cooldown,
        }
    }

    /// The members' states, for logs and tests: (id, skipped now).
    pub fn states(&self) -> Vec<(String, bool)> {
        let now = Instant::now();
        self.members
            .iter()
            .map(|m| {
                (
                    m.transport.id().to_string(),
                    m.open_until.is_some_and(|t| t > now),
                )
            })
            .collect()
    }
}

fn serves(prefixes: &[String], to: &str) -> bool {
    prefixes.is_empty() || prefixes.iter().any(|p| to.starts_with(p.as_str()))
}

#[async_trait]
impl Transport for Failover {
    fn id(&self) -> &str {
        &self.id
    }
    fn takes_text(&self) -> bool {
        true
    }
    async fn send(&mut self, _part: &Submit) -> Result<PartReceipt, SendError> {
        Err(super::pdu_refused(&self.id))
    }
    async fn send_text(
        &mut self,
        to: &str,
        text: &str,
        id: &str,
    ) -> Result<PartReceipt, SendError> {
        let now = Instant::now();
        let mut tried = Vec::new();
        let mut skipped = 0;
        for m in &mut self.members {
            if !serves(&m.prefixes, to) {
                continue;
            }
            if m.open_until.is_some_and(|t| t > now) {
                skipped += 1;
                continue;
            }
            let name = m.transport.id().to_string();
            match m.transport.send_text(to, text, id).await {
                Ok(mut receipt) => {
                    if m.open_until.take().is_some() || m.failures_in_row > 0 {
                        tracing::info!(failover = %self.id, transport = %name, "transport works again");
                    }
                    m.failures_in_row = 0;
                    // The storage records which member sent it.
                    receipt.message_id = Some(match receipt.message_id {
                        Some(mid) => format!("{name}:{mid}"),
                        None => name,
                    });
                    return Ok(receipt);
                }
                Err(e) => match e.kind {
                    SendErrorKind::Rejected | SendErrorKind::Unknown => {
                        // A refusal of this message, or a send that may have happened: no
                        // other member may send it.
                        m.failures_in_row = 0;
                        return Err(SendError {
                            reason: format!("{name}: {}", e.reason),
                            ..e
                        });
                    }
                    SendErrorKind::NotSent | SendErrorKind::RouteDown => {
                        m.failures_in_row += 1;
                        if e.kind == SendErrorKind::RouteDown || m.failures_in_row >= self.failures
                        {
                            m.open_until = Some(Instant::now() + self.cooldown);
                            tracing::warn!(failover = %self.id, transport = %name, cooldown = ?self.cooldown, "skipping the transport for a while: {}", e.reason);
                        } else {
                            tracing::warn!(failover = %self.id, transport = %name, "trying the next transport: {}", e.reason);
                        }
                        tried.push(format!("{name}: {}", e.reason));
                    }
                },
            }
        }
        let reason = if tried.is_empty() && skipped == 0 {
            return Err(SendError::new(
                SendErrorKind::Rejected,
                format!("no transport in {} serves the number {to}", self.id),
            ));
        } else if tried.is_empty() {
            format!(
                "every transport of {} is cooling down after failures",
                self.id
            )
        } else {
            tried.join("; ")
        };
        Err(SendError::new(SendErrorKind::RouteDown, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member answering from a script of outcomes, counting its sends.
    struct Scripted {
        id: String,
        answers: std::sync::Arc<std::sync::Mutex<Vec<Option<SendErrorKind>>>>,
        sent: std::sync::Arc<std::sync::atomic::AtomicU32>,
    }

    #[async_trait]
    impl Transport for Scripted {
        fn id(&self) -> &str {
            &self.id
        }
        fn takes_text(&self) -> bool {
            true
        }
        async fn send(&mut self, _part: &Submit) -> Result<PartReceipt, SendError> {
            unreachable!()
        }
        async fn send_text(
            &mut self,
            _to: &str,
            _t: &str,
            _id: &str,
        ) -> Result<PartReceipt, SendError> {
            let a = self.answers.lock().unwrap().pop().flatten();
            match a {
                None => {
                    self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok(PartReceipt {
                        tpmr: None,
                        message_id: None,
                    })
                }
                Some(k) => Err(SendError::new(k, "scripted")),
            }
        }
    }

    type Handle = (
        std::sync::Arc<std::sync::Mutex<Vec<Option<SendErrorKind>>>>,
        std::sync::Arc<std::sync::atomic::AtomicU32>,
    );

    fn member(id: &str, prefixes: &[&str]) -> ((Box<dyn Transport>, Vec<String>), Handle) {
        let answers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        (
            (
                Box::new(Scripted {
                    id: id.into(),
                    answers: answers.clone(),
                    sent: sent.clone(),
                }),
                prefixes.iter().map(|p| p.to_string()).collect(),
            ),
            (answers, sent),
        )
    }

    fn sent(h: &Handle) -> u32 {
        h.1.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[tokio::test]
    async fn fails_over_opens_the_breaker_and_never_fails_over_unknown() {
        let (a, ha) = member("a", &[]);
        let (b, hb) = member("b", &[]);
        let mut f = Failover::new("f", vec![a, b], 2, Duration::from_millis(200));
        // a fails twice (breaker opens), b sends both.
        *ha.0.lock().unwrap() = vec![Some(SendErrorKind::NotSent), Some(SendErrorKind::NotSent)];
        let r = f.send_text("1", "x", "1").await.unwrap();
        assert_eq!(r.message_id.as_deref(), Some("b"));
        f.send_text("1", "x", "2").await.unwrap();
        assert_eq!((sent(&ha), sent(&hb)), (0, 2));
        assert_eq!(f.states(), vec![("a".into(), true), ("b".into(), false)]);
        // While a cools down, b sends without a being asked.
        f.send_text("1", "x", "3").await.unwrap();
        assert_eq!((sent(&ha), sent(&hb)), (0, 3));
        // After the cool-down a is tried first again and closes.
        tokio::time::sleep(Duration::from_millis(250)).await;
        f.send_text("1", "x", "4").await.unwrap();
        assert_eq!((sent(&ha), sent(&hb)), (1, 3));
        assert_eq!(f.states(), vec![("a".into(), false), ("b".into(), false)]);
        // Unknown and Rejected stop at the first member.
        *ha.0.lock().unwrap() = vec![Some(SendErrorKind::Unknown)];
        let e = f.send_text("1", "x", "5").await.unwrap_err();
        assert_eq!(e.kind, SendErrorKind::Unknown);
        *ha.0.lock().unwrap() = vec![Some(SendErrorKind::Rejected)];
        let e = f.send_text("1", "x", "6").await.unwrap_err();
        assert_eq!(e.kind, SendErrorKind::Rejected);
        assert_eq!((sent(&ha), sent(&hb)), (1, 3));
        // Both down: the message waits.
        *ha.0.lock().unwrap() = vec![Some(SendErrorKind::RouteDown)];
        *hb.0.lock().unwrap() = vec![Some(SendErrorKind::RouteDown)];
        let e = f.send_text("1", "x", "7").await.unwrap_err();
        assert_eq!(e.kind, SendErrorKind::RouteDown);
        let e = f.send_text("1", "x", "8").await.unwrap_err();
        assert!(e.reason.contains("cooling down"), "{}", e.reason);
    }

    #[tokio::test]
    async fn prefixes_route_numbers() {
        let (a, ha) = member("no", &["+47"]);
        let (b, hb) = member("rest", &[]);
        let mut f = Failover::new("f", vec![a, b], 3, Duration::from_secs(60));
        f.send_text("+4799", "x", "1").await.unwrap();
        f.send_text("+4899", "x", "2").await.unwrap();
        assert_eq!((sent(&ha), sent(&hb)), (1, 1));
        let (c, _) = member("only", &["+47"]);
        let mut g = Failover::new("g", vec![c], 3, Duration::from_secs(60));
        let e = g.send_text("+48", "x", "1").await.unwrap_err();
        assert_eq!(e.kind, SendErrorKind::Rejected);
    }
}
