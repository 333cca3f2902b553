//! The kinds of change `volley diff` reports, each with a stable id and a fixed level.

use std::fmt;

/// Whether a change breaks the clients of the older schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// An existing client can fail: at run time, or when its code is type-checked
    /// against an SDK generated from the new schema.
    Breaking,
    /// Existing clients go on working unchanged.
    Compatible,
}

impl Level {
    /// `breaking` or `compatible`, as `--format json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Breaking => "breaking",
            Level::Compatible => "compatible",
        }
    }
}

macro_rules! rules {
    ($($(#[doc = $doc:literal])+ $variant:ident = $id:literal, $level:ident;)+) => {
        /// A kind of change. Its id (`method-removed`) is stable: CI scripts may match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Rule {
            /// Every rule, in the order the documentation lists them.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),+];

            /// The rule's stable id.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)+ }
            }

            /// Whether changes of this kind break clients.
            pub fn level(self) -> Level {
                match self { $(Rule::$variant => Level::$level,)+ }
            }

            /// What the rule means, from its documentation.
            pub fn description(self) -> &'static str {
                match self { $(Rule::$variant => concat!($($doc),+).trim_start(),)+ }
            }
        }
    };
}

rules! {
    /// The server no longer speaks an encoding (subprotocol) clients may use.
    EncodingRemoved = "encoding-removed", Breaking;
    /// The server speaks a new encoding.
    EncodingAdded = "encoding-added", Compatible;
    /// A method is gone (or renamed: the old name is gone).
    MethodRemoved = "method-removed", Breaking;
    /// A new method.
    MethodAdded = "method-added", Compatible;
    /// A method's call shape changed (unary, server_stream, client_stream, bidi_stream).
    MethodShapeChanged = "method-shape-changed", Breaking;
    /// A method moved between the server and its clients.
    MethodSideChanged = "method-side-changed", Breaking;
    /// A method is now deprecated, or its deprecation changed or was lifted.
    MethodDeprecated = "method-deprecated", Compatible;
    /// A method's calls from one connection now run one at a time, or no longer do.
    MethodSequentialChanged = "method-sequential-changed", Compatible;
    /// A method may now answer as a long-running operation; clients that ignore the id
    /// still get the result on the call.
    MethodOperationAdded = "method-operation-added", Compatible;
    /// A method no longer answers as a long-running operation: clients waiting on its id fail.
    MethodOperationRemoved = "method-operation-removed", Breaking;
    /// A topic is gone.
    TopicRemoved = "topic-removed", Breaking;
    /// A new topic.
    TopicAdded = "topic-added", Compatible;
    /// A topic's publisher changed between the server and its clients.
    TopicPublisherChanged = "topic-publisher-changed", Breaking;
    /// A shared state is gone.
    StateRemoved = "state-removed", Breaking;
    /// A new shared state.
    StateAdded = "state-added", Compatible;
    /// A shared state is now per connection instead of server-wide, or the reverse.
    StateScopeChanged = "state-scope-changed", Breaking;
    /// A state machine is gone.
    MachineRemoved = "machine-removed", Breaking;
    /// A new state machine.
    MachineAdded = "machine-added", Compatible;
    /// A machine's sessions start in another state.
    MachineInitialStateChanged = "machine-initial-state-changed", Breaking;
    /// A machine lost a state clients may handle.
    MachineStateRemoved = "machine-state-removed", Breaking;
    /// A machine has a state its existing clients do not know, and may be pushed into it.
    MachineStateAdded = "machine-state-added", Breaking;
    /// A state no longer accepts an event.
    MachineEventRemoved = "machine-event-removed", Breaking;
    /// A state accepts a new event.
    MachineEventAdded = "machine-event-added", Compatible;
    /// The states a state may move to changed.
    MachineTargetsChanged = "machine-targets-changed", Compatible;
    /// A type changed so that values existing clients send are refused, or values they
    /// receive do not fit what they expect.
    TypeChanged = "type-changed", Breaking;
    /// A type changed in a direction clients cannot notice: what they send accepts more,
    /// what they receive is narrower.
    TypeRelaxed = "type-relaxed", Compatible;
    /// Something clients receive may now be null.
    MadeNullable = "made-nullable", Breaking;
    /// A parameter or field clients send was added without a default: existing calls
    /// leave it out and are refused.
    RequiredFieldAdded = "required-field-added", Breaking;
    /// A parameter or field clients send was added with a default, or as optional.
    OptionalFieldAdded = "optional-field-added", Compatible;
    /// A field was added to something clients receive.
    FieldAdded = "field-added", Compatible;
    /// A field or parameter is gone: clients reading it get nothing, clients passing it
    /// no longer type-check.
    FieldRemoved = "field-removed", Breaking;
    /// A field clients receive, always present before, may now be left out.
    FieldMadeOptional = "field-made-optional", Breaking;
    /// A parameter or field clients send, optional before, is now required.
    FieldMadeRequired = "field-made-required", Breaking;
    /// A parameter clients send may now be left out, or a field they receive is now
    /// always present.
    RequirementRelaxed = "requirement-relaxed", Compatible;
    /// A value clients receive has a new variant they do not know.
    OutputVariantAdded = "output-variant-added", Breaking;
    /// A value clients send accepts a new variant.
    InputVariantAdded = "input-variant-added", Compatible;
    /// A variant is gone: clients sending it are refused, and code handling it no longer
    /// type-checks.
    VariantRemoved = "variant-removed", Breaking;
}

/// Every rule with its level and meaning, as `volley diff --help` lists them.
pub fn rules_help() -> String {
    let width = Rule::ALL.iter().map(|r| r.id().len()).max().unwrap_or(0);
    let mut out = String::from("Rules:\n");
    for rule in Rule::ALL {
        out.push_str(&format!("  {:<width$}  {:<10}  {}\n", rule.id(), rule.level().as_str(), rule.description()));
    }
    out
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert!(ids.iter().all(|id| id.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
    }

    #[test]
    fn descriptions_come_from_the_docs() {
        assert_eq!(Rule::MethodRemoved.description(), "A method is gone (or renamed: the old name is gone).");
        assert!(Rule::VariantRemoved.description().contains("sending it are refused"));
    }
}
