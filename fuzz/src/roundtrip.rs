//! The codec check shared by `decode_json` and `decode_msgpack`.

use bytes::Bytes;
use volley::Encoding;

/// Decodes `data`; when it decodes, encodes the frame again and checks that the
/// re-encoded bytes decode to an equal frame, and that encoding is then stable (the
/// second encoding is byte-for-byte the first). `peek_head` must agree with a full
/// decode about the frame's kind and id.
pub fn check(encoding: Encoding, data: &[u8]) {
    let bytes = Bytes::copy_from_slice(data);
    let (peek_kind, peek_id) = encoding.peek_head(data);
    let frame = match encoding.decode_frame(&bytes) {
        Ok(frame) => frame,
        Err(_) => return,
    };
    // A frame that decodes has a head that can be peeked. (The decoder reads numbers a
    // little more leniently than the peek, `[0,1.0e0,...` say, so only a peek that found
    // something must agree.)
    if let Some(kind) = peek_kind {
        assert_eq!(kind, frame.kind(), "peek_head's kind differs from decode_frame's for {data:02x?}");
    }
    if let (Some(id), Some(frame_id)) = (peek_id, frame.call_id()) {
        assert_eq!(id, frame_id, "peek_head's id differs from decode_frame's for {data:02x?}");
    }
    let encoded = encoding.frame_to_vec(&frame);
    let again = match encoding.decode_frame(&Bytes::from(encoded.clone())) {
        Ok(f) => f,
        Err(e) => panic!(
            "{encoding:?}: a re-encoded frame does not decode: {e}\n  input:      {data:02x?}\n  frame:      {frame:?}\n  re-encoded: {encoded:02x?} {:?}",
            String::from_utf8_lossy(&encoded)
        ),
    };
    assert_eq!(
        again,
        frame,
        "{encoding:?}: the round trip changed the frame\n  input: {data:02x?}\n  re-encoded: {:?}",
        String::from_utf8_lossy(&encoded)
    );
    let twice = encoding.frame_to_vec(&again);
    assert_eq!(twice, encoded, "{encoding:?}: encoding an equal frame twice gave different bytes");
}
