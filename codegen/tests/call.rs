//! `volley call` against live example servers, in every call shape.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn serve(router: volley::Router) -> String {
    serve_with(volley::Server::new(router), "ws")
}

/// Serves `server` on a free port in a thread of its own; returns its URL.
fn serve_with(server: volley::Server, scheme: &str) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            server.serve_with_shutdown(listener, std::future::pending()).await.unwrap();
        });
    });
    format!("{scheme}://{}/", rx.recv().unwrap())
}

fn volley(args: &[&str], stdin: &str) -> Output {
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn unary_calls_and_typed_errors_in_both_encodings() {
    let url = serve(calculator::router());
    for enc in [&[][..], &["--msgpack"][..]] {
        let mut args = vec!["call", &url, "add", r#"{"a": 2, "b": 40}"#];
        args.extend_from_slice(enc);
        let o = volley(&args, "");
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(text(&o.stdout).trim(), "42");

        let mut args = vec!["call", &url, "divide", r#"{"a": 1, "b": 0}"#];
        args.extend_from_slice(enc);
        let o = volley(&args, "");
        assert_eq!(o.status.code(), Some(1));
        let err = text(&o.stderr);
        assert!(err.contains("APPLICATION (1000): division by zero"), "{err}");
        assert!(err.contains(r#""kind":"DivisionByZero""#), "{err}");
    }
    let o = volley(&["call", &url, "nope"], "");
    assert!(text(&o.stderr).contains("METHOD_NOT_FOUND (404)"), "{}", text(&o.stderr));
    let o = volley(&["call", &url, "add", "[1, 2]"], "");
    assert!(text(&o.stderr).contains("must be a JSON object"), "{}", text(&o.stderr));
}

#[test]
fn streams_print_one_item_per_line_and_read_items_from_stdin() {
    let url = serve(streams::router());
    let o = volley(&["call", &url, "countdown", r#"{"from": 3, "interval_ms": 0}"#, "-v"], "");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "3\n2\n1\n");
    let err = text(&o.stderr);
    assert!(err.contains(r#"# leading: {"countdown-from":"3"}"#), "{err}");
    assert!(err.contains(r#"# trailers: {"countdown-finished":"true"}"#), "{err}");

    let o = volley(&["call", &url, "sum", "{}", "-m", "scale=10", "--msgpack"], "1\n2.5\n\n3\n");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "65.0");

    let o = volley(&["call", &url, "chat"], "{\"from\": \"ann\", \"text\": \"hi\"}\n{\"from\": \"bob\", \"text\": \"yo\"}\n");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines, [serde_json::json!({"from": "echo", "text": "ann: HI"}), serde_json::json!({"from": "echo", "text": "bob: YO"})]);

    let o = volley(&["call", &url, "sleep", r#"{"ms": 5000}"#, "--timeout-ms", "50"], "");
    assert!(text(&o.stderr).contains("DEADLINE_EXCEEDED (408)"), "{}", text(&o.stderr));
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let o = volley(&["call", "ws://127.0.0.1:9/", "add"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cannot connect to ws://127.0.0.1:9/"), "{}", text(&o.stderr));
}

#[test]
fn calls_over_wss_with_a_private_ca_and_headers() {
    let dir = std::env::temp_dir().join(format!("volley-call-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.join("c.pem"), dir.join("k.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();
    let tls = volley::TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let url = serve_with(volley::Server::new(calculator::router()).tls(tls), "wss");
    let ca = cert_path.to_str().unwrap();
    let o = volley(&["call", "--cacert", ca, "-H", "x-anything: 1", &url, "add", r#"{"a":1,"b":2}"#], "");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "3");
    // Without the CA the certificate is refused, and the error says why.
    let o = volley(&["call", &url, "add", r#"{"a":1,"b":2}"#], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("UnknownIssuer"), "{}", text(&o.stderr));
    let o = volley(&["call", "-H", "no-colon", &url, "add"], "");
    assert!(text(&o.stderr).contains("not `Name: value`"), "{}", text(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
