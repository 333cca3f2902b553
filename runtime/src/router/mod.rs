//! The router: the methods a peer serves, the state they share, the hooks around them,
//! and what the introspection document says about them.

mod hooks;
mod not_found;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use hooks::{Hook, HookFuture};
pub(crate) use hooks::Hooks;
pub(crate) use not_found::AVAILABLE_LIMIT;

use crate::method::{Method, MethodDef};
use crate::machine::Machine;
use crate::schema::{self, Described, MachineDoc, SchemaDocument, Scope, Side, StateDoc, TopicDoc};
use crate::shared_state::{ConnectionState, Flush};
use crate::state::StateMap;
use crate::topics::inbound::{self, NotifyHandler};
use crate::topics::Topic;
use crate::{Context, Error};

/// The methods a peer serves, composed from `#[rpc]` functions.
///
/// ```ignore
/// let calc = Router::new().rpc::<add>().rpc::<divide>();
/// let app = Router::new()
///     .nest("calc", calc)            // calc.add, calc.divide
///     .rpc::<version>()
///     .with_state(Db::connect()?);   // reachable from handlers as State<Db>
/// ```
#[derive(Clone, Default)]
pub struct Router {
    methods: BTreeMap<String, Arc<MethodDef>>,
    client_methods: BTreeMap<String, MethodDef>,
    state: StateMap,
    hooks: Vec<Arc<dyn Hook>>,
    topics: Vec<Described<TopicDoc>>,
    notify_handlers: BTreeMap<String, NotifyHandler>,
    states: Vec<Described<StateDoc>>,
    connection_states: BTreeMap<String, Flush>,
    machines: Vec<(Machine<()>, Described<MachineDoc>)>,
    info: schema::ServiceInfo,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an `#[rpc]` method: `router.rpc::<add>()`.
    pub fn rpc<M: Method>(self) -> Self {
        self.method(M::definition())
    }

    /// Registers a method definition.
    ///
    /// # Panics
    /// When a method of the same name is already registered, or the name is in the
    /// reserved `volley.` namespace: both are mistakes in the program, found at start-up.
    pub fn method(mut self, def: MethodDef) -> Self {
        assert!(!def.name.starts_with("volley."), "the method name `{}` is in the reserved `volley.` namespace", def.name);
        let name = def.name.clone();
        assert!(self.methods.insert(name.clone(), Arc::new(def)).is_none(), "the method `{name}` is registered twice");
        self
    }

    /// Declares a method that this peer calls on the other side (a server calling its
    /// clients). It appears in the schema with `"side": "client"`, so generated SDKs
    /// ask their users to implement it.
    pub fn calls_peer<M: Method>(mut self) -> Self {
        let def = M::definition();
        self.client_methods.insert(def.name.clone(), def);
        self
    }

    /// Makes every method registered so far sequential, as one group: one connection's
    /// calls to any of them run one at a time, in the order they arrived (see
    /// [`MethodDef::sequential`]). Methods added afterwards, and other routers' methods
    /// merged or nested in, keep running concurrently.
    ///
    /// ```
    /// # use volley::{rpc, Router};
    /// /// Deposits into this connection's account.
    /// #[rpc]
    /// async fn deposit(amount: u64) -> u64 { amount }
    /// /// Withdraws from it.
    /// #[rpc]
    /// async fn withdraw(amount: u64) -> u64 { amount }
    ///
    /// let account = Router::new().rpc::<deposit>().rpc::<withdraw>().sequential();
    /// let app = Router::new().nest("account", account);
    /// assert!(app.schema().methods.iter().filter(|m| m.name.starts_with("account.")).all(|m| m.sequential));
    /// ```
    pub fn sequential(mut self) -> Self {
        static GROUPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let group: Arc<str> = Arc::from(format!("router#{}", GROUPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
        for def in self.methods.values_mut() {
            *def = Arc::new(Arc::unwrap_or_clone(def.clone()).in_sequence(group.clone()));
        }
        self
    }

    /// Mounts every method of `other` under `prefix.` (its state and hooks come along).
    pub fn nest(mut self, prefix: &str, other: Router) -> Self {
        let prefix = prefix.trim_end_matches('.');
        for (_, def) in other.methods {
            self = self.method(Arc::unwrap_or_clone(def).prefixed(prefix));
        }
        for (_, def) in other.client_methods {
            let def = def.prefixed(prefix);
            self.client_methods.insert(def.name.clone(), def);
        }
        self.state.extend(&other.state);
        self.hooks.extend(other.hooks);
        self.topics.extend(other.topics);
        self.add_notify_handlers(other.notify_handlers);
        self.states.extend(other.states);
        self.connection_states.extend(other.connection_states);
        self.add_machines(other.machines);
        self
    }

    /// Adds every method of `other` as it is.
    pub fn merge(self, other: Router) -> Self {
        let mut this = self;
        for (_, def) in other.methods {
            this = this.method(Arc::unwrap_or_clone(def));
        }
        this.client_methods.extend(other.client_methods);
        this.state.extend(&other.state);
        this.hooks.extend(other.hooks);
        this.topics.extend(other.topics);
        this.add_notify_handlers(other.notify_handlers);
        this.states.extend(other.states);
        this.connection_states.extend(other.connection_states);
        this.add_machines(other.machines);
        this
    }

    /// Makes `value` available to handlers as `State<T>`.
    pub fn with_state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Adds a lifecycle hook. Hooks run in the order they were added.
    pub fn hook(mut self, hook: impl Hook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Declares a topic this side publishes and the type of its messages, for the
    /// schema: a [`Topic`] constant (`.topic(HEARTBEAT, "..")`), whose `publish` then
    /// takes only a `T`, or a name with the type spelled out
    /// (`.topic::<JobResult>("jobs.finished", "..")`).
    pub fn topic<T: schemars::JsonSchema + ?Sized>(mut self, topic: impl Into<Topic<T>>, description: &str) -> Self {
        self.topics.push(schema::topic::<T>(topic.into().name(), description, Side::Server));
        self
    }

    /// Handles the notifications clients send on `topic` (`NOTIFY`, PROTOCOL.md section
    /// 10): each payload is decoded as a `T` and passed to `handler` with a [`Context`]
    /// of the connection (its [`call_id`](Context::call_id) is 0, its
    /// [`method`](Context::method) the topic). The topic appears in the schema with
    /// `"publisher": "client"`, so the generated SDKs can publish it, typed.
    ///
    /// A connection's notifications are handled one at a time, in the order they
    /// arrived; `before_request` hooks run first and may refuse one. What goes wrong is
    /// told to the client with a `WARNING` on id 0 (the handler's error, a payload that
    /// is not a `T`, a full queue) and ends nothing.
    ///
    /// # Panics
    /// When `topic` already has a handler: a mistake in the program, found at start-up.
    ///
    /// ```
    /// use volley::{Context, Error, Router, Topic};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Cursor { x: i32, y: i32 }
    ///
    /// const CURSOR: Topic<Cursor> = Topic::new("board.cursor");
    ///
    /// let router = Router::new().on_notify(CURSOR, "Where a user's pointer is.", |ctx: Context, c: Cursor| async move {
    ///     tracing::debug!(conn = ctx.connection_id(), x = c.x, y = c.y, "cursor moved");
    ///     Ok::<(), Error>(())
    /// });
    /// assert_eq!(router.schema().topics[0].publisher, volley::schema::Side::Client);
    /// ```
    pub fn on_notify<T, F, Fut>(mut self, topic: impl Into<Topic<T>>, description: &str, handler: F) -> Self
    where
        T: serde::de::DeserializeOwned + schemars::JsonSchema + Send + 'static,
        F: Fn(Context, T) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
    {
        let topic = topic.into();
        self.topics.push(schema::topic::<T>(topic.name(), description, Side::Client));
        self.add_notify_handlers([(topic.name().to_owned(), inbound::handler(handler))]);
        self
    }

    fn add_notify_handlers(&mut self, handlers: impl IntoIterator<Item = (String, NotifyHandler)>) {
        for (topic, handler) in handlers {
            assert!(self.notify_handlers.insert(topic.clone(), handler).is_none(), "the notifications on `{topic}` are handled twice");
        }
    }

    /// Declares a shared state and its type, for the schema: one document for the whole
    /// server, set with [`Publisher::set_state`](crate::Publisher::set_state), each
    /// change sent at once to every subscriber.
    pub fn shared_state<T: schemars::JsonSchema>(mut self, name: &str, description: &str) -> Self {
        self.states.push(schema::state::<T>(name, description, Scope::Server));
        self
    }

    /// Declares a state each connection has its own document of (the schema says
    /// `"scope": "connection"`), set from handlers with [`ConnectionState::set`] and
    /// mirrored by a client that subscribes to it like any shared state. `flush` says
    /// when changes are sent: each at once, coalesced to one patch per period, or only
    /// on [`ConnectionState::flush`].
    ///
    /// # Panics
    /// When a state of that name is already declared per connection.
    pub fn connection_state<T: schemars::JsonSchema>(mut self, state: impl Into<ConnectionState<T>>, description: &str, flush: Flush) -> Self {
        let state = state.into();
        self.states.push(schema::state::<T>(state.name(), description, Scope::Connection));
        assert!(self.connection_states.insert(state.name().to_owned(), flush).is_none(), "the state `{}` is declared twice", state.name());
        self
    }

    /// Registers a state machine (see [`machine`](crate::machine)): every connection
    /// gets its own session of it, in its first state; clients send its events as
    /// `<name>.<event>` calls and receive its transitions and data events on the topic
    /// `<name>`. A machine keeps its name when its router is nested.
    ///
    /// # Panics
    /// When the machine has no states, declares a state twice or an event twice in one
    /// state, lists a target that is not one of its states, or has the name of a
    /// machine already registered: mistakes in the program, found at start-up.
    pub fn machine<X>(mut self, machine: Machine<X>) -> Self {
        machine.check();
        let doc = machine.describe();
        self.add_machines([(machine.erase(), doc)]);
        self
    }

    /// Registers a method that may answer as a long-running operation (see
    /// [`operations`](crate::operations)): `handler` gets the [`Operation`](crate::operations::Operation)
    /// and the params (a `P`, decoded from the params object), may
    /// [`accept`](crate::operations::Operation::accept) the command (the caller then has
    /// its id at once, the result when the work ends) and report progress `G`. Its
    /// result `R` answers the call, and is kept for `volley.operation.wait`.
    ///
    /// # Panics
    /// As [`Router::method`]: a name registered twice, or in the reserved namespace.
    pub fn operation<P, R, G, F, Fut>(self, name: &str, description: &str, handler: F) -> Self
    where
        P: serde::de::DeserializeOwned + schemars::JsonSchema + Send + 'static,
        R: serde::Serialize + schemars::JsonSchema + Send + 'static,
        G: serde::Serialize + schemars::JsonSchema + Send + 'static,
        F: Fn(crate::operations::Operation<G>, P) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, Error>> + Send + 'static,
    {
        self.method(crate::operations::method(name, description, handler))
    }

    fn add_machines(&mut self, machines: impl IntoIterator<Item = (Machine<()>, Described<MachineDoc>)>) {
        for (machine, doc) in machines {
            assert!(self.machines.iter().all(|(m, _)| m.name != machine.name), "the machine `{}` is registered twice", machine.name);
            self.machines.push((machine, doc));
        }
    }

    /// Names the service in the schema.
    pub fn named(mut self, name: &str, version: &str, description: &str) -> Self {
        self.info = schema::ServiceInfo { name: name.into(), version: version.into(), description: description.into() };
        self
    }

    /// The method definitions, by name.
    pub fn methods(&self) -> impl Iterator<Item = &MethodDef> {
        self.methods.values().map(|d| &**d)
    }

    /// The introspection document describing this router.
    pub fn schema(&self) -> SchemaDocument {
        let machines: Vec<_> = self.machines.iter().map(|(_, doc)| doc.clone()).collect();
        schema::build(&self.info, self.methods.values().map(|d| &**d), self.client_methods.values(), &self.topics, &self.states, &machines)
    }

    pub(crate) fn into_routes(self) -> Routes {
        let mut methods = self.methods;
        let mut shapes = Vec::new();
        for (machine, _) in self.machines {
            let (shape, events) = crate::machine::event_methods(machine);
            for def in events {
                let name = def.name.clone();
                assert!(methods.insert(name.clone(), Arc::new(def)).is_none(), "the machine event `{name}` has the name of a method");
            }
            shapes.push(shape);
        }
        if !shapes.is_empty() {
            methods.insert("volley.machine".into(), Arc::new(crate::machine::current_state_method(shapes)));
        }
        if methods.values().any(|d| d.operation.is_some()) {
            for def in crate::operations::reserved_methods() {
                methods.insert(def.name.clone(), Arc::new(def));
            }
        }
        Routes {
            methods: methods
                .into_iter()
                .map(|(name, def)| {
                    let mut def = Arc::unwrap_or_clone(def);
                    def.metric_label = metrics::SharedString::from_shared(Arc::from(name.as_str()));
                    (name, Arc::new(def))
                })
                .collect(),
            state: Arc::new(self.state),
            hooks: Hooks(self.hooks),
            notify_handlers: self.notify_handlers.into_iter().collect(),
            connection_states: self.connection_states.into_iter().collect(),
            on_notify: None,
            operations: Default::default(),
            shared_states: Default::default(),
            server: Default::default(),
            draining: Default::default(),
            panic_details: Default::default(),
        }
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").field("methods", &self.methods.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

/// What a live connection needs from a router.
pub(crate) struct Routes {
    pub methods: HashMap<String, Arc<MethodDef>>,
    pub state: Arc<StateMap>,
    pub hooks: Hooks,
    /// The handlers of notifications from the peer, by topic (the server side).
    pub notify_handlers: HashMap<String, NotifyHandler>,
    /// The states each connection has its own document of, and when their changes go.
    pub connection_states: HashMap<String, Flush>,
    /// Where notifications and state patches from the peer go (the client side).
    pub on_notify: Option<crate::topics::NotifySink>,
    /// The long-running operations of this side's methods.
    pub operations: Arc<crate::operations::Store>,
    /// The current documents of the shared states this side publishes.
    pub shared_states: Arc<crate::shared_state::StateStore>,
    /// The server serving these routes, for `Context::publisher` (unset on clients).
    pub server: std::sync::OnceLock<std::sync::Weak<crate::server::ServerShared>>,
    /// Set when the server shuts down: new calls are refused with `UNAVAILABLE` while
    /// the calls in flight finish.
    pub draining: std::sync::atomic::AtomicBool,
    /// An `INTERNAL` error from a panicking handler carries the panic's message and
    /// location (a development setting, [`Server::panic_details`](crate::Server::panic_details)).
    pub panic_details: std::sync::atomic::AtomicBool,
}

impl Routes {
    pub fn get(&self, name: &str) -> Option<&Arc<MethodDef>> {
        self.methods.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.methods.is_empty()
    }

    /// `METHOD_NOT_FOUND` for a name these routes do not have, saying where along the
    /// dotted name the lookup failed and what is there.
    pub fn not_found(&self, name: &str) -> crate::Error {
        not_found::method_not_found(name, self.methods.keys().map(String::as_str))
    }

    pub fn add(&mut self, mut def: MethodDef) {
        def.metric_label = metrics::SharedString::from_shared(Arc::from(def.name.as_str()));
        self.methods.insert(def.name.clone(), Arc::new(def));
    }
}
