//! Streams, cancellation, deadlines, metadata, flow control and calls from the server,
//! over a real socket in both encodings. Handlers are built without the macro so the
//! engine is tested on its own.

mod common;

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
        .method(unary::<N, Vec<u64>, _, _>(info("ask_client_stream"), NO_ERR, |ctx, p| async move {
            let items: Streaming<u64> = ctx.peer().server_stream("client.count", &serde_json::json!({ "n": p.n }), CallOptions::new())?;
            let got: Vec<u64> = items.map(|r| r.unwrap()).collect().await;
            Ok(got)
        }))
}

fn client_router() -> Router {
    Router::new()
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
        let addr = serve(router(seen.clone())).await;
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
        let addr = serve(router(seen.clone())).await;
        let client = connect(addr, enc).await;
        let mut s: Streaming<u64> =
            client.server_stream("firehose", &serde_json::json!({"n": TOTAL}), CallOptions::new().window(WINDOW)).unwrap();
        let mut consumed = 0u64;
        let mut max_ahead = 0u64;
        while let Some(item) = s.next().await {
            assert_eq!(item.unwrap(), consumed);
            consumed += 1;
            // Everything produced but not yet consumed is queued somewhere: in the
            // server's writer, the socket, or the client's inbox. Credit bounds it.
            let ahead = seen.produced.load(Ordering::SeqCst) - consumed;
            max_ahead = max_ahead.max(ahead);
            assert!(ahead <= WINDOW as u64, "{enc:?}: {ahead} items ahead of the reader with a window of {WINDOW}");
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
    }
    // A client without handlers answers UNIMPLEMENTED, and the server's handler sees it.
    let plain = Client::connect(&url(addr)).await.unwrap();
    let err = plain.call::<u64>("ask_client", &serde_json::json!({"n": 1})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UNIMPLEMENTED);
}
