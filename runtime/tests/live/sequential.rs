//! Sequential methods: one connection's calls to them run one after another in arrival
//! order, while other methods and other connections go on concurrently.

use crate::common;

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::sync::Semaphore;
use volley::{rpc, CallOptions, Client, Method, Router, State};

/// What the handlers did, in order.
struct Log {
    events: Mutex<Vec<String>>,
    gate: Semaphore,
}

impl Default for Log {
    fn default() -> Self {
        Log { events: Mutex::default(), gate: Semaphore::new(0) }
    }
}

impl Log {
    fn push(&self, e: String) {
        self.events.lock().unwrap().push(e);
    }
}

/// Logs its start, waits for the test's gate when `wait` is set, logs its end.
#[rpc]
async fn step(log: State<Arc<Log>>, name: String, wait: bool) -> String {
    log.push(format!("start {name}"));
    if wait {
        log.gate.acquire().await.unwrap().forget();
    }
    log.push(format!("end {name}"));
    name
}

/// The same, in a router declared sequential.
#[rpc(name = "seq.step")]
async fn seq_step(log: State<Arc<Log>>, name: String, wait: bool) -> String {
    step(log, name, wait).await
}

/// Answers at once.
#[rpc]
async fn ping() -> bool {
    true
}

fn router(log: Arc<Log>) -> Router {
    Router::new()
        .method(step::definition().sequential())
        .merge(Router::new().rpc::<seq_step>().sequential())
        .rpc::<ping>()
        .with_state(log)
}

/// Calls `method` for `a` (which waits at the gate) and then `b`, makes sure both
/// reached the server, opens the gate (once `b` has ended, when they should overlap),
/// and returns the log.
async fn two_calls(method: &str, sequential_router: bool) -> Vec<String> {
    let overlap = !sequential_router;
    let log = Arc::new(Log::default());
    let router = if sequential_router { router(log.clone()) } else { Router::new().rpc::<step>().rpc::<ping>().with_state(log.clone()) };
    let addr = common::serve(router).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let (pa, pb) = (json!({"name": "a", "wait": true}), json!({"name": "b", "wait": false}));
    let a = client.call_with::<String>(method, &pa, CallOptions::new());
    let b = client.call_with::<String>(method, &pb, CallOptions::new());
    // Joined, `a`, `b` and `ping` are sent in that order on the first poll.
    let (a, b, ()) = tokio::join!(a, b, async {
        // `ping` is answered after the reader has accepted both calls (frames are read
        // in order); a concurrent `b` has had every chance to run by then.
        assert!(client.call::<bool>("ping", &json!({})).await.unwrap());
        let seen = |e: &str| log.events.lock().unwrap().iter().any(|x| x == e);
        for waited in 0.. {
            if seen("start a") && (!overlap || seen("end b")) {
                break;
            }
            assert!(waited < 10_000, "the calls did not get going: {:?}", log.events.lock().unwrap());
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        if !overlap {
            // Time for a wrongly concurrent `b` to show itself.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        log.gate.add_permits(1);
    });
    assert_eq!((a.unwrap().value, b.unwrap().value), ("a".to_owned(), "b".to_owned()));
    let events = log.events.lock().unwrap().clone();
    events
}

#[tokio::test]
async fn a_sequential_method_runs_one_call_at_a_time_in_arrival_order() {
    assert_eq!(two_calls("step", true).await, ["start a", "end a", "start b", "end b"]);
}

#[tokio::test]
async fn a_sequential_router_runs_one_call_at_a_time_in_arrival_order() {
    assert_eq!(two_calls("seq.step", true).await, ["start a", "end a", "start b", "end b"]);
}

#[tokio::test]
async fn by_default_calls_overlap() {
    // The same two calls without `sequential`: `b` runs while `a` waits at the gate.
    assert_eq!(two_calls("step", false).await, ["start a", "start b", "end b", "end a"]);
}

#[tokio::test]
async fn a_cancelled_call_keeps_the_order_of_those_behind_it() {
    let log = Arc::new(Log::default());
    let addr = common::serve(router(log.clone())).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let (pa, pb, pc) = (json!({"name": "a", "wait": true}), json!({"name": "b", "wait": false}), json!({"name": "c", "wait": false}));
    let a = client.call_with::<String>("step", &pa, CallOptions::new());
    // `b` waits behind `a` and gives up (its deadline passes); `c`, behind `b`, must
    // still wait for `a`.
    let b = client.call_with::<String>("step", &pb, CallOptions::new().timeout(std::time::Duration::from_millis(1)));
    let c = client.call_with::<String>("step", &pc, CallOptions::new());
    let (a, b, c, ()) = tokio::join!(a, b, c, async {
        assert!(client.call::<bool>("ping", &json!({})).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        log.gate.add_permits(1);
    });
    assert_eq!(b.unwrap_err().code, volley::ErrorCode::DEADLINE_EXCEEDED);
    assert_eq!((a.unwrap().value, c.unwrap().value), ("a".to_owned(), "c".to_owned()));
    assert_eq!(*log.events.lock().unwrap(), ["start a", "end a", "start c", "end c"]);
}
