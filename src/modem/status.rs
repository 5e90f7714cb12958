//! What the daemon asks besides messages: signal, battery, registration, operator, USSD,
//! reset, calls.

use super::*;

impl Modem {
    /// Signal quality, `None` when unsupported.
    pub async fn signal(&mut self) -> Option<Signal> {
        let r = self.try_command("AT+CSQ").await?;
        r.info("+CSQ:")
            .or_else(|| r.lines.first().map(String::as_str))
            .and_then(parse::csq)
    }

    /// Battery, `None` when unsupported (most USB modems).
    pub async fn battery(&mut self) -> Option<Battery> {
        let r = self.try_command("AT+CBC").await?;
        r.info("+CBC:").and_then(parse::cbc)
    }

    /// Circuit-switched (then packet) registration, `None` when unsupported.
    pub async fn registration(&mut self) -> Option<Registration> {
        for (cmd, prefix) in [("AT+CREG?", "+CREG:"), ("AT+CGREG?", "+CGREG:")] {
            if let Some(r) = self.try_command(cmd).await {
                if let Some((reg, _, _)) = r.info(prefix).and_then(|v| parse::creg(v, true)) {
                    return Some(reg);
                }
            }
        }
        None
    }

    /// The operator as (numeric code, name), each `None` when unsupported.
    pub async fn operator(&mut self) -> (Option<String>, Option<String>) {
        let mut read = Vec::new();
        for format in ["AT+COPS=3,2", "AT+COPS=3,0"] {
            let value = match self.try_command(format).await {
                Some(_) => self
                    .try_command("AT+COPS?")
                    .await
                    .and_then(|r| r.info("+COPS:").and_then(parse::cops)),
                None => None,
            };
            read.push(value);
        }
        let name = read.pop().flatten();
        (read.pop().flatten(), name)
    }

    /// Sends a USSD code (`*100#`) and waits up to `timeout` for the network's answer
    /// (`+CUSD: <m>,"<text>",<dcs>`). Other unsolicited codes arriving meanwhile are
    /// returned too, for the caller to handle.
    pub async fn ussd(
        &mut self,
        code: &str,
        timeout: Duration,
    ) -> (Result<String, AtError>, Vec<ModemEvent>) {
        let mut others = Vec::new();
        if !code
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            || code.is_empty()
        {
            return (
                Err(AtError::Failed {
                    command: format!("AT+CUSD=1,{code:?},15"),
                    result: Final::Error,
                }),
                others,
            );
        }
        let r = match self
            .chan
            .command(
                &format!("AT+CUSD=1,\"{code}\",15"),
                self.cfg.command_timeout,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return (Err(e), others),
        };
        if let Some(v) = r.info("+CUSD:") {
            return (Ok(parse::cusd(v)), others);
        }
        if !r.result.is_ok() {
            return (
                Err(AtError::Failed {
                    command: format!("AT+CUSD=1,\"{code}\",15"),
                    result: r.result,
                }),
                others,
            );
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.next_event()).await {
                Ok(Some(ModemEvent::Ussd(v))) => return (Ok(parse::cusd(&v)), others),
                Ok(Some(e)) => others.push(e),
                Ok(None) => return (Err(AtError::Closed(None)), others),
                Err(_) => {
                    return (
                        Err(AtError::Timeout {
                            command: format!("USSD {code}"),
                            timeout,
                            lines: Vec::new(),
                        }),
                        others,
                    )
                }
            }
        }
    }

    /// Restarts the modem (`AT+CFUN=1,1`). USB modems re-enumerate: treat what follows as
    /// an unplug (close, [`wait_for_device`], open, init, PIN again).
    pub async fn reset(&mut self) -> Result<(), AtError> {
        match self.chan.ok("AT+CFUN=1,1", self.cfg.command_timeout).await {
            // The modem may drop the line before its OK arrives: that is the reset.
            Err(e) if e.is_link_down() => Ok(()),
            r => r.map(|_| ()),
        }
    }

    /// Turns the radio on (`AT+CFUN=1`).
    pub async fn radio_on(&mut self) -> Result<(), AtError> {
        self.chan
            .ok("AT+CFUN=1", self.cfg.command_timeout)
            .await
            .map(|_| ())
    }

    /// Hangs up an incoming call (`AT+CHUP`, or `ATH` where that is missing).
    pub async fn hang_up(&mut self) -> Result<(), AtError> {
        match self
            .chan
            .command("AT+CHUP", self.cfg.command_timeout)
            .await?
        {
            r if r.result.is_ok() => Ok(()),
            _ => self
                .chan
                .ok("ATH", self.cfg.command_timeout)
                .await
                .map(|_| ()),
        }
    }
}
