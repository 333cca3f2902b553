//! `volley listen` against a live server: topics and shared states printed as JSON
//! lines, patches with `--patches`, a clear exit when the server goes away, and
//! `--reconnect` picking up a server that comes back on the same port.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A server on `addr` (a free port when port 0) that stops when the sender is dropped
/// or sent to; returns its address and publisher.
fn serve(addr: SocketAddr) -> (SocketAddr, volley::Publisher, tokio::sync::oneshot::Sender<()>) {
    let router = volley::Router::new()
        .topic::<String>("news", "Headlines.")
        .shared_state::<BTreeMap<String, u32>>("stock", "Items in stock.");
    let server = volley::Server::new(router).drain_timeout(Duration::from_millis(100));
    let publisher = server.publisher();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            server
                .serve_with_shutdown(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    (rx.recv().unwrap(), publisher, stop)
}

/// `volley listen` with its stdout read line by line on a thread.
struct Listener {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Listener {
    fn start(args: &[&str]) -> Listener {
        let mut child = Command::new(env!("CARGO_BIN_EXE_volley"))
            .arg("listen")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Listener { child, lines }
    }

    /// The next line, as JSON; `publish` is repeated until it reaches a subscriber, so
    /// the test does not guess when the subscription is in place.
    fn next(&self, mut publish: impl FnMut() -> usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut delivered = false;
        while Instant::now() < deadline {
            if !delivered {
                delivered = publish() > 0;
            }
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                return serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            }
        }
        panic!("nothing printed in 20 s");
    }

    /// Waits for the process to end; returns its exit code and stderr.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "volley listen did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut err = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (self.child.wait().unwrap().code(), err)
    }

    fn stderr_so_far(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        err
    }
}

#[test]
fn prints_notifications_and_whole_documents_then_exits_1_when_the_server_goes_away() {
    let (addr, publisher, stop) = serve("127.0.0.1:0".parse().unwrap());
    publisher.set_state("stock", &BTreeMap::from([("apples", 3u32)])).unwrap();
    let url = format!("ws://{addr}/");
    let listen = Listener::start(&[&url, "news", "stock"]);
    // The state's first document arrives on subscribing.
    assert_eq!(listen.next(|| 0), json!({"state": "stock", "value": {"apples": 3}}));
    let line = listen.next(|| publisher.publish("news", "volley 1.0 is out").unwrap());
    assert_eq!(line, json!({"topic": "news", "value": "volley 1.0 is out"}));
    let mut stock = BTreeMap::from([("apples", 3u32), ("pears", 5)]);
    publisher.set_state("stock", &stock).unwrap();
    assert_eq!(listen.next(|| 0), json!({"state": "stock", "value": {"apples": 3, "pears": 5}}));
    stock.remove("apples");
    publisher.set_state("stock", &stock).unwrap();
    assert_eq!(listen.next(|| 0), json!({"state": "stock", "value": {"pears": 5}}));

    let _ = stop.send(());
    let (code, err) = listen.finish();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error: the server closed the connection") && err.contains("--reconnect"), "{err}");
}

#[test]
fn patches_print_as_sent_and_patterns_match_many_topics() {
    let (addr, publisher, _stop) = serve("127.0.0.1:0".parse().unwrap());
    publisher.set_state("stock", &BTreeMap::from([("apples", 3u32)])).unwrap();
    let url = format!("ws://{addr}/");
    let listen = Listener::start(&[&url, "stock", "news.*", "--patches", "--msgpack"]);
    let first = listen.next(|| 0);
    assert_eq!(first, json!({"state": "stock", "patch": [{"op": "replace", "path": "", "value": {"apples": 3}}]}));
    publisher.set_state("stock", &BTreeMap::from([("apples", 4u32)])).unwrap();
    assert_eq!(listen.next(|| 0), json!({"state": "stock", "patch": [{"op": "replace", "path": "/apples", "value": 4}]}));
    let line = listen.next(|| publisher.publish("news.sport", "2-1").unwrap());
    assert_eq!(line, json!({"topic": "news.sport", "value": "2-1"}));
}

#[test]
fn a_name_the_schema_does_not_list_is_warned_about_with_the_closest_names() {
    let (addr, publisher, _stop) = serve("127.0.0.1:0".parse().unwrap());
    let url = format!("ws://{addr}/");
    let mut listen = Listener::start(&[&url, "nwes"]);
    // Subscribed anyway: a server may publish topics it does not declare.
    assert_eq!(listen.next(|| publisher.publish("nwes", "x").unwrap()), json!({"topic": "nwes", "value": "x"}));
    let err = listen.stderr_so_far();
    assert!(err.contains("warning: the schema lists no topic or state `nwes` (did you mean `news`?)"), "{err}");
}

#[test]
fn reconnects_to_a_server_that_comes_back() {
    let (addr, first, stop) = serve("127.0.0.1:0".parse().unwrap());
    let url = format!("ws://{addr}/");
    let mut listen = Listener::start(&[&url, "news", "--reconnect"]);
    assert_eq!(listen.next(|| first.publish("news", "one").unwrap()), json!({"topic": "news", "value": "one"}));
    let _ = stop.send(());
    // The same port again, once the first server has let it go.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (_, second, _stop) = loop {
        if std::net::TcpListener::bind(addr).is_ok() {
            break serve(addr);
        }
        assert!(Instant::now() < deadline, "port {addr} stayed busy");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(listen.next(|| second.publish("news", "two").unwrap()), json!({"topic": "news", "value": "two"}));
    let err = listen.stderr_so_far();
    assert!(err.contains("# connected again to"), "{err}");
}

#[test]
fn an_unreachable_server_exits_1() {
    let (code, err) = Listener::start(&["ws://127.0.0.1:9/", "news"]).finish();
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot connect to ws://127.0.0.1:9/"), "{err}");
}
