//! tarpc 0.38 over its TCP serde transport with bincode (tarpc speaks no WebSocket).
//! tarpc has no server streams, so the stream scenario does not apply.

use std::net::SocketAddr;

use futures::{future, StreamExt};
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::{client, context};

use crate::scenario::{self, Caller, ClientReport, Gate, Plan};

/// The benchmark service.
#[tarpc::service]
pub trait Bench {
    /// Adds two integers.
    async fn add(a: i64, b: i64) -> i64;
}

#[derive(Clone)]
struct BenchServer;

impl Bench for BenchServer {
    async fn add(self, _: context::Context, a: i64, b: i64) -> i64 {
        a + b
    }
}

/// Serves `add` until the process is killed; each connection gets its own task, and
/// each request its own task as tarpc's examples do.
pub async fn serve(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let listener = tarpc::serde_transport::tcp::listen_on(listener, Bincode::default).await?;
    listener
        .filter_map(|r| future::ready(r.ok()))
        .for_each(|transport| {
            let _ = transport.get_ref().set_nodelay(true);
            let channel = BaseChannel::with_defaults(transport);
            tokio::spawn(channel.execute(BenchServer.serve()).for_each(|fut| async {
                tokio::spawn(fut);
            }));
            future::ready(())
        })
        .await;
    Ok(())
}

/// One tarpc client connection.
pub struct Client {
    inner: BenchClient,
}

impl Client {
    /// Connects to the tarpc server.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        let transport = tarpc::serde_transport::tcp::connect(addr, Bincode::default).await?;
        transport.get_ref().set_nodelay(true)?;
        Ok(Client { inner: BenchClient::new(client::Config::default(), transport).spawn() })
    }

    async fn call(&self) -> anyhow::Result<i64> {
        Ok(self.inner.add(context::current(), 1, 2).await?)
    }
}

impl Caller for Client {
    async fn add(&mut self, _a: i64, _b: i64) -> anyhow::Result<i64> {
        self.call().await
    }
}

/// Runs one client scenario against the tarpc server.
pub async fn client(scenario: scenario::Scenario, addr: SocketAddr, plan: &Plan, gate: &mut Gate) -> anyhow::Result<ClientReport> {
    use scenario::Scenario::*;
    match scenario {
        Unary => scenario::one_at_a_time(plan, gate, &mut Client::connect(addr).await?).await,
        InFlight => {
            let c = Client::connect(addr).await?;
            scenario::keep_in_flight(plan, gate, || c.call()).await
        }
        Wire => scenario::wire_calls(plan, gate, &mut Client::connect(addr).await?).await,
        Idle => {
            scenario::hold_idle(plan, gate, || async {
                let c = Client::connect(addr).await?;
                c.call().await?;
                Ok(c)
            })
            .await
        }
        Stream => anyhow::bail!("tarpc has no server streams"),
    }
}
