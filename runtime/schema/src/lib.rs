//! The volley introspection document (PROTOCOL.md section 9): the one contract between
//! a server, the code generator and the generated SDKs.
//!
//! The server (the `volley` crate) builds a [`SchemaDocument`] from its router and
//! serves it at `GET /schema`; `volley generate` reads one back. Both use these types,
//! so the document is declared once. Types stay JSON Schema values here: the server
//! writes them with schemars, the generator maps them to each language's types.
//!
//! Reading is lenient where the protocol lets a server leave a field out (a missing
//! description is empty, a missing `result` is absent), and strict where a value must
//! be one the reader knows: an unknown `side` or `kind` is an error that names it.
//!
//! [`asyncapi`] renders a document as AsyncAPI 3.0.0, for tools that read AsyncAPI.

mod asyncapi;
mod document;
mod shape;

pub use document::{ErrorDoc, EventDoc, MachineDoc, MachineStateDoc, MethodDoc, OperationDoc, SchemaDocument, Scope, StateDoc, TopicDoc, SCHEMA_VERSION, SUPPORTED_VERSIONS};
pub use asyncapi::{asyncapi, ASYNCAPI_VERSION};
pub use shape::{Shape, Side};
