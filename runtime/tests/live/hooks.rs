//! Lifecycle hooks over a real socket: the order they run in, altering metadata, and
//! refusing a connection or a call with a chosen error.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{stream, Stream, StreamExt};
use serde_json::json;
use volley::{rpc, CallOptions, Client, ConnectionInfo, Context, Encoding, Error, ErrorCode, Hook, Metadata, Payload, Router, Streaming};

/// Returns the metadata value `user` as the hooks left it.
#[rpc]
async fn whoami(ctx: Context) -> Option<String> {
    ctx.set_leading("lead", "1");
    ctx.set_trailer("trail", "1");
    ctx.metadata_value("user")
}

#[rpc]
async fn count(n: u32) -> impl Stream<Item = u32> {
    stream::iter(1..=n)
}

#[rpc]
async fn sum(mut items: Streaming<i64>) -> Result<i64, Error> {
    let mut s = 0;
    while let Some(i) = items.next().await {
        s += i?;
    }
    Ok(s)
}

#[rpc]
async fn secret() -> String {
    "the secret".into()
}

/// Records every step it sees, as `step` or `step:method`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Hook for Recorder {
    fn before_connection(&self, headers: &volley::HeaderMap, _: Option<std::net::SocketAddr>) -> Result<(), Error> {
        if headers.get("x-refuse").is_some() {
            return Err(Error::new(ErrorCode::UNAUTHENTICATED, "no entry"));
        }
        self.push("before_connection");
        Ok(())
    }
    fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        self.push("after_accept");
        if conn.header("x-refuse-after-accept").is_some() {
            return Err(Error::new(ErrorCode::PERMISSION_DENIED, "not you"));
        }
        Ok(())
    }
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        self.push(format!("before_request:{}", ctx.method()));
        if ctx.method() == "secret" {
            return Err(Error::new(ErrorCode::PERMISSION_DENIED, "secret is off limits"));
        }
        Ok(())
    }
    fn before_request_metadata(&self, _: &Context, metadata: &mut Metadata) -> Result<(), Error> {
        self.push("before_request_metadata");
        if let Some(u) = metadata.get_mut("user") {
            *u = u.to_uppercase();
        }
        Ok(())
    }
    fn before_request_message(&self, _: &Context, _: &Payload) -> Result<(), Error> {
        self.push("before_request_message");
        Ok(())
    }
    fn before_request_data(&self, _: &Context, _: &Payload) -> Result<(), Error> {
        self.push("before_request_data");
        Ok(())
    }
    fn before_leading_metadata(&self, _: &Context, metadata: &mut Metadata) {
        self.push("before_leading_metadata");
        metadata.insert("hooked".into(), "yes".into());
    }
    fn before_response_message(&self, _: &Context, _: &mut Payload) -> Result<(), Error> {
        self.push("before_response_message");
        Ok(())
    }
    fn before_trailing_metadata(&self, _: &Context, metadata: &mut Metadata) {
        self.push("before_trailing_metadata");
        metadata.insert("hooked".into(), "yes".into());
    }
    fn after_request(&self, ctx: &Context, outcome: Result<(), &Error>, _: Duration) {
        self.push(format!("after_request:{}:{}", ctx.method(), if outcome.is_ok() { "ok" } else { "err" }));
    }
    fn after_connection(&self, _: &ConnectionInfo) {
        self.push("after_connection");
    }
}

fn router(rec: &Recorder) -> Router {
    Router::new().hook(rec.clone()).rpc::<whoami>().rpc::<count>().rpc::<sum>().rpc::<secret>()
}

async fn wait_for(rec: &Recorder, step: &str) {
    for _ in 0..200 {
        if rec.0.lock().unwrap().iter().any(|s| s == step) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{step} never ran: {:?}", rec.0.lock().unwrap());
}

#[tokio::test]
async fn hooks_run_in_the_documented_order() {
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let rec = Recorder::default();
        let addr = common::serve(router(&rec)).await;
        let client = Client::connect_with(&common::url(addr), enc).await.unwrap();
        wait_for(&rec, "after_accept").await;
        assert_eq!(rec.take(), ["before_connection", "after_accept"]);

        // A unary call: metadata altered on the way in, leading and trailing on the way out.
        let r = client.call_with::<Option<String>>("whoami", &json!({}), CallOptions::new().metadata("user", "ann")).await.unwrap();
        assert_eq!(r.value.as_deref(), Some("ANN"), "before_request_metadata altered what the handler saw");
        assert_eq!(r.leading.get("hooked").map(String::as_str), Some("yes"));
        assert_eq!(r.leading.get("lead").map(String::as_str), Some("1"));
        assert_eq!(r.trailers.get("hooked").map(String::as_str), Some("yes"));
        assert_eq!(r.trailers.get("trail").map(String::as_str), Some("1"));
        assert_eq!(
            rec.take(),
            [
                "before_request:whoami",
                "before_request_metadata",
                "before_request_message",
                "before_leading_metadata",
                "before_response_message",
                "before_trailing_metadata",
                "after_request:whoami:ok",
            ]
        );

        // A client stream: each item passes before_request_data.
        let mut up = client.client_stream::<i64, i64>("sum", &json!({}), CallOptions::new()).unwrap();
        up.send(&1).await.unwrap();
        up.send(&2).await.unwrap();
        assert_eq!(up.finish().await.unwrap().value, 3);
        let steps = rec.take();
        assert_eq!(steps.iter().filter(|s| *s == "before_request_data").count(), 2, "{steps:?}");
        assert_eq!(steps.first().map(String::as_str), Some("before_request:sum"));
        assert_eq!(steps.last().map(String::as_str), Some("after_request:sum:ok"));

        // A server stream: one before_response_message per item.
        let items: Vec<u32> = client.server_stream::<u32>("count", &json!({"n": 3}), CallOptions::new()).unwrap().map(Result::unwrap).collect().await;
        assert_eq!(items, [1, 2, 3]);
        let steps = rec.take();
        assert_eq!(steps.iter().filter(|s| *s == "before_response_message").count(), 3, "{steps:?}");
        let pos = |name: &str| steps.iter().position(|s| s == name).unwrap_or_else(|| panic!("{name} in {steps:?}"));
        assert!(pos("before_leading_metadata") < pos("before_response_message"));
        assert!(pos("before_trailing_metadata") < pos("after_request:count:ok"));

        drop(client);
        wait_for(&rec, "after_connection").await;
    }
}

#[tokio::test]
async fn a_hook_refuses_a_call_with_its_chosen_error() {
    let rec = Recorder::default();
    let addr = common::serve(router(&rec)).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let err = client.call::<String>("secret", &json!({})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PERMISSION_DENIED);
    assert_eq!(err.message, "secret is off limits");
    let steps = rec.take();
    assert!(!steps.iter().any(|s| s == "before_request_message"), "the handler never ran: {steps:?}");
    assert!(steps.iter().any(|s| s == "after_request:secret:err"), "{steps:?}");
    // The connection keeps serving.
    assert_eq!(client.call::<Option<String>>("whoami", &json!({})).await.unwrap(), None);
}

#[tokio::test]
async fn a_hook_refuses_a_connection_before_the_upgrade() {
    let rec = Recorder::default();
    let addr = common::serve(router(&rec)).await;
    let err = Client::builder(&common::url(addr)).header("x-refuse", "1").connect().await.err().expect("refused");
    assert!(err.message.contains("401"), "{}", err.message);
    assert!(rec.take().is_empty(), "nothing was accepted");
}

#[tokio::test]
async fn a_hook_refuses_a_connection_after_accept_and_says_why() {
    let rec = Recorder::default();
    let addr = common::serve(router(&rec)).await;
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(common::url(addr)).unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "volley.v1.json".parse().unwrap());
    req.headers_mut().insert("x-refuse-after-accept", "1".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let frame = common::recv_json(&mut ws).await;
    assert_eq!(frame, json!([2, 0, 403, "not you"]));
    let next = ws.next().await.unwrap().unwrap();
    match next {
        tokio_tungstenite::tungstenite::Message::Close(Some(c)) => assert_eq!(u16::from(c.code), 1008),
        other => panic!("expected a close frame, got {other:?}"),
    }
}
