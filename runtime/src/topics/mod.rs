//! Notifications on named topics, and the subscriptions that route them (PROTOCOL.md
//! section 10). A slow peer never makes this end queue without bound: past the limit,
//! notifications are dropped and counted, and the peer is told with a `DATA_LOSS`
//! warning once its queue drains.

pub(crate) mod inbound;
mod typed;

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

use crate::connection::{ConnShared, Out};
use crate::protocol::{ErrorBody, ErrorCode, Frame, Payload, Role};

pub use typed::{Event, Topic};

/// What a connection subscribed to: sets, so subscribing, unsubscribing and matching
/// a topic cost the same however many names a connection holds (patterns are matched
/// one by one, and are few in practice).
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    /// Exact topic names.
    names: std::collections::HashSet<String>,
    /// `prefix.*` and `*` patterns.
    patterns: std::collections::BTreeSet<String>,
    /// Shared states.
    pub states: std::collections::HashSet<String>,
}

/// Subscriptions one connection may hold, topics and states together; a subscribe that
/// would go past it is refused with `INVALID_PARAMS`.
pub(crate) const MAX_SUBSCRIPTIONS: usize = 65_536;

impl Subscriptions {
    /// True if `topic` matches a subscription (`chat.*` matches `chat.room1`).
    pub fn wants_topic(&self, topic: &str) -> bool {
        self.names.contains(topic) || self.patterns.iter().any(|p| matches(p, topic))
    }

    /// True when nothing is subscribed.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.patterns.is_empty() && self.states.is_empty()
    }

    /// Number of subscriptions held.
    pub fn len(&self) -> usize {
        self.names.len() + self.patterns.len() + self.states.len()
    }

    /// Adds a topic name or pattern (a set: adding one twice keeps one).
    pub fn add_topic(&mut self, topic: String) {
        if topic == "*" || topic.ends_with(".*") {
            self.patterns.insert(topic);
        } else {
            self.names.insert(topic);
        }
    }

    /// True if exactly this name or pattern is subscribed.
    pub fn has_topic(&self, topic: &str) -> bool {
        self.names.contains(topic) || self.patterns.contains(topic)
    }

    /// Removes a topic name or pattern.
    pub fn remove_topic(&mut self, topic: &str) {
        if !self.names.remove(topic) {
            self.patterns.remove(topic);
        }
    }
}

/// `pattern` is a name or a `prefix.*`.
pub(crate) fn matches(pattern: &str, topic: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => topic.len() > prefix.len() + 1 && topic.starts_with(prefix) && topic.as_bytes()[prefix.len()] == b'.',
        None => pattern == topic || pattern == "*",
    }
}

/// A notification or state patch received from the peer.
#[derive(Debug, Clone)]
pub enum Notification {
    /// `NOTIFY`: a message on a topic.
    Topic {
        /// The topic.
        topic: String,
        /// The message, as JSON.
        value: serde_json::Value,
    },
    /// `STATE`: a JSON Patch for a shared state.
    State {
        /// The state's name.
        name: String,
        /// The patch (RFC 6902), as JSON.
        patch: serde_json::Value,
    },
    /// An `ERROR` or `WARNING` frame on id 0: something about the connection's traffic.
    /// Also how this end reports notifications it dropped because its receiver did not
    /// keep up: a `DATA_LOSS` warning whose data is `{"dropped": n}`, delivered ahead of
    /// the next notification there is room for.
    Connection {
        /// True for `WARNING`.
        warning: bool,
        /// The code.
        code: ErrorCode,
        /// The message.
        message: String,
        /// The frame's data, as JSON.
        data: Option<serde_json::Value>,
    },
}

/// Where a client's incoming notifications go: a bounded channel.
pub(crate) type NotifySink = mpsc::Sender<Notification>;

/// Queues a notification for the peer, or drops and counts it when the queue is full.
pub(crate) fn enqueue(conn: &ConnShared, frame: Frame) {
    if conn.queued_notifications.fetch_add(1, Ordering::Relaxed) < conn.limits.notify_queue {
        let _ = conn.out.send(Out::Notification(frame));
    } else {
        conn.queued_notifications.fetch_sub(1, Ordering::Relaxed);
        conn.dropped_notifications.fetch_add(1, Ordering::Relaxed);
    }
}

/// Queues a state patch, or, when the queue is full, drops it and marks the state stale
/// so the peer gets a full replacement once the queue drains.
pub(crate) fn enqueue_state(conn: &ConnShared, name: &str, patch: &serde_json::Value) {
    let mut stale = conn.stale_states.lock().unwrap();
    if stale.contains(name) {
        return; // a full replacement is coming anyway
    }
    if conn.queued_notifications.fetch_add(1, Ordering::Relaxed) < conn.limits.notify_queue {
        if let Ok(patch) = conn.encode(patch) {
            let _ = conn.out.send(Out::Notification(Frame::State { name: name.to_owned(), patch }));
            return;
        }
    }
    conn.queued_notifications.fetch_sub(1, Ordering::Relaxed);
    stale.insert(name.to_owned());
}

/// After a flush: if notifications were dropped and the queue has drained, tell the peer;
/// states whose patches were dropped are sent again in full.
pub(crate) fn after_flush(conn: &ConnShared) {
    if conn.queued_notifications.load(Ordering::Relaxed) == 0 {
        let stale = std::mem::take(&mut *conn.stale_states.lock().unwrap());
        if !stale.is_empty() {
            let docs = conn.routes.shared_states.docs.lock().unwrap();
            for name in stale {
                if let Some(replacement) = crate::shared_state::resend(conn, &name) {
                    enqueue_state(conn, &name, &replacement);
                } else if let Some(doc) = docs.get(&name) {
                    enqueue_state(conn, &name, &crate::shared_state::replace_all(doc));
                }
            }
        }
        let dropped = conn.dropped_notifications.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let data = conn.encode(&serde_json::json!({ "dropped": dropped })).ok();
            conn.refuse(Frame::Warning {
                id: 0,
                warning: ErrorBody { code: ErrorCode::DATA_LOSS, message: "notifications dropped".into(), data },
            });
        }
    }
}

/// A connection-level frame from the peer.
pub(crate) fn on_connection_frame(conn: &std::sync::Arc<ConnShared>, frame: Frame) {
    let frame = match frame {
        Frame::Notify { topic, value } if conn.role == Role::Server => return inbound::receive(conn, topic, value),
        other => other,
    };
    let json = |p: &Payload| conn.info.encoding.to_json(p.as_bytes()).unwrap_or(serde_json::Value::Null);
    let n = match &frame {
        Frame::Notify { topic, value } => Notification::Topic { topic: topic.clone(), value: json(value) },
        Frame::State { name, patch } => Notification::State { name: name.clone(), patch: json(patch) },
        Frame::Error { error, .. } => {
            tracing::warn!(conn = conn.info.id, code = %error.code, "peer reports: {}", error.message);
            Notification::Connection { warning: false, code: error.code, message: error.message.clone(), data: error.data.as_ref().map(json) }
        }
        Frame::Warning { warning, .. } => {
            tracing::info!(conn = conn.info.id, code = %warning.code, "peer warns: {}", warning.message);
            Notification::Connection { warning: true, code: warning.code, message: warning.message.clone(), data: warning.data.as_ref().map(json) }
        }
        _ => return,
    };
    if let Some(sink) = &conn.routes.on_notify {
        deliver(sink, &conn.dropped_incoming, n);
    }
}

/// Hands a notification to the local receiver. Bounded: a receiver that does not keep up
/// loses notifications, not memory, and is told how many with a `DATA_LOSS` warning ahead
/// of the next one there is room for.
fn deliver(sink: &NotifySink, dropped: &AtomicUsize, n: Notification) {
    let missed = dropped.load(Ordering::Relaxed);
    if missed == 0 {
        if sink.try_send(n).is_err() {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
        return;
    }
    match sink.try_reserve_many(2) {
        Ok(mut permits) => {
            let missed = dropped.swap(0, Ordering::Relaxed);
            let notice = Notification::Connection {
                warning: true,
                code: ErrorCode::DATA_LOSS,
                message: format!("{missed} notifications dropped: the receiver did not keep up"),
                data: Some(serde_json::json!({ "dropped": missed })),
            };
            for n in [notice, n] {
                if let Some(permit) = permits.next() {
                    permit.send(n);
                }
            }
        }
        Err(_) => {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
