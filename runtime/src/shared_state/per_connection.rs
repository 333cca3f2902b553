//! States each connection has its own document of (PROTOCOL.md section 11): a shopping
//! cart, a console's view, a user's session. Handlers set them through the connection
//! ([`ConnectionState::set`]); a subscribed client mirrors its own document with the
//! same `STATE` patches as a server-wide state. When the changes go out is the state's
//! [`Flush`]: each at once, at most one patch per period, or only on
//! [`ConnectionState::flush`].

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::connection::{ConnShared, Out};
use crate::typed_call::AsPeer;
use crate::{Error, ErrorCode};

/// When the changes of a per-connection state are sent to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// Every change is sent as it is made.
    Immediate,
    /// Changes are coalesced: the first change after a quiet spell starts the period,
    /// and at its end one patch carries everything changed since. At most one patch per
    /// period, however often the document changes.
    Every(Duration),
    /// Only [`ConnectionState::flush`] sends what changed.
    Manual,
}

/// One connection's document of a state, and what its client was last sent.
#[derive(Debug)]
pub(crate) struct OwnDoc {
    current: Value,
    /// `None` until the client has been sent the document.
    sent: Option<Value>,
    /// A flush is scheduled (`Flush::Every`).
    armed: bool,
}

/// A state each connection has its own document of, holding a `T`: declared with
/// [`Router::connection_state`](crate::Router::connection_state), set and read from a
/// handler's [`Context`](crate::Context) (or any [`Peer`](crate::Peer) of the server).
///
/// ```ignore
/// pub const CART: ConnectionState<Cart> = ConnectionState::new("cart");
///
/// let router = Router::new().connection_state(CART, "This shopper's cart.", Flush::Every(Duration::from_millis(50)));
/// // In a handler:
/// CART.update(&ctx, |cart| cart.items.push(item))?;
/// ```
pub struct ConnectionState<T> {
    name: Cow<'static, str>,
    _type: PhantomData<fn(&T)>,
}

impl<T> ConnectionState<T> {
    /// The state named `name`; usable in a `const`.
    pub const fn new(name: &'static str) -> Self {
        ConnectionState { name: Cow::Borrowed(name), _type: PhantomData }
    }

    /// The state's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T> Clone for ConnectionState<T> {
    fn clone(&self) -> Self {
        ConnectionState { name: self.name.clone(), _type: PhantomData }
    }
}

impl<T> std::fmt::Debug for ConnectionState<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ConnectionState").field(&self.name).finish()
    }
}

impl<T> From<&str> for ConnectionState<T> {
    fn from(name: &str) -> Self {
        ConnectionState { name: Cow::Owned(name.to_owned()), _type: PhantomData }
    }
}

impl<T: serde::Serialize + serde::de::DeserializeOwned> ConnectionState<T> {
    /// Sets this connection's document to `value`; sent as its [`Flush`] says.
    ///
    /// Fails when the state is not declared per connection on the router, when the
    /// value does not serialize, or when the connection has closed.
    pub fn set(&self, on: &impl AsPeer, value: &T) -> Result<(), Error> {
        let value = self.to_json(value)?;
        self.change(on, |_| Ok((value, ())))
    }

    /// Changes this connection's document in place (starting from `T::default()` when
    /// it has none yet) and returns what `f` returns. Atomic: two updates of one
    /// connection's document never lose either's change. `f` runs under the lock of
    /// the connection's states, so it must not use them itself.
    pub fn update<R>(&self, on: &impl AsPeer, f: impl FnOnce(&mut T) -> R) -> Result<R, Error>
    where
        T: Default,
    {
        self.change(on, |current| {
            let mut value = current.map(|v| self.from_json(v)).transpose()?.unwrap_or_default();
            let r = f(&mut value);
            Ok((self.to_json(&value)?, r))
        })
    }

    fn to_json(&self, value: &T) -> Result<Value, Error> {
        serde_json::to_value(value).map_err(|e| Error::internal(format!("state `{}` does not serialize: {e}", self.name)))
    }

    fn from_json(&self, value: &Value) -> Result<T, Error> {
        T::deserialize(value).map_err(|e| Error::internal(format!("state `{}` does not read back: {e}", self.name)))
    }

    /// Replaces the document with what `f` makes of the current one, under one lock,
    /// and sends the change as the state's [`Flush`] says.
    fn change<R>(&self, on: &impl AsPeer, f: impl FnOnce(Option<&Value>) -> Result<(Value, R), Error>) -> Result<R, Error> {
        let conn = &on.as_peer().0;
        let flush = declared(conn, &self.name)?;
        let mut docs = conn.own_states.lock().unwrap();
        let (value, r) = f(docs.get(self.name.as_ref()).map(|d| &d.current))?;
        if !docs.contains_key(self.name.as_ref()) {
            docs.insert(self.name.to_string(), OwnDoc { current: Value::Null, sent: None, armed: false });
        }
        let doc = docs.get_mut(self.name.as_ref()).expect("just inserted");
        doc.current = value;
        match flush {
            Flush::Immediate => send(conn, &self.name, doc),
            Flush::Every(period) if !doc.armed => {
                doc.armed = true;
                let (conn, name) = (conn.clone(), self.name.to_string());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = conn.closed.cancelled() => {}
                        _ = tokio::time::sleep(period) => {
                            let mut docs = conn.own_states.lock().unwrap();
                            if let Some(doc) = docs.get_mut(&name) {
                                doc.armed = false;
                                send(&conn, &name, doc);
                            }
                        }
                    }
                });
            }
            Flush::Every(_) | Flush::Manual => {}
        }
        Ok(r)
    }

    /// This connection's document, if it has one.
    pub fn get(&self, on: &impl AsPeer) -> Result<Option<T>, Error> {
        let conn = &on.as_peer().0;
        declared(conn, &self.name)?;
        let docs = conn.own_states.lock().unwrap();
        docs.get(self.name.as_ref()).map(|d| self.from_json(&d.current)).transpose()
    }

    /// Sends what changed now, whatever the state's [`Flush`], and resolves once the
    /// patch (if the client is subscribed and something changed) has been written to
    /// the socket. Fails with `UNAVAILABLE` when the connection is closed, or closes
    /// before the patch is written.
    pub async fn flush(&self, on: &impl AsPeer) -> Result<(), Error> {
        let conn = on.as_peer().0.clone();
        declared(&conn, &self.name)?;
        let written = {
            let mut docs = conn.own_states.lock().unwrap();
            if let Some(doc) = docs.get_mut(self.name.as_ref()) {
                send(&conn, &self.name, doc);
            }
            let (tell, written) = tokio::sync::oneshot::channel();
            conn.out.send(Out::Written(tell)).map_err(|_| closed(&self.name))?;
            written
        };
        written.await.map_err(|_| closed(&self.name))
    }
}

/// The state's flush mode, or why it cannot be used on this connection.
fn declared(conn: &ConnShared, name: &str) -> Result<Flush, Error> {
    if conn.closed.is_cancelled() {
        return Err(closed(name));
    }
    conn.routes
        .connection_states
        .get(name)
        .copied()
        .ok_or_else(|| Error::internal(format!("`{name}` is not a per-connection state of this router (Router::connection_state)")))
}

fn closed(name: &str) -> Error {
    Error::new(ErrorCode::UNAVAILABLE, format!("the connection is closed: state `{name}` cannot be sent"))
}

/// Sends the client what changed since it was last sent its document, if it is
/// subscribed.
fn send(conn: &ConnShared, name: &str, doc: &mut OwnDoc) {
    if !conn.subscriptions.lock().unwrap().states.contains(name) {
        return;
    }
    let patch = match &doc.sent {
        Some(old) => Value::Array(super::diff(old, &doc.current)),
        None => super::replace_all(&doc.current),
    };
    if patch.as_array().is_some_and(Vec::is_empty) {
        return;
    }
    crate::topics::enqueue_state(conn, name, &patch);
    doc.sent = Some(doc.current.clone());
}

/// The client subscribed to `name`: true if it is a per-connection state, whose
/// document (if it has one) is then sent in full.
pub(crate) fn subscribed(conn: &Arc<ConnShared>, name: &str) -> bool {
    if !conn.routes.connection_states.contains_key(name) {
        return false;
    }
    let mut docs = conn.own_states.lock().unwrap();
    conn.subscriptions.lock().unwrap().states.insert(name.to_owned());
    if let Some(doc) = docs.get_mut(name) {
        crate::topics::enqueue_state(conn, name, &super::replace_all(&doc.current));
        doc.sent = Some(doc.current.clone());
    }
    true
}

/// The full document of a per-connection state whose patch was dropped for a full
/// queue, to send again; `None` if `name` is not one.
pub(crate) fn resend(conn: &ConnShared, name: &str) -> Option<Value> {
    let mut docs = conn.own_states.lock().unwrap();
    let doc = docs.get_mut(name)?;
    doc.sent = Some(doc.current.clone());
    Some(super::replace_all(&doc.current))
}
