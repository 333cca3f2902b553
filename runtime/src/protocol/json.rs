//! `volley.v1.json`: frames as JSON arrays.
//!
//! Decoding splits the array into raw elements without building a value tree; payload
//! elements stay slices of the received buffer until a handler decodes them into its
//! own types.

use bytes::Bytes;
use serde_json::value::RawValue;

use super::{
    CallId, CallExt, DecodeError, ErrorBody, ErrorCode, Frame, FrameKind, Metadata, Payload,
};

pub(crate) fn encode_frame(frame: &Frame, out: &mut Vec<u8>) {
    let kind = frame.kind() as u8;
    out.push(b'[');
    push_int(out, kind as u64);
    match frame {
        Frame::Call { id, method, params, options } => {
            push_id(out, *id);
            out.push(b',');
            push_str(out, method);
            out.push(b',');
            out.extend_from_slice(params.as_bytes());
            if !options.is_empty() {
                out.extend_from_slice(b",{");
                let mut first = true;
                let mut key = |out: &mut Vec<u8>, k: &[u8]| {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(k);
                };
                if !options.metadata.is_empty() {
                    key(out, b"\"m\":");
                    push_meta(out, &options.metadata);
                }
                if let Some(t) = options.timeout_ms {
                    key(out, b"\"t\":");
                    push_int(out, t);
                }
                if let Some(w) = options.window {
                    key(out, b"\"w\":");
                    push_int(out, w as u64);
                }
                out.push(b'}');
            }
        }
        Frame::Result { id, value, trailers } => {
            push_id(out, *id);
            out.push(b',');
            out.extend_from_slice(value.as_bytes());
            if !trailers.is_empty() {
                out.push(b',');
                push_meta(out, trailers);
            }
        }
        Frame::Error { id, error, trailers } => {
            push_id(out, *id);
            push_error_body(out, error, !trailers.is_empty());
            if !trailers.is_empty() {
                out.push(b',');
                push_meta(out, trailers);
            }
        }
        Frame::Item { id, value } => {
            push_id(out, *id);
            out.push(b',');
            out.extend_from_slice(value.as_bytes());
        }
        Frame::End { id, trailers } => {
            push_id(out, *id);
            if !trailers.is_empty() {
                out.push(b',');
                push_meta(out, trailers);
            }
        }
        Frame::Cancel { id, reason } => {
            push_id(out, *id);
            if let Some((code, message)) = reason {
                out.push(b',');
                push_signed(out, code.0);
                out.push(b',');
                push_str(out, message);
            }
        }
        Frame::Stop { id } => push_id(out, *id),
        Frame::Credit { id, n } => {
            push_id(out, *id);
            out.push(b',');
            push_int(out, *n as u64);
        }
        Frame::Meta { id, metadata } => {
            push_id(out, *id);
            out.push(b',');
            push_meta(out, metadata);
        }
        Frame::Warning { id, warning } => {
            push_id(out, *id);
            push_error_body(out, warning, false);
        }
        Frame::Notify { topic, value } => {
            out.push(b',');
            push_str(out, topic);
            out.push(b',');
            out.extend_from_slice(value.as_bytes());
        }
        Frame::State { name, patch } => {
            out.push(b',');
            push_str(out, name);
            out.push(b',');
            out.extend_from_slice(patch.as_bytes());
        }
    }
    out.push(b']');
}

fn push_error_body(out: &mut Vec<u8>, body: &ErrorBody, force_data: bool) {
    out.push(b',');
    push_signed(out, body.code.0);
    out.push(b',');
    push_str(out, &body.message);
    match &body.data {
        Some(d) => {
            out.push(b',');
            out.extend_from_slice(d.as_bytes());
        }
        None if force_data => out.extend_from_slice(b",null"),
        None => {}
    }
}

fn push_id(out: &mut Vec<u8>, id: CallId) {
    out.push(b',');
    push_int(out, id);
}

fn push_int(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn push_signed(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn push_meta(out: &mut Vec<u8>, m: &Metadata) {
    let _ = serde_json::to_writer(&mut *out, m);
}

struct Reader<'a> {
    buf: &'a Bytes,
    elems: Elems<'a>,
    kind: Option<FrameKind>,
    id: Option<CallId>,
}

impl<'a> Reader<'a> {
    fn fail(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError { kind: self.kind, id: self.id, reason: reason.into() }
    }

    fn raw(&self, i: usize) -> Option<&'a RawValue> {
        self.elems.get(i).filter(|r| r.get() != "null")
    }

    fn need(&self, i: usize, what: &str) -> Result<&'a RawValue, DecodeError> {
        self.elems.get(i).ok_or_else(|| self.fail(format!("missing element {i} ({what})")))
    }

    fn uint(&self, i: usize, what: &str) -> Result<u64, DecodeError> {
        let raw = self.need(i, what)?;
        if let Some(n) = plain_uint(raw.get()) {
            return Ok(n);
        }
        serde_json::from_str::<u64>(raw.get())
            .map_err(|_| self.fail(format!("element {i} ({what}) must be a non-negative integer")))
    }

    fn string(&self, i: usize, what: &str) -> Result<String, DecodeError> {
        let raw = self.need(i, what)?;
        if let Some(s) = plain_str(raw.get()) {
            return Ok(s.to_owned());
        }
        serde_json::from_str::<String>(raw.get())
            .map_err(|_| self.fail(format!("element {i} ({what}) must be a string")))
    }

    fn payload_at(&self, raw: &RawValue) -> Payload {
        let start = raw.get().as_ptr() as usize - self.buf.as_ptr() as usize;
        Payload(self.buf.slice(start..start + raw.get().len()))
    }

    fn payload(&self, i: usize, what: &str) -> Result<Payload, DecodeError> {
        Ok(self.payload_at(self.need(i, what)?))
    }

    fn opt_payload(&self, i: usize) -> Option<Payload> {
        self.raw(i).map(|r| self.payload_at(r))
    }

    fn meta(&self, i: usize) -> Result<Metadata, DecodeError> {
        match self.raw(i) {
            None => Ok(Metadata::new()),
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|_| self.fail(format!("element {i} (metadata) must be a map of strings"))),
        }
    }

    fn code(&self, i: usize) -> Result<ErrorCode, DecodeError> {
        let raw = self.need(i, "code")?;
        serde_json::from_str::<i64>(raw.get())
            .map(ErrorCode)
            .map_err(|_| self.fail(format!("element {i} (code) must be an integer")))
    }
}

#[derive(serde::Deserialize)]
struct Ext {
    #[serde(default)]
    m: Option<Metadata>,
    #[serde(default)]
    t: Option<u64>,
    #[serde(default)]
    w: Option<u32>,
}

/// Elements a frame can have that the decoder reads (an `ERROR` has six); later ones
/// are checked to be JSON and otherwise ignored.
const MAX_ELEMS: usize = 6;

/// A frame's top-level elements, unparsed, without a heap allocation.
struct Elems<'a> {
    items: [Option<&'a RawValue>; MAX_ELEMS],
    len: usize,
}

impl<'a> Elems<'a> {
    fn get(&self, i: usize) -> Option<&'a RawValue> {
        if i < self.len {
            self.items[i]
        } else {
            None
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Elems<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Elems<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Elems<'a>, A::Error> {
                let mut elems = Elems { items: [None; MAX_ELEMS], len: 0 };
                while elems.len < MAX_ELEMS {
                    match seq.next_element::<&'de RawValue>()? {
                        Some(raw) => {
                            elems.items[elems.len] = Some(raw);
                            elems.len += 1;
                        }
                        None => return Ok(elems),
                    }
                }
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(elems)
            }
        }
        d.deserialize_seq(Visit(std::marker::PhantomData))
    }
}

/// A JSON integer written as plain digits that fits in a `u64`; `None` for anything
/// else (left to serde_json, which also words the error).
fn plain_uint(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 19 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// The content of a JSON string without escapes; `None` when it has any (or is not a
/// string), to be decoded by serde_json. The text is already validated JSON.
fn plain_str(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

pub(crate) fn decode_frame(buf: &Bytes) -> Result<Frame, DecodeError> {
    // Text frames arrive as UTF-8: checking the whole frame once lets serde_json hand
    // out each raw element without checking its bytes again. Anything else takes the
    // byte path, which words the error.
    let parsed = match std::str::from_utf8(buf) {
        Ok(text) => serde_json::from_str::<Elems>(text),
        Err(_) => serde_json::from_slice::<Elems>(buf),
    };
    let elems = parsed.map_err(|e| {
        let (kind, id) = peek_head(buf);
        DecodeError { kind, id, reason: format!("not a JSON array: {e}") }
    })?;
    let mut r = Reader { buf, elems, kind: None, id: None };
    let kind_num = r.uint(0, "kind")?;
    let Some(kind) = FrameKind::from_u64(kind_num) else {
        // An unknown kind that names a call is answered on that call (section 8).
        r.id = r.elems.get(1).and_then(|raw| plain_uint(raw.get())).filter(|id| *id < 1 << 53);
        return Err(r.fail(format!("unknown frame kind {kind_num}")));
    };
    r.kind = Some(kind);
    if !matches!(kind, FrameKind::Notify | FrameKind::State) {
        let id = r.uint(1, "id")?;
        if id >= 1 << 53 {
            return Err(r.fail("call id must be below 2^53"));
        }
        r.id = Some(id);
    }
    let id = r.id.unwrap_or(0);
    Ok(match kind {
        FrameKind::Call => {
            let method = r.string(2, "method")?;
            let params = match r.raw(3) {
                None => Payload(Bytes::from_static(b"{}")),
                // A map of parameters (PROTOCOL.md section 2); anything else is a broken frame.
                Some(raw) if !raw.get().starts_with('{') => {
                    return Err(r.fail("element 3 (params) must be a map from parameter name to value"))
                }
                Some(raw) => r.payload_at(raw),
            };
            let options = match r.raw(4) {
                None => CallExt::default(),
                Some(raw) if !raw.get().starts_with('{') => return Err(r.fail("element 4 (ext) must be a map")),
                Some(raw) => {
                    let ext: Ext = serde_json::from_str(raw.get())
                        .map_err(|e| r.fail(format!("element 4 (ext) is not valid: {e}")))?;
                    CallExt { metadata: ext.m.unwrap_or_default(), timeout_ms: ext.t, window: ext.w }
                }
            };
            Frame::Call { id, method, params, options }
        }
        FrameKind::Result => Frame::Result { id, value: r.payload(2, "value")?, trailers: r.meta(3)? },
        FrameKind::Error => Frame::Error {
            id,
            error: ErrorBody { code: r.code(2)?, message: r.string(3, "message")?, data: r.opt_payload(4) },
            trailers: r.meta(5)?,
        },
        FrameKind::Item => Frame::Item { id, value: r.payload(2, "value")? },
        FrameKind::End => Frame::End { id, trailers: r.meta(2)? },
        FrameKind::Cancel => {
            let reason = match r.raw(2) {
                None => None,
                Some(_) => Some((r.code(2)?, if r.raw(3).is_some() { r.string(3, "message")? } else { String::new() })),
            };
            Frame::Cancel { id, reason }
        }
        FrameKind::Stop => Frame::Stop { id },
        FrameKind::Credit => {
            let n = super::frame::credit_count(r.uint(2, "n")?).map_err(|e| r.fail(e))?;
            Frame::Credit { id, n }
        }
        FrameKind::Meta => Frame::Meta { id, metadata: r.meta(2)? },
        FrameKind::Warning => Frame::Warning {
            id,
            warning: ErrorBody { code: r.code(2)?, message: r.string(3, "message")?, data: r.opt_payload(4) },
        },
        FrameKind::Notify => Frame::Notify { topic: r.string(1, "topic")?, value: r.payload(2, "value")? },
        FrameKind::State => Frame::State { name: r.string(1, "name")?, patch: r.payload(2, "patch")? },
    })
}

/// Reads `[kind, id` from the start of a possibly broken or truncated frame.
pub(crate) fn peek_head(buf: &[u8]) -> (Option<FrameKind>, Option<CallId>) {
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < buf.len() && buf[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let number = |i: &mut usize| -> Option<u64> {
        let start = *i;
        while *i < buf.len() && buf[*i].is_ascii_digit() {
            *i += 1;
        }
        std::str::from_utf8(&buf[start..*i]).ok()?.parse().ok()
    };
    skip_ws(&mut i);
    if buf.get(i) != Some(&b'[') {
        return (None, None);
    }
    i += 1;
    skip_ws(&mut i);
    let Some(kind) = number(&mut i).and_then(FrameKind::from_u64) else { return (None, None) };
    if matches!(kind, FrameKind::Notify | FrameKind::State) {
        return (Some(kind), None);
    }
    skip_ws(&mut i);
    if buf.get(i) != Some(&b',') {
        return (Some(kind), None);
    }
    i += 1;
    skip_ws(&mut i);
    let id = number(&mut i).filter(|id| *id < 1 << 53);
    (Some(kind), id)
}
