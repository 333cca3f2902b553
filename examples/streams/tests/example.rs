//! The streams example from a Rust client: a job's progress as a stream, as shared
//! state and as a topic notification, and its typed errors.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use streams::{JobError, JobEvent};
use volley::{apply_patch, CallOptions, Client, ErrorCode, Notification, Server};

#[tokio::test]
async fn a_job_reports_progress_three_ways() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = Server::new(streams::router());
    server.publisher().set_state("jobs", &BTreeMap::<String, u8>::new()).unwrap();
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));

    let mut watcher = Client::connect(&url).await.unwrap();
    let mut notes = watcher.notifications().unwrap();
    watcher.subscribe(&["jobs.*"]).await.unwrap();
    watcher.subscribe_states(&["jobs"]).await.unwrap();

    let runner = Client::connect(&url).await.unwrap();
    let events: Vec<JobEvent> = runner
        .server_stream::<JobEvent>("job.run", &json!({"name": "build", "steps": 4, "step_ms": 20}), CallOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(events.len(), 5);
    assert!(matches!(&events[3], JobEvent::Progress { percent: 100, .. }));
    let JobEvent::Done { result } = &events[4] else { panic!("the last event is the result") };
    assert_eq!((result.name.as_str(), result.steps), ("build", 4));

    // The watcher saw the job appear in the shared state, progress, finish on the topic,
    // and leave the state.
    let mut doc = Value::Null;
    let mut seen_percents = Vec::new();
    let mut finished = None;
    while finished.is_none() || doc != json!({}) {
        match tokio::time::timeout(Duration::from_secs(5), notes.recv()).await.expect("notifications").unwrap() {
            Notification::State { name, patch } => {
                assert_eq!(name, "jobs");
                apply_patch(&mut doc, &patch).unwrap();
                if let Some(p) = doc.get("build") {
                    seen_percents.push(p.as_u64().unwrap());
                }
            }
            Notification::Topic { topic, value } => {
                assert_eq!(topic, "jobs.finished");
                finished = Some(value);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen_percents.last(), Some(&100), "{seen_percents:?}");
    assert_eq!(finished.unwrap()["name"], "build");

    // Typed errors before the first event.
    let err = runner
        .server_stream::<JobEvent>("job.run", &json!({"name": "x", "steps": 0, "step_ms": 0}), CallOptions::new())
        .unwrap()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::APPLICATION);
    assert!(matches!(err.data_as::<JobError>(), Some(JobError::NothingToDo)));

    let mut first = runner.server_stream::<JobEvent>("job.run", &json!({"name": "dup", "steps": 100, "step_ms": 50}), CallOptions::new()).unwrap();
    first.next().await.unwrap().unwrap();
    let err = runner
        .server_stream::<JobEvent>("job.run", &json!({"name": "dup", "steps": 1, "step_ms": 0}), CallOptions::new())
        .unwrap()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err.data_as::<JobError>(), Some(JobError::Busy { name }) if name == "dup"));
}
