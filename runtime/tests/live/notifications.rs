//! Typed topics and notifications in both directions: a `Topic<T>` publishes only `T`
//! (and an `Event<T>` topic stamps each event), and a server handles the notifications
//! its clients send, in order, with every bad one answered by a warning on id 0 while
//! the connection goes on.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, Semaphore};
use volley::{rpc, Client, Context, Encoding, Error, ErrorCode, Event, Limits, Notification, Router, Server, Topic};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Cursor {
    x: i32,
    y: i32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", content = "context", rename_all = "snake_case")]
enum Alarm {
    Raised { level: u8 },
    Cleared,
}

const CURSOR: Topic<Cursor> = Topic::new("board.cursor");
const ALARMS: Topic<Event<Alarm>> = Topic::new("device.alarms");
const MOVES: Topic<Cursor> = Topic::new("board.moves");

/// Answers `true`: a call to show the connection still serves.
#[rpc]
async fn ping() -> bool {
    true
}

/// A server whose `board.cursor` handler reports each cursor to the test, and fails on
/// a cursor at x = -1; `board.moves` is published to clients.
fn router(seen: mpsc::UnboundedSender<(u64, Cursor)>) -> Router {
    Router::new()
        .rpc::<ping>()
        .topic(MOVES, "Cursors, as the server saw them.")
        .topic(&ALARMS, "Alarms raised and cleared.")
        .on_notify(CURSOR, "Where a user's pointer is.", move |ctx: Context, c: Cursor| {
            let seen = seen.clone();
            async move {
                if c.x == -1 {
                    return Err(Error::new(ErrorCode::INVALID_PARAMS, "x = -1 is off the board").with_data(json!({ "x": -1 })));
                }
                assert_eq!(ctx.call_id(), 0);
                assert_eq!(ctx.method(), "board.cursor");
                let _ = seen.send((ctx.connection_id(), c));
                Ok(())
            }
        })
}

/// The next warning on id 0 the client receives (skipping other notifications).
async fn next_warning(rx: &mut mpsc::Receiver<Notification>) -> (ErrorCode, String, Option<serde_json::Value>) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a warning in time") {
            Some(Notification::Connection { warning: true, code, message, data }) => return (code, message, data),
            Some(_) => continue,
            None => panic!("the connection ended"),
        }
    }
}

#[tokio::test]
async fn the_server_handles_client_notifications_in_order_in_both_encodings() {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let addr = common::serve(router(tx)).await;
    for encoding in [Encoding::Json, Encoding::MsgPack] {
        let client = Client::connect_with(&common::url(addr), encoding).await.unwrap();
        for i in 0..200 {
            CURSOR.notify(&client, &Cursor { x: i, y: -i }).unwrap();
        }
        for i in 0..200 {
            let (_, c) = tokio::time::timeout(Duration::from_secs(10), seen.recv()).await.unwrap().unwrap();
            assert_eq!(c, Cursor { x: i, y: -i }, "{encoding:?}: in the order sent");
        }
    }
}

#[tokio::test]
async fn bad_notifications_are_answered_with_warnings_and_the_connection_goes_on() {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let addr = common::serve(router(tx)).await;
    for encoding in [Encoding::Json, Encoding::MsgPack] {
        let mut client = Client::connect_with(&common::url(addr), encoding).await.unwrap();
        let mut rx = client.notifications().unwrap();

        // A topic the server does not handle (one it publishes is not one it handles).
        client.notify("board.moves", &json!({"x": 1, "y": 2})).unwrap();
        let (code, message, data) = next_warning(&mut rx).await;
        assert_eq!(code, ErrorCode::METHOD_NOT_FOUND, "{encoding:?}");
        assert_eq!(message, "no handler for notifications on topic `board.moves`");
        assert_eq!(data, Some(json!({ "topic": "board.moves", "available": ["board.cursor"] })));

        // A payload that is not a `Cursor`.
        client.notify("board.cursor", &json!({"x": "left", "y": 2})).unwrap();
        let (code, message, data) = next_warning(&mut rx).await;
        assert_eq!(code, ErrorCode::INVALID_PARAMS, "{encoding:?}");
        assert!(message.starts_with("the notification on `board.cursor` failed: invalid parameter `x`"), "{message}");
        assert_eq!(data.unwrap()["errors"][0]["path"], "x");

        // The handler's own error, code and data kept.
        CURSOR.notify(&client, &Cursor { x: -1, y: 0 }).unwrap();
        let (code, message, data) = next_warning(&mut rx).await;
        assert_eq!(code, ErrorCode::INVALID_PARAMS);
        assert_eq!(message, "the notification on `board.cursor` failed: x = -1 is off the board");
        assert_eq!(data, Some(json!({ "x": -1 })));

        // Nothing was lost: the next good notification is handled, and calls go on.
        CURSOR.notify(&client, &Cursor { x: 7, y: 7 }).unwrap();
        assert_eq!(seen.recv().await.unwrap().1, Cursor { x: 7, y: 7 });
        assert!(client.call::<bool>("ping", &json!({})).await.unwrap());
    }
}

#[tokio::test]
async fn notifications_past_the_queue_are_dropped_with_a_warning_each() {
    // The handler waits on a gate, so notifications pile up behind the first.
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut handled) = mpsc::unbounded_channel();
    let router = {
        let gate = gate.clone();
        Router::new().rpc::<ping>().on_notify(CURSOR, "", move |_: Context, c: Cursor| {
            let (gate, tx) = (gate.clone(), tx.clone());
            async move {
                gate.acquire().await.unwrap().forget();
                let _ = tx.send(c.x);
                Ok(())
            }
        })
    };
    let limits = Limits { notify_queue: 4, ..Limits::default() };
    let addr = common::serve_server(Server::with_limits(router, limits)).await;
    let mut client = Client::connect(&common::url(addr)).await.unwrap();
    let mut rx = client.notifications().unwrap();
    for x in 0..10 {
        CURSOR.notify(&client, &Cursor { x, y: 0 }).unwrap();
    }
    // The reader answers each refused notification before it reads the next frame, so
    // once this call's answer is back every warning has arrived.
    assert!(client.call::<bool>("ping", &json!({})).await.unwrap());
    let mut refused = 0;
    while let Ok(n) = rx.try_recv() {
        let Notification::Connection { warning: true, code, message, data } = n else { panic!("{n:?}") };
        assert_eq!(code, ErrorCode::UNAVAILABLE);
        assert!(message.starts_with("a notification on `board.cursor` was dropped: 4 notifications are already waiting"), "{message}");
        assert_eq!(data.unwrap()["topic"], "board.cursor");
        refused += 1;
    }
    // One is running and four wait, so five or six of the ten are refused (six when the
    // first had not left the queue yet as the last arrived).
    assert!((5..=6).contains(&refused), "{refused} refused");
    gate.add_permits(100);
    let mut got = vec![];
    while got.len() < 10 - refused {
        got.push(tokio::time::timeout(Duration::from_secs(10), handled.recv()).await.unwrap().unwrap());
    }
    assert_eq!(got, (0..(10 - refused) as i32).collect::<Vec<_>>(), "the first ones, in order");
    CURSOR.notify(&client, &Cursor { x: 99, y: 0 }).unwrap();
    let last = loop {
        let x = tokio::time::timeout(Duration::from_secs(10), handled.recv()).await.unwrap().unwrap();
        if x == 99 {
            break x;
        }
    };
    assert_eq!(last, 99, "with room again, notifications are handled");
}

async fn next(rx: &mut mpsc::Receiver<Notification>) -> (String, serde_json::Value) {
    match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap() {
        Some(Notification::Topic { topic, value }) => (topic, value),
        other => panic!("expected a notification, got {other:?}"),
    }
}

#[tokio::test]
async fn typed_topics_publish_their_type_and_events_are_stamped() {
    let (tx, _seen) = mpsc::unbounded_channel();
    let (addr, publisher) = common::serve_watched(router(tx)).await;
    let mut client = Client::connect(&common::url(addr)).await.unwrap();
    let mut rx = client.notifications().unwrap();
    client.subscribe(&["board.moves", "device.alarms"]).await.unwrap();
    assert_eq!(MOVES.publish(&publisher, &Cursor { x: 1, y: 2 }).unwrap(), 1);
    ALARMS.emit(&publisher, Alarm::Raised { level: 3 }).unwrap();
    ALARMS.emit(&publisher, Alarm::Cleared).unwrap();

    assert_eq!(next(&mut rx).await, ("board.moves".to_owned(), json!({"x": 1, "y": 2})));
    let (topic, raised) = next(&mut rx).await;
    assert_eq!(topic, "device.alarms");
    assert_eq!((raised["kind"].clone(), raised["context"].clone()), (json!("raised"), json!({"level": 3})));
    let (_, cleared) = next(&mut rx).await;
    assert_eq!(cleared["kind"], "cleared");
    assert!(cleared["index"].as_u64().unwrap() > raised["index"].as_u64().unwrap(), "indexes increase");
    let when = raised["when"].as_str().unwrap();
    assert!(when.len() >= 20 && when.ends_with('Z') && when.as_bytes()[10] == b'T', "RFC 3339 in UTC: {when}");
    // The envelope decodes back into the typed event.
    let decoded: Event<Alarm> = serde_json::from_value(cleared).unwrap();
    assert_eq!(decoded.event, Alarm::Cleared);

    // The schema says who publishes what, and carries the envelope's fields.
    let schema = router(mpsc::unbounded_channel().0).schema();
    let by_name = |n: &str| schema.topics.iter().find(|t| t.name == n).unwrap().clone();
    assert_eq!(by_name("board.cursor").publisher, volley::schema::Side::Client);
    assert_eq!(by_name("board.moves").publisher, volley::schema::Side::Server);
    let alarms = serde_json::to_string(&by_name("device.alarms").payload).unwrap();
    let defs = serde_json::to_string(&schema.defs).unwrap();
    assert!(alarms.contains("$ref") && defs.contains("\"index\"") && defs.contains("\"raised\""), "{alarms} {defs}");
}
