//! `#[rpc]` and `#[model]` as a user meets them: handlers written as plain functions,
//! served over a real socket, and described in the schema.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::{stream, Stream, StreamExt};
use serde_json::json;
use volley::{model, rpc, CallOptions, Client, Context, Encoding, ErrorCode, Router, State, Streaming};

/// An address.
#[model]
pub struct Address {
    /// Five digits.
    #[validate(pattern = "^[0-9]{5}$")]
    pub zip: String,
}

/// A tag on a signup.
#[model]
pub struct Tag {
    #[validate(length(min = 1, max = 8))]
    pub label: String,
}

/// Someone signing up.
#[model]
#[serde(rename_all = "camelCase")]
pub struct Signup {
    /// The user's display name.
    #[validate(length(min = 1, max = 16))]
    pub user_name: String,
    #[validate(range(min = 13, max = 130))]
    pub age: u8,
    pub address: Option<Address>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// Registers a user and returns a greeting.
#[rpc(name = "users.signup")]
pub async fn signup(user: Signup, #[validate(range(min = 1))] copies: u32) -> String {
    format!("welcome {} x{copies}", user.user_name)
}

/// Counts calls in shared state and reports the caller's metadata.
#[rpc]
pub async fn whoami(ctx: Context, hits: State<Arc<AtomicU64>>) -> (u64, Option<String>, u64) {
    let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
    ctx.set_trailer("seen", n.to_string());
    (ctx.connection_id(), ctx.metadata_value("user"), n)
}

/// A plain (not async) function.
#[rpc]
pub fn double(x: i64) -> i64 {
    x * 2
}

/// The old way to double.
#[deprecated(note = "use `double`")]
#[rpc]
pub async fn twice(x: i64) -> i64 {
    x * 2
}

/// Why `checked_sub` failed.
#[model]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubError {
    /// The result would be negative.
    Negative {
        /// By how much.
        by: u64,
    },
}

impl std::fmt::Display for SubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubError::Negative { by } => write!(f, "the result would be negative by {by}"),
        }
    }
}

/// Subtracts, refusing to go below zero.
#[rpc(name = "math.checked_sub")]
pub async fn checked_sub(a: u64, b: u64) -> Result<u64, SubError> {
    a.checked_sub(b).ok_or_else(|| SubError::Negative { by: b - a })
}

/// Counts from 1 to `n`.
#[rpc]
pub async fn count(n: u32) -> impl Stream<Item = u32> {
    stream::iter(1..=n)
}

/// Fails before streaming when `n` is zero.
#[rpc]
pub async fn count_nonzero(n: u32) -> Result<impl Stream<Item = Result<u32, SubError>>, SubError> {
    if n == 0 {
        return Err(SubError::Negative { by: 1 });
    }
    Ok(stream::iter((1..=n).map(Ok)))
}

/// Sums the stream, times `factor`.
#[rpc]
pub async fn total(factor: i64, mut items: Streaming<i64>) -> Result<i64, volley::Error> {
    let mut sum = 0;
    while let Some(i) = items.next().await {
        sum += i?;
    }
    Ok(sum * factor)
}

/// Doubles every item.
#[rpc]
pub async fn doubler(items: Streaming<i64>) -> impl Stream<Item = Result<i64, volley::Error>> {
    items.map(|i| i.map(|i| i * 2))
}

/// Counts the tags it receives.
#[rpc]
pub async fn count_tags(mut tags: Streaming<Tag>) -> Result<u32, volley::Error> {
    let mut n = 0;
    while let Some(t) = tags.next().await {
        t?;
        n += 1;
    }
    Ok(n)
}

fn router() -> Router {
    let math = Router::new().rpc::<double>().rpc::<checked_sub>();
    #[allow(deprecated)]
    let r = Router::new()
        .with_state(Arc::new(AtomicU64::new(0)))
        .rpc::<signup>()
        .rpc::<whoami>()
        .rpc::<twice>()
        .rpc::<count>()
        .rpc::<count_nonzero>()
        .rpc::<total>()
        .rpc::<doubler>()
        .rpc::<count_tags>()
        .nest("calc", math);
    r
}

#[tokio::test]
async fn handlers_stay_plain_functions() {
    assert_eq!(double(4), 8);
    assert!(matches!(checked_sub(1, 3).await, Err(SubError::Negative { by: 2 })));
    let s = signup(Signup { user_name: "ann".into(), age: 30, address: None, tags: vec![] }, 2).await;
    assert_eq!(s, "welcome ann x2");
}

#[tokio::test]
async fn typed_calls_in_both_encodings() {
    let addr = common::serve(router()).await;
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let client = Client::connect_with(&common::url(addr), enc).await.unwrap();
        let p = client.peer();
        let greeting: String =
            p.call("users.signup", &json!({"user": {"userName": "ann", "age": 30, "address": {"zip": "12345"}}, "copies": 2})).await.unwrap();
        assert_eq!(greeting, "welcome ann x2");
        // Nested routers mount under the prefix, keeping their own dotted names.
        assert_eq!(p.call::<i64>("calc.double", &json!({"x": 21})).await.unwrap(), 42);
        assert_eq!(p.call::<u64>("calc.math.checked_sub", &json!({"a": 5, "b": 3})).await.unwrap(), 2);
        let err = p.call::<u64>("calc.math.checked_sub", &json!({"a": 1, "b": 4})).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::APPLICATION, "{enc:?}");
        assert!(matches!(err.data_as::<SubError>(), Some(SubError::Negative { by: 3 })), "{:?}", err.data);
        assert_eq!(err.message, "the result would be negative by 3");
    }
}

#[tokio::test]
async fn every_failing_field_is_named() {
    let addr = common::serve(router()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let bad = json!({
        "user": {"userName": "", "age": 200, "address": {"zip": "12ab"}, "tags": [{"label": "ok"}, {"label": "far too long"}]},
        "copies": 0
    });
    let err = client.peer().call::<String>("users.signup", &bad).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
    let data = err.data.expect("field errors");
    let mut paths: Vec<&str> = data["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    paths.sort();
    // Paths follow serde's renaming (`userName`), nesting and indexes.
    assert_eq!(paths, ["copies", "user.address.zip", "user.age", "user.tags[1].label", "user.userName"]);

    // A missing or mistyped field is an INVALID_PARAMS error naming it, too.
    let err = client.peer().call::<String>("users.signup", &json!({"user": {"userName": "a", "age": "x"}, "copies": 1})).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
    assert!(err.message.contains("user.age"), "{}", err.message);
    // The connection keeps serving.
    assert_eq!(client.peer().call::<i64>("calc.double", &json!({"x": 1})).await.unwrap(), 2);
}

#[tokio::test]
async fn context_state_and_metadata_reach_the_handler() {
    let addr = common::serve(router()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let r = client
        .peer()
        .call_with::<(u64, Option<String>, u64)>("whoami", &json!({}), CallOptions::new().metadata("user", "ann"))
        .await
        .unwrap();
    assert_eq!(r.value.1.as_deref(), Some("ann"));
    assert_eq!(r.trailers.get("seen").map(String::as_str), Some("1"));
    let again: (u64, Option<String>, u64) = client.peer().call("whoami", &json!({})).await.unwrap();
    assert_eq!(again.0, r.value.0, "same connection, same id");
    assert_eq!((again.1, again.2), (None, 2), "state is shared across calls");
}

#[tokio::test]
async fn stream_shapes_come_from_the_signature() {
    let addr = common::serve(router()).await;
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let client = Client::connect_with(&common::url(addr), enc).await.unwrap();
        let p = client.peer();

        let items: Vec<u32> = p.server_stream::<u32>("count", &json!({"n": 5}), CallOptions::new()).unwrap().map(Result::unwrap).collect().await;
        assert_eq!(items, [1, 2, 3, 4, 5]);

        let mut failed = p.server_stream::<u32>("count_nonzero", &json!({"n": 0}), CallOptions::new()).unwrap();
        let err = failed.next().await.unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::APPLICATION);
        assert!(failed.next().await.is_none());

        let mut up = p.client_stream::<i64, i64>("total", &json!({"factor": 10}), CallOptions::new()).unwrap();
        for i in 1..=4 {
            up.send(&i).await.unwrap();
        }
        assert_eq!(up.finish().await.unwrap().value, 100);

        let (mut tx, rx) = p.bidi_stream::<i64, i64>("doubler", &json!({}), CallOptions::new()).unwrap();
        let reader = tokio::spawn(rx.map(Result::unwrap).collect::<Vec<i64>>());
        for i in 0..100 {
            tx.send(&i).await.unwrap();
        }
        tx.finish();
        assert_eq!(reader.await.unwrap(), (0..100).map(|i| i * 2).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn the_schema_carries_docs_types_shapes_and_deprecation() {
    let schema = serde_json::to_value(router().schema()).unwrap();
    let method = |name: &str| schema["methods"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name} in schema")).clone();

    let signup = method("users.signup");
    assert_eq!(signup["description"], "Registers a user and returns a greeting.");
    assert_eq!(signup["kind"], "unary");
    assert_eq!(signup["params"]["required"], json!(["user", "copies"]));
    assert_eq!(signup["params"]["properties"]["copies"]["minimum"], 1);
    let defs = &schema["$defs"];
    assert_eq!(defs["Signup"]["properties"]["userName"]["maxLength"], 16);
    assert_eq!(defs["Signup"]["properties"]["userName"]["description"], "The user's display name.");
    assert_eq!(defs["Signup"]["properties"]["age"]["maximum"], 130);
    assert_eq!(defs["Address"]["properties"]["zip"]["pattern"], "^[0-9]{5}$");

    assert_eq!(method("twice")["deprecated"], "use `double`");
    assert_eq!(method("calc.double")["deprecated"], json!(null));

    let sub = method("calc.math.checked_sub");
    assert_eq!(sub["error"]["$ref"], "#/$defs/SubError", "{sub}");

    assert_eq!(method("count")["kind"], "server_stream");
    assert_eq!(method("total")["kind"], "client_stream");
    assert_eq!(method("doubler")["kind"], "bidi_stream");
    assert_eq!(method("total")["input"]["type"], "integer");
    assert_eq!(method("doubler")["output"]["type"], "integer");
}

#[tokio::test]
async fn stream_items_are_validated_like_parameters() {
    let addr = common::serve(router()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let mut up = client.client_stream::<serde_json::Value, u32>("count_tags", &json!({}), CallOptions::new()).unwrap();
    up.send(&json!({"label": "ok"})).await.unwrap();
    up.send(&json!({"label": "much too long"})).await.unwrap();
    let err = up.finish().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
    assert_eq!(err.data.unwrap()["errors"][0]["path"], "[1].label");

    let mut up = client.client_stream::<serde_json::Value, u32>("count_tags", &json!({}), CallOptions::new()).unwrap();
    up.send(&json!({"label": "a"})).await.unwrap();
    up.send(&json!({"label": "b"})).await.unwrap();
    assert_eq!(up.finish().await.unwrap().value, 2);
}

#[tokio::test]
async fn calling_a_deprecated_method_brings_a_warning() {
    let addr = common::serve(router()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let r = client.call_with::<i64>("twice", &json!({"x": 4}), CallOptions::new()).await.unwrap();
    assert_eq!(r.value, 8);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].code, ErrorCode::DEPRECATED);
    assert_eq!(r.warnings[0].message, "`twice` is deprecated: use `double`");
    let r = client.call_with::<i64>("calc.double", &json!({"x": 4}), CallOptions::new()).await.unwrap();
    assert!(r.warnings.is_empty());
}

/// volley under another path, as a crate that renames the dependency sees it.
mod renamed {
    pub use ::volley as inner;
}

/// A number, described and checked through `crate::renamed::inner`.
#[model(crate = "crate::macros::renamed::inner")]
pub struct Small {
    #[validate(range(max = 100))]
    pub n: i64,
}

/// Twice `n`, with the generated code rooted at `crate::renamed::inner`.
#[rpc(crate = "crate::macros::renamed::inner", name = "renamed.double")]
async fn renamed_double(small: Small) -> i64 {
    small.n * 2
}

#[tokio::test]
async fn a_renamed_crate_path_serves_and_calls() {
    let addr = common::serve(Router::new().rpc::<renamed_double>()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    assert_eq!(renamed_double::call(&client, Small { n: 21 }).await.unwrap(), 42);
    let e = renamed_double::call(&client, Small { n: 101 }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
}

/// Reads a number the caller may send as a string.
fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(u64),
        S(String),
    }
    match serde::Deserialize::deserialize(d)? {
        Either::N(n) => Ok(n),
        Either::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// A page of ids: serde's field attributes on the parameters work as on a struct's
/// fields, including those that change what serde asks of the type.
#[rpc]
async fn page(
    #[serde(rename = "userId")] user_id: u64,
    #[serde(default)] limit: u32,
    #[serde(deserialize_with = "number_or_string")]
    #[schemars(with = "String")]
    offset: u64,
) -> (u64, u32, u64) {
    (user_id, limit, offset)
}

#[tokio::test]
async fn serde_attributes_on_parameters() {
    let addr = common::serve(Router::new().rpc::<page>()).await;
    let client = Client::connect(&common::url(addr)).await.unwrap();
    let r: (u64, u32, u64) = client.call("page", &json!({"userId": 7, "offset": "40"})).await.unwrap();
    assert_eq!(r, (7, 0, 40), "limit defaults, offset is read from a string");
    let r: (u64, u32, u64) = client.call("page", &json!({"userId": 7, "limit": 5, "offset": 3})).await.unwrap();
    assert_eq!(r, (7, 5, 3));
    let schema = serde_json::to_value(Router::new().rpc::<page>().schema()).unwrap();
    let params = &schema["methods"][0]["params"];
    assert_eq!(params["required"], json!(["userId", "offset"]), "{params}");
    assert_eq!(params["properties"]["offset"]["type"], "string", "{params}");
}

#[tokio::test]
async fn an_unknown_method_says_where_the_lookup_stopped() {
    let addr = common::serve(router()).await;
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let client = Client::connect_with(&common::url(addr), enc).await.unwrap();
        let err = client.call::<i64>("calc.math.nope", &json!({})).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::METHOD_NOT_FOUND, "{enc:?}");
        let data = err.data.clone().expect("data");
        assert_eq!(data["namespace"], "calc.math", "{data}");
        assert_eq!(data["missing"], "nope", "{data}");
        assert_eq!(data["available"], json!(["checked_sub"]), "{data}");
        assert_eq!(err.message, "no method named `calc.math.nope`; `calc.math` has checked_sub");
        let err = client.call::<i64>("calc", &json!({})).await.unwrap_err();
        assert_eq!(err.data.expect("data")["available"], json!(["double", "math."]));
        // The connection keeps serving.
        assert_eq!(client.call::<i64>("calc.double", &json!({"x": 2})).await.unwrap(), 4);
    }
}
