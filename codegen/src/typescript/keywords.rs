//! Names a TypeScript SDK may not use as they are.

/// Reserved words of ECMAScript 2022 (section 13.1, "ReservedWord") and those reserved
/// in strict mode code, plus TypeScript's reserved and contextual type keywords (the
/// TypeScript handbook; `src/compiler/scanner.ts`'s `textToKeywordObj`). None of these
/// can name a type, a variable or a parameter in generated code.
pub const RESERVED: &[&str] = &[
    // ECMAScript reserved words
    "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for",
    "function", "if", "import", "in", "instanceof", "new", "null", "return", "super",
    "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with",
    "yield",
    // strict mode
    "implements", "interface", "let", "package", "private", "protected", "public", "static",
    // TypeScript type keywords and contextual keywords
    "any", "as", "asserts", "async", "bigint", "boolean", "declare", "from", "get", "infer",
    "is", "keyof", "module", "namespace", "never", "number", "object", "of", "readonly",
    "require", "set", "string", "symbol", "type", "undefined", "unique", "unknown",
    "arguments", "eval", "satisfies", "accessor", "out", "override", "abstract",
];

/// Global names the generated files use: a type named like one of these would shadow
/// it.
pub const GLOBALS: &[&str] = &[
    "Array", "ArrayBuffer", "AsyncIterable", "AsyncIterator", "BigInt", "Boolean", "Date",
    "Error", "Function", "Iterable", "JSON", "Map", "Math", "Number", "Object", "Partial",
    "Promise", "PromiseLike", "Readonly", "Record", "Set", "String", "Symbol", "Uint8Array",
    "AbortSignal", "AbortController", "WebSocket", "globalThis",
];

/// Names the runtime modules (`src/runtime/`) export and the per-service files import or
/// declare; a schema type may not take them.
pub const RUNTIME: &[&str] = &[
    "Bytes", "BidiStream", "CallOptions", "Client", "ClientHandlers", "ClientStream",
    "Connection", "ConnectOptions", "ConnectionError", "ConnectionState", "Encoding",
    "ErrorCode", "HandlerContext", "MachineSession", "Machines", "MethodOperations", "OperationHandle", "OperationState", "Metadata", "MethodErrors", "MethodKind", "MethodKinds",
    "ReconnectOptions", "ServerStream", "States", "StatesApi", "Streamable", "Subscription",
    "Topics", "TopicsApi", "Transition", "VolleyError", "VolleyWarning", "WarningCode",
    "WebSocketConstructor", "WebSocketLike", "WideInt", "applyPatch", "codeName",
    "handlerKinds", "isMethodError", "methodKinds", "parseJson", "serverCalls", "states",
    "stringifyJson", "topics", "machines", "operations",
];

/// Members of the generated `Client` class besides the service's methods.
pub const CLIENT_MEMBERS: &[&str] = &[
    "connect", "close", "connection", "topics", "states", "machines", "operation", "constructor", "prototype",
    "toString", "valueOf", "hasOwnProperty", "then",
];

/// Whether `name` is a valid JavaScript identifier (ASCII subset: the generator only
/// emits ASCII identifiers and quotes everything else).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}
