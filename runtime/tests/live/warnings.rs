//! Warnings a handler sends through its `Context`: they reach the caller on the call's
//! response without ending it, at most 16 per call, and never after the call finished;
//! and the `DATA_LOSS` warning a client receiver that falls behind gets.

use crate::common;

use std::sync::{Arc, Mutex};

use serde_json::json;
use volley::{rpc, CallOptions, Client, Context, Encoding, Error, ErrorCode, Router, State};

/// Where `remember` leaves its context, for the test to use after the call ended.
type Kept = Arc<Mutex<Option<Context>>>;

/// Looks a word up, falling back to the nearest spelling with a warning.
#[rpc]
async fn define(ctx: Context, word: String) -> String {
    let word = if word == "teh" {
        ctx.warn(&Error::new(ErrorCode::INVALID_PARAMS, "no entry for `teh`: showing `the`").with_data(json!({ "used": "the" })));
        "the".to_owned()
    } else {
        word
    };
    format!("the definition of {word}")
}

/// Tries to send `n` warnings; answers how many were sent.
#[rpc]
async fn noisy(ctx: Context, n: u32) -> u32 {
    (0..n).filter(|i| ctx.warn(&Error::new(ErrorCode::DATA_LOSS, format!("warning {i}")))).count() as u32
}

/// Keeps its context past the end of the call.
#[rpc]
async fn remember(ctx: Context, kept: State<Kept>) -> bool {
    *kept.lock().unwrap() = Some(ctx);
    true
}

fn router(kept: Kept) -> Router {
    Router::new().with_state(kept).rpc::<define>().rpc::<noisy>().rpc::<remember>()
}

#[tokio::test]
async fn a_warning_reaches_the_caller_and_the_call_goes_on() {
    let addr = common::serve(router(Kept::default())).await;
    for encoding in [Encoding::Json, Encoding::MsgPack] {
        let client = Client::connect_with(&common::url(addr), encoding).await.unwrap();
        let r = client.call_with::<String>("define", &json!({"word": "teh"}), CallOptions::new()).await.unwrap();
        assert_eq!(r.value, "the definition of the");
        assert_eq!(r.warnings.len(), 1, "{encoding:?}");
        assert_eq!(r.warnings[0].code, ErrorCode::INVALID_PARAMS);
        assert_eq!(r.warnings[0].message, "no entry for `teh`: showing `the`");
        assert_eq!(r.warnings[0].data, Some(json!({ "used": "the" })));
        let r = client.call_with::<String>("define", &json!({"word": "cat"}), CallOptions::new()).await.unwrap();
        assert!(r.warnings.is_empty());
    }
}

#[tokio::test]
async fn a_call_carries_at_most_sixteen_warnings() {
    let addr = common::serve(router(Kept::default())).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let r = client.call_with::<u32>("noisy", &json!({"n": 20}), CallOptions::new()).await.unwrap();
    assert_eq!(r.value, 16, "the handler is told which warnings were not sent");
    assert_eq!(r.warnings.len(), 16);
    assert_eq!(r.warnings[15].message, "warning 15");
}

#[tokio::test]
async fn no_warning_is_sent_once_the_call_has_finished() {
    let kept = Kept::default();
    let addr = common::serve(router(kept.clone())).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    assert!(client.call::<bool>("remember", &json!({})).await.unwrap());
    let ctx = kept.lock().unwrap().take().unwrap();
    assert!(!ctx.warn(&Error::new(ErrorCode::DATA_LOSS, "too late")), "the call is over");
    // The connection goes on, and the next call's answer carries no stray warning.
    let r = client.call_with::<u32>("noisy", &json!({"n": 0}), CallOptions::new()).await.unwrap();
    assert_eq!(r.value, 0);
    assert!(r.warnings.is_empty());
}

#[tokio::test]
async fn a_client_whose_receiver_falls_behind_is_told_how_many_notifications_it_lost() {
    let (addr, publisher) = common::serve_watched(router(Kept::default())).await;
    let mut client = Client::builder(&common::url(addr)).notify_queue(4).connect().await.unwrap();
    let mut received = client.notifications().unwrap();
    client.subscribe(&["news"]).await.unwrap();
    for i in 0..10 {
        publisher.publish("news", &i).unwrap();
    }
    // A call's answer comes after the notifications published before it, so once it is
    // back all ten have reached the client: four kept, six dropped.
    client.call::<u32>("noisy", &json!({"n": 0})).await.unwrap();
    let topic = |n: Option<volley::Notification>| match n {
        Some(volley::Notification::Topic { topic, value }) if topic == "news" => value,
        other => panic!("expected a `news` notification, got {other:?}"),
    };
    for i in 0..4 {
        assert_eq!(topic(received.try_recv().ok()), json!(i));
    }
    assert!(received.try_recv().is_err(), "the other six were dropped");

    // With room again, the next notification comes after the count of those lost.
    publisher.publish("news", &10).unwrap();
    client.call::<u32>("noisy", &json!({"n": 0})).await.unwrap();
    match received.try_recv().ok() {
        Some(volley::Notification::Connection { warning: true, code, data, .. }) => {
            assert_eq!(code, ErrorCode::DATA_LOSS);
            assert_eq!(data, Some(json!({ "dropped": 6 })));
        }
        other => panic!("expected the DATA_LOSS notice, got {other:?}"),
    }
    assert_eq!(topic(received.try_recv().ok()), json!(10));
    assert!(received.try_recv().is_err(), "nothing else");
}
