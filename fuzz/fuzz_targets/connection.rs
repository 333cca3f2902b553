//! One WebSocket connection to a live volley server, driven by a fuzz input.
//!
//! The input (decoded with `arbitrary`) picks an encoding and a sequence of steps: frames
//! that are structurally valid (`CALL` to known and unknown methods with fitting or
//! arbitrary params and options, `ITEM`, `END`, `CANCEL`, `STOP`, `CREDIT`, `META`,
//! `WARNING`, `NOTIFY`, and the frames only a callee or the server should send), encoded
//! frames that are then cut short or have a byte changed, raw garbage messages of either
//! WebSocket type, pings, flushes and short pauses. They are sent on one connection, then
//! a final `add(1, 2)` `CALL` with a fresh id, and the server's frames are read until
//! its `RESULT` arrives. Then the client closes the connection and reads on until the
//! server has closed it too.
//!
//! Checked:
//! - the final call is answered `3` within the timeout (the connection keeps serving);
//! - every frame the server sends is of the encoding's message type and decodes;
//! - for every call id, the server sends at most one final frame (`RESULT`, `ERROR` on
//!   that id, or the `END` closing its stream) — counted over everything it sends until
//!   the connection is closed;
//! - the server closes the connection after the client's close (no hang).
#![no_main]

use std::collections::HashMap;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use futures_util::{SinkExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use tokio_tungstenite::tungstenite::Message;
use volley::protocol::{CallExt, ErrorBody, Frame, Metadata, Payload};
use volley::{Encoding, ErrorCode};

/// Steps taken from one input, at most (keeps open calls well below the server's 256
/// concurrent calls, so the final call is never legitimately queued behind stuck ones).
const MAX_STEPS: usize = 64;
/// Ids are below 2^53 (PROTOCOL.md section 2); a message that could use up an id this
/// high is left out, so a fresh odd id always remains for the final call.
const ID_CEILING: u64 = (1 << 53) - 3;
/// Milliseconds of pauses one input may take in all; later pauses only flush and yield.
/// (Pauses let the server act on part of the sequence before the rest arrives, but each
/// costs a timer tick: a few per input keep the target fast.)
const PAUSE_BUDGET_MS: u8 = 2;
/// How long the final call may take, and how long the server may take to close.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An input: the encoding (JSON or MessagePack), then steps until the bytes run out.
/// (Steps are read back to back rather than as an `arbitrary` `Vec`, whose elements
/// each cost a continue-flag byte: random bytes then make long sequences.)
#[derive(Debug)]
struct Input {
    msgpack: bool,
    steps: Vec<Step>,
}

impl Input {
    fn parse(data: &[u8]) -> arbitrary::Result<Input> {
        let mut u = Unstructured::new(data);
        let msgpack = bool::arbitrary(&mut u)?;
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < MAX_STEPS {
            match Step::arbitrary(&mut u) {
                Ok(step) => steps.push(step),
                Err(_) => break,
            }
        }
        Ok(Input { msgpack, steps })
    }
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// A structurally valid frame.
    Frame(Spec),
    /// An encoded frame, cut short and/or with one byte replaced, optionally sent in the
    /// other WebSocket message type.
    Mangled { spec: Spec, cut: Option<u16>, flip: Option<(u16, u8)>, wrong_type: bool },
    /// Raw bytes in a binary message, or (lossily made UTF-8) in a text message.
    Garbage { binary: bool, bytes: Vec<u8> },
    Ping(Vec<u8>),
    Flush,
    /// Flushes, then waits 0 to 2 ms (within `PAUSE_BUDGET_MS` for the input).
    Pause(u8),
}

#[derive(Arbitrary, Debug)]
enum Id {
    /// A fresh odd id, above every id used so far.
    Fresh,
    /// An id a `CALL` of this input used (or 1).
    Opened(u8),
    /// The id of the last `CALL` sent.
    Last,
    Small(u8),
    Any(u64),
}

#[derive(Arbitrary, Debug)]
enum MethodName {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Params {
    /// Params of the right shape for the method, from these numbers and text.
    Fitting { a: i64, b: i64, s: String },
    Value(Val),
    /// Left out (element 3 absent, or `null` when options follow).
    Absent,
}

#[derive(Arbitrary, Debug)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Arr(Vec<Val>),
    Obj(Vec<(String, Val)>),
}

impl Val {
    fn json(&self) -> serde_json::Value {
        use serde_json::Value as V;
        match self {
            Val::Null => V::Null,
            Val::Bool(b) => V::Bool(*b),
            Val::Int(i) => V::from(*i),
            Val::UInt(u) => V::from(*u),
            Val::Float(f) => V::from(*f),
            Val::Str(s) => V::String(s.clone()),
            Val::Arr(a) => V::Array(a.iter().map(Val::json).collect()),
            Val::Obj(o) => V::Object(o.iter().map(|(k, v)| (k.clone(), v.json())).collect()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Key {
    Scale,
    Reserved,
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct Meta(Vec<(Key, String)>);

impl Meta {
    fn map(&self) -> Metadata {
        self.0
            .iter()
            .map(|(k, v)| {
                let k = match k {
                    Key::Scale => "scale".to_owned(),
                    Key::Reserved => "volley-x".to_owned(),
                    Key::Other(s) => s.clone(),
                };
                (k, v.clone())
            })
            .collect()
    }
}

#[derive(Arbitrary, Debug)]
enum Spec {
    Call { id: Id, method: MethodName, params: Params, meta: Meta, timeout_ms: Option<u8>, window: Option<u32> },
    Item { id: Id, value: Val },
    End { id: Id, trailers: Meta },
    Cancel { id: Id, reason: Option<(i64, String)> },
    Stop { id: Id },
    Credit { id: Id, n: u32 },
    Meta { id: Id, metadata: Meta },
    Warning { id: Id, code: i64, message: String, data: Option<Val> },
    Notify { topic: String, value: Val },
    // What only a callee (or the server) sends: the server must cope with them too.
    Result { id: Id, value: Val, trailers: Meta },
    Error { id: Id, code: i64, message: String, data: Option<Val>, trailers: Meta },
    State { name: String, patch: Val },
}

/// What the input has done so far, for picking ids.
struct Ids {
    /// Every id any view of a sent message could read (the highest bounds the fresh ids).
    highest: u64,
    opened: Vec<u64>,
}

impl Ids {
    fn fresh(&self) -> u64 {
        if self.highest % 2 == 1 {
            self.highest + 2
        } else {
            self.highest + 1
        }
    }

    fn pick(&self, id: &Id) -> u64 {
        match id {
            Id::Fresh => self.fresh(),
            Id::Opened(k) if !self.opened.is_empty() => self.opened[*k as usize % self.opened.len()],
            Id::Opened(_) => 1,
            Id::Last => self.opened.last().copied().unwrap_or(1),
            Id::Small(n) => u64::from(*n),
            Id::Any(n) => *n,
        }
    }
}

fn method_name(m: &MethodName) -> String {
    match m {
        MethodName::Known(k) => volley_fuzz::METHODS[*k as usize % volley_fuzz::METHODS.len()].to_owned(),
        MethodName::Other(s) => s.clone(),
    }
}

fn fitting_params(method: &str, a: i64, b: i64, s: &str) -> serde_json::Value {
    use serde_json::json;
    // Mostly in range, sometimes just outside, so validation is exercised both ways.
    let small = |x: i64, max: i64| x.rem_euclid(max + 2);
    match method {
        "add" | "old.add" => json!({ "a": a, "b": b }),
        "count" => json!({ "n": small(a, 64) }),
        "ticks" => json!({ "n": small(a, 16), "every_ms": small(b, 3) }),
        "nap" => json!({ "ms": small(a, 5) }),
        "check" => json!({ "n": a }),
        "greet" => json!({ "greeting": { "name": s, "times": small(a, 3) } }),
        "volley.subscribe" | "volley.unsubscribe" => json!({ "topics": [s], "states": [s] }),
        _ => json!({}),
    }
}

fn payload(enc: Encoding, v: &serde_json::Value) -> Payload {
    enc.encode_value(v).expect("a serde_json::Value always encodes")
}

fn build(enc: Encoding, spec: &Spec, ids: &Ids) -> Frame {
    let p = |v: &Val| payload(enc, &v.json());
    match spec {
        Spec::Call { id, method, params, meta, timeout_ms, window } => {
            let method = method_name(method);
            let params = match params {
                Params::Fitting { a, b, s } => payload(enc, &fitting_params(&method, *a, *b, s)),
                Params::Value(v) => p(v),
                Params::Absent => payload(enc, &serde_json::Value::Null),
            };
            let options =
                CallExt { metadata: meta.map(), timeout_ms: timeout_ms.map(|t| u64::from(t % 16)), window: *window };
            Frame::Call { id: ids.pick(id), method, params, options }
        }
        Spec::Item { id, value } => Frame::Item { id: ids.pick(id), value: p(value) },
        Spec::End { id, trailers } => Frame::End { id: ids.pick(id), trailers: trailers.map() },
        Spec::Cancel { id, reason } => {
            Frame::Cancel { id: ids.pick(id), reason: reason.as_ref().map(|(c, m)| (ErrorCode(*c), m.clone())) }
        }
        Spec::Stop { id } => Frame::Stop { id: ids.pick(id) },
        Spec::Credit { id, n } => Frame::Credit { id: ids.pick(id), n: *n },
        Spec::Meta { id, metadata } => Frame::Meta { id: ids.pick(id), metadata: metadata.map() },
        Spec::Warning { id, code, message, data } => Frame::Warning {
            id: ids.pick(id),
            warning: ErrorBody { code: ErrorCode(*code), message: message.clone(), data: data.as_ref().map(p) },
        },
        Spec::Notify { topic, value } => Frame::Notify { topic: topic.clone(), value: p(value) },
        Spec::Result { id, value, trailers } => Frame::Result { id: ids.pick(id), value: p(value), trailers: trailers.map() },
        Spec::Error { id, code, message, data, trailers } => Frame::Error {
            id: ids.pick(id),
            error: ErrorBody { code: ErrorCode(*code), message: message.clone(), data: data.as_ref().map(p) },
            trailers: trailers.map(),
        },
        Spec::State { name, patch } => Frame::State { name: name.clone(), patch: p(patch) },
    }
}

fn other(enc: Encoding) -> Encoding {
    match enc {
        Encoding::Json => Encoding::MsgPack,
        Encoding::MsgPack => Encoding::Json,
    }
}

/// Every id the server could read from `bytes` sent as `binary`: by a full decode, and by
/// the head peeks it uses for frames it cannot decode, in either encoding.
fn readable_ids(enc: Encoding, bytes: &[u8]) -> Vec<u64> {
    let mut ids = Vec::new();
    for e in [enc, other(enc)] {
        match e.decode_frame(&bytes::Bytes::copy_from_slice(bytes)) {
            Ok(f) => ids.extend(f.call_id()),
            Err(d) => ids.extend(d.id),
        }
        ids.extend(e.peek_head(bytes).1);
    }
    ids
}

/// What to send.
enum Out {
    Msg(Message),
    Flush,
    Pause(u8),
}

fn messages(enc: Encoding, steps: &[Step]) -> (Vec<Out>, u64) {
    let mut ids = Ids { highest: 0, opened: Vec::new() };
    let mut out = Vec::new();
    let make = |binary: bool, bytes: Vec<u8>| {
        if binary {
            Message::binary(bytes)
        } else {
            Message::text(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    for step in steps.iter().take(MAX_STEPS) {
        let (msg, call) = match step {
            Step::Flush => {
                out.push(Out::Flush);
                continue;
            }
            Step::Pause(ms) => {
                out.push(Out::Pause(ms % 3));
                continue;
            }
            Step::Ping(p) => (Message::Ping(p.clone().into()), None),
            Step::Frame(spec) => {
                let frame = build(enc, spec, &ids);
                let call = matches!(frame, Frame::Call { .. }).then(|| frame.call_id()).flatten();
                (make(enc.is_binary(), enc.frame_to_vec(&frame)), call)
            }
            Step::Mangled { spec, cut, flip, wrong_type } => {
                let mut bytes = enc.frame_to_vec(&build(enc, spec, &ids));
                if let Some((at, b)) = flip {
                    if !bytes.is_empty() {
                        let i = *at as usize % bytes.len();
                        bytes[i] = *b;
                    }
                }
                if let Some(cut) = cut {
                    bytes.truncate(*cut as usize % (bytes.len() + 1));
                }
                (make(enc.is_binary() != *wrong_type, bytes), None)
            }
            Step::Garbage { binary, bytes } => (make(*binary, bytes.clone()), None),
        };
        let body: &[u8] = match &msg {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
            _ => &[],
        };
        let readable = readable_ids(enc, body);
        if readable.iter().any(|id| *id >= ID_CEILING) {
            continue;
        }
        ids.highest = readable.iter().copied().chain([ids.highest]).max().unwrap_or(0);
        if let Some(id) = call {
            ids.opened.push(id);
        }
        out.push(Out::Msg(msg));
    }
    (out, ids.fresh())
}

/// What the server sent, per call id.
#[derive(Default)]
struct Seen {
    finals: HashMap<u64, Vec<String>>,
}

impl Seen {
    /// Records a frame; `Some(sum)` when it is the final call's `RESULT`.
    fn frame(&mut self, enc: Encoding, frame: &Frame, final_id: u64) -> Option<i64> {
        if let Some(id) = frame.call_id().filter(|id| *id != 0) {
            if let Some(list) = self.finals.get(&id) {
                if !list.is_empty() {
                    panic!("the server sent {frame:?} on call {id} after its final frame {}", list[0]);
                }
            }
        }
        let id = match frame {
            Frame::Result { id, .. } | Frame::Error { id, .. } | Frame::End { id, .. } if *id != 0 => *id,
            _ => return None,
        };
        let list = self.finals.entry(id).or_default();
        list.push(format!("{frame:?}"));
        assert!(list.len() <= 1, "the server sent {} final frames on call {id}: {list:#?}", list.len());
        if id != final_id {
            return None;
        }
        match frame {
            Frame::Result { value, .. } => Some(enc.decode_value::<i64>(value.as_bytes()).unwrap_or_else(|e| {
                panic!("the final add's RESULT is not an integer ({e}): {value:?}")
            })),
            other => panic!("the final add(1, 2) (call {id}) failed: {other:?}"),
        }
    }
}

async fn run(h: &volley_fuzz::Harness, enc: Encoding, out: Vec<Out>, final_id: u64) {
    let ws = volley_fuzz::connect(h.addr, enc).await.unwrap_or_else(|e| panic!("cannot open the connection: {e}"));
    let (mut tx, mut rx) = ws.split();
    let send = async move {
        let mut pause_budget = PAUSE_BUDGET_MS;
        for o in out {
            // The server never closes on bad frames, so sending cannot fail; if it does,
            // the read side reports why.
            let r = match o {
                Out::Msg(m) => tx.feed(m).await,
                Out::Flush => tx.flush().await,
                Out::Pause(ms) => {
                    let r = tx.flush().await;
                    let ms = ms.min(pause_budget);
                    pause_budget -= ms;
                    if ms == 0 {
                        tokio::task::yield_now().await;
                    } else {
                        tokio::time::sleep(Duration::from_millis(ms.into())).await;
                    }
                    r
                }
            };
            if r.is_err() {
                return tx;
            }
        }
        let _ = tx.send(volley_fuzz::add_call(enc, final_id, 1, 2)).await;
        tx
    };
    let mut seen = Seen::default();
    let recv = async {
        loop {
            let msg = match tokio::time::timeout(TIMEOUT, rx.next()).await {
                Err(_) => panic!("no answer to the final add(1, 2) (call {final_id}) within {TIMEOUT:?}"),
                Ok(None) => panic!("the connection ended before the final add(1, 2) (call {final_id}) was answered"),
                Ok(Some(Err(e))) => panic!("the connection failed before the final add(1, 2) was answered: {e}"),
                Ok(Some(Ok(m))) => m,
            };
            let frame = volley_fuzz::server_frame(enc, msg).unwrap_or_else(|e| panic!("{e}"));
            if dump() {
                eprintln!("server: {frame:?}");
            }
            if let Some(sum) = frame.as_ref().and_then(|f| seen.frame(enc, f, final_id)) {
                assert_eq!(sum, 3, "add(1, 2) answered {sum}");
                return;
            }
        }
    };
    let (mut tx, ()) = tokio::join!(send, recv);
    // Close, and count what still comes until the server has closed too: a call that
    // finishes late must not add a second final frame either.
    let _ = tx.send(Message::Close(None)).await;
    let drain = async {
        while let Some(msg) = rx.next().await {
            let Ok(msg) = msg else { break };
            if matches!(msg, Message::Close(_)) {
                continue;
            }
            if let Some(frame) = volley_fuzz::server_frame(enc, msg).unwrap_or_else(|e| panic!("{e}")) {
                if dump() {
                    eprintln!("server (after the client's close): {frame:?}");
                }
                seen.frame(enc, &frame, final_id);
            }
        }
    };
    if tokio::time::timeout(TIMEOUT, drain).await.is_err() {
        panic!("the server did not close the connection within {TIMEOUT:?} of the client's close");
    }
}

/// `VOLLEY_FUZZ_DUMP=1` prints each input as decoded and every frame the server sends
/// (for reading a reproducer: run the target binary on the file).
fn dump() -> bool {
    static DUMP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DUMP.get_or_init(|| std::env::var_os("VOLLEY_FUZZ_DUMP").is_some())
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::parse(data) else { return };
    let h = volley_fuzz::harness();
    let enc = if input.msgpack { Encoding::MsgPack } else { Encoding::Json };
    let (out, final_id) = messages(enc, &input.steps);
    if dump() {
        eprintln!("input: {input:#?}\nfinal add(1, 2) on call {final_id}");
    }
    h.rt.block_on(run(h, enc, out, final_id));
});
