//! The `smpp34` crate's server as the benches' SMSC: answers each submit_sm at once with a
//! new message id and, when a receipt is asked for, sends it (a deliver_sm with the
//! appendix-B text) right after.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use smpp34::server::{SmppServerListener, ESME};
use smpp34::{
    bind_receiver, bind_receiver_resp, bind_transceiver, bind_transceiver_resp, bind_transmitter,
    bind_transmitter_resp, submit_sm, submit_sm_resp, SmppConnectionInformation,
};

/// The SMSC: counts submits and acknowledged receipts.
#[derive(Default)]
pub struct Smsc {
    pub submits: AtomicU64,
    /// Receipts the ESME acknowledged.
    pub receipts: Arc<AtomicU64>,
    next_id: AtomicU64,
    esmes: Mutex<HashMap<String, Arc<ESME>>>,
}

#[async_trait]
impl SmppServerListener for Smsc {
    async fn on_bind_transceiver(
        &self,
        req: bind_transceiver,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_transceiver_resp {
        req.accept("BENCH".to_string(), Some(0x34))
    }
    async fn on_bind_transmitter(
        &self,
        req: bind_transmitter,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_transmitter_resp {
        req.accept("BENCH".to_string(), Some(0x34))
    }
    async fn on_bind_receiver(
        &self,
        req: bind_receiver,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_receiver_resp {
        req.accept("BENCH".to_string(), Some(0x34))
    }
    async fn on_esme_bound(&self, esme: ESME, session: &String) {
        self.esmes
            .lock()
            .expect("esmes")
            .insert(session.clone(), Arc::new(esme));
    }
    async fn on_submit_sm(
        &self,
        req: submit_sm,
        _c: &SmppConnectionInformation,
        session: &String,
    ) -> submit_sm_resp {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.submits.fetch_add(1, Ordering::Relaxed);
        if req.registered_delivery & 1 != 0 {
            let esme = self.esmes.lock().expect("esmes").get(session).cloned();
            if let Some(esme) = esme {
                let (to, from) = (req.source_addr.clone(), req.destination_addr.clone());
                let text = format!("id:{id} sub:001 dlvrd:001 submit date:2611241200 done date:2611241201 stat:DELIVRD err:000 text:");
                let counter = self.receipts.clone();
                tokio::spawn(async move {
                    let r = esme
                        .deliver_sm()
                        .source_addr(from)
                        .destination_addr(to)
                        .esm_class(0x04)
                        .short_message(text.into_bytes())
                        .send()
                        .await;
                    if r.is_ok_and(|r| r.command_status() == 0) {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
        req.accept(id.to_string())
    }
}

/// Waits until `count` reaches `want`; the moment it did.
pub fn wait_for(count: &AtomicU64, want: u64, what: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(600);
    while count.load(Ordering::Relaxed) < want {
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {want}",
            count.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    Instant::now()
}
