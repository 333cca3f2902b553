//! Authentication over real sockets: HTTP Basic from an htpasswd file in each format
//! Apache's htpasswd writes, bearer tokens checked by an async function (header, query
//! string, cookie), and async hooks around connections and calls.

use crate::common;

use common::{header, http, serve_server as serve_with};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use volley::auth::{BasicAuth, BearerAuth, User};
use volley::{rpc, Client, Context, Error, ErrorCode, Hook, HookFuture, Router, Server};

/// The user Basic authentication let in.
#[rpc]
async fn whoami(ctx: Context) -> String {
    ctx.extension::<User>().map(|u| u.name).unwrap_or_default()
}

/// Who a bearer token belongs to.
#[derive(Clone, Debug)]
struct Account {
    id: u64,
}

/// The account a bearer token let in.
#[rpc]
async fn account(ctx: Context) -> Option<u64> {
    ctx.extension::<Account>().map(|a| a.id)
}

/// Answers at once.
#[rpc]
async fn ping() -> String {
    "pong".into()
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// One user per format htpasswd writes; the hashes of the fixed vectors are what
/// Apache's tools print for them, the others are made here by the crypt crate.
#[allow(deprecated)] // DES crypt: old, but htpasswd -d still writes it.
fn htpasswd() -> String {
    format!(
        "# users\n\
         apr:$apr1$lZL6V/ci$eIMz/iKDkbtys/uU7LEK00\n\
         sha:{{SHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n\
         bcrypt:{}\n\
         sha512:{}\n\
         des:{}\n\r\n",
        pwhash::bcrypt::hash("password").unwrap().replacen("$2b$", "$2y$", 1),
        pwhash::sha512_crypt::hash("password").unwrap(),
        pwhash::unix_crypt::hash("password").unwrap(),
    )
}

#[tokio::test]
async fn basic_auth_accepts_every_htpasswd_format_and_names_the_user() {
    let auth = BasicAuth::from_htpasswd(&htpasswd()).unwrap().realm("the lab");
    let addr = serve_with(Server::new(Router::new().rpc::<whoami>().hook(auth))).await;
    for user in ["apr", "sha", "bcrypt", "sha512", "des"] {
        let client = Client::builder(&common::url(addr)).header("authorization", &basic(user, "password")).connect().await;
        let client = client.unwrap_or_else(|e| panic!("{user}: {}", e.message));
        assert_eq!(client.call::<String>("whoami", &serde_json::json!({})).await.unwrap(), user);
        let wrong = Client::builder(&common::url(addr)).header("authorization", &basic(user, "Password")).connect().await;
        assert!(wrong.err().expect("a wrong password is refused").message.contains("401"));
    }
    // No credentials, an unknown user: 401 with a challenge a browser answers.
    assert!(Client::connect(&common::url(addr)).await.err().unwrap().message.contains("401"));
    let (status, headers, _) = http(addr, "GET", "/schema", &[("Authorization", &basic("nobody", "password"))]).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "www-authenticate"), Some("Basic realm=\"the lab\", charset=\"UTF-8\""));
    assert_eq!(header(&headers, "volley-error-code"), Some("401"));
    // The schema is behind the same check; health is not (load balancers).
    assert_eq!(http(addr, "GET", "/schema", &[("Authorization", &basic("apr", "password"))]).await.0, 200);
    assert_eq!(http(addr, "GET", "/healthz", &[]).await.0, 200);
    // Garbage in the header is a refusal, not a failure.
    assert_eq!(http(addr, "GET", "/schema", &[("Authorization", "Basic %%%not-base64")]).await.0, 401);
}

#[test]
fn a_bad_htpasswd_line_is_named() {
    let e = BasicAuth::from_htpasswd("ok:$apr1$lZL6V/ci$eIMz/iKDkbtys/uU7LEK00\nplain:secret\n").err().unwrap();
    assert_eq!(e.to_string(), "htpasswd line 2: not a password hash htpasswd writes (plain-text passwords are refused)");
    let e = BasicAuth::from_htpasswd("short:$apr1$abc$def\n").err().unwrap();
    assert!(e.to_string().contains("line 1: malformed $apr1$ hash"), "{e}");
    assert!(BasicAuth::from_htpasswd("nocolon\n").err().unwrap().to_string().contains("no `:`"));
    let missing = BasicAuth::from_htpasswd_file("/nonexistent/htpasswd").err().unwrap();
    assert!(missing.to_string().contains("/nonexistent/htpasswd"), "{missing}");
}

fn bearer_server(checked: Arc<AtomicUsize>) -> Server {
    let auth = BearerAuth::new(move |token: String| {
        let checked = checked.clone();
        async move {
            // A lookup that waits, as a database would.
            tokio::time::sleep(Duration::from_millis(20)).await;
            checked.fetch_add(1, Ordering::SeqCst);
            match token.as_str() {
                "t-1" => Ok(Account { id: 1 }),
                "t-banned" => Err(Error::new(ErrorCode::PERMISSION_DENIED, "this account is suspended")),
                _ => Err(Error::new(ErrorCode::UNAUTHENTICATED, "unknown token")),
            }
        }
    })
    .cookie("session");
    Server::new(Router::new().rpc::<account>().hook(auth))
}

#[tokio::test]
async fn bearer_tokens_from_the_header_the_query_string_or_a_cookie() {
    let checked = Arc::new(AtomicUsize::new(0));
    let addr = serve_with(bearer_server(checked.clone())).await;
    let url = common::url(addr);
    for client in [
        Client::builder(&url).header("authorization", "Bearer t-1").connect().await.unwrap(),
        Client::builder(&format!("{url}/?access_token=t-1")).connect().await.unwrap(),
        Client::builder(&url).header("cookie", "theme=dark; session=t-1").connect().await.unwrap(),
    ] {
        assert_eq!(client.call::<Option<u64>>("account", &serde_json::json!({})).await.unwrap(), Some(1));
    }
    assert_eq!(checked.load(Ordering::SeqCst), 3, "one check per connection");
    let refused = |r: Result<Client, Error>| r.err().expect("refused").message;
    assert!(refused(Client::connect(&url).await).contains("401"));
    let wrong = refused(Client::builder(&url).header("authorization", "Bearer nope").connect().await);
    assert!(wrong.contains("HTTP 401 Unauthorized (volley error code 401): volley: unknown token"), "{wrong}");
    assert!(refused(Client::builder(&url).header("authorization", "Bearer t-banned").connect().await).contains("403"));
    let (status, headers, _) = http(addr, "GET", "/schema", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "www-authenticate"), Some("Bearer"));
}

/// Async hooks: a connection check and a call check that wait, and one that panics.
struct Slow {
    panics: bool,
}

impl Hook for Slow {
    fn before_connection_async<'a>(&'a self, request: &'a mut volley::axum::http::request::Parts, _: Option<SocketAddr>) -> HookFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            match request.headers.get("x-key") {
                Some(k) if k == "open-sesame" => Ok(()),
                _ => Err(Error::new(ErrorCode::UNAUTHENTICATED, "say the word")),
            }
        })
    }

    fn before_request_async<'a>(&'a self, ctx: &'a Context) -> HookFuture<'a> {
        Box::pin(async move {
            if ctx.method() == "whoami" {
                if self.panics {
                    panic!("the check broke");
                }
                // Slow enough that a quick call after it overtakes it.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return Err(Error::new(ErrorCode::PERMISSION_DENIED, "not today"));
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn async_hooks_wait_without_holding_other_calls() {
    let addr = serve_with(Server::new(Router::new().rpc::<whoami>().rpc::<ping>().hook(Slow { panics: false }))).await;
    let url = common::url(addr);
    assert!(Client::connect(&url).await.err().unwrap().message.contains("401"));
    let client = Client::builder(&url).header("x-key", "open-sesame").connect().await.unwrap();
    let slow = {
        let client = client.clone();
        tokio::spawn(async move { client.call::<String>("whoami", &serde_json::json!({})).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The quick call overtakes the one whose check is still waiting.
    assert_eq!(client.call::<String>("ping", &serde_json::json!({})).await.unwrap(), "pong");
    assert!(!slow.is_finished(), "the slow check is still waiting");
    let e = slow.await.unwrap().unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::PERMISSION_DENIED, "not today"));
}

#[tokio::test]
async fn a_panicking_async_hook_fails_its_call_only() {
    let addr = serve_with(Server::new(Router::new().rpc::<whoami>().rpc::<ping>().hook(Slow { panics: true }))).await;
    let client = Client::builder(&common::url(addr)).header("x-key", "open-sesame").connect().await.unwrap();
    let e = client.call::<String>("whoami", &serde_json::json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INTERNAL);
    assert_eq!(client.call::<String>("ping", &serde_json::json!({})).await.unwrap(), "pong");
}
