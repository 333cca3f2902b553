//! The writer: drains everything queued, then flushes once, so a burst of replies costs
//! one write instead of one per frame.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::{Sink, SinkExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{ConnShared, Out};
use crate::protocol::Encoding;

/// Frames encoded per flush at most, so one flush never holds the queue for long.
const MAX_BATCH: usize = 512;

pub(super) async fn run<W>(mut sink: W, mut rx: mpsc::UnboundedReceiver<Out>, conn: Arc<ConnShared>)
where
    W: Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let encoding = conn.info.encoding;
    let mut permits = Vec::new();
    let mut buf = Vec::with_capacity(256);
    'outer: while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(out) = next.take() {
            let frame = match out {
                Out::Close => break 'outer,
                Out::Frame(f) => f,
                Out::Final(f, permit) => {
                    permits.extend(permit);
                    f
                }
                Out::Notice(f) => {
                    conn.queued_notices.fetch_sub(1, Ordering::Relaxed);
                    f
                }
                Out::Notification(f) => {
                    conn.queued_notifications.fetch_sub(1, Ordering::Relaxed);
                    f
                }
            };
            buf.clear();
            encoding.encode_frame(&frame, &mut buf);
            let msg = message(encoding, &buf);
            if sink.feed(msg).await.is_err() {
                break 'outer;
            }
            n += 1;
            if n < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
        crate::topics::after_flush(&conn);
        permits.clear();
    }
    let _ = sink.close().await;
    conn.shut("the connection closed");
}

fn message(encoding: Encoding, bytes: &[u8]) -> Message {
    match encoding {
        Encoding::MsgPack => Message::Binary(bytes::Bytes::copy_from_slice(bytes)),
        Encoding::Json => {
            // The JSON encoder only writes valid UTF-8 (escaped strings and payloads that
            // were valid JSON text), so this check never fails in practice.
            match String::from_utf8(bytes.to_vec()) {
                Ok(s) => Message::Text(Utf8Bytes::from(s)),
                Err(_) => Message::Binary(bytes::Bytes::copy_from_slice(bytes)),
            }
        }
    }
}
