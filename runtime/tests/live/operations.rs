//! Long-running operations over real sockets: answered at once or accepted (the id in
//! leading metadata before the result), progress to watchers, results kept after the
//! caller's connection is gone and fetched or awaited by id from another, listing,
//! cancelling, expiry, and the bounds.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Semaphore;
use volley::operations::Operation;
use volley::{Client, Error, ErrorCode, Notification, Router, Server};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Job {
    /// Steps to run; 0 answers at once.
    steps: u32,
    /// Fail at the end, with this code.
    #[serde(default)]
    fail: Option<i64>,
    /// Wait for the gate before accepting.
    #[serde(default)]
    late: bool,
}

/// `job`: answers at once for 0 steps; otherwise accepts, reports each step (waiting
/// for the test's gate before each), and answers the steps run.
fn router(gate: Arc<Semaphore>) -> Router {
    Router::new().operation("job", "Runs steps.", move |op: Operation<u32>, job: Job| {
        let gate = gate.clone();
        async move {
            if job.steps == 0 {
                return Ok(0);
            }
            if job.late {
                gate.acquire().await.unwrap().forget();
            }
            op.accept();
            for step in 1..=job.steps {
                gate.acquire().await.unwrap().forget();
                op.progress(&step)?;
            }
            if let Some(code) = job.fail {
                return Err(Error::new(ErrorCode(code), "the job failed").with_data(json!({ "steps": job.steps })));
            }
            Ok(job.steps)
        }
    })
}

async fn serve(gate: Arc<Semaphore>, retention: Duration, capacity: usize) -> std::net::SocketAddr {
    common::serve_server(Server::new(router(gate)).operations(retention, capacity)).await
}

#[tokio::test]
async fn a_handler_that_answers_at_once_leaves_no_operation() {
    let addr = serve(Arc::new(Semaphore::new(0)), Duration::from_secs(60), 100).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let r = client.call_with::<u32>("job", &json!({"steps": 0}), volley::CallOptions::new()).await.unwrap();
    assert_eq!(r.value, 0);
    assert!(r.leading.get("volley-operation").is_none());
    assert_eq!(client.call::<Value>("volley.operation.list", &json!({})).await.unwrap(), json!([]));
}

#[tokio::test]
async fn an_accepted_operation_sends_its_id_at_once_then_progress_then_the_result() {
    let gate = Arc::new(Semaphore::new(0));
    let addr = serve(gate.clone(), Duration::from_secs(60), 100).await;
    let mut ws = common::raw(addr, "volley.v1.json").await;
    common::send_text(&mut ws, r#"[0, 1, "job", {"steps": 2}]"#).await;
    // The id comes before any work is done: the gate is still shut.
    let meta = common::recv_json(&mut ws).await;
    assert_eq!(meta[0], 8, "{meta}");
    let id = meta[2]["volley-operation"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    gate.add_permits(2);
    assert_eq!(common::recv_json(&mut ws).await, json!([10, "volley.operation", {"id": id, "progress": 1}]));
    assert_eq!(common::recv_json(&mut ws).await, json!([10, "volley.operation", {"id": id, "progress": 2}]));
    assert_eq!(common::recv_json(&mut ws).await, json!([1, 1, 2]));
    // Kept: its outcome by id.
    common::send_text(&mut ws, &format!(r#"[0, 3, "volley.operation.get", {{"id": "{id}"}}]"#)).await;
    assert_eq!(common::recv_json(&mut ws).await, json!([1, 3, {"id": id, "method": "job", "done": true, "progress": 2, "result": 2}]));
}

#[tokio::test]
async fn a_client_that_lost_its_connection_gets_the_result_from_another() {
    let gate = Arc::new(Semaphore::new(0));
    let addr = serve(gate.clone(), Duration::from_secs(60), 100).await;
    let id = {
        let mut ws = common::raw(addr, "volley.v1.json").await;
        common::send_text(&mut ws, r#"[0, 1, "job", {"steps": 3}]"#).await;
        let meta = common::recv_json(&mut ws).await;
        meta[2]["volley-operation"].as_str().unwrap().to_owned()
        // dropped here: the connection goes, the operation stays
    };
    let mut other = Client::connect(&common::url(addr)).await.unwrap();
    let mut rx = other.notifications().unwrap();
    let running = other.call::<Value>("volley.operation.get", &json!({"id": id})).await.unwrap();
    assert_eq!((running["done"].clone(), running.get("result")), (json!(false), None));
    let by_id = json!({"id": id});
    let (waited, ()) = tokio::join!(other.call::<u32>("volley.operation.wait", &by_id), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        gate.add_permits(3);
    });
    assert_eq!(waited.unwrap(), 3, "the result, after the connection that started it was gone");
    // The waiter was sent the progress too.
    let mut seen = vec![];
    while let Ok(Some(Notification::Topic { topic, value })) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
        assert_eq!(topic, "volley.operation");
        seen.push(value["progress"].as_u64().unwrap());
    }
    assert_eq!(seen.last(), Some(&3), "{seen:?}");
}

#[tokio::test]
async fn an_operation_can_be_cancelled_once_and_its_error_is_kept() {
    let gate = Arc::new(Semaphore::new(0));
    let addr = serve(gate.clone(), Duration::from_secs(60), 100).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let params = json!({"steps": 5});
    let call = client.call_with::<u32>("job", &params, volley::CallOptions::new());
    let (r, ()) = tokio::join!(call, async {
        let ops = loop {
            let ops = client.call::<Value>("volley.operation.list", &json!({})).await.unwrap();
            if ops.as_array().is_some_and(|a| !a.is_empty()) {
                break ops;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let id = ops[0]["id"].as_str().unwrap().to_owned();
        assert!(client.call::<bool>("volley.operation.cancel", &json!({"id": id})).await.unwrap());
        assert!(!client.call::<bool>("volley.operation.cancel", &json!({"id": id})).await.unwrap(), "a second cancel finds it ended");
        let e = client.call::<u32>("volley.operation.wait", &json!({"id": id})).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::CANCELLED);
        let got = client.call::<Value>("volley.operation.get", &json!({"id": id})).await.unwrap();
        assert_eq!(got["error"]["code"], 499);
    });
    assert_eq!(r.unwrap_err().code, ErrorCode::CANCELLED, "the call that started it ends with it");
}

#[tokio::test]
async fn a_failed_operation_keeps_its_error_and_an_unknown_or_expired_id_is_not_found() {
    let gate = Arc::new(Semaphore::new(10));
    let addr = serve(gate, Duration::from_millis(100), 100).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let r = client.call_with::<u32>("job", &json!({"steps": 1, "fail": 1042}), volley::CallOptions::new()).await;
    let e = r.unwrap_err();
    assert_eq!((e.code, e.data.clone()), (ErrorCode(1042), Some(json!({"steps": 1}))));
    let ops = client.call::<Value>("volley.operation.list", &json!({})).await.unwrap();
    let id = ops[0]["id"].as_str().unwrap().to_owned();
    let e = client.call::<u32>("volley.operation.wait", &json!({"id": id})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode(1042), "the operation's own error, kept");
    let e = client.call::<Value>("volley.operation.get", &json!({"id": "nope"})).await.unwrap_err();
    assert_eq!((e.code, e.data), (ErrorCode::OPERATION_NOT_FOUND, Some(json!({"id": "nope"}))));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let e = client.call::<Value>("volley.operation.get", &json!({"id": id})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_NOT_FOUND, "past the retention its outcome is gone");
    assert!(client.call::<bool>("volley.operation.cancel", &json!({"id": id})).await.is_err());
}

#[tokio::test]
async fn a_call_that_ends_before_it_is_accepted_takes_its_work_along() {
    let gate = Arc::new(Semaphore::new(0));
    let addr = serve(gate.clone(), Duration::from_secs(60), 1).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let late = json!({"steps": 1, "late": true});
    let e = client.call_with::<u32>("job", &late, volley::CallOptions::new().timeout(Duration::from_millis(50))).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DEADLINE_EXCEEDED);
    gate.add_permits(1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(gate.available_permits(), 1, "the work was dropped: nothing took the permit");
    assert_eq!(client.call::<Value>("volley.operation.list", &json!({})).await.unwrap(), json!([]));
    gate.forget_permits(1);
    // It left no room taken either: the store of 1 takes the next operation.
    let second = json!({"steps": 1});
    let (r, ()) = tokio::join!(client.call::<u32>("job", &second), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        gate.add_permits(1);
    });
    assert_eq!(r.unwrap(), 1);
}

#[tokio::test]
async fn the_store_is_bounded() {
    let gate = Arc::new(Semaphore::new(0));
    let addr = serve(gate.clone(), Duration::from_secs(60), 1).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    // One running operation fills a store of 1: the next is refused.
    let first = json!({"steps": 1});
    let call = client.call::<u32>("job", &first);
    let (r, ()) = tokio::join!(call, async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = client.call::<u32>("job", &json!({"steps": 1})).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::UNAVAILABLE);
        assert!(e.data.unwrap()["retry_after_ms"].is_u64());
        gate.add_permits(1);
    });
    assert_eq!(r.unwrap(), 1);
    // Ended outcomes make room: the store drops the oldest.
    gate.add_permits(1);
    assert_eq!(client.call::<u32>("job", &json!({"steps": 1})).await.unwrap(), 1);
    // Bad params are refused before anything starts.
    let e = client.call::<u32>("job", &json!({"steps": "many"})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
}

#[test]
fn the_schema_marks_operations_and_lists_their_methods() {
    let doc = router(Arc::new(Semaphore::new(0))).schema();
    let job = doc.methods.iter().find(|m| m.name == "job").unwrap();
    assert_eq!(job.operation.as_ref().unwrap().progress, json!({"type": "integer", "format": "uint32", "minimum": 0}));
    assert_eq!(job.params["properties"]["steps"]["type"], "integer");
    for name in ["volley.operation.get", "volley.operation.wait", "volley.operation.cancel", "volley.operation.list"] {
        assert!(doc.methods.iter().any(|m| m.name == name), "{name}");
    }
}
