//! States each connection has its own document of: set from handlers, mirrored by the
//! connection that subscribed, sent at once, coalesced per period or only on `flush`.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use volley::{apply_patch, rpc, Client, ConnectionState, Context, Error, ErrorCode, Flush, Notification, Router, State};

const NOW: ConnectionState<u32> = ConnectionState::new("now");
const COALESCED: ConnectionState<u32> = ConnectionState::new("coalesced");
const MANUAL: ConnectionState<u32> = ConnectionState::new("manual");
const UNDECLARED: ConnectionState<u32> = ConnectionState::new("undeclared");

type Kept = Arc<Mutex<Option<Context>>>;

/// Sets `state` to 1, 2, ... `n` one after another; answers the last.
#[rpc]
async fn count(ctx: Context, state: String, n: u32) -> Result<u32, Error> {
    let state = match state.as_str() {
        "now" => NOW,
        "coalesced" => COALESCED,
        "manual" => MANUAL,
        _ => UNDECLARED,
    };
    for i in 1..=n {
        state.set(&ctx, &i)?;
    }
    Ok(state.get(&ctx)?.unwrap_or(0))
}

/// Adds 1 to the manual state `n` times from each of four threads at once; answers the
/// total.
#[rpc]
async fn bump_from_threads(ctx: Context, n: u32) -> Result<u32, Error> {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| (0..n).try_for_each(|_| MANUAL.update(&ctx, |v| *v += 1)));
        }
    });
    Ok(MANUAL.get(&ctx)?.unwrap_or(0))
}

/// Sends the manual state's changes; answers once they are written.
#[rpc]
async fn commit(ctx: Context) -> Result<bool, Error> {
    MANUAL.flush(&ctx).await?;
    Ok(true)
}

/// Keeps its context past the end of the call.
#[rpc]
async fn remember(ctx: Context, kept: State<Kept>) -> bool {
    *kept.lock().unwrap() = Some(ctx);
    true
}

fn router(kept: Kept) -> Router {
    Router::new()
        .with_state(kept)
        .rpc::<count>()
        .rpc::<commit>()
        .rpc::<bump_from_threads>()
        .rpc::<remember>()
        .connection_state(NOW, "Sent at once.", Flush::Immediate)
        .connection_state(COALESCED, "At most one patch per 50 ms.", Flush::Every(Duration::from_millis(50)))
        .connection_state(MANUAL, "Sent on commit.", Flush::Manual)
}

/// The state patches received so far (the answer to a call comes after them).
fn patches(rx: &mut mpsc::Receiver<Notification>, state: &str) -> Vec<Value> {
    let mut out = vec![];
    while let Ok(n) = rx.try_recv() {
        if let Notification::State { name, patch } = n {
            if name == state {
                out.push(patch);
            }
        }
    }
    out
}

fn applied(patches: &[Value]) -> Value {
    let mut doc = Value::Null;
    for p in patches {
        apply_patch(&mut doc, p).unwrap();
    }
    doc
}

#[tokio::test]
async fn each_connection_mirrors_its_own_document() {
    let addr = common::serve(router(Kept::default())).await;
    let mut a = Client::connect(&common::url(addr)).await.unwrap();
    let mut b = Client::connect(&common::url(addr)).await.unwrap();
    let (mut a_rx, mut b_rx) = (a.notifications().unwrap(), b.notifications().unwrap());
    a.subscribe_states(&["now"]).await.unwrap();
    b.subscribe_states(&["now"]).await.unwrap();
    assert_eq!(a.call::<u32>("count", &json!({"state": "now", "n": 3})).await.unwrap(), 3);
    assert_eq!(b.call::<u32>("count", &json!({"state": "now", "n": 1})).await.unwrap(), 1);
    let a_patches = patches(&mut a_rx, "now");
    assert_eq!(a_patches.len(), 3, "every change at once: {a_patches:?}");
    assert_eq!(applied(&a_patches), json!(3));
    assert_eq!(applied(&patches(&mut b_rx, "now")), json!(1), "b has its own document");

    // A client that subscribes later gets its document in full.
    let mut c = Client::connect(&common::url(addr)).await.unwrap();
    let mut c_rx = c.notifications().unwrap();
    c.call::<u32>("count", &json!({"state": "now", "n": 2})).await.unwrap();
    assert!(patches(&mut c_rx, "now").is_empty(), "nothing is sent before a subscription");
    c.subscribe_states(&["now"]).await.unwrap();
    assert_eq!(patches(&mut c_rx, "now"), vec![json!([{"op": "replace", "path": "", "value": 2}])]);
}

#[tokio::test]
async fn a_period_coalesces_changes_into_one_patch() {
    let addr = common::serve(router(Kept::default())).await;
    let mut client = Client::connect(&common::url(addr)).await.unwrap();
    let mut rx = client.notifications().unwrap();
    client.subscribe_states(&["coalesced"]).await.unwrap();
    assert_eq!(client.call::<u32>("count", &json!({"state": "coalesced", "n": 100})).await.unwrap(), 100);
    let first = loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap() {
            Notification::State { name, patch } if name == "coalesced" => break patch,
            _ => continue,
        }
    };
    assert_eq!(applied(&[first]), json!(100), "the first patch already carries the last of the 100 changes");
}

#[tokio::test]
async fn a_manual_state_is_sent_only_on_flush_which_waits_for_the_write() {
    let addr = common::serve(router(Kept::default())).await;
    let mut client = Client::connect(&common::url(addr)).await.unwrap();
    let mut rx = client.notifications().unwrap();
    client.subscribe_states(&["manual"]).await.unwrap();
    client.call::<u32>("count", &json!({"state": "manual", "n": 5})).await.unwrap();
    assert!(patches(&mut rx, "manual").is_empty(), "not sent before the flush");
    assert!(client.call::<bool>("commit", &json!({})).await.unwrap());
    // `commit` answered after its flush resolved, so the patch was written before it.
    assert_eq!(applied(&patches(&mut rx, "manual")), json!(5));
    // Nothing changed since: a second flush sends nothing.
    assert!(client.call::<bool>("commit", &json!({})).await.unwrap());
    assert!(patches(&mut rx, "manual").is_empty());
}

#[tokio::test]
async fn updates_from_many_threads_lose_nothing() {
    let addr = common::serve(router(Kept::default())).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    assert_eq!(client.call::<u32>("bump_from_threads", &json!({"n": 500})).await.unwrap(), 2000);
}

#[tokio::test]
async fn a_closed_connection_or_an_undeclared_state_is_a_clear_error() {
    let kept = Kept::default();
    let addr = common::serve(router(kept.clone())).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let e = client.call::<u32>("count", &json!({"state": "undeclared", "n": 1})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INTERNAL);

    assert!(client.call::<bool>("remember", &json!({})).await.unwrap());
    let ctx = kept.lock().unwrap().take().unwrap();
    MANUAL.set(&ctx, &7).unwrap();
    client.close();
    client.closed().await;
    // The server notices the close, then refuses.
    let mut refused = None;
    for _ in 0..1000 {
        match MANUAL.flush(&ctx).await {
            Err(e) => {
                refused = Some(e);
                break;
            }
            Ok(()) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    let e = refused.expect("a flush on a closed connection fails");
    assert_eq!(e.code, ErrorCode::UNAVAILABLE);
    assert_eq!(e.message, "the connection is closed: state `manual` cannot be sent");
    assert_eq!(NOW.set(&ctx, &1).unwrap_err().code, ErrorCode::UNAVAILABLE);
}

#[test]
fn the_schema_says_whose_document_a_state_is() {
    let schema = router(Kept::default()).shared_state::<u8>("board", "").schema();
    let scope = |n: &str| schema.states.iter().find(|s| s.name == n).unwrap().scope;
    assert_eq!(scope("now"), volley::schema::Scope::Connection);
    assert_eq!(scope("board"), volley::schema::Scope::Server);
}
