//! The development setting that puts a panic's message and location in its `INTERNAL`
//! error, off by default.

use crate::common;

use common::serve_server as serve_with;
use volley::{rpc, Client, ErrorCode, Router, Server};

/// Adds two integers.
#[rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Panics.
#[rpc]
async fn explode() -> i64 {
    panic!("the flux capacitor is empty")
}

fn router() -> Router {
    Router::new().rpc::<add>().rpc::<explode>()
}

#[tokio::test]
async fn panic_details_are_a_development_setting() {
    let quiet = serve_with(Server::new(router())).await;
    let client = Client::connect(&common::url(quiet)).await.unwrap();
    let e = client.call::<i64>("explode", &serde_json::json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INTERNAL);
    assert!(!e.message.contains("flux"), "no panic text by default: {}", e.message);
    assert!(e.data.is_none());

    let loud = serve_with(Server::new(router()).panic_details(true)).await;
    let client = Client::connect(&common::url(loud)).await.unwrap();
    let e = client.call::<i64>("explode", &serde_json::json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INTERNAL);
    assert!(e.message.contains("the flux capacitor is empty"), "{}", e.message);
    let data = e.data.expect("details in the data");
    assert_eq!(data["panic"], "the flux capacitor is empty");
    assert!(data["location"].as_str().unwrap().starts_with("runtime/tests/live/panics.rs:"), "{data}");
    // The connection goes on serving.
    assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": 1, "b": 1})).await.unwrap(), 2);
}
