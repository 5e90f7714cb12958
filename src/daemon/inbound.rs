//! Storing what arrives, from a modem or an SMSC alike: a message (kept as parts until the
//! message is complete, then saved Gammu's way), a status report (matched to the sent
//! part), and the hooks that follow (`run_on_receive`, `run_on_report`). With the null
//! storage, `run_on_receive` exiting 0 is the commit.

use std::time::Duration;

use chrono::Local;

use crate::compose::ucs2_hex;
use crate::config::StorageKind;
use crate::pdu::{self, Deliver, Pdu, StatusReport, UserData};
use crate::service::{Coding, DeliveryKey, InboxPart, PendingPart, StorageError};

use super::hooks::{self, PartEnv};
use super::PhoneCtx;

fn local_time(scts: &pdu::Scts) -> String {
    let t = scts
        .to_datetime()
        .map(|t| t.with_timezone(&Local).naive_local())
        .unwrap_or_else(|| Local::now().naive_local());
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn now_local() -> String {
    Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Whether the sender passes `[receiving]`'s include/exclude lists (Gammu's rules: a
/// non-empty include list wins).
pub fn accepted(ctx: &PhoneCtx, sender: &str) -> bool {
    let matches = |list: &Vec<String>| {
        list.iter()
            .any(|n| n == sender || crate::service::same_number(n, sender))
    };
    if !ctx.include.is_empty() {
        return matches(&ctx.include);
    }
    !matches(&ctx.exclude)
}

/// An inbox row for a part; `whole` is the text of the whole message (for part 1).
fn inbox_part(ctx: &PhoneCtx, d: &Deliver, whole: Option<String>) -> InboxPart {
    let (text_hex, part_text) = match &d.user_data {
        UserData::Text(t) => (ucs2_hex(t), t.clone()),
        UserData::Binary(b) => (pdu::to_hex(b), String::new()),
    };
    let coding = if d.dcs.compressed() {
        Coding::DefaultCompressed
    } else {
        Coding::from_alphabet(d.dcs.alphabet())
    };
    InboxPart {
        phone_id: ctx.phone.id.clone(),
        sender: d.originator.to_string(),
        smsc: d.smsc.as_ref().map(ToString::to_string).unwrap_or_default(),
        received: local_time(&d.scts),
        coding,
        udh_hex: d
            .udh
            .as_ref()
            .map(|u| pdu::to_hex(&u.to_bytes()))
            .unwrap_or_default(),
        text_hex,
        text_decoded: whole.unwrap_or(part_text),
        class: d.class().map_or(-1, |c| i32::from(c.number())),
    }
}

fn part_env(d: &Deliver) -> PartEnv {
    PartEnv {
        number: d.originator.to_string(),
        // Gammu leaves the text out for 8-bit parts and for parts with a UDH of the user's
        // own (anything but a concatenation header).
        text: match (&d.udh, d.concat()) {
            (Some(_), None) => None,
            _ => d.user_data.text().map(str::to_string),
        },
        class: d.class().map_or(-1, |c| i32::from(c.number())),
        reference: d.concat().map_or(-1, |c| i32::from(c.reference)),
        time: d.scts.to_datetime(),
        ..PartEnv::default()
    }
}

/// Gammu's text of a status report (what libGammu puts in the report's `Text`).
fn report_text(status: u8) -> &'static str {
    if status < 0x03 {
        "Delivered"
    } else if status & 0x40 != 0 {
        "Failed"
    } else if status & 0x20 != 0 {
        "Pending"
    } else {
        "Unknown"
    }
}

/// Runs `run_on_receive` for a stored message, in the background: once per message
/// (single-part, joined parts, class 0, from a modem or an SMSC), with Gammu's arguments
/// (the inbox IDs, or the files' names) and environment.
fn on_receive(ctx: &PhoneCtx, stored: Vec<String>, parts: &[&Deliver], whole: &str) {
    if let Some(cmd) = &ctx.cfg.hooks.run_on_receive {
        let env = hooks::message_env(
            &ctx.phone.id,
            &parts.iter().map(|d| part_env(d)).collect::<Vec<_>>(),
            &[whole.to_string()],
        );
        hooks::spawn(
            "run_on_receive",
            cmd.clone(),
            stored,
            env,
            Duration::from_secs(ctx.cfg.hooks.timeout),
        );
    }
}

/// Runs `run_on_receive` for a status report once it is applied, as gammu-smsd does: no
/// arguments, `SMS_1_NUMBER` the recipient, `SMS_1_REFERENCE` the TP-MR of the message it
/// reports on, `SMS_1_TEXT` Delivered/Failed/Pending/Unknown, `SMS_1_SENT_ID` the
/// `sentitems` ID it matched.
fn on_report(ctx: &PhoneCtx, r: &StatusReport, sent_id: Option<String>) {
    if let Some(cmd) = &ctx.cfg.hooks.run_on_receive {
        let text = report_text(r.status).to_string();
        let part = PartEnv {
            number: r.recipient.to_string(),
            text: Some(text.clone()),
            class: -1,
            reference: i32::from(r.message_reference),
            time: r.scts.to_datetime(),
            smsc_time: r.discharge_time.to_datetime(),
            sent_id,
        };
        let env = hooks::message_env(&ctx.phone.id, &[part], &[text]);
        hooks::spawn(
            "run_on_receive",
            cmd.clone(),
            Vec::new(),
            env,
            Duration::from_secs(ctx.cfg.hooks.timeout),
        );
    }
}

/// What a status report (or an SMSC's receipt) says of a sent message, for
/// [`note_report`].
pub(super) struct ReportSeen<'a> {
    /// TP-ST (or the receipt's state as TP-ST).
    pub status: u8,
    /// The recipient, when the report names it.
    pub to: &'a str,
    /// TP-MR of the sent part (modem).
    pub mr: Option<u8>,
    /// The SMSC's message id (SMPP).
    pub message_id: Option<&'a str>,
    /// The `sentitems` ID it matched (empty for an SMSC's receipt, which matches by
    /// message id); `None`: it matched nothing (yet).
    pub sent_id: Option<&'a str>,
}

/// Makes a status report visible: a log line (Gammu's `DeliveryReport = log`), the
/// delivered/undelivered counters of `monitor` and the metrics, and `run_on_report`.
pub(super) fn note_report(ctx: &mut PhoneCtx, r: &ReportSeen<'_>) {
    let state = pdu::DeliveryStatus::from_status(r.status);
    // `matched`: whether a sent part was found; `sent_id`: the sentitems row (modems).
    let matched = r.sent_id.is_some();
    let sent_id = r.sent_id.filter(|id| !id.is_empty());
    match state {
        // An SMSC's receipts come by the thousand: the good ones only at debug level.
        pdu::DeliveryStatus::DeliveryOK if r.message_id.is_some() => {
            ctx.counters.delivered += 1;
            tracing::debug!(phone = %ctx.phone.id, message_id = r.message_id, "receipt: delivered");
        }
        pdu::DeliveryStatus::DeliveryOK => {
            ctx.counters.delivered += 1;
            tracing::info!(phone = %ctx.phone.id, to = r.to, mr = r.mr, matched, sent_id, "status report: delivered");
        }
        pdu::DeliveryStatus::DeliveryFailed => {
            ctx.counters.undelivered += 1;
            tracing::warn!(phone = %ctx.phone.id, to = r.to, mr = r.mr, message_id = r.message_id, matched, sent_id, "status report: delivery failed, TP-ST 0x{:02X}", r.status);
        }
        pdu::DeliveryStatus::DeliveryPending => {
            tracing::info!(phone = %ctx.phone.id, to = r.to, mr = r.mr, message_id = r.message_id, matched, sent_id, "status report: pending, TP-ST 0x{:02X}", r.status);
        }
        pdu::DeliveryStatus::DeliveryUnknown => {
            tracing::info!(phone = %ctx.phone.id, to = r.to, mr = r.mr, message_id = r.message_id, matched, sent_id, "status report: unknown state TP-ST 0x{:02X}", r.status);
        }
    }
    let Some(cmd) = &ctx.cfg.hooks.run_on_report else {
        return;
    };
    let env = vec![
        ("PHONE_ID".to_string(), ctx.phone.id.clone()),
        ("SMSGW_DELIVERY".to_string(), state.to_string()),
        ("SMSGW_STATUS".to_string(), r.status.to_string()),
        (
            "SMSGW_MESSAGE_ID".to_string(),
            r.message_id.unwrap_or_default().to_string(),
        ),
        ("SMS_1_NUMBER".to_string(), r.to.to_string()),
        (
            "SMS_1_REFERENCE".to_string(),
            r.mr.map_or(-1, i32::from).to_string(),
        ),
        (
            "SMS_1_SENT_ID".to_string(),
            sent_id.unwrap_or_default().to_string(),
        ),
    ];
    hooks::spawn(
        "run_on_report",
        cmd.clone(),
        sent_id.map(str::to_string).into_iter().collect(),
        env,
        Duration::from_secs(ctx.cfg.hooks.timeout),
    );
}

/// With the null storage, a message is committed when `run_on_receive` exits 0.
async fn receive_null(ctx: &mut PhoneCtx, d: &Deliver) -> bool {
    let whole = d.user_data.text().unwrap_or_default().to_string();
    let ok = run_null_hook(ctx, &[d], &whole).await;
    if ok {
        ctx.counters.received += 1;
    }
    ok
}

/// Runs `run_on_receive` for a message the null storage does not keep (no arguments, as
/// gammu-smsd), and waits for it: exit 0 is the commit.
pub(super) async fn run_null_hook(ctx: &mut PhoneCtx, parts: &[&Deliver], whole: &str) -> bool {
    let Some(cmd) = ctx.cfg.hooks.run_on_receive.clone() else {
        if ctx.undecodable.insert(("null".into(), 0, String::new())) {
            tracing::warn!(phone = %ctx.phone.id, "storage is null and no run_on_receive is set: received messages stay on the SIM");
        }
        return false;
    };
    let env = hooks::message_env(
        &ctx.phone.id,
        &parts.iter().map(|d| part_env(d)).collect::<Vec<_>>(),
        &[whole.to_string()],
    );
    hooks::run(
        "run_on_receive",
        &cmd,
        &[],
        &env,
        Duration::from_secs(ctx.cfg.hooks.timeout),
    )
    .await
        == Some(0)
}

/// Handles one received DELIVER. Returns `Ok(true)` when it is safely stored (stashed or
/// saved) and may be deleted from the SIM.
pub(super) async fn deliver(
    ctx: &mut PhoneCtx,
    d: &Deliver,
    pdu_hex: &str,
) -> Result<bool, StorageError> {
    let sender = d.originator.to_string();
    if !accepted(ctx, &sender) {
        tracing::info!(phone = %ctx.phone.id, %sender, "message ignored by the include/exclude lists: left on the SIM");
        return Ok(false);
    }
    if ctx.cfg.storage.kind == StorageKind::Null {
        return Ok(receive_null(ctx, d).await);
    }
    match d.concat() {
        Some(c) if c.total > 1 => {
            ctx.storage
                .stash_part(&PendingPart {
                    phone_id: ctx.phone.id.clone(),
                    sender,
                    reference: c.reference,
                    total: c.total,
                    seq: c.seq,
                    pdu: pdu_hex.to_string(),
                    received_at: now_local(),
                })
                .await?;
            Ok(true)
        }
        _ => {
            let stored = ctx
                .storage
                .save_inbox(&[inbox_part(ctx, d, None)], &[])
                .await?;
            ctx.counters.received += 1;
            tracing::info!(phone = %ctx.phone.id, from = %d.originator, stored = %stored.join(" "), "received");
            let whole = d.user_data.text().unwrap_or_default().to_string();
            on_receive(ctx, stored, &[d], &whole);
            Ok(true)
        }
    }
}

pub(super) async fn report(ctx: &mut PhoneCtx, r: &StatusReport) -> Result<bool, StorageError> {
    let key = DeliveryKey::Tpmr {
        phone: ctx.phone.id.clone(),
        mr: r.message_reference,
        number: r.recipient.to_string(),
        sent_at: local_time(&r.scts),
    };
    // An hour of slack on top of the window for a DST change between send and report.
    let window = ctx.cfg.sending.delivery_report_delay + 3600;
    let matched = ctx
        .storage
        .apply_receipt(&key, r.status, &local_time(&r.discharge_time), window)
        .await?;
    let to = r.recipient.to_string();
    note_report(
        ctx,
        &ReportSeen {
            status: r.status,
            to: &to,
            mr: Some(r.message_reference),
            message_id: None,
            sent_id: matched.as_deref(),
        },
    );
    on_report(ctx, r, matched);
    Ok(true)
}

/// Stores the concatenated messages whose parts are all here (or waited too long).
pub async fn complete(ctx: &mut PhoneCtx) {
    let groups = match ctx
        .storage
        .complete_parts(&ctx.phone.id, ctx.cfg.receiving.multipart_timeout)
        .await
    {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(phone = %ctx.phone.id, "cannot read pending parts: {e}");
            return;
        }
    };
    for group in groups {
        let delivers: Vec<Deliver> = group
            .iter()
            .filter_map(|p| {
                let b = pdu::from_hex(&p.pdu).ok()?;
                match pdu::decode_with(&b, pdu::RECEIVED).ok()? {
                    Pdu::Deliver(d) => Some(d),
                    _ => None,
                }
            })
            .collect();
        let Some(first) = delivers.first() else {
            continue;
        };
        let total = first.concat().map_or(1, |c| c.total);
        let whole = match pdu::join(
            total,
            delivers
                .iter()
                .map(|d| (d.concat().map_or(1, |c| c.seq), &d.user_data)),
        ) {
            Ok(UserData::Text(t)) => t,
            Ok(UserData::Binary(_)) => String::new(),
            // Incomplete after the timeout: the parts that came, in order.
            Err(_) => delivers.iter().filter_map(|d| d.user_data.text()).collect(),
        };
        let rows: Vec<InboxPart> = delivers
            .iter()
            .enumerate()
            .map(|(i, d)| {
                inbox_part(
                    ctx,
                    d,
                    Some(if i == 0 { whole.clone() } else { String::new() }),
                )
            })
            .collect();
        match ctx.storage.save_inbox(&rows, &group).await {
            Ok(stored) => {
                ctx.counters.received += rows.len() as u64;
                tracing::info!(phone = %ctx.phone.id, from = %first.originator, parts = rows.len(), stored = %stored.join(" "), "received a concatenated message");
                on_receive(ctx, stored, &delivers.iter().collect::<Vec<_>>(), &whole);
            }
            Err(e) => {
                tracing::warn!(phone = %ctx.phone.id, "cannot store a concatenated message yet: {e}")
            }
        }
    }
}
