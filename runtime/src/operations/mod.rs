//! Long-running operations (PROTOCOL.md section 14), after auto-trainer-api's pending
//! commands and Google's long-running operations: a method whose handler may answer at
//! once, or [`accept`](Operation::accept) the command and answer later. An accepted
//! operation has an id, sent to the caller at once (leading metadata
//! `volley-operation`); it runs on whether or not the caller's connection stays, its
//! progress goes to whoever watches it, and its outcome is kept for a while, to be
//! fetched or awaited by id from any connection (`volley.operation.get`, `.wait`),
//! listed (`.list`) and cancelled (`.cancel`).
//!
//! ```
//! use volley::operations::Operation;
//! use volley::{Error, Router};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Calibrate { axes: u32 }
//!
//! let router = Router::new().operation("device.calibrate", "Calibrates every axis.", |op: Operation<u32>, p: Calibrate| async move {
//!     op.accept(); // the caller has the id from now on
//!     for axis in 1..=p.axes {
//!         op.progress(&axis)?;
//!     }
//!     Ok::<_, Error>(format!("{} axes calibrated", p.axes))
//! });
//! let doc = router.schema();
//! let m = doc.methods.iter().find(|m| m.name == "device.calibrate").unwrap();
//! assert!(m.operation.is_some());
//! ```

mod store;

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use store::{DEFAULT_CAPACITY, DEFAULT_RETENTION};

pub(crate) use store::Store;
use store::{Entry, PROGRESS_TOPIC};

use crate::method::{MethodDef, MethodInfo, MethodSchemas, Outcome};
use crate::protocol::{Payload, Shape};
use crate::{Context, Error};

/// An operation, as its handler sees it; `G` is the type of its progress updates.
pub struct Operation<G = ()> {
    entry: Arc<Entry>,
    ctx: Context,
    _progress: PhantomData<fn(&G)>,
}

impl<G> Operation<G> {
    /// The operation's id: 32 hex digits, unguessable.
    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// Makes the call an operation: its id goes to the caller now, and from here on it
    /// runs whether or not the caller stays connected, until it ends or is cancelled
    /// with `volley.operation.cancel`. A handler that returns without accepting
    /// answers the call as any method does, and leaves no operation behind.
    pub fn accept(&self) {
        self.entry.accept();
    }

    /// The context of the call that started the operation (its connection may be gone).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// True once the operation was cancelled (before it was accepted: the call was).
    pub fn is_cancelled(&self) -> bool {
        self.entry.cancel.is_cancelled()
    }

    /// Resolves when the operation is cancelled; the handler's future is dropped then
    /// anyway, so this is for work it hands to other tasks.
    pub async fn cancelled(&self) {
        self.entry.cancel.cancelled().await
    }
}

impl<G: Serialize> Operation<G> {
    /// Reports progress: kept as the operation's latest (`volley.operation.get`), and
    /// sent to the connections watching it as a notification on `volley.operation`,
    /// `{"id": .., "progress": ..}` (dropped, as notifications are, for a client too
    /// slow to read them).
    pub fn progress(&self, progress: &G) -> Result<(), Error> {
        let value = serde_json::to_value(progress).map_err(|e| Error::internal(format!("the progress does not serialize: {e}")))?;
        self.entry.progress(value);
        Ok(())
    }
}

impl<G> std::fmt::Debug for Operation<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("id", &self.entry.id).field("method", &self.entry.method).finish()
    }
}

/// Who an operation belongs to, for `volley.operation.list`.
fn owner(ctx: &Context) -> String {
    match ctx.extension::<crate::auth::User>() {
        Some(user) => format!("user:{}", user.name),
        None => format!("connection:{}", ctx.connection_id()),
    }
}

/// The method `name`, served by `handler` as an operation: params `P` (an object),
/// result `R`, progress `G`.
pub(crate) fn method<P, R, G, F, Fut>(name: &str, description: &str, handler: F) -> MethodDef
where
    P: DeserializeOwned + JsonSchema + Send + 'static,
    R: Serialize + JsonSchema + Send + 'static,
    G: Serialize + JsonSchema + Send + 'static,
    F: Fn(Operation<G>, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Error>> + Send + 'static,
{
    let method_name = name.to_owned();
    let handler = Arc::new(handler);
    let run = move |ctx: Context, params: Payload, _| -> crate::method::BoxedOutcome {
        let p: P = match ctx.encoding().decode_value(params.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                let error = Error::invalid_params(vec![crate::validate::FieldError { path: e.path, message: crate::error::bounded(&e.message) }]);
                return Box::pin(std::future::ready(Outcome::Error(error)));
            }
        };
        let store = ctx.peer().0.routes.operations.clone();
        let entry = match store.create(&method_name, owner(&ctx)) {
            Ok(entry) => entry,
            Err(e) => return Box::pin(std::future::ready(Outcome::Error(e))),
        };
        entry.watch(&ctx.peer().0);
        let op = Operation { entry: entry.clone(), ctx: ctx.clone(), _progress: PhantomData };
        let work = handler(op, p);
        let running = entry.clone();
        tokio::spawn(async move {
            let outcome = tokio::select! {
                r = work => r.and_then(|v| serde_json::to_value(v).map_err(|e| Error::internal(format!("the result does not serialize: {e}")))),
                _ = running.cancel.cancelled() => Err(Error::new(crate::ErrorCode::CANCELLED, "the operation was cancelled")),
            };
            running.finish(outcome);
        });
        Box::pin(answer(ctx, store, entry))
    };
    let schemas = move |g: &mut schemars::SchemaGenerator| {
        let mut params = P::json_schema(g);
        params.ensure_object().entry("properties").or_insert_with(|| serde_json::json!({}));
        MethodSchemas { params, result: Some(g.subschema_for::<R>()), input: None, output: None, error: None }
    };
    let mut def = MethodDef::erased(name.to_owned(), Shape::Unary, Arc::new(run));
    def.schemas = Arc::new(schemas);
    def.docs = Box::leak(description.to_owned().into_boxed_str());
    def.operation = Some(|g: &mut schemars::SchemaGenerator| g.subschema_for::<G>());
    def
}

/// The call's answer: the operation's id in leading metadata once accepted, then its
/// outcome. Dropped before the operation was accepted (the call cancelled, timed out,
/// or its connection gone), it cancels the work: until then it is an ordinary call.
async fn answer(ctx: Context, store: Arc<Store>, entry: Arc<Entry>) -> Outcome {
    struct Unaccepted(Option<Arc<Entry>>, Arc<Store>);
    impl Drop for Unaccepted {
        fn drop(&mut self) {
            if let Some(entry) = self.0.take() {
                entry.cancel.cancel();
                self.1.remove(&entry.id);
            }
        }
    }
    let mut guard = Unaccepted(Some(entry.clone()), store.clone());
    let mut rx = entry.changed.subscribe();
    let mut told = false;
    loop {
        let (accepted, outcome) = {
            let st = entry.state.lock().unwrap();
            (st.accepted, st.outcome.clone())
        };
        if accepted && !told {
            told = true;
            guard.0 = None;
            ctx.set_leading("volley-operation", entry.id.clone());
            crate::connection::send_leading(&ctx.peer().0, &ctx);
        }
        if let Some(outcome) = outcome {
            if !accepted {
                guard.0 = None;
                store.remove(&entry.id);
            }
            return match outcome.and_then(|v| ctx.encoding().encode_value(&v).map_err(|e| Error::internal(format!("the result could not be encoded: {e}")))) {
                Ok(v) => Outcome::Value(v),
                Err(e) => Outcome::Error(e),
            };
        }
        if rx.changed().await.is_err() {
            return Outcome::Error(Error::internal("the operation was dropped"));
        }
    }
}

/// The reserved methods of operations: `volley.operation.get`, `.wait`, `.cancel` and
/// `.list`.
pub(crate) fn reserved_methods() -> Vec<MethodDef> {
    #[derive(serde::Deserialize, JsonSchema)]
    struct ById {
        id: String,
    }
    impl crate::validate::Validate for ById {
        fn validate(&self, _: &mut crate::validate::Violations) {}
    }
    #[derive(serde::Deserialize, JsonSchema)]
    struct Nothing {}
    impl crate::validate::Validate for Nothing {
        fn validate(&self, _: &mut crate::validate::Violations) {}
    }
    let never = <crate::Never as crate::IntoCallError>::error_schema;
    let store = |ctx: &Context| ctx.peer().0.routes.operations.clone();
    vec![
        crate::method::unary::<ById, serde_json::Value, _, _>(
            MethodInfo { name: "volley.operation.get", docs: "An operation: whether it is done, its latest progress, its result or error.", deprecated: None },
            never,
            move |ctx, p: ById| {
                let found = store(&ctx).get(&p.id);
                async move { Ok(found?.describe()) }
            },
        ),
        crate::method::unary::<ById, serde_json::Value, _, _>(
            MethodInfo { name: "volley.operation.wait", docs: "Waits for an operation to end; answers its result or fails with its error. Its progress comes meanwhile.", deprecated: None },
            never,
            move |ctx, p: ById| {
                let found = store(&ctx).get(&p.id);
                async move {
                    let entry = found?;
                    entry.watch(&ctx.peer().0);
                    if let Some(p) = entry.state.lock().unwrap().progress.clone() {
                        if let Ok(value) = ctx.peer().0.encode(&serde_json::json!({ "id": entry.id, "progress": p })) {
                            crate::topics::enqueue(&ctx.peer().0, crate::protocol::Frame::Notify { topic: PROGRESS_TOPIC.to_owned(), value });
                        }
                    }
                    entry.ended().await
                }
            },
        ),
        crate::method::unary::<ById, bool, _, _>(
            MethodInfo { name: "volley.operation.cancel", docs: "Cancels a running operation: true, or false when it had already ended (its outcome stays).", deprecated: None },
            never,
            move |ctx, p: ById| {
                let found = store(&ctx).get(&p.id);
                async move {
                    let entry = found?;
                    let running = entry.state.lock().unwrap().outcome.is_none();
                    if running {
                        entry.cancel.cancel();
                        let _ = entry.ended().await;
                    }
                    Ok(running)
                }
            },
        ),
        crate::method::unary::<Nothing, serde_json::Value, _, _>(
            MethodInfo { name: "volley.operation.list", docs: "The caller's operations (its user's, or this connection's), oldest first.", deprecated: None },
            never,
            move |ctx, _: Nothing| {
                let list: Vec<serde_json::Value> = store(&ctx).list(&owner(&ctx)).iter().map(|e| e.describe()).collect();
                async move { Ok(serde_json::Value::Array(list)) }
            },
        ),
    ]
}
