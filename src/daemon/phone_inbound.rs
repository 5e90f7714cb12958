//! Receiving through one modem: what it lists or delivers directly is stored (`inbound`),
//! and only then deleted from the SIM or acknowledged. With the null storage, the parts of a
//! long message wait on the SIM until all are there.

use crate::config::StorageKind;
use crate::modem::{Modem, StoredSms};
use crate::pdu::{self, Deliver, Pdu, UserData};

use super::inbound::{accepted, complete, deliver, report, run_null_hook};
use super::PhoneCtx;

/// What happened to the received messages of one pass.
#[derive(Debug, Default)]
pub struct Pass {
    /// The link went down: reconnect.
    pub link_down: bool,
}

/// The null storage keeps nothing, so the parts of a concatenated message wait on the SIM
/// (as with gammu-smsd): once all are there, `run_on_receive` gets them together, and they
/// are deleted when it exits 0. Returns the listed messages that are not such parts; a
/// part whose siblings are not all listed makes this read the whole SIM.
async fn null_parts(
    modem: &mut Modem,
    ctx: &mut PhoneCtx,
    mut listed: Vec<StoredSms>,
    pass: &mut Pass,
) -> Vec<StoredSms> {
    let concat_of = |s: &StoredSms| match &s.decoded {
        Ok(Pdu::Deliver(d)) => d
            .concat()
            .filter(|c| c.total > 1)
            .map(|c| (d.originator.to_string(), c.reference, c.total)),
        _ => None,
    };
    if listed.len() == 1 && concat_of(&listed[0]).is_some() {
        match modem.list_all().await {
            Ok(all) => listed = all,
            Err(e) => {
                pass.link_down = e.is_link_down();
                return Vec::new();
            }
        }
    }
    let mut groups: std::collections::BTreeMap<(String, u16, u8), Vec<StoredSms>> =
        Default::default();
    let mut rest = Vec::new();
    for s in listed {
        match concat_of(&s) {
            Some(key) => groups.entry(key).or_default().push(s),
            None => rest.push(s),
        }
    }
    for ((sender, reference, total), mut parts) in groups {
        let seq = |s: &StoredSms| match &s.decoded {
            Ok(Pdu::Deliver(d)) => d.concat().map_or(0, |c| c.seq),
            _ => 0,
        };
        parts.sort_by_key(seq);
        parts.dedup_by_key(|s| seq(s));
        if parts.len() < usize::from(total) {
            let key = (
                "null-parts".to_string(),
                usize::from(reference),
                sender.clone(),
            );
            if ctx.undecodable.insert(key) {
                tracing::info!(phone = %ctx.phone.id, %sender, reference, have = parts.len(), total, "a concatenated message waits on the SIM for its other parts");
            }
            continue;
        }
        if !accepted(ctx, &sender) {
            continue;
        }
        let delivers: Vec<&Deliver> = parts
            .iter()
            .filter_map(|s| match &s.decoded {
                Ok(Pdu::Deliver(d)) => Some(d),
                _ => None,
            })
            .collect();
        let whole = match pdu::join(
            total,
            delivers
                .iter()
                .map(|d| (d.concat().map_or(1, |c| c.seq), &d.user_data)),
        ) {
            Ok(UserData::Text(t)) => t,
            _ => String::new(),
        };
        if run_null_hook(ctx, &delivers, &whole).await {
            ctx.counters.received += parts.len() as u64;
            for s in &parts {
                if let Err(e) = modem.delete(&s.memory, s.index).await {
                    tracing::warn!(phone = %ctx.phone.id, "handled, but could not delete {} {} from the SIM: {e}", s.memory, s.index);
                    if e.is_link_down() {
                        pass.link_down = true;
                        return Vec::new();
                    }
                }
            }
        }
    }
    rest
}

/// Stores what the modem listed and deletes what was stored.
pub async fn process(modem: &mut Modem, ctx: &mut PhoneCtx, listed: Vec<StoredSms>) -> Pass {
    let mut pass = Pass::default();
    let listed = if ctx.cfg.storage.kind == StorageKind::Null {
        null_parts(modem, ctx, listed, &mut pass).await
    } else {
        listed
    };
    if pass.link_down {
        return pass;
    }
    for s in listed {
        let key = (s.memory.clone(), s.index, s.pdu.clone());
        let stored = match &s.decoded {
            Ok(Pdu::Deliver(d)) => deliver(ctx, d, &s.pdu).await,
            Ok(Pdu::StatusReport(r)) => report(ctx, r).await,
            // Sent or draft messages the modem keeps: not ours to take.
            Ok(Pdu::Submit(_)) => Ok(false),
            Err(e) => {
                if ctx.undecodable.insert(key.clone()) {
                    tracing::error!(phone = %ctx.phone.id, memory = %s.memory, index = s.index, pdu = %s.pdu, "cannot decode a stored message: left on the SIM ({e})");
                }
                Ok(false)
            }
        };
        match stored {
            Ok(true) => {
                if let Err(e) = modem.delete(&s.memory, s.index).await {
                    tracing::warn!(phone = %ctx.phone.id, "stored, but could not delete {} {} from the SIM: {e}", s.memory, s.index);
                    if e.is_link_down() {
                        pass.link_down = true;
                        return pass;
                    }
                }
            }
            Ok(false) => {}
            Err(e) => {
                // Not committed: it stays on the SIM and the next sweep tries again.
                tracing::warn!(phone = %ctx.phone.id, "storage failed, message left on the SIM: {e}");
                return pass;
            }
        }
    }
    complete(ctx).await;
    pass
}

/// A message routed directly (`+CMT`/`+CDS`): stored, then acknowledged.
pub async fn direct(modem: &mut Modem, ctx: &mut PhoneCtx, pdu_hex: &str) -> Pass {
    let mut pass = Pass::default();
    let decoded = pdu::from_hex(pdu_hex).and_then(|b| {
        let (p, quirks) = pdu::decode_noting(&b, pdu::RECEIVED)?;
        for q in quirks {
            tracing::warn!(phone = %ctx.phone.id, pdu = %pdu_hex, "a delivered message is off, decoded what is there: {q}");
        }
        Ok(p)
    });
    let stored = match &decoded {
        Ok(Pdu::Deliver(d)) => deliver(ctx, d, pdu_hex).await,
        Ok(Pdu::StatusReport(r)) => report(ctx, r).await,
        Ok(Pdu::Submit(_)) => Ok(true),
        Err(e) => {
            tracing::error!(phone = %ctx.phone.id, pdu = %pdu_hex, "cannot decode a directly delivered message ({e}); acknowledged so the network does not resend it forever");
            Ok(true)
        }
    };
    match stored {
        Ok(true) => {
            if let Err(e) = modem.ack().await {
                tracing::warn!(phone = %ctx.phone.id, "AT+CNMA failed: {e}");
                pass.link_down = e.is_link_down();
            }
        }
        // Not acknowledged: the network delivers it again.
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(phone = %ctx.phone.id, "storage failed, direct message not acknowledged (the network retries): {e}")
        }
    }
    complete(ctx).await;
    pass
}
