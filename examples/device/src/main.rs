//! Serves the device example: `cargo run -p device [-- --addr HOST:PORT] [--heartbeat-ms N]`.

use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: device [--addr HOST:PORT] [--heartbeat-ms N]   (default 127.0.0.1:8004, a heartbeat every 1000 ms)";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into())).init();
    let (addr, heartbeat) = parse_args()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("device listening on ws://{}  (schema: http://{0}/schema)", listener.local_addr()?);
    let device = Arc::new(device::Device::default());
    let server = volley::Server::new(device::router(device.clone())).metrics();
    tokio::spawn(device::heartbeats(device, server.publisher(), heartbeat));
    server.serve(listener).await
}

fn parse_args() -> std::io::Result<(std::net::SocketAddr, Duration)> {
    let bad = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{msg}; {USAGE}"));
    let mut args = std::env::args().skip(1);
    let (mut addr, mut heartbeat_ms) = ("127.0.0.1:8004".to_owned(), 1000u64);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| bad("--addr needs HOST:PORT".into()))?,
            "--heartbeat-ms" => {
                let n = args.next().ok_or_else(|| bad("--heartbeat-ms needs a number".into()))?;
                heartbeat_ms = n.parse().ok().filter(|&n| n > 0).ok_or_else(|| bad(format!("--heartbeat-ms {n}: not a positive number")))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(bad(format!("unknown argument {other}"))),
        }
    }
    let addr = addr.parse().map_err(|e| bad(format!("--addr {addr}: {e}")))?;
    Ok((addr, Duration::from_millis(heartbeat_ms)))
}
