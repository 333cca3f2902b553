//! `GET /docs`: the playground, a page that lists the service from its schema (`GET
//! /schema`) and calls it over WebSocket, for someone who has just started a server and
//! has no client yet. Everything it needs is embedded in the binary (the files under
//! `docs/`); nothing is loaded from elsewhere.

use axum::body::Body;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hyper::header::{self, HeaderValue};

const INDEX: &str = include_str!("docs/index.html");
const SCRIPT: &str = include_str!("docs/docs.js");
const STYLE: &str = include_str!("docs/docs.css");
/// Ajv (JSON Schema draft 2020-12), bundled and minified; `docs/README.md` says how.
const AJV: &str = include_str!("docs/ajv.min.js");

/// The routes of the playground, for an endpoint at `ws_path`.
pub(super) fn routes(ws_path: &str) -> axum::Router {
    // The page finds the endpoint from its own URL: a mount point of the router is in
    // front of both.
    let index = INDEX.replace("{{ws_path}}", &escape(ws_path));
    axum::Router::new()
        .route("/docs", get(move || async move { asset(index.clone(), "text/html; charset=utf-8") }))
        // The page's links are relative to `/docs`, not to `/docs/`.
        .route("/docs/", get(|| async { Redirect::permanent("../docs") }))
        .route("/docs/docs.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/docs/docs.css", get(|| async { asset(STYLE, "text/css; charset=utf-8") }))
        .route("/docs/ajv.min.js", get(|| async { asset(AJV, "text/javascript; charset=utf-8") }))
}

fn asset(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut r = Response::new(body.into());
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A new server binary may bring a new page: the browser asks again each time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r.into_response()
}

/// `s` as the text of an HTML attribute.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}
