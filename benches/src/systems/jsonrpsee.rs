//! jsonrpsee 0.26: its WebSocket server with `add` as a method and `count` as a
//! subscription, and its ws-client, both with default settings except two limits: the
//! server's connection limit, raised so that 10,000 idle connections fit, and the client's
//! buffer per subscription. jsonrpsee subscriptions have no flow control: a client that
//! falls more than that buffer behind loses the subscription, so the stream scenario's
//! client gets room for a whole stream.

use std::net::SocketAddr;

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::rpc_params;
use jsonrpsee::server::{RpcModule, Server, ServerConfig};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};

use crate::scenario::{self, Caller, ClientReport, Gate, Plan};

/// Serves `add` and the `count` subscription until the process is killed.
pub async fn serve(listener: std::net::TcpListener) -> anyhow::Result<()> {
    let mut module = RpcModule::new(());
    module.register_method("add", |params, _, _| {
        let (a, b): (i64, i64) = params.parse()?;
        Ok::<i64, ErrorObjectOwned>(a + b)
    })?;
    module.register_subscription("count", "count_item", "count_stop", |params, pending, _, _| async move {
        let (n,): (u64,) = params.parse()?;
        let sink = pending.accept().await?;
        for i in 0..n {
            sink.send(serde_json::value::to_raw_value(&i)?).await?;
        }
        Ok(())
    })?;
    listener.set_nonblocking(true)?;
    let config = ServerConfig::builder().max_connections(20_000).build();
    let server = Server::builder().set_config(config).build_from_tcp(listener)?;
    let handle = server.start(module);
    handle.stopped().await;
    Ok(())
}

/// One jsonrpsee ws-client.
pub struct Client {
    inner: WsClient,
}

impl Client {
    /// Connects to the jsonrpsee server.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        Self::connect_with(addr, WsClientBuilder::default()).await
    }

    /// Connects with a subscription buffer large enough for a whole `items`-long stream.
    pub async fn connect_for_stream(addr: SocketAddr, items: u64) -> anyhow::Result<Client> {
        let room = usize::try_from(items)?.max(1024) + 1024;
        Self::connect_with(addr, WsClientBuilder::default().max_buffer_capacity_per_subscription(room)).await
    }

    async fn connect_with(addr: SocketAddr, builder: WsClientBuilder) -> anyhow::Result<Client> {
        Ok(Client { inner: builder.build(format!("ws://{addr}")).await? })
    }

    async fn call(&self) -> anyhow::Result<i64> {
        Ok(self.inner.request("add", rpc_params![1i64, 2i64]).await?)
    }

    /// Subscribes to `count` for `n` items and reads them; returns the number read.
    pub async fn count(&self, n: u64) -> anyhow::Result<u64> {
        let mut sub = self.inner.subscribe::<u64, _>("count", rpc_params![n], "count_stop").await?;
        let mut got = 0;
        while got < n {
            match sub.next().await {
                Some(Ok(_)) => got += 1,
                Some(Err(e)) => return Err(e.into()),
                None => break,
            }
        }
        Ok(got)
    }
}

impl Caller for Client {
    async fn add(&mut self, _a: i64, _b: i64) -> anyhow::Result<i64> {
        self.call().await
    }
}

/// Runs one client scenario against the jsonrpsee server.
pub async fn client(scenario: scenario::Scenario, addr: SocketAddr, plan: &Plan, gate: &mut Gate) -> anyhow::Result<ClientReport> {
    use scenario::Scenario::*;
    match scenario {
        Unary => scenario::one_at_a_time(plan, gate, &mut Client::connect(addr).await?).await,
        InFlight => {
            let c = Client::connect(addr).await?;
            scenario::keep_in_flight(plan, gate, || c.call()).await
        }
        Stream => {
            let mut c = Client::connect_for_stream(addr, plan.items).await?;
            scenario::stream_rounds(plan, gate, &mut c, async |c: &mut Client, n| c.count(n).await).await
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
    }
}
