//! `volley call` against live example servers, in every call shape.

mod live;

use live::{serve, serve_tls, text, volley};

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
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("the server has no method `nope` (volley describe URL lists them)"), "{}", text(&o.stderr));
    let o = volley(&["call", &url, "calc.evalute", "{}"], "");
    assert!(text(&o.stderr).contains("the server has no method `calc.evalute`; did you mean `calc.evaluate`?"), "{}", text(&o.stderr));
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
    let dir = live::scratch("call-tls");
    let (url, cert_path) = serve_tls(calculator::router(), &dir, "c", &["127.0.0.1", "localhost"]);
    let ca = cert_path.to_str().unwrap();
    let o = volley(&["call", "--cacert", ca, "-H", "x-anything: 1", &url, "add", r#"{"a":1,"b":2}"#], "");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "3");
    // Without the CA the certificate is refused, and the error says why.
    let o = volley(&["call", &url, "add", r#"{"a":1,"b":2}"#], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("UnknownIssuer"), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("pass it with --cacert FILE"), "{}", text(&o.stderr));
    // A header that is not `Name: value` is a usage error, before anything connects.
    let o = volley(&["call", "-H", "no-colon", &url, "add"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not `Name: value`"), "{}", text(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
