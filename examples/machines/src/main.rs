//! Serves the state-machine example: `cargo run -p machines [-- --addr HOST:PORT]`.

const USAGE: &str = "usage: machines [--addr HOST:PORT]   (default 127.0.0.1:8005)";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into())).init();
    let bad = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{msg}; {USAGE}"));
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8005".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| bad("--addr needs HOST:PORT".into()))?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(bad(format!("unknown argument {other}"))),
        }
    }
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| bad(format!("--addr {addr}: {e}")))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("machines listening on ws://{}  (schema: http://{0}/schema, health: http://{0}/health)", listener.local_addr()?);
    machines::server().serve(listener).await
}
