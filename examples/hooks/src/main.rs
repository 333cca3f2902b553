//! Serves the hooks example: `cargo run -p hooks [-- --addr HOST:PORT]`.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let _logs = init_logs();
    let args = parse_args()?;
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let scheme = if args.tls.is_some() { "s" } else { "" };
    println!("hooks listening on ws{scheme}://{}  (schema: http{scheme}://{0}/schema)", listener.local_addr()?);
    // Pages served from the example's own address may connect, whatever port it uses.
    let here = listener.local_addr()?;
    let origins = [format!("http{scheme}://{here}"), format!("http{scheme}://localhost:{}", here.port())];
    let server = hooks::server(&origins.iter().map(String::as_str).collect::<Vec<_>>());
    with_tls(server.metrics(), args.tls).serve(listener).await
}

/// Where to listen, and the TLS certificate and key to serve `wss://` with, if given.
struct Args {
    addr: SocketAddr,
    tls: Option<volley::TlsConfig>,
}

fn parse_args() -> std::io::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8002".to_owned();
    let (mut cert, mut key) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| bad("--addr needs HOST:PORT"))?,
            "--tls-cert" => cert = Some(args.next().ok_or_else(|| bad("--tls-cert needs a PEM file"))?),
            "--tls-key" => key = Some(args.next().ok_or_else(|| bad("--tls-key needs a PEM file"))?),
            "-h" | "--help" => {
                println!("usage: hooks [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE]   (default 127.0.0.1:8002)");
                std::process::exit(0);
            }
            other => return Err(bad(&format!("unknown argument {other}; usage: hooks [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE]   (default 127.0.0.1:8002)"))),
        }
    }
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(volley::TlsConfig::from_pem_files(cert, key).map_err(|e| bad(&e.message))?),
        (None, None) => None,
        _ => return Err(bad("--tls-cert and --tls-key go together")),
    };
    let addr = addr.parse().map_err(|e| bad(&format!("--addr {addr}: {e}")))?;
    Ok(Args { addr, tls })
}

fn with_tls(server: volley::Server, tls: Option<volley::TlsConfig>) -> volley::Server {
    match tls {
        Some(tls) => server.tls(tls),
        None => server,
    }
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
