//! `wss://` with certificates made by the test (rcgen): calls over TLS, and the
//! faults: garbage and plain text on the TLS port, and clients that must refuse an
//! expired certificate, one for another name, or one from an unknown CA, saying why.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{CertificateParams, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use volley::{rpc, Client, Encoding, Router, Server, TlsConfig};

/// Adds two integers.
#[rpc]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("volley-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate for `names`, valid from `days_from_now.0` to
/// `days_from_now.1`; returns the certificate and key files.
fn certificate(dir: &TempDir, tag: &str, names: &[&str], days_from_now: (i64, i64)) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let now = time_now();
    params.not_before = now + time::Duration::days(days_from_now.0);
    params.not_after = now + time::Duration::days(days_from_now.1);
    let cert = params.self_signed(&key).unwrap();
    (dir.write(&format!("{tag}.pem"), &cert.pem()), dir.write(&format!("{tag}.key"), &key.serialize_pem()))
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

async fn serve_tls(cert: &Path, key: &Path) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(Router::new().rpc::<add>()).tls(TlsConfig::from_pem_files(cert, key).unwrap());
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    addr
}

#[tokio::test]
async fn calls_over_wss_in_both_encodings_with_the_test_ca_trusted() {
    let dir = TempDir::new("ok");
    let (cert, key) = certificate(&dir, "server", &["localhost", "127.0.0.1"], (-1, 30));
    let addr = serve_tls(&cert, &key).await;
    for (host, enc) in [("127.0.0.1", Encoding::Json), ("localhost", Encoding::MsgPack)] {
        let url = format!("wss://{host}:{}/", addr.port());
        let client = Client::builder(&url).encoding(enc).ca_cert(&cert).connect().await.unwrap();
        let sum: i64 = client.call("add", &serde_json::json!({"a": 1, "b": 2})).await.unwrap();
        assert_eq!(sum, 3, "{url} {enc:?}");
    }
    // The schema is served over https too.
    let connector = tokio_rustls::TlsConnector::from(test_client_config(&cert));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect("localhost".try_into().unwrap(), tcp).await.unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn test_client_config(ca: &Path) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(ca).unwrap()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[tokio::test]
async fn garbage_and_plain_text_on_the_tls_port_are_closed_and_others_go_on() {
    let dir = TempDir::new("garbage");
    let (cert, key) = certificate(&dir, "server", &["localhost"], (-1, 30));
    let addr = serve_tls(&cert, &key).await;
    for bytes in [&b"\x16\x03\x01\x00\x05hello garbage"[..], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"] {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out)).await.expect("closed");
        assert!(read.is_err() || !out.starts_with(b"HTTP/1.1 101"), "no WebSocket for {bytes:?}");
    }
    let err = Client::connect(&format!("ws://127.0.0.1:{}/", addr.port())).await.err().expect("plain ws:// fails");
    assert!(err.message.contains("could not connect"), "{}", err.message);
    let client = Client::builder(&format!("wss://localhost:{}/", addr.port())).ca_cert(&cert).connect().await.unwrap();
    assert_eq!(client.call::<i64>("add", &serde_json::json!({"a": 2, "b": 2})).await.unwrap(), 4);
}

#[tokio::test]
async fn a_client_refuses_a_bad_certificate_and_says_why() {
    let dir = TempDir::new("bad");
    let (expired, expired_key) = certificate(&dir, "expired", &["localhost"], (-30, -1));
    let (other, other_key) = certificate(&dir, "other", &["other.example"], (-1, 30));
    let (good, good_key) = certificate(&dir, "good", &["localhost"], (-1, 30));
    let cases = [
        (serve_tls(&expired, &expired_key).await, Some(&expired), "expired"),
        (serve_tls(&other, &other_key).await, Some(&other), "not valid for name"),
        (serve_tls(&good, &good_key).await, None, "UnknownIssuer"),
    ];
    for (addr, ca, cause) in cases {
        let mut builder = Client::builder(&format!("wss://localhost:{}/", addr.port()));
        if let Some(ca) = ca {
            builder = builder.ca_cert(ca);
        }
        let err = builder.connect().await.err().expect("refused");
        assert!(err.message.contains(cause), "expected `{cause}` in: {}", err.message);
    }
    let missing = Client::builder("wss://localhost:9/").ca_cert(dir.0.join("nope.pem")).connect().await.err().unwrap();
    assert!(missing.message.contains("nope.pem"), "{}", missing.message);
}
