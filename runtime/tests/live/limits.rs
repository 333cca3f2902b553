//! The limits that keep one peer from hurting the server, each crossed over a real
//! socket with a small setting: heartbeats, the idle timeout, the connection cap, the
//! handshake timeout, the upgrade's checks, the credit cap, the held-bytes budget,
//! client metadata bounds, panicking hooks, and draining.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use volley::{rpc, Client, Context, Error, ErrorCode, Hook, Limits, Router, Server, Streaming};

/// Adds two integers.
#[rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Sleeps `ms` milliseconds, then answers `ms`.
#[rpc]
async fn sleep(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Counts from 0 to `n - 1`.
#[rpc]
async fn count(n: u64) -> impl volley::Stream<Item = u64> {
    futures_util::stream::iter(0..n)
}

/// Waits `ms` before reading its input, then counts the items.
#[rpc]
async fn slow_sink(ms: u64, mut items: Streaming<String>) -> Result<u64, Error> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let mut n = 0;
    while let Some(item) = items.next().await {
        item?;
        n += 1;
    }
    Ok(n)
}

/// Divides `a` by `b` as floats do (so `1 / 0` is infinity).
#[rpc]
async fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

fn router() -> Router {
    Router::new().rpc::<add>().rpc::<ratio>().rpc::<sleep>().rpc::<count>().rpc::<slow_sink>()
}

async fn serve_with(server: Server) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    addr
}

fn quiet() -> Limits {
    Limits { heartbeat_interval: None, idle_timeout: None, ..Limits::default() }
}

/// Reads until a close frame arrives (answering pings as tungstenite does), and returns
/// its code and reason.
async fn close_of(ws: &mut Ws) -> (u16, String) {
    let deadline = Duration::from_secs(5);
    loop {
        match tokio::time::timeout(deadline, ws.next()).await.expect("a close frame within 5 s") {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code.into(), frame.reason.to_string()),
            Some(Ok(Message::Close(None))) => panic!("a close frame without a code"),
            Some(Ok(_)) => continue,
            other => panic!("the connection ended without a close frame: {other:?}"),
        }
    }
}

/// A raw HTTP exchange: writes `request`, reads until the server closes or 5 s pass.
async fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && !request.contains("Connection: keep") {
                    // Headers are enough for an upgrade refusal; read the rest briefly.
                    if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
                        out.extend_from_slice(&buf[..n]);
                    }
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn upgrade_request(addr: SocketAddr, version: Option<&str>, key: &str) -> String {
    let version = version.map(|v| format!("Sec-WebSocket-Version: {v}\r\n")).unwrap_or_default();
    format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{version}Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: volley.v1.json\r\n\r\n"
    )
}

#[tokio::test]
async fn a_peer_that_answers_no_heartbeat_is_closed_with_4000() {
    let limits = Limits {
        heartbeat_interval: Some(Duration::from_millis(100)),
        heartbeat_timeout: Duration::from_millis(200),
        idle_timeout: None,
        ..Limits::default()
    };
    let addr = serve_with(Server::with_limits(router(), limits.clone())).await;
    // A peer that reads (and so answers pings) stays.
    let client = Client::connect(&url(addr)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sum: i64 = client.peer().call("add", &serde_json::json!({"a": 1, "b": 2})).await.unwrap();
    assert_eq!(sum, 3, "a peer that answers pings is kept");
    // A peer that upgrades and then reads nothing answers no ping. (Raw TCP: a
    // WebSocket client would answer the pings it finds once it reads.)
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(upgrade_request(addr, Some("13"), "dGhlIHNhbXBsZSBub25jZQ==").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut bytes)).await.expect("closed by the server").unwrap();
    let head = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("an upgrade answer") + 4;
    assert!(bytes.starts_with(b"HTTP/1.1 101"));
    // Server frames are unmasked: [FIN|opcode, len, payload]; pings, then the close.
    let mut frames = &bytes[head..];
    let mut close = None;
    while frames.len() >= 2 {
        let (opcode, len) = (frames[0] & 0x0f, usize::from(frames[1] & 0x7f));
        let payload = &frames[2..2 + len];
        if opcode == 8 {
            close = Some((u16::from_be_bytes([payload[0], payload[1]]), String::from_utf8_lossy(&payload[2..]).into_owned()));
        } else {
            assert_eq!(opcode, 9, "only pings before the close");
        }
        frames = &frames[2 + len..];
    }
    assert_eq!(close, Some((4000, "heartbeat timeout".to_owned())));
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_1000_but_a_subscribed_one_is_kept() {
    let limits = Limits { heartbeat_interval: None, idle_timeout: Some(Duration::from_millis(300)), ..Limits::default() };
    let addr = serve_with(Server::with_limits(router(), limits)).await;
    let mut idle = raw(addr, "volley.v1.json").await;
    let subscribed = Client::connect(&url(addr)).await.unwrap();
    subscribed.subscribe(&["news"]).await.unwrap();
    assert_eq!(close_of(&mut idle).await, (1000, "idle timeout".to_owned()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sum: i64 = subscribed.peer().call("add", &serde_json::json!({"a": 2, "b": 2})).await.unwrap();
    assert_eq!(sum, 4, "a connection with a subscription is not idle");
}

#[tokio::test]
async fn a_client_does_not_close_its_own_idle_connection() {
    let addr = serve_with(Server::with_limits(router(), quiet())).await;
    let limits = Limits { heartbeat_interval: None, idle_timeout: Some(Duration::from_millis(100)), ..Limits::default() };
    let client = Client::builder(&url(addr)).limits(limits).connect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let sum: i64 = client.peer().call("add", &serde_json::json!({"a": 1, "b": 1})).await.unwrap();
    assert_eq!(sum, 2, "only servers close idle connections");
}

#[tokio::test]
async fn connections_beyond_the_cap_get_503_before_the_upgrade() {
    let addr = serve_with(Server::with_limits(router(), quiet()).max_connections(2)).await;
    let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = http(addr, &upgrade_request(addr, Some("13"), "dGhlIHNhbXBsZSBub25jZQ==")).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("Retry-After: 1"), "{answer}");
    assert!(answer.contains("volley-error-code: 503"), "{answer}");
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = Client::connect(&url(addr)).await.expect("served again once the silent sockets are gone");
    let sum: i64 = client.peer().call("add", &serde_json::json!({"a": 1, "b": 1})).await.unwrap();
    assert_eq!(sum, 2);
}

#[tokio::test]
async fn a_socket_that_never_completes_its_request_is_closed_after_the_handshake_timeout() {
    let addr = serve_with(Server::with_limits(router(), quiet()).handshake_timeout(Duration::from_millis(300))).await;
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut dribbler = tokio::net::TcpStream::connect(addr).await.unwrap();
    dribbler.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    for s in [&mut silent, &mut dribbler] {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.expect("closed by the server").unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
    }
    // An upgrade that completes in time lives on past the timeout.
    let client = Client::connect(&url(addr)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sum: i64 = client.peer().call("add", &serde_json::json!({"a": 3, "b": 3})).await.unwrap();
    assert_eq!(sum, 6);
}

#[tokio::test]
async fn the_upgrade_checks_the_websocket_version_and_key() {
    let addr = serve_with(Server::with_limits(router(), quiet())).await;
    for version in [Some("8"), None] {
        let answer = http(addr, &upgrade_request(addr, version, "dGhlIHNhbXBsZSBub25jZQ==")).await;
        assert!(answer.starts_with("HTTP/1.1 426"), "{version:?}: {answer}");
        assert!(answer.to_ascii_lowercase().contains("sec-websocket-version: 13"), "{answer}");
    }
    for key in ["abc", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ"] {
        let answer = http(addr, &upgrade_request(addr, Some("13"), key)).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{key}: {answer}");
    }
    let answer = http(addr, &upgrade_request(addr, Some("13"), "dGhlIHNhbXBsZSBub25jZQ==")).await;
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
}

#[tokio::test]
async fn credit_past_max_window_is_not_used() {
    let limits = Limits { max_window: 8, ..quiet() };
    let addr = serve_with(Server::with_limits(router(), limits)).await;
    let mut ws = raw(addr, "volley.v1.json").await;
    send_text(&mut ws, r#"[0,1,"count",{"n":100},{"w":4294967295}]"#).await;
    let mut items = 0;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
        if let Message::Text(t) = msg {
            let frame: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            assert_eq!(frame[0], 3, "only items while credit lasts: {frame}");
            items += 1;
        }
    }
    assert_eq!(items, 8, "the stream stops at max_window items");
    // More credit, capped the same way, lets it go on to the end.
    let mut seen = items;
    let mut ended = false;
    while !ended {
        send_text(&mut ws, "[7,1,4294967295]").await;
        loop {
            let frame = recv_json(&mut ws).await;
            match frame[0].as_u64() {
                Some(3) => {
                    seen += 1;
                    if seen % 8 == 0 {
                        break;
                    }
                }
                Some(4) => {
                    ended = true;
                    break;
                }
                _ => panic!("{frame}"),
            }
        }
    }
    assert_eq!(seen, 100);
}

#[tokio::test]
async fn stream_items_past_the_held_budget_fail_the_call_with_unavailable() {
    let limits = Limits { max_held_bytes: 64 << 10, ..quiet() };
    let addr = serve_with(Server::with_limits(router(), limits)).await;
    let mut ws = raw(addr, "volley.v1.json").await;
    send_text(&mut ws, r#"[0,1,"slow_sink",{"ms":2000}]"#).await;
    assert_eq!(recv_json(&mut ws).await, serde_json::json!([7, 1, 32]));
    let item = format!(r#"[3,1,"{}"]"#, "x".repeat(10_000));
    for _ in 0..10 {
        send_text(&mut ws, &item).await;
    }
    let answer = recv_json(&mut ws).await;
    assert_eq!((answer[0].as_u64(), answer[1].as_u64(), answer[2].as_u64()), (Some(2), Some(1), Some(503)), "{answer}");
    assert_eq!(answer[4]["limit"], 64 << 10, "{answer}");
    assert_eq!(answer[4]["retry_after_ms"], 100, "{answer}");
    send_text(&mut ws, r#"[0,3,"add",{"a":1,"b":2}]"#).await;
    assert_eq!(recv_json(&mut ws).await, serde_json::json!([1, 3, 3]), "the connection goes on");
}

#[tokio::test]
async fn parameters_past_the_held_budget_are_refused_with_unavailable() {
    let limits = Limits { max_held_bytes: 64 << 10, max_concurrent_calls: 1, ..quiet() };
    let addr = serve_with(Server::with_limits(router(), limits)).await;
    let mut ws = raw(addr, "volley.v1.json").await;
    send_text(&mut ws, r#"[0,1,"sleep",{"ms":300}]"#).await;
    // Waiting for the one slot, each holding its 40 KB of parameters: the second is
    // over the 64 KiB budget.
    let pad = "y".repeat(40_000);
    send_text(&mut ws, &format!(r#"[0,3,"sleep",{{"ms":1,"pad":"{pad}"}}]"#)).await;
    send_text(&mut ws, &format!(r#"[0,5,"sleep",{{"ms":1,"pad":"{pad}"}}]"#)).await;
    let refused = recv_json(&mut ws).await;
    assert_eq!((refused[0].as_u64(), refused[1].as_u64(), refused[2].as_u64()), (Some(2), Some(5), Some(503)), "{refused}");
    let mut answers = vec![recv_json(&mut ws).await, recv_json(&mut ws).await];
    answers.sort_by_key(|a| a[1].as_u64());
    assert_eq!(answers, vec![serde_json::json!([1, 1, 300]), serde_json::json!([1, 3, 1])]);
    // The budget was given back: the same call fits now.
    send_text(&mut ws, &format!(r#"[0,7,"sleep",{{"ms":1,"pad":"{pad}"}}]"#)).await;
    assert_eq!(recv_json(&mut ws).await, serde_json::json!([1, 7, 1]));
}

#[tokio::test]
async fn client_metadata_is_bounded_in_entries_bytes_and_names() {
    let addr = serve_with(Server::with_limits(router(), quiet())).await;
    let mut ws = raw(addr, "volley.v1.json").await;
    let many: serde_json::Map<String, serde_json::Value> = (0..129).map(|i| (format!("k{i}"), "v".into())).collect();
    let big = serde_json::json!({ "k": "v".repeat(70_000) });
    let reserved = serde_json::json!({ "volley-x": "1" });
    let mut id = 1;
    for m in [serde_json::Value::Object(many), big, reserved] {
        send_text(&mut ws, &serde_json::json!([0, id, "add", {"a": 1, "b": 2}, {"m": m}]).to_string()).await;
        let answer = recv_json(&mut ws).await;
        assert_eq!((answer[0].as_u64(), answer[1].as_u64(), answer[2].as_u64()), (Some(2), Some(id), Some(412)), "{answer}");
        id += 2;
    }
    send_text(&mut ws, &format!(r#"[0,{id},"add",{{"a":1,"b":2}}]"#)).await;
    assert_eq!(recv_json(&mut ws).await, serde_json::json!([1, id, 3]));
}

#[tokio::test]
async fn an_unknown_method_is_quoted_in_a_bounded_prefix() {
    let addr = serve_with(Server::with_limits(router(), quiet())).await;
    let mut ws = raw(addr, "volley.v1.json").await;
    let name = "m".repeat(100_000);
    send_text(&mut ws, &format!(r#"[0,1,"{name}",{{}}]"#)).await;
    let answer = recv_json(&mut ws).await;
    assert_eq!(answer[2], 404);
    let quoted = answer[4]["method"].as_str().unwrap();
    assert_eq!(quoted, format!("{}...", "m".repeat(128)));
    // The message quotes the name once, then names what this server has (its own names,
    // at most eight): its length does not grow with the peer's name.
    let message = answer[3].as_str().unwrap();
    assert_eq!(message.matches(quoted).count(), 1, "{message}");
    assert!(message.len() < 300, "{message}");
}

struct Panicky;

impl Hook for Panicky {
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        if ctx.method() == "sleep" {
            panic!("a hook bug");
        }
        Ok(())
    }
    fn after_request(&self, _: &Context, _: Result<(), &Error>, _: Duration) {
        panic!("another hook bug");
    }
}

#[tokio::test]
async fn a_panicking_hook_fails_its_call_with_internal_and_nothing_else() {
    let addr = serve_with(Server::with_limits(router().hook(Panicky), quiet())).await;
    let client = Client::connect(&url(addr)).await.unwrap();
    let err = client.peer().call::<u64>("sleep", &serde_json::json!({"ms": 1})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INTERNAL);
    for i in 0..20 {
        let sum: i64 = client.peer().call("add", &serde_json::json!({"a": i, "b": 1})).await.unwrap();
        assert_eq!(sum, i + 1, "answered although after_request panics every time");
    }
}

#[tokio::test]
async fn draining_answers_503_then_closes_with_1001() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Server::with_limits(router(), quiet()).serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let mut ws = raw(addr, "volley.v1.json").await;
    send_text(&mut ws, r#"[0,1,"sleep",{"ms":600}]"#).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let health = http(addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(health.starts_with("HTTP/1.1 503"), "{health}");
    let upgrade = http(addr, &upgrade_request(addr, Some("13"), "dGhlIHNhbXBsZSBub25jZQ==")).await;
    assert!(upgrade.starts_with("HTTP/1.1 503"), "{upgrade}");
    assert!(upgrade.contains("retry-after: 5"), "{upgrade}");
    assert!(upgrade.contains("volley-error-code: 503"), "{upgrade}");

    // The call in flight finishes, then the connection is closed as going away.
    assert_eq!(recv_json(&mut ws).await, serde_json::json!([1, 1, 600]));
    assert_eq!(close_of(&mut ws).await, (1001, "the server is shutting down".to_owned()));
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stops").unwrap().unwrap();
    let _ = ws.close(None).await;
}

#[tokio::test]
async fn a_non_finite_result_is_an_error_in_json_and_a_float_in_msgpack() {
    let addr = serve_with(Server::with_limits(router(), quiet())).await;
    let json = Client::connect(&url(addr)).await.unwrap();
    let err = json.peer().call::<f64>("ratio", &serde_json::json!({"a": 1.0, "b": 0.0})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INTERNAL);
    assert!(err.message.contains("not a finite number"), "{}", err.message);
    let half: f64 = json.peer().call("ratio", &serde_json::json!({"a": 1.0, "b": 2.0})).await.unwrap();
    assert_eq!(half, 0.5);
    let msgpack = Client::connect_with(&url(addr), volley::Encoding::MsgPack).await.unwrap();
    let inf: f64 = msgpack.peer().call("ratio", &serde_json::json!({"a": 1.0, "b": 0.0})).await.unwrap();
    assert_eq!(inf, f64::INFINITY);
}
