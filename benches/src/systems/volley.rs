//! volley, with the JSON and the MessagePack encoding: `add` and `count` declared with
//! `#[volley::rpc]`, served by `volley::Server` and called through `volley::Client`,
//! all with default settings (the stream uses the protocol's default credit window of 32
//! unless the run sets `--stream-window`).

use std::net::SocketAddr;

use futures::StreamExt;
use serde::Serialize;
use volley::{CallOptions, Client, Encoding, Router, Server, Streaming};

use crate::scenario::{self, Caller, ClientReport, Gate, Plan, Scenario};

/// Why volley cannot be measured, when it cannot.
pub const PENDING: &str = "pending: the volley runtime is not available";

/// Whether volley can be measured in this build.
pub const AVAILABLE: bool = true;

/// Which of volley's encodings a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `volley.v1.json`.
    Json,
    /// `volley.v1.msgpack`.
    MsgPack,
    /// `volley.v1.json` over `wss://`.
    JsonTls,
}

impl Codec {
    fn encoding(self) -> Encoding {
        match self {
            Codec::Json | Codec::JsonTls => Encoding::Json,
            Codec::MsgPack => Encoding::MsgPack,
        }
    }
}

/// Adds two integers.
#[volley::rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Streams the integers `0..n`.
#[volley::rpc]
async fn count(n: u64) -> impl volley::Stream<Item = u64> + Send {
    futures::stream::iter(0..n)
}

/// Serves `add` and `count` until the process is killed.
pub async fn serve(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let router = Router::new().rpc::<add>().rpc::<count>();
    Server::new(router).serve(listener).await?;
    Ok(())
}

/// Where the TLS server of the one on `port` keeps its self-signed certificate, for
/// its clients (separate processes) to trust.
fn certificate_file(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("volley-bench-{port}.pem"))
}

/// Serves `add` and `count` over `wss://`, with a certificate for 127.0.0.1 made at
/// start, until the process is killed.
pub async fn serve_tls(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let port = listener.local_addr()?.port();
    let key = rcgen::KeyPair::generate()?;
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?.self_signed(&key)?;
    let dir = std::env::temp_dir();
    let key_file = dir.join(format!("volley-bench-{port}.key"));
    std::fs::write(&key_file, key.serialize_pem())?;
    std::fs::write(certificate_file(port), cert.pem())?;
    let tls = volley::TlsConfig::from_pem_files(certificate_file(port), &key_file).map_err(|e| anyhow::anyhow!(e.message))?;
    let router = Router::new().rpc::<add>().rpc::<count>();
    Server::new(router).tls(tls).serve(listener).await?;
    Ok(())
}

#[derive(Serialize)]
struct AddParams {
    a: i64,
    b: i64,
}

#[derive(Serialize)]
struct CountParams {
    n: u64,
}

/// One volley client connection.
pub struct VolleyClient {
    inner: Client,
}

impl VolleyClient {
    /// Connects with the given encoding.
    pub async fn connect(addr: SocketAddr, codec: Codec) -> anyhow::Result<VolleyClient> {
        let inner = match codec {
            Codec::JsonTls => {
                Client::builder(&format!("wss://{addr}")).encoding(codec.encoding()).ca_cert(certificate_file(addr.port())).connect().await?
            }
            _ => Client::connect_with(&format!("ws://{addr}"), codec.encoding()).await?,
        };
        Ok(VolleyClient { inner })
    }

    async fn call(&self) -> anyhow::Result<i64> {
        Ok(self.inner.call::<i64>("add", &AddParams { a: 1, b: 2 }).await?)
    }

    /// One `count` stream of `n` items; returns the number received.
    pub async fn count(&self, n: u64, window: Option<u32>) -> anyhow::Result<u64> {
        let options = match window {
            Some(w) => CallOptions::new().window(w),
            None => CallOptions::new(),
        };
        let mut items: Streaming<u64> = self.inner.server_stream("count", &CountParams { n }, options)?;
        let mut got = 0;
        while let Some(item) = items.next().await {
            item?;
            got += 1;
        }
        Ok(got)
    }
}

impl Caller for VolleyClient {
    async fn add(&mut self, _a: i64, _b: i64) -> anyhow::Result<i64> {
        self.call().await
    }
}

/// Runs one client scenario against the volley server.
pub async fn client(codec: Codec, scenario: Scenario, addr: SocketAddr, plan: &Plan, gate: &mut Gate) -> anyhow::Result<ClientReport> {
    use Scenario::*;
    match scenario {
        Unary => scenario::one_at_a_time(plan, gate, &mut VolleyClient::connect(addr, codec).await?).await,
        InFlight => {
            let c = VolleyClient::connect(addr, codec).await?;
            scenario::keep_in_flight(plan, gate, || c.call()).await
        }
        Stream => {
            let mut c = VolleyClient::connect(addr, codec).await?;
            let window = plan.window;
            scenario::stream_rounds(plan, gate, &mut c, async |c: &mut VolleyClient, n| c.count(n, window).await).await
        }
        Wire => scenario::wire_calls(plan, gate, &mut VolleyClient::connect(addr, codec).await?).await,
        Idle => {
            scenario::hold_idle(plan, gate, || async {
                let c = VolleyClient::connect(addr, codec).await?;
                c.call().await?;
                Ok(c)
            })
            .await
        }
    }
}
