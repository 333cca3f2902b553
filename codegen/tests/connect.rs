//! The connection options every command that reaches a server shares (`-H`,
//! `--cacert`), and where the schema of an endpoint at a path is found: `volley schema`,
//! `volley generate` and `volley call` against live servers over wss://, behind an
//! authentication hook, at `.path("/ws")` and mounted in an axum app under `/rpc`.

mod live;

use std::net::SocketAddr;
use std::process::Output;

use live::{scratch, serve_app, serve_tls, serve_with, text, volley};
use volley::{Error, ErrorCode, HeaderMap, Hook};

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}; stderr:\n{}", o.status.code(), text(&o.stderr));
}

/// Asserts the command failed with exit code 1 and that stderr holds every phrase.
fn assert_fails(o: &Output, phrases: &[&str]) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "expected exit code 1; stderr:\n{err}");
    for p in phrases {
        assert!(err.contains(p), "stderr lacks {p:?}:\n{err}");
    }
}

/// The printed schema's service name.
fn printed_name(o: &Output) -> String {
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("volley schema prints JSON");
    doc["name"].as_str().unwrap_or_default().to_owned()
}

/// Lets in only connections (and, in the standalone server, HTTP requests) that carry
/// `Authorization: Bearer t`.
struct RequireToken;

impl Hook for RequireToken {
    fn before_connection(&self, headers: &HeaderMap, _: Option<SocketAddr>) -> Result<(), Error> {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            Some("Bearer t") => Ok(()),
            Some(_) => Err(Error::new(ErrorCode::PERMISSION_DENIED, "that token is not welcome here")),
            None => Err(Error::new(ErrorCode::UNAUTHENTICATED, "a bearer token is required")),
        }
    }
}

#[test]
fn schema_and_generate_over_wss_trust_the_cacert_and_name_a_refused_certificate() {
    let dir = scratch("tls");
    let (url, cert) = serve_tls(calculator::router(), &dir, "ca", &["127.0.0.1", "localhost"]);
    let ca = cert.to_str().unwrap();
    let https = url.replace("wss://", "https://");

    for source in [url.as_str(), https.as_str()] {
        let o = volley(&["schema", "--cacert", ca, source], "");
        assert_ok(&o);
        assert_eq!(printed_name(&o), "calculator");
    }
    let out = dir.join("sdk");
    let o = volley(&["generate", "python", "--schema", &url, "--cacert", ca, "--out", out.to_str().unwrap()], "");
    assert_ok(&o);
    assert!(out.join("pyproject.toml").is_file());

    // Without the CA: the system does not know the issuer, and the error says so and
    // what to do about it.
    let unknown = ["cannot fetch schema from https://127.0.0.1:", "/schema", "unknown issuer (UnknownIssuer)", "--cacert FILE"];
    assert_fails(&volley(&["schema", &url], ""), &unknown);
    let refused = dir.join("refused");
    assert_fails(&volley(&["generate", "typescript", "--schema", &https, "--out", refused.to_str().unwrap()], ""), &unknown);
    assert!(!refused.exists(), "nothing is written when the schema cannot be fetched");

    // A CA that did not issue the server's certificate is named as not trusted.
    let (other, _) = live::self_signed(&dir, "other", &["127.0.0.1"]);
    assert_fails(
        &volley(&["schema", "--cacert", other.to_str().unwrap(), &url], ""),
        &["UnknownIssuer", &format!("nor by {}", other.display())],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_certificate_for_another_host_name_is_named() {
    let dir = scratch("tls-name");
    let (url, cert) = serve_tls(calculator::router(), &dir, "localhost-only", &["localhost"]);
    let ca = cert.to_str().unwrap();
    assert_fails(
        &volley(&["schema", "--cacert", ca, &url], ""),
        &["not valid for the host name `127.0.0.1`", "NotValidForName"],
    );
    assert_fails(
        &volley(&["call", "--cacert", ca, &url, "add", r#"{"a":1,"b":2}"#], ""),
        &["not valid for name \"127.0.0.1\"", "connect with a name the certificate holds"],
    );
    // By the name the certificate holds, it is fine.
    let by_name = url.replace("127.0.0.1", "localhost");
    let o = volley(&["schema", "--cacert", ca, &by_name], "");
    assert_ok(&o);
    assert_eq!(printed_name(&o), "calculator");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unusable_cacert_file_is_named_by_every_command() {
    let dir = scratch("bad-ca");
    let (url, cert) = serve_tls(calculator::router(), &dir, "ca", &["127.0.0.1"]);
    let key = dir.join("ca-key.pem");
    let missing = dir.join("missing.pem");
    let missing_s = missing.to_str().unwrap();
    let key_s = key.to_str().unwrap();
    let out = dir.join("sdk");
    let out_s = out.to_str().unwrap();
    let commands: [Vec<&str>; 3] = [
        vec!["schema", &url],
        vec!["generate", "typescript", "--schema", &url, "--out", out_s],
        vec!["call", &url, "add", r#"{"a":1,"b":2}"#],
    ];
    for command in &commands {
        let with = |file: &str| {
            let mut args = command.clone();
            args.extend(["--cacert", file]);
            volley(&args, "")
        };
        assert_fails(&with(missing_s), &[&format!("cannot use --cacert {missing_s}: "), "No such file"]);
        assert_fails(&with(key_s), &[&format!("cannot use --cacert {key_s}: it holds no PEM certificate")]);
        assert_ok(&with(cert.to_str().unwrap()));
    }
    assert!(out.join("package.json").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn headers_reach_the_hook_that_guards_the_schema_and_the_socket() {
    // The standalone server runs the hook's `before_connection` for `GET /schema` too.
    let url = serve_with(volley::Server::new(calculator::router().hook(RequireToken)), "ws");
    let http = url.replace("ws://", "http://");

    let o = volley(&["schema", "-H", "Authorization: Bearer t", &url], "");
    assert_ok(&o);
    assert_eq!(printed_name(&o), "calculator");
    let out = scratch("hooked").join("sdk");
    let o = volley(&["generate", "typescript", "--schema", &http, "--out", out.to_str().unwrap(), "-H", "Authorization: Bearer t"], "");
    assert_ok(&o);
    assert!(out.join("package.json").is_file());

    // Without it: the status, the server's own words and its error code.
    let without = volley(&["schema", &url], "");
    assert_fails(
        &without,
        &[
            "cannot fetch schema from http://127.0.0.1:",
            "the server answered `401 Unauthorized`: volley: a bearer token is required",
            "(volley error UNAUTHENTICATED, 401)",
            "pass credentials with -H 'Name: value'",
        ],
    );
    let refused = scratch("hooked-refused").join("sdk");
    assert_fails(
        &volley(&["generate", "python", "--schema", &url, "--out", refused.to_str().unwrap()], ""),
        &["401 Unauthorized", "a bearer token is required"],
    );
    assert!(!refused.exists());
    assert_fails(
        &volley(&["schema", "-H", "Authorization: Bearer wrong", &url], ""),
        &["`403 Forbidden`: volley: that token is not welcome here", "PERMISSION_DENIED", "refused the credentials given with -H"],
    );

    // `volley call` sends the same headers on the upgrade.
    let o = volley(&["call", "-H", "Authorization: Bearer t", &url, "add", r#"{"a":1,"b":2}"#], "");
    assert_ok(&o);
    assert_eq!(text(&o.stdout).trim(), "3");
    assert_fails(&volley(&["call", &url, "add", r#"{"a":1,"b":2}"#], ""), &["401", "pass them with -H 'Name: value'"]);

    // A header that is not `Name: value` is a usage error.
    let o = volley(&["schema", "-H", "Authorization Bearer t", &url], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not `Name: value`"), "{}", text(&o.stderr));
}

#[test]
fn an_endpoint_at_a_path_finds_its_schema() {
    // Standalone, with the WebSocket at `/ws`: the schema stays at `/schema`.
    let url = serve_with(volley::Server::new(calculator::router()).path("/ws"), "ws");
    let ws = format!("{url}ws");
    let o = volley(&["schema", &ws], "");
    assert_ok(&o);
    assert_eq!(printed_name(&o), "calculator");

    // Behind a hook, `/ws/schema` is refused before it is found missing: the refusal is
    // what the user needs to hear, and with the token the schema is found above.
    let guarded = serve_with(volley::Server::new(calculator::router().hook(RequireToken)).path("/ws"), "ws");
    let ws = format!("{guarded}ws");
    assert_fails(&volley(&["schema", &ws], ""), &["/ws/schema", "401 Unauthorized"]);
    assert_ok(&volley(&["schema", "-H", "Authorization: Bearer t", &ws], ""));

    // Mounted in an axum app under `/rpc`: the WebSocket is `/rpc`, the schema
    // `/rpc/schema`, and the app's own `/schema` is something else entirely.
    let volley_server = volley::Server::new(streams::router());
    let app = volley::axum::Router::new()
        .route("/schema", volley::axum::routing::get(|| async { "the app's own page, not a volley schema" }))
        .nest("/rpc", volley_server.router());
    let addr = serve_app(app);
    for source in [format!("ws://{addr}/rpc"), format!("ws://{addr}/rpc/"), format!("http://{addr}/rpc/schema")] {
        let o = volley(&["schema", &source], "");
        assert_ok(&o);
        assert_eq!(printed_name(&o), "streams", "{source}");
    }
    let out = scratch("mounted").join("sdk");
    assert_ok(&volley(&["generate", "typescript", "--schema", &format!("ws://{addr}/rpc"), "--out", out.to_str().unwrap()], ""));
    assert!(out.join("src/client.ts").is_file());
    let o = volley(&["call", &format!("ws://{addr}/rpc"), "countdown", r#"{"from": 2, "interval_ms": 0}"#], "");
    assert_ok(&o);
    assert_eq!(text(&o.stdout), "2\n1\n");

    // Nothing anywhere on the path: every URL tried is named.
    assert_fails(
        &volley(&["schema", &format!("ws://{addr}/nowhere/at/all")], ""),
        &[&format!("cannot fetch schema from http://{addr}/nowhere/at/all/schema"), "404 Not Found", "also tried", &format!("http://{addr}/nowhere/schema")],
    );
}
