//! The calculator's methods called from Rust by their declarations.

use calculator::{add, divide, DivError};
use volley::{Client, ErrorCode, Server};

#[tokio::test]
async fn typed_calls_and_typed_errors() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(Server::new(calculator::router()).serve_with_shutdown(listener, std::future::pending()));
    let client = Client::connect(&url).await.unwrap();

    assert_eq!(add::call(&client, 1, 2).await.unwrap(), 3);
    assert_eq!(divide::call(client.peer(), 1.0, 4.0).await.unwrap(), 0.25);

    // The method's typed error arrives as its data.
    let e = divide::call(&client, 1.0, 0.0).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::APPLICATION);
    let data: DivError = serde_json::from_value(e.data.clone().expect("typed data")).unwrap();
    assert!(matches!(data, DivError::DivisionByZero), "{data}");
}
