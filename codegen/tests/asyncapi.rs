//! Runs `volley asyncapi`: the AsyncAPI 3.0.0 document of a schema file, with the
//! server it is told, and of a schema fetched from a server, naming that server.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;

use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");

fn volley(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volley")).args(args).output().expect("the volley binary runs")
}

fn document(o: &Output) -> Value {
    assert!(o.status.success(), "stderr:\n{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("the output is JSON")
}

/// Serves `body` once at `path` over HTTP; the server's base URL.
fn serve_once(path: &'static str, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
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
        assert!(request.starts_with(&format!("GET {path} HTTP/1.1\r\n")), "{request}");
        let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        stream.write_all(answer.as_bytes()).unwrap();
    });
    url
}

#[test]
fn a_schema_file_with_the_server_it_is_given() {
    let doc = document(&volley(&["asyncapi", "--schema", FIXTURE, "--server-url", "wss://api.example.com/rpc"]));
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(doc["info"]["title"], "shapes");
    let server = &doc["servers"]["volley"];
    assert_eq!((&server["protocol"], &server["host"], &server["pathname"]), (&"wss".into(), &"api.example.com".into(), &"/rpc".into()));
    assert_eq!(doc["operations"]["calc.divide"]["action"], "send");
    assert_eq!(doc["operations"]["ui.confirm"]["action"], "receive");
    // Without a URL, a placeholder to edit.
    let doc = document(&volley(&["asyncapi", "--schema", FIXTURE]));
    assert_eq!(doc["servers"]["volley"]["host"], "localhost:8000");
}

#[test]
fn a_schema_from_a_server_names_that_server() {
    let url = serve_once("/rpc/schema", std::fs::read_to_string(FIXTURE).unwrap());
    let doc = document(&volley(&["asyncapi", "--schema", &format!("{url}/rpc/schema")]));
    let server = &doc["servers"]["volley"];
    assert_eq!(format!("{}://{}{}", server["protocol"].as_str().unwrap(), server["host"].as_str().unwrap(), server["pathname"].as_str().unwrap()), url.replace("http://", "ws://") + "/rpc");
}

#[test]
fn a_schema_that_is_not_one_is_refused() {
    let o = volley(&["asyncapi", "--schema", concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not JSON"), "{}", String::from_utf8_lossy(&o.stderr));
}
