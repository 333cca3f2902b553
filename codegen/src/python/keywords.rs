//! Names a Python SDK may not use as they are.

/// Python 3.12's keywords (`keyword.kwlist`) and soft keywords (`keyword.softkwlist`):
/// neither can name a parameter, a field or a class in generated code (soft keywords
/// could, but `type` and `match` read badly and `_` is a throwaway name).
pub const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
    "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
    "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
    "try", "while", "with", "yield", "_", "case", "match", "type",
];

/// Builtins and typing names the generated files use. A field, parameter or type named
/// like one would shadow it inside a class body or a method (for example a field
/// `str` before a field annotated `str`).
pub const BUILTINS: &[&str] = &[
    "self", "cls", "int", "float", "str", "bool", "bytes", "list", "dict", "tuple", "object",
    "isinstance", "next", "iter", "super", "len", "print", "id", "Any", "Literal",
    "TypeAlias", "Protocol", "AsyncIterator", "AsyncIterable", "Iterable", "Exception",
    "dataclass", "field", "annotations", "ValueError", "KeyError", "TypeError",
];

/// Names the runtime modules (`_runtime/*.py`) export and the generated files import or
/// define; a schema type may not take them.
pub const RUNTIME: &[&str] = &[
    "Backoff", "CallOptions", "Client", "ClientHandlers", "Connection", "ErrorCode",
    "Handler", "Input", "Metadata", "Response", "Stream", "UnaryCall", "VolleyConnectionError",
    "VolleyError", "VolleyWarning", "decode_bytes", "decode_items", "identity", "is_integer",
    "is_number", "list_of", "map_of", "optional", "to_wire", "typed_error",
    "DEFAULT_STATE_BUFFER", "DEFAULT_TOPIC_BUFFER", "Notification", "Overflow", "PatchError",
    "SharedState", "Subscription", "apply_patch", "notification",
    "payload", "topic_matches", "ServerCalls", "DataEvent", "MachineSession", "Machines", "OperationHandle", "Operations",
    "Transition", "Literal",
];

/// Members of the generated `Client` class besides the service's methods, and names
/// every namespace class uses.
pub const CLIENT_MEMBERS: &[&str] = &["connect", "close", "connection", "_c"];

/// Members of the generated `Client` class only: its topics and shared states.
pub const ROOT_MEMBERS: &[&str] = &["topics", "states", "machines", "operation"];

/// Members of `client.topics` besides one method per topic.
pub const TOPICS_MEMBERS: &[&str] = &["subscribe", "_c"];

/// Members of `client.states` besides one method per shared state.
pub const STATES_MEMBERS: &[&str] = &["watch", "_c"];


/// Local names a generated method's body uses: a parameter may not take them.
pub const METHOD_LOCALS: &[&str] = &["params", "options", "items", "d", "v", "p", "h"];

/// Names a generated dataclass defines besides its fields.
pub const CLASS_MEMBERS: &[&str] = &["to_wire", "from_wire"];

/// Whether `name` is a Python identifier (ASCII subset: the generator only emits ASCII
/// identifiers).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` must be escaped wherever it is used as a Python name.
pub fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name) || BUILTINS.contains(&name)
}
