//! Serves the hooks example: `cargo run -p hooks [-- --addr HOST:PORT]`.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let _logs = init_logs();
    let addr = parse_addr()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("hooks listening on ws://{}  (schema: http://{0}/schema)", listener.local_addr()?);
    // Pages served from the example's own address may connect, whatever port it uses.
    let here = listener.local_addr()?;
    let origins = [format!("http://{here}"), format!("http://localhost:{}", here.port())];
    hooks::server(&origins.iter().map(String::as_str).collect::<Vec<_>>()).serve(listener).await
}

fn parse_addr() -> std::io::Result<SocketAddr> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8002".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| bad("--addr needs HOST:PORT"))?,
            "-h" | "--help" => {
                println!("usage: hooks [--addr HOST:PORT]   (default 127.0.0.1:8002)");
                std::process::exit(0);
            }
            other => return Err(bad(&format!("unknown argument {other}; usage: hooks [--addr HOST:PORT]"))),
        }
    }
    addr.parse().map_err(|e| bad(&format!("--addr {addr}: {e}")))
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

/// Logs to stderr through a non-blocking writer (a stalled or closed stderr never
/// stalls a call), filtered by `RUST_LOG` (default `info`).
fn init_logs() -> tracing_appender::non_blocking::WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).init();
    guard
}
