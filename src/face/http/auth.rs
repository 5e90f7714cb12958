//! Who is asking: `[[http.user]]` by name and password (Kannel's parameters, HTTP basic)
//! or by token (`Authorization: Bearer`), compared in constant time; and each user's rate
//! limit (a token bucket of one second's worth).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::HeaderMap;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use crate::config::{Config, HttpUser};

/// Whether `a` and `b` are equal, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The user with this name and password. Every plain password is compared, so the time
/// taken does not tell which names exist; a `password_hash` is checked with argon2 (once
/// per password: a right one is remembered by its SHA-256, so that Kannel's clients, which
/// send the password with every message, do not pay argon2 each time).
pub fn by_password<'c>(cfg: &'c Config, name: &str, password: &str) -> Option<&'c HttpUser> {
    let mut found = None;
    for u in &cfg.http.users {
        let ok = same(&u.name, name) & !u.password.is_empty() & same(&u.password, password);
        if ok && found.is_none() {
            found = Some(u);
        }
    }
    if found.is_none() {
        found = cfg
            .http
            .users
            .iter()
            .find(|u| !u.password_hash.is_empty() && u.name == name)
            .filter(|u| hash_matches(u, password));
    }
    found
}

/// A user (name and hash) and the SHA-256 of a password that matched the hash.
type Verified = std::collections::HashSet<(String, [u8; 32])>;

/// Passwords that matched their hash.
static VERIFIED: std::sync::LazyLock<Mutex<Verified>> = std::sync::LazyLock::new(Mutex::default);

fn hash_matches(u: &HttpUser, password: &str) -> bool {
    use argon2::PasswordVerifier;
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(password.as_bytes()).into();
    let key = (format!("{}\0{}", u.name, u.password_hash), digest);
    let mut seen = VERIFIED.lock().unwrap_or_else(|p| p.into_inner());
    if seen.contains(&key) {
        return true;
    }
    let ok = argon2::PasswordHash::new(&u.password_hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    if ok {
        seen.insert(key);
    }
    ok
}

/// A PHC string of `password` (argon2id, a random salt), for `password_hash`.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn by_token<'c>(cfg: &'c Config, token: &str) -> Option<&'c HttpUser> {
    let mut found = None;
    for u in &cfg.http.users {
        if !u.token.is_empty() && same(&u.token, token) && found.is_none() {
            found = Some(u);
        }
    }
    found
}

/// What the `Authorization` header says.
pub enum Credentials {
    None,
    Basic {
        name: String,
        password: String,
    },
    Bearer(String),
    /// Present but not readable.
    Malformed,
}

pub fn credentials(headers: &HeaderMap) -> Credentials {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Credentials::None;
    };
    let Ok(value) = value.to_str() else {
        return Credentials::Malformed;
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Bearer(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((name, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Credentials::Basic {
                name: name.to_string(),
                password: password.to_string(),
            };
        }
    }
    Credentials::Malformed
}

/// The user the header names, if the credentials are right.
pub fn from_headers<'c>(cfg: &'c Config, headers: &HeaderMap) -> Option<&'c HttpUser> {
    match credentials(headers) {
        Credentials::Basic { name, password } => by_password(cfg, &name, &password),
        Credentials::Bearer(t) => by_token(cfg, &t),
        Credentials::None | Credentials::Malformed => None,
    }
}

/// Each user's token bucket: `rate` messages per second, bursts of one second's worth
/// (at least one message).
#[derive(Default)]
pub struct Limits(Mutex<HashMap<String, (f64, Instant)>>);

impl Limits {
    /// Takes `n` messages from the bucket of `key` (a user, an account) filled at `rate`
    /// per second (0: no limit); `Err(seconds)` to wait when it has too few.
    pub fn take(&self, key: &str, rate: f64, n: usize) -> Result<(), f64> {
        if rate <= 0.0 {
            return Ok(());
        }
        let capacity = rate.max(1.0);
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(key) {
            map.insert(key.to_string(), (capacity, now));
        }
        let Some((tokens, at)) = map.get_mut(key) else {
            return Ok(());
        };
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(capacity);
        *at = now;
        let n = n as f64;
        if *tokens >= n {
            *tokens -= n;
            Ok(())
        } else {
            Err(((n - *tokens) / rate).max(0.001))
        }
    }
}

/// `resp` with `Retry-After`: the whole seconds to wait that [`Limits::take`] gave.
pub fn retry_after(mut resp: axum::response::Response, wait: f64) -> axum::response::Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("{}", wait.ceil() as u64)) {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::parse(
            "[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n[http]\nlisten = \"127.0.0.1:1\"\n[[http.user]]\nname = \"a\"\npassword = \"pw\"\n[[http.user]]\nname = \"b\"\ntoken = \"tok\"\nrate = 2.0\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    #[test]
    fn users_by_password_or_token() {
        let c = cfg();
        assert_eq!(
            by_password(&c, "a", "pw").map(|u| u.name.as_str()),
            Some("a")
        );
        assert!(by_password(&c, "a", "p").is_none());
        assert!(
            by_password(&c, "b", "").is_none(),
            "no password: no login by password"
        );
        assert_eq!(by_token(&c, "tok").map(|u| u.name.as_str()), Some("b"));
        assert!(by_token(&c, "").is_none());
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic YTpwdw==".parse().unwrap()); // a:pw
        assert_eq!(from_headers(&c, &h).map(|u| u.name.as_str()), Some("a"));
        h.insert("authorization", "Bearer tok".parse().unwrap());
        assert_eq!(from_headers(&c, &h).map(|u| u.name.as_str()), Some("b"));
        h.insert("authorization", "Basic !!!".parse().unwrap());
        assert!(from_headers(&c, &h).is_none());
    }

    #[test]
    fn a_password_hash_stands_for_the_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let c = Config::parse(
            &format!("[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n[http]\nlisten = \"127.0.0.1:1\"\n[[http.user]]\nname = \"h\"\npassword_hash = \"{hash}\"\n"),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        assert!(by_password(&c, "h", "wrong").is_none());
        assert_eq!(
            by_password(&c, "h", "correct horse").map(|u| u.name.as_str()),
            Some("h")
        );
        // Remembered: the second time costs no argon2 (and still needs the right one).
        assert!(by_password(&c, "h", "correct horse").is_some());
        assert!(by_password(&c, "h", "correct horsf").is_none());
        assert!(by_password(&c, "x", "correct horse").is_none());
    }

    #[test]
    fn a_rate_limit_allows_a_second_s_worth_then_refuses() {
        let c = cfg();
        let b = &c.http.users[1];
        let l = Limits::default();
        assert!(l.take(&b.name, b.rate, 2).is_ok());
        let wait = l.take(&b.name, b.rate, 1).unwrap_err();
        assert!(wait > 0.0 && wait <= 0.5, "{wait}");
        let a = &c.http.users[0];
        assert!(l.take(&a.name, a.rate, 1000).is_ok(), "no rate: no limit");
    }
}
