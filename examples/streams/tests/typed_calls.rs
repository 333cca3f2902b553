//! The example's methods called from Rust by their declarations, in every call shape:
//! `countdown::call(&client, ..)` instead of `client.server_stream("countdown", &json!(..))`.

use futures_util::StreamExt;
use streams::{chat, countdown, echo_metadata, sum, Message};
use volley::{CallOptions, Client, ErrorCode, Server};

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(Server::new(streams::router()).serve_with_shutdown(listener, std::future::pending()));
    url
}

#[tokio::test]
async fn every_shape_is_typed() {
    let client = Client::connect(&serve().await).await.unwrap();

    // Unary, with options: the metadata the call carried comes back.
    let echoed = echo_metadata::call_with(&client, CallOptions::new().metadata("who", "typed")).await.unwrap();
    assert_eq!(echoed.value.get("who").map(String::as_str), Some("typed"));

    // Server stream: typed items.
    let numbers: Vec<u32> = countdown::call(&client, 3, 1).unwrap().map(Result::unwrap).collect().await;
    assert_eq!(numbers, [3, 2, 1]);

    // Client stream: typed items in, a typed result out.
    let mut upload = sum::call(&client).unwrap();
    for x in [1.5, 2.0, 3.5] {
        upload.send(&x).await.unwrap();
    }
    assert_eq!(upload.finish().await.unwrap().value, 7.0);

    // Bidirectional.
    let (mut tx, mut rx) = chat::call(&client).unwrap();
    tx.send(&Message { from: "ann".into(), text: "hi".into() }).await.unwrap();
    let reply: Message = rx.next().await.unwrap().unwrap();
    assert_eq!((reply.from.as_str(), reply.text.as_str()), ("echo", "ann: HI"));
    tx.finish();
    assert!(rx.next().await.is_none());

    // A parameter the server refuses is the server's error, as with an untyped call.
    let refused = countdown::call(&client, 2_000_000, 1).unwrap().next().await.unwrap().unwrap_err();
    assert_eq!(refused.code, ErrorCode::INVALID_PARAMS, "{refused:?}");
}
