//! Templates for URLs, bodies, headers and mail fields: `{phone}`, `{text}`, `{sender}`,
//! `{username}`, `{password}`, `{id}`, and NAV's `%(phone)s` / `%(sms)s` (with `%%` for a
//! literal `%`). Each value is escaped for where it lands: a URL, a form body, JSON, XML, or
//! nothing (mail). Anything else between braces (a JSON body's `{"to": ...}`) is literal.

/// How values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// RFC 3986 percent-encoding of everything but unreserved characters (`+` → `%2B`,
    /// space → `%20`): safe in a path or a query.
    Url,
    /// `application/x-www-form-urlencoded` (space → `+`, `+` → `%2B`).
    Form,
    /// Inside a JSON string (quotes, backslashes, control characters).
    Json,
    /// XML character data (`& < > " '`).
    Xml,
    /// As is (mail headers and bodies; CR and LF are refused in headers by the mailer).
    None,
}

/// The placeholders a template may use.
pub const NAMES: &[&str] = &["phone", "text", "sender", "username", "password", "id"];

/// The values of one message.
#[derive(Debug, Clone, Default)]
pub struct Values<'a> {
    pub phone: &'a str,
    pub text: &'a str,
    pub sender: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// The storage's id of the message.
    pub id: &'a str,
}

impl Values<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "phone" => self.phone,
            "text" | "sms" => self.text,
            "sender" => self.sender,
            "username" => self.username,
            "password" => self.password,
            "id" => self.id,
            _ => return None,
        })
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Value(String),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Template {
    /// Parses `text`; an unknown `{name}` made only of letters is an error (a typo would
    /// otherwise be sent to the gateway as is), as is a NAV `%(x)s` other than phone/sms.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let inner: String = rest[1..].chars().take_while(|&c| is_name_char(c)).collect();
                if !inner.is_empty() && rest[1 + inner.len()..].starts_with('}') {
                    if !NAMES.contains(&inner.as_str()) {
                        return Err(format!(
                            "unknown placeholder {{{inner}}}: use {}",
                            NAMES
                                .iter()
                                .map(|n| format!("{{{n}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                    pieces.push(Piece::Value(inner.clone()));
                    rest = &rest[inner.len() + 2..];
                    continue;
                }
            } else if c == '%' {
                if let Some(after) = rest.strip_prefix("%%") {
                    lit.push('%');
                    rest = after;
                    continue;
                }
                if let Some(after) = rest.strip_prefix("%(") {
                    let Some((name, tail)) = after.split_once(")s") else {
                        return Err(format!("unfinished NAV placeholder in {rest:?}"));
                    };
                    let name = match name {
                        "phone" => "phone",
                        "sms" => "text",
                        other => {
                            return Err(format!(
                                "unknown NAV placeholder %({other})s: use %(phone)s or %(sms)s"
                            ))
                        }
                    };
                    pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                    pieces.push(Piece::Value(name.into()));
                    rest = tail;
                    continue;
                }
            }
            lit.push(c);
            rest = &rest[c.len_utf8()..];
        }
        pieces.push(Piece::Literal(lit));
        pieces.retain(|p| !matches!(p, Piece::Literal(l) if l.is_empty()));
        Ok(Template(pieces))
    }

    /// Whether the template uses `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, Piece::Value(n) if n == name))
    }

    /// The text with every placeholder replaced by its escaped value.
    pub fn render(&self, values: &Values, escape: Escape) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Value(n) => out.push_str(&escaped(values.get(n).unwrap_or(""), escape)),
            }
        }
        out
    }
}

/// `value` escaped for `escape`.
pub fn escaped(value: &str, escape: Escape) -> String {
    match escape {
        Escape::Url => percent(value, false),
        Escape::Form => percent(value, true),
        Escape::Json => {
            let quoted = serde_json::Value::String(value.to_string()).to_string();
            quoted[1..quoted.len() - 1].to_string()
        }
        Escape::Xml => {
            let mut s = String::with_capacity(value.len());
            for c in value.chars() {
                match c {
                    '&' => s.push_str("&amp;"),
                    '<' => s.push_str("&lt;"),
                    '>' => s.push_str("&gt;"),
                    '"' => s.push_str("&quot;"),
                    '\'' => s.push_str("&apos;"),
                    c => s.push(c),
                }
            }
            s
        }
        Escape::None => value.to_string(),
    }
}

fn percent(value: &str, form: bool) -> String {
    let mut s = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                s.push(b as char)
            }
            b' ' if form => s.push('+'),
            b => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            phone: "+4799990000",
            text: "Link down: a&b 50% <x> \"q\" æ",
            ..Values::default()
        }
    }

    #[test]
    fn nav_url_templates_work_and_plus_is_escaped() {
        let t = Template::parse("https://gw/send?recv=%(phone)s&msg=%(sms)s&pct=100%%").unwrap();
        assert_eq!(
            t.render(&values(), Escape::Url),
            "https://gw/send?recv=%2B4799990000&msg=Link%20down%3A%20a%26b%2050%25%20%3Cx%3E%20%22q%22%20%C3%A6&pct=100%"
        );
    }

    #[test]
    fn json_bodies_keep_their_braces() {
        let t = Template::parse(r#"{"to": "{phone}", "body": "{text}"}"#).unwrap();
        assert_eq!(
            t.render(&values(), Escape::Json),
            r#"{"to": "+4799990000", "body": "Link down: a&b 50% <x> \"q\" æ"}"#
        );
    }

    #[test]
    fn form_and_xml_escaping() {
        let t = Template::parse("To={phone}&Body={text}").unwrap();
        assert_eq!(
            t.render(&values(), Escape::Form),
            "To=%2B4799990000&Body=Link+down%3A+a%26b+50%25+%3Cx%3E+%22q%22+%C3%A6"
        );
        let t = Template::parse("<text>{text}</text>").unwrap();
        assert_eq!(
            t.render(&values(), Escape::Xml),
            "<text>Link down: a&amp;b 50% &lt;x&gt; &quot;q&quot; æ</text>"
        );
    }

    #[test]
    fn typos_are_refused() {
        assert!(Template::parse("{phon}").unwrap_err().contains("{phone}"));
        assert!(Template::parse("%(number)s").is_err());
        assert!(Template::parse("%(phone").is_err());
        assert!(Template::parse("{ not a name }").is_ok());
        assert!(Template::parse("").unwrap().0.is_empty());
    }
}
