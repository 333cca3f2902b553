//! The device example from a Rust client: typed calls, the event envelope, a warning on
//! a command, and jogs sent as typed notifications.

use std::sync::Arc;
use std::time::Duration;

use device::{DeviceEvent, Jog, Property, PropertyChange, JOG};
use serde_json::json;
use volley::{CallOptions, Client, ErrorCode, Event, Notification, Server};

async fn next(rx: &mut tokio::sync::mpsc::Receiver<Notification>) -> (String, serde_json::Value) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a notification in time") {
            Some(Notification::Topic { topic, value }) => return (topic, value),
            Some(_) => continue,
            None => panic!("the connection ended"),
        }
    }
}

#[tokio::test]
async fn a_console_drives_the_device_and_watches_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let dev = Arc::new(device::Device::default());
    let server = Server::new(device::router(dev.clone()));
    tokio::spawn(device::heartbeats(dev, server.publisher(), Duration::from_millis(20)));
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));

    let mut console = Client::connect(&url).await.unwrap();
    let mut rx = console.notifications().unwrap();
    console.subscribe(&["device.events", "device.properties"]).await.unwrap();
    console.subscribe_states(&["device.console"]).await.unwrap();

    let status = device::start::call(&console, "ada".into()).await.unwrap();
    assert!(status.running);
    // Heartbeats and the start, each an envelope that decodes to the typed event.
    let mut started = None;
    let mut beats = 0;
    while started.is_none() || beats == 0 {
        let (topic, value) = next(&mut rx).await;
        if topic != "device.events" {
            continue;
        }
        let event: Event<DeviceEvent> = serde_json::from_value(value).unwrap();
        match event.event {
            DeviceEvent::Started { ref by } if by == "ada" => started = Some(event),
            DeviceEvent::Heartbeat { .. } => beats += 1,
            _ => {}
        }
    }
    assert!(started.unwrap().when.ends_with('Z'));

    // A command that did less than asked: answered, with a warning saying so.
    let r = console.call_with::<serde_json::Value>("device.set_speed", &json!({"speed": 500}), CallOptions::new()).await.unwrap();
    assert_eq!(r.value["speed"], 100.0);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].code, ErrorCode::APPLICATION);
    assert_eq!(r.warnings[0].data, Some(json!({"requested": 500.0, "used": 100.0})));

    // Jogs, typed, in order.
    for delta in [2.0, -0.5] {
        JOG.notify(&console, &Jog { delta }).unwrap();
    }
    let mut moves = vec![];
    while moves.len() < 2 {
        let (topic, value) = next(&mut rx).await;
        if topic == "device.properties" {
            let change: PropertyChange = serde_json::from_value(value).unwrap();
            if change.property == Property::Position {
                moves.push(change.value);
            }
        }
    }
    assert_eq!(moves, [2.0, 1.5]);
    assert_eq!(device::status::call(&console).await.unwrap().position, 1.5);

    // This console's own state: its mirror is current once `console_sync` answers, and
    // another console has a document of its own.
    let own = device::console_sync::call(&console).await.unwrap();
    assert_eq!((own.jogs, own.travelled), (2, 2.5));
    let mut mirror = serde_json::Value::Null;
    while let Ok(n) = rx.try_recv() {
        if let Notification::State { name, patch } = n {
            assert_eq!(name, "device.console");
            volley::apply_patch(&mut mirror, &patch).unwrap();
        }
    }
    assert_eq!(mirror, json!({"jogs": 2, "travelled": 2.5}));
    let other = Client::connect(&url).await.unwrap();
    assert_eq!(device::console_sync::call(&other).await.unwrap().jogs, 0);
}
