//! The wire protocol over a real socket, with handlers built by hand (no macro), so the
//! connection engine is tested on its own.

use crate::common;

use std::sync::Arc;

use common::*;
use volley::__private::{unary, IntoCallError, MethodInfo, Never, Validate, Violations};
use volley::{Client, Encoding, ErrorCode, Router, Server};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddParams {
    a: i64,
    b: i64,
}
impl Validate for AddParams {
    fn validate(&self, _: &mut Violations) {}
}

fn info(name: &'static str) -> MethodInfo {
    MethodInfo { name, docs: "", deprecated: None }
}

fn router() -> Router {
    Router::new()
        .method(unary::<AddParams, i64, _, _>(info("add"), <Never as IntoCallError>::error_schema, |_, p| async move {
            Ok(p.a + p.b)
        }))
        .method(unary::<AddParams, i64, _, _>(info("slow_add"), <Never as IntoCallError>::error_schema, |_, p| async move {
            tokio::time::sleep(std::time::Duration::from_millis((p.a % 7) as u64)).await;
            Ok(p.a + p.b)
        }))
        .method(unary::<AddParams, i64, _, _>(info("sleepy_add"), <Never as IntoCallError>::error_schema, |_, p| async move {
            tokio::time::sleep(std::time::Duration::from_millis(p.a as u64)).await;
            Ok(p.a + p.b)
        }))
        .method(unary::<AddParams, i64, _, _>(info("boom"), <Never as IntoCallError>::error_schema, |_, p| async move {
            if p.a == 1 {
                panic!("boom");
            }
            Ok(0)
        }))
}

#[tokio::test]
async fn unary_calls_in_both_encodings() {
    let addr = serve(router()).await;
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let client = Client::connect_with(&url(addr), enc).await.unwrap();
        let sum: i64 = client.call("add", &serde_json::json!({"a": 40, "b": 2})).await.unwrap();
        assert_eq!(sum, 42, "{enc:?}");
        let err = client.call::<i64>("nope", &serde_json::json!({})).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::METHOD_NOT_FOUND, "{enc:?}");
        assert!(err.message.contains("nope"));
        let err = client.call::<i64>("add", &serde_json::json!({"a": 1})).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
        assert!(err.message.contains("missing field `b`"), "{}", err.message);
    }
}

#[tokio::test]
async fn a_thousand_concurrent_calls_on_one_connection() {
    let addr = serve(router()).await;
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let client = Arc::new(Client::connect_with(&url(addr), enc).await.unwrap());
        let calls = (0..1000i64).map(|i| {
            let c = client.clone();
            async move { (i, c.call::<i64>("slow_add", &serde_json::json!({"a": i, "b": 1000})).await) }
        });
        let results = futures_util::future::join_all(calls).await;
        for (i, r) in results {
            assert_eq!(r.unwrap(), i + 1000);
        }
        assert_eq!(client.open_calls(), 0);
    }
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_call() {
    let addr = serve(router()).await;
    let client = Client::connect(&url(addr)).await.unwrap();
    let err = client.call::<i64>("boom", &serde_json::json!({"a": 1, "b": 0})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INTERNAL);
    let sum: i64 = client.call("add", &serde_json::json!({"a": 1, "b": 2})).await.unwrap();
    assert_eq!(sum, 3);
}

#[tokio::test]
async fn bad_input_is_answered_and_the_connection_keeps_serving() {
    let addr = serve(router()).await;
    for subprotocol in ["volley.v1.json", "volley.v1.msgpack"] {
        let mut ws = raw(addr, subprotocol).await;
        let binary = subprotocol.ends_with("msgpack");
        let mut id = 1u64;
        let big = "x".repeat(1 << 20);
        // (frame with {id} for a fresh odd id, which id the error must name ("id" or "0"), code)
        let cases: Vec<(String, &str, i64)> = vec![
            ("not a frame".into(), "0", 400),
            (r#"[0,{id},"add",{"a":1,"b":"x"}]"#.into(), "id", 422),
            (r#"[0,{id},"missing",{}]"#.into(), "id", 404),
            ("[42,{id}]".into(), "0", 400),
            (r#"[0,{id},7,{}]"#.into(), "id", 400),
            (r#"[0,1000000,"add",{}]"#.into(), "0", 412),
            (r#"[0,1,"add",{"a":1,"b":2}]"#.into(), "0", 409),
            ("[5,{id}]".into(), "0", 410),
            ("[3,{id},1]".into(), "0", 410),
            (format!(r#"[0,{{id}},"add",{{"a":1,"b":2,"pad":"{big}"}}]"#), "id", 413),
        ];
        for (frame, on, code) in &cases {
            id += 2;
            let frame = frame.replace("{id}", &id.to_string());
            send_as(&mut ws, binary, frame.clone()).await;
            let reply = recv_json(&mut ws).await;
            let what = &frame[..frame.len().min(40)];
            assert_eq!(reply[0], 2, "{subprotocol}: an ERROR frame for {what}: {reply}");
            let expected_id = if *on == "id" { id } else { 0 };
            assert_eq!(reply[1], expected_id, "{subprotocol}: {what}: {reply}");
            assert_eq!(reply[2], *code, "{subprotocol}: {what}: {reply}");
            // The same connection still serves calls.
            id += 2;
            send_as(&mut ws, binary, format!(r#"[0,{id},"add",{{"a":1,"b":2}}]"#)).await;
            assert_eq!(recv_json(&mut ws).await, serde_json::json!([1, id, 3]), "{subprotocol}: after {what}");
        }
    }
}

#[tokio::test]
async fn frames_of_the_wrong_encoding_are_refused() {
    use futures_util::SinkExt;
    let addr = serve(router()).await;
    let mut ws = raw(addr, "volley.v1.msgpack").await;
    send_text(&mut ws, "[0,1,\"add\",{\"a\":1,\"b\":2}]").await;
    let reply = recv_json(&mut ws).await;
    assert_eq!(reply[0], 2);
    assert_eq!(reply[1], 1, "the readable CALL is failed on its own id");
    assert_eq!(reply[2], 415);
    let call = rmp_serde::to_vec(&(0u8, 3u64, "add", serde_json::json!({"a": 2, "b": 2}))).unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::binary(call)).await.unwrap();
    assert_eq!(recv_json(&mut ws).await, serde_json::json!([1, 3, 4]));

    let mut ws = raw(addr, "volley.v1.json").await;
    let call = rmp_serde::to_vec(&(0u8, 1u64, "add", serde_json::json!({"a": 2, "b": 2}))).unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::binary(call)).await.unwrap();
    let reply = recv_json(&mut ws).await;
    assert_eq!((reply[0].as_u64(), reply[1].as_u64(), reply[2].as_u64()), (Some(2), Some(1), Some(415)));
}

#[tokio::test]
async fn handshake_without_a_volley_subprotocol_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let addr = serve(router()).await;
    let req = url(addr).into_client_request().unwrap();
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status(), 400);
            let body = String::from_utf8(resp.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("volley.v1.json"), "{body}");
        }
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn schema_and_health_over_http() {
    let addr = serve(router()).await;
    let get = |path: &'static str| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    };
    let health = get("/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let schema = get("/schema").await;
    let body = &schema[schema.find("\r\n\r\n").unwrap() + 4..];
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["volley"], 3);
    let names: Vec<&str> = doc["methods"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"add") && names.contains(&"volley.introspect"), "{names:?}");
    let add = doc["methods"].as_array().unwrap().iter().find(|m| m["name"] == "add").unwrap();
    assert_eq!(add["params"]["required"], serde_json::json!(["a", "b"]));
    let client = Client::connect(&url(addr)).await.unwrap();
    let via_rpc: serde_json::Value = client.call("volley.introspect", &serde_json::json!({})).await.unwrap();
    assert_eq!(via_rpc, doc);
}

#[tokio::test]
async fn shutdown_lets_calls_in_flight_finish_and_refuses_new_ones() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Server::new(router()).serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let client = Arc::new(Client::connect(&url(addr)).await.unwrap());
    let slow = {
        let client = client.clone();
        tokio::spawn(async move { client.call::<i64>("sleepy_add", &serde_json::json!({"a": 300, "b": 0})).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    // While draining: new calls are refused, the one in flight finishes.
    let err = client.call::<i64>("add", &serde_json::json!({"a": 1, "b": 2})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UNAVAILABLE);
    assert_eq!(slow.await.unwrap().unwrap(), 300);
    tokio::time::timeout(std::time::Duration::from_secs(5), server).await.expect("the server stops once drained").unwrap().unwrap();
    assert!(Client::connect(&url(addr)).await.is_err(), "nothing listens any more");
}
