//! `volley console` driven through a pseudo-terminal, as a person types at it, against
//! live example servers.

mod live;

use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

/// The end of the `… ` prompt for stream items as rexpect reads it (it takes each byte
/// of the terminal's output as one character; `…` ends with byte 0xA6).
const ITEM_PROMPT: &str = "\u{a6} ";

/// Serves `server` on a free port until the returned sender fires (or drops).
fn serve_until_stopped(server: volley::Server) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let server = server.drain_timeout(std::time::Duration::from_millis(200));
            server
                .serve_with_shutdown(listener, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });
    (format!("ws://{}/", addr_rx.recv().unwrap()), stop_tx)
}

/// Starts the console on `url` in a pseudo-terminal, its history in a scratch folder.
fn console(url: &str, name: &str) -> PtySession {
    let dir = live::scratch(name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_volley"));
    cmd.args(["console", url, "--history"]).arg(dir.join("history")).env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(10_000)).unwrap();
    p.exp_string("volley> ").unwrap();
    p
}

/// Types `line` and waits for the console to answer with `expected`.
fn answer(p: &mut PtySession, line: &str, expected: &str) {
    p.send_line(line).unwrap();
    if let Err(e) = p.exp_string(expected) {
        panic!("after `{line}`, expected `{expected}`: {e}");
    }
}

#[test]
fn calls_errors_completion_help_and_the_server_going_away() {
    let (url, stop) = serve_until_stopped(volley::Server::new(calculator::router()));
    let mut p = console(&url, "console-calc");

    answer(&mut p, r#"add {"a": 40, "b": 2}"#, "42");
    answer(&mut p, "add a=100 b=23", "123");
    // A misspelt method is answered with the right one; nothing is sent.
    answer(&mut p, "ad a=1 b=2", "did you mean `add`?");
    // Parameters that do not fit the schema are refused before sending, naming the field.
    answer(&mut p, "add a=1 c=2", "unknown parameter `c`");
    p.exp_string("missing required parameter `b`").unwrap();
    answer(&mut p, "add a=x b=2", "bad parameters for `add` (nothing was sent)");
    p.exp_string("`a`: expected integer, got string").unwrap();
    // A server error keeps the console going.
    answer(&mut p, "divide a=1 b=0", "APPLICATION (1000): division by zero");
    p.exp_string(r#""kind":"DivisionByZero""#).unwrap();

    // Tab completes a method's name, then its parameters.
    p.send("calc.ev").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("calc.evaluate").unwrap();
    p.send_control('u').unwrap();
    p.send("add a=5 ").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("b=").unwrap();
    answer(&mut p, "6", "11");

    answer(&mut p, "help", "subscribe NAME...");
    answer(&mut p, "describe add", "AddError");
    p.exp_string("volley> ").unwrap();

    // The server stopping ends the console with status 1 and says why.
    stop.send(()).unwrap();
    p.exp_string("the server closed the connection").unwrap();
    p.exp_eof().unwrap();
    assert!(matches!(p.process().wait(), Ok(WaitStatus::Exited(_, 1))));
}

#[test]
fn streams_subscriptions_and_notifications_above_the_prompt() {
    let server = volley::Server::new(streams::router());
    let publisher = server.publisher();
    publisher.set_state("jobs", &serde_json::json!({})).unwrap();
    let (url, _stop) = serve_until_stopped(server);
    let mut p = console(&url, "console-streams");

    // A server stream prints each item as it arrives.
    p.send_line("countdown from=3 interval_ms=0").unwrap();
    p.exp_regex(r"3\s+2\s+1\s").unwrap();

    // A client stream reads its items at `… ` until an empty line.
    answer(&mut p, "sum", ITEM_PROMPT);
    answer(&mut p, "1", ITEM_PROMPT);
    answer(&mut p, "2.5", ITEM_PROMPT);
    answer(&mut p, "", "3.5");
    // A bidirectional stream prints the replies as they come.
    answer(&mut p, "chat", ITEM_PROMPT);
    answer(&mut p, r#"{"from": "ann", "text": "hi"}"#, r#""text":"ann: HI""#);
    answer(&mut p, ".end", "volley> ");

    // Ctrl-C cancels the call in flight, not the console.
    p.send_line("sleep ms=60000").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    answer(&mut p, "stats", "\"stopped\"");

    // Subscriptions: a state prints its whole document, a topic each message, as they
    // arrive while the prompt waits.
    answer(&mut p, "subscribe jobs.finished", "subscribed to `jobs.finished`");
    // The state's first document comes before the subscription's answer.
    answer(&mut p, "subscribe jobs", "[state jobs] {}");
    p.exp_string("volley> ").unwrap();
    publisher.publish("jobs.finished", &serde_json::json!({"name": "build", "steps": 2, "checksum": 7})).unwrap();
    p.exp_string(r#"[jobs.finished] {"name":"build","steps":2,"checksum":7}"#).unwrap();
    publisher.set_state("jobs", &serde_json::json!({"build": 50})).unwrap();
    p.exp_string(r#"[state jobs] {"build":50}"#).unwrap();
    // The prompt is still there, and still takes calls.
    answer(&mut p, "sleep ms=1", "1");
    answer(&mut p, "exit", "");
    p.exp_eof().unwrap();
    assert!(matches!(p.process().wait(), Ok(WaitStatus::Exited(_, 0))));
}
