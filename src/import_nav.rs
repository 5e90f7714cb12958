//! `smsgw config import-nav`: NAV's `smsd.conf` (its `[main]` keys and the dispatchers of
//! `[dispatcher]`), and optionally NAV's `db.conf`, turned into smsgw's TOML with the `nav`
//! storage, with a comment for every key that could not be carried over and why.
//!
//! Dispatchers become `[[transport]]`s (HttpGetDispatcher → http, UninettMailDispatcher →
//! mail, BoostDispatcher → soap, DebugDispatcher → debug) tried in NAV's order through a
//! failover list; GammuDispatcher becomes a `[[phone]]`.

use crate::import::{parse_ini, quoted};

/// The TOML for NAV's smsd. `db_conf` is the text of NAV's `db.conf`, when given.
pub fn nav_to_toml(smsd: &str, db_conf: Option<&str>, source: &str) -> String {
    // Python's ConfigParser takes `key: value` as well as `key = value`.
    let smsd: String = smsd
        .lines()
        .map(|l| match (l.find(':'), l.find('=')) {
            (Some(c), e) if !l.trim_start().starts_with('[') && !matches!(e, Some(e) if e < c) => {
                format!("{}={}\n", &l[..c], &l[c + 1..])
            }
            _ => format!("{l}\n"),
        })
        .collect();
    let ini = parse_ini(&smsd);
    let empty = Vec::new();
    let main = ini.get("main").unwrap_or(&empty);
    let mut notes: Vec<String> = Vec::new();
    let mut storage = vec!["kind = \"nav\"".to_string()];

    // db.conf: key=value lines without sections.
    if let Some(db) = db_conf {
        let values: Vec<(String, String)> = db
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |k: &str| {
            values
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        if let Some(h) = get("dbhost") {
            storage.push(format!("host = {}", quoted(&h)));
        }
        if let Some(p) = get("dbport").and_then(|p| p.parse::<u16>().ok()) {
            storage.push(format!("port = {p}"));
        }
        if let Some(d) = get("db_nav") {
            storage.push(format!("database = {}", quoted(&d)));
        }
        let user = get("script_smsd").or_else(|| get("script_default"));
        if let Some(u) = &user {
            storage.push(format!("user = {}", quoted(u)));
            if get(&format!("userpw_{u}")).is_some() {
                storage.push("password_file = \"/etc/smsgw/nav-db-password\"".into());
                notes.push(format!("db.conf userpw_{u}: not copied; write it to /etc/smsgw/nav-db-password (mode 0640)"));
            }
        }
    } else {
        notes.push("NAV's database: give --db-conf /etc/nav/db.conf, or set storage.host, user, database and password_file (defaults: localhost, nav, nav)".into());
    }

    // [main]
    let mut expire = None;
    for (k, v) in main {
        let num = || v.parse::<f64>().ok();
        let mapped = match k.as_str() {
            "delay" => num()
                .map(|n| storage.push(format!("delay = {}", n.max(1.0) as u64)))
                .is_some(),
            "delayfactor" => num()
                .map(|n| storage.push(format!("delay_factor = {:?}", n.max(1.0))))
                .is_some(),
            "maxdelay" => num()
                .map(|n| storage.push(format!("max_delay = {}", n.max(1.0) as u64)))
                .is_some(),
            "autocancel" => {
                if v != "0" && !v.is_empty() {
                    storage.push(format!("autocancel = {}", quoted(v)));
                }
                true
            }
            "retrylimit" | "retrylimitaction" => {
                expire = Some(());
                false
            }
            _ => false,
        };
        if !mapped {
            let why = match k.as_str() {
                "retrylimit" | "retrylimitaction" => "NAV dropped the whole queue after that many failed scans; smsgw keeps every alert and retries it with the backoff, cancelling each only when older than expire_after",
                "exit_on_permanent_error" => "smsgw never exits on a failing way out: a failing transport is skipped for its cooldown, then tried again",
                "username" => "run smsgw as its own user (the systemd unit's User=)",
                "mailwarnlevel" | "mailserver" | "mailaddr" | "fromaddr" => "smsgw logs to the journal; use run_on_failure or the metrics endpoint to alert",
                _ => "no smsgw equivalent",
            };
            notes.push(format!("[main] {k} = {v}: {why}"));
        }
    }
    if expire.is_some() {
        storage
            .push("# expire_after = \"6 hours\"   # cancel an alert not sent within this".into());
    }

    // [dispatcher] dispatcherN = ClassName, in N's order.
    let mut order: Vec<(u32, String)> = ini
        .get("dispatcher")
        .unwrap_or(&empty)
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("dispatcher")
                .and_then(|n| n.parse().ok())
                .map(|n| (n, v.clone()))
        })
        .collect();
    order.sort();
    let mut phones = Vec::new();
    let mut transports: Vec<(String, Vec<String>)> = Vec::new();
    for (_, class) in &order {
        let section = ini.get(&class.to_ascii_lowercase()).unwrap_or(&empty);
        let get = |k: &str| {
            section
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .filter(|v| v != "None")
        };
        match class.as_str() {
            "GammuDispatcher" => {
                phones.push(vec![
                    "id = \"modem\"".to_string(),
                    "device = \"/dev/ttyUSB0\"".to_string(),
                    "receive = false".to_string(),
                ]);
                notes.push("GammuDispatcher: the modem's device is in the NAV user's ~/.gammurc: check [[phone]] device; a modem and the transports share the queue (a modem that is down stops taking alerts and the transports send them)".into());
            }
            "HttpGetDispatcher" => match get("url") {
                Some(url) => transports.push((
                    "http".into(),
                    vec!["kind = \"http\"".into(), format!("url = {}", quoted(&url))],
                )),
                None => notes.push("HttpGetDispatcher: no url, skipped".into()),
            },
            "UninettMailDispatcher" => transports.push((
                "mail".into(),
                vec![
                    "kind = \"mail\"".into(),
                    format!(
                        "to = {}",
                        quoted(&get("mailaddr").unwrap_or_else(|| "sms@example.org".into()))
                    ),
                    "host = \"localhost\"".into(),
                    "tls = \"none\"".into(),
                    "# sender = \"nav@example.org\"   # NAV used DEFAULT_FROM_EMAIL from nav.conf"
                        .into(),
                ],
            )),
            "BoostDispatcher" => {
                let mut lines = vec!["kind = \"soap\"".to_string()];
                for k in ["url", "username", "password", "sender"] {
                    if let Some(v) = get(k) {
                        lines.push(format!("{k} = {}", quoted(&v)));
                    }
                }
                if get("url").is_none() {
                    notes.push("BoostDispatcher: no url, skipped".into());
                } else {
                    notes.push("BoostDispatcher: check the SOAP call against the service's current API (soap_namespace, soap_action)".into());
                    transports.push(("soap".into(), lines));
                }
            }
            "DebugDispatcher" => transports.push((
                "debug".into(),
                vec![
                    "kind = \"debug\"".into(),
                    format!(
                        "result = {}",
                        quoted(&get("result").unwrap_or_else(|| "success".into()))
                    ),
                ],
            )),
            other => notes.push(format!("[dispatcher] {other}: unknown dispatcher, skipped")),
        }
    }
    if phones.is_empty() && transports.is_empty() {
        notes.push("no dispatcher could be carried over: add a [[phone]] or [[transport]]".into());
    }

    let mut out =
        format!("# smsgw configuration imported from {source} by `smsgw config import-nav`.\n");
    if !notes.is_empty() {
        out.push_str("#\n# Not carried over:\n");
        for n in &notes {
            out.push_str(&format!("#   {n}\n"));
        }
    }
    out.push_str("\n[storage]\n");
    for l in &storage {
        out.push_str(&format!("{l}\n"));
    }
    for p in &phones {
        out.push_str("\n[[phone]]\n");
        for l in p {
            out.push_str(&format!("{l}\n"));
        }
    }
    let ids: Vec<String> = transports
        .iter()
        .enumerate()
        .map(|(i, (kind, _))| format!("{kind}{}", i + 1))
        .collect();
    if transports.len() > 1 {
        out.push_str("\n# NAV's dispatchers, tried in order for each SMS.\n[[transport]]\nid = \"nav\"\nkind = \"failover\"\n");
        out.push_str(&format!(
            "members = [{}]\n",
            ids.iter().map(|i| quoted(i)).collect::<Vec<_>>().join(", ")
        ));
    }
    for ((_, lines), id) in transports.iter().zip(&ids) {
        out.push_str(&format!("\n[[transport]]\nid = {}\n", quoted(id)));
        for l in lines {
            out.push_str(&format!("{l}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, StorageKind, TransportKind};
    use std::path::Path;

    /// NAV's example smsd.conf with two dispatchers enabled.
    const SMSD_CONF: &str = "[main]\n#username = navcron\ndelay: 45\ndelayfactor = 1.5\nmaxdelay = 3600\nretrylimit = 5\nretrylimitaction = ignore\nautocancel = 1 day\nexit_on_permanent_error = yes\n\n[dispatcher]\ndispatcher1 = HttpGetDispatcher\ndispatcher2 = UninettMailDispatcher\ndispatcher3 = NoSuchDispatcher\n\n[HttpGetDispatcher]\nurl = https://smsgw/sms/send?user=me&pass=secret&recv=%(phone)s&msg=%(sms)s\n\n[UninettMailDispatcher]\nmailaddr = sms@uninett.no\n\n[BoostDispatcher]\nurl = https://secure.boostcom.net/axis/services/ExternalSender\nusername = None\n";

    #[test]
    fn navs_config_carries_over_and_checks() {
        let db = "dbhost=db.example.org\ndbport=5433\ndb_nav=nav\nscript_default=nav\nuserpw_nav=verysecret\n";
        let toml = nav_to_toml(SMSD_CONF, Some(db), "/etc/nav/smsd.conf");
        let c = Config::parse(&toml, Path::new("imported.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(c.storage.kind, StorageKind::Nav);
        assert_eq!(
            (
                c.storage.host.as_str(),
                c.storage.port,
                c.storage.user.as_str()
            ),
            ("db.example.org", 5433, "nav")
        );
        assert_eq!(
            (c.storage.delay, c.storage.delay_factor, c.storage.max_delay),
            (45, 1.5, 3600)
        );
        assert_eq!(c.storage.autocancel, "1 day");
        assert!(!toml.contains("verysecret"), "{toml}");
        let kinds: Vec<(String, TransportKind)> = c
            .transports
            .iter()
            .map(|t| (t.id.clone(), t.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("nav".into(), TransportKind::Failover),
                ("http1".into(), TransportKind::Http),
                ("mail2".into(), TransportKind::Mail),
            ]
        );
        assert_eq!(c.transports[0].members, ["http1", "mail2"]);
        assert!(c.transports[1].url.ends_with("recv=%(phone)s&msg=%(sms)s"));
        assert_eq!(c.transports[2].to, "sms@uninett.no");
        assert!(
            toml.contains("[main] retrylimitaction = ignore: NAV dropped the whole queue"),
            "{toml}"
        );
        assert!(
            toml.contains("NoSuchDispatcher: unknown dispatcher"),
            "{toml}"
        );
    }

    #[test]
    fn a_gammu_dispatcher_becomes_a_phone() {
        let toml = nav_to_toml(
            "[dispatcher]\ndispatcher1 = GammuDispatcher\n[GammuDispatcher]\n",
            None,
            "smsd.conf",
        );
        let c = Config::parse(&toml, Path::new("imported.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(c.phones.len(), 1);
        assert!(!c.phones[0].receive);
        assert!(toml.contains("--db-conf"), "{toml}");
    }
}
