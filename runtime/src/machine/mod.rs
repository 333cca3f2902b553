//! State-machine sessions (PROTOCOL.md section 14), after automata-ws: a machine has
//! states, each with the events it accepts and the states it may go to; every
//! connection has its own session of each machine, which starts in the first state.
//!
//! A client sends an event as a unary call of `<machine>.<event>` with `{"data": ..}`;
//! the current state's handler runs (a session's events one at a time, in arrival
//! order) and may [`Session::transition`] to another state or [`Session::transmit`]
//! data, both pushed to the client as notifications on the topic `<machine>`, in
//! automata-ws's shapes. The call's result is the handler's value.
//!
//! ```
//! use volley::machine::{Machine, Session, State, Status};
//! use volley::{Error, Router};
//!
//! pub const RED: State = State::new("red");
//! pub const GREEN: State<u32> = State::new("green");
//!
//! let light = Machine::new("light", "A traffic light.")
//!     .state(RED, "Cars wait.", |s| {
//!         s.targets([GREEN.name()]).event("go", "Let cars through for `data` seconds.", |session: Session, secs: u32| async move {
//!             session.transition(&GREEN, Status::OK, secs).await?;
//!             Ok::<_, Error>(())
//!         })
//!     })
//!     .state(GREEN, "Cars go; `data` is for how long.", |s| {
//!         s.targets([RED.name()]).event("stop", "Stop the cars.", |session: Session, _: ()| async move {
//!             session.transition(&RED, Status::OK, ()).await
//!         })
//!     });
//! let router = Router::new().machine(light);
//! let doc = router.schema();
//! assert_eq!(doc.machines[0].states[0].name, "red");
//! assert_eq!(doc.machines[0].states[0].targets, Some(vec!["green".to_owned()]));
//! ```

mod dispatch;
mod session;

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use session::Session;

pub(crate) use dispatch::{current_state_method, event_methods};

use crate::method::{BoxedOutcome, Outcome};
use crate::protocol::Payload;
use crate::{Context, Error};

/// A state of a machine, and the type of the data a transition into it carries
/// (`()` for none). A `const`, used to declare the state ([`Machine::state`]) and to
/// go to it ([`Session::transition`]), which then takes only a `D`.
pub struct State<D = ()> {
    name: &'static str,
    _data: PhantomData<fn(&D)>,
}

impl<D> State<D> {
    /// The state named `name`: unique in its machine.
    pub const fn new(name: &'static str) -> Self {
        State { name, _data: PhantomData }
    }

    /// The state's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<D> Clone for State<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D> Copy for State<D> {}

impl<D> std::fmt::Debug for State<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("State").field(&self.name).finish()
    }
}

/// The HTTP-like status pushed with a transition or a data event: 2xx went well, 4xx
/// the client's input was refused, 5xx the server failed, as automata-ws's
/// `EventStatus`. Any number from 100 to 599 may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Status(pub u16);

impl Status {
    /// 100: the work goes on.
    pub const CONTINUE: Status = Status(100);
    /// 200: done.
    pub const OK: Status = Status(200);
    /// 201: something was created.
    pub const CREATED: Status = Status(201);
    /// 202: accepted, to be done later.
    pub const ACCEPTED: Status = Status(202);
    /// 204: done, nothing to say.
    pub const NO_CONTENT: Status = Status(204);
    /// 400: the event's data was refused.
    pub const BAD_REQUEST: Status = Status(400);
    /// 401: who the client is was not established.
    pub const UNAUTHORIZED: Status = Status(401);
    /// 403: the client may not do that.
    pub const FORBIDDEN: Status = Status(403);
    /// 404: what the event named does not exist.
    pub const NOT_FOUND: Status = Status(404);
    /// 409: the event conflicts with the session's situation.
    pub const CONFLICT: Status = Status(409);
    /// 429: too many attempts.
    pub const TOO_MANY_REQUESTS: Status = Status(429);
    /// 500: the server failed.
    pub const INTERNAL_ERROR: Status = Status(500);
    /// 503: not available now.
    pub const UNAVAILABLE: Status = Status(503);
}

/// An event handler with its data and result types erased: the session's context and
/// the call's params in, the encoded result out.
type EventHandler = dyn Fn(Context, Arc<dispatch::Shape>, Payload) -> BoxedOutcome + Send + Sync;

/// A schema, computed when the router's document is.
type SchemaThunk = fn(&mut SchemaGenerator) -> Schema;

/// One event of one state.
#[derive(Clone)]
pub(crate) struct EventDef {
    name: String,
    description: String,
    data: SchemaThunk,
    result: SchemaThunk,
    handler: Arc<EventHandler>,
}

/// One state of a machine.
#[derive(Clone)]
pub(crate) struct StateDef {
    name: &'static str,
    description: String,
    data: SchemaThunk,
    targets: Option<Vec<&'static str>>,
    events: Vec<EventDef>,
}

/// A state machine whose data events ([`Session::transmit`]) carry `X`: its states,
/// the first declared being the one every session starts in. Registered with
/// [`Router::machine`](crate::Router::machine), which checks it (unique state names,
/// unique event names in a state, targets that exist).
pub struct Machine<X = ()> {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) transmit: SchemaThunk,
    pub(crate) states: Vec<StateDef>,
    _transmit: PhantomData<fn(&X)>,
}

impl Machine<()> {
    /// A machine named `name` (its events are called `<name>.<event>`), whose data
    /// events carry no data; [`Machine::transmits`] gives them a type.
    pub fn new(name: &str, description: &str) -> Self {
        Machine { name: name.to_owned(), description: description.to_owned(), transmit: schema_of::<()>, states: Vec::new(), _transmit: PhantomData }
    }

    /// The same machine, its data events carrying `X`. Call it before declaring states.
    pub fn transmits<X: Serialize + JsonSchema>(self) -> Machine<X> {
        Machine { name: self.name, description: self.description, transmit: schema_of::<X>, states: self.states, _transmit: PhantomData }
    }
}

impl<X: Serialize + Send + Sync + 'static> Machine<X> {
    /// Declares a state (the first one declared is the initial state) with its
    /// description; `build` lists its events and targets.
    pub fn state<D: JsonSchema>(mut self, state: State<D>, description: &str, build: impl FnOnce(StateBuilder<X>) -> StateBuilder<X>) -> Self {
        let def = StateDef { name: state.name, description: description.to_owned(), data: schema_of::<D>, targets: None, events: Vec::new() };
        self.states.push(build(StateBuilder { def, _transmit: PhantomData }).def);
        self
    }
}

/// The events and targets of one state, given to the closure of [`Machine::state`].
pub struct StateBuilder<X> {
    def: StateDef,
    _transmit: PhantomData<fn(&X)>,
}

impl<X: Serialize + Send + Sync + 'static> StateBuilder<X> {
    /// The states a transition from this one may go to (by name: `GREEN.name()`). Not
    /// calling it allows any state; an empty list allows none.
    pub fn targets(mut self, targets: impl IntoIterator<Item = &'static str>) -> Self {
        self.def.targets = Some(targets.into_iter().collect());
        self
    }

    /// An event this state accepts: `handler` gets the session and the event's data (a
    /// `D`, `()` for none) and its value is the call's result. It may transition or
    /// transmit before it returns, or neither.
    pub fn event<D, R, F, Fut>(mut self, name: &str, description: &str, handler: F) -> Self
    where
        D: DeserializeOwned + JsonSchema + Send + 'static,
        R: Serialize + JsonSchema + Send + 'static,
        F: Fn(Session<X>, D) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
    {
        let handler: Arc<EventHandler> = Arc::new(move |ctx: Context, shape: Arc<dispatch::Shape>, params: Payload| {
            match dispatch::decode_data::<D>(&ctx, &params) {
                Ok(data) => {
                    let fut = handler(Session::new(ctx.clone(), shape), data);
                    Box::pin(async move {
                        match fut.await.and_then(|v| ctx.encoding().encode_value(&v).map_err(|e| Error::internal(format!("the result could not be encoded: {e}")))) {
                            Ok(v) => Outcome::Value(v),
                            Err(e) => Outcome::Error(e),
                        }
                    }) as BoxedOutcome
                }
                Err(e) => Box::pin(std::future::ready(Outcome::Error(e))),
            }
        });
        self.def.events.push(EventDef { name: name.to_owned(), description: description.to_owned(), data: schema_of::<D>, result: schema_of::<R>, handler });
        self
    }
}

fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

impl<X> Machine<X> {
    /// Refuses a machine that cannot run: no states, two states or two events of one
    /// state with one name, a target that is not a state, a reserved name.
    ///
    /// # Panics
    /// With a message naming the machine and what is wrong: a mistake in the program,
    /// found where the router is built.
    pub(crate) fn check(&self) {
        let m = &self.name;
        assert!(!m.is_empty() && !m.starts_with("volley.") && m != "volley", "the machine name `{m}` is empty or in the reserved `volley.` namespace");
        assert!(!self.states.is_empty(), "the machine `{m}` has no states");
        let mut names = std::collections::HashSet::new();
        for state in &self.states {
            assert!(names.insert(state.name), "the machine `{m}` declares the state `{}` twice", state.name);
            let mut events = std::collections::HashSet::new();
            for event in &state.events {
                assert!(!event.name.is_empty() && !event.name.contains('.'), "the event `{}` of `{m}`: event names are one segment, without dots", event.name);
                assert!(events.insert(&event.name), "the state `{}` of the machine `{m}` declares the event `{}` twice", state.name, event.name);
            }
        }
        for state in &self.states {
            for target in state.targets.iter().flatten() {
                assert!(names.contains(target), "the state `{}` of the machine `{m}` lists `{target}` as a target, which is not one of its states", state.name);
            }
        }
    }

    /// The machine's entry in the introspection document.
    pub(crate) fn describe(&self) -> crate::schema::Described<crate::schema::MachineDoc> {
        use crate::schema::{EventDoc, MachineDoc, MachineStateDoc};
        let mut g = crate::schema::generator();
        let transmit = (self.transmit)(&mut g).to_value();
        let states = self
            .states
            .iter()
            .map(|s| MachineStateDoc {
                name: s.name.to_owned(),
                description: s.description.clone(),
                data: (s.data)(&mut g).to_value(),
                targets: s.targets.as_ref().map(|t| t.iter().map(|t| (*t).to_owned()).collect()),
                events: s
                    .events
                    .iter()
                    .map(|e| EventDoc { name: e.name.clone(), description: e.description.clone(), data: (e.data)(&mut g).to_value(), result: (e.result)(&mut g).to_value() })
                    .collect(),
            })
            .collect();
        let doc = MachineDoc { name: self.name.clone(), description: self.description.clone(), transmit, states };
        crate::schema::Described { doc, defs: g.take_definitions(true) }
    }

    /// The same machine with its data-event type erased, as the router keeps it.
    pub(crate) fn erase(self) -> Machine<()> {
        Machine { name: self.name, description: self.description, transmit: self.transmit, states: self.states, _transmit: PhantomData }
    }
}

impl<X> Clone for Machine<X> {
    fn clone(&self) -> Self {
        Machine { name: self.name.clone(), description: self.description.clone(), transmit: self.transmit, states: self.states.clone(), _transmit: PhantomData }
    }
}

impl<X> std::fmt::Debug for Machine<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine").field("name", &self.name).field("states", &self.states.iter().map(|s| s.name).collect::<Vec<_>>()).finish()
    }
}
