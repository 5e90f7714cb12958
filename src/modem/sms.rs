//! Messages on the modem: list, read, delete, acknowledge, send.

use super::*;

/// Lines of a `+CMGL`/`+CMGR` answer paired as (header value, PDU line).
fn listing<'a>(r: &'a Response, prefix: &str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut it = r.lines.iter().peekable();
    while let Some(l) = it.next() {
        if let Some(h) = crate::at::line::strip_prefix_ci(l.trim(), prefix) {
            if let Some(next) = it.peek() {
                if !next.trim_start().starts_with('+') {
                    out.push((h.trim(), next.trim()));
                    it.next();
                }
            }
        }
    }
    out
}

/// Decodes a PDU line of a listing. What phones add around the hex is dropped as libGammu
/// drops it (a trailing `,0`, quotes); what is off inside but readable is logged.
fn decode_listed(line: &str) -> Result<Pdu, PduError> {
    let mut hex = line.trim().trim_matches('"');
    while let Some(h) = hex.strip_suffix(",0") {
        hex = h;
    }
    let bytes = pdu::from_hex(hex)?;
    let (pdu, quirks) = pdu::decode_noting(&bytes, pdu::RECEIVED)?;
    for q in quirks {
        tracing::warn!(pdu = %hex, "a stored message is off, decoded what is there: {q}");
    }
    Ok(pdu)
}

impl Modem {
    async fn select_memory(&mut self, memory: &str) -> Result<(), AtError> {
        if self.current_memory.as_deref() == Some(memory) {
            return Ok(());
        }
        self.required(&format!("AT+CPMS=\"{memory}\"")).await?;
        self.current_memory = Some(memory.to_string());
        Ok(())
    }

    /// Every message in one memory (`AT+CMGL=4`; in text mode `AT+CMGL="ALL"` for the
    /// indexes, then each read with its details).
    pub async fn list(&mut self, memory: &str) -> Result<Vec<StoredSms>, AtError> {
        self.select_memory(memory).await?;
        if self.text.is_some() {
            let r = self.required("AT+CMGL=\"ALL\"").await?;
            let mut out = Vec::new();
            for index in text::cmgl_indexes(&r) {
                out.extend(self.read(memory, index).await?);
            }
            return Ok(out);
        }
        let r = self.required("AT+CMGL=4").await?;
        let mut out = Vec::new();
        for (header, pdu_hex) in listing(&r, "+CMGL:") {
            let Some((index, stat)) = parse::cmgl_header(header) else {
                tracing::warn!(phone = %self.cfg.id, "unreadable +CMGL header {header:?}: skipped");
                continue;
            };
            out.push(StoredSms {
                memory: memory.to_string(),
                index,
                stat,
                pdu: pdu_hex.to_string(),
                decoded: decode_listed(pdu_hex),
            });
        }
        Ok(out)
    }

    /// Every message in every memory we read (the periodic sweep).
    pub async fn list_all(&mut self) -> Result<Vec<StoredSms>, AtError> {
        let mut all = Vec::new();
        for m in self.read_memories.clone() {
            all.extend(self.list(&m).await?);
        }
        Ok(all)
    }

    /// One message (`AT+CMGR`); `None` when the slot is empty.
    pub async fn read(&mut self, memory: &str, index: usize) -> Result<Option<StoredSms>, AtError> {
        self.select_memory(memory).await?;
        let r = self
            .chan
            .command(&format!("AT+CMGR={index}"), self.cfg.command_timeout)
            .await?;
        if r.result.cms() == Some(321) {
            return Ok(None);
        }
        if !r.result.is_ok() {
            return Err(AtError::Failed {
                command: format!("AT+CMGR={index}"),
                result: r.result,
            });
        }
        if let Some(charset) = self.text {
            return Ok(text_listed(&r, memory, index, charset));
        }
        Ok(listing(&r, "+CMGR:")
            .first()
            .map(|(header, pdu_hex)| StoredSms {
                memory: memory.to_string(),
                index,
                stat: parse::cmgr_header(header),
                pdu: pdu_hex.to_string(),
                decoded: decode_listed(pdu_hex),
            }))
    }

    /// Deletes one message. Call only after the storage committed it.
    pub async fn delete(&mut self, memory: &str, index: usize) -> Result<(), AtError> {
        self.select_memory(memory).await?;
        self.required(&format!("AT+CMGD={index}")).await.map(|_| ())
    }

    /// Acknowledges a directly routed message (`AT+CNMA`). Call only after the commit.
    pub async fn ack(&mut self) -> Result<(), AtError> {
        self.chan
            .ok("AT+CNMA", self.cfg.command_timeout)
            .await
            .map(|_| ())
    }

    /// Sends one encoded part; returns its TP-MR. `AT+CMGS` gets the TPDU length, which does
    /// not count the SMSC part.
    pub async fn send(&mut self, pdu: &Encoded) -> Result<u8, SendError> {
        let (cmd, payload) = match self.text {
            None => (format!("AT+CMGS={}", pdu.tpdu_len()), pdu.to_hex()),
            Some(charset) => {
                let options = pdu::DecodeOptions {
                    direction: pdu::Direction::MsToSc,
                    ..pdu::DecodeOptions::default()
                };
                let submit = match pdu::decode_with(&pdu.bytes, options) {
                    Ok(Pdu::Submit(s)) => s,
                    _ => {
                        return Err(SendError::new(
                            SendErrorKind::Rejected,
                            "not an SMS-SUBMIT".to_string(),
                        ))
                    }
                };
                let (csmp, cmgs, text) = text::submit(&submit, charset)
                    .map_err(|e| SendError::new(SendErrorKind::Rejected, e))?;
                if let Err(e) = self.chan.ok(&csmp, self.cfg.command_timeout).await {
                    return Err(SendError::new(SendErrorKind::NotSent, e.to_string()));
                }
                (cmgs, text)
            }
        };
        let r = match self
            .chan
            .send_pdu(&cmd, &payload, self.cfg.send_timeout)
            .await
        {
            Ok(r) => r,
            Err(AtError::Timeout { lines, .. }) if lines.is_empty() => {
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!(
                        "no answer to the PDU within {:?}: it may have been sent",
                        self.cfg.send_timeout
                    ),
                ))
            }
            Err(AtError::Timeout { lines, .. }) => {
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!(
                        "no final result within {:?} (got {lines:?}): it may have been sent",
                        self.cfg.send_timeout
                    ),
                ))
            }
            Err(e @ AtError::NoPrompt { .. }) => {
                return Err(SendError::new(SendErrorKind::NotSent, e.to_string()))
            }
            Err(e @ (AtError::Closed(_) | AtError::Io(_))) => {
                return Err(SendError {
                    link_down: true,
                    ..SendError::new(
                        SendErrorKind::Unknown,
                        format!("the link went down during the send: {e}"),
                    )
                })
            }
            Err(e) => return Err(SendError::new(SendErrorKind::NotSent, e.to_string())),
        };
        if !r.result.is_ok() {
            return Err(failure::from_final(&r.result));
        }
        match r.info("+CMGS:").and_then(parse::cmgs) {
            Some(mr) => Ok(mr),
            None => Err(SendError::new(
                SendErrorKind::Unknown,
                format!(
                    "the modem said OK without a valid +CMGS reference ({:?})",
                    r.lines
                ),
            )),
        }
    }
}

/// A text-mode `+CMGR:` answer as a stored message: the PDU it stands for (encoded, for
/// the logs and the inbox), or the answer itself when it does not read.
fn text_listed(
    r: &Response,
    memory: &str,
    index: usize,
    charset: text::Charset,
) -> Option<StoredSms> {
    let at = r
        .lines
        .iter()
        .position(|l| crate::at::line::strip_prefix_ci(l.trim(), "+CMGR:").is_some())?;
    let header = crate::at::line::strip_prefix_ci(r.lines[at].trim(), "+CMGR:")?.trim();
    let data: Vec<&str> = r.lines[at + 1..].iter().map(String::as_str).collect();
    let (stat, decoded, hex) = match text::cmgr(header, &data, charset) {
        Ok((stat, p)) => {
            let hex = match &p {
                Pdu::Deliver(d) => d.encode().map(|e| e.to_hex()),
                Pdu::StatusReport(s) => s.encode().map(|e| e.to_hex()),
                Pdu::Submit(s) => s.encode().map(|e| e.to_hex()),
            };
            (stat, Ok(p), hex.unwrap_or_default())
        }
        Err(e) => {
            tracing::warn!("{memory} {index}: {e}");
            let raw = std::iter::once(header)
                .chain(data)
                .collect::<Vec<_>>()
                .join("\n");
            let unreadable = PduError {
                offset: 0,
                kind: pdu::PduErrorKind::Unsupported("a text-mode answer that does not read"),
            };
            (None, Err(unreadable), raw)
        }
    };
    Some(StoredSms {
        memory: memory.to_string(),
        index,
        stat,
        pdu: hex,
        decoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_pairs_headers_with_pdus_and_skips_broken_ones() {
        let r = Response {
            lines: vec![
                "+CMGL: 0,1,,5".into(),
                "0011".into(),
                "+CMGL: 1,1,,5".into(),
                "+CMGL: 2,,,5".into(),
                "0022".into(),
            ],
            result: Final::Ok,
        };
        assert_eq!(
            listing(&r, "+CMGL:"),
            [("0,1,,5", "0011"), ("2,,,5", "0022")]
        );
    }
}
