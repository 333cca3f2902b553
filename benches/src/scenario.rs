//! What a client process measures, how long for, and how it reports back.
//!
//! A client process connects and warms up, prints `READY`, and waits for `GO` on stdin
//! so that the orchestrator can read the server's CPU time at the exact start of the
//! measured window. It then runs the bounded loop and prints one `RESULT {json}` line.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};

use crate::measure::cpu::{self, CpuTime};
use crate::measure::latency::{Percentiles, Recorder};

/// One measurement a client process can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `add(1, 2)` one call at a time on one connection, with latency percentiles.
    Unary,
    /// `add(1, 2)` with a fixed number of calls in flight on one connection.
    InFlight,
    /// A server stream of small integers.
    Stream,
    /// A fixed number of sequential `add(1, 2)` calls, counted by the wire proxy.
    Wire,
    /// Many idle connections held open while the server's memory is read.
    Idle,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 5] = [Scenario::Unary, Scenario::InFlight, Scenario::Stream, Scenario::Wire, Scenario::Idle];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Unary => "unary",
            Scenario::InFlight => "inflight",
            Scenario::Stream => "stream",
            Scenario::Wire => "wire",
            Scenario::Idle => "idle",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|sc| sc.name() == s)
    }
}

/// The bounds of a client run. Every loop stops at whichever of time or count comes first.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Length of the measured window.
    pub secs: f64,
    /// Length of the warm-up before `READY`.
    pub warmup_secs: f64,
    /// Most operations (calls or stream items) in the measured window.
    pub max_ops: u64,
    /// Calls in flight for [`Scenario::InFlight`].
    pub depth: usize,
    /// Items per stream call for [`Scenario::Stream`].
    pub items: u64,
    /// Sequential calls for [`Scenario::Wire`].
    pub wire_calls: u64,
    /// Connection counts at which [`Scenario::Idle`] pauses for a memory reading.
    pub conns: Vec<usize>,
    /// Credit window for volley's stream client; `None` for the protocol's default.
    pub window: Option<u32>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { secs: 2.0, warmup_secs: 0.5, max_ops: 20_000_000, depth: 64, items: 10_000, wire_calls: 1000, conns: vec![1000, 10_000], window: None }
    }
}

impl Plan {
    /// The measured window's length.
    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.secs)
    }

    /// The warm-up's length.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup_secs)
    }
}

/// The note of the checkpoint that closes a measured window.
pub const STOPPED: &str = "stopped";

/// What a client process prints after its measured window.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ClientReport {
    /// Calls completed or stream items received.
    pub ops: u64,
    /// Length of the measured window in seconds.
    pub secs: f64,
    /// Latency percentiles, for one-at-a-time calls.
    pub latency: Option<Percentiles>,
    /// The client process's CPU time over the window.
    pub cpu: CpuTime,
}

/// The READY/GO exchange with the orchestrator, and the measured window's clock.
pub struct Gate {
    stdin: Lines<BufReader<Stdin>>,
    started: Option<(Instant, CpuTime)>,
    window: Option<(Duration, CpuTime)>,
}

impl Gate {
    /// A gate on this process's stdin and stdout.
    pub fn new() -> Self {
        Gate { stdin: BufReader::new(tokio::io::stdin()).lines(), started: None, window: None }
    }

    /// Prints `READY note` and waits for the orchestrator's `GO`.
    pub async fn checkpoint(&mut self, note: &str) {
        println!("READY {note}");
        loop {
            match self.stdin.next_line().await {
                Ok(Some(line)) if line.trim() == "GO" => return,
                Ok(Some(_)) => continue,
                // The orchestrator went away: nothing left to measure for.
                _ => std::process::exit(3),
            }
        }
    }

    /// Waits for `GO`, then starts the measured window.
    pub async fn go(&mut self) {
        self.checkpoint("").await;
        self.started = Some((Instant::now(), cpu::own()));
    }

    /// Ends the measured window, then prints `READY stopped` and waits for `GO` so the
    /// orchestrator can take its closing readings before the client tears anything down.
    pub async fn stop(&mut self) {
        let (t0, c0) = self.started.expect("stop() before go()");
        self.window = Some((t0.elapsed(), cpu::own().since(&c0)));
        self.checkpoint(STOPPED).await;
    }

    /// Builds the report for `ops` operations and optional latency samples.
    pub fn report(&self, ops: u64, latency: Option<Recorder>) -> ClientReport {
        let (elapsed, cpu) = self.window.unwrap_or_default();
        ClientReport { ops, secs: elapsed.as_secs_f64(), latency: latency.and_then(Recorder::percentiles), cpu }
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `call` one at a time: first for the warm-up, then, after `GO`, for the measured
/// window, recording each call's latency.
pub async fn one_at_a_time<C>(plan: &Plan, gate: &mut Gate, client: &mut C) -> anyhow::Result<ClientReport>
where
    C: Caller,
{
    let warm_until = Instant::now() + plan.warmup();
    while Instant::now() < warm_until {
        check_sum(client.add(1, 2).await?)?;
    }
    let mut rec = Recorder::with_capacity(plan.max_ops.min(5_000_000) as usize);
    gate.go().await;
    let end = Instant::now() + plan.window();
    let mut ops = 0u64;
    while ops < plan.max_ops {
        let t = Instant::now();
        if t >= end {
            break;
        }
        check_sum(client.add(1, 2).await?)?;
        rec.record_since(t);
        ops += 1;
    }
    gate.stop().await;
    Ok(gate.report(ops, Some(rec)))
}

/// Runs exactly `plan.wire_calls` sequential calls between `GO` and the report, with no
/// warm-up, so the first call the proxy sees is the connection's first.
pub async fn wire_calls<C: Caller>(plan: &Plan, gate: &mut Gate, client: &mut C) -> anyhow::Result<ClientReport> {
    gate.go().await;
    for _ in 0..plan.wire_calls {
        check_sum(client.add(1, 2).await?)?;
    }
    gate.stop().await;
    Ok(gate.report(plan.wire_calls, None))
}

/// Keeps `depth` calls in flight on a client whose calls take `&self` and can overlap,
/// refilling as each one completes.
pub async fn keep_in_flight<'a, F, Fut>(plan: &Plan, gate: &mut Gate, call: F) -> anyhow::Result<ClientReport>
where
    F: Fn() -> Fut + 'a,
    Fut: std::future::Future<Output = anyhow::Result<i64>> + 'a,
{
    use futures::stream::{FuturesUnordered, StreamExt};

    async fn run<F, Fut>(depth: usize, until: Instant, max: u64, call: &F) -> anyhow::Result<u64>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<i64>>,
    {
        let mut pending = FuturesUnordered::new();
        let mut started = 0u64;
        let mut done = 0u64;
        for _ in 0..depth.min(max as usize) {
            pending.push(call());
            started += 1;
        }
        while let Some(r) = pending.next().await {
            check_sum(r?)?;
            done += 1;
            if started < max && Instant::now() < until {
                pending.push(call());
                started += 1;
            }
        }
        Ok(done)
    }

    run(plan.depth, Instant::now() + plan.warmup(), u64::MAX, &call).await?;
    gate.go().await;
    let ops = run(plan.depth, Instant::now() + plan.window(), plan.max_ops, &call).await?;
    gate.stop().await;
    Ok(gate.report(ops, None))
}

/// Repeats `stream_once` (one stream call of `plan.items` items, returning the number
/// received) through a warm-up and then the measured window.
pub async fn stream_rounds<C, F>(plan: &Plan, gate: &mut Gate, client: &mut C, mut stream_once: F) -> anyhow::Result<ClientReport>
where
    F: AsyncFnMut(&mut C, u64) -> anyhow::Result<u64>,
{
    let warm_until = Instant::now() + plan.warmup();
    while Instant::now() < warm_until {
        stream_once(client, plan.items).await?;
    }
    gate.go().await;
    let end = Instant::now() + plan.window();
    let mut items = 0u64;
    while Instant::now() < end && items < plan.max_ops {
        let got = stream_once(client, plan.items).await?;
        anyhow::ensure!(got == plan.items, "stream ended after {got} of {} items", plan.items);
        items += got;
    }
    gate.stop().await;
    Ok(gate.report(items, None))
}

/// Opens connections with `open` until each count in `plan.conns` is reached, pausing at
/// each for the orchestrator to read the server's memory. Connections are opened a few
/// at a time and held until the end.
pub async fn hold_idle<T, F, Fut>(plan: &Plan, gate: &mut Gate, open: F) -> anyhow::Result<ClientReport>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    use futures::stream::{self, StreamExt, TryStreamExt};

    let mut held: Vec<T> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    for &target in &plan.conns {
        let need = target.saturating_sub(held.len());
        let more: Vec<T> = stream::iter(0..need).map(|_| open()).buffer_unordered(32).try_collect().await?;
        held.extend(more);
        anyhow::ensure!(Instant::now() < deadline, "opening {target} connections took over 120 s");
        gate.checkpoint(&target.to_string()).await;
    }
    let n = held.len() as u64;
    drop(held);
    Ok(ClientReport { ops: n, ..Default::default() })
}

/// A client that can call `add(a, b)` one call at a time.
pub trait Caller {
    /// Calls `add(a, b)` and returns the sum.
    fn add(&mut self, a: i64, b: i64) -> impl std::future::Future<Output = anyhow::Result<i64>>;
}

/// Checks that `add(1, 2)` answered 3, so that no system is measured returning errors.
pub fn check_sum(v: i64) -> anyhow::Result<()> {
    anyhow::ensure!(v == 3, "add(1, 2) returned {v}");
    Ok(())
}
