//! The figures of a run, and `BENCHMARKS.md` made from them.

use std::fmt::Write as _;

use serde::Serialize;

use crate::measure::wire::FrameSize;
use crate::settings::Settings;
use crate::systems::System;

/// A figure that was measured, or why there is none.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<T> {
    /// The figures.
    Measured(T),
    /// The system cannot express the scenario.
    NotApplicable(String),
    /// The scenario ran and failed.
    Failed(String),
}

impl<T> Outcome<T> {
    /// The figures, if measured.
    pub fn get(&self) -> Option<&T> {
        match self {
            Outcome::Measured(v) => Some(v),
            _ => None,
        }
    }

    /// The same outcome with no figures, for building results of another type.
    fn retype<U>(&self) -> Outcome<U> {
        match self {
            Outcome::Measured(_) => Outcome::Failed("not run".into()),
            Outcome::NotApplicable(s) => Outcome::NotApplicable(s.clone()),
            Outcome::Failed(s) => Outcome::Failed(s.clone()),
        }
    }
}

/// `add(1, 2)` one call at a time.
#[derive(Debug, Clone, Serialize)]
pub struct Unary {
    /// Calls in the window.
    pub calls: u64,
    /// Calls per second.
    pub calls_per_sec: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
    /// 99.9th percentile latency, µs.
    pub p999_us: f64,
    /// Server CPU time per call, µs.
    pub server_cpu_us_per_call: f64,
    /// Client CPU time per call, µs.
    pub client_cpu_us_per_call: f64,
    /// TCP data segments per call on the server's connection, when `ss` could count them.
    pub segments: Option<SegmentsPerOp>,
}

/// TCP data segments per call or item, counted on the server's sockets.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SegmentsPerOp {
    /// Segments carrying data from the server to the client.
    pub from_server: f64,
    /// Segments carrying data from the client to the server.
    pub to_server: f64,
}

/// Calls or stream items per second with the pipe kept full.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Calls or items in the window.
    pub ops: u64,
    /// Calls or items per second.
    pub per_sec: f64,
    /// Server CPU time per call or item, µs.
    pub server_cpu_us_per_op: f64,
    /// Client CPU time per call or item, µs.
    pub client_cpu_us_per_op: f64,
    /// TCP data segments per call or item on the server's connection, when `ss` could count them.
    pub segments: Option<SegmentsPerOp>,
}

/// Bytes on the wire for sequential `add(1, 2)` calls.
#[derive(Debug, Clone, Serialize)]
pub struct Wire {
    /// Calls counted.
    pub calls: u64,
    /// Client-to-server bytes per call, framing included.
    pub request_bytes_per_call: f64,
    /// Server-to-client bytes per call, framing included.
    pub response_bytes_per_call: f64,
    /// The connection's first request (call id 1).
    pub first_request: Option<FrameSize>,
    /// The answer to it.
    pub first_response: Option<FrameSize>,
}

/// Server memory with idle connections open.
#[derive(Debug, Clone, Serialize)]
pub struct Idle {
    /// Connections open at the baseline reading.
    pub baseline_conns: usize,
    /// Server resident memory at the baseline, KiB.
    pub baseline_rss_kib: u64,
    /// Later readings.
    pub points: Vec<IdlePoint>,
}

impl Idle {
    /// KiB per connection at `conns` open connections.
    pub fn kib_per_conn_at(&self, conns: usize) -> Option<f64> {
        self.points.iter().find(|p| p.conns == conns).map(|p| p.kib_per_conn)
    }
}

/// One memory reading.
#[derive(Debug, Clone, Serialize)]
pub struct IdlePoint {
    /// Connections open.
    pub conns: usize,
    /// Server resident memory, KiB.
    pub rss_kib: u64,
    /// (resident memory - baseline) / (connections - baseline connections), KiB.
    pub kib_per_conn: f64,
}

/// Every figure of one system.
#[derive(Debug, Clone, Serialize)]
pub struct SystemResult {
    /// Command-line name.
    pub system: String,
    /// Name in the report.
    pub label: String,
    /// One at a time.
    pub unary: Outcome<Unary>,
    /// 64 in flight.
    pub inflight: Outcome<Throughput>,
    /// Server stream.
    pub stream: Outcome<Throughput>,
    /// Bytes on the wire.
    pub wire: Outcome<Wire>,
    /// Idle connections.
    pub idle: Outcome<Idle>,
    #[serde(skip)]
    kind: Option<System>,
}

impl SystemResult {
    /// A result whose every scenario has the same (figure-less) outcome.
    pub fn all<T>(system: System, o: Outcome<T>) -> SystemResult {
        SystemResult {
            system: system.name().into(),
            label: system.label().into(),
            unary: o.retype(),
            inflight: o.retype(),
            stream: o.retype(),
            wire: o.retype(),
            idle: o.retype(),
            kind: Some(system),
        }
    }
}

/// Where the run happened.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// CPUs available.
    pub cores: usize,
    /// Total memory, GiB.
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The virtualenv's Python version.
    pub python: String,
    /// How server and client were placed.
    pub pinning: String,
}

impl Machine {
    /// Reads the machine's description from /proc and the toolchains.
    pub fn detect(pinned: bool) -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
            .unwrap_or_else(|| "unknown".into());
        let memory_gib = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| kib / (1024.0 * 1024.0))
            .unwrap_or(0.0);
        let output = |cmd: &std::path::Path, arg: &str| {
            std::process::Command::new(cmd)
                .arg(arg)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(if o.stdout.is_empty() { &o.stderr } else { &o.stdout }).trim().to_string())
                .unwrap_or_else(|| "unknown".into())
        };
        Machine {
            cpu,
            cores: crate::measure::cpu::available_cpus(),
            memory_gib,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            rustc: output(std::path::Path::new("rustc"), "--version"),
            python: output(&crate::systems::juggler::python(), "--version"),
            pinning: if pinned {
                "each server pinned to CPU 0, each client to CPU 1".into()
            } else {
                "not pinned (fewer than 2 CPUs)".into()
            },
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// UTC date.
    pub date: String,
    /// The command that produced it.
    pub command: String,
    /// `quick` or `full`.
    pub mode: String,
    /// The machine.
    pub machine: Machine,
    /// The parameters.
    pub settings: Settings,
    /// Wall-clock length of the run, seconds.
    pub elapsed_secs: f64,
    /// Figures per system, in report order.
    pub systems: Vec<SystemResult>,
}

impl Run {
    fn find(&self, system: System) -> Option<&SystemResult> {
        self.systems.iter().find(|r| r.kind == Some(system))
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The command line as a user would type it from the repository root.
pub fn command_line(args: &[String]) -> String {
    let mut cmd = String::from("cargo run --release --manifest-path benches/Cargo.toml --");
    for a in args {
        cmd.push(' ');
        cmd.push_str(a);
    }
    cmd
}

fn thousands(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn times(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}

/// A cell: the figure, or "n/a" / "failed" / "pending".
fn cell<T>(o: &Outcome<T>, f: impl Fn(&T) -> Option<String>) -> String {
    match o {
        Outcome::Measured(v) => f(v).unwrap_or_else(|| "–".into()),
        Outcome::NotApplicable(why) if why.starts_with("pending") => "pending".into(),
        Outcome::NotApplicable(_) => "n/a".into(),
        Outcome::Failed(_) => "failed".into(),
    }
}

/// A ratio of two optional figures.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 && a > 0.0 => times(a / b),
        _ => "–".into(),
    }
}

fn unary_rate(r: &SystemResult) -> Option<f64> {
    r.unary.get().map(|u| u.calls_per_sec)
}
fn inflight_rate(r: &SystemResult) -> Option<f64> {
    r.inflight.get().map(|t| t.per_sec)
}
fn stream_rate(r: &SystemResult) -> Option<f64> {
    r.stream.get().map(|t| t.per_sec)
}
fn p99(r: &SystemResult) -> Option<f64> {
    r.unary.get().map(|u| u.p99_us)
}
fn request_bytes(r: &SystemResult) -> Option<f64> {
    r.wire.get().map(|w| w.request_bytes_per_call)
}
fn response_bytes(r: &SystemResult) -> Option<f64> {
    r.wire.get().map(|w| w.response_bytes_per_call)
}
fn kib_at(r: &SystemResult, conns: usize) -> Option<f64> {
    r.idle.get().and_then(|i| i.kib_per_conn_at(conns))
}
fn server_cpu(r: &SystemResult) -> Option<f64> {
    r.inflight.get().map(|t| t.server_cpu_us_per_op)
}

/// `BENCHMARKS.md` for a run.
pub fn markdown(run: &Run) -> String {
    let mut md = String::new();
    let m = &run.machine;
    let s = &run.settings;
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Every figure below comes from one run of the harness in `benches/` ({} mode, {:.0} s in all), \
         generated on {} (UTC) with:\n\n```sh\n{}\n```\n",
        run.mode, run.elapsed_secs, run.date, run.command
    );
    let _ = writeln!(
        md,
        "Machine: {} ({} CPUs), {:.0} GiB memory, Linux {}; {}; Python {} for hat-juggler. \
         Each system runs as a separate server process and client process on 127.0.0.1; {}.\n",
        m.cpu,
        m.cores,
        m.memory_gib,
        m.kernel,
        m.rustc,
        m.python.trim_start_matches("Python "),
        m.pinning
    );
    let _ = writeln!(
        md,
        "Each throughput figure is the count over a {} s window after a {} s warm-up{}. Calls are \
         `add(a, b)` on `i64`; the stream sends {} small integers per call. Bytes on the wire are \
         counted on the TCP stream by a proxy over {} sequential calls, WebSocket framing \
         (2-byte header, 4-byte client mask) included. Idle memory is the server's resident \
         memory with N connections open (each connected with the system's own client and used for \
         one call), minus the reading at {} connection, divided by the connections added. CPU time \
         per call is the process's user + system time over the window (server from \
         `/proc/<pid>/stat`, client from `getrusage`) divided by the calls made. {}\n",
        s.secs,
        s.warmup_secs,
        if s.repeats > 1 {
            format!(
                "; each scenario is measured {} times, each time with a fresh client process, and the window with the \
                 median rate is reported (all of that scenario's figures come from that one window)",
                s.repeats
            )
        } else {
            String::new()
        },
        s.stream_items,
        s.wire_calls,
        s.idle_conns.first().copied().unwrap_or(0),
        match s.stream_window {
            None => "volley's stream client grants the protocol's default credit window (32 items, \
                     replenished half a window at a time)."
                .to_string(),
            Some(w) => format!("volley's stream client grants a credit window of {w} items (`--stream-window`), not the default 32."),
        }
    );

    // Throughput and latency.
    let _ = writeln!(md, "## Calls and streams\n");
    let _ = writeln!(
        md,
        "| system | calls/s, one at a time | p50 µs | p99 µs | p99.9 µs | calls/s, {} in flight | stream items/s |",
        s.depth
    );
    let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|--:|");
    for r in &run.systems {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.label,
            cell(&r.unary, |u| Some(thousands(u.calls_per_sec))),
            cell(&r.unary, |u| Some(num(u.p50_us))),
            cell(&r.unary, |u| Some(num(u.p99_us))),
            cell(&r.unary, |u| Some(num(u.p999_us))),
            cell(&r.inflight, |t| Some(thousands(t.per_sec))),
            cell(&r.stream, |t| Some(thousands(t.per_sec))),
        );
    }

    // Costs.
    let conns: Vec<usize> = s.idle_conns.iter().skip(1).copied().collect();
    let _ = writeln!(md, "\n## Bytes, memory and CPU\n");
    let _ = write!(md, "| system | request B/call | response B/call | first `add(1,2)`: request, answer B |");
    for c in &conns {
        let _ = write!(md, " KiB per idle conn, {} open |", thousands(*c as f64));
    }
    let _ = writeln!(
        md,
        " CPU µs/call one at a time: server, client | CPU µs/call {} in flight: server, client | CPU µs/item streaming: server, client |",
        s.depth
    );
    let _ = writeln!(md, "|---|--:|--:|--:|{}--:|--:|--:|", "--:|".repeat(conns.len()));
    let frame = |f: &Option<FrameSize>| f.map(|f| format!("{} ({})", f.payload, f.total)).unwrap_or_else(|| "–".into());
    for r in &run.systems {
        let _ = write!(
            md,
            "| {} | {} | {} | {} |",
            r.label,
            cell(&r.wire, |w| Some(num(w.request_bytes_per_call))),
            cell(&r.wire, |w| Some(num(w.response_bytes_per_call))),
            cell(&r.wire, |w| Some(format!("{}, {}", frame(&w.first_request), frame(&w.first_response)))),
        );
        for c in &conns {
            let _ = write!(md, " {} |", cell(&r.idle, |i| i.kib_per_conn_at(*c).map(num)));
        }
        let _ = writeln!(
            md,
            " {} | {} | {} |",
            cell(&r.unary, |u| Some(format!("{}, {}", num(u.server_cpu_us_per_call), num(u.client_cpu_us_per_call)))),
            cell(&r.inflight, |t| Some(format!("{}, {}", num(t.server_cpu_us_per_op), num(t.client_cpu_us_per_op)))),
            cell(&r.stream, |t| Some(format!("{}, {}", num(t.server_cpu_us_per_op), num(t.client_cpu_us_per_op)))),
        );
    }
    let _ = writeln!(
        md,
        "\nThe first request and its answer are shown as message bytes (with framing in brackets): \
         the WebSocket payload, or tarpc's message after its 4-byte length prefix."
    );

    // Batching.
    let _ = writeln!(md, "\n## TCP segments per call\n");
    let _ = writeln!(
        md,
        "Data segments counted by the kernel on the server's sockets over each window (`ss -ti`: \
         `data_segs_out`, `data_segs_in`), divided by the calls or items. One write per reply \
         costs about one segment per call; replies batched into one write per burst cost a \
         fraction of one.\n"
    );
    let _ = writeln!(
        md,
        "| system | one at a time: server → client, client → server | {} in flight: server → client, client → server | stream, per item: server → client |",
        s.depth
    );
    let _ = writeln!(md, "|---|--:|--:|--:|");
    let segs = |g: &Option<SegmentsPerOp>| g.map(|g| format!("{:.3}, {:.3}", g.from_server, g.to_server));
    for r in &run.systems {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.label,
            cell(&r.unary, |u| segs(&u.segments)),
            cell(&r.inflight, |t| segs(&t.segments)),
            cell(&r.stream, |t| t.segments.map(|g| format!("{:.3}", g.from_server))),
        );
    }

    // Ratios to the floor.
    if let Some(floor) = run.find(System::Handwritten) {
        let _ = writeln!(md, "\n## Relative to the floor\n");
        let _ = writeln!(
            md,
            "Each system's figure divided by the hand-written tokio-tungstenite + serde_json loop's, \
             the least any RPC layer on this stack can do. Above 1× is faster for rates, and costlier \
             for bytes and CPU.\n"
        );
        let _ = writeln!(md, "| system | calls/s, one at a time | calls/s, {} in flight | stream items/s | request B/call | server CPU µs/call, {} in flight |", s.depth, s.depth);
        let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|");
        for r in &run.systems {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                r.label,
                ratio(unary_rate(r), unary_rate(floor)),
                ratio(inflight_rate(r), inflight_rate(floor)),
                ratio(stream_rate(r), stream_rate(floor)),
                ratio(request_bytes(r), request_bytes(floor)),
                ratio(server_cpu(r), server_cpu(floor)),
            );
        }
    }

    // What TLS costs.
    if let (Some(plain), Some(tls)) = (run.find(System::VolleyJson), run.find(System::VolleyJsonTls)) {
        let _ = writeln!(md, "\n## The cost of TLS\n");
        let _ = writeln!(
            md,
            "volley (JSON) over `wss://` (rustls with ring, TLS 1.3, a self-signed certificate) beside the same over `ws://`, in this run: \
             the TLS figure divided by the plain one (above 1× is faster for rates, costlier for CPU and memory).\n"
        );
        let last = conns.last().copied().unwrap_or(0);
        let _ = writeln!(
            md,
            "| calls/s, one at a time | p99 latency | calls/s, {} in flight | stream items/s | server CPU µs/call, {} in flight | KiB per idle conn, {} open |",
            s.depth,
            s.depth,
            thousands(last as f64)
        );
        let _ = writeln!(md, "|--:|--:|--:|--:|--:|--:|");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            ratio(unary_rate(tls), unary_rate(plain)),
            ratio(p99(tls), p99(plain)),
            ratio(inflight_rate(tls), inflight_rate(plain)),
            ratio(stream_rate(tls), stream_rate(plain)),
            ratio(server_cpu(tls), server_cpu(plain)),
            ratio(kib_at(tls, last), kib_at(plain, last)),
        );
    }

    // volley against each peer.
    for v in [System::VolleyJson, System::VolleyMsgPack] {
        let Some(vr) = run.find(v) else { continue };
        let _ = writeln!(md, "\n## {} against each peer\n", vr.label);
        let _ = writeln!(
            md,
            "How many times better {} does: above 1× means volley is ahead (more calls or items \
             per second; fewer µs, bytes, KiB or CPU µs).\n",
            vr.label
        );
        let last = conns.last().copied().unwrap_or(0);
        let _ = writeln!(
            md,
            "| peer | calls/s, one at a time | calls/s, {} in flight | stream items/s | p99 latency | request B/call | response B/call | KiB per idle conn, {} open | server CPU µs/call |",
            s.depth,
            thousands(last as f64)
        );
        let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for peer in run.systems.iter().filter(|r| r.kind != Some(v) && r.kind != Some(System::VolleyJsonTls)) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                peer.label,
                ratio(unary_rate(vr), unary_rate(peer)),
                ratio(inflight_rate(vr), inflight_rate(peer)),
                ratio(stream_rate(vr), stream_rate(peer)),
                ratio(p99(peer), p99(vr)),
                ratio(request_bytes(peer), request_bytes(vr)),
                ratio(response_bytes(peer), response_bytes(vr)),
                ratio(kib_at(peer, last), kib_at(vr, last)),
                ratio(server_cpu(peer), server_cpu(vr)),
            );
        }
    }

    // Targets.
    let _ = writeln!(md, "\n## Targets\n");
    let _ = writeln!(md, "| target | volley (JSON) | volley (MessagePack) |");
    let _ = writeln!(md, "|---|---|---|");
    for t in targets(run) {
        let _ = writeln!(md, "| {} | {} | {} |", t.0, t.1, t.2);
    }

    // Notes.
    let mut notes = Vec::new();
    for r in &run.systems {
        let scenarios: [(&str, String); 5] = [
            ("one at a time", why(&r.unary)),
            ("in flight", why(&r.inflight)),
            ("stream", why(&r.stream)),
            ("wire", why(&r.wire)),
            ("idle", why(&r.idle)),
        ];
        let mut seen: Vec<&String> = Vec::new();
        for (name, w) in &scenarios {
            if !w.is_empty() && !seen.contains(&w) {
                let all_same = scenarios.iter().all(|(_, o)| o == w);
                let what = if all_same { "all scenarios".to_string() } else { name.to_string() };
                notes.push(format!("- {}, {}: {}", r.label, what, w));
                seen.push(w);
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\n## Not measured\n");
        for n in notes {
            let _ = writeln!(md, "{n}");
        }
    }

    let _ = writeln!(
        md,
        "\n## The systems\n\n\
         - **volley**: this repository's runtime (`runtime/`), server and client, with the \
           `volley.v1.json` and `volley.v1.msgpack` encodings.\n\
         - **hand-written loop (floor)**: tokio-tungstenite + serde_json with volley's JSON frames, \
           decoding the frame head, dispatching on the method name and decoding typed parameters; \
           no cancellation, deadlines, flow control or introspection.\n\
         - **raw tungstenite echo**: the server sends back every message undecoded; the 64-in-flight \
           client sends 64 messages per flush and then reads 64 echoes.\n\
         - **jsonrpsee 0.26**: its server (`add` a method, `count` a subscription) and its ws-client, \
           default settings apart from a connection limit raised to 20,000.\n\
         - **tarpc 0.38**: its TCP serde transport with bincode; tarpc has no WebSocket transport \
           and no server streams.\n\
         - **hat-juggler 0.7**: the Python server from PyPI (`benches/peers/juggler_server.py`), \
           driven by a Rust client that sends the same bytes as juggler's Python client. Juggler \
           has no server streams: its stream is `notify` messages sent before a request's answer.\n\n\
         Servers use a tokio runtime with one worker thread, clients a single-threaded runtime with the client code in a spawned task; \
         all sockets use `TCP_NODELAY`. Regenerate this file with the command above; \
         `--json` prints the same figures as JSON."
    );
    // The analysis written alongside the harness: what was changed in the runtime for
    // these figures and why each missed target is missed.
    let notes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("notes.md");
    if let Ok(text) = std::fs::read_to_string(notes) {
        let _ = writeln!(md, "\n{}", text.trim_end());
    }
    md
}

fn why<T>(o: &Outcome<T>) -> String {
    match o {
        Outcome::Measured(_) => String::new(),
        Outcome::NotApplicable(w) => format!("n/a, {w}"),
        Outcome::Failed(w) => format!("failed: {w}"),
    }
}

/// The targets volley is held to, each as (target, JSON verdict, MessagePack verdict).
fn targets(run: &Run) -> Vec<(String, String, String)> {
    let get = |s: System| run.find(s);
    let floor = get(System::Handwritten);
    let jrpc = get(System::Jsonrpsee);
    let jug = get(System::Juggler);
    let verdict = |v: Option<f64>, goal: f64, higher_is_better: bool, unit: &str| -> String {
        match v {
            None => "not measured".into(),
            Some(v) => {
                let ok = if higher_is_better { v >= goal } else { v < goal };
                format!("{} {v:.2}{unit}", if ok { "met:" } else { "**missed**:" })
            }
        }
    };
    let rel = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let mut rows = Vec::new();
    let mut row = |name: &str, f: &dyn Fn(&SystemResult) -> String| {
        let cellf = |s: System| get(s).map(f).unwrap_or_else(|| "not run".into());
        rows.push((name.to_string(), cellf(System::VolleyJson), cellf(System::VolleyMsgPack)));
    };
    row("calls/s one at a time ≥ 0.85× the hand-written loop", &|r| {
        verdict(rel(unary_rate(r), floor.and_then(unary_rate)), 0.85, true, "×")
    });
    row("calls/s one at a time ≥ 1.5× jsonrpsee", &|r| verdict(rel(unary_rate(r), jrpc.and_then(unary_rate)), 1.5, true, "×"));
    row("calls/s with 64 in flight ≥ 5× jsonrpsee", &|r| {
        verdict(rel(inflight_rate(r), jrpc.and_then(inflight_rate)), 5.0, true, "×")
    });
    row("64 in flight: < 0.1 TCP segments per call, server → client", &|r| {
        let v = r.inflight.get().and_then(|t| t.segments).map(|g| g.from_server);
        match v {
            None => "not measured".into(),
            Some(v) => format!("{} {v:.3}", if v < 0.1 { "met:" } else { "**missed**:" }),
        }
    });
    row("stream items/s ≥ 10× a jsonrpsee subscription", &|r| {
        verdict(rel(stream_rate(r), jrpc.and_then(stream_rate)), 10.0, true, "×")
    });
    row("`add(1,2)` request message < 40 B (JSON), < 20 B (MessagePack)", &|r| {
        let goal = if r.kind == Some(System::VolleyMsgPack) { 20.0 } else { 40.0 };
        let first = r.wire.get().and_then(|w| w.first_request);
        match first {
            None => verdict(None, goal, false, ""),
            Some(f) => format!("{} ({} B with framing)", verdict(Some(f.payload as f64), goal, false, " B"), f.total),
        }
    });
    for &c in run.settings.idle_conns.iter().skip(1) {
        let name = format!("server memory ≤ 12 KiB per idle connection, {} open", thousands(c as f64));
        row(&name, &|r| {
            let v = kib_at(r, c);
            match v {
                None => "not measured".into(),
                Some(v) => format!("{} {v:.1} KiB", if v <= 12.0 { "met:" } else { "**missed**:" }),
            }
        });
    }
    row("calls/s one at a time ≥ 10× hat-juggler", &|r| verdict(rel(unary_rate(r), jug.and_then(unary_rate)), 10.0, true, "×"));
    row("calls/s with 64 in flight ≥ 10× hat-juggler", &|r| {
        verdict(rel(inflight_rate(r), jug.and_then(inflight_rate)), 10.0, true, "×")
    });
    rows
}
