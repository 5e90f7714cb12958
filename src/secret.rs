//! Secrets (a database's or a gateway's password): given in the config, in a file (its
//! first line), or in an environment variable the config names. Read where they are used,
//! after any drop of privileges; never logged.

use std::path::Path;

/// Whether a transport is built with its password read (for sending) or with a placeholder
/// (to check the rest of a config: programs that only read the config, such as `inject`
/// run by a web application, need not be able to read the secrets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    Read,
    Skip,
}

/// The secret from the environment variable `env`, else the first line of `file`, else
/// `inline` (`None` when all three are empty). Errors name the key (`prefix` + `password_env`
/// or `password_file`) and never the secret.
pub fn resolve(
    prefix: &str,
    inline: &str,
    file: &Path,
    env: &str,
) -> Result<Option<String>, String> {
    if !env.is_empty() {
        return std::env::var(env)
            .map(Some)
            .map_err(|_| format!("{prefix}password_env: {env:?} is not set in the environment"));
    }
    if !file.as_os_str().is_empty() {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("{prefix}password_file: {}: {e}", file.display()))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    Ok((!inline.is_empty()).then(|| inline.to_string()))
}
