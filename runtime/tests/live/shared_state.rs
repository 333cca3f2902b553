//! Shared state mirrored to clients with JSON Patches, and notifications on topics,
//! including clients that do not keep up.

use crate::common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use volley::{apply_patch, Client, Limits, Notification, Router, Server};

async fn serve_limited(limits: Limits) -> (std::net::SocketAddr, volley::Publisher) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::with_limits(Router::new().shared_state::<Value>("scores", "The scoreboard."), limits);
    let publisher = server.publisher();
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    (addr, publisher)
}

async fn next_state(rx: &mut tokio::sync::mpsc::Receiver<Notification>) -> (String, Value) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a state patch").expect("open") {
            Notification::State { name, patch } => return (name, patch),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn clients_mirror_a_shared_state_from_patches() {
    let (addr, publisher) = serve_limited(Limits::default()).await;
    publisher.set_state("scores", &json!({"round": 1, "players": {"ann": 0}})).unwrap();

    let mut client = Client::connect(&url(addr)).await.unwrap();
    let mut rx = client.notifications().unwrap();
    client.subscribe_states(&["scores"]).await.unwrap();

    // The first frame is the whole document.
    let (name, patch) = next_state(&mut rx).await;
    assert_eq!(name, "scores");
    let mut doc = Value::Null;
    apply_patch(&mut doc, &patch).unwrap();
    assert_eq!(doc, json!({"round": 1, "players": {"ann": 0}}));

    // Later frames carry only what changed.
    assert_eq!(publisher.set_state("scores", &json!({"round": 1, "players": {"ann": 3, "bob": 1}})).unwrap(), 1);
    let (_, patch) = next_state(&mut rx).await;
    assert_eq!(patch.as_array().unwrap().len(), 2, "one replace, one add: {patch}");
    apply_patch(&mut doc, &patch).unwrap();
    assert_eq!(doc, publisher.state("scores").unwrap());

    // An unchanged value sends nothing.
    assert_eq!(publisher.set_state("scores", &doc).unwrap(), 0);
}

#[tokio::test]
async fn a_client_that_does_not_read_gets_a_fresh_copy_instead_of_a_backlog() {
    let limits = Limits { notify_queue: 8, ..Limits::default() };
    let (addr, publisher) = serve_limited(limits).await;
    publisher.set_state("scores", &json!({"n": 0, "pad": ""})).unwrap();
    let mut ws = raw(addr, "volley.v1.json").await;
    send_text(&mut ws, r#"[0,1,"volley.subscribe",{"states":["scores"]}]"#).await;
    let mut doc = Value::Null;
    let mut subscribed = false;
    while !subscribed {
        let f = recv_json(&mut ws).await;
        match f[0].as_u64() {
            Some(11) => apply_patch(&mut doc, &f[2]).unwrap(),
            Some(1) => subscribed = true,
            _ => panic!("unexpected {f}"),
        }
    }
    // Publish far more than the socket and the queue can hold while the client reads
    // nothing: each change is 16 KiB, 2,000 of them are 32 MiB.
    let pad = "x".repeat(16 << 10);
    for n in 1..=2000 {
        publisher.set_state("scores", &json!({"n": n, "pad": format!("{n}{pad}")})).unwrap();
    }
    let peer = publisher.peers().pop().unwrap();
    assert!(peer.queued_notifications() <= 8, "the server never queues more than its limit");

    // Reading now, the patches that arrive bring the client exactly to the last value.
    let want = publisher.state("scores").unwrap();
    let mut frames = 0;
    while doc != want {
        let f = recv_json(&mut ws).await;
        assert_eq!(f[0], 11, "{f}");
        apply_patch(&mut doc, &f[2]).unwrap();
        frames += 1;
    }
    assert!(frames < 2000, "stale patches were dropped, not queued ({frames} arrived)");
    // And the connection still serves calls.
    send_text(&mut ws, r#"[0,3,"volley.unsubscribe",{"states":["scores"]}]"#).await;
    assert_eq!(recv_json(&mut ws).await, json!([1, 3, null]));
}
