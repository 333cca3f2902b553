//! `volley.v1.msgpack`: frames as MessagePack arrays.
//!
//! A small hand-written reader walks the frame's array and records where each payload
//! starts and ends, so payloads stay slices of the received buffer.

use bytes::Bytes;
use rmp::encode as enc;

use super::{
    CallId, CallExt, DecodeError, ErrorBody, ErrorCode, Frame, FrameKind, Metadata, Payload,
};

// Writes into a Vec<u8> cannot fail, so the encoder's io::Results are dropped below.

pub(crate) fn encode_frame(frame: &Frame, out: &mut Vec<u8>) {
    let kind = frame.kind() as u8;
    let len: u32 = match frame {
        Frame::Call { options, .. } => 4 + u32::from(!options.is_empty()),
        Frame::Result { trailers, .. } => 3 + u32::from(!trailers.is_empty()),
        Frame::Error { error, trailers, .. } => {
            if !trailers.is_empty() {
                6
            } else {
                4 + u32::from(error.data.is_some())
            }
        }
        Frame::Item { .. } => 3,
        Frame::End { trailers, .. } => 2 + u32::from(!trailers.is_empty()),
        Frame::Cancel { reason, .. } => 2 + 2 * u32::from(reason.is_some()),
        Frame::Stop { .. } => 2,
        Frame::Credit { .. } | Frame::Meta { .. } => 3,
        Frame::Warning { warning, .. } => 4 + u32::from(warning.data.is_some()),
        Frame::Notify { .. } | Frame::State { .. } => 3,
    };
    let _ = enc::write_array_len(out, len);
    let _ = enc::write_uint(out, kind as u64);
    match frame {
        Frame::Call { id, method, params, options } => {
            let _ = enc::write_uint(out, *id);
            let _ = enc::write_str(out, method);
            out.extend_from_slice(params.as_bytes());
            if !options.is_empty() {
                let n = u32::from(!options.metadata.is_empty())
                    + u32::from(options.timeout_ms.is_some())
                    + u32::from(options.window.is_some());
                let _ = enc::write_map_len(out, n);
                if !options.metadata.is_empty() {
                    let _ = enc::write_str(out, "m");
                    push_meta(out, &options.metadata);
                }
                if let Some(t) = options.timeout_ms {
                    let _ = enc::write_str(out, "t");
                    let _ = enc::write_uint(out, t);
                }
                if let Some(w) = options.window {
                    let _ = enc::write_str(out, "w");
                    let _ = enc::write_uint(out, w as u64);
                }
            }
        }
        Frame::Result { id, value, trailers } => {
            let _ = enc::write_uint(out, *id);
            out.extend_from_slice(value.as_bytes());
            if !trailers.is_empty() {
                push_meta(out, trailers);
            }
        }
        Frame::Error { id, error, trailers } => {
            let _ = enc::write_uint(out, *id);
            push_body(out, error, !trailers.is_empty());
            if !trailers.is_empty() {
                push_meta(out, trailers);
            }
        }
        Frame::Item { id, value } => {
            let _ = enc::write_uint(out, *id);
            out.extend_from_slice(value.as_bytes());
        }
        Frame::End { id, trailers } => {
            let _ = enc::write_uint(out, *id);
            if !trailers.is_empty() {
                push_meta(out, trailers);
            }
        }
        Frame::Cancel { id, reason } => {
            let _ = enc::write_uint(out, *id);
            if let Some((code, message)) = reason {
                let _ = enc::write_sint(out, code.0);
                let _ = enc::write_str(out, message);
            }
        }
        Frame::Stop { id } => {
            let _ = enc::write_uint(out, *id);
        }
        Frame::Credit { id, n } => {
            let _ = enc::write_uint(out, *id);
            let _ = enc::write_uint(out, *n as u64);
        }
        Frame::Meta { id, metadata } => {
            let _ = enc::write_uint(out, *id);
            push_meta(out, metadata);
        }
        Frame::Warning { id, warning } => {
            let _ = enc::write_uint(out, *id);
            push_body(out, warning, false);
        }
        Frame::Notify { topic, value } => {
            let _ = enc::write_str(out, topic);
            out.extend_from_slice(value.as_bytes());
        }
        Frame::State { name, patch } => {
            let _ = enc::write_str(out, name);
            out.extend_from_slice(patch.as_bytes());
        }
    }
}

fn push_body(out: &mut Vec<u8>, body: &ErrorBody, force_data: bool) {
    let _ = enc::write_sint(out, body.code.0);
    let _ = enc::write_str(out, &body.message);
    match &body.data {
        Some(d) => out.extend_from_slice(d.as_bytes()),
        None if force_data => {
            let _ = enc::write_nil(out);
        }
        None => {}
    }
}

fn push_meta(out: &mut Vec<u8>, m: &Metadata) {
    let _ = enc::write_map_len(out, m.len() as u32);
    for (k, v) in m {
        let _ = enc::write_str(out, k);
        let _ = enc::write_str(out, v);
    }
}

/// A cursor over a MessagePack buffer.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

const NIL: u8 = 0xc0;

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn be(&mut self, n: usize) -> Option<u64> {
        Some(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn array_len(&mut self) -> Option<usize> {
        match self.byte()? {
            b @ 0x90..=0x9f => Some((b & 0x0f) as usize),
            0xdc => Some(self.be(2)? as usize),
            0xdd => Some(self.be(4)? as usize),
            _ => None,
        }
    }

    fn map_len(&mut self) -> Option<usize> {
        match self.byte()? {
            b @ 0x80..=0x8f => Some((b & 0x0f) as usize),
            0xde => Some(self.be(2)? as usize),
            0xdf => Some(self.be(4)? as usize),
            _ => None,
        }
    }

    fn int(&mut self) -> Option<i128> {
        Some(match self.byte()? {
            b @ 0x00..=0x7f => b as i128,
            b @ 0xe0..=0xff => (b as i8) as i128,
            0xcc => self.be(1)? as i128,
            0xcd => self.be(2)? as i128,
            0xce => self.be(4)? as i128,
            0xcf => self.be(8)? as i128,
            0xd0 => (self.be(1)? as u8 as i8) as i128,
            0xd1 => (self.be(2)? as u16 as i16) as i128,
            0xd2 => (self.be(4)? as u32 as i32) as i128,
            0xd3 => (self.be(8)? as i64) as i128,
            _ => return None,
        })
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = match self.byte()? {
            b @ 0xa0..=0xbf => (b & 0x1f) as usize,
            0xd9 => self.be(1)? as usize,
            0xda => self.be(2)? as usize,
            0xdb => self.be(4)? as usize,
            _ => return None,
        };
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// Skips one value, returning its byte range. Depth-limited against hostile nesting.
    fn skip(&mut self, depth: u32) -> Option<(usize, usize)> {
        if depth > 256 {
            return None;
        }
        let start = self.pos;
        let b = self.byte()?;
        let (items, bytes): (usize, usize) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (2 * (b & 0x0f) as usize, 0),
            0x90..=0x9f => ((b & 0x0f) as usize, 0),
            0xa0..=0xbf => (0, (b & 0x1f) as usize),
            0xc4 | 0xd9 => (0, self.be(1)? as usize),
            0xc5 | 0xda => (0, self.be(2)? as usize),
            0xc6 | 0xdb => (0, self.be(4)? as usize),
            0xc7 => (0, self.be(1)? as usize + 1),
            0xc8 => (0, self.be(2)? as usize + 1),
            0xc9 => (0, self.be(4)? as usize + 1),
            0xca => (0, 4),
            0xcb => (0, 8),
            0xcc | 0xd0 => (0, 1),
            0xcd | 0xd1 => (0, 2),
            0xce | 0xd2 => (0, 4),
            0xcf | 0xd3 => (0, 8),
            0xd4 => (0, 2),
            0xd5 => (0, 3),
            0xd6 => (0, 5),
            0xd7 => (0, 9),
            0xd8 => (0, 17),
            0xdc => (self.be(2)? as usize, 0),
            0xdd => (self.be(4)? as usize, 0),
            0xde => (2 * self.be(2)? as usize, 0),
            0xdf => (2 * self.be(4)? as usize, 0),
            0xc1 => return None,
        };
        self.take(bytes)?;
        for _ in 0..items {
            self.skip(depth + 1)?;
        }
        Some((start, self.pos))
    }
}

struct Reader<'a> {
    bytes: &'a Bytes,
    cur: Cursor<'a>,
    remaining: usize,
    index: usize,
    kind: Option<FrameKind>,
    id: Option<CallId>,
}

impl<'a> Reader<'a> {
    fn fail(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError { kind: self.kind, id: self.id, reason: reason.into() }
    }

    /// Moves to the next element, or reports that there is none.
    fn next(&mut self) -> bool {
        if self.remaining == 0 {
            return false;
        }
        self.remaining -= 1;
        self.index += 1;
        true
    }

    fn need(&mut self, what: &str) -> Result<(), DecodeError> {
        if self.next() {
            Ok(())
        } else {
            Err(self.fail(format!("missing element {} ({what})", self.index)))
        }
    }

    /// True (and consumes it) when the next element exists and is nil.
    fn present(&mut self) -> bool {
        if !self.next() {
            return false;
        }
        if self.cur.peek() == Some(NIL) {
            self.cur.pos += 1;
            return false;
        }
        true
    }

    fn uint(&mut self, what: &str) -> Result<u64, DecodeError> {
        self.need(what)?;
        self.cur
            .int()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| self.fail(format!("element {} ({what}) must be a non-negative integer", self.index - 1)))
    }

    fn int_here(&mut self, what: &str) -> Result<i64, DecodeError> {
        self.cur
            .int()
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(|| self.fail(format!("element {} ({what}) must be an integer", self.index - 1)))
    }

    fn string(&mut self, what: &str) -> Result<String, DecodeError> {
        self.need(what)?;
        self.str_here(what)
    }

    fn str_here(&mut self, what: &str) -> Result<String, DecodeError> {
        self.cur
            .str()
            .map(str::to_owned)
            .ok_or_else(|| self.fail(format!("element {} ({what}) must be a string", self.index - 1)))
    }

    fn payload_here(&mut self, what: &str) -> Result<Payload, DecodeError> {
        let (s, e) = self
            .cur
            .skip(0)
            .ok_or_else(|| self.fail(format!("element {} ({what}) is not valid MessagePack", self.index - 1)))?;
        Ok(Payload(self.bytes.slice(s..e)))
    }

    fn payload(&mut self, what: &str) -> Result<Payload, DecodeError> {
        self.need(what)?;
        self.payload_here(what)
    }

    fn meta_here(&mut self) -> Result<Metadata, DecodeError> {
        let bad = |r: &Self| r.fail(format!("element {} (metadata) must be a map of strings", r.index - 1));
        let n = self.cur.map_len().ok_or_else(|| bad(self))?;
        let mut m = Metadata::new();
        for _ in 0..n {
            let k = self.cur.str().ok_or_else(|| bad(self))?.to_owned();
            let v = self.cur.str().ok_or_else(|| bad(self))?.to_owned();
            m.insert(k, v);
        }
        Ok(m)
    }

    fn opt_meta(&mut self) -> Result<Metadata, DecodeError> {
        if self.present() {
            self.meta_here()
        } else {
            Ok(Metadata::new())
        }
    }

    fn body(&mut self) -> Result<ErrorBody, DecodeError> {
        self.need("code")?;
        let code = ErrorCode(self.int_here("code")?);
        let message = self.string("message")?;
        let data = if self.present() { Some(self.payload_here("data")?) } else { None };
        Ok(ErrorBody { code, message, data })
    }

    fn ext(&mut self) -> Result<CallExt, DecodeError> {
        let mut o = CallExt::default();
        let bad = |r: &Self| r.fail("element 4 (ext) must be a map with keys m, t, w");
        let n = self.cur.map_len().ok_or_else(|| bad(self))?;
        for _ in 0..n {
            match self.cur.str().ok_or_else(|| bad(self))? {
                "m" => o.metadata = self.meta_here()?,
                "t" => o.timeout_ms = Some(self.cur.int().and_then(|v| u64::try_from(v).ok()).ok_or_else(|| bad(self))?),
                "w" => o.window = Some(self.cur.int().and_then(|v| u32::try_from(v).ok()).ok_or_else(|| bad(self))?),
                _ => {
                    self.cur.skip(0).ok_or_else(|| bad(self))?;
                }
            }
        }
        Ok(o)
    }
}

pub(crate) fn decode_frame(bytes: &Bytes) -> Result<Frame, DecodeError> {
    let mut cur = Cursor { buf: bytes, pos: 0 };
    let Some(len) = cur.array_len() else {
        let (kind, id) = peek_head(bytes);
        return Err(DecodeError { kind, id, reason: "not a MessagePack array".into() });
    };
    let mut r = Reader { bytes, cur, remaining: len, index: 0, kind: None, id: None };
    let kind_num = r.uint("kind")?;
    let Some(kind) = FrameKind::from_u64(kind_num) else {
        // An unknown kind that names a call is answered on that call (section 8).
        let mut cur = Cursor { buf: bytes, pos: 0 };
        r.id = cur.array_len().and_then(|_| cur.int()).and_then(|_| cur.int()).and_then(|i| u64::try_from(i).ok()).filter(|id| *id < 1 << 53);
        return Err(r.fail(format!("unknown frame kind {kind_num}")));
    };
    r.kind = Some(kind);
    if !matches!(kind, FrameKind::Notify | FrameKind::State) {
        let id = r.uint("id")?;
        if id >= 1 << 53 {
            return Err(r.fail("call id must be below 2^53"));
        }
        r.id = Some(id);
    }
    let id = r.id.unwrap_or(0);
    let frame = match kind {
        FrameKind::Call => {
            let method = r.string("method")?;
            let params = if r.present() {
                // A map of parameters (PROTOCOL.md section 2); anything else is a broken frame.
                if !matches!(r.cur.peek(), Some(0x80..=0x8f | 0xde | 0xdf)) {
                    return Err(r.fail("element 3 (params) must be a map from parameter name to value"));
                }
                r.payload_here("params")?
            } else {
                Payload(Bytes::from_static(&[0x80]))
            };
            let options = if r.present() { r.ext()? } else { CallExt::default() };
            Frame::Call { id, method, params, options }
        }
        FrameKind::Result => Frame::Result { id, value: r.payload("value")?, trailers: r.opt_meta()? },
        FrameKind::Error => Frame::Error { id, error: r.body()?, trailers: r.opt_meta()? },
        FrameKind::Item => Frame::Item { id, value: r.payload("value")? },
        FrameKind::End => Frame::End { id, trailers: r.opt_meta()? },
        FrameKind::Cancel => {
            let reason = if r.present() {
                let code = ErrorCode(r.int_here("code")?);
                let message = if r.present() { r.str_here("message")? } else { String::new() };
                Some((code, message))
            } else {
                None
            };
            Frame::Cancel { id, reason }
        }
        FrameKind::Stop => Frame::Stop { id },
        FrameKind::Credit => {
            let n = r.uint("n")?;
            Frame::Credit { id, n: super::frame::credit_count(n).map_err(|e| r.fail(e))? }
        }
        FrameKind::Meta => Frame::Meta { id, metadata: r.opt_meta()? },
        FrameKind::Warning => Frame::Warning { id, warning: r.body()? },
        FrameKind::Notify => Frame::Notify { topic: r.string("topic")?, value: r.payload("value")? },
        FrameKind::State => Frame::State { name: r.string("name")?, patch: r.payload("patch")? },
    };
    // Later protocol versions may append elements: skip them, but they must be well-formed.
    while r.next() {
        r.cur.skip(0).ok_or_else(|| r.fail("trailing element is not valid MessagePack"))?;
    }
    if r.cur.pos != bytes.len() {
        return Err(r.fail("bytes after the end of the frame"));
    }
    Ok(frame)
}

pub(crate) fn peek_head(buf: &[u8]) -> (Option<FrameKind>, Option<CallId>) {
    let mut cur = Cursor { buf, pos: 0 };
    if cur.array_len().is_none() {
        return (None, None);
    }
    let Some(kind) = cur.int().and_then(|k| u64::try_from(k).ok()).and_then(FrameKind::from_u64) else {
        return (None, None);
    };
    if matches!(kind, FrameKind::Notify | FrameKind::State) {
        return (Some(kind), None);
    }
    let id = cur.int().and_then(|i| u64::try_from(i).ok()).filter(|id| *id < 1 << 53);
    (Some(kind), id)
}
