//! Bytes on the wire, counted by a small TCP proxy on 127.0.0.1 that sits between a
//! client and its server. Counting on the TCP stream is the same for every system: it
//! includes WebSocket framing (headers, client masks) or tarpc's length prefixes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the proxied stream splits into messages, so the proxy can report the size of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// An HTTP upgrade, then RFC 6455 frames.
    WebSocket,
    /// A 4-byte big-endian length before each message (tarpc's default transport).
    LengthDelimited,
}

/// Size of one message on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameSize {
    /// Bytes of the message itself.
    pub payload: u64,
    /// Payload plus framing (WebSocket header and mask, or length prefix).
    pub total: u64,
}

/// Traffic seen in one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectionStats {
    /// Every byte, framing included.
    pub bytes: u64,
    /// Data messages (WebSocket text, binary and continuation frames; length-delimited messages).
    pub messages: u64,
    /// The first data message that started after the last [`Proxy::arm`].
    pub first_after_arm: Option<FrameSize>,
}

/// Traffic seen in both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WireStats {
    /// Client to server.
    pub up: DirectionStats,
    /// Server to client.
    pub down: DirectionStats,
}

#[derive(Default)]
struct Shared {
    stats: WireStats,
    want_first_up: bool,
    want_first_down: bool,
}

/// A counting proxy; it runs until the process exits.
pub struct Proxy {
    /// Where clients connect instead of the server.
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl Proxy {
    /// Starts a proxy on an ephemeral 127.0.0.1 port that forwards to `upstream`.
    pub async fn start(upstream: SocketAddr, framing: Framing) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let accept_shared = shared.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, framing, true, accept_shared.clone()));
                tokio::spawn(pump(sr, cw, framing, false, accept_shared.clone()));
            }
        });
        Ok(Proxy { addr, shared })
    }

    /// Marks the start of a measurement: the next data message in each direction is
    /// remembered as `first_after_arm`.
    pub fn arm(&self) {
        let mut s = self.shared.lock().unwrap();
        s.want_first_up = true;
        s.want_first_down = true;
        s.stats.up.first_after_arm = None;
        s.stats.down.first_after_arm = None;
    }

    /// The traffic counted so far.
    pub fn stats(&self) -> WireStats {
        self.shared.lock().unwrap().stats
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    framing: Framing,
    up: bool,
    shared: Arc<Mutex<Shared>>,
) {
    let mut parser = Parser::new(framing);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        {
            let mut s = shared.lock().unwrap();
            let Shared { stats, want_first_up, want_first_down } = &mut *s;
            let (dir, want) = if up { (&mut stats.up, want_first_up) } else { (&mut stats.down, want_first_down) };
            dir.bytes += n as u64;
            parser.feed(&buf[..n], &mut |size| {
                dir.messages += 1;
                if *want {
                    *want = false;
                    dir.first_after_arm = Some(size);
                }
            });
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Splits a byte stream into messages without buffering payloads.
struct Parser {
    framing: Framing,
    /// WebSocket only: still inside the HTTP upgrade.
    in_handshake: bool,
    /// Last bytes of the handshake seen, to find the blank line across reads.
    tail: u32,
    header: Vec<u8>,
    /// Payload bytes of the current message still to skip.
    skip: u64,
}

impl Parser {
    fn new(framing: Framing) -> Self {
        Parser { framing, in_handshake: framing == Framing::WebSocket, tail: 0, header: Vec::with_capacity(14), skip: 0 }
    }

    fn feed(&mut self, mut bytes: &[u8], on_message: &mut impl FnMut(FrameSize)) {
        while !bytes.is_empty() {
            if self.in_handshake {
                let b = bytes[0];
                bytes = &bytes[1..];
                self.tail = (self.tail << 8) | b as u32;
                if self.tail == u32::from_be_bytes(*b"\r\n\r\n") {
                    self.in_handshake = false;
                }
                continue;
            }
            if self.skip > 0 {
                let n = (self.skip as usize).min(bytes.len());
                self.skip -= n as u64;
                bytes = &bytes[n..];
                continue;
            }
            self.header.push(bytes[0]);
            bytes = &bytes[1..];
            if let Some((header_len, payload, is_data)) = self.header_complete() {
                debug_assert_eq!(header_len, self.header.len());
                self.header.clear();
                self.skip = payload;
                if is_data {
                    on_message(FrameSize { payload, total: payload + header_len as u64 });
                }
            }
        }
    }

    /// `Some((header length, payload length, is a data message))` once the header is whole.
    fn header_complete(&self) -> Option<(usize, u64, bool)> {
        let h = &self.header;
        match self.framing {
            Framing::LengthDelimited => {
                (h.len() == 4).then(|| (4, u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64, true))
            }
            Framing::WebSocket => {
                if h.len() < 2 {
                    return None;
                }
                let masked = h[1] & 0x80 != 0;
                let len7 = h[1] & 0x7f;
                let ext = match len7 {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                };
                let need = 2 + ext + if masked { 4 } else { 0 };
                if h.len() < need {
                    return None;
                }
                let payload = match len7 {
                    126 => u16::from_be_bytes([h[2], h[3]]) as u64,
                    127 => u64::from_be_bytes(h[2..10].try_into().unwrap()),
                    n => n as u64,
                };
                let opcode = h[0] & 0x0f;
                Some((need, payload, opcode <= 2))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_websocket_frames_after_the_handshake() {
        let mut p = Parser::new(Framing::WebSocket);
        let mut seen = Vec::new();
        let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        // masked text frame with 3 payload bytes, then an unmasked 200-byte binary frame
        bytes.extend_from_slice(&[0x81, 0x83, 1, 2, 3, 4, b'a', b'b', b'c']);
        bytes.extend_from_slice(&[0x82, 126, 0, 200]);
        bytes.extend(std::iter::repeat_n(0u8, 200));
        for chunk in bytes.chunks(5) {
            p.feed(chunk, &mut |s| seen.push(s));
        }
        assert_eq!(seen, vec![FrameSize { payload: 3, total: 9 }, FrameSize { payload: 200, total: 204 }]);
    }
}
