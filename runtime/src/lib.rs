#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod auth;
mod client;
mod connection;
mod context;
mod error;
mod from_context;
pub mod machine;
mod method;
pub mod metrics;
pub mod operations;
pub mod protocol;
mod router;
pub mod schema;
mod server;
mod shared_state;
mod state;
mod streaming;
mod tls;
mod topics;
mod typed_call;
pub mod validate;

#[doc(hidden)]
pub mod __private;

pub use client::{Client, ClientBuilder};
pub use connection::{CallOptions, ClientStreamCall, Limits, Peer, Response, StreamSender};
pub use context::{ConnectionInfo, Context};
pub use error::{Error, IntoCallError, Never};
pub use from_context::FromContext;
pub use method::{Method, MethodDef};
pub use protocol::{Encoding, ErrorCode, Metadata, Payload, Shape};
/// The headers of a WebSocket upgrade request, as hooks and `Context::headers` see them.
pub use hyper::http::HeaderMap;
pub use router::{Hook, HookFuture, Router};
pub use schema::SchemaDocument;
pub use server::{shutdown_signal, BadProxy, Publisher, Server};
/// The axum volley is built on, for routes on the standalone server and for mounting
/// volley in an axum application ([`Server::router`]).
pub use axum;
pub use shared_state::{apply_patch, ConnectionState, Flush};
pub use state::State;
pub use streaming::Streaming;
pub use tls::TlsConfig;
pub use topics::{Event, Notification, Topic};
pub use typed_call::AsPeer;
pub use validate::Validate;
pub use volley_macros::{model, rpc};

/// `futures` stream traits, for handlers that return `impl Stream`.
pub use futures_core::Stream;
