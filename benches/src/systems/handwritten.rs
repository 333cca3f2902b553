//! The floor: a hand-written request/response loop on tokio-tungstenite and serde_json,
//! with the same frames as volley's JSON encoding (`[0,id,"add",{"a":1,"b":2}]` answered
//! by `[1,id,3]`). It decodes the frame head, dispatches on the method name, decodes the
//! typed parameters and encodes the typed result, which any RPC layer must do, and
//! nothing more: no cancellation, deadlines, flow control or introspection.

use std::net::SocketAddr;

use futures::SinkExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::ws::{self, Ws};
use crate::scenario::{self, Caller, ClientReport, Gate, Plan};

#[derive(Deserialize)]
struct Call<'a>(u8, u64, &'a str, &'a RawValue);

#[derive(Deserialize)]
struct AddParams {
    a: i64,
    b: i64,
}

#[derive(Deserialize)]
struct CountParams {
    n: u64,
}

/// Serves `add` and the `count` stream until the process is killed.
pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    ws::accept_loop(listener, connection).await
}

async fn connection(mut ws: Ws) {
    let _ = async {
        loop {
            let msg = ws::recv(&mut ws).await?;
            handle(&mut ws, msg).await?;
            while let Some(more) = ws::next_ready(&mut ws) {
                handle(&mut ws, more).await?;
            }
            ws.flush().await?;
        }
        #[allow(unreachable_code)]
        anyhow::Ok(())
    }
    .await;
}

async fn handle(ws: &mut Ws, msg: Message) -> anyhow::Result<()> {
    let Message::Text(text) = msg else { return Ok(()) };
    let Call(kind, id, method, params) = serde_json::from_str(text.as_str())?;
    anyhow::ensure!(kind == 0, "not a call");
    match method {
        "add" => {
            let p: AddParams = serde_json::from_str(params.get())?;
            ws.feed(Message::text(serde_json::to_string(&(1u8, id, p.a + p.b))?)).await?;
        }
        "count" => {
            let p: CountParams = serde_json::from_str(params.get())?;
            for i in 0..p.n {
                ws.feed(Message::text(serde_json::to_string(&(3u8, id, i))?)).await?;
            }
            ws.feed(Message::text(serde_json::to_string(&(4u8, id))?)).await?;
        }
        other => {
            let err = (2u8, id, 404, format!("no method {other}"));
            ws.feed(Message::text(serde_json::to_string(&err)?)).await?;
        }
    }
    Ok(())
}

/// One connection of the hand-written client.
pub struct Client {
    ws: Ws,
    next_id: u64,
}

impl Client {
    /// Connects to the hand-written server.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        Ok(Client { ws: ws::connect(addr, "/", None).await?, next_id: 1 })
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 2;
        id
    }

    /// One `count` stream of `n` items; returns the number of items received.
    pub async fn count(&mut self, n: u64) -> anyhow::Result<u64> {
        let id = self.id();
        self.ws.send(Message::text(format!(r#"[0,{id},"count",{{"n":{n}}}]"#))).await?;
        let mut items = 0;
        loop {
            let msg = ws::recv(&mut self.ws).await?;
            let (kind, got_id): (u8, u64) = head(&msg)?;
            anyhow::ensure!(got_id == id, "frame for another call");
            match kind {
                3 => items += 1,
                4 => return Ok(items),
                _ => anyhow::bail!("unexpected frame {kind}"),
            }
        }
    }
}

fn add_request(id: u64) -> Message {
    Message::text(format!(r#"[0,{id},"add",{{"a":1,"b":2}}]"#))
}

fn head(msg: &Message) -> anyhow::Result<(u8, u64)> {
    #[derive(Deserialize)]
    struct Head(u8, u64, #[serde(default)] serde::de::IgnoredAny);
    let Head(kind, id, _) = serde_json::from_slice(&msg.clone().into_data())?;
    Ok((kind, id))
}

fn add_answer(msg: &Message) -> anyhow::Result<Option<i64>> {
    let Message::Text(text) = msg else { return Ok(None) };
    let (kind, _id, sum): (u8, u64, i64) = serde_json::from_str(text.as_str())?;
    anyhow::ensure!(kind == 1, "not a result");
    Ok(Some(sum))
}

impl Caller for Client {
    async fn add(&mut self, _a: i64, _b: i64) -> anyhow::Result<i64> {
        let id = self.id();
        self.ws.send(add_request(id)).await?;
        let msg = ws::recv(&mut self.ws).await?;
        Ok(add_answer(&msg)?.unwrap_or_default())
    }
}

/// Runs one client scenario against the hand-written server.
pub async fn client(scenario: scenario::Scenario, addr: SocketAddr, plan: &Plan, gate: &mut Gate) -> anyhow::Result<ClientReport> {
    use scenario::Scenario::*;
    match scenario {
        Unary => scenario::one_at_a_time(plan, gate, &mut Client::connect(addr).await?).await,
        InFlight => {
            let mut c = Client::connect(addr).await?;
            ws::sliding_window(&mut c.ws, plan, gate, |n| add_request(2 * n + 1), add_answer).await
        }
        Stream => {
            let mut c = Client::connect(addr).await?;
            scenario::stream_rounds(plan, gate, &mut c, async |c: &mut Client, n| c.count(n).await).await
        }
        Wire => scenario::wire_calls(plan, gate, &mut Client::connect(addr).await?).await,
        Idle => {
            scenario::hold_idle(plan, gate, || async {
                let mut c = Client::connect(addr).await?;
                c.add(1, 2).await?;
                Ok(c)
            })
            .await
        }
    }
}
