//! Prometheus metrics at `/metrics`. (A test binary of its own, whose tests open no
//! connections but the one that counts them: the metrics recorder is the process's.)

mod common;

use common::serve_server as serve_with;


use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use volley::{rpc, Client, Error, ErrorCode, Router, Server};

/// Adds two integers.
#[rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Always refuses.
#[rpc]
async fn refuse() -> Result<(), Error> {
    Err(Error::new(ErrorCode::PERMISSION_DENIED, "no"))
}

/// Counts to `n`.
#[rpc]
fn count(n: u32) -> impl futures_core::Stream<Item = u32> {
    futures_util::stream::iter(0..n)
}

fn router() -> Router {
    Router::new().rpc::<add>().rpc::<refuse>().rpc::<count>()
}

/// `GET path`: the status and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let (status, _, body) = common::http(addr, "GET", path, &[]).await;
    (status, body)
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_calls_by_method_and_code() {
    let addr = serve_with(Server::new(router()).metrics()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    for i in 0..3 {
        assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": i, "b": 1})).await.unwrap(), i + 1);
    }
    assert_eq!(client.call::<()>("refuse", &serde_json::json!({})).await.unwrap_err().code, ErrorCode::PERMISSION_DENIED);
    assert_eq!(client.call::<i64>("nothing", &serde_json::json!({})).await.unwrap_err().code, ErrorCode::METHOD_NOT_FOUND);
    let stream = client.server_stream::<u32>("count", &serde_json::json!({"n": 5}), Default::default()).unwrap();
    let items: Vec<u32> = stream.map(|r| r.unwrap()).collect().await;
    assert_eq!(items.len(), 5);

    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(sample(&text, r#"volley_calls_finished_total{method="add",code="OK"}"#), Some(3.0), "{text}");
    assert_eq!(sample(&text, r#"volley_calls_started_total{method="add"}"#), Some(3.0));
    assert_eq!(sample(&text, r#"volley_calls_finished_total{method="refuse",code="PERMISSION_DENIED"}"#), Some(1.0));
    // A name the client made up is not a label.
    assert_eq!(sample(&text, r#"volley_calls_finished_total{method="unknown",code="METHOD_NOT_FOUND"}"#), Some(1.0));
    assert!(!text.contains("nothing"), "{text}");
    assert_eq!(sample(&text, r#"volley_stream_items_total{method="count",direction="sent"}"#), Some(5.0));
    assert_eq!(sample(&text, r#"volley_call_duration_seconds_count{method="add"}"#), Some(3.0), "{text}");
    assert!(text.contains(r#"volley_call_duration_seconds_bucket{method="add",le="0.001"}"#), "{text}");
    assert_eq!(sample(&text, "volley_connections_open"), Some(1.0));
    assert!(sample(&text, r#"volley_bytes_total{direction="received"}"#).unwrap() > 0.0);
    assert!(sample(&text, r#"volley_bytes_total{direction="sent"}"#).unwrap() > 0.0);

    // A connection that closes is no longer open.
    drop(client);
    let mut open = None;
    for _ in 0..100 {
        open = sample(&get(addr, "/metrics").await.1, "volley_connections_open");
        if open == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, Some(0.0));
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for() {
    let addr = serve_with(Server::new(router())).await;
    assert_eq!(get(addr, "/metrics").await.0, 404);
}
