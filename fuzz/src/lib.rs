//! Shared pieces of the fuzz targets: the methods the live server serves, the server
//! itself (started once per process on a background tokio runtime), and a liveness
//! check that makes a real WebSocket call against it.
//!
//! Nothing here may panic on its own account: libFuzzer's panic hook aborts the process
//! on any panic, in any thread, so every panic is a finding.

pub mod roundtrip;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use volley::protocol::Frame;
use volley::{model, rpc, Context, Encoding, Error, ErrorCode, Router, Server, Streaming};

// ---- the methods ----

/// Adds two integers (wrapping: an overflow is not what is being fuzzed).
#[rpc]
pub async fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// `add` under its old name: every call is answered with a `DEPRECATED` warning first.
#[deprecated = "use `add`"]
#[rpc(name = "old.add")]
pub async fn old_add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Server stream: `0..n`, with leading and trailing metadata.
#[rpc]
pub async fn count(ctx: Context, #[validate(range(max = 64))] n: u32) -> impl Stream<Item = u32> {
    ctx.set_leading("count-n", n.to_string());
    ctx.set_trailer("count-done", "true");
    futures_util::stream::iter(0..n)
}

/// Server stream that takes its time: `n` items, one every `every_ms` milliseconds, ending
/// early (with a trailer) when the caller stops it.
#[rpc]
pub async fn ticks(
    ctx: Context,
    #[validate(range(max = 16))] n: u32,
    #[validate(range(max = 3))] every_ms: u64,
) -> impl Stream<Item = u32> {
    futures_util::stream::unfold(0u32, move |i| {
        let ctx = ctx.clone();
        async move {
            if i >= n {
                return None;
            }
            if ctx.is_stopping() {
                ctx.set_trailer("ticks-stopped", i.to_string());
                return None;
            }
            if every_ms > 0 {
                tokio::time::sleep(Duration::from_millis(every_ms)).await;
            }
            Some((i, i + 1))
        }
    })
}

/// Client stream: the (wrapping) sum of the uploaded numbers; the count as a trailer.
/// Client metadata `scale` multiplies the total.
#[rpc]
pub async fn total(ctx: Context, mut numbers: Streaming<i64>) -> Result<i64, Error> {
    let mut sum = 0i64;
    let mut n = 0u64;
    while let Some(x) = numbers.next().await {
        sum = sum.wrapping_add(x?);
        n += 1;
    }
    ctx.set_trailer("count", n.to_string());
    match ctx.metadata_value("scale") {
        None => Ok(sum),
        Some(s) => match s.parse::<i64>() {
            Ok(k) => Ok(sum.wrapping_mul(k)),
            Err(_) => Err(Error::new(ErrorCode::INVALID_PARAMS, "metadata `scale` is not an integer")),
        },
    }
}

/// Bidirectional stream: every uploaded value comes back as it arrives.
#[rpc]
pub async fn echo(values: Streaming<serde_json::Value>) -> impl Stream<Item = Result<serde_json::Value, Error>> {
    values
}

/// Sleeps up to a few milliseconds, for deadlines and cancels to race against.
#[rpc]
pub async fn nap(#[validate(range(max = 5))] ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Why `check` refused.
#[model]
#[serde(tag = "kind")]
pub enum CheckError {
    /// The number was negative.
    Negative {
        /// The number.
        n: i64,
    },
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Negative { n } => write!(f, "{n} is negative"),
        }
    }
}

/// A typed application error for negative numbers.
#[rpc]
pub async fn check(n: i64) -> Result<i64, CheckError> {
    if n < 0 {
        Err(CheckError::Negative { n })
    } else {
        Ok(n)
    }
}

/// A structured parameter with declared constraints.
#[model]
pub struct Greeting {
    /// Who.
    #[validate(length(min = 1, max = 8))]
    pub name: String,
    /// How often.
    #[validate(range(min = 1, max = 3))]
    pub times: u8,
}

/// Validation of a nested model.
#[rpc]
pub async fn greet(greeting: Greeting) -> String {
    let mut s = String::new();
    for _ in 0..greeting.times {
        s.push_str("hello ");
    }
    s + &greeting.name
}

/// The router every target serves.
#[allow(deprecated)]
pub fn router() -> Router {
    Router::new()
        .named("fuzz", "0.0.0", "The volley fuzz targets' server.")
        .rpc::<add>()
        .rpc::<old_add>()
        .rpc::<count>()
        .rpc::<ticks>()
        .rpc::<total>()
        .rpc::<echo>()
        .rpc::<nap>()
        .rpc::<check>()
        .rpc::<greet>()
}

/// The names a fuzz input can call (the router's methods and the reserved ones); the
/// fuzzer picks among them or makes up one.
pub const METHODS: &[&str] = &[
    "add",
    "old.add",
    "count",
    "ticks",
    "total",
    "echo",
    "nap",
    "check",
    "greet",
    "volley.introspect",
    "volley.subscribe",
    "volley.unsubscribe",
];

// ---- the server ----

/// The process's server and the runtime it runs on.
pub struct Harness {
    /// The runtime: the server runs on its worker threads; targets `block_on` it from
    /// libFuzzer's thread for their client side.
    pub rt: tokio::runtime::Runtime,
    /// Where the server listens.
    pub addr: SocketAddr,
}

static SERVER_EXITED: AtomicBool = AtomicBool::new(false);

/// The server, started on first use.
pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("volley-fuzz-server")
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the listener's address");
        rt.spawn(async move {
            let outcome = Server::new(router()).serve(listener).await;
            eprintln!("volley-fuzz: the server's serve() returned: {outcome:?}");
            SERVER_EXITED.store(true, Ordering::SeqCst);
        });
        Harness { rt, addr }
    })
}

/// How long a liveness check may take before the server counts as hung.
pub const ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A raw WebSocket connection to the server with one subprotocol.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to the server offering `encoding`.
pub async fn connect(addr: SocketAddr, encoding: Encoding) -> Result<Ws, String> {
    let mut req = format!("ws://{addr}/").into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert("sec-websocket-protocol", encoding.subprotocol().parse().expect("a header value"));
    // Without TCP_NODELAY, small frames written back to back wait for delayed ACKs.
    let (ws, response) = tokio_tungstenite::connect_async_with_config(req, None, true).await.map_err(|e| format!("upgrade failed: {e}"))?;
    let chosen = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
    if chosen != Some(encoding.subprotocol()) {
        return Err(format!("server chose subprotocol {chosen:?}, not {}", encoding.subprotocol()));
    }
    Ok(ws)
}

/// The WebSocket message carrying one encoded frame in `encoding`.
pub fn message(encoding: Encoding, bytes: Vec<u8>) -> Message {
    match encoding {
        Encoding::MsgPack => Message::binary(bytes),
        Encoding::Json => Message::text(String::from_utf8(bytes).expect("volley encodes JSON as UTF-8")),
    }
}

/// A `CALL add {a, b}` frame.
pub fn add_call(encoding: Encoding, id: u64, a: i64, b: i64) -> Message {
    let frame = Frame::Call {
        id,
        method: "add".into(),
        params: encoding.encode_value(&serde_json::json!({ "a": a, "b": b })).expect("encodable"),
        options: Default::default(),
    };
    message(encoding, encoding.frame_to_vec(&frame))
}

/// Decodes a frame the server sent, checking it came in the WebSocket message type of
/// the encoding. `Ok(None)` for control messages.
pub fn server_frame(encoding: Encoding, msg: Message) -> Result<Option<Frame>, String> {
    let bytes: Bytes = match (msg, encoding) {
        (Message::Text(t), Encoding::Json) => Bytes::copy_from_slice(t.as_bytes()),
        (Message::Binary(b), Encoding::MsgPack) => b,
        (Message::Ping(_) | Message::Pong(_) | Message::Frame(_), _) => return Ok(None),
        (Message::Close(c), _) => return Err(format!("the server closed the connection: {c:?}")),
        (other, _) => return Err(format!("the server sent a message of the wrong type for {encoding:?}: {other:?}")),
    };
    encoding
        .decode_frame(&bytes)
        .map(Some)
        .map_err(|e| format!("the server sent a frame that does not decode ({e}): {:?}", String::from_utf8_lossy(&bytes)))
}

/// One well-formed upgrade and `add(1, 2)` call on a fresh connection, answered `3`.
pub async fn alive_check(addr: SocketAddr, encoding: Encoding) -> Result<(), String> {
    let run = async {
        let mut ws = connect(addr, encoding).await?;
        ws.send(add_call(encoding, 1, 1, 2)).await.map_err(|e| format!("sending the call failed: {e}"))?;
        loop {
            let msg = ws.next().await.ok_or("the connection ended without an answer")?.map_err(|e| e.to_string())?;
            match server_frame(encoding, msg)? {
                Some(Frame::Result { id: 1, value, .. }) => {
                    let sum: i64 = encoding.decode_value(value.as_bytes()).map_err(|e| e.to_string())?;
                    if sum != 3 {
                        return Err(format!("add(1, 2) answered {sum}"));
                    }
                    let _ = ws.close(None).await;
                    return Ok(());
                }
                Some(other @ Frame::Error { .. }) => return Err(format!("add(1, 2) failed: {other:?}")),
                _ => {}
            }
        }
    };
    match tokio::time::timeout(ALIVE_TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer to add(1, 2) within {ALIVE_TIMEOUT:?}")),
    }
}

/// Panics (a finding) unless the server still serves a fresh connection correctly.
pub fn assert_alive(h: &Harness, encoding: Encoding) {
    assert!(!SERVER_EXITED.load(Ordering::SeqCst), "the server's serve() returned");
    if let Err(e) = h.rt.block_on(alive_check(h.addr, encoding)) {
        panic!("the server no longer serves: {e}");
    }
}
