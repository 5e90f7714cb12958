//! Bringing a modem up: wake-up, identity, vendor init, PIN, storage and indications.

use super::*;

impl Modem {
    /// Brings the modem from power-on to ready for SMS: wake-up, echo off, numeric errors,
    /// identity, vendor init, PIN, PDU mode, storage, new-message indications, SMSC.
    pub async fn init(&mut self) -> Result<(), ModemError> {
        self.wake(3, Duration::from_secs(2)).await?;
        self.identify().await;
        self.vendor_init().await;
        self.unlock().await?;
        self.identity.imsi = self.single_line("AT+CIMI").await;
        let r = self
            .chan
            .command("AT+CMGF=0", self.cfg.command_timeout)
            .await?;
        self.text = None;
        if !r.result.is_ok() {
            self.text_mode(&r.result.to_string()).await?;
        }
        self.choose_storage().await?;
        self.choose_indications().await;
        self.smsc = self
            .try_command("AT+CSCA?")
            .await
            .and_then(|r| r.info("+CSCA:").and_then(parse::csca));
        self.try_command("AT+CLIP=1").await;
        // Registration changes as URCs: a send held for "no network" goes at its return.
        self.try_command("AT+CREG=1").await;
        tracing::info!(
            phone = %self.cfg.id,
            manufacturer = self.identity.manufacturer.as_deref().unwrap_or("?"),
            model = self.identity.model.as_deref().unwrap_or("?"),
            delivery = ?self.delivery,
            memories = ?self.read_memories,
            "modem ready"
        );
        Ok(())
    }

    /// The fallback for a modem that refuses PDU mode: text mode, its character set UCS2
    /// (else IRA), header details shown (`AT+CSDH=1`, which gives the data coding).
    async fn text_mode(&mut self, refused: &str) -> Result<(), ModemError> {
        let r = self
            .chan
            .command("AT+CMGF=1", self.cfg.command_timeout)
            .await?;
        if !r.result.is_ok() {
            return Err(ModemError::NoPduMode(format!(
                "{refused}; text mode (AT+CMGF=1) is refused too: {}",
                r.result
            )));
        }
        self.try_command("AT+CSDH=1").await;
        let charset = if self.try_command("AT+CSCS=\"UCS2\"").await.is_some() {
            text::Charset::Ucs2
        } else {
            self.try_command("AT+CSCS=\"IRA\"").await;
            text::Charset::Ira
        };
        tracing::warn!(
            phone = %self.cfg.id,
            "the modem refuses PDU mode ({refused}): text mode with the {charset} character set; concatenated and 8-bit messages cannot be sent through it"
        );
        self.text = Some(charset);
        Ok(())
    }

    /// Leaves a pending `> ` prompt, wakes the modem (some need a few tries: `tries` `AT`s
    /// of `each` at most), turns echo off and asks for numeric errors.
    async fn wake(&mut self, tries: u32, each: Duration) -> Result<(), ModemError> {
        let _ = self.chan.write_raw(b"\x1b\r").await;
        let mut awake = false;
        for _ in 0..tries {
            if let Ok(r) = self.chan.command("AT", each).await {
                if r.result.is_ok() {
                    awake = true;
                    break;
                }
            }
        }
        if !awake {
            return Err(ModemError::NoAnswer {
                device: self.cfg.device.clone(),
            });
        }
        // Echo off where the modem lets us; the channel copes either way.
        self.try_command("ATE0").await;
        if self.try_command("AT+CMEE=1").await.is_none() {
            self.try_command("AT+CMEE=2").await;
        }
        Ok(())
    }

    /// Who the modem is, without changing anything: no PIN is entered (the IMSI is read
    /// only from a SIM that is not locked). For finding modems by identity.
    pub async fn probe(&mut self) -> Result<Identity, ModemError> {
        let each = self.cfg.command_timeout.min(Duration::from_secs(2));
        self.wake(2, each).await?;
        self.identify().await;
        self.identity.imsi = self.single_line("AT+CIMI").await;
        Ok(self.identity.clone())
    }

    /// The one information line of a command (`AT+CGSN` answers the IMEI alone).
    async fn single_line(&mut self, cmd: &str) -> Option<String> {
        let r = self.try_command(cmd).await?;
        let prefix = crate::at::line::response_prefix(cmd);
        let line = r.lines.iter().find(|l| !l.trim().is_empty())?;
        let v = match prefix {
            Some(p) => crate::at::line::strip_prefix_ci(line.trim(), &p).unwrap_or(line),
            None => line,
        };
        Some(v.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty())
    }

    /// Reads manufacturer, model, revision, IMEI and ICCID (each may be unsupported).
    pub async fn identify(&mut self) -> Identity {
        self.identity.manufacturer = match self.single_line("AT+CGMI").await {
            Some(m) => Some(m),
            None => self.single_line("ATI3").await,
        };
        self.identity.model = match self.single_line("AT+CGMM").await {
            Some(m) => Some(m),
            None => self.single_line("ATI4").await,
        };
        self.identity.revision = self.single_line("AT+CGMR").await;
        self.identity.imei = self.single_line("AT+CGSN").await;
        self.identity.iccid = match self.try_command("AT+CCID").await {
            Some(r) => r.lines.iter().find_map(|l| parse::iccid(l)),
            None => None,
        };
        self.profile = profile::for_manufacturer(self.identity.manufacturer.as_deref());
        self.identity.clone()
    }

    /// The profile's init commands, or the phone's `vendor_init` instead.
    async fn vendor_init(&mut self) {
        let cmds: Vec<String> = match &self.cfg.vendor_init {
            Some(list) => list.clone(),
            None => self.profile.init.iter().map(|c| c.to_string()).collect(),
        };
        for c in cmds {
            self.try_command(&c).await;
        }
    }

    /// The SIM's lock state. Retries while the SIM is busy; takes the `+CPIN:` line of a
    /// modem that never sends the final `OK`.
    pub async fn pin_state(&mut self) -> Result<PinState, ModemError> {
        let mut delay = Duration::from_millis(200);
        for _ in 0..8 {
            let r = match self
                .chan
                .command("AT+CPIN?", self.cfg.command_timeout)
                .await
            {
                Ok(r) => r,
                Err(AtError::Timeout { lines, .. })
                    if lines.iter().any(|l| l.contains("+CPIN:")) =>
                {
                    Response {
                        lines,
                        result: Final::Ok,
                    }
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(v) = r.info("+CPIN:") {
                return Ok(parse::cpin(v));
            }
            match r.result.cme() {
                Some(10) | Some(13) | Some(15) => {
                    return Err(ModemError::NoSim {
                        id: self.cfg.id.clone(),
                        detail: r.result.to_string(),
                    })
                }
                Some(14) | Some(515) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(3));
                }
                _ if r.result.is_ok() => return Ok(PinState::Ready),
                _ => {
                    return Err(ModemError::At(AtError::Failed {
                        command: "AT+CPIN?".into(),
                        result: r.result,
                    }))
                }
            }
        }
        Err(ModemError::At(AtError::Failed {
            command: "AT+CPIN?".into(),
            result: Final::CmeError(crate::at::ErrorCode {
                code: Some(14),
                text: "14".into(),
            }),
        }))
    }

    /// Enters the configured PIN when the SIM asks for one, at most once per PIN and SIM.
    pub async fn unlock(&mut self) -> Result<(), ModemError> {
        let id = self.cfg.id.clone();
        let memory = PinMemory::new(&self.cfg.state_dir, &id);
        match self.pin_state().await? {
            PinState::Ready => Ok(()),
            PinState::SimPuk => Err(ModemError::PukRequired { id }),
            PinState::Other(what) => Err(ModemError::OtherLock { id, what }),
            PinState::SimPin => {
                let Some(pin) = self.cfg.pin.clone() else {
                    return Err(ModemError::PinRequired { id });
                };
                let iccid = self.identity.iccid.clone();
                if memory.rejected(iccid.as_deref(), &pin) {
                    tracing::error!(phone = %id, "not sending the PIN: the SIM rejected it before");
                    return Err(ModemError::PinRejected {
                        id,
                        memory: memory.path().display().to_string(),
                    });
                }
                let cmd = format!("AT+CPIN=\"{pin}\"");
                let r = self.chan.command(&cmd, self.cfg.command_timeout).await?;
                match r.result {
                    Final::Ok => {
                        memory.clear();
                        // The SIM is busy for a moment after the PIN: wait until it says READY.
                        match self.pin_state().await? {
                            PinState::Ready => Ok(()),
                            PinState::SimPuk => Err(ModemError::PukRequired { id }),
                            _ => Err(ModemError::PinRequired { id }),
                        }
                    }
                    ref f
                        if matches!(f.cme(), Some(16) | Some(12)) || matches!(f, Final::Error) =>
                    {
                        if let Err(e) = memory.remember(iccid.as_deref(), &pin) {
                            tracing::error!(phone = %id, "cannot remember the rejected PIN in {}: {e}", memory.path().display());
                        }
                        tracing::error!(phone = %id, "the SIM rejected the PIN ({})", r.result);
                        Err(ModemError::PinRejected {
                            id,
                            memory: memory.path().display().to_string(),
                        })
                    }
                    other => Err(ModemError::At(AtError::Failed {
                        command: "AT+CPIN=***".into(),
                        result: other,
                    })),
                }
            }
        }
    }

    async fn choose_storage(&mut self) -> Result<(), ModemError> {
        let support = match self.try_command("AT+CPMS=?").await {
            Some(r) => r.info("+CPMS:").map(parse::cpms_support),
            None => None,
        };
        let [read, _write, receive] =
            support.unwrap_or_else(|| [vec!["SM".into()], vec!["SM".into()], vec!["SM".into()]]);
        let mut memories: Vec<String> = ["SM", "ME", "MT"]
            .iter()
            .filter(|m| read.iter().any(|r| r == *m))
            .map(|m| m.to_string())
            .collect();
        // MT is SM and ME together: reading it as well would list messages twice.
        if memories.iter().any(|m| m == "SM") || memories.iter().any(|m| m == "ME") {
            memories.retain(|m| m != "MT");
        }
        if memories.is_empty() {
            memories.push(read.first().cloned().unwrap_or_else(|| "SM".into()));
        }
        if read.iter().any(|m| m == "SR") {
            memories.push("SR".into());
        }
        // New messages go where we read them; prefer the (usually larger) phone memory.
        let receive = ["ME", "SM", "MT"]
            .iter()
            .find(|m| receive.iter().any(|r| r == *m) && memories.iter().any(|x| x == *m))
            .map_or_else(|| memories[0].clone(), |m| m.to_string());
        let first = memories[0].clone();
        let cmd = format!("AT+CPMS=\"{first}\",\"{first}\",\"{receive}\"");
        if self.required(&cmd).await.is_err() {
            // Some modems take only mem1.
            self.required(&format!("AT+CPMS=\"{first}\"")).await?;
        }
        self.current_memory = Some(first);
        self.read_memories = memories;
        self.receive_memory = receive;
        Ok(())
    }

    async fn choose_indications(&mut self) {
        let mut tries: Vec<String> = self.cfg.cnmi.iter().cloned().collect();
        tries.extend(
            [
                "2,1,0,2,0",
                "2,1,0,1,0",
                "1,1,0,2,0",
                "2,1,0,0,0",
                "2,2,0,1,0",
                "2,2,0,0,0",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        for t in tries {
            // In text mode `+CMT`/`+CDS` come as fields, not PDUs: stored messages only.
            let p: Vec<&str> = t.split(',').map(str::trim).collect();
            if self.text.is_some() && (p.get(1) != Some(&"1") || p.get(3) == Some(&"1")) {
                continue;
            }
            if self.try_command(&format!("AT+CNMI={t}")).await.is_some() {
                let mt = t.split(',').nth(1).unwrap_or("0");
                self.delivery = match mt {
                    "1" => Delivery::Stored,
                    "2" | "3" => {
                        // Phase 2+: the network waits for our AT+CNMA, so a message is not
                        // lost if we stop before committing it.
                        self.try_command("AT+CSMS=1").await;
                        Delivery::Direct
                    }
                    _ => Delivery::Sweep,
                };
                return;
            }
        }
        tracing::warn!(phone = %self.cfg.id, "the modem accepts no AT+CNMI setting: new messages are found by the periodic sweep only");
        self.delivery = Delivery::Sweep;
    }
}
