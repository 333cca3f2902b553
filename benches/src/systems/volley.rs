//! volley, with the JSON and the MessagePack encoding.
//!
//! PENDING: the volley runtime (`../runtime`) does not yet expose its server, router and
//! client. Until it does, volley's rows report "pending" instead of figures.

use std::net::SocketAddr;

use crate::scenario::{ClientReport, Gate, Plan, Scenario};

/// Why volley cannot be measured yet.
pub const PENDING: &str = "pending: the volley runtime's server and client API is not available yet";

/// Whether volley can be measured in this build.
pub const AVAILABLE: bool = false;

/// Which of volley's encodings a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `volley.v1.json`.
    Json,
    /// `volley.v1.msgpack`.
    MsgPack,
}

/// Serves the benchmark methods until the process is killed.
pub async fn serve(_listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    anyhow::bail!(PENDING)
}

/// Runs one client scenario against the volley server.
pub async fn client(_codec: Codec, _scenario: Scenario, _addr: SocketAddr, _plan: &Plan, _gate: &mut Gate) -> anyhow::Result<ClientReport> {
    anyhow::bail!(PENDING)
}
