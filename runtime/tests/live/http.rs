//! The HTTP surface over real sockets: routes with the request's headers, static files
//! with an index redirect, a configurable WebSocket path, and volley mounted in an
//! application's own axum router, behind its middleware, drained on shutdown.

use crate::common;

use common::{header, http, serve_server as serve_with};

use std::net::SocketAddr;
use std::time::Duration;

use volley::axum::{self, http::HeaderMap, routing::get};
use volley::{rpc, Client, Context, Router, Server};

/// Adds two integers.
#[rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Sleeps, to keep a call in flight.
#[rpc]
async fn nap(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// The caller's address as the server sees it.
#[rpc]
async fn whereami(ctx: Context) -> String {
    ctx.remote_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

fn router() -> Router {
    Router::new().rpc::<add>().rpc::<nap>().rpc::<whereami>()
}

#[tokio::test]
async fn custom_routes_see_the_request_headers_and_the_remote_address() {
    let server = Server::new(router())
        .route(
            "/health",
            get(|headers: HeaderMap| async move {
                let agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("nobody").to_owned();
                format!("healthy, asked by {agent}\n")
            }),
        )
        .route("/whoami", get(|axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }));
    let addr = serve_with(server).await;
    let (status, _, body) = http(addr, "GET", "/health", &[("User-Agent", "probe/1.0")]).await;
    assert_eq!((status, body.as_str()), (200, "healthy, asked by probe/1.0\n"));
    assert_eq!(http(addr, "GET", "/whoami", &[]).await.2, "127.0.0.1");
    // A method the route does not have, and a path nobody serves.
    assert_eq!(http(addr, "POST", "/health", &[]).await.0, 405);
    let (status, _, body) = http(addr, "GET", "/nothing-here", &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("not found"), "{body}");
    // The server's own paths and the RPC still work beside them.
    assert_eq!(http(addr, "GET", "/healthz", &[]).await.0, 200);
    let client = Client::connect(&common::url(addr)).await.unwrap();
    assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": 1, "b": 2})).await.unwrap(), 3);
}

#[tokio::test]
async fn static_files_have_their_content_types_and_slash_redirects_to_the_index() {
    let dir = std::env::temp_dir().join(format!("volley-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("css")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>volley</h1>").unwrap();
    std::fs::write(dir.join("css/site.css"), "h1 { color: red }").unwrap();
    std::fs::write(dir.join("app.js"), "console.log(1)").unwrap();
    let addr = serve_with(Server::new(router()).static_files(&dir)).await;

    let (status, headers, _) = http(addr, "GET", "/", &[]).await;
    assert_eq!(status, 303, "{headers:?}");
    assert_eq!(header(&headers, "location"), Some("/index.html"));
    let (status, headers, body) = http(addr, "GET", "/index.html", &[]).await;
    assert_eq!((status, body.as_str()), (200, "<h1>volley</h1>"));
    assert!(header(&headers, "content-type").unwrap().starts_with("text/html"), "{headers:?}");
    let (_, headers, body) = http(addr, "GET", "/css/site.css", &[]).await;
    assert_eq!(body, "h1 { color: red }");
    assert!(header(&headers, "content-type").unwrap().starts_with("text/css"));
    let (_, headers, _) = http(addr, "GET", "/app.js", &[]).await;
    assert!(header(&headers, "content-type").unwrap().contains("javascript"), "{headers:?}");
    assert_eq!(http(addr, "GET", "/missing.html", &[]).await.0, 404);
    // Nothing outside the directory.
    assert_eq!(http(addr, "GET", "/../../etc/passwd", &[]).await.0, 404);
    // The WebSocket on `/` and the schema are still there.
    let client = Client::connect(&common::url(addr)).await.unwrap();
    assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": 2, "b": 2})).await.unwrap(), 4);
    assert_eq!(http(addr, "GET", "/schema", &[]).await.0, 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_websocket_path_is_configurable() {
    let addr = serve_with(Server::new(router()).path("/ws")).await;
    let client = Client::connect(&format!("ws://{addr}/ws")).await.unwrap();
    assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": 5, "b": 6})).await.unwrap(), 11);
    // A plain GET there says what the path is for; `/` is no longer the endpoint.
    assert_eq!(http(addr, "GET", "/ws", &[]).await.0, 426);
    assert!(Client::connect(&common::url(addr)).await.is_err());
    // The schema is beside the endpoint, and at the root as before.
    assert_eq!(http(addr, "GET", "/ws/schema", &[]).await.0, 200);
    assert_eq!(http(addr, "GET", "/schema", &[]).await.0, 200);
}

#[test]
#[should_panic(expected = "served by volley itself")]
fn the_websocket_path_cannot_take_a_path_volley_serves() {
    let _ = Server::new(router()).path("/schema");
}

/// An axum application: its own route, volley under `/rpc`, a middleware of its own
/// around everything, and volley's drain on shutdown.
#[tokio::test]
async fn volley_mounted_in_an_axum_app_behind_its_middleware() {
    let volley = Server::new(router()).drain_timeout(Duration::from_secs(5));
    let app = axum::Router::new()
        .route("/", get(|| async { "the application\n" }))
        .nest("/rpc", volley.router())
        .layer(axum::middleware::from_fn(|req: axum::extract::Request, next: axum::middleware::Next| async move {
            let mut res = next.run(req).await;
            res.headers_mut().insert("x-app", "yes".parse().unwrap());
            res
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(
        volley.drain_after(async move {
            let _ = stopped.await;
        }),
    );
    let serving = tokio::spawn(async move { serve.await });

    let (status, headers, body) = http(addr, "GET", "/", &[]).await;
    assert_eq!((status, body.as_str()), (200, "the application\n"));
    assert_eq!(header(&headers, "x-app"), Some("yes"));
    let (status, headers, _) = http(addr, "GET", "/rpc/schema", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-app"), Some("yes"), "volley's routes are behind the app's middleware");
    // The endpoint's answers name the mount point.
    let (status, _, body) = http(addr, "GET", "/rpc", &[]).await;
    assert_eq!(status, 426);
    assert!(body.contains("The schema is at /rpc/schema."), "{body}");
    let (status, _, body) = http(addr, "GET", "/rpc/nothing", &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("/rpc/schema or /rpc/healthz"), "{body}");
    let client = Client::connect(&format!("ws://{addr}/rpc")).await.unwrap();
    assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": 20, "b": 22})).await.unwrap(), 42);
    assert_eq!(client.call::<String>("whereami", &serde_json::json!({})).await.unwrap(), "127.0.0.1");

    let mut watcher = raw_at(&format!("ws://{addr}/rpc")).await;
    // Shutdown: the call in flight finishes, health says 503 meanwhile, new upgrades
    // are refused with 503, then the connection is closed with 1001.
    let slow = {
        let client = client.clone();
        tokio::spawn(async move { client.call::<u64>("nap", &serde_json::json!({"ms": 600})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _, _) = http(addr, "GET", "/rpc/healthz", &[]).await;
    assert_eq!(status, 503);
    let refused = Client::connect(&format!("ws://{addr}/rpc")).await.err().expect("refused while draining");
    assert!(refused.message.contains("503"), "{}", refused.message);
    assert_eq!(slow.await.unwrap().unwrap(), 600);
    assert_eq!(close_code(&mut watcher).await, 1001);
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("axum stops after the drain").unwrap().unwrap();
}

async fn raw_at(url: &str) -> common::Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "volley.v1.json".parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// Reads until the server's close frame; its code.
async fn close_code(ws: &mut common::Ws) -> u16 {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a close within 10 s") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    }
}
