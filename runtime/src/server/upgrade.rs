//! The WebSocket endpoint: checks an upgrade request (RFC 6455, subprotocol, origin,
//! connection hooks), answers `101`, and starts the connection on the upgraded socket.
//!
//! It is an axum handler, so it runs the same in the standalone server and in an
//! application's own axum `Router`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use hyper::header::{self, HeaderValue};
use hyper::http::StatusCode;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role as WsRole;
use tokio_tungstenite::WebSocketStream;

use super::app::{refusal, text, App};
use super::{ServerShared, Ticket};
use crate::connection;
use crate::context::ConnectionInfo;
use crate::protocol::{Encoding, ErrorCode, Frame, Role};
use crate::Error;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// `Retry-After` on refusals while the server shuts down, in seconds.
const RETRY_AFTER_SECS: &str = "5";

/// True when the request asks to become a WebSocket.
pub(super) fn is_upgrade(req: &Request) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The TCP peer's address: set by the standalone server, or by axum's
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub(super) fn peer_addr(req: &Request) -> Option<SocketAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// The client's address: the TCP peer's, or, from a trusted proxy, the hop it forwarded.
pub(super) fn client_addr(shared: &ServerShared, req: &Request) -> Option<SocketAddr> {
    let peer = peer_addr(req)?;
    Some(shared.policy.read().unwrap().proxies.client_addr(req.headers(), peer))
}

/// `GET` on the WebSocket path.
pub(super) async fn endpoint(State(app): State<Arc<App>>, req: Request) -> Response {
    if !is_upgrade(&req) {
        return app.not_upgrade(&req);
    }
    upgrade(&app.shared, req).await
}

async fn upgrade(shared: &Arc<ServerShared>, mut req: Request) -> Response {
    if req.headers().get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        let mut r = text(StatusCode::UPGRADE_REQUIRED, "volley: only WebSocket version 13 (RFC 6455) is supported\n");
        r.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return r;
    }
    let offered: Vec<String> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let Some(encoding) = offered.iter().find_map(|p| Encoding::from_subprotocol(p)) else {
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "volley: no supported WebSocket subprotocol offered (got: {}); offer volley.v1.json or volley.v1.msgpack in Sec-WebSocket-Protocol\n",
                if offered.is_empty() { "none".to_owned() } else { offered.join(", ") }
            ),
        );
    };
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return text(StatusCode::BAD_REQUEST, "volley: missing Sec-WebSocket-Key\n");
    };
    if !valid_key(key.as_bytes()) {
        return text(StatusCode::BAD_REQUEST, "volley: Sec-WebSocket-Key must be a 16-byte nonce in base64\n");
    }
    if shared.shutting_down.load(Ordering::SeqCst) {
        crate::metrics::connection_refused("draining");
        let mut r = refusal(&Error::new(ErrorCode::UNAVAILABLE, "the server is shutting down; retry on another connection"));
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        return r;
    }
    let remote = client_addr(shared, &req);
    let forbidden = {
        let policy = shared.policy.read().unwrap();
        let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("").to_ascii_lowercase());
        match (&policy.origins, origin) {
            (Some(allowed), Some(origin)) if !allowed.contains(&origin) => Some(origin),
            _ => None,
        }
    };
    if let Some(origin) = forbidden {
        let shown = crate::error::bounded(&origin);
        tracing::info!(origin = ?shown, "upgrade from a forbidden origin refused");
        crate::metrics::connection_refused("origin");
        return refusal(&Error::new(ErrorCode::PERMISSION_DENIED, format!("origin `{shown}` is not allowed")));
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (mut head, _body) = req.into_parts();
    if let Err(e) = shared.routes.hooks.before_connection(&mut head, remote).await {
        crate::metrics::connection_refused("hook");
        return refusal(&e);
    }
    // The socket's place under the connection cap: taken over from its HTTP connection
    // in the standalone server, taken here when mounted in another server.
    let permit = match head.extensions.remove::<Ticket>() {
        Some(ticket) => ticket.take(),
        None => match shared.sockets.lock().unwrap().clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                crate::metrics::connection_refused("capacity");
                let mut r = refusal(&Error::new(ErrorCode::UNAVAILABLE, "too many connections; retry"));
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
        },
    };
    let headers = detached(head.headers);
    // What the HTTP stack and the hooks learned about the request (an authenticated
    // user, say) stays with the connection, for hooks and handlers.
    let extensions = head.extensions;
    let shared = shared.clone();
    tokio::spawn(async move {
        let _permit = permit;
        // The setup (upgrade, WebSocket, hooks) runs boxed, so its state is freed once
        // done instead of sizing the task that waits out the connection's whole life.
        let setup = Box::pin(async {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => {
                    tracing::debug!("upgrade failed: {e}");
                    return None;
                }
            };
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), WsRole::Server, Some(shared.ws_config)).await;
            let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
            let info = ConnectionInfo { id, remote_addr: remote, headers, encoding, extensions: std::sync::Mutex::new(extensions) };
            if let Err(e) = shared.routes.hooks.after_accept(&info).await {
                tracing::info!(conn = id, "connection refused by a hook: {}", e.message);
                crate::metrics::connection_refused("hook");
                refuse(ws, encoding, &e).await;
                return None;
            }
            Some((id, connection::start(ws, Role::Server, info, shared.routes.clone(), shared.limits.clone())))
        });
        let Some((id, peer)) = setup.await else { return };
        let _open = crate::metrics::ConnectionOpen::new();
        tracing::debug!(conn = id, remote = ?remote, encoding = encoding.subprotocol(), "connection open");
        shared.conns.lock().unwrap().insert(id, peer.clone());
        peer.closed().await;
        shared.conns.lock().unwrap().remove(&id);
        tracing::debug!(conn = id, "connection closed");
        shared.routes.hooks.after_connection(peer.info());
    });
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&derive_accept_key(key.as_bytes())).expect("base64"));
    h.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(encoding.subprotocol()));
    res
}

/// Tells a peer why its connection is refused after the upgrade (an `after_accept` hook
/// said no): an `ERROR` frame on id 0, then a close with code 1008 (policy violation).
async fn refuse<S>(mut ws: WebSocketStream<S>, encoding: Encoding, e: &Error)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::{coding::CloseCode, CloseFrame};
    use tokio_tungstenite::tungstenite::Message;

    let frame = Frame::Error {
        id: 0,
        error: crate::protocol::ErrorBody { code: e.code, message: e.message.clone(), data: None },
        trailers: Default::default(),
    };
    let mut buf = Vec::new();
    encoding.encode_frame(&frame, &mut buf);
    let msg = match encoding {
        Encoding::Json => Message::text(String::from_utf8(buf).unwrap_or_default()),
        Encoding::MsgPack => Message::binary(buf),
    };
    let _ = ws.send(msg).await;
    let mut reason = e.message.clone();
    while reason.len() > 120 {
        reason.pop();
    }
    let _ = ws.close(Some(CloseFrame { code: CloseCode::Policy, reason: reason.into() })).await;
}

/// The upgrade request's headers, copied out of hyper's read buffer. hyper's header
/// values are slices of the (8 KiB) buffer the request was read into; keeping them for
/// the connection's life would keep that whole buffer too.
fn detached(headers: hyper::HeaderMap) -> hyper::HeaderMap {
    let mut out = hyper::HeaderMap::with_capacity(headers.len());
    let mut last = None;
    for (name, value) in headers {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        // A value hyper accepted but `from_bytes` would not is kept as it is.
        let copy = match HeaderValue::from_bytes(value.as_bytes()) {
            Ok(mut copy) => {
                copy.set_sensitive(value.is_sensitive());
                copy
            }
            Err(_) => value,
        };
        out.append(name, copy);
    }
    out
}

/// True for a `Sec-WebSocket-Key` of the form RFC 6455 requires: a 16-byte nonce in
/// base64, which is 22 characters, the last of them carrying 2 bits, and `==`.
fn valid_key(key: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    key.len() == 24
        && key[..21].iter().all(|c| ALPHABET.contains(c))
        && b"AQgw".contains(&key[21])
        && &key[22..] == b"=="
}
