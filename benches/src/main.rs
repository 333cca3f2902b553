//! `volley-bench`: compares volley with other RPC stacks on 127.0.0.1.
//!
//! Without a subcommand it is the orchestrator: it starts every system's server and
//! clients as separate processes (these same binary's `serve` and `client`
//! subcommands), measures them, prints a summary and writes `BENCHMARKS.md`.
//!
//! ```text
//! volley-bench [--quick] [--json] [--systems a,b,..] [--out FILE] [--no-write] [--stream-window N]
//! volley-bench serve <system> --addr HOST:PORT [--cpu N]
//! volley-bench client <system> <scenario> --addr HOST:PORT [--cpu N] [--secs S]
//!              [--warmup S] [--max-ops N] [--depth N] [--items N] [--calls N] [--conns A,B,..] [--window N]
//! ```

mod measure;
mod orchestrate;
mod report;
mod scenario;
mod settings;
mod systems;

use std::net::SocketAddr;
use std::path::PathBuf;

use scenario::{Plan, Scenario};
use systems::System;

const USAGE: &str = "\
usage:
  volley-bench [--quick] [--json] [--systems a,b,..] [--out FILE] [--no-write] [--stream-window N]
  volley-bench serve <system> --addr HOST:PORT [--cpu N]
  volley-bench client <system> <scenario> --addr HOST:PORT [--cpu N] [--secs S] [--warmup S]
               [--max-ops N] [--depth N] [--items N] [--calls N] [--conns A,B,..] [--window N]
systems: volley-json volley-msgpack handwritten raw-echo jsonrpsee tarpc hat-juggler
scenarios: unary inflight stream wire idle";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(args) {
        eprintln!("volley-bench: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    measure::cpu::raise_fd_limit();
    match args.first().map(String::as_str) {
        Some("serve") => {
            let system = system_arg(args.get(1))?;
            let flags = Flags::parse(&args[2..])?;
            pin(flags.cpu);
            systems::serve(system, flags.addr()?, flags.cpu)
        }
        Some("client") => {
            let system = system_arg(args.get(1))?;
            let scenario = args.get(2).and_then(|s| Scenario::parse(s)).ok_or_else(|| anyhow::anyhow!("{USAGE}"))?;
            let flags = Flags::parse(&args[3..])?;
            pin(flags.cpu);
            let report = systems::client(system, scenario, flags.addr()?, &flags.plan)?;
            println!("RESULT {}", serde_json::to_string(&report)?);
            Ok(())
        }
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            let mut opts = orchestrate::Options::default();
            let mut it = args.iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--quick" => opts.quick = true,
                    "--json" => opts.json = true,
                    "--no-write" => opts.write = false,
                    "--out" => opts.out = Some(PathBuf::from(value(&mut it, "--out")?)),
                    "--stream-window" => opts.stream_window = Some(value(&mut it, "--stream-window")?.parse()?),
                    "--systems" => {
                        opts.systems = value(&mut it, "--systems")?
                            .split(',')
                            .map(|s| System::parse(s).ok_or_else(|| anyhow::anyhow!("unknown system {s}")))
                            .collect::<anyhow::Result<_>>()?
                    }
                    other => anyhow::bail!("unknown argument {other}\n{USAGE}"),
                }
            }
            opts.args = args;
            orchestrate::run(opts)
        }
    }
}

fn system_arg(arg: Option<&String>) -> anyhow::Result<System> {
    arg.and_then(|s| System::parse(s)).ok_or_else(|| anyhow::anyhow!("{USAGE}"))
}

fn value<'a>(it: &mut impl Iterator<Item = &'a String>, flag: &str) -> anyhow::Result<&'a String> {
    it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
}

fn pin(cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        if let Err(e) = measure::cpu::pin_to(cpu) {
            eprintln!("volley-bench: could not pin to CPU {cpu}: {e}");
        }
    }
}

/// Flags of the `serve` and `client` subcommands.
struct Flags {
    addr: Option<SocketAddr>,
    cpu: Option<usize>,
    plan: Plan,
}

impl Flags {
    fn parse(args: &[String]) -> anyhow::Result<Flags> {
        let mut flags = Flags { addr: None, cpu: None, plan: Plan::default() };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let v = value(&mut it, arg)?;
            let p = &mut flags.plan;
            match arg.as_str() {
                "--addr" => flags.addr = Some(v.parse()?),
                "--cpu" => flags.cpu = Some(v.parse()?),
                "--secs" => p.secs = v.parse()?,
                "--warmup" => p.warmup_secs = v.parse()?,
                "--max-ops" => p.max_ops = v.parse()?,
                "--depth" => p.depth = v.parse()?,
                "--items" => p.items = v.parse()?,
                "--calls" => p.wire_calls = v.parse()?,
                "--conns" => p.conns = v.split(',').map(str::parse).collect::<Result<_, _>>()?,
                "--window" => p.window = Some(v.parse()?),
                other => anyhow::bail!("unknown flag {other}\n{USAGE}"),
            }
        }
        Ok(flags)
    }

    fn addr(&self) -> anyhow::Result<SocketAddr> {
        let addr = self.addr.ok_or_else(|| anyhow::anyhow!("--addr is required"))?;
        anyhow::ensure!(addr.ip().is_loopback(), "the benchmark only talks to loopback addresses");
        Ok(addr)
    }
}
