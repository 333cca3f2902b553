//! Serves the axum example: `cargo run -p axum-app [-- --addr HOST:PORT]`.

use std::net::SocketAddr;

const USAGE: &str = "usage: axum-app [--addr HOST:PORT]   (default 127.0.0.1:8003)";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let _logs = init_logs();
    let addr = parse_args()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let here = listener.local_addr()?;
    println!("axum-app listening on http://{here}  (RPC: ws://{here}/rpc, schema: http://{here}/rpc/schema, metrics: http://{here}/rpc/metrics)");
    // Pages served from the app's own address may connect, whatever port it uses.
    let settings = axum_app::Settings { metrics: true, ..axum_app::Settings::for_addr(here) };
    axum_app::serve(axum_app::app(settings), listener, axum_app::shutdown_signal()).await
}

/// Where to listen.
fn parse_args() -> std::io::Result<SocketAddr> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8003".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| bad("--addr needs HOST:PORT"))?,
            "--tls-cert" | "--tls-key" => {
                return Err(bad(&format!(
                    "{arg}: in an axum app TLS is the application's, not volley's; terminate it in a proxy in front of this example, or serve the router with a TLS acceptor"
                )))
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(bad(&format!("unknown argument {other}; {USAGE}"))),
        }
    }
    addr.parse().map_err(|e| bad(&format!("--addr {addr}: {e}")))
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

/// Logs to stderr through a non-blocking writer (a stalled or closed stderr never
/// stalls a call), filtered by `RUST_LOG` (default `info`, which includes a line per
/// HTTP request from the `TraceLayer`).
fn init_logs() -> tracing_appender::non_blocking::WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).init();
    guard
}
