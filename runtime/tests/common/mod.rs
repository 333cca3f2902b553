//! Shared test fixtures: a server on a free port, raw WebSocket access for sending
//! hand-made (and broken) frames.
#![allow(dead_code)]

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use volley::{Router, Server};

/// Serves `router` on 127.0.0.1 on a free port until the test ends.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Server::new(router).serve_with_shutdown(listener, std::future::pending()));
    addr
}

/// Serves `router` like [`serve`], also returning the server's publisher to inspect
/// its connections.
pub async fn serve_watched(router: Router) -> (SocketAddr, volley::Publisher) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(router);
    let publisher = server.publisher();
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    (addr, publisher)
}

pub fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}")
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw WebSocket with the given subprotocol.
pub async fn raw(addr: SocketAddr, subprotocol: &str) -> Ws {
    let mut req = url(addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", subprotocol.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.unwrap();
}

/// The next text frame, parsed as JSON (skipping pings).
pub async fn recv_json(ws: &mut Ws) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the connection is open")
            .unwrap();
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Binary(b) => return rmp_serde::from_slice(&b).unwrap(),
            _ => continue,
        }
    }
}

/// Sends a frame written as JSON; on a msgpack connection a well-formed one is
/// transcoded, so both encodings see the same mistakes.
pub async fn send_as(ws: &mut Ws, binary: bool, text: String) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let msg = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if binary => Message::binary(rmp_serde::to_vec(&v).unwrap()),
        _ if binary => Message::binary(text.into_bytes()),
        _ => Message::text(text),
    };
    ws.send(msg).await.unwrap()
}

/// Serves `server` on 127.0.0.1 on a free port until the test ends.
pub async fn serve_server(server: Server) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    addr
}

/// A plain HTTP/1.1 request: the status, the headers (names lowercased) and the body.
pub async fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_to_end(&mut raw)).await.expect("an answer").unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    (status, headers, body.to_owned())
}

/// The value of header `name` in what [`http`] returned.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}
