//! Runs the `volley` binary: what it prints and how it exits when the schema is
//! missing, unreachable, not a volley schema, of an unknown version, or holds a type
//! it cannot map; and that `volley schema` and `volley generate typescript` work on a
//! schema served over HTTP.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");

fn volley(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volley")).args(args).output().expect("the volley binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh folder under the system's temp folder, removed first if it exists.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("volley-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Asserts the command failed with exit code 1 and that stderr contains every phrase.
fn assert_fails(o: &Output, phrases: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "expected exit code 1; stderr:\n{err}");
    assert!(err.starts_with("error: "), "stderr:\n{err}");
    for p in phrases {
        assert!(err.contains(p), "stderr lacks {p:?}:\n{err}");
    }
}

/// Serves `answers` (raw HTTP responses) to successive connections on 127.0.0.1 and
/// returns the server's base URL.
fn http_server(answers: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for answer in answers {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let request = String::from_utf8_lossy(&request).into_owned();
            assert!(request.starts_with("GET /schema HTTP/1.1\r\n"), "{request}");
            stream.write_all(answer.as_bytes()).unwrap();
        }
    });
    url
}

fn ok_response(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn an_unreachable_server_is_reported() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let o = volley(&["schema", &url]);
    assert_fails(&o, &[&format!("cannot fetch schema from http://127.0.0.1:{port}/schema")]);
    let out = scratch("unreachable");
    let o = volley(&["generate", "typescript", "--schema", &format!("ws://127.0.0.1:{port}/"), "--out", out.join("sdk").to_str().unwrap()]);
    assert_fails(&o, &["cannot fetch schema from http://127.0.0.1:", "/schema"]);
    assert!(!out.join("sdk").exists(), "nothing is written when the schema cannot be loaded");
}

#[test]
fn a_server_that_answers_an_error_status_is_reported() {
    let url = http_server(vec!["HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into()]);
    let o = volley(&["schema", &format!("{url}/schema")]);
    assert_fails(&o, &["cannot fetch schema from", "404 Not Found"]);
}

#[test]
fn a_missing_file_is_reported() {
    let dir = scratch("missing");
    let path = dir.join("nope.json");
    let o = volley(&["generate", "typescript", "--schema", path.to_str().unwrap(), "--out", dir.join("sdk").to_str().unwrap()]);
    assert_fails(&o, &["cannot read schema file", "nope.json"]);
}

#[test]
fn a_document_that_is_not_json_or_not_a_volley_schema_is_refused() {
    let dir = scratch("not-schema");
    let out = dir.join("sdk");
    let html = write(&dir, "page.html", "<html>hello</html>");
    assert_fails(&volley(&["generate", "typescript", "--schema", &html, "--out", out.to_str().unwrap()]), &["page.html is not JSON"]);
    let openapi = write(&dir, "openapi.json", r#"{"openapi": "3.1.0", "paths": {}}"#);
    assert_fails(
        &volley(&["generate", "typescript", "--schema", &openapi, "--out", out.to_str().unwrap()]),
        &["openapi.json is not a volley schema document", "no `volley` format version"],
    );
    let list = write(&dir, "list.json", "[1, 2]");
    assert_fails(&volley(&["schema", &list]), &["list.json is not a volley schema document", "not a JSON object"]);
    assert!(!out.exists());
}

#[test]
fn an_unknown_schema_version_is_refused() {
    let dir = scratch("version");
    let future = write(&dir, "v4.json", r#"{"volley": 4, "name": "future", "methods": []}"#);
    let o = volley(&["generate", "typescript", "--schema", &future, "--out", dir.join("sdk").to_str().unwrap()]);
    assert_fails(&o, &["v4.json has schema format version 4", "reads versions 1, 2, 3"]);
    let url = http_server(vec![ok_response(r#"{"volley": 7, "name": "x"}"#)]);
    assert_fails(&volley(&["schema", &url]), &["has schema format version 7"]);
}

#[test]
fn types_that_cannot_be_mapped_are_listed_with_their_place() {
    let dir = scratch("unmappable");
    let schema = write(
        &dir,
        "bad.json",
        r##"{"volley": 1, "name": "bad", "methods": [
            {"name": "calc.check", "side": "server", "kind": "unary",
             "params": {"type": "object", "properties": {"x": {"not": {"type": "string"}}}, "required": ["x"]},
             "result": {"$ref": "#/$defs/Missing"}}
        ], "$defs": {"Odd": {"type": "integer", "format": "int256"}}}"##,
    );
    let out = dir.join("sdk");
    let o = volley(&["generate", "typescript", "--schema", &schema, "--out", out.to_str().unwrap()]);
    assert_fails(
        &o,
        &[
            "cannot map 3 schemas",
            "methods[calc.check].params.x: the JSON Schema keyword `not` cannot be mapped to a type",
            "methods[calc.check].result: `$ref` names `Missing`, which is not in `$defs`",
            "$defs[Odd]: unknown integer format `int256`",
        ],
    );
    assert!(!out.exists(), "nothing is written for a schema that cannot be mapped");
}

#[test]
fn schema_prints_a_served_document() {
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    let url = http_server(vec![ok_response(&fixture)]);
    let o = volley(&["schema", &format!("{url}/")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&fixture).unwrap();
    assert_eq!(printed, stored);
}

#[test]
fn generate_typescript_from_a_served_schema_with_a_package_name() {
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    // Chunked transfer encoding, as servers send it for bodies of unknown length.
    let chunked = {
        let (a, b) = fixture.split_at(fixture.len() / 2);
        format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
    };
    let url = http_server(vec![chunked]);
    let out = scratch("generate").join("sdk");
    let o = volley(&[
        "generate", "typescript", "--schema", &format!("{url}/schema"), "--out", out.to_str().unwrap(),
        "--package-name", "@acme/shapes-client", "--package-version", "2.0.0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("package.json")).unwrap()).unwrap();
    assert_eq!(package["name"], "@acme/shapes-client");
    assert_eq!(package["version"], "2.0.0");
    for file in ["README.md", "tsconfig.json", "src/index.ts", "src/client.ts", "src/types.ts", "src/runtime/connection.ts"] {
        assert!(out.join(file).is_file(), "{file} was written");
    }
}

#[test]
fn unknown_languages_and_missing_arguments_are_usage_errors() {
    let o = volley(&["generate", "cobol", "--schema", FIXTURE, "--out", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cobol"));
    let o = volley(&["generate", "typescript", "--out", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--schema"));
}

#[test]
fn https_urls_are_fetched_over_tls() {
    // A listener that records the first bytes of the connection: a TLS handshake record
    // (0x16, then version 3.x) shows the schema is fetched over TLS. It then hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).unwrap();
        head
    });
    let o = volley(&["schema", &format!("https://127.0.0.1:{port}")]);
    assert_fails(&o, &[&format!("cannot fetch schema from https://127.0.0.1:{port}/schema")]);
    assert_eq!(first_bytes.join().unwrap(), [0x16, 0x03], "a TLS ClientHello was sent");
}
