//! The axum example over real sockets: the application's own routes and middleware,
//! volley under `/rpc` behind them, the middleware's user reaching an RPC handler, and
//! a shutdown that drains volley before axum stops.

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use axum_app::{Settings, Status, User};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use volley::{CallOptions, Client, ErrorCode};

/// The example served on a free port until `stop` is sent (or dropped).
struct Running {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn rpc_url(&self) -> String {
        format!("ws://{}/rpc", self.addr)
    }

    /// The origin of the example's own pages.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn start(tune: impl FnOnce(&mut Settings)) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::for_addr(addr);
    tune(&mut settings);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(axum_app::serve(axum_app::app(settings), listener, shutdown));
    Running { addr, stop, task }
}

/// An HTTP response: status, headers (names lowercased), body (de-chunked).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

/// A plain HTTP/1.1 request on a connection of its own.
async fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut raw)).await.expect("an answer within 5 s").unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let mut reply = Reply { status, headers, body: raw[split + 4..].to_vec() };
    if reply.header("transfer-encoding") == Some("chunked") {
        reply.body = dechunk(&reply.body);
    }
    reply
}

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = std::str::from_utf8(&raw[..end]).unwrap().split(';').next().unwrap().trim();
        let size = usize::from_str_radix(size, 16).expect("a hex chunk size");
        raw = &raw[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body).read_to_end(&mut out).expect("a gzip body");
    out
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket that speaks volley's JSON subprotocol and sends nothing.
async fn raw_ws(url: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "volley.v1.json".parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// Reads until the server's close frame; its code.
async fn close_code(ws: &mut Ws) -> u16 {
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a close within 10 s") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_apps_own_routes_answer_behind_its_middleware() {
    let app = start(|_| {}).await;

    let page = http(app.addr, "GET", "/", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"), "{:?}", page.headers);
    assert_eq!(page.header("content-encoding"), None, "not compressed unless asked");
    assert!(page.text().contains("Not signed in"), "{}", page.text());

    // CompressionLayer: gzip for a client that accepts it, the same page inside.
    let gzipped = http(app.addr, "GET", "/", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"), "{:?}", gzipped.headers);
    assert_eq!(gunzip(&gzipped.body), page.body);

    // The middleware's user reaches the app's own handlers, from a cookie or a header.
    let signed_in = http(app.addr, "GET", "/", &[("Cookie", "theme=dark; session=alice-session")]).await;
    assert!(signed_in.text().contains("Signed in as <b>alice</b> (admin)"), "{}", signed_in.text());
    let me = http(app.addr, "GET", "/api/me", &[("Authorization", "Bearer bob-session")]).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json(), json!({"name": "bob", "role": "member"}));
    let anonymous = http(app.addr, "GET", "/api/me", &[]).await;
    assert_eq!(anonymous.status, 401);
    let forged = http(app.addr, "GET", "/api/me", &[("Authorization", "Bearer forged")]).await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.header("www-authenticate"), Some("Bearer"));
    assert_eq!(forged.text(), "unknown or expired session\n", "refused by the middleware, before the handler");

    // Axum's Json, from the state the RPC methods share.
    let status = http(app.addr, "GET", "/api/status", &[]).await;
    assert_eq!(status.status, 200);
    assert!(status.header("content-type").unwrap().starts_with("application/json"));
    let status = status.json();
    assert_eq!((status["service"].as_str(), status["connections"].as_u64()), (Some("axum-app"), Some(0)), "{status}");

    // CorsLayer on the API: the app's own origin may read it, with credentials; another
    // is not told it may.
    let origin = app.origin();
    let cors = http(app.addr, "GET", "/api/status", &[("Origin", &origin)]).await;
    assert_eq!(cors.header("access-control-allow-origin"), Some(origin.as_str()), "{:?}", cors.headers);
    assert_eq!(cors.header("access-control-allow-credentials"), Some("true"));
    let foreign = http(app.addr, "GET", "/api/status", &[("Origin", "https://evil.example")]).await;
    assert_eq!(foreign.header("access-control-allow-origin"), None, "{:?}", foreign.headers);
    let preflight = http(
        app.addr,
        "OPTIONS",
        "/api/me",
        &[("Origin", &origin), ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "authorization")],
    )
    .await;
    assert_eq!(preflight.status, 200, "{:?}", preflight.headers);
    assert_eq!(preflight.header("access-control-allow-headers"), Some("authorization"));
}

#[tokio::test]
async fn volley_under_rpc_serves_its_schema_and_methods() {
    let app = start(|s| s.metrics = true).await;

    let schema = http(app.addr, "GET", "/rpc/schema", &[]).await;
    assert_eq!(schema.status, 200);
    let schema = schema.json();
    assert_eq!(schema["name"], "axum-app");
    let methods: Vec<(&str, &str, &str)> = schema["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["kind"].as_str().unwrap(), m["description"].as_str().unwrap()))
        .filter(|(name, _, _)| !name.starts_with("volley."))
        .collect();
    let names: Vec<&str> = methods.iter().map(|m| m.0).collect();
    assert_eq!(names, ["status", "status.watch", "whoami"], "{methods:?}");
    let watch = methods.iter().find(|m| m.0 == "status.watch").unwrap();
    assert_eq!(watch.1, "server_stream");
    assert!(watch.2.starts_with("Sends the service's status `count` times"), "the doc comment: {}", watch.2);
    // The schema goes through the app's CompressionLayer too.
    let gzipped = http(app.addr, "GET", "/rpc/schema", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(serde_json::from_slice::<Value>(&gunzip(&gzipped.body)).unwrap(), schema);

    assert_eq!(http(app.addr, "GET", "/rpc/healthz", &[]).await.text(), "ok\n");
    assert_eq!(http(app.addr, "GET", "/rpc", &[]).await.status, 426, "a plain GET on the WebSocket path");

    let client = Client::connect(&app.rpc_url()).await.unwrap();
    let status: Status = client.call("status", &json!({})).await.unwrap();
    assert_eq!((status.service.as_str(), status.connections), ("axum-app", 1), "the client's own connection counts");
    // The axum route sees the same connection.
    assert_eq!(http(app.addr, "GET", "/api/status", &[]).await.json()["connections"], 1);

    let watched: Vec<Status> = client
        .server_stream::<Status>("status.watch", &json!({"count": 3, "interval_ms": 5}), CallOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(watched.len(), 3);
    assert!(watched.windows(2).all(|w| w[0].uptime_ms <= w[1].uptime_ms), "{watched:?}");
    let err = client.server_stream::<Status>("status.watch", &json!({"count": 0, "interval_ms": 5}), CallOptions::new()).unwrap().next().await;
    assert_eq!(err.unwrap().unwrap_err().code, ErrorCode::INVALID_PARAMS);

    // Metrics, under /rpc too, count the calls made.
    let metrics = http(app.addr, "GET", "/rpc/metrics", &[]).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(text.lines().any(|l| l.starts_with("volley_calls_finished_total{") && l.contains("method=\"status.watch\"") && l.contains("code=\"OK\"")), "{text}");
}

#[tokio::test]
async fn the_apps_middleware_authenticates_the_websocket_and_whoami_sees_its_user() {
    let app = start(|_| {}).await;
    let url = app.rpc_url();

    let anonymous = Client::connect(&url).await.unwrap();
    assert_eq!(anonymous.call::<Option<User>>("whoami", &json!({})).await.unwrap(), None);

    let alice = Client::builder(&url).header("authorization", "Bearer alice-session").connect().await.unwrap();
    let me = alice.call::<Option<User>>("whoami", &json!({})).await.unwrap();
    assert_eq!(me, Some(User { name: "alice".into(), role: "admin".into() }));

    // A browser: the session cookie, from a page of the app's own origin, and the
    // Accept-Encoding browsers send on an upgrade too (the CompressionLayer must leave
    // the 101 alone).
    let bob = Client::builder(&url)
        .header("cookie", "session=bob-session")
        .header("origin", &app.origin())
        .header("accept-encoding", "gzip, deflate, br")
        .connect()
        .await
        .unwrap();
    assert_eq!(bob.call::<Option<User>>("whoami", &json!({})).await.unwrap().map(|u| u.name), Some("bob".into()));

    // An unknown session: the middleware refuses the upgrade before volley sees it.
    let err = Client::builder(&url).header("authorization", "Bearer forged").connect().await.err().expect("refused");
    assert!(err.message.contains("401"), "{}", err.message);
    // The cookie from a page of another site: volley's origin check refuses it.
    let err = Client::builder(&url)
        .header("cookie", "session=bob-session")
        .header("origin", "https://evil.example")
        .connect()
        .await
        .err()
        .expect("refused");
    assert!(err.message.contains("403"), "{}", err.message);
}

#[tokio::test]
async fn shutdown_drains_volley_then_axum_stops() {
    let app = start(|s| s.drain_timeout = Duration::from_secs(20)).await;
    let url = app.rpc_url();
    let client = Client::connect(&url).await.unwrap();
    let mut watcher = raw_ws(&url).await;

    // A stream in flight: five statuses, 200 ms apart.
    let mut watch = client.server_stream::<Status>("status.watch", &json!({"count": 5, "interval_ms": 200}), CallOptions::new()).unwrap();
    watch.next().await.expect("a first status").unwrap();

    app.stop.send(()).unwrap();
    // The drain starts as soon as axum's shutdown future runs; health says so, and axum
    // still answers meanwhile.
    let mut tries = 0;
    while http(app.addr, "GET", "/rpc/healthz", &[]).await.status != 503 {
        tries += 1;
        assert!(tries < 500, "/rpc/healthz never answered 503");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(http(app.addr, "GET", "/", &[]).await.status, 200, "the app's own routes are served while volley drains");
    let refused = Client::connect(&url).await.err().expect("no new WebSocket while draining");
    assert!(refused.message.contains("503"), "{}", refused.message);
    let err = client.call::<Status>("status", &json!({})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UNAVAILABLE, "no new call while draining");

    // The call in flight runs to its end.
    let mut rest = Vec::new();
    while let Some(item) = watch.next().await {
        rest.push(item.expect("the stream ends cleanly"));
    }
    assert_eq!(rest.len(), 4, "every status of the stream in flight arrived: {rest:?}");

    // Then every WebSocket is closed as going away, and axum's serve returns.
    assert_eq!(close_code(&mut watcher).await, 1001);
    tokio::time::timeout(Duration::from_secs(10), app.task).await.expect("axum stops after the drain").unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(app.addr).await.is_err(), "the listener is closed");
}
