//! Bearer tokens (RFC 6750), checked by a function of the application's.

use std::future::Future;
use std::net::SocketAddr;

use hyper::http::request::Parts;

use crate::{Error, ErrorCode, Hook, HookFuture};

/// Checks a bearer token with an async function of yours, which returns who the token
/// belongs to (any `Clone + Send + Sync` type, attached to the connection) or an error
/// (`UNAUTHENTICATED` gives `401`, `PERMISSION_DENIED` `403`):
///
/// ```
/// use volley::{auth::BearerAuth, Error, ErrorCode};
///
/// #[derive(Clone)]
/// struct Account { id: u64 }
///
/// let auth = BearerAuth::new(|token: String| async move {
///     match token.as_str() {
///         "secret-1" => Ok(Account { id: 1 }),
///         _ => Err(Error::new(ErrorCode::UNAUTHENTICATED, "unknown token")),
///     }
/// });
/// let router = volley::Router::new().hook(auth);
/// ```
///
/// The token is taken from, in this order: an `Authorization: Bearer ...` header; the
/// `access_token` query parameter of the request (RFC 6750 section 2.3, the way for
/// browsers, whose WebSocket cannot send headers: `wss://host/?access_token=...`); and,
/// if set with [`cookie`](Self::cookie), a cookie. A request with none is refused,
/// unless [`optional`](Self::optional) lets it in anonymously.
pub struct BearerAuth<F> {
    check: F,
    cookie: Option<String>,
    optional: bool,
}

impl<F, Fut, T> BearerAuth<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// Checks tokens with `check`.
    pub fn new(check: F) -> Self {
        BearerAuth { check, cookie: None, optional: false }
    }

    /// Also takes the token from the cookie `name` (with an origin check,
    /// [`Server::allowed_origins`](crate::Server::allowed_origins), since browsers send
    /// cookies along with cross-site requests).
    pub fn cookie(mut self, name: &str) -> Self {
        self.cookie = Some(name.to_owned());
        self
    }

    /// Lets requests without a token in (a wrong token is still refused); handlers see
    /// no `T` on their connection.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    fn token(&self, request: &Parts) -> Option<String> {
        let header = request.headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some((scheme, token)) = header.and_then(|v| v.trim().split_once(' ')) {
            if scheme.eq_ignore_ascii_case("bearer") {
                return Some(token.trim().to_owned());
            }
        }
        let query = request.uri.query().unwrap_or("");
        if let Some(token) = form_urlencoded::parse(query.as_bytes()).find_map(|(k, v)| (k == "access_token").then(|| v.into_owned())) {
            return Some(token);
        }
        let name = self.cookie.as_deref()?;
        request.headers.get_all(hyper::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
            line.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                (k == name).then(|| v.to_owned())
            })
        })
    }
}

impl<F, Fut, T> Hook for BearerAuth<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    fn before_connection_async<'a>(&'a self, request: &'a mut Parts, _remote: Option<SocketAddr>) -> HookFuture<'a> {
        Box::pin(async move {
            let Some(token) = self.token(request) else {
                if self.optional {
                    return Ok(());
                }
                return Err(Error::new(ErrorCode::UNAUTHENTICATED, "this server needs a bearer token")
                    .with_data(serde_json::json!({ "www_authenticate": "Bearer" })));
            };
            let who = (self.check)(token).await?;
            request.extensions.insert(who);
            Ok(())
        })
    }
}
