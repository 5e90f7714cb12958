//! `smsgw config import-gammu`: a gammu-smsd config (`/etc/gammu-smsdrc`: its `[gammu]` and
//! `[smsd]` keys) turned into smsgw's TOML, with a comment for every key that could not be
//! carried over and why.

use std::collections::BTreeMap;

/// An INI file as Gammu reads it: case-insensitive sections and keys, `;`/`#` comments.
pub(crate) fn parse_ini(text: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with(';') || l.starts_with('#') {
            continue;
        }
        if let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            out.entry(section.clone())
                .or_default()
                .push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

pub(crate) fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// The TOML for a gammu-smsd config. `source` names the file in the header comment. A file
/// with neither a `[gammu]` nor an `[smsd]` section is not one: an error says so.
pub fn gammu_to_toml(text: &str, source: &str) -> Result<String, String> {
    let ini = parse_ini(text);
    if !ini.contains_key("gammu") && !ini.contains_key("smsd") {
        return Err(format!(
            "{source} is not a gammu-smsd config: it has no [gammu] or [smsd] section"
        ));
    }
    let empty = Vec::new();
    let gammu = ini.get("gammu").unwrap_or(&empty);
    let smsd = ini.get("smsd").unwrap_or(&empty);
    let get = |list: &Vec<(String, String)>, key: &str| {
        list.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let mut daemon = Vec::new();
    let mut storage = Vec::new();
    let mut phone = Vec::new();
    let mut sending = Vec::new();
    let mut receiving = Vec::new();
    let mut hooks = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // [gammu]
    for (k, v) in gammu {
        match k.as_str() {
            "device" | "port" => phone.push(format!("device = {}", quoted(v))),
            "connection" => {
                let baud = v
                    .to_ascii_lowercase()
                    .trim_start_matches("at")
                    .parse::<u32>()
                    .ok();
                match baud {
                    Some(b) => phone.push(format!("baud = {b}")),
                    None if v.eq_ignore_ascii_case("at") => {}
                    None => notes.push(format!(
                        "[gammu] connection = {v}: smsgw talks AT over serial or tcp:// only"
                    )),
                }
            }
            _ => notes.push(format!(
                "[gammu] {k} = {v}: no smsgw equivalent (the AT driver adapts by itself)"
            )),
        }
    }
    // [smsd]
    let mut service = get(smsd, "service")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut driver = get(smsd, "driver").unwrap_or_default().to_ascii_lowercase();
    // Gammu before 1.28: `service = pgsql` / `mysql`; and ODBC with `sql` naming the
    // dialect: both reach the same servers directly.
    match service.as_str() {
        "pgsql" | "mysql" => {
            driver = format!("native_{service}");
            service = "sql".into();
        }
        _ => {}
    }
    if service == "sql" && driver == "odbc" {
        if let Some(d @ ("pgsql" | "mysql")) =
            get(smsd, "sql").map(|d| d.to_ascii_lowercase()).as_deref()
        {
            notes.push(format!("[smsd] driver = odbc, sql = {d}: smsgw connects to the server directly, not through ODBC: check host (an ODBC DSN there is not a host name), user and database"));
            driver = format!("native_{d}");
        }
    }
    match (service.as_str(), driver.as_str()) {
        ("sql", "sqlite3") | ("sql", "sqlite") => {
            let dir = get(smsd, "dbdir").unwrap_or_default();
            let db = get(smsd, "database").unwrap_or_else(|| "sms".into());
            let path = if dir.is_empty() {
                db
            } else {
                format!("{}/{db}", dir.trim_end_matches('/'))
            };
            storage.push("kind = \"sqlite\"".to_string());
            storage.push(format!("path = {}", quoted(&path)));
        }
        ("sql", "native_pgsql" | "pgsql" | "native_mysql" | "mysql") => {
            let kind = if driver.contains("pgsql") {
                "postgres"
            } else {
                "mysql"
            };
            storage.push(format!("kind = \"{kind}\""));
            // Gammu's defaults: localhost, root, sms.
            let host = get(smsd, "host")
                .or_else(|| get(smsd, "pc"))
                .unwrap_or_else(|| "localhost".into());
            match host.rsplit_once(':') {
                Some((h, port)) if port.parse::<u16>().is_ok() => {
                    storage.push(format!("host = {}", quoted(h)));
                    storage.push(format!("port = {port}"));
                }
                Some((h, socket)) if socket.starts_with('/') => {
                    storage.push(format!("host = {}", quoted(h)));
                    notes.push(format!("[smsd] host = {host}: the socket {socket} is not used; smsgw connects over TCP"));
                }
                _ => storage.push(format!("host = {}", quoted(&host))),
            }
            storage.push(format!(
                "user = {}",
                quoted(&get(smsd, "user").unwrap_or_else(|| "root".into()))
            ));
            storage.push(format!(
                "database = {}",
                quoted(&get(smsd, "database").unwrap_or_else(|| "sms".into()))
            ));
            if get(smsd, "password").is_some_and(|p| !p.is_empty()) {
                storage.push("password_file = \"/etc/smsgw/db-password\"".to_string());
                notes.push("[smsd] password = ***: not copied into this file; write it to /etc/smsgw/db-password (mode 0640, group smsgw) or set storage.password_env".into());
            }
        }
        ("files", _) => {
            storage.push("kind = \"files\"".to_string());
            for (gammu_key, ours) in [
                ("inboxpath", "inbox_path"),
                ("outboxpath", "outbox_path"),
                ("sentsmspath", "sent_path"),
                ("errorsmspath", "error_path"),
            ] {
                if let Some(v) = get(smsd, gammu_key) {
                    storage.push(format!("{ours} = {}", quoted(v.trim_end_matches('/'))));
                }
            }
            match get(smsd, "inboxformat").map(|f| f.to_ascii_lowercase()).as_deref() {
                Some("standard") => storage.push("inbox_format = \"standard\"".into()),
                Some("unicode") | None => storage.push("inbox_format = \"unicode\"".into()),
                Some(other) => notes.push(format!("[smsd] inboxformat = {other}: smsgw writes unicode or standard inbox files; unicode is used")),
            }
        }
        ("null", _) => storage.push("kind = \"null\"".to_string()),
        (s, d) => {
            storage.push("kind = \"sqlite\"".to_string());
            storage.push("path = \"/var/lib/smsgw/smsgw.db\"".to_string());
            notes.push(format!(
                "[smsd] service = {s}{}: not available in smsgw; SQLite is used instead",
                if d.is_empty() {
                    String::new()
                } else {
                    format!(", driver = {d}")
                }
            ));
        }
    }
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for (k, v) in smsd {
        let num = || v.parse::<i64>().ok().filter(|n| *n >= 0);
        let mapped = match k.as_str() {
            "service" | "driver" | "dbdir" | "database" => true,
            "inboxpath" | "outboxpath" | "sentsmspath" | "errorsmspath" | "inboxformat"
                if service == "files" =>
            {
                true
            }
            "outboxformat" | "transmitformat" if service == "files" => {
                notes.push(format!("[smsd] {k} = {v}: smsgw reads OUT files in UTF-8 or UTF-16 with a byte-order mark (Gammu's standard and unicode formats; not detail) and picks the alphabet by itself"));
                true
            }
            "user" | "password" | "host" | "pc"
                if matches!(
                    driver.as_str(),
                    "native_pgsql" | "pgsql" | "native_mysql" | "mysql"
                ) =>
            {
                true
            }
            "sql" if service == "sql" => {
                notes.push(format!("[smsd] sql = {v}: not needed: smsgw speaks the SQL of the storage kind it connects to"));
                true
            }
            "pin" => {
                phone.push(format!("pin = {}", quoted(v)));
                true
            }
            "phoneid" => {
                phone.insert(0, format!("id = {}", quoted(v)));
                true
            }
            "smsc" => {
                phone.push(format!("smsc = {}", quoted(v)));
                true
            }
            "receivefrequency" | "statusfrequency" | "resetfrequency" => match num() {
                Some(n) => {
                    let key = match k.as_str() {
                        "receivefrequency" => "receive_frequency",
                        "statusfrequency" => "status_frequency",
                        _ => "reset_frequency",
                    };
                    // Gammu's 0 receive frequency means "every loop"; ours is seconds.
                    phone.push(format!(
                        "{key} = {}",
                        if key == "receive_frequency" {
                            n.max(1)
                        } else {
                            n
                        }
                    ));
                    true
                }
                None => false,
            },
            "sendtimeout" => match num() {
                Some(n) => {
                    // Gammu's default 30 s is short for busy networks; keep at least that.
                    phone.push(format!("send_timeout = {}", n.max(1)));
                    true
                }
                None => false,
            },
            "hangupcalls" | "send" | "receive" => match boolean(v) {
                Some(b) => {
                    let key = if k == "hangupcalls" {
                        "hangup_calls"
                    } else {
                        k.as_str()
                    };
                    phone.push(format!("{key} = {b}"));
                    true
                }
                None => false,
            },
            "maxretries" => num()
                .map(|n| sending.push(format!("max_retries = {n}")))
                .is_some(),
            "retrytimeout" => num()
                .map(|n| sending.push(format!("retry_timeout = {n}")))
                .is_some(),
            "deliveryreportdelay" => num()
                .map(|n| sending.push(format!("delivery_report_delay = {n}")))
                .is_some(),
            "deliveryreport" => {
                let on = !v.eq_ignore_ascii_case("no");
                sending.push(format!("delivery_reports = {on}"));
                if v.eq_ignore_ascii_case("sms") {
                    notes.push("[smsd] DeliveryReport = sms: reports update sentitems (as Gammu's SQL service does); they are not stored as messages".into());
                }
                true
            }
            "multiparttimeout" => num()
                .map(|n| receiving.push(format!("multipart_timeout = {n}")))
                .is_some(),
            "includenumbersfile" => {
                receiving.push(format!("include_numbers_file = {}", quoted(v)));
                true
            }
            "excludenumbersfile" => {
                receiving.push(format!("exclude_numbers_file = {}", quoted(v)));
                true
            }
            "runonreceive" | "runonsent" | "runonfailure" | "runonincomingcall" => {
                let key = match k.as_str() {
                    "runonreceive" => "run_on_receive",
                    "runonsent" => "run_on_sent",
                    "runonfailure" => "run_on_failure",
                    _ => "run_on_incoming_call",
                };
                if v.contains(['|', '>', '<', ';', '&', '$', '`']) {
                    notes.push(format!("[smsd] {k}: smsgw runs hooks without a shell; written as `sh -c` to keep its shell syntax"));
                    hooks.push(format!(
                        "{key} = {}",
                        quoted(&format!("sh -c {} hook", quoted(&format!("{v} \"$@\""))))
                    ));
                } else {
                    hooks.push(format!("{key} = {}", quoted(v)));
                }
                true
            }
            "logfile" => {
                let target = match v.to_ascii_lowercase().as_str() {
                    "syslog" => {
                        notes.push("[smsd] LogFile = syslog: smsgw logs to standard error, which systemd's journal keeps and passes to syslog (`journalctl -u smsgw`)".into());
                        "stderr".to_string()
                    }
                    "stderr" | "stdout" => "stderr".to_string(),
                    _ => v.clone(),
                };
                daemon.push(format!("log = {}", quoted(&target)));
                true
            }
            "debuglevel" => {
                if v.parse::<i64>().unwrap_or(0) > 0 {
                    daemon.push("log_level = \"debug\"".into());
                }
                true
            }
            _ => false,
        };
        if !mapped {
            let why = match k.as_str() {
                "commtimeout" | "loopsleep" => {
                    "smsgw is event-driven: it sends within milliseconds and sleeps when idle"
                }
                "checksecurity" | "checkbattery" | "checksignal" | "checknetwork" => {
                    "always done, each tolerant of modems that lack it"
                }
                "backendretries" => {
                    "storage outages are retried with backoff for as long as they last"
                }
                "user" | "password" | "host" | "pc" | "sql" => {
                    "belongs to an SQL server, which the configured service does not use"
                }
                "logformat" | "debugfile" => "smsgw has one log; its level is daemon.log_level",
                "inboxpath" | "outboxpath" | "sentsmspath" | "errorsmspath" | "inboxformat"
                | "outboxformat" | "transmitformat" => {
                    "belongs to the files service, which is not the configured one"
                }
                _ => "no smsgw equivalent, or an invalid value",
            };
            let shown = if k == "password" { "***" } else { v.as_str() };
            notes.push(format!("[smsd] {k} = {shown}: {why}"));
        }
    }
    for (section, list) in [
        ("include_numbers", &mut include),
        ("exclude_numbers", &mut exclude),
    ] {
        if let Some(items) = ini.get(section) {
            list.extend(items.iter().map(|(_, v)| quoted(v)));
        }
    }
    if !include.is_empty() {
        receiving.push(format!("include_numbers = [{}]", include.join(", ")));
    }
    if !exclude.is_empty() {
        receiving.push(format!("exclude_numbers = [{}]", exclude.join(", ")));
    }
    if !phone.iter().any(|l| l.starts_with("id = ")) {
        phone.insert(0, "id = \"modem1\"".into());
    }
    if !phone.iter().any(|l| l.starts_with("device = ")) {
        phone.insert(1, "device = \"/dev/ttyUSB0\"".into());
        notes.push("[gammu] device: missing, /dev/ttyUSB0 assumed".into());
    }

    let mut out =
        format!("# smsgw configuration imported from {source} by `smsgw config import-gammu`.\n");
    if !notes.is_empty() {
        out.push_str("#\n# Not carried over:\n");
        for n in &notes {
            out.push_str(&format!("#   {n}\n"));
        }
    }
    for (name, lines, array) in [
        ("daemon", &daemon, false),
        ("storage", &storage, false),
        ("phone", &phone, true),
        ("sending", &sending, false),
        ("receiving", &receiving, false),
        ("hooks", &hooks, false),
    ] {
        if lines.is_empty() {
            continue;
        }
        out.push_str(&if array {
            format!("\n[[{name}]]\n")
        } else {
            format!("\n[{name}]\n")
        });
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn check(toml: &str) -> Config {
        Config::parse(toml, Path::new("imported.toml")).unwrap_or_else(|e| panic!("{e}\n{toml}"))
    }

    #[test]
    fn an_sql_sqlite_config_carries_over() {
        let gammu = "[gammu]\nport = /dev/ttyUSB2\nconnection = at115200\nmodel = \n\n[smsd]\nservice = sql\ndriver = sqlite3\ndbdir = /var/lib/gammu/\ndatabase = smsd.db\nPIN = 1234\nPhoneID = huawei\nRunOnReceive = /usr/local/bin/on-sms\nRunOnFailure = /usr/bin/logger -t sms failure\nReceiveFrequency = 30\nCommTimeout = 5\nMaxRetries = 3\nRetryTimeout = 120\nDeliveryReport = sms\nLogFile = syslog\nDebugLevel = 1\n\n[exclude_numbers]\nnumber1 = +48600100200\n";
        let toml = gammu_to_toml(gammu, "/etc/gammu-smsdrc").unwrap();
        let c = check(&toml);
        let p = &c.phones[0];
        assert_eq!(
            (p.id.as_str(), p.device.as_str(), p.baud, p.pin.as_deref()),
            ("huawei", "/dev/ttyUSB2", 115_200, Some("1234"))
        );
        assert_eq!(p.receive_frequency, 30);
        assert_eq!(c.storage.path, Path::new("/var/lib/gammu/smsd.db"));
        assert_eq!(
            (
                c.sending.max_retries,
                c.sending.retry_timeout,
                c.sending.delivery_reports
            ),
            (3, 120, true)
        );
        assert_eq!(
            c.hooks.run_on_receive.as_deref(),
            Some("/usr/local/bin/on-sms")
        );
        assert_eq!(c.receiving.exclude_numbers, ["+48600100200"]);
        assert_eq!(c.daemon.log_level, "debug");
        assert!(
            toml.contains("#   [smsd] commtimeout = 5: smsgw is event-driven"),
            "{toml}"
        );
        assert!(
            toml.contains("#   [gammu] model = : no smsgw equivalent"),
            "{toml}"
        );
        assert!(
            toml.contains("LogFile = syslog: smsgw logs to standard error"),
            "{toml}"
        );
    }

    #[test]
    fn sql_dialects_old_services_and_non_gammu_files() {
        let toml = gammu_to_toml(
            "[gammu]\ndevice = /dev/ttyUSB0\n[smsd]\nservice = sql\ndriver = native_pgsql\nsql = pgsql\n",
            "pg.rc",
        )
        .unwrap();
        assert!(!toml.contains("does not use"), "{toml}");
        assert!(toml.contains("sql = pgsql: not needed"), "{toml}");
        let old = check(
            &gammu_to_toml(
                "[gammu]\ndevice = /dev/ttyUSB0\n[smsd]\nservice = mysql\nhost = db\n",
                "old.rc",
            )
            .unwrap(),
        );
        assert_eq!(old.storage.kind, crate::config::StorageKind::Mysql);
        let e = gammu_to_toml("[storage]\nkind = \"sqlite\"\n", "smsgw.toml").unwrap_err();
        assert!(e.contains("not a gammu-smsd config"), "{e}");
    }

    #[test]
    fn files_configs_import_with_the_reason_and_sql_servers_carry_over() {
        let files = "[gammu]\ndevice = /dev/ttyACM0\n[smsd]\nservice = files\ninboxpath = /var/spool/sms/inbox/\noutboxpath = /var/spool/sms/outbox/\ninboxformat = standard\n";
        let toml = gammu_to_toml(files, "files.rc").unwrap();
        let c = check(&toml);
        assert_eq!(c.storage.kind, crate::config::StorageKind::Files);
        assert_eq!(
            c.storage.inbox_path,
            std::path::Path::new("/var/spool/sms/inbox")
        );
        assert_eq!(
            c.storage.outbox_path,
            std::path::Path::new("/var/spool/sms/outbox")
        );
        assert_eq!(c.storage.inbox_format, crate::config::InboxFormat::Standard);
        let mysql = "[gammu]\ndevice = /dev/ttyUSB0\n[smsd]\nservice = sql\ndriver = native_mysql\nhost = db.example.org:3307\nuser = smsd\npassword = secret\ndatabase = smsd\nRunOnReceive = /bin/echo $1 >> /tmp/log\n";
        let toml = gammu_to_toml(mysql, "mysql.rc").unwrap();
        let c = check(&toml);
        assert_eq!(c.storage.kind, crate::config::StorageKind::Mysql);
        assert_eq!(
            (
                c.storage.host.as_str(),
                c.storage.port,
                c.storage.user.as_str(),
                c.storage.database.as_str()
            ),
            ("db.example.org", 3307, "smsd", "smsd")
        );
        assert!(toml.contains("password = ***: not copied"), "{toml}");
        let pg = gammu_to_toml(
            "[gammu]\ndevice = /dev/ttyUSB0\n[smsd]\nservice = sql\ndriver = native_pgsql\n",
            "pg.rc",
        )
        .unwrap();
        let p = check(&pg);
        assert_eq!(
            (
                p.storage.kind,
                p.storage.host.as_str(),
                p.storage.user.as_str(),
                p.storage.database.as_str()
            ),
            (
                crate::config::StorageKind::Postgres,
                "localhost",
                "root",
                "sms"
            )
        );
        assert!(
            !toml.contains("secret"),
            "the password is not copied: {toml}"
        );
        assert_eq!(
            c.hooks.run_on_receive.as_deref(),
            Some("sh -c '/bin/echo $1 >> /tmp/log \"$@\"' hook")
        );
    }
}
