//! A raw tokio-tungstenite echo: no decoding at all, the server sends every message
//! back. It is the ceiling for any protocol on this WebSocket stack.

use std::net::SocketAddr;
use std::time::Instant;

use futures::SinkExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::ws::{self, Ws};
use crate::scenario::{self, Caller, ClientReport, Gate, Plan};

/// The message echoed: the same bytes as volley's JSON `add(1, 2)`.
const PAYLOAD: &str = r#"[0,1,"add",{"a":1,"b":2}]"#;

/// Serves the echo until the process is killed.
pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    ws::accept_loop(listener, echo).await
}

async fn echo(mut ws: Ws) {
    let _ = async {
        loop {
            let msg = ws::recv(&mut ws).await?;
            ws.feed(msg).await?;
            // Echo everything that already arrived, then flush once for the burst.
            while let Some(more) = ws::next_ready(&mut ws) {
                if more.is_text() || more.is_binary() {
                    ws.feed(more).await?;
                }
            }
            ws.flush().await?;
        }
        #[allow(unreachable_code)]
        anyhow::Ok(())
    }
    .await;
}

/// One echo connection.
pub struct Client {
    ws: Ws,
}

impl Client {
    /// Connects to the echo server.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        Ok(Client { ws: ws::connect(addr, "/", None).await? })
    }

    /// Sends `n` messages with one flush, then reads the `n` echoes.
    async fn burst(&mut self, n: usize) -> anyhow::Result<()> {
        for _ in 0..n {
            self.ws.feed(Message::text(PAYLOAD)).await?;
        }
        self.ws.flush().await?;
        for _ in 0..n {
            let msg = ws::recv(&mut self.ws).await?;
            anyhow::ensure!(msg.len() == PAYLOAD.len(), "echo changed the message");
        }
        Ok(())
    }
}

impl Caller for Client {
    async fn add(&mut self, _a: i64, _b: i64) -> anyhow::Result<i64> {
        self.burst(1).await?;
        Ok(3)
    }
}

/// Bursts of `plan.depth` messages, one flush per burst.
pub async fn in_flight(plan: &Plan, gate: &mut Gate, client: &mut Client) -> anyhow::Result<ClientReport> {
    let depth = plan.depth.max(1);
    let warm_until = Instant::now() + plan.warmup();
    while Instant::now() < warm_until {
        client.burst(depth).await?;
    }
    gate.go().await;
    let end = Instant::now() + plan.window();
    let mut ops = 0u64;
    while Instant::now() < end && ops < plan.max_ops {
        client.burst(depth).await?;
        ops += depth as u64;
    }
    gate.stop().await;
    Ok(gate.report(ops, None))
}

/// Runs one client scenario against the echo server.
pub async fn client(scenario: scenario::Scenario, addr: SocketAddr, plan: &Plan, gate: &mut Gate) -> anyhow::Result<ClientReport> {
    use scenario::Scenario::*;
    match scenario {
        Unary => scenario::one_at_a_time(plan, gate, &mut Client::connect(addr).await?).await,
        InFlight => in_flight(plan, gate, &mut Client::connect(addr).await?).await,
        Wire => scenario::wire_calls(plan, gate, &mut Client::connect(addr).await?).await,
        Idle => {
            scenario::hold_idle(plan, gate, || async {
                let mut c = Client::connect(addr).await?;
                c.add(1, 2).await?;
                Ok(c)
            })
            .await
        }
        Stream => anyhow::bail!("an echo has no server stream"),
    }
}
