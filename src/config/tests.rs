//! The key table against the parser, and the errors a person sees.

use std::collections::HashSet;
use std::path::Path;

use super::keys::{NONE, REQUIRED};
use super::*;
use crate::pdu::Validity;

/// As `config check` reads a file: the config's own checks, then its transports built.
fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("smsgw.toml"))
        .and_then(|c| crate::transport::check(&c, crate::transport::Secrets::Skip).map(|()| c))
}

/// A config with one phone and one transport so that every section exists.
fn full_defaults() -> toml::Table {
    let cfg = parse("[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n").unwrap();
    let mut v = toml::Table::try_from(&cfg).unwrap();
    let transport: Transport = toml::from_str("id = \"t\"\nkind = \"debug\"").unwrap();
    let transport = toml::Value::try_from(transport).unwrap();
    v.insert("transport".into(), toml::Value::Array(vec![transport]));
    // Nested arrays of tables are listed as sections of their own (`http.user`).
    let user: HttpUser = toml::from_str("name = \"u\"").unwrap();
    v.insert(
        "http.user".into(),
        toml::Value::Array(vec![toml::Value::try_from(user).unwrap()]),
    );
    let account: crate::config::SmppAccount = toml::from_str("system_id = \"u\"").unwrap();
    v.insert(
        "smpp_server.account".into(),
        toml::Value::Array(vec![toml::Value::try_from(account).unwrap()]),
    );
    v
}

fn value_of<'a>(t: &'a toml::Table, section: &str, key: &str) -> Option<&'a toml::Value> {
    let s = t.get(section)?;
    let table = match s {
        toml::Value::Array(a) => a.first()?.as_table()?,
        toml::Value::Table(t) => t,
        _ => return None,
    };
    table.get(key)
}

#[test]
fn the_key_table_lists_exactly_the_keys_the_parser_knows() {
    let t = full_defaults();
    let mut serialized = HashSet::new();
    for (section, v) in &t {
        let tables: Vec<&toml::Table> = match v {
            toml::Value::Array(a) => a.iter().filter_map(|x| x.as_table()).collect(),
            toml::Value::Table(t) => vec![t],
            _ => vec![],
        };
        for table in tables {
            for key in table.keys() {
                serialized.insert(format!("{section}.{key}"));
            }
        }
    }
    let documented: HashSet<String> = KEYS
        .iter()
        .map(|k| format!("{}.{}", k.section, k.name))
        .collect();
    // Optional keys without a default are not serialized; they must still be documented.
    let optional: HashSet<String> = KEYS
        .iter()
        .filter(|k| k.default == NONE)
        .map(|k| format!("{}.{}", k.section, k.name))
        .collect();
    for s in &serialized {
        assert!(documented.contains(s), "{s} is accepted but not in KEYS");
    }
    for d in &documented {
        assert!(
            serialized.contains(d) || optional.contains(d) || ALIASES.contains(&d.as_str()),
            "{d} is in KEYS but not a field"
        );
    }
}

/// Keys that serde reads as another field (`#[serde(alias)]`): documented, never
/// written back.
const ALIASES: [&str; 1] = ["transport.system_id"];

#[test]
fn every_key_has_its_documented_default() {
    let t = full_defaults();
    for k in KEYS {
        if k.default == REQUIRED
            || k.default == NONE
            || ALIASES.contains(&format!("{}.{}", k.section, k.name).as_str())
        {
            continue;
        }
        let want: toml::Value =
            toml::from_str::<toml::Table>(&format!("v = {}", k.default)).unwrap()["v"].clone();
        assert_eq!(
            value_of(&t, k.section, k.name),
            Some(&want),
            "{}.{}",
            k.section,
            k.name
        );
    }
}

fn config_with(k: &Key, value: &str) -> String {
    let base_phone =
        |extra: &str| format!("[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n{extra}");
    match k.section {
        "phone" => {
            let mut fields = vec![("id", "\"m\""), ("device", "\"/dev/null\"")];
            fields.retain(|(n, _)| *n != k.name);
            let mut s = String::from("# a comment\n[[phone]]\n");
            for (n, v) in fields {
                s.push_str(&format!("{n} = {v}\n"));
            }
            s.push_str(&format!("{} = {value}\n", k.name));
            s
        }
        "transport" => {
            let mut s = base_phone("");
            // A debug transport "d" for failover members, then one of the kind that
            // uses the key, with what that kind requires.
            s.push_str("[[transport]]\nid = \"d\"\nkind = \"debug\"\n[[transport]]\n");
            let (kind, needs): (&str, &[(&str, &str)]) = match k.name {
                "host" | "port" | "tls" | "to" | "subject" => {
                    ("mail", &[("to", "\"sms@gw.example.org\"")])
                }
                "soap_method" | "soap_namespace" | "soap_action" => {
                    ("soap", &[("url", "\"http://gw/\"")])
                }
                "result" => ("debug", &[]),
                "system_type" | "system_id" | "address_range" | "interface_version" | "bind"
                | "enquire_link" | "long_messages" | "window" | "default_alphabet" | "rate"
                | "data_coding_overrides" | "receipt_regex" | "receipt_status"
                | "intermediate_notification" | "sme_originated_acks" => {
                    ("smpp", &[("host", "\"smsc.example.org\"")])
                }
                "ca_file" => (
                    "smpp",
                    &[("host", "\"smsc.example.org\""), ("tls", "\"tls\"")],
                ),
                "members" => ("failover", &[]),
                _ => ("http", &[("url", "\"http://gw/\""), ("method", "\"POST\"")]),
            };
            if k.name != "id" {
                s.push_str("id = \"t\"\n");
            }
            if k.name != "kind" {
                s.push_str(&format!("kind = \"{kind}\"\n"));
            }
            for (n, v) in needs {
                if *n != k.name {
                    s.push_str(&format!("{n} = {v}\n"));
                }
            }
            s.push_str(&format!("{} = {value}\n", k.name));
            s
        }
        "inbox_storage" => format!(
            "[storage]\nkind = \"nav\"\n\n[inbox_storage]\n{} = {value}\n",
            k.name
        ),
        "http" if k.name.starts_with("tls_") => {
            // The two go together.
            let other = if k.name == "tls_cert" {
                "tls_key"
            } else {
                "tls_cert"
            };
            format!(
                "[http]\n{other} = \"/etc/smsgw/other.pem\"\n{} = {value}\n",
                k.name
            )
        }
        "http.user" => {
            let mut s = String::from("[http]\nlisten = \"127.0.0.1:13013\"\n\n[[http.user]]\n");
            for (n, v) in [("name", "\"u\""), ("password", "\"p\"")] {
                // A hash instead of the password, not with it.
                if n != k.name && !(n == "password" && k.name == "password_hash") {
                    s.push_str(&format!("{n} = {v}\n"));
                }
            }
            s.push_str(&format!("{} = {value}\n", k.name));
            s
        }
        "smpp_server" if k.name == "tls_listen" => format!(
            "[smpp_server]\ntls_cert = \"/etc/smsgw/c.pem\"\ntls_key = \"/etc/smsgw/k.pem\"\n{} = {value}\n",
            k.name
        ),
        "smpp_server" if k.name.starts_with("tls_") => {
            let other = if k.name == "tls_cert" {
                "tls_key"
            } else {
                "tls_cert"
            };
            format!(
                "[smpp_server]\n{other} = \"/etc/smsgw/other.pem\"\n{} = {value}\n",
                k.name
            )
        }
        "smpp_server.account" => {
            let mut s = String::from(
                "[[phone]]\nid = \"modem1\"\ndevice = \"/dev/null\"\n[smpp_server]\nlisten = \"127.0.0.1:2775\"\n\n[[smpp_server.account]]\n",
            );
            for (n, v) in [("system_id", "\"u\""), ("password", "\"p\"")] {
                if n != k.name {
                    s.push_str(&format!("{n} = {v}\n"));
                }
            }
            s.push_str(&format!("{} = {value}\n", k.name));
            s
        }
        "amqp" if k.name != "url" => format!(
            "[[phone]]\nid = \"modem1\"\ndevice = \"/dev/null\"\n[amqp]\nurl = \"amqp://127.0.0.1/%2f\"\n{} = {value}\n",
            k.name
        ),
        section => format!("# a comment\n\n[{section}]\n{} = {value}\n", k.name),
    }
}

#[test]
fn every_key_accepts_its_example() {
    // The numbers files must exist (the daemon refuses to start without them).
    let numbers = tempfile::NamedTempFile::new().unwrap();
    for k in KEYS {
        let text = config_with(k, k.example)
            .replace(
                "\"/etc/smsgw/include.txt\"",
                &format!("{:?}", numbers.path()),
            )
            .replace(
                "\"/etc/smsgw/exclude.txt\"",
                &format!("{:?}", numbers.path()),
            );
        match parse(&text) {
            Ok(_) => {}
            Err(e) => panic!("{}.{} = {}: {e}", k.section, k.name, k.example),
        }
    }
}

#[test]
fn every_bad_value_names_file_line_and_key() {
    for k in KEYS {
        let text = config_with(k, k.bad);
        let e = parse(&text).expect_err(&format!(
            "{}.{} = {} was accepted",
            k.section, k.name, k.bad
        ));
        let lines: Vec<&str> = text.lines().collect();
        let line = lines
            .iter()
            .rposition(|l| l.starts_with(&format!("{} =", k.name)))
            .unwrap()
            + 1;
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("smsgw.toml:{line}: {}.{}: ", k.section, k.name)),
            "{}.{} = {}: {shown}",
            k.section,
            k.name,
            k.bad
        );
    }
}

#[test]
fn an_smpp_account_receives_from_phones_that_exist() {
    let base = "[[phone]]\nid = \"modem1\"\ndevice = \"/dev/null\"\n[smpp_server]\nlisten = \"127.0.0.1:2775\"\n[[smpp_server.account]]\nsystem_id = \"a\"\npassword = \"p\"\n";
    assert!(parse(&format!("{base}receive = [\"modem1\", \"*\"]\n")).is_ok());
    let e = parse(&format!("{base}receive = [\"modme1\"]\n")).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("smpp_server.account.receive"));
    assert!(
        e.message.contains("\"modme1\" is no phone or transport id"),
        "{e}"
    );
}

#[test]
fn unknown_keys_and_sections_are_errors() {
    let e = parse("[daemon]\nstate_dir = \"/x\"\nstatedir = \"/y\"\n").unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (3, Some("daemon.statedir")));
    assert_eq!(
        e.message,
        "unknown key `statedir`: did you mean `state_dir`?"
    );
    let e = parse("[deamon]\n").unwrap_err();
    assert_eq!(
        e.message,
        "unknown section [deamon]: did you mean [daemon]?"
    );
    let e =
        parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nrecieve_frequency = 5\n").unwrap_err();
    assert!(
        e.message.contains("did you mean `receive_frequency`?"),
        "{e}"
    );
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nzzzzzz = 5\n").unwrap_err();
    assert!(e.message.contains("config check --keys"), "{e}");
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\npinn = \"1\"\n").unwrap_err();
    assert_eq!(
        e.to_string().split(':').take(3).collect::<Vec<_>>(),
        ["smsgw.toml", "4", " phone.pinn"]
    );
}

#[test]
fn checks_beyond_types() {
    let e = parse(
        "[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/y\"\n",
    )
    .unwrap_err();
    assert!(
        e.message.contains("a second phone with the id \"a\""),
        "{e}"
    );
    assert_eq!(e.line, 5, "the second one");
    let e = parse("[[phone]]\ndevice = \"/dev/x\"\n").unwrap_err();
    assert!(e.message.contains("missing field `id`"), "{e}");
    // One modem, one phone: two phones bound to the same IMEI.
    let e = parse(
        "[[phone]]\nid = \"a\"\ndevice = \"imei:490154203237518\"\n[[phone]]\nid = \"b\"\ndevice = \"IMEI:490154203237518\"\n",
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("\"a\" and \"b\" are both bound to IMEI 490154203237518"),
        "{e}"
    );
    assert_eq!((e.key.as_deref(), e.line), (Some("phone.device"), 5));
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"imei:4901542032\"\n").unwrap_err();
    assert!(e.message.contains("an IMEI is 15 digits"), "{e}");
    let e = parse(
        "[daemon]\nmodem_search = [\"dev/ttyUSB*\"]\n[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n",
    )
    .unwrap_err();
    assert!(e.message.contains("write a full path"), "{e}");
    parse("[daemon]\nmodem_search = [\"/dev/serial/by-id/*\"]\n[[phone]]\nid = \"a\"\ndevice = \"iccid:8948011234567890123\"\n[[phone]]\nid = \"b\"\ndevice = \"imei:490154203237518\"\n").unwrap();
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\npin = \"12a4\"\n").unwrap_err();
    assert_eq!(e.line, 4);
    assert!(e.message.contains("4 to 8 digits"), "{e}");
    let e = parse("[receiving]\nexclude_numbers = [\"+48 12x\"]\n").unwrap_err();
    assert!(e.message.contains("not a phone number"), "{e}");
    let e = parse("# nothing yet\n").unwrap_err();
    assert!(e.message.starts_with("the config is empty"), "{e}");
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"ttyUSB0\"\n").unwrap_err();
    assert!(e.message.contains("\"/dev/ttyUSB0\""), "{e}");
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\npin = 1234\n").unwrap_err();
    assert_eq!(e.line, 4);
    assert!(e.message.contains("pin = \"1234\""), "{e}");
    let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nbaud = -1\n").unwrap_err();
    assert!(!e.message.contains("u32"), "no Rust type names: {e}");
    let e = parse("[receiving]\ninclude_numbers_file = \"/nonexistent/allowed\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("receiving.include_numbers_file"));
    assert!(
        e.message.contains("cannot read /nonexistent/allowed"),
        "{e}"
    );
    let e = parse("[gammu]\nport = /dev/ttyUSB0\nconnection = at\n[smsd]\nservice = files\n")
        .unwrap_err();
    assert!(e.message.contains("smsgw config import-gammu"), "{e}");
}

#[test]
fn errors_after_non_ascii_text_name_the_right_line() {
    let e = parse("# zażółć gęślą jaźń 😀\n[daemon]\nlog_level = 5\n").unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (3, Some("daemon.log_level")));
}

#[test]
fn a_missing_file_says_so() {
    let e = Config::load(Path::new("/nonexistent/smsgw.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/smsgw.toml: cannot read the config"),
        "{e}"
    );
}

#[test]
fn validity_round_trips() {
    let c = parse("[sending]\nvalidity = \"DAY\"\n").unwrap();
    assert_eq!(c.sending.validity, Validity::Relative(167));
}
