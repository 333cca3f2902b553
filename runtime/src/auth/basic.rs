//! HTTP Basic authentication (RFC 7617) against an Apache htpasswd file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use hyper::http::request::Parts;

use super::User;
use crate::{Error, ErrorCode, Hook, HookFuture};

/// Checks `Authorization: Basic ...` against the users of an htpasswd file, in every
/// format Apache's `htpasswd` writes: bcrypt (`-B`, `$2y$`), Apache MD5 (the default,
/// `$apr1$`), SHA-1 (`-s`, `{SHA}`), SHA-256 and SHA-512 crypt (`-2`/`-5`, `$5$`/`$6$`),
/// MD5 crypt (`$1$`) and DES crypt (`-d`). Plain-text passwords are refused when the
/// file is read.
///
/// Let-in connections carry a [`User`]. A request without credentials, or with wrong
/// ones, is refused with `401` and `WWW-Authenticate: Basic realm="..."`, so a browser
/// asks for them. Password hashes are checked on the blocking pool: bcrypt takes
/// milliseconds by design, and must not stall the connections around it.
///
/// The file is read once; a changed file takes a new `BasicAuth` (hat.juggler does the
/// same).
#[derive(Clone)]
pub struct BasicAuth {
    users: Arc<HashMap<String, Hash>>,
    challenge: String,
}

/// A password hash, checked by the crate that knows its format.
#[derive(Clone)]
enum Hash {
    /// `$apr1$` and `{SHA}`: Apache's own formats.
    Apache(String),
    /// The crypt(3) family: `$2y$`, `$5$`, `$6$`, `$1$`, DES.
    Crypt(String),
}

impl Hash {
    fn check(&self, password: &str) -> bool {
        match self {
            Hash::Apache(h) => htpasswd_verify::Hash::parse(h).check(password),
            Hash::Crypt(h) => pwhash::unix::verify(password, h),
        }
    }
}

/// An htpasswd file that cannot be used.
#[derive(Debug)]
pub enum HtpasswdError {
    /// The file could not be read.
    Io(std::path::PathBuf, std::io::Error),
    /// A line is not `user:hash` with a hash in a known format.
    Line {
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
}

impl std::fmt::Display for HtpasswdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HtpasswdError::Io(path, e) => write!(f, "cannot read the htpasswd file {}: {e}", path.display()),
            HtpasswdError::Line { line, problem } => write!(f, "htpasswd line {line}: {problem}"),
        }
    }
}

impl std::error::Error for HtpasswdError {}

const CRYPT64: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Checks that `hash` has the exact shape of a format volley verifies, so that no
/// malformed entry reaches a verifier.
fn classify(hash: &str) -> Result<Hash, String> {
    let crypt64 = |s: &str| s.chars().all(|c| CRYPT64.contains(c));
    if let Some(rest) = hash.strip_prefix("$apr1$") {
        // An 8-character salt, then 22 characters of hash, as htpasswd writes them.
        let ok = rest.len() == 31 && rest.as_bytes()[8] == b'$' && crypt64(&rest[..8]) && crypt64(&rest[9..]);
        return if ok { Ok(Hash::Apache(hash.to_owned())) } else { Err("malformed $apr1$ hash".into()) };
    }
    if let Some(rest) = hash.strip_prefix("{SHA}") {
        let ok = base64::engine::general_purpose::STANDARD.decode(rest).is_ok_and(|d| d.len() == 20);
        return if ok { Ok(Hash::Apache(hash.to_owned())) } else { Err("malformed {SHA} hash".into()) };
    }
    for prefix in ["$2y$", "$2a$", "$2b$"] {
        if let Some(rest) = hash.strip_prefix(prefix) {
            // Two digits of cost, `$`, 53 characters of salt and hash.
            let ok = rest.len() == 56 && rest[..2].chars().all(|c| c.is_ascii_digit()) && &rest[2..3] == "$" && crypt64(&rest[3..]);
            return if ok { Ok(Hash::Crypt(hash.to_owned())) } else { Err("malformed bcrypt hash".into()) };
        }
    }
    for prefix in ["$5$", "$6$", "$1$"] {
        if hash.starts_with(prefix) {
            return match pwhash::unix::crypt("", hash) {
                Ok(_) => Ok(Hash::Crypt(hash.to_owned())),
                Err(e) => Err(format!("malformed {prefix} hash: {e}")),
            };
        }
    }
    if hash.len() == 13 && crypt64(hash) {
        return Ok(Hash::Crypt(hash.to_owned()));
    }
    Err("not a password hash htpasswd writes (plain-text passwords are refused)".into())
}

impl BasicAuth {
    /// Reads the users of an htpasswd file.
    pub fn from_htpasswd_file(path: impl AsRef<Path>) -> Result<Self, HtpasswdError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| HtpasswdError::Io(path.to_owned(), e))?;
        Self::from_htpasswd(&text)
    }

    /// Reads users from htpasswd text: `user:hash` lines; blank lines and lines
    /// starting with `#` are skipped.
    pub fn from_htpasswd(text: &str) -> Result<Self, HtpasswdError> {
        let mut users = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem: String| HtpasswdError::Line { line: n + 1, problem };
            let (user, hash) = line.split_once(':').ok_or_else(|| bad("no `:` between user and hash".into()))?;
            if user.is_empty() {
                return Err(bad("empty user name".into()));
            }
            users.insert(user.to_owned(), classify(hash.trim()).map_err(bad)?);
        }
        Ok(BasicAuth { users: Arc::new(users), challenge: challenge("volley") })
    }

    /// The realm a browser shows when it asks for a password (default `volley`).
    pub fn realm(mut self, realm: &str) -> Self {
        self.challenge = challenge(realm);
        self
    }

    /// The user and password of an `Authorization: Basic` header.
    fn credentials(headers: &hyper::HeaderMap) -> Option<(String, String)> {
        let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let (user, password) = String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))?;
        Some((user, password))
    }

    fn refused(&self, message: &str) -> Error {
        Error::new(ErrorCode::UNAUTHENTICATED, message).with_data(serde_json::json!({ "www_authenticate": self.challenge }))
    }
}

fn challenge(realm: &str) -> String {
    let realm: String = realm.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
    format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")
}

impl Hook for BasicAuth {
    fn before_connection_async<'a>(&'a self, request: &'a mut Parts, _remote: Option<SocketAddr>) -> HookFuture<'a> {
        Box::pin(async move {
            let Some((user, password)) = Self::credentials(&request.headers) else {
                return Err(self.refused("this server needs a user name and password (HTTP Basic authentication)"));
            };
            let Some(hash) = self.users.get(&user).cloned() else {
                return Err(self.refused("wrong user name or password"));
            };
            let ok = tokio::task::spawn_blocking(move || hash.check(&password)).await.unwrap_or(false);
            if !ok {
                return Err(self.refused("wrong user name or password"));
            }
            request.extensions.insert(User { name: user });
            Ok(())
        })
    }
}
