//! A connection's session of a machine, as its event handlers see it: where it is, and
//! the transitions and data events it pushes to the client.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;

use super::dispatch::{self, Shape};
use super::{State, Status};
use crate::connection::{ConnShared, Out, Peer};
use crate::protocol::Frame;
use crate::typed_call::AsPeer;
use crate::{Context, Error, ErrorCode};

/// Pushes a session may have queued and not yet written before its handler waits for
/// the socket: a client that does not read holds up its own session's handler, and
/// the server holds at most this many pushes for it.
const UNWRITTEN_PUSHES: usize = 16;

/// One connection's session of a machine, given to each event handler with the event's
/// data; `X` is the machine's data-event type. Derefs to the call's [`Context`].
pub struct Session<X = ()> {
    ctx: Context,
    shape: Arc<Shape>,
    _transmit: PhantomData<fn(&X)>,
}

impl<X> Session<X> {
    pub(super) fn new(ctx: Context, shape: Arc<Shape>) -> Self {
        Session { ctx, shape, _transmit: PhantomData }
    }

    /// The machine's name.
    pub fn machine(&self) -> &str {
        &self.shape.name
    }

    /// The session's current state.
    pub fn state(&self) -> &'static str {
        self.shape.current(&self.ctx)
    }

    /// The context of the event's call.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Moves the session to `to` and pushes the transition to the client:
    /// `{"state": .., "events": [..], "status": .., "data": ..}` on the topic named for
    /// the machine, before the event's result. Resolves once the push is queued (and,
    /// every few pushes, written: a client that does not read holds up its session).
    ///
    /// Fails with `TRANSITION_NOT_ALLOWED`, changing nothing, when `to` is not a target
    /// of the current state or not a state of this machine; with `UNAVAILABLE` when
    /// the connection has closed.
    pub async fn transition<D: Serialize>(&self, to: &State<D>, status: Status, data: D) -> Result<(), Error> {
        let conn = &self.ctx.peer().0;
        let data = encode_json(&data)?;
        {
            let mut sessions = conn.machines.lock().unwrap();
            let from = sessions.get(&*self.shape.name).copied().unwrap_or_else(|| self.shape.initial());
            let allowed = self.shape.state(from).is_some_and(|s| s.targets.as_ref().is_none_or(|t| t.contains(&to.name())));
            if !allowed || self.shape.state(to.name()).is_none() {
                return Err(dispatch::transition_refused(&self.shape, from, to.name()));
            }
            let push = serde_json::json!({ "state": to.name(), "events": self.shape.events_of(to.name()), "status": status, "data": data });
            self.push(conn, &push)?;
            sessions.insert(self.shape.name.clone(), to.name());
        }
        self.paced(conn).await
    }

    /// Pushes data to the client without a transition: `{"status": .., "data": ..}`
    /// on the topic named for the machine. Resolves as [`transition`](Self::transition)
    /// does; fails with `UNAVAILABLE` when the connection has closed.
    pub async fn transmit(&self, status: Status, data: X) -> Result<(), Error>
    where
        X: Serialize,
    {
        let conn = &self.ctx.peer().0;
        let push = serde_json::json!({ "status": status, "data": encode_json(&data)? });
        {
            // Under the sessions' lock, so pushes keep the order of the changes they report.
            let _sessions = conn.machines.lock().unwrap();
            self.push(conn, &push)?;
        }
        self.paced(conn).await
    }

    fn push(&self, conn: &ConnShared, value: &serde_json::Value) -> Result<(), Error> {
        let frame = Frame::Notify { topic: self.shape.name.to_string(), value: conn.encode(value)? };
        if conn.closed.is_cancelled() || conn.out.send(Out::Frame(frame)).is_err() {
            return Err(closed(&self.shape.name));
        }
        Ok(())
    }

    /// Every [`UNWRITTEN_PUSHES`] pushes, waits until the socket has taken them.
    async fn paced(&self, conn: &Arc<ConnShared>) -> Result<(), Error> {
        if conn.machine_pushes.fetch_add(1, Ordering::Relaxed) % UNWRITTEN_PUSHES != UNWRITTEN_PUSHES - 1 {
            return Ok(());
        }
        let (tell, written) = tokio::sync::oneshot::channel();
        conn.out.send(Out::Written(tell)).map_err(|_| closed(&self.shape.name))?;
        tokio::select! {
            r = written => r.map_err(|_| closed(&self.shape.name)),
            _ = conn.closed.cancelled() => Err(closed(&self.shape.name)),
        }
    }
}

fn encode_json<T: Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::internal(format!("the session's data does not serialize: {e}")))
}

fn closed(machine: &str) -> Error {
    Error::new(ErrorCode::UNAVAILABLE, format!("the connection is closed: the session of `{machine}` cannot push"))
}

impl<X> std::ops::Deref for Session<X> {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.ctx
    }
}

impl<X> AsPeer for Session<X> {
    fn as_peer(&self) -> &Peer {
        self.ctx.peer()
    }
}

impl<X> std::fmt::Debug for Session<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("machine", &self.shape.name).field("state", &self.state()).finish()
    }
}
