//! The hooks example over a real socket: authentication, tracing and timing.

use std::collections::BTreeMap;

use hooks::{MethodTiming, User};
use serde_json::json;
use volley::{CallOptions, Client, ErrorCode};

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hooks::server(&hooks::ALLOWED_ORIGINS).serve_with_shutdown(listener, std::future::pending()));
    format!("ws://{addr}")
}

#[tokio::test]
async fn tokens_decide_who_may_connect_and_call_admin_methods() {
    let url = serve().await;

    let err = Client::builder(&url).header("authorization", "Bearer nope").connect().await.err().expect("refused");
    assert!(err.message.contains("401"), "{}", err.message);

    let anonymous = Client::connect(&url).await.unwrap();
    assert_eq!(anonymous.call::<Option<User>>("whoami", &json!({})).await.unwrap(), None);
    assert_eq!(anonymous.call::<serde_json::Value>("admin.timings", &json!({})).await.unwrap_err().code, ErrorCode::UNAUTHENTICATED);

    let bob = Client::builder(&url).header("authorization", "Bearer bob-token").connect().await.unwrap();
    let me = bob.call::<Option<User>>("whoami", &json!({})).await.unwrap().expect("bob");
    assert_eq!((me.name.as_str(), me.role.as_str()), ("bob", "user"));
    let err = bob.call::<serde_json::Value>("admin.timings", &json!({})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PERMISSION_DENIED);
    assert_eq!(err.message, "bob is not an admin");

    // Browsers send the token as a cookie.
    let alice = Client::builder(&url).header("cookie", "theme=dark; token=alice-token").connect().await.unwrap();
    assert_eq!(alice.call::<String>("echo", &json!({"text": "hi", "delay_ms": 5})).await.unwrap(), "hi");
    let timings: BTreeMap<String, MethodTiming> = alice.call("admin.timings", &json!({})).await.unwrap();
    let echo = &timings["echo"];
    assert_eq!((echo.calls, echo.failures), (1, 0));
    assert!(echo.max_us >= 5_000, "the 5 ms sleep was measured: {}", echo.max_us);
    assert_eq!(timings["admin.timings"].failures, 2, "bob's and the anonymous refusals count as failures");
}

#[tokio::test]
async fn every_call_is_traced_and_timed() {
    let url = serve().await;
    let client = Client::connect(&url).await.unwrap();

    let r = client.call_with::<String>("echo", &json!({"text": "a", "delay_ms": 0}), CallOptions::new().metadata("trace-id", "t-42")).await.unwrap();
    assert_eq!(r.leading.get("trace-id").map(String::as_str), Some("t-42"), "the caller's trace id comes back");
    let us: u64 = r.trailers.get("server-timing-us").expect("timing trailer").parse().unwrap();
    assert!(us < 10_000_000);

    let first = client.call_with::<String>("echo", &json!({"text": "b", "delay_ms": 0}), CallOptions::new()).await.unwrap();
    let second = client.call_with::<String>("echo", &json!({"text": "c", "delay_ms": 0}), CallOptions::new()).await.unwrap();
    let (a, b) = (first.leading.get("trace-id").expect("assigned"), second.leading.get("trace-id").expect("assigned"));
    assert!(a.starts_with("srv-") && b.starts_with("srv-") && a != b, "{a} {b}");

    // Errors are timed too.
    let err = client.call_with::<String>("echo", &json!({"text": "x", "delay_ms": 999999}), CallOptions::new()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
}

#[tokio::test]
async fn a_cross_site_upgrade_is_refused_even_with_a_valid_cookie() {
    let url = serve().await;
    let cookie = "token=alice-token";
    let err = Client::builder(&url).header("cookie", cookie).header("origin", "https://evil.example").connect().await.err().expect("refused");
    assert!(err.message.contains("403"), "{}", err.message);
    let same_site = Client::builder(&url).header("cookie", cookie).header("origin", "http://127.0.0.1:8002").connect().await.unwrap();
    let me = same_site.call::<Option<User>>("whoami", &json!({})).await.unwrap().expect("alice");
    assert_eq!(me.name, "alice");
    // Not a browser: no Origin, let in.
    let tool = Client::builder(&url).header("cookie", cookie).connect().await.unwrap();
    assert_eq!(tool.call::<Option<User>>("whoami", &json!({})).await.unwrap().expect("alice").name, "alice");
}
