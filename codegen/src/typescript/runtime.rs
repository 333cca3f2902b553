//! The runtime modules a TypeScript SDK can vendor (`templates/typescript/runtime/`), in
//! dependency order (the core, then each optional feature's), with their text.
//! [`super::model::runtime_modules`] decides which a service gets.

macro_rules! modules {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/typescript/runtime/", $name, ".ts")))),*]
    };
}

/// Each module's name (`src/runtime/<name>.ts`) and source.
pub const MODULES: &[(&str, &str)] = modules![
    "frames", "errors", "codec", "credit", "queue", "socket", "reconnect", "calls", "connection",
    "streams", "server_calls", "subscriptions", "topics", "patch", "state", "machines", "operations",
];

/// The position of a module in [`MODULES`].
pub fn position(name: &str) -> usize {
    MODULES.iter().position(|(n, _)| *n == name).unwrap_or_else(|| panic!("no runtime module {name}"))
}

/// A module's source.
pub fn source(name: &str) -> &'static str {
    MODULES[position(name)].1
}
