//! Typed topics: a topic's name and the type of its messages in one value, so that what
//! is published is checked by the compiler against what the schema declares; and the
//! optional event envelope (a wall-clock time and a monotonic index around each event).

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use crate::typed_call::AsPeer;
use crate::{Error, Publisher};

/// A topic whose messages are `T`: declared with [`Router::topic`](crate::Router::topic)
/// (the schema then carries `T`'s schema as the payload), published with
/// [`Topic::publish`] or sent to one peer with [`Topic::notify`], both of which take a
/// `T` and nothing else.
///
/// ```ignore
/// pub const HEARTBEAT: Topic<Heartbeat> = Topic::new("device.heartbeat");
///
/// let router = Router::new().topic(HEARTBEAT, "Sent every second while the device runs.");
/// HEARTBEAT.publish(&server.publisher(), &Heartbeat { uptime_s: 3 })?;
/// ```
pub struct Topic<T: ?Sized> {
    name: Cow<'static, str>,
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Topic<T> {
    /// The topic named `name`; usable in a `const`.
    pub const fn new(name: &'static str) -> Self {
        Topic { name: Cow::Borrowed(name), _type: PhantomData }
    }

    /// A topic whose name is made at run time (`chat.room42`), for topics that share a
    /// type under a declared `prefix.*` pattern.
    pub fn named(name: impl Into<String>) -> Self {
        Topic { name: Cow::Owned(name.into()), _type: PhantomData }
    }

    /// The topic below this one: `Topic::<Msg>::new("chat").child("room42")` is
    /// `chat.room42`, with the same message type.
    pub fn child(&self, segment: &str) -> Self {
        Topic::named(format!("{}.{segment}", self.name))
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T: serde::Serialize + ?Sized> Topic<T> {
    /// Sends `value` to every connection subscribed to this topic; returns how many.
    pub fn publish(&self, publisher: &Publisher, value: &T) -> Result<usize, Error> {
        publisher.publish(&self.name, value)
    }

    /// Sends `value` to one peer, subscribed or not: a server notifying one client, or
    /// a client notifying its server (a topic the server handles with
    /// [`Router::on_notify`](crate::Router::on_notify)).
    pub fn notify(&self, peer: &impl AsPeer, value: &T) -> Result<(), Error> {
        peer.as_peer().notify(&self.name, value)
    }
}

impl<T: serde::Serialize> Topic<Event<T>> {
    /// Publishes `event` in an [`Event`] envelope stamped now; returns how many
    /// connections it was sent to.
    pub fn emit(&self, publisher: &Publisher, event: T) -> Result<usize, Error> {
        self.publish(publisher, &Event::new(event))
    }
}

impl<T: ?Sized> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic { name: self.name.clone(), _type: PhantomData }
    }
}

impl<T: ?Sized> std::fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Topic").field(&self.name).finish()
    }
}

impl<T: ?Sized> From<&str> for Topic<T> {
    fn from(name: &str) -> Self {
        Topic::named(name)
    }
}

impl<T: ?Sized> From<&Topic<T>> for Topic<T> {
    fn from(topic: &Topic<T>) -> Self {
        topic.clone()
    }
}

/// The event envelope: an event of type `T` with when it happened on the wall clock and
/// a monotonic index, as one flat object on the wire.
///
/// `T` is typically an enum tagged `kind` with its data under `context`, so the envelope
/// reads `{"when": .., "index": .., "kind": "heartbeat", "context": {..}}` and the
/// generated SDKs see a union discriminated by `kind`:
///
/// ```
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// #[serde(tag = "kind", content = "context", rename_all = "snake_case")]
/// enum DeviceEvent {
///     Started { by: String },
///     Stopped,
/// }
///
/// let e = volley::Event::new(DeviceEvent::Started { by: "ada".into() });
/// let json = serde_json::to_value(&e).unwrap();
/// assert_eq!(json["kind"], "started");
/// assert_eq!(json["context"]["by"], "ada");
/// assert!(json["when"].as_str().unwrap().ends_with('Z'));
/// ```
///
/// In the schema each envelope is its own type, named for its event: `Event<Alarm>` is
/// `AlarmEnvelope`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[schemars(
    rename = "{T}Envelope",
    description = "An event, with when it happened (`when`, UTC, RFC 3339) and a monotonic index (`index`, nanoseconds, strictly increasing)."
)]
pub struct Event<T> {
    /// When the event happened: UTC, RFC 3339 with nanoseconds (`2026-12-02T01:30:00.123456789Z`).
    pub when: String,
    /// Nanoseconds on a monotonic clock since the process started, strictly increasing
    /// across every event the process stamps: orders events and measures the time
    /// between them whatever the wall clock does.
    pub index: u64,
    /// The event.
    #[serde(flatten)]
    pub event: T,
}

impl<T> Event<T> {
    /// `event`, stamped now.
    pub fn new(event: T) -> Self {
        let when = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"));
        Event { when, index: monotonic_index(), event }
    }
}

/// The next event index: nanoseconds since the first call, and always above the last.
fn monotonic_index() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = u64::try_from(START.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_strictly_increase_across_threads() {
        let threads: Vec<_> = (0..4).map(|_| std::thread::spawn(|| (0..1000).map(|_| monotonic_index()).collect::<Vec<_>>())).collect();
        let mut all: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "no index was handed out twice");
    }

    #[test]
    fn child_topics_extend_the_name() {
        let chat: Topic<String> = Topic::new("chat");
        assert_eq!(chat.child("room42").name(), "chat.room42");
    }
}
