//! The orchestrator: starts each system's server and clients as separate processes,
//! pinned to different cores, takes the readings around each scenario and hands the
//! figures to [`crate::report`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::measure::cpu::{self, CpuTime};
use crate::measure::memory;
use crate::measure::segments::{self, Segments};
use crate::measure::wire::Proxy;
use crate::report::{self, Idle, IdlePoint, Outcome, Run, SegmentsPerOp, SystemResult, Throughput, Unary, Wire};
use crate::settings::Settings;
use crate::scenario::{ClientReport, Scenario, STOPPED};
use crate::systems::{juggler, System};

/// What the orchestrator was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Short windows, so the whole run finishes in under two minutes.
    pub quick: bool,
    /// Print the figures as JSON instead of the Markdown summary.
    pub json: bool,
    /// Write the report file.
    pub write: bool,
    /// Where to write the report (default: `BENCHMARKS.md` at the repository root).
    pub out: Option<PathBuf>,
    /// The systems to run, in report order.
    pub systems: Vec<System>,
    /// The command-line arguments, for the report.
    pub args: Vec<String>,
    /// Credit window for volley's stream client, instead of the protocol's default.
    pub stream_window: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options { quick: false, json: false, write: true, out: None, systems: System::ALL.to_vec(), args: Vec::new(), stream_window: None }
    }
}

/// CPU assignment: the server on one core, the client on another.
#[derive(Debug, Clone, Copy)]
struct Cores {
    server: Option<usize>,
    client: Option<usize>,
}

/// Runs the whole benchmark.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(run_all(opts))
}

async fn run_all(opts: Options) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut settings = Settings::new(opts.quick);
    settings.stream_window = opts.stream_window;
    let cores = if cpu::available_cpus() >= 2 { Cores { server: Some(0), client: Some(1) } } else { Cores { server: None, client: None } };
    let juggler_setup = if opts.systems.contains(&System::Juggler) {
        tokio::task::spawn_blocking(juggler::ensure_installed).await?.map_err(|e| format!("{e:#}"))
    } else {
        Ok(())
    };

    let mut results = Vec::new();
    for &system in &opts.systems {
        eprintln!("== {} ({:.0} s so far)", system.label(), started.elapsed().as_secs_f64());
        let result = match (&juggler_setup, system) {
            (Err(why), System::Juggler) => SystemResult::all(system, Outcome::<()>::Failed(why.clone())),
            _ => bench_system(system, &settings, cores).await,
        };
        results.push(result);
    }

    let run = Run {
        date: report::today_utc(),
        command: report::command_line(&opts.args),
        mode: if opts.quick { "quick".into() } else { "full".into() },
        machine: report::Machine::detect(cores.server.is_some()),
        settings,
        elapsed_secs: started.elapsed().as_secs_f64(),
        systems: results,
    };
    let markdown = report::markdown(&run);
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else {
        println!("{markdown}");
    }
    if opts.write {
        let out = opts.out.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("BENCHMARKS.md"));
        std::fs::write(&out, markdown)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// Runs every scenario of one system: the call and stream scenarios against one server,
/// the idle connections against a fresh one so that its memory starts clean.
async fn bench_system(system: System, s: &Settings, cores: Cores) -> SystemResult {
    let mut r = SystemResult::all(system, Outcome::<()>::Failed("not run".into()));
    let skip = |sc: Scenario| system.supports(sc).err().map(str::to_string);

    match ServerProc::start(system, cores.server).await {
        Err(e) => {
            let failed = format!("server did not start: {e:#}");
            return match skip(Scenario::Unary) {
                Some(why) => SystemResult::all(system, Outcome::<()>::NotApplicable(why)),
                None => SystemResult::all(system, Outcome::<()>::Failed(failed)),
            };
        }
        Ok(server) => {
            r.unary = match skip(Scenario::Unary) {
                Some(why) => Outcome::NotApplicable(why),
                None => outcome(unary(&server, system, s, cores).await),
            };
            r.inflight = match skip(Scenario::InFlight) {
                Some(why) => Outcome::NotApplicable(why),
                None => outcome(throughput(&server, system, Scenario::InFlight, s, cores).await),
            };
            r.stream = match skip(Scenario::Stream) {
                Some(why) => Outcome::NotApplicable(why),
                None => outcome(throughput(&server, system, Scenario::Stream, s, cores).await),
            };
            r.wire = match skip(Scenario::Wire) {
                Some(why) => Outcome::NotApplicable(why),
                None => outcome(wire(&server, system, s, cores).await),
            };
            server.stop().await;
        }
    }
    r.idle = match skip(Scenario::Idle) {
        Some(why) => Outcome::NotApplicable(why),
        None => match ServerProc::start(system, cores.server).await {
            Err(e) => Outcome::Failed(format!("server did not start: {e:#}")),
            Ok(server) => {
                let o = outcome(idle(&server, system, s, cores).await);
                server.stop().await;
                o
            }
        },
    };
    r
}

fn outcome<T>(r: anyhow::Result<T>) -> Outcome<T> {
    match r {
        Ok(v) => Outcome::Measured(v),
        Err(e) => {
            eprintln!("   failed: {e:#}");
            Outcome::Failed(format!("{e:#}"))
        }
    }
}

/// What the orchestrator reads around a client's measured window.
struct Window {
    report: ClientReport,
    server_cpu: CpuTime,
    /// TCP data segments on the server's connections over the window, if `ss` could count them.
    segments: Option<Segments>,
}

/// Runs a measured-window client and returns its report with the server's CPU time and
/// TCP segments over the same window.
async fn windowed(server: &ServerProc, system: System, scenario: Scenario, s: &Settings, cores: Cores) -> anyhow::Result<Window> {
    let pid = server.pid;
    let port = server.addr.port();
    let mut at_go = None;
    let mut at_stop = None;
    let report = run_client(system, scenario, server.addr, s.client_args(), cores.client, s.client_timeout(), async |note: &str| {
        if note == STOPPED {
            at_stop = Some((cpu::of_process(pid)?, segments::snapshot(port)));
        } else {
            let segs = segments::snapshot(port);
            at_go = Some((cpu::of_process(pid)?, segs));
        }
        Ok(())
    })
    .await?;
    let (Some((cpu_go, segs_go)), Some((cpu_stop, segs_stop))) = (at_go, at_stop) else { anyhow::bail!("the client skipped a checkpoint") };
    anyhow::ensure!(report.ops > 0, "no operation completed");
    let segments = match (segs_go, segs_stop) {
        (Some(a), Some(b)) => Some(b.since(&a)),
        _ => None,
    };
    Ok(Window { report, server_cpu: cpu_stop.since(&cpu_go), segments })
}

/// Runs `s.repeats` measured windows, each with a fresh client process, and keeps the
/// one with the median rate, so that a burst of other work on the machine during one
/// window does not decide the figure. All figures of a scenario come from that window.
async fn median_window(server: &ServerProc, system: System, scenario: Scenario, s: &Settings, cores: Cores) -> anyhow::Result<Window> {
    let mut windows = Vec::new();
    for _ in 0..s.repeats.max(1) {
        windows.push(windowed(server, system, scenario, s, cores).await?);
    }
    let rate = |w: &Window| w.report.ops as f64 / w.report.secs.max(1e-9);
    windows.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
    let mid = windows.len() / 2;
    Ok(windows.swap_remove(mid))
}

fn per_op(segs: Option<Segments>, ops: u64) -> Option<SegmentsPerOp> {
    segs.map(|s| SegmentsPerOp { from_server: s.out as f64 / ops as f64, to_server: s.into as f64 / ops as f64 })
}

fn us_per_op(cpu: CpuTime, ops: u64) -> f64 {
    cpu.total() * 1e6 / ops as f64
}

async fn unary(server: &ServerProc, system: System, s: &Settings, cores: Cores) -> anyhow::Result<Unary> {
    let Window { report: rep, server_cpu, segments } = median_window(server, system, Scenario::Unary, s, cores).await?;
    let lat = rep.latency.unwrap_or_default();
    let u = Unary {
        calls: rep.ops,
        calls_per_sec: rep.ops as f64 / rep.secs,
        p50_us: lat.p50_us,
        p99_us: lat.p99_us,
        p999_us: lat.p999_us,
        server_cpu_us_per_call: us_per_op(server_cpu, rep.ops),
        client_cpu_us_per_call: us_per_op(rep.cpu, rep.ops),
        segments: per_op(segments, rep.ops),
    };
    eprintln!("   one at a time: {:.0} calls/s, p50 {:.1} us, p99 {:.1} us", u.calls_per_sec, u.p50_us, u.p99_us);
    Ok(u)
}

async fn throughput(server: &ServerProc, system: System, scenario: Scenario, s: &Settings, cores: Cores) -> anyhow::Result<Throughput> {
    let Window { report: rep, server_cpu, segments } = median_window(server, system, scenario, s, cores).await?;
    let t = Throughput {
        ops: rep.ops,
        per_sec: rep.ops as f64 / rep.secs,
        server_cpu_us_per_op: us_per_op(server_cpu, rep.ops),
        client_cpu_us_per_op: us_per_op(rep.cpu, rep.ops),
        segments: per_op(segments, rep.ops),
    };
    match &t.segments {
        Some(g) => eprintln!(
            "   {}: {:.0}/s, {:.3} TCP segments from the server per op, {:.3} to it",
            scenario.name(),
            t.per_sec,
            g.from_server,
            g.to_server
        ),
        None => eprintln!("   {}: {:.0}/s", scenario.name(), t.per_sec),
    }
    Ok(t)
}

async fn wire(server: &ServerProc, system: System, s: &Settings, cores: Cores) -> anyhow::Result<Wire> {
    let proxy = Proxy::start(server.addr, system.framing()).await?;
    let mut at_go = None;
    let mut at_stop = None;
    let rep = run_client(system, Scenario::Wire, proxy.addr, s.client_args(), cores.client, s.client_timeout(), async |note: &str| {
        if note == STOPPED {
            at_stop = Some(proxy.stats());
        } else {
            proxy.arm();
            at_go = Some(proxy.stats());
        }
        Ok(())
    })
    .await?;
    let (Some(go), Some(stop)) = (at_go, at_stop) else { anyhow::bail!("the client skipped a checkpoint") };
    let calls = rep.ops.max(1);
    let w = Wire {
        calls: rep.ops,
        request_bytes_per_call: (stop.up.bytes - go.up.bytes) as f64 / calls as f64,
        response_bytes_per_call: (stop.down.bytes - go.down.bytes) as f64 / calls as f64,
        first_request: stop.up.first_after_arm,
        first_response: stop.down.first_after_arm,
    };
    eprintln!("   wire: {:.1} B up, {:.1} B down per call", w.request_bytes_per_call, w.response_bytes_per_call);
    Ok(w)
}

async fn idle(server: &ServerProc, system: System, s: &Settings, cores: Cores) -> anyhow::Result<Idle> {
    let pid = server.pid;
    let mut readings: Vec<(usize, u64)> = Vec::new();
    let settle = s.settle();
    run_client(system, Scenario::Idle, server.addr, s.client_args(), cores.client, s.idle_timeout(), async |note: &str| {
        let conns: usize = note.parse()?;
        tokio::time::sleep(settle).await;
        readings.push((conns, memory::rss_kib(pid)?));
        Ok(())
    })
    .await?;
    let Some(&(base_conns, base_kib)) = readings.first() else { anyhow::bail!("no memory reading") };
    let points = readings[1..]
        .iter()
        .map(|&(conns, kib)| IdlePoint {
            conns,
            rss_kib: kib,
            kib_per_conn: (kib as f64 - base_kib as f64) / (conns - base_conns) as f64,
        })
        .collect::<Vec<_>>();
    for p in &points {
        eprintln!("   idle: {} connections, {:.1} KiB each", p.conns, p.kib_per_conn);
    }
    Ok(Idle { baseline_conns: base_conns, baseline_rss_kib: base_kib, points })
}

/// Spawns one client process, answers each of its `READY` lines with `GO` after running
/// `on_ready` with the line's note, and returns its `RESULT`.
async fn run_client(
    system: System,
    scenario: Scenario,
    addr: SocketAddr,
    plan_args: Vec<String>,
    cpu: Option<usize>,
    limit: Duration,
    mut on_ready: impl AsyncFnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<ClientReport> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["client", system.name(), scenario.name(), "--addr", &addr.to_string()]);
    if let Some(cpu) = cpu {
        cmd.args(["--cpu", &cpu.to_string()]);
    }
    cmd.args(plan_args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let errors = collect(child.stderr.take());
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();

    let talk = async {
        loop {
            let Some(line) = lines.next_line().await? else {
                anyhow::bail!("client exited without a result");
            };
            if let Some(note) = line.strip_prefix("READY") {
                on_ready(note.trim()).await?;
                stdin.write_all(b"GO\n").await?;
                stdin.flush().await?;
            } else if let Some(json) = line.strip_prefix("RESULT ") {
                return Ok(serde_json::from_str::<ClientReport>(json)?);
            }
        }
    };
    let result = match tokio::time::timeout(limit, talk).await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!("client gave no result within {} s", limit.as_secs())),
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let _ = child.kill().await;
    result.map_err(|e| {
        let err = errors.lock().unwrap();
        let tail = err.trim().lines().last().unwrap_or("").to_string();
        if tail.is_empty() { e } else { e.context(tail) }
    })
}

/// Collects a child's stderr in the background.
fn collect(stream: Option<tokio::process::ChildStderr>) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    if let Some(mut stream) = stream {
        let text = text.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut t = text.lock().unwrap();
                t.push_str(&String::from_utf8_lossy(&buf[..n]));
                if t.len() > 64 * 1024 {
                    let cut = t.len() - 32 * 1024;
                    let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(t.len());
                    t.drain(..cut);
                }
            }
        });
    }
    text
}

/// A running server process.
struct ServerProc {
    child: Child,
    pid: u32,
    addr: SocketAddr,
}

impl ServerProc {
    /// Starts `system`'s server on a free loopback port and waits until it accepts.
    async fn start(system: System, cpu: Option<usize>) -> anyhow::Result<ServerProc> {
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?
        };
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(["serve", system.name(), "--addr", &addr.to_string()]);
        if let Some(cpu) = cpu {
            cmd.args(["--cpu", &cpu.to_string()]);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let pid = child.id().ok_or_else(|| anyhow::anyhow!("server exited at once"))?;
        let errors = collect(child.stderr.take());
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let listening = async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("LISTENING") {
                    return Ok(());
                }
            }
            anyhow::bail!("server exited")
        };
        let started = tokio::time::timeout(Duration::from_secs(30), listening).await;
        let ready = match started {
            Ok(Ok(())) => wait_accepting(addr).await,
            Ok(Err(e)) => Err(e),
            Err(_) => Err(anyhow::anyhow!("server did not listen within 30 s")),
        };
        if let Err(e) = ready {
            let _ = child.kill().await;
            let err = errors.lock().unwrap().trim().lines().last().unwrap_or("").to_string();
            return Err(e.context(err));
        }
        // Keep draining stdout so a chatty server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(ServerProc { child, pid, addr })
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

/// Waits (up to 10 s) until a TCP connection to `addr` succeeds.
async fn wait_accepting(addr: SocketAddr) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("server at {addr} does not accept connections")
}
