//! WebSocket plumbing shared by the systems written directly on tokio-tungstenite.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use futures::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::scenario::{check_sum, ClientReport, Gate, Plan};

/// A WebSocket over a plain TCP stream.
pub type Ws = WebSocketStream<TcpStream>;

/// Accepts TCP connections forever, upgrades each to a WebSocket and runs `handle` on it
/// in its own task.
pub async fn accept_loop<F, Fut>(listener: TcpListener, handle: F) -> anyhow::Result<()>
where
    F: Fn(Ws) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                handle(ws).await;
            }
        });
    }
}

/// Opens a WebSocket to `ws://addr{path}`, offering `subprotocol` if given.
pub async fn connect(addr: SocketAddr, path: &str, subprotocol: Option<&str>) -> anyhow::Result<Ws> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{addr}{path}").into_client_request()?;
    if let Some(p) = subprotocol {
        request.headers_mut().insert("Sec-WebSocket-Protocol", p.parse()?);
    }
    let (ws, _) = tokio_tungstenite::client_async(request, stream).await?;
    Ok(ws)
}

/// Returns the next message if one is already buffered or readable without waiting.
pub fn next_ready(ws: &mut Ws) -> Option<Message> {
    match ws.next().now_or_never() {
        Some(Some(Ok(msg))) => Some(msg),
        _ => None,
    }
}

/// Receives the next data message, skipping pings and pongs.
pub async fn recv(ws: &mut Ws) -> anyhow::Result<Message> {
    loop {
        match ws.next().await {
            Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => return Ok(msg),
            Some(Ok(Message::Close(_))) | None => anyhow::bail!("connection closed"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// Keeps `depth` requests in flight on one WebSocket from a single task: it sends a
/// new request for each answer, and flushes once per batch of answers that were ready
/// together. `request(n)` builds the n-th request (n counts from 0); `answer` returns
/// `Some(sum)` for a response and `None` for any other message.
pub async fn sliding_window(
    ws: &mut Ws,
    plan: &Plan,
    gate: &mut Gate,
    mut request: impl FnMut(u64) -> Message,
    answer: impl Fn(&Message) -> anyhow::Result<Option<i64>>,
) -> anyhow::Result<ClientReport> {
    let mut sent = 0u64;
    let mut run = async |ws: &mut Ws, until: Instant, max: u64| -> anyhow::Result<u64> {
        let mut in_flight = 0usize;
        let mut done = 0u64;
        while in_flight < depth_of(plan) && done + (in_flight as u64) < max {
            ws.feed(request(sent)).await?;
            sent += 1;
            in_flight += 1;
        }
        ws.flush().await?;
        while in_flight > 0 {
            let mut msg = Some(recv(ws).await?);
            while let Some(m) = msg.take() {
                if let Some(sum) = answer(&m)? {
                    check_sum(sum)?;
                    in_flight -= 1;
                    done += 1;
                    if Instant::now() < until && done + (in_flight as u64) < max {
                        ws.feed(request(sent)).await?;
                        sent += 1;
                        in_flight += 1;
                    }
                }
                msg = next_ready(ws);
            }
            ws.flush().await?;
        }
        Ok(done)
    };
    run(ws, Instant::now() + plan.warmup(), u64::MAX).await?;
    gate.go().await;
    let ops = run(ws, Instant::now() + plan.window(), plan.max_ops).await?;
    gate.stop().await;
    Ok(gate.report(ops, None))
}

fn depth_of(plan: &Plan) -> usize {
    plan.depth.max(1)
}
