//! volley's server and client over real sockets, one module per part of the protocol
//! or the server. One test binary for all of them: each extra binary would link volley
//! again. Tests that need the process to themselves (the metrics recorder is global;
//! trybuild runs compilers) keep their own binaries beside this one.

#[path = "../common/mod.rs"]
mod common;

mod asyncapi;
mod auth;
mod connection_state;
mod docs;
mod hooks;
mod http;
mod limits;
mod machines;
mod macros;
mod notifications;
mod operations;
mod panics;
mod proxies;
mod sequential;
mod shared_state;
mod streams;
mod tls;
mod warnings;
mod wire;
