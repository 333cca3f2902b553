//! How a session's events reach their handlers: one sequential method per event name,
//! which looks up the session's current state and runs that state's handler, or refuses
//! the event naming the state and the events it has; and `volley.machine`, which says
//! where a session is.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{EventHandler, Machine};
use crate::method::{MethodDef, MethodInfo, Outcome};
use crate::protocol::{Payload, Shape as CallShape};
use crate::{Context, Error, ErrorCode};

/// What a session needs to know of its machine at run time.
pub(crate) struct Shape {
    pub name: Arc<str>,
    /// The states, the initial one first.
    pub states: Vec<StateShape>,
}

pub(crate) struct StateShape {
    pub name: &'static str,
    /// `None`: any state.
    pub targets: Option<Vec<&'static str>>,
    pub events: BTreeMap<String, Arc<EventHandler>>,
}

impl Shape {
    pub fn initial(&self) -> &'static str {
        self.states[0].name
    }

    pub fn state(&self, name: &str) -> Option<&StateShape> {
        self.states.iter().find(|s| s.name == name)
    }

    /// The session's current state on this connection.
    pub fn current(&self, ctx: &Context) -> &'static str {
        ctx.peer().0.machines.lock().unwrap().get(&*self.name).copied().unwrap_or_else(|| self.initial())
    }

    /// The names of the events `state` accepts, sorted.
    pub fn events_of(&self, state: &str) -> Vec<String> {
        self.state(state).map(|s| s.events.keys().cloned().collect()).unwrap_or_default()
    }
}

/// The methods that carry a machine's events, one per event name, sequential as one
/// group per machine: a session's events run one at a time, in arrival order.
pub(crate) fn event_methods(machine: Machine<()>) -> (Arc<Shape>, Vec<MethodDef>) {
    let shape = Arc::new(Shape {
        name: Arc::from(machine.name.as_str()),
        states: machine
            .states
            .into_iter()
            .map(|s| StateShape { name: s.name, targets: s.targets, events: s.events.into_iter().map(|e| (e.name, e.handler)).collect() })
            .collect(),
    });
    let group: Arc<str> = Arc::from(format!("machine:{}", shape.name));
    let mut names: Vec<String> = shape.states.iter().flat_map(|s| s.events.keys().cloned()).collect();
    names.sort();
    names.dedup();
    let methods = names
        .into_iter()
        .map(|event| {
            let shape = shape.clone();
            let method = format!("{}.{event}", shape.name);
            let handler = move |ctx: Context, params: Payload, _| {
                let current = shape.current(&ctx);
                match shape.state(current).and_then(|s| s.events.get(&event)) {
                    Some(handler) => handler(ctx, shape.clone(), params),
                    None => Box::pin(std::future::ready(Outcome::Error(not_allowed(&shape, current, &event)))) as crate::method::BoxedOutcome,
                }
            };
            MethodDef::erased(method, CallShape::Unary, Arc::new(handler)).in_sequence(group.clone())
        })
        .collect();
    (shape, methods)
}

/// `EVENT_NOT_ALLOWED`: the current state has no such event.
fn not_allowed(shape: &Shape, state: &str, event: &str) -> Error {
    let events = shape.events_of(state);
    Error::new(
        ErrorCode::EVENT_NOT_ALLOWED,
        format!("the machine `{}` is in the state `{state}`, which has no event `{event}` (it has: {})", shape.name, list(&events)),
    )
    .with_data(serde_json::json!({ "machine": &*shape.name, "state": state, "event": event, "events": events }))
}

/// `TRANSITION_NOT_ALLOWED`: `to` is not a target of `from`, or not a state at all.
pub(super) fn transition_refused(shape: &Shape, from: &str, to: &str) -> Error {
    let targets: Vec<&str> = match shape.state(from).and_then(|s| s.targets.as_ref()) {
        Some(t) => t.clone(),
        None => shape.states.iter().map(|s| s.name).collect(),
    };
    let why = if shape.state(to).is_none() { format!("`{to}` is not a state of the machine `{}`", shape.name) } else { format!("`{from}` may go to {}", list(&targets)) };
    Error::new(ErrorCode::TRANSITION_NOT_ALLOWED, format!("no transition from `{from}` to `{to}`: {why}"))
        .with_data(serde_json::json!({ "machine": &*shape.name, "from": from, "to": to, "targets": targets }))
}

fn list<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.iter().map(|n| format!("`{}`", n.as_ref())).collect::<Vec<_>>().join(", ")
}

/// An event's params: `{"data": D}`; an absent `data` is `null`.
pub(super) fn decode_data<D: DeserializeOwned>(ctx: &Context, params: &Payload) -> Result<D, Error> {
    #[derive(serde::Deserialize)]
    #[serde(bound = "D: DeserializeOwned")]
    struct Params<D> {
        #[serde(default = "Option::default")]
        data: Option<D>,
    }
    let invalid = |path: String, message: String| Error::invalid_params(vec![crate::validate::FieldError { path, message: crate::error::bounded(&message) }]);
    let p: Params<D> = ctx.encoding().decode_value(params.as_bytes()).map_err(|e| invalid(e.path, e.message))?;
    match p.data {
        Some(d) => Ok(d),
        None => D::deserialize(serde_json::Value::Null).map_err(|_| invalid("data".into(), "missing: this event takes data".into())),
    }
}

/// `volley.machine`: `{"machine": name}` -> `{"state": .., "events": [..]}`, where this
/// connection's session of that machine is.
pub(crate) fn current_state_method(machines: Vec<Arc<Shape>>) -> MethodDef {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Params {
        machine: String,
    }
    impl crate::validate::Validate for Params {
        fn validate(&self, _: &mut crate::validate::Violations) {}
    }
    crate::method::unary::<Params, serde_json::Value, _, _>(
        MethodInfo { name: "volley.machine", docs: "Where this connection's session of a machine is.", deprecated: None },
        <crate::Never as crate::IntoCallError>::error_schema,
        move |ctx, p: Params| {
            let found = machines.iter().find(|m| *m.name == *p.machine).cloned();
            let names: Vec<String> = machines.iter().map(|m| m.name.to_string()).collect();
            async move {
                let shape = found.ok_or_else(|| {
                    Error::invalid_params(vec![crate::validate::FieldError {
                        path: "machine".into(),
                        message: crate::error::bounded(&format!("no machine named `{}` (machines: {})", p.machine, list(&names))),
                    }])
                })?;
                let state = shape.current(&ctx);
                Ok(serde_json::json!({ "state": state, "events": shape.events_of(state) }))
            }
        },
    )
}
