//! The playground at `GET /docs`: the page and its assets with their content types, on
//! by default, gone with `docs(false)`, and pointing at the WebSocket path.

use crate::common;

use common::{header, http, serve_server};

use volley::{rpc, Router, Server};

/// Adds two integers.
#[rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_their_content_types() {
    let addr = serve_server(Server::new(Router::new().rpc::<add>())).await;
    let (status, headers, page) = http(addr, "GET", "/docs", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/html; charset=utf-8"));
    assert!(page.starts_with("<!doctype html>"), "{page}");
    // Everything the page loads is the server's own, relative to /docs.
    for asset in ["docs/docs.js", "docs/docs.css", "docs/ajv.min.js"] {
        assert!(page.contains(&format!("\"{asset}\"")), "the page loads {asset}");
    }
    assert!(!page.contains("http://") && !page.contains("https://"), "nothing from elsewhere: {page}");
    assert!(page.contains(r#"<meta name="volley-ws-path" content="/">"#), "{page}");
    for (path, content_type, contains) in [
        ("/docs/docs.js", "text/javascript; charset=utf-8", "volley.subscribe"),
        ("/docs/docs.css", "text/css; charset=utf-8", "prefers-color-scheme"),
        ("/docs/ajv.min.js", "text/javascript; charset=utf-8", "Ajv"),
    ] {
        let (status, headers, body) = http(addr, "GET", path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), Some(content_type), "{path}");
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"), "{path}");
        assert!(body.contains(contains), "{path} holds {contains}");
    }
    // The page's links are relative to /docs: a trailing slash is sent back there.
    let (status, headers, _) = http(addr, "GET", "/docs/", &[]).await;
    assert_eq!((status, header(&headers, "location")), (308, Some("../docs")));
    assert_eq!(http(addr, "GET", "/docs/nothing.js", &[]).await.0, 404);
}

#[tokio::test]
async fn docs_false_turns_the_page_off() {
    let addr = serve_server(Server::new(Router::new().rpc::<add>()).docs(false)).await;
    for path in ["/docs", "/docs/docs.js", "/docs/docs.css", "/docs/ajv.min.js"] {
        assert_eq!(http(addr, "GET", path, &[]).await.0, 404, "{path}");
    }
    assert_eq!(http(addr, "GET", "/schema", &[]).await.0, 200);
}

#[tokio::test]
async fn the_page_knows_the_websocket_path() {
    let addr = serve_server(Server::new(Router::new().rpc::<add>()).path("/rpc")).await;
    let (status, _, page) = http(addr, "GET", "/docs", &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<meta name="volley-ws-path" content="/rpc">"#), "{page}");
}

#[test]
#[should_panic(expected = "served by volley itself")]
fn the_websocket_may_not_take_docs() {
    let _ = Server::new(Router::new().rpc::<add>()).path("/docs");
}
