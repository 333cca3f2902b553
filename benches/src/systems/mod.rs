//! The systems compared, each as a server and a client that run in separate processes.

pub mod handwritten;
pub mod jsonrpsee;
pub mod juggler;
pub mod raw_echo;
pub mod tarpc;
pub mod volley;
pub mod ws;

use std::net::SocketAddr;

use crate::measure::wire::Framing;
use crate::scenario::{ClientReport, Gate, Plan, Scenario};

/// One system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// volley with `volley.v1.json`.
    VolleyJson,
    /// volley with `volley.v1.msgpack`.
    VolleyMsgPack,
    /// volley with `volley.v1.json` over `wss://` (rustls, a self-signed certificate).
    VolleyJsonTls,
    /// The hand-written tokio-tungstenite + serde_json loop: the floor for any RPC layer.
    Handwritten,
    /// A raw tokio-tungstenite echo, one flush per burst.
    RawEcho,
    /// jsonrpsee server and ws-client.
    Jsonrpsee,
    /// tarpc over TCP with bincode.
    Tarpc,
    /// hat-juggler's Python server.
    Juggler,
}

impl System {
    /// Every system, in report order.
    pub const ALL: [System; 8] = [
        System::VolleyJson,
        System::VolleyMsgPack,
        System::VolleyJsonTls,
        System::Handwritten,
        System::RawEcho,
        System::Jsonrpsee,
        System::Tarpc,
        System::Juggler,
    ];

    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            System::VolleyJson => "volley-json",
            System::VolleyMsgPack => "volley-msgpack",
            System::VolleyJsonTls => "volley-json-tls",
            System::Handwritten => "handwritten",
            System::RawEcho => "raw-echo",
            System::Jsonrpsee => "jsonrpsee",
            System::Tarpc => "tarpc",
            System::Juggler => "hat-juggler",
        }
    }

    /// The name shown in the report.
    pub fn label(self) -> &'static str {
        match self {
            System::VolleyJson => "volley (JSON)",
            System::VolleyMsgPack => "volley (MessagePack)",
            System::VolleyJsonTls => "volley (JSON, wss://)",
            System::Handwritten => "hand-written loop (floor)",
            System::RawEcho => "raw tungstenite echo",
            System::Jsonrpsee => "jsonrpsee 0.26",
            System::Tarpc => "tarpc 0.38 (TCP, bincode)",
            System::Juggler => "hat-juggler 0.7 (Python)",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<System> {
        System::ALL.into_iter().find(|sys| sys.name() == s)
    }

    /// How the system's bytes are framed on the wire.
    pub fn framing(self) -> Framing {
        match self {
            System::Tarpc => Framing::LengthDelimited,
            _ => Framing::WebSocket,
        }
    }

    /// `Err(reason)` when the system cannot express a scenario at all.
    pub fn supports(self, scenario: Scenario) -> Result<(), &'static str> {
        match (self, scenario) {
            (System::VolleyJson | System::VolleyMsgPack | System::VolleyJsonTls, _) if !volley::AVAILABLE => Err(volley::PENDING),
            (System::VolleyJsonTls, Scenario::Wire) => Err("the bytes on the wire are encrypted"),
            (System::RawEcho, Scenario::Stream) => Err("an echo has no server stream"),
            (System::Tarpc, Scenario::Stream) => Err("tarpc has no server streams"),
            _ => Ok(()),
        }
    }
}

/// Runs `system`'s server on `addr` until the process is killed.
pub fn serve(system: System, addr: SocketAddr, cpu: Option<usize>) -> anyhow::Result<()> {
    if system == System::Juggler {
        return Err(juggler::exec_server(addr, cpu));
    }
    // One worker thread: the server gets one core, as a multi-threaded runtime would
    // size itself on a one-core machine.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    rt.block_on(async move {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        println!("LISTENING {addr}");
        match system {
            System::VolleyJson | System::VolleyMsgPack => volley::serve(tokio::net::TcpListener::from_std(std_listener)?).await,
            System::VolleyJsonTls => volley::serve_tls(tokio::net::TcpListener::from_std(std_listener)?).await,
            System::Handwritten => handwritten::serve(tokio::net::TcpListener::from_std(std_listener)?).await,
            System::RawEcho => raw_echo::serve(tokio::net::TcpListener::from_std(std_listener)?).await,
            System::Jsonrpsee => jsonrpsee::serve(std_listener).await,
            System::Tarpc => tarpc::serve(tokio::net::TcpListener::from_std(std_listener)?).await,
            System::Juggler => unreachable!(),
        }
    })
}

/// Runs one client scenario of `system` against the server at `addr`.
pub fn client(system: System, scenario: Scenario, addr: SocketAddr, plan: &Plan) -> anyhow::Result<ClientReport> {
    // Every client runs on a single-threaded runtime on its own core, in a spawned task
    // as an application's code would: a future driven by `block_on` itself costs an
    // extra poll of the I/O driver each time one of the client's own tasks wakes it.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let plan = plan.clone();
    rt.block_on(async move {
        tokio::spawn(SameThread(async move {
            let mut gate = Gate::new();
            let plan = &plan;
            match system {
                System::VolleyJson => volley::client(volley::Codec::Json, scenario, addr, plan, &mut gate).await,
                System::VolleyMsgPack => volley::client(volley::Codec::MsgPack, scenario, addr, plan, &mut gate).await,
                System::VolleyJsonTls => volley::client(volley::Codec::JsonTls, scenario, addr, plan, &mut gate).await,
                System::Handwritten => handwritten::client(scenario, addr, plan, &mut gate).await,
                System::RawEcho => raw_echo::client(scenario, addr, plan, &mut gate).await,
                System::Jsonrpsee => jsonrpsee::client(scenario, addr, plan, &mut gate).await,
                System::Tarpc => tarpc::client(scenario, addr, plan, &mut gate).await,
                System::Juggler => juggler::client(scenario, addr, plan, &mut gate).await,
            }
        }))
        .await?
    })
}

/// A client future spawned on the client's current-thread runtime. The futures are made
/// of `Send` parts, but some hold references under higher-ranked lifetimes for which
/// the compiler cannot prove `Send`.
struct SameThread<F>(F);

// SAFETY: only ever spawned on a current-thread runtime, whose tasks are created, polled
// and dropped on the one thread that runs it; the future never crosses threads.
unsafe impl<F> Send for SameThread<F> {}

impl<F: std::future::Future> std::future::Future for SameThread<F> {
    type Output = F::Output;
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        // SAFETY: structural pinning of the only field; it is never moved out.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
    }
}
