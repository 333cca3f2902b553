//! hat-juggler (the `hat-juggler` package from PyPI): its Python server, run from
//! `peers/juggler_server.py` in a virtualenv the harness creates, and a Rust client that
//! speaks juggler's protocol byte for byte as the Python client does, so that the
//! server, not a Python client, sets the pace.
//!
//! Juggler's protocol: text WebSocket frames at `/ws`, each a one-character segment
//! marker (`0` for a whole message) followed by JSON encoded with Python's default
//! separators. A request is `{"type": "request", "id": 1, "name": "add", "data": {...}}`,
//! its answer `{"type": "response", "id": 1, "success": true, "data": 3}`. Juggler has
//! no server streams; the `count` request sends its items as `notify` messages and then
//! answers, which is how a juggler application streams.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use futures::SinkExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::Message;

use super::ws::{self, Ws};
use crate::scenario::{self, Caller, ClientReport, Gate, Plan};

/// The version the harness installs.
pub const PACKAGE: &str = "hat-juggler==0.7.6";

/// The virtualenv the harness uses, under `benches/.venv`.
pub fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv")
}

/// The virtualenv's Python.
pub fn python() -> PathBuf {
    venv_dir().join("bin").join("python")
}

/// The server script.
pub fn server_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers").join("juggler_server.py")
}

/// Creates the virtualenv and installs hat-juggler into it unless that was done before.
/// Returns an error saying what failed when Python or the package cannot be had.
pub fn ensure_installed() -> anyhow::Result<()> {
    let ok = |cmd: &mut std::process::Command| cmd.status().map(|s| s.success()).unwrap_or(false);
    if ok(std::process::Command::new(python()).args(["-c", "import hat.juggler"]).stderr(std::process::Stdio::null())) {
        return Ok(());
    }
    eprintln!("setting up {} with {PACKAGE}", venv_dir().display());
    let python3 = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    anyhow::ensure!(
        ok(std::process::Command::new(&python3).args(["-m", "venv"]).arg(venv_dir())),
        "`{python3} -m venv` failed"
    );
    anyhow::ensure!(
        ok(std::process::Command::new(python()).args(["-m", "pip", "install", "--quiet", PACKAGE])),
        "pip could not install {PACKAGE}"
    );
    Ok(())
}

/// Replaces this process with the Python server, keeping the process id the
/// orchestrator measures.
pub fn exec_server(addr: SocketAddr, cpu: Option<usize>) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(python());
    cmd.arg(server_script()).args(["--host", &addr.ip().to_string(), "--port", &addr.port().to_string()]);
    if let Some(cpu) = cpu {
        cmd.args(["--cpu", &cpu.to_string()]);
    }
    anyhow::Error::from(cmd.exec()).context("could not start the juggler server")
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default)]
    id: u64,
    #[serde(default)]
    success: bool,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// Parses one whole juggler message from a WebSocket frame.
fn incoming(msg: &Message) -> anyhow::Result<Option<Incoming<'_>>> {
    let Message::Text(text) = msg else { return Ok(None) };
    let text = text.as_str();
    // '0' marks a whole message; '2'/'3' are juggler's ping/pong.
    let Some(json) = text.strip_prefix('0') else { return Ok(None) };
    Ok(Some(serde_json::from_str(json)?))
}

fn request(id: u64, name: &str, data: &str) -> Message {
    Message::text(format!(r#"0{{"type": "request", "id": {id}, "name": "{name}", "data": {data}}}"#))
}

fn add_request(id: u64) -> Message {
    request(id, "add", r#"{"a": 1, "b": 2}"#)
}

fn add_answer(msg: &Message) -> anyhow::Result<Option<i64>> {
    match incoming(msg)? {
        Some(m) if m.kind == "response" => {
            anyhow::ensure!(m.success, "juggler request failed");
            Ok(Some(serde_json::from_str(m.data.map(RawValue::get).unwrap_or("null"))?))
        }
        _ => Ok(None),
    }
}

/// One juggler connection.
pub struct Client {
    ws: Ws,
    next_id: u64,
}

impl Client {
    /// Connects to the juggler server at `/ws`.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        Ok(Client { ws: ws::connect(addr, "/ws", None).await?, next_id: 1 })
    }

    /// Asks for `n` items as notifications and counts them until the answer arrives.
    pub async fn count(&mut self, n: u64) -> anyhow::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        self.ws.send(request(id, "count", &format!(r#"{{"n": {n}}}"#))).await?;
        let mut items = 0;
        loop {
            let msg = ws::recv(&mut self.ws).await?;
            match incoming(&msg)? {
                Some(m) if m.kind == "notify" => items += 1,
                Some(m) if m.kind == "response" && m.id == id => return Ok(items),
                _ => {}
            }
        }
    }
}

impl Caller for Client {
    async fn add(&mut self, _a: i64, _b: i64) -> anyhow::Result<i64> {
        let id = self.next_id;
        self.next_id += 1;
        self.ws.send(add_request(id)).await?;
        loop {
            let msg = ws::recv(&mut self.ws).await?;
            if let Some(sum) = add_answer(&msg)? {
                return Ok(sum);
            }
        }
    }
}

/// Runs one client scenario against the juggler server.
pub async fn client(scenario: scenario::Scenario, addr: SocketAddr, plan: &Plan, gate: &mut Gate) -> anyhow::Result<ClientReport> {
    use scenario::Scenario::*;
    match scenario {
        Unary => scenario::one_at_a_time(plan, gate, &mut Client::connect(addr).await?).await,
        InFlight => {
            let mut c = Client::connect(addr).await?;
            ws::sliding_window(&mut c.ws, plan, gate, |n| add_request(n + 1), add_answer).await
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
