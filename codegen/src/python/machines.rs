//! The state machines of the Python model: for each machine, a session class (its
//! state, data, transitions and data events) whose `current` is one of a class per
//! state, each with that state's events as `async` methods, so `isinstance` or `match`
//! narrows to what the state accepts.

use std::collections::BTreeSet;

use crate::ir::{self, Service, Type};
use crate::names::{doc_text, pascal};

use super::docs::{def_header, docstring};
use super::names::{py_str, snake, unique};
use super::types::{nullable, Cx};

/// One machine, as `client.py` declares it.
#[derive(Debug, Clone)]
pub struct PyMachine {
    /// The member of `client.machines`.
    pub member: String,
    /// The wire name as a string literal.
    pub wire: String,
    /// The session class.
    pub session_class: String,
    /// The union of the state classes.
    pub state_alias: String,
    /// The session class's docstring.
    pub docs: String,
    /// The data events' annotation and decoder.
    pub transmit_ann: String,
    pub transmit_dec: String,
    /// `{"red": ("go",), ...}`: each state's events.
    pub shape: String,
    /// `{"green": Green.from_wire, ...}`: the states whose data needs decoding.
    pub decoders: String,
    /// The states, the initial one first.
    pub states: Vec<PyMachineState>,
}

/// A state of a machine: a class.
#[derive(Debug, Clone)]
pub struct PyMachineState {
    /// The class name.
    pub class: String,
    /// The state's name as a string literal.
    pub wire: String,
    /// The class docstring.
    pub docs: String,
    /// The data's annotation (nullable: none before the first transition into it).
    pub data_ann: String,
    /// Its events.
    pub events: Vec<PyEvent>,
}

/// An event: an `async def` of its state's class.
#[derive(Debug, Clone)]
pub struct PyEvent {
    /// The `async def` line (or lines).
    pub header: String,
    /// The docstring, indented for a method body.
    pub docs: String,
    /// The result's annotation.
    pub returns: String,
    /// The event's wire name as a string literal.
    pub wire: String,
    /// What goes on the wire as `data`.
    pub encode: String,
    /// The result's decoder.
    pub decode: String,
}

/// The machines of a service.
pub(super) fn machines(cx: &mut Cx, service: &Service) -> Vec<PyMachine> {
    let mut members = BTreeSet::new();
    service.machines.iter().map(|m| machine(cx, &mut members, m)).collect()
}

fn machine(cx: &mut Cx, members: &mut BTreeSet<String>, m: &ir::Machine) -> PyMachine {
    let base = pascal(&[m.name.replace('.', "_")]);
    let session_class = cx.type_name(&format!("{base}Session"));
    let state_alias = cx.type_name(&format!("{base}State"));
    let transmit = cx.py(&m.transmit, &format!("{base}Data"));
    let mut decoders = vec![];
    let states: Vec<PyMachineState> = m
        .states
        .iter()
        .map(|s| {
            let class = cx.type_name(&format!("{base}{}", pascal(std::slice::from_ref(&s.name))));
            let data = cx.py(&s.data, &format!("{class}Data"));
            if let Some(dec) = &data.dec {
                decoders.push(format!("{}: {dec}", py_str(&s.name)));
            }
            let mut lines = doc_text(&s.description);
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push(format!("The `{}` state of `{}`; `data` is what came with the transition into it.", s.name, m.name));
            if let Some(t) = &s.targets {
                lines.push(if t.is_empty() { "It goes to no other state.".into() } else { format!("It goes to: {}.", t.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")) });
            }
            let mut taken: BTreeSet<String> = ["state", "data", "_s"].iter().map(|s| s.to_string()).collect();
            let events = s.events.iter().map(|e| event(cx, &mut taken, &class, e)).collect();
            PyMachineState { class, wire: py_str(&s.name), docs: docstring(&lines, 4), data_ann: nullable(&data.ann), events }
        })
        .collect();
    let mut lines = doc_text(&m.description);
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!(
        "This connection's session of the `{}` machine; it starts in `{}`. `current` is the state with its events as methods.",
        m.name,
        m.states.first().map_or("", |s| s.name.as_str())
    ));
    let shape = format!(
        "{{{}}}",
        m.states
            .iter()
            .map(|s| format!("{}: ({})", py_str(&s.name), s.events.iter().map(|e| format!("{},", py_str(&e.name))).collect::<Vec<_>>().join(" ")))
            .collect::<Vec<_>>()
            .join(", ")
    );
    PyMachine {
        member: unique(members, &snake(&m.name.replace('.', "_"))),
        wire: py_str(&m.name),
        session_class,
        state_alias,
        docs: docstring(&lines, 4),
        transmit_ann: transmit.ann,
        transmit_dec: transmit.dec.unwrap_or_else(|| "identity".into()),
        shape,
        decoders: format!("{{{}}}", decoders.join(", ")),
        states,
    }
}

fn event(cx: &mut Cx, taken: &mut BTreeSet<String>, class: &str, e: &ir::MachineEvent) -> PyEvent {
    let member = unique(taken, &e.name);
    let result = cx.py(&e.result, &format!("{class}{}Result", pascal(std::slice::from_ref(&e.name))));
    let takes_data = !matches!(e.data, Type::Null);
    let mut args = vec![];
    let encode = if takes_data {
        let data = cx.py(&e.data, &format!("{class}{}Data", pascal(std::slice::from_ref(&e.name))));
        args.push(format!("data: {}", data.ann));
        if cx.is_identity(&e.data, &mut BTreeSet::new()) { "data".to_string() } else { "to_wire(data)".to_string() }
    } else {
        "None".to_string()
    };
    args.push("options: CallOptions | None = None".into());
    let mut lines = doc_text(&e.description);
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!("Sends `{}`; returns its result once the transitions and data events it made have arrived.", e.name));
    PyEvent {
        header: def_header("async def", &member, &args, &result.ann),
        docs: docstring(&lines, 8),
        returns: result.ann,
        wire: py_str(&e.name),
        encode,
        decode: result.dec.unwrap_or_else(|| "identity".into()),
    }
}
