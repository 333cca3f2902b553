//! `GET /asyncapi.json`: the service as an AsyncAPI 3.0.0 document, its server the
//! endpoint as the request reached it, beside `/schema` and behind the same hooks.

use crate::common;

use common::{http, serve_server as serve_with};

use std::net::SocketAddr;

use futures_util::Stream;
use volley::auth::BearerAuth;
use volley::axum;
use volley::{rpc, Error, ErrorCode, Router, Server};

/// Adds two integers.
#[rpc(name = "calc.add")]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Counts down from `from`.
#[rpc]
async fn countdown(from: u32) -> impl Stream<Item = u32> {
    futures_util::stream::iter((0..from).rev())
}

fn router() -> Router {
    Router::new().named("sums", "1.2.0", "Sums and countdowns.").rpc::<add>().rpc::<countdown>()
}

/// `path` as JSON, after checking it answers 200 with a JSON content type.
async fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, headers, body) = http(addr, "GET", path, &[]).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    assert_eq!(common::header(&headers, "content-type"), Some("application/json"), "GET {path}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path} is not JSON: {e}\n{body}"))
}

#[tokio::test]
async fn the_asyncapi_document_describes_the_methods_and_the_server_as_reached() {
    let addr = serve_with(Server::new(router())).await;
    let doc = get_json(addr, "/asyncapi.json").await;
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!((&doc["info"]["title"], &doc["info"]["version"]), (&serde_json::json!("sums"), &serde_json::json!("1.2.0")));
    let server = &doc["servers"]["volley"];
    assert_eq!((&server["protocol"], &server["pathname"]), (&serde_json::json!("ws"), &serde_json::json!("/")));
    assert_eq!(server["host"], addr.to_string(), "the Host the request named");
    let operations = doc["operations"].as_object().unwrap();
    // Every method the schema lists, the reserved ones included, has its operation.
    let schema = get_json(addr, "/schema").await;
    for method in schema["methods"].as_array().unwrap() {
        let name = method["name"].as_str().unwrap();
        assert!(operations.contains_key(name), "no operation for {name}: {:?}", operations.keys().collect::<Vec<_>>());
    }
    let add = &operations["calc.add"];
    assert_eq!(add["action"], "send");
    assert_eq!(add["reply"]["messages"][0]["$ref"], "#/channels/connection/messages/calc.add.result");
    let call = &doc["components"]["messages"]["calc.add.call"]["payload"]["items"];
    assert_eq!((&call[2]["const"], &call[3]["required"]), (&serde_json::json!("calc.add"), &serde_json::json!(["a", "b"])));
    assert_eq!(call[3]["properties"]["a"]["type"], "integer");
    let replies: Vec<&str> = operations["countdown"]["reply"]["messages"].as_array().unwrap().iter().map(|m| m["$ref"].as_str().unwrap()).collect();
    assert!(replies.contains(&"#/channels/connection/messages/countdown.item"), "{replies:?}");
}

#[tokio::test]
async fn the_endpoint_path_is_the_servers_pathname() {
    let addr = serve_with(Server::new(router()).path("/ws")).await;
    for path in ["/asyncapi.json", "/ws/asyncapi.json"] {
        let doc = get_json(addr, path).await;
        assert_eq!(doc["servers"]["volley"]["pathname"], "/ws", "GET {path}");
    }
}

#[tokio::test]
async fn mounted_in_an_axum_app_the_pathname_is_the_mount_point() {
    let app = axum::Router::new().nest("/rpc", Server::new(router()).router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let doc = get_json(addr, "/rpc/asyncapi.json").await;
    assert_eq!(doc["servers"]["volley"]["pathname"], "/rpc");
    assert_eq!(doc["servers"]["volley"]["host"], addr.to_string());
}

#[tokio::test]
async fn the_asyncapi_document_is_behind_the_same_hooks_as_the_schema() {
    let auth = BearerAuth::new(|token: String| async move {
        match token.as_str() {
            "t-1" => Ok(()),
            _ => Err(Error::new(ErrorCode::UNAUTHENTICATED, "unknown token")),
        }
    });
    let addr = serve_with(Server::new(router().hook(auth))).await;
    for path in ["/schema", "/asyncapi.json"] {
        assert_eq!(http(addr, "GET", path, &[]).await.0, 401, "GET {path} without a token");
        assert_eq!(http(addr, "GET", path, &[("Authorization", "Bearer t-1")]).await.0, 200, "GET {path} with one");
    }
}

#[test]
#[should_panic(expected = "served by volley itself")]
fn the_websocket_path_cannot_take_the_asyncapi_document() {
    let _ = Server::new(router()).path("/asyncapi.json");
}
