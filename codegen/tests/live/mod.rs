//! Live servers on free ports, the `volley` binary, and self-signed certificates, shared
//! by the tests that run the command line against real sockets.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Serves `router` over `ws://` on a free port; returns its URL (`ws://127.0.0.1:port/`).
pub fn serve(router: volley::Router) -> String {
    serve_with(volley::Server::new(router), "ws")
}

/// Serves `server` on a free port in a thread of its own; returns its URL with
/// `scheme` (`ws://127.0.0.1:port/`).
pub fn serve_with(server: volley::Server, scheme: &str) -> String {
    let addr = serve_on_thread(move |listener| async move {
        server.serve_with_shutdown(listener, std::future::pending()).await.unwrap();
    });
    format!("{scheme}://{addr}/")
}

/// Serves an axum application (volley mounted in it) on a free port; returns its address.
pub fn serve_app(app: volley::axum::Router) -> SocketAddr {
    serve_on_thread(move |listener| async move {
        volley::axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    })
}

/// Binds a free port and runs `serve` on it in a thread with its own runtime, so a
/// blocking test can call the server; returns the bound address.
fn serve_on_thread<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await;
        });
    });
    rx.recv().unwrap()
}

/// Runs the `volley` binary with `args`, writing `stdin` to it.
pub fn volley(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_volley"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh folder under the system's temp folder, removed first if it exists.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("volley-live-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A self-signed certificate for `names`, written to `dir` as `<stem>.pem` (the
/// certificate, which is also the CA to trust) and `<stem>-key.pem`; returns the two
/// paths. Its subject's common name is `stem`, so that certificates of different stems
/// do not pass for each other's issuer.
pub fn self_signed(dir: &Path, stem: &str, names: &[&str]) -> (PathBuf, PathBuf) {
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, stem);
    let cert = params.self_signed(&signing_key).unwrap();
    let (cert_path, key_path) = (dir.join(format!("{stem}.pem")), dir.join(format!("{stem}-key.pem")));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

/// Serves `router` over `wss://` with a self-signed certificate for `names`; returns
/// the URL and the certificate's path.
pub fn serve_tls(router: volley::Router, dir: &Path, stem: &str, names: &[&str]) -> (String, PathBuf) {
    let (cert, key) = self_signed(dir, stem, names);
    let tls = volley::TlsConfig::from_pem_files(&cert, &key).unwrap();
    (serve_with(volley::Server::new(router).tls(tls), "wss"), cert)
}
