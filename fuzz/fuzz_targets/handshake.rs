//! Raw bytes as the HTTP request of a fresh TCP connection to a live volley server.
//!
//! Each input is written to a new connection (it may be garbage, a valid upgrade with
//! WebSocket frames behind it, a `GET /schema`, pipelined requests...), the write side is
//! then shut so the server sees the end of the request, and whatever comes back is read
//! until the server closes or a short timeout passes. The server must not die: on the
//! first input and every `CHECK_EVERY` inputs after it, a well-formed upgrade and an
//! `add(1, 2)` call on a new connection must still be answered `3`.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use volley::Encoding;

/// How often the liveness check runs (it costs about as much as a few inputs).
const CHECK_EVERY: u64 = 16;
/// How long to wait for the server's answer to one input in all.
const READ_BUDGET: Duration = Duration::from_millis(250);

/// A fresh connection. A failed connect is retried for a second before it counts as the
/// server having died: this many short connections can briefly run out of local ports.
fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let mut last = None;
    for _ in 0..50 {
        match TcpStream::connect(addr) {
            Ok(tcp) => return tcp,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot connect to the server at {addr}: {last:?}");
}

fuzz_target!(|data: &[u8]| {
    let h = volley_fuzz::harness();
    static INPUTS: AtomicU64 = AtomicU64::new(0);
    let n = INPUTS.fetch_add(1, Ordering::Relaxed);

    let mut tcp = connect(h.addr);
    let _ = tcp.set_nodelay(true);
    // The server may answer and close before it has read everything (a 400 for a
    // garbage request line): a failed write is not a finding.
    let _ = tcp.write_all(data);
    let _ = tcp.shutdown(Shutdown::Write);
    let started = Instant::now();
    let mut buf = [0u8; 16 << 10];
    loop {
        let left = READ_BUDGET.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let _ = tcp.set_read_timeout(Some(left));
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    drop(tcp);

    if n % CHECK_EVERY == 0 {
        let encoding = if (n / CHECK_EVERY) % 2 == 0 { Encoding::Json } else { Encoding::MsgPack };
        volley_fuzz::assert_alive(h, encoding);
    }
});
