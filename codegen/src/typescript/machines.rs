//! The state machines of the TypeScript model: for each machine, the union of its
//! states (discriminated by `state`, each carrying the events it accepts as methods),
//! the union of its transitions, and the layout the runtime's `MachineSession` reads.

use std::collections::BTreeSet;

use crate::ir::{self, Type};
use crate::names::{doc_text, pascal};

use super::docs::doc_lines;
use super::names::{camel, property_key, string_literal, unique_member};
use super::types::Cx;

/// One machine, as `client.ts` declares it.
#[derive(Debug, Clone)]
pub struct TsMachine {
    /// The member of `client.machines`.
    pub member: String,
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The union of its states: `LightState`.
    pub state_type: String,
    /// The union of its transitions: `LightTransition`.
    pub transition_type: String,
    /// The type of its data events.
    pub transmit_ty: String,
    /// Its states, the initial one first.
    pub states: Vec<TsMachineState>,
    /// The runtime's `MachineShape` of it, as a TypeScript expression.
    pub shape: String,
}

/// One state of a machine.
#[derive(Debug, Clone)]
pub struct TsMachineState {
    /// The state's name as a string literal.
    pub name: String,
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The type of the data of a transition into it.
    pub data_ty: String,
    /// The same, or `null` before any transition into it.
    pub data_or_null: String,
    /// Its events.
    pub events: Vec<TsEvent>,
}

/// One event of a state, as a method of its `events`.
#[derive(Debug, Clone)]
pub struct TsEvent {
    /// The property key: the wire name.
    pub key: String,
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The parameter list: `data: Go, options?: CallOptions`, or only the options.
    pub signature: String,
    /// The return type.
    pub returns: String,
}

/// The machines of a service.
pub(super) fn machines(cx: &mut Cx, machines: &[ir::Machine]) -> Vec<TsMachine> {
    let mut members = BTreeSet::new();
    machines.iter().map(|m| machine(cx, &mut members, m)).collect()
}

fn machine(cx: &mut Cx, members: &mut BTreeSet<String>, m: &ir::Machine) -> TsMachine {
    let base = pascal(&m.name.split('.').map(str::to_string).collect::<Vec<_>>());
    let state_type = cx.names.type_name(&format!("{base}State"));
    let transition_type = cx.names.type_name(&format!("{base}Transition"));
    let mut docs = doc_text(&m.description);
    if !docs.is_empty() {
        docs.push(String::new());
    }
    docs.push(format!("This connection's session of the `{}` machine; it starts in `{}`.", m.name, m.states.first().map_or("", |s| s.name.as_str())));
    let states: Vec<TsMachineState> = m.states.iter().map(|s| state(cx, s)).collect();
    let shape = format!(
        "{{ name: {}, states: [{}] }}",
        string_literal(&m.name),
        m.states
            .iter()
            .map(|s| {
                let events: Vec<String> = s.events.iter().map(|e| format!("{}: {}", property_key(&e.name), takes_data(&e.data))).collect();
                let events = if events.is_empty() { "{}".to_string() } else { format!("{{ {} }}", events.join(", ")) };
                format!("[{}, {events}]", string_literal(&s.name))
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    TsMachine {
        member: unique_member(members, &camel(&m.name.replace('.', "_"))),
        docs: doc_lines(&docs),
        state_type,
        transition_type,
        transmit_ty: cx.expr(&m.transmit),
        states,
        shape,
    }
}

fn state(cx: &mut Cx, s: &ir::MachineState) -> TsMachineState {
    let mut docs = doc_text(&s.description);
    if let Some(targets) = &s.targets {
        if !docs.is_empty() {
            docs.push(String::new());
        }
        docs.push(if targets.is_empty() { "Goes to no other state.".to_string() } else { format!("Goes to: {}.", targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")) });
    }
    let events = s
        .events
        .iter()
        .map(|e| {
            let signature = if takes_data(&e.data) { format!("data: {}, options?: CallOptions", cx.expr(&e.data)) } else { "options?: CallOptions".to_string() };
            TsEvent { key: property_key(&e.name), docs: doc_lines(&doc_text(&e.description)), signature, returns: format!("Promise<{}>", cx.expr(&e.result)) }
        })
        .collect();
    let data_ty = cx.expr(&s.data);
    let data_or_null = if data_ty == "null" { data_ty.clone() } else { format!("{data_ty} | null") };
    TsMachineState { name: string_literal(&s.name), docs: doc_lines(&docs), data_ty, data_or_null, events }
}

/// Whether an event takes data: any type but `null`.
fn takes_data(t: &Type) -> bool {
    !matches!(t, Type::Null)
}
