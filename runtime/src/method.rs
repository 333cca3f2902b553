//! A method: its name, docs, shape, schemas and type-erased handler.
//!
//! `#[rpc]` builds a [`MethodDef`] through the typed constructors in `__private`
//! (`unary`, `server_stream`, `client_stream`, `bidi_stream`); the router and the
//! connection only ever see the erased form.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use futures_util::{FutureExt, StreamExt};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{de::DeserializeOwned, Serialize};

use crate::context::Context;
use crate::protocol::{Payload, Shape};
use crate::streaming::{Inbox, Streaming};
use crate::validate::Validate;
use crate::{Error, IntoCallError};

/// A method registered with `#[rpc]`. The macro implements it for a hidden type named
/// after the function, so registering is `router.rpc::<add>()`.
pub trait Method {
    /// The method's definition.
    fn definition() -> MethodDef;
}

/// Name, docs and deprecation of a method, as written in the source.
#[derive(Debug, Clone, Copy)]
pub struct MethodInfo {
    /// Full dotted name.
    pub name: &'static str,
    /// The doc comment.
    pub docs: &'static str,
    /// `Some(note)` when the function is `#[deprecated]`.
    pub deprecated: Option<&'static str>,
}

/// A boxed stream of encoded items.
pub(crate) type ItemStream = Pin<Box<dyn Stream<Item = Result<Payload, Error>> + Send>>;

/// What a handler produced.
pub(crate) enum Outcome {
    /// A unary or client-stream result.
    Value(Payload),
    /// A server or bidi stream.
    Stream(ItemStream),
    /// A failure.
    Error(Error),
}

/// A handler's outcome, once its future completes.
pub(crate) type BoxedOutcome = Pin<Box<dyn Future<Output = Outcome> + Send>>;

pub(crate) type Handler = dyn Fn(Context, Payload, Option<Inbox>) -> BoxedOutcome + Send + Sync;

/// Computes a method's schemas.
pub(crate) type SchemaFn = Arc<dyn Fn(&mut SchemaGenerator) -> MethodSchemas + Send + Sync>;

/// The schemas of one method.
pub(crate) struct MethodSchemas {
    pub params: Schema,
    pub result: Option<Schema>,
    pub input: Option<Schema>,
    pub output: Option<Schema>,
    pub error: Option<Schema>,
}

/// The schema of `data` in a method's `APPLICATION` errors, if typed.
pub type ErrorSchemaFn = fn(&mut SchemaGenerator) -> Option<Schema>;

/// A method ready to be registered: metadata, schemas and handler.
#[derive(Clone)]
pub struct MethodDef {
    pub(crate) name: String,
    /// The name as a metrics label, set when the method is routed.
    pub(crate) metric_label: metrics::SharedString,
    pub(crate) docs: &'static str,
    pub(crate) deprecated: Option<&'static str>,
    pub(crate) shape: Shape,
    pub(crate) schemas: SchemaFn,
    pub(crate) handler: Arc<Handler>,
    /// Set for a sequential method: the group whose calls, on one connection, run one
    /// at a time in arrival order (a router's methods share one).
    pub(crate) sequence: Option<Arc<str>>,
    /// Set for an operation (`Router::operation`): the schema of its progress updates.
    pub(crate) operation: Option<fn(&mut SchemaGenerator) -> Schema>,
}

impl std::fmt::Debug for MethodDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodDef").field("name", &self.name).field("shape", &self.shape).finish_non_exhaustive()
    }
}

impl MethodDef {
    /// The method's full name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The method's shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The doc comment.
    pub fn docs(&self) -> &'static str {
        self.docs
    }

    /// The deprecation note, if deprecated.
    pub fn deprecated(&self) -> Option<&'static str> {
        self.deprecated
    }

    /// The same method under `prefix.` (used when mounting a router under a prefix).
    /// Makes the method sequential: one connection's calls to it run one after another,
    /// in the order they arrived, each starting once the one before has finished
    /// (hat.juggler's `parallel_requests=False`). Calls on other connections, and to
    /// other methods, are not held up.
    ///
    /// ```
    /// # use volley::{rpc, Router, Method};
    /// /// Appends to this connection's log.
    /// #[rpc]
    /// async fn append(line: String) -> usize { line.len() }
    ///
    /// let router = Router::new().method(append::definition().sequential());
    /// assert!(router.schema().methods.iter().any(|m| m.name == "append" && m.sequential));
    /// ```
    pub fn sequential(self) -> Self {
        let group = Arc::from(self.name.as_str());
        self.in_sequence(group)
    }

    /// A method served by a handler that decodes its own params, and is described
    /// elsewhere in the schema than among the methods (a machine's events).
    pub(crate) fn erased(name: String, shape: Shape, handler: Arc<Handler>) -> Self {
        MethodDef {
            name,
            metric_label: metrics::SharedString::const_str(""),
            docs: "",
            deprecated: None,
            shape,
            schemas: Arc::new(|_| MethodSchemas {
                params: Schema::default(),
                result: None,
                input: None,
                output: None,
                error: None,
            }),
            handler,
            sequence: None,
            operation: None,
        }
    }

    pub(crate) fn in_sequence(mut self, group: Arc<str>) -> Self {
        self.sequence = Some(group);
        self
    }

    pub(crate) fn prefixed(mut self, prefix: &str) -> Self {
        self.name = format!("{prefix}.{}", self.name);
        self
    }

    /// This method's entry in the introspection document, generated with `gen`.
    pub fn describe(&self, gen: &mut SchemaGenerator) -> crate::schema::MethodDoc {
        let s = (self.schemas)(gen);
        crate::schema::MethodDoc {
            name: self.name.clone(),
            description: crate::schema::clean_docs(self.docs),
            deprecated: self.deprecated.map(str::to_owned),
            side: crate::schema::Side::Server,
            kind: self.shape,
            params: s.params.to_value(),
            result: s.result.map(Schema::to_value),
            input: s.input.map(Schema::to_value),
            output: s.output.map(Schema::to_value),
            error: s.error.map(Schema::to_value),
            sequential: self.sequence.is_some(),
            operation: self.operation.map(|progress| crate::schema::OperationDoc { progress: progress(gen).to_value() }),
        }
    }
}

/// Decodes and validates a call's parameters.
fn decode_params<P: DeserializeOwned + Validate>(ctx: &Context, params: &Payload) -> Result<P, Error> {
    let p: P = ctx.encoding().decode_value(params.as_bytes()).map_err(|e| {
        Error::invalid_params(vec![crate::validate::FieldError { path: e.path, message: crate::error::bounded(&e.message) }])
    })?;
    p.check().map_err(Error::invalid_params)?;
    Ok(p)
}

fn encode<T: Serialize>(ctx: &Context, value: &T) -> Result<Payload, Error> {
    ctx.encoding()
        .encode_value(value)
        .map_err(|e| Error::internal(format!("the result could not be encoded: {e}")))
}

fn params_schema<P: JsonSchema>(gen: &mut SchemaGenerator) -> Schema {
    // Inline (not a $ref): the params object is the method's own, not a shared type.
    let mut schema = P::json_schema(gen);
    // Always an object schema with `properties`, even for a method without parameters
    // (PROTOCOL.md section 9), so readers need no special case.
    schema.ensure_object().entry("properties").or_insert_with(|| serde_json::json!({}));
    schema
}

fn encode_items<T, S>(ctx: Context, s: S) -> ItemStream
where
    T: Serialize + Send + 'static,
    S: Stream<Item = Result<T, Error>> + Send + 'static,
{
    Box::pin(s.map(move |item| item.and_then(|v| encode(&ctx, &v))))
}

/// What the four builders share: the definition around a handler that decodes and
/// validates the parameters, then runs `run` with them (and the caller's stream, for
/// shapes that have one).
fn define<P>(
    info: MethodInfo,
    shape: Shape,
    schemas: impl Fn(&mut SchemaGenerator) -> MethodSchemas + Send + Sync + 'static,
    run: impl Fn(Context, P, Option<Inbox>) -> BoxedOutcome + Send + Sync + 'static,
) -> MethodDef
where
    P: DeserializeOwned + Validate,
{
    MethodDef {
        name: info.name.to_owned(),
        metric_label: metrics::SharedString::const_str(""),
        docs: info.docs,
        deprecated: info.deprecated,
        shape,
        schemas: Arc::new(schemas),
        handler: Arc::new(move |ctx, params, inbox| match decode_params::<P>(&ctx, &params) {
            Ok(p) => run(ctx, p, inbox),
            Err(e) => Box::pin(std::future::ready(Outcome::Error(e))),
        }),
        sequence: None,
        operation: None,
    }
}

/// The caller's stream of a client or bidirectional call.
fn input<I>(ctx: &Context, inbox: Option<Inbox>) -> Streaming<I> {
    Streaming::new(inbox.expect("calls with a caller stream get an inbox"), ctx.encoding())
}

/// A handler's final value, encoded.
fn value_outcome<T>(ctx: Context, fut: impl Future<Output = Result<T, Error>> + Send + 'static) -> BoxedOutcome
where
    T: Serialize + Send + 'static,
{
    Box::pin(fut.map(move |r| match r.and_then(|v| encode(&ctx, &v)) {
        Ok(v) => Outcome::Value(v),
        Err(e) => Outcome::Error(e),
    }))
}

/// A handler's stream, its items encoded as they are produced.
fn stream_outcome<T, S>(ctx: Context, fut: impl Future<Output = Result<S, Error>> + Send + 'static) -> BoxedOutcome
where
    T: Serialize + Send + 'static,
    S: Stream<Item = Result<T, Error>> + Send + 'static,
{
    Box::pin(fut.map(move |r| match r {
        Ok(s) => Outcome::Stream(encode_items(ctx, s)),
        Err(e) => Outcome::Error(e),
    }))
}

/// Builds a unary method.
pub fn unary<P, T, F, Fut>(info: MethodInfo, error_schema: ErrorSchemaFn, f: F) -> MethodDef
where
    P: DeserializeOwned + JsonSchema + Validate + Send + 'static,
    T: Serialize + JsonSchema + Send + 'static,
    F: Fn(Context, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let schemas = move |g: &mut SchemaGenerator| MethodSchemas {
        params: params_schema::<P>(g),
        result: Some(g.subschema_for::<T>()),
        input: None,
        output: None,
        error: error_schema(g),
    };
    define(info, Shape::Unary, schemas, move |ctx, p: P, _| value_outcome(ctx.clone(), f(ctx, p)))
}

/// Builds a server-streaming method.
pub fn server_stream<P, T, S, F, Fut>(info: MethodInfo, error_schema: ErrorSchemaFn, f: F) -> MethodDef
where
    P: DeserializeOwned + JsonSchema + Validate + Send + 'static,
    T: Serialize + JsonSchema + Send + 'static,
    S: Stream<Item = Result<T, Error>> + Send + 'static,
    F: Fn(Context, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, Error>> + Send + 'static,
{
    let schemas = move |g: &mut SchemaGenerator| MethodSchemas {
        params: params_schema::<P>(g),
        result: None,
        input: None,
        output: Some(g.subschema_for::<T>()),
        error: error_schema(g),
    };
    define(info, Shape::ServerStream, schemas, move |ctx, p: P, _| stream_outcome(ctx.clone(), f(ctx, p)))
}

/// Builds a client-streaming method.
pub fn client_stream<P, I, T, F, Fut>(info: MethodInfo, error_schema: ErrorSchemaFn, f: F) -> MethodDef
where
    P: DeserializeOwned + JsonSchema + Validate + Send + 'static,
    I: DeserializeOwned + JsonSchema + Send + 'static,
    T: Serialize + JsonSchema + Send + 'static,
    F: Fn(Context, P, Streaming<I>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let schemas = move |g: &mut SchemaGenerator| MethodSchemas {
        params: params_schema::<P>(g),
        result: Some(g.subschema_for::<T>()),
        input: Some(g.subschema_for::<I>()),
        output: None,
        error: error_schema(g),
    };
    define(info, Shape::ClientStream, schemas, move |ctx, p: P, inbox| {
        let items = input(&ctx, inbox);
        value_outcome(ctx.clone(), f(ctx, p, items))
    })
}

/// Builds a bidirectional-streaming method.
pub fn bidi_stream<P, I, T, S, F, Fut>(info: MethodInfo, error_schema: ErrorSchemaFn, f: F) -> MethodDef
where
    P: DeserializeOwned + JsonSchema + Validate + Send + 'static,
    I: DeserializeOwned + JsonSchema + Send + 'static,
    T: Serialize + JsonSchema + Send + 'static,
    S: Stream<Item = Result<T, Error>> + Send + 'static,
    F: Fn(Context, P, Streaming<I>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, Error>> + Send + 'static,
{
    let schemas = move |g: &mut SchemaGenerator| MethodSchemas {
        params: params_schema::<P>(g),
        result: None,
        input: Some(g.subschema_for::<I>()),
        output: Some(g.subschema_for::<T>()),
        error: error_schema(g),
    };
    define(info, Shape::BidiStream, schemas, move |ctx, p: P, inbox| {
        let items = input(&ctx, inbox);
        stream_outcome(ctx.clone(), f(ctx, p, items))
    })
}

/// Turns a stream of plain items into the fallible form the runtime drives.
pub fn stream_ok<T, S: Stream<Item = T>>(s: S) -> impl Stream<Item = Result<T, Error>> {
    s.map(Ok)
}

/// Turns a stream of `Result<T, E>` items into the runtime's form, converting errors.
pub fn stream_result<T, E: IntoCallError, S: Stream<Item = Result<T, E>>>(s: S) -> impl Stream<Item = Result<T, Error>> {
    s.map(|r| r.map_err(IntoCallError::into_call_error))
}
