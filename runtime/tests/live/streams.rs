//! Streams, cancellation, deadlines, metadata, flow control and calls from the server,
//! over a real socket in both encodings. Handlers are built without the macro so the
//! engine is tested on its own.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::{stream, StreamExt};
use volley::__private::{bidi_stream, client_stream, server_stream, unary, IntoCallError, MethodInfo, Never, Validate, Violations};
use volley::{CallOptions, Client, Encoding, ErrorCode, Router, Streaming};

const ENCODINGS: [Encoding; 2] = [Encoding::Json, Encoding::MsgPack];

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct N {
    n: u64,
}
impl Validate for N {
    fn validate(&self, _: &mut Violations) {}
}
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Empty {}
impl Validate for Empty {
    fn validate(&self, _: &mut Violations) {}
}

fn info(name: &'static str) -> MethodInfo {
    MethodInfo { name, docs: "", deprecated: None }
}
const NO_ERR: volley::__private::ErrorSchemaFn = <Never as IntoCallError>::error_schema;

/// Shared observations of the handlers, for the tests to assert on.
#[derive(Default)]
struct Seen {
    produced: AtomicU64,
    dropped: AtomicBool,
}

struct DropFlag(Arc<Seen>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
    }
}

fn router(seen: Arc<Seen>) -> Router {
    let s1 = seen.clone();
    let s2 = seen.clone();
    Router::new()
        .method(server_stream::<N, u64, _, _, _>(info("countdown"), NO_ERR, |ctx, p| async move {
            ctx.set_leading("started", "yes");
            ctx.set_trailer("total", p.n.to_string());
            Ok(stream::iter((1..=p.n).rev()).map(Ok))
        }))
        .method(server_stream::<N, u64, _, _, _>(info("firehose"), NO_ERR, move |_, p| {
            let seen = s1.clone();
            async move {
                let guard = DropFlag(seen.clone());
                Ok(stream::iter(0..p.n).map(move |i| {
                    let _ = &guard;
                    seen.produced.fetch_add(1, Ordering::SeqCst);
                    Ok(i)
                }))
            }
        }))
        .method(server_stream::<N, u64, _, _, _>(info("fail_after"), NO_ERR, |ctx, p| async move {
            ctx.set_trailer("where", "mid-stream");
            Ok(stream::iter(0..p.n + 1).map(move |i| {
                if i == p.n {
                    Err(volley::Error::new(ErrorCode(1001), "gave up"))
                } else {
                    Ok(i)
                }
            }))
        }))
        .method(unary::<N, u64, _, _>(info("sleep"), NO_ERR, move |_, p| {
            let seen = s2.clone();
            async move {
                let _guard = DropFlag(seen);
                tokio::time::sleep(Duration::from_millis(p.n)).await;
                Ok(p.n)
            }
        }))
        .method(client_stream::<Empty, i64, i64, _, _>(info("sum"), NO_ERR, |ctx, _, mut items: Streaming<i64>| async move {
            let mut total = 0;
            while let Some(x) = items.next().await {
                total += x?;
            }
            ctx.set_trailer("seen-metadata", ctx.metadata_value("extra").unwrap_or_default());
            Ok(total)
        }))
        .method(bidi_stream::<Empty, String, String, _, _, _>(info("echo"), NO_ERR, |_, _, items: Streaming<String>| async move {
            Ok(items.map(|r| r.map(|s| s.to_uppercase())))
        }))
        .method(unary::<N, u64, _, _>(info("ask_client"), NO_ERR, |ctx, p| async move {
            // A call from the server back into the client that called it.
            let doubled: u64 = ctx.peer().call("client.double", &serde_json::json!({ "n": p.n })).await?;
            Ok(doubled + 1)
        }))
        .method(client_stream::<Empty, i64, i64, _, _>(info("sum_slowly"), NO_ERR, |_, _, mut items: Streaming<i64>| async move {
            let mut total = 0;
            while let Some(x) = items.next().await {
                total += x?;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(total)
        }))
        .method(unary::<N, i64, _, _>(info("ask_client_sum"), NO_ERR, |ctx, p| async move {
            // A client stream from the server to the client.
            let mut call = ctx.peer().client_stream::<i64, i64>("client.sum", &serde_json::json!({}), CallOptions::new())?;
            for i in 1..=p.n as i64 {
                call.send(&i).await?;
            }
            Ok(call.finish().await?.value)
        }))
        .method(unary::<N, Vec<String>, _, _>(info("ask_client_echo"), NO_ERR, |ctx, p| async move {
            // A bidirectional stream from the server to the client.
            let (mut tx, rx) = ctx.peer().bidi_stream::<String, String>("client.shout", &serde_json::json!({}), CallOptions::new())?;
            let reader = tokio::spawn(rx.map(|r| r.unwrap()).collect::<Vec<String>>());
            for i in 0..p.n {
                tx.send(&format!("m{i}")).await?;
            }
            tx.finish();
            Ok(reader.await.unwrap())
        }))
        .method(unary::<N, u64, _, _>(info("ask_client_then_give_up"), NO_ERR, |ctx, p| async move {
            // Starts a slow call on the client and abandons it: dropping the pending call
            // cancels it on the client.
            let params = serde_json::json!({ "n": p.n });
            let call = ctx.peer().call::<u64>("client.slow", &params);
            let _ = tokio::time::timeout(Duration::from_millis(50), call).await;
            Ok(0)
        }))
        .method(unary::<N, Vec<u64>, _, _>(info("ask_client_stream"), NO_ERR, |ctx, p| async move {
            let items: Streaming<u64> = ctx.peer().server_stream("client.count", &serde_json::json!({ "n": p.n }), CallOptions::new())?;
            let got: Vec<u64> = items.map(|r| r.unwrap()).collect().await;
            Ok(got)
        }))
}

fn client_router() -> Router {
    client_router_seeing(Default::default())
}

fn client_router_seeing(seen: Arc<Seen>) -> Router {
    Router::new()
        .method(client_stream::<Empty, i64, i64, _, _>(info("client.sum"), NO_ERR, |_, _, items: Streaming<i64>| async move {
            let items: Vec<i64> = items.map(|r| r.unwrap()).collect().await;
            Ok(items.iter().sum())
        }))
        .method(bidi_stream::<Empty, String, String, _, _, _>(info("client.shout"), NO_ERR, |_, _, items: Streaming<String>| async move {
            Ok(items.map(|r| r.map(|s| s.to_uppercase())))
        }))
        .method(unary::<N, u64, _, _>(info("client.slow"), NO_ERR, move |_, p| {
            let seen = seen.clone();
            async move {
                let _guard = DropFlag(seen);
                tokio::time::sleep(Duration::from_secs(p.n)).await;
                Ok(p.n)
            }
        }))
        .method(unary::<N, u64, _, _>(info("client.double"), NO_ERR, |_, p| async move { Ok(p.n * 2) }))
        .method(server_stream::<N, u64, _, _, _>(info("client.count"), NO_ERR, |_, p| async move {
            Ok(stream::iter(0..p.n).map(Ok))
        }))
}

async fn connect(addr: std::net::SocketAddr, enc: Encoding) -> Client {
    Client::builder(&url(addr)).encoding(enc).router(client_router()).connect().await.unwrap()
}

#[tokio::test]
async fn server_stream_with_leading_and_trailing_metadata() {
    let addr = serve(router(Default::default())).await;
    for enc in ENCODINGS {
        let client = connect(addr, enc).await;
        let mut s: Streaming<u64> = client.server_stream("countdown", &serde_json::json!({"n": 5}), CallOptions::new()).unwrap();
        let mut got = vec![];
        while let Some(x) = s.next().await {
            // Leading metadata has arrived before the first item.
            assert_eq!(s.leading_metadata().and_then(|m| m.get("started")).map(String::as_str), Some("yes"));
            got.push(x.unwrap());
        }
        assert_eq!(got, vec![5, 4, 3, 2, 1], "{enc:?}");
        assert_eq!(s.trailers().unwrap().get("total").map(String::as_str), Some("5"));
        assert_eq!(client.open_calls(), 0);
    }
}

#[tokio::test]
async fn a_stream_error_ends_the_stream_with_trailers() {
    let addr = serve(router(Default::default())).await;
    for enc in ENCODINGS {
        let client = connect(addr, enc).await;
        let s: Streaming<u64> = client.server_stream("fail_after", &serde_json::json!({"n": 3}), CallOptions::new()).unwrap();
        let items: Vec<Result<u64, volley::Error>> = s.collect().await;
        assert_eq!(items.len(), 4);
        let err = items[3].as_ref().unwrap_err();
        assert_eq!(err.code, ErrorCode(1001));
        assert_eq!(err.message, "gave up");
    }
}

#[tokio::test]
async fn client_stream_sums_with_metadata() {
    let addr = serve(router(Default::default())).await;
    for enc in ENCODINGS {
        let client = connect(addr, enc).await;
        let mut call = client.client_stream::<i64, i64>("sum", &serde_json::json!({}), CallOptions::new()).unwrap();
        for i in 1..=100 {
            call.send(&i).await.unwrap();
        }
        call.sender.send_metadata([("extra".to_owned(), "hello".to_owned())].into());
        let r = call.finish().await.unwrap();
        assert_eq!(r.value, 5050, "{enc:?}");
        assert_eq!(r.trailers.get("seen-metadata").map(String::as_str), Some("hello"));
    }
}

#[tokio::test]
async fn bidi_echo() {
    let addr = serve(router(Default::default())).await;
    for enc in ENCODINGS {
        let client = connect(addr, enc).await;
        let (mut tx, mut rx) = client.bidi_stream::<String, String>("echo", &serde_json::json!({}), CallOptions::new()).unwrap();
        for word in ["a", "b", "c"] {
            tx.send(&word.to_owned()).await.unwrap();
            assert_eq!(rx.next().await.unwrap().unwrap(), word.to_uppercase());
        }
        tx.finish();
        assert!(rx.next().await.is_none());
    }
}

#[tokio::test]
async fn dropping_a_stream_cancels_the_handler() {
    for enc in ENCODINGS {
        let seen = Arc::new(Seen::default());
        let (addr, server) = serve_watched(router(seen.clone())).await;
        let client = connect(addr, enc).await;
        let mut s: Streaming<u64> =
            client.server_stream("firehose", &serde_json::json!({"n": 1_000_000_000u64}), CallOptions::new().window(4)).unwrap();
        for _ in 0..10 {
            s.next().await.unwrap().unwrap();
        }
        drop(s);
        tokio::time::timeout(Duration::from_secs(5), async {
            while !seen.dropped.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the server drops the handler's stream after the cancel");
        assert!(seen.produced.load(Ordering::SeqCst) < 100, "production stopped promptly");
        assert_eq!(client.open_calls(), 0);
        let server_side = server.peers().pop().expect("the server holds the connection");
        assert_eq!(server_side.open_calls(), 0, "the server freed the call's state");
        // The connection goes on.
        let x: u64 = client.call("sleep", &serde_json::json!({"n": 1})).await.unwrap();
        assert_eq!(x, 1);
    }
}

#[tokio::test]
async fn dropping_a_pending_call_cancels_it_on_the_server() {
    let seen = Arc::new(Seen::default());
    let addr = serve(router(seen.clone())).await;
    let client = connect(addr, Encoding::Json).await;
    let params = serde_json::json!({"n": 60_000});
    let call = client.call::<u64>("sleep", &params);
    assert!(tokio::time::timeout(Duration::from_millis(50), call).await.is_err());
    tokio::time::timeout(Duration::from_secs(5), async {
        while !seen.dropped.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the handler future is dropped");
}

#[tokio::test]
async fn the_deadline_ends_the_call() {
    let addr = serve(router(Default::default())).await;
    for enc in ENCODINGS {
        let client = connect(addr, enc).await;
        let err = client
            .call_with::<u64>("sleep", &serde_json::json!({"n": 5_000}), CallOptions::new().timeout(Duration::from_millis(100)))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::DEADLINE_EXCEEDED, "{enc:?}");
        let ok = client
            .call_with::<u64>("sleep", &serde_json::json!({"n": 1}), CallOptions::new().timeout(Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(ok.value, 1);
    }
}

#[tokio::test]
async fn a_slow_reader_never_makes_the_server_queue_more_than_the_window() {
    const WINDOW: u32 = 16;
    const TOTAL: u64 = 1_000_000;
    for enc in ENCODINGS {
        let seen = Arc::new(Seen::default());
        let (addr, _server) = serve_watched(router(seen.clone())).await;
        let client = connect(addr, enc).await;
        let mut s: Streaming<u64> =
            client.server_stream("firehose", &serde_json::json!({"n": TOTAL}), CallOptions::new().window(WINDOW)).unwrap();
        let mut consumed = 0u64;
        let mut max_ahead = 0u64;
        while let Some(item) = s.next().await {
            assert_eq!(item.unwrap(), consumed);
            consumed += 1;
            // Everything produced but not yet consumed is queued somewhere: in the
            // server's writer, the socket, or the client's inbox. Credit bounds it, plus
            // the one item the server holds while it waits for credit (it produces the
            // next item first, so that a stream's END never waits for credit).
            let ahead = seen.produced.load(Ordering::SeqCst) - consumed;
            max_ahead = max_ahead.max(ahead);
            assert!(ahead <= WINDOW as u64 + 1, "{enc:?}: {ahead} items ahead of the reader with a window of {WINDOW}");
            if consumed < 200 {
                // Read slowly at first, so the producer runs into the window.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        assert_eq!(consumed, TOTAL);
        assert!(max_ahead >= WINDOW as u64 / 2, "the producer did run ahead ({max_ahead}), so the bound was tested");
    }
}

#[tokio::test]
async fn the_server_calls_the_client() {
    let addr = serve(router(Default::default())).await;
    for enc in ENCODINGS {
        let client = connect(addr, enc).await;
        let x: u64 = client.call("ask_client", &serde_json::json!({"n": 20})).await.unwrap();
        assert_eq!(x, 41, "{enc:?}");
        let xs: Vec<u64> = client.call("ask_client_stream", &serde_json::json!({"n": 4})).await.unwrap();
        assert_eq!(xs, vec![0, 1, 2, 3]);
        let total: i64 = client.call("ask_client_sum", &serde_json::json!({"n": 100})).await.unwrap();
        assert_eq!(total, 5050, "{enc:?}");
        let echoed: Vec<String> = client.call("ask_client_echo", &serde_json::json!({"n": 3})).await.unwrap();
        assert_eq!(echoed, ["M0", "M1", "M2"], "{enc:?}");

        // The server abandoning its call cancels the client's handler.
        let seen = Arc::new(Seen::default());
        let watched = Client::builder(&url(addr)).encoding(enc).router(client_router_seeing(seen.clone())).connect().await.unwrap();
        let _: u64 = watched.call("ask_client_then_give_up", &serde_json::json!({"n": 60})).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), async {
            while !seen.dropped.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the client's handler is dropped once the server gives up on the call");
    }
    // A client without handlers answers UNIMPLEMENTED, and the server's handler sees it.
    let plain = Client::connect(&url(addr)).await.unwrap();
    let err = plain.call::<u64>("ask_client", &serde_json::json!({"n": 1})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UNIMPLEMENTED);
}

#[tokio::test]
async fn rule_breakers_get_the_documented_error_and_the_connection_keeps_serving() {
    let addr = serve(router(Default::default())).await;
    for subprotocol in ["volley.v1.json", "volley.v1.msgpack"] {
        let binary = subprotocol.ends_with("msgpack");
        let mut ws = raw(addr, subprotocol).await;
        // A long stream stays open throughout: its call must go on while others break rules.
        send_as(&mut ws, binary, r#"[0,1,"countdown",{"n":1000},{"w":1}]"#.into()).await;
        let mut frames = Frames::default();
        frames.expect(&mut ws, |f| f[0] == 3 && f[1] == 1).await; // its first ITEM

        // Data before the call opens.
        send_as(&mut ws, binary, "[3,3,1]".into()).await;
        let e = frames.expect(&mut ws, |f| f[0] == 2).await;
        assert_eq!((e[1].as_u64(), e[2].as_i64()), (Some(0), Some(410)), "{subprotocol}: {e}");

        // Items beyond the credit the callee granted.
        send_as(&mut ws, binary, r#"[0,5,"sum",{}]"#.into()).await;
        let credit = frames.expect(&mut ws, |f| f[0] == 7 && f[1] == 5).await;
        let granted = credit[2].as_u64().unwrap();
        for i in 0..=granted {
            send_as(&mut ws, binary, format!("[3,5,{i}]")).await;
        }
        let e = frames.expect(&mut ws, |f| f[1] == 5 && f[0] != 7).await;
        assert_eq!((e[0].as_u64(), e[2].as_i64()), (Some(2), Some(429)), "{subprotocol}: {e}");

        // A second END while the call is still open.
        send_as(&mut ws, binary, r#"[0,7,"sum_slowly",{}]"#.into()).await;
        frames.expect(&mut ws, |f| f[0] == 7 && f[1] == 7).await;
        send_as(&mut ws, binary, "[3,7,20]".into()).await;
        send_as(&mut ws, binary, "[4,7]".into()).await;
        send_as(&mut ws, binary, "[4,7]".into()).await;
        let e = frames.expect(&mut ws, |f| f[1] == 7 && f[0] != 7).await;
        assert_eq!((e[0].as_u64(), e[2].as_i64()), (Some(2), Some(412)), "{subprotocol}: {e}");

        // An ITEM on a unary call.
        send_as(&mut ws, binary, r#"[0,9,"sleep",{"n":300}]"#.into()).await;
        send_as(&mut ws, binary, "[3,9,1]".into()).await;
        let e = frames.expect(&mut ws, |f| f[1] == 9).await;
        assert_eq!((e[0].as_u64(), e[2].as_i64()), (Some(2), Some(412)), "{subprotocol}: {e}");

        // A cancel for a call that was never opened.
        send_as(&mut ws, binary, "[5,11]".into()).await;
        let e = frames.expect(&mut ws, |f| f[0] == 2).await;
        assert_eq!((e[1].as_u64(), e[2].as_i64()), (Some(0), Some(410)), "{subprotocol}: {e}");

        // Other calls go on: a fresh unary call, and the long stream still streams.
        send_as(&mut ws, binary, r#"[0,13,"sleep",{"n":1}]"#.into()).await;
        assert_eq!(frames.expect(&mut ws, |f| f[1] == 13).await, serde_json::json!([1, 13, 1]));
        send_as(&mut ws, binary, "[7,1,1]".into()).await;
        let item = frames.expect(&mut ws, |f| f[0] == 3 && f[1] == 1).await;
        assert_eq!(item[2], 999, "{subprotocol}: the stream went on where it was");
    }
}

/// Frames received on a raw socket, read until one matches; the rest are kept for later.
#[derive(Default)]
struct Frames(Vec<serde_json::Value>);

impl Frames {
    async fn expect(&mut self, ws: &mut Ws, want: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        if let Some(i) = self.0.iter().position(&want) {
            return self.0.remove(i);
        }
        loop {
            let f = recv_json(ws).await;
            if want(&f) {
                return f;
            }
            self.0.push(f);
        }
    }
}

#[tokio::test]
async fn senders_take_whole_streams_and_work_as_sinks() {
    use futures_util::SinkExt;
    let addr = serve(router(Default::default())).await;
    let client = connect(addr, Encoding::MsgPack).await;

    // More items than the callee's window: send_all waits for credit as it goes.
    let mut up = client.client_stream::<i64, i64>("sum", &serde_json::json!({}), CallOptions::new()).unwrap();
    assert_eq!(up.send_all(stream::iter(1..=1000)).await.unwrap(), 1000);
    assert_eq!(up.finish().await.unwrap().value, 500_500);

    let (tx, rx) = client.bidi_stream::<String, String>("echo", &serde_json::json!({}), CallOptions::new()).unwrap();
    let reader = tokio::spawn(rx.map(Result::unwrap).collect::<Vec<String>>());
    let mut sink = tx.into_sink();
    sink.send_all(&mut stream::iter(["a", "b", "c"].map(|s| Ok(s.to_owned())))).await.unwrap();
    sink.close().await.unwrap();
    drop(sink);
    assert_eq!(reader.await.unwrap(), ["A", "B", "C"]);
}

#[tokio::test]
async fn endless_client_metadata_fails_the_call_instead_of_growing_it() {
    let addr = serve(router(Default::default())).await;
    let mut ws = raw(addr, "volley.v1.json").await;
    send_as(&mut ws, false, r#"[0,1,"sum",{}]"#.into()).await;
    let mut frames = Frames::default();
    frames.expect(&mut ws, |f| f[0] == 7 && f[1] == 1).await;
    for i in 0..200 {
        send_as(&mut ws, false, format!(r#"[8,1,{{"k{i}":"v"}}]"#)).await;
    }
    let e = frames.expect(&mut ws, |f| f[0] == 2 && f[1] == 1).await;
    assert_eq!(e[2], 412, "{e}");
    send_as(&mut ws, false, r#"[0,3,"sleep",{"n":1}]"#.into()).await;
    assert_eq!(frames.expect(&mut ws, |f| f[1] == 3).await, serde_json::json!([1, 3, 1]));
}
