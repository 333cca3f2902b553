//! State-machine sessions over real sockets: each connection its own session, events
//! run one at a time in arrival order, transitions and data events pushed before the
//! event's result, and every bad event refused as documented while the connection goes
//! on.

use crate::common;

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use volley::machine::{Machine, Session, State, Status};
use volley::{rpc, Client, Encoding, Error, ErrorCode, Notification, Router};

const IDLE: State = State::new("idle");
const BUSY: State<u32> = State::new("busy");
const DONE: State = State::new("done");

/// `idle --start(n)--> busy --finish--> done`, `busy --step--> busy` (a transition to
/// itself, counting), `busy --note--> (data event)`, and `idle --finish` refused since
/// `idle` only goes to `busy`; `done` has no targets and no events.
fn machine() -> Machine<String> {
    Machine::new("job", "A job that starts, steps and finishes.")
        .transmits::<String>()
        .state(IDLE, "Not started.", |s| {
            s.targets([BUSY.name()])
                .event("start", "Starts at `data`.", |session: Session<String>, n: u32| async move {
                    assert_eq!(session.state(), "idle");
                    session.transition(&BUSY, Status::OK, n).await?;
                    assert_eq!(session.state(), "busy");
                    Ok(n)
                })
                .event("jump", "Tries to finish without starting.", |session: Session<String>, (): ()| async move { session.transition(&DONE, Status::OK, ()).await })
        })
        .state(BUSY, "Working; `data` is the step.", |s| {
            s.targets([BUSY.name(), DONE.name()])
                .event("step", "Steps once, after a short pause.", |session: Session<String>, n: u32| async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    session.transition(&BUSY, Status::OK, n).await?;
                    Ok(n)
                })
                .event("note", "A data event, no transition.", |session: Session<String>, text: String| async move {
                    session.transmit(Status::ACCEPTED, text.clone()).await?;
                    Ok(text.len())
                })
                .event("finish", "Finishes.", |session: Session<String>, (): ()| async move { session.transition(&DONE, Status::CREATED, ()).await })
        })
        .state(DONE, "Finished.", |s| s.targets([]))
}

/// Answers `true`.
#[rpc]
async fn ping() -> bool {
    true
}

fn router() -> Router {
    Router::new().rpc::<ping>().machine(machine())
}

async fn connect(addr: std::net::SocketAddr, encoding: Encoding) -> (Client, mpsc::Receiver<Notification>) {
    let mut client = Client::connect_with(&common::url(addr), encoding).await.unwrap();
    let rx = client.notifications().unwrap();
    (client, rx)
}

async fn push(rx: &mut mpsc::Receiver<Notification>) -> Value {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a push in time") {
        Some(Notification::Topic { topic, value }) => {
            assert_eq!(topic, "job");
            value
        }
        other => panic!("expected a push on `job`, got {other:?}"),
    }
}

async fn where_is(client: &Client) -> Value {
    client.call::<Value>("volley.machine", &json!({"machine": "job"})).await.unwrap()
}

#[tokio::test]
async fn transitions_and_data_events_are_pushed_before_the_result_in_both_encodings() {
    let addr = common::serve(router()).await;
    for encoding in Encoding::ALL {
        let (client, mut rx) = connect(addr, encoding).await;
        assert_eq!(where_is(&client).await, json!({"state": "idle", "events": ["jump", "start"]}));
        assert_eq!(client.call::<u32>("job.start", &json!({"data": 7})).await.unwrap(), 7);
        // The push was queued before the result, so it is already here.
        assert_eq!(rx.try_recv().ok().map(|n| match n {
            Notification::Topic { value, .. } => value,
            other => panic!("{other:?}"),
        }), Some(json!({"state": "busy", "events": ["finish", "note", "step"], "status": 200, "data": 7})));
        assert_eq!(client.call::<usize>("job.note", &json!({"data": "half way"})).await.unwrap(), 8);
        assert_eq!(push(&mut rx).await, json!({"status": 202, "data": "half way"}));
        client.call::<()>("job.finish", &json!({})).await.unwrap();
        assert_eq!(push(&mut rx).await, json!({"state": "done", "events": [], "status": 201, "data": null}));
        assert_eq!(where_is(&client).await, json!({"state": "done", "events": []}));
    }
}

#[tokio::test]
async fn each_connection_has_its_own_session() {
    let addr = common::serve(router()).await;
    let (a, _rx_a) = connect(addr, Encoding::Json).await;
    let (b, mut rx_b) = connect(addr, Encoding::Json).await;
    a.call::<u32>("job.start", &json!({"data": 1})).await.unwrap();
    assert_eq!(where_is(&a).await["state"], "busy");
    assert_eq!(where_is(&b).await["state"], "idle");
    // `b` was pushed nothing about `a`'s session.
    assert!(tokio::time::timeout(Duration::from_millis(50), rx_b.recv()).await.is_err());
}

#[tokio::test]
async fn an_event_the_state_does_not_have_is_refused_naming_the_state_and_its_events() {
    let addr = common::serve(router()).await;
    let (client, mut rx) = connect(addr, Encoding::MsgPack).await;
    let e: Error = client.call::<Value>("job.finish", &json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::EVENT_NOT_ALLOWED);
    assert_eq!(e.data, Some(json!({"machine": "job", "state": "idle", "event": "finish", "events": ["jump", "start"]})));
    assert!(e.message.contains("`idle`") && e.message.contains("`start`"), "{}", e.message);
    // An event no state has is not a method at all: where the lookup failed, as for methods.
    let e = client.call::<Value>("job.fly", &json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND);
    assert_eq!(e.data.as_ref().unwrap()["namespace"], "job");
    assert_eq!(e.data.as_ref().unwrap()["available"], json!(["finish", "jump", "note", "start", "step"]));
    // Nothing changed, nothing was pushed, and the connection serves on.
    assert!(rx.try_recv().is_err());
    assert_eq!(where_is(&client).await["state"], "idle");
    assert!(client.call::<bool>("ping", &json!({})).await.unwrap());
}

#[tokio::test]
async fn a_transition_to_a_state_not_in_the_targets_fails_and_changes_nothing() {
    let addr = common::serve(router()).await;
    let (client, mut rx) = connect(addr, Encoding::Json).await;
    let e = client.call::<Value>("job.jump", &json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::TRANSITION_NOT_ALLOWED);
    assert_eq!(e.data, Some(json!({"machine": "job", "from": "idle", "to": "done", "targets": ["busy"]})));
    assert!(rx.try_recv().is_err(), "a refused transition pushes nothing");
    assert_eq!(where_is(&client).await["state"], "idle");
}

#[tokio::test]
async fn data_of_the_wrong_type_is_invalid_params_with_its_path() {
    let addr = common::serve(router()).await;
    let (client, _rx) = connect(addr, Encoding::Json).await;
    let e = client.call::<Value>("job.start", &json!({"data": "seven"})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert_eq!(e.data.as_ref().unwrap()["errors"][0]["path"], "data");
    let e = client.call::<Value>("job.start", &json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "an event that takes data needs it");
    let e = client.call::<Value>("volley.machine", &json!({"machine": "nope"})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(e.data.as_ref().unwrap()["errors"][0]["message"].as_str().unwrap().contains("`job`"));
}

#[tokio::test]
async fn racing_events_run_one_at_a_time_in_arrival_order() {
    let addr = common::serve(router()).await;
    let (client, mut rx) = connect(addr, Encoding::Json).await;
    // Sent together: if `finish` overtook the steps, they would find the job done and be
    // refused; if steps overlapped, their pushes would come out of order.
    let params: Vec<Value> = (1..=8u32).map(|n| json!({"data": n})).collect();
    let (zero, empty) = (json!({"data": 0}), json!({}));
    let steps: Vec<_> = params.iter().map(|p| client.call::<u32>("job.step", p)).collect();
    let (start, steps, finish) = tokio::join!(client.call::<u32>("job.start", &zero), futures_util::future::join_all(steps), client.call::<()>("job.finish", &empty));
    start.unwrap();
    assert_eq!(steps.into_iter().map(Result::unwrap).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    finish.unwrap();
    let mut data = Vec::new();
    for _ in 0..10 {
        let p = push(&mut rx).await;
        data.push((p["state"].as_str().unwrap().to_owned(), p["data"].clone()));
    }
    let mut expected: Vec<(String, Value)> = (0..=8).map(|n| ("busy".to_owned(), json!(n))).collect();
    expected.push(("done".into(), Value::Null));
    assert_eq!(data, expected);
}

#[tokio::test]
async fn the_schema_describes_the_machine() {
    let doc = router().schema();
    assert_eq!(doc.volley, 3);
    let m = &doc.machines[0];
    assert_eq!((m.name.as_str(), &m.transmit), ("job", &json!({"type": "string"})));
    let names: Vec<_> = m.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["idle", "busy", "done"], "declared order: the initial state first");
    let busy = &m.states[1];
    assert_eq!(busy.data, json!({"type": "integer", "format": "uint32", "minimum": 0}));
    assert_eq!(busy.targets, Some(vec!["busy".to_owned(), "done".to_owned()]));
    let note = busy.events.iter().find(|e| e.name == "note").unwrap();
    assert_eq!((&note.data, &note.description.as_str()), (&json!({"type": "string"}), &"A data event, no transition."));
    assert_eq!(m.states[2].targets, Some(vec![]));
    assert!(doc.methods.iter().any(|m| m.name == "volley.machine"));
    assert!(!doc.methods.iter().any(|m| m.name.starts_with("job.")), "events are described with their machine, not as methods");
}

#[test]
#[should_panic(expected = "the machine `m` declares the state `idle` twice")]
fn a_state_declared_twice_is_refused() {
    let _ = Router::new().machine(Machine::new("m", "").state(IDLE, "", |s| s).state(IDLE, "", |s| s));
}

#[test]
#[should_panic(expected = "the state `idle` of the machine `m` declares the event `go` twice")]
fn an_event_declared_twice_in_a_state_is_refused() {
    let go = |_: Session, (): ()| async { Ok::<_, Error>(()) };
    let _ = Router::new().machine(Machine::new("m", "").state(IDLE, "", |s| s.event("go", "", go).event("go", "", go)));
}

#[test]
#[should_panic(expected = "lists `busy` as a target, which is not one of its states")]
fn a_target_that_is_not_a_state_is_refused() {
    let _ = Router::new().machine(Machine::new("m", "").state(IDLE, "", |s| s.targets([BUSY.name()])));
}

#[test]
fn one_event_name_in_two_states_is_one_method() {
    let go = |_: Session, (): ()| async { Ok::<_, Error>(()) };
    let doc = Router::new().machine(Machine::new("m", "").state(IDLE, "", |s| s.event("go", "", go)).state(DONE, "", |s| s.event("go", "", go))).schema();
    assert_eq!(doc.machines[0].states.iter().map(|s| s.events.len()).sum::<usize>(), 2);
}
