//! The client's address behind trusted proxies, over a real socket.

use crate::common;

use common::*;
use volley::{rpc, Client, Context, Router, Server};

/// The caller's address as the server sees it.
#[rpc]
async fn whereami(ctx: Context) -> String {
    ctx.remote_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

async fn serve_with(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    url(addr)
}

async fn seen_from(url: &str, forwarded_for: &str) -> String {
    let client = Client::builder(url).header("x-forwarded-for", forwarded_for).connect().await.unwrap();
    client.call("whereami", &serde_json::json!({})).await.unwrap()
}

#[tokio::test]
async fn the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() {
    let router = || Router::new().rpc::<whereami>();
    let behind = serve_with(Server::new(router()).trusted_proxies(["127.0.0.1", "10.0.0.0/8"]).unwrap()).await;
    // A forged left end is ignored; the trusted inner proxy (10.1.1.1) is skipped.
    assert_eq!(seen_from(&behind, "6.6.6.6, 198.51.100.4, 10.1.1.1").await, "198.51.100.4");
    // Without trusted proxies, the headers are not believed at all.
    let direct = serve_with(Server::new(router())).await;
    assert_eq!(seen_from(&direct, "6.6.6.6").await, "127.0.0.1");
    // Trusting someone else: the loopback peer is not a proxy, so it is the client.
    let elsewhere = serve_with(Server::new(router()).trusted_proxies(["192.0.2.0/24"]).unwrap()).await;
    assert_eq!(seen_from(&elsewhere, "6.6.6.6").await, "127.0.0.1");
    assert!(Server::new(router()).trusted_proxies(["not-an-ip"]).is_err());
}
