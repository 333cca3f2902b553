//! The machines example from a Rust client: the login flow's data events, its lock and
//! its profile, and `GET /health`.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use volley::{Client, ErrorCode, Notification};

async fn push(rx: &mut tokio::sync::mpsc::Receiver<Notification>) -> (String, Value) {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a push in time") {
        Some(Notification::Topic { topic, value }) => (topic, value),
        other => panic!("expected a push, got {other:?}"),
    }
}

#[tokio::test]
async fn a_login_flow_locks_unlocks_and_logs_in() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(machines::server().serve_with_shutdown(listener, std::future::pending()));
    let mut client = Client::connect(&format!("ws://{addr}")).await.unwrap();
    let mut rx = client.notifications().unwrap();

    let wrong = json!({"data": {"user": "ada", "password": "nope"}});
    for left in [2, 1] {
        assert!(!client.call::<bool>("login.login", &wrong).await.unwrap());
        assert_eq!(push(&mut rx).await, ("login".into(), json!({"status": 401, "data": {"message": "wrong password for ada", "attempts_left": left}})));
    }
    assert!(!client.call::<bool>("login.login", &wrong).await.unwrap());
    assert_eq!(push(&mut rx).await.1, json!({"state": "locked", "events": ["unlock"], "status": 403, "data": {"attempts": 3}}));
    // Locked: logging in is not an event of this state.
    let e = client.call::<bool>("login.login", &wrong).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::EVENT_NOT_ALLOWED);
    let e = client.call::<()>("login.unlock", &json!({"data": {"code": "0000"}})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::PERMISSION_DENIED);
    client.call::<()>("login.unlock", &json!({"data": {"code": "1234"}})).await.unwrap();
    assert_eq!(push(&mut rx).await.1["state"], "logged_out");

    assert!(client.call::<bool>("login.login", &json!({"data": {"user": "ada", "password": "volley"}})).await.unwrap());
    let (_, t) = push(&mut rx).await;
    let profile: machines::Profile = serde_json::from_value(t["data"].clone()).unwrap();
    assert_eq!(profile, machines::Profile { user: "ada".into(), greeting: "welcome, ada".into() });
    assert_eq!(client.call::<String>("login.whoami", &json!({})).await.unwrap(), "ada");
    client.call::<()>("login.logout", &json!({})).await.unwrap();
    assert_eq!(client.call::<Value>("volley.machine", &json!({"machine": "login"})).await.unwrap()["state"], "logged_out");

    // The health endpoint, beside the WebSocket.
    let mut http = tokio::net::TcpStream::connect(addr).await.unwrap();
    http.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    http.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("OK"), "{response}");
}
