//! Codec tests: exact bytes for the documented examples, and property tests that every
//! frame survives a round trip through both encodings.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn payload(enc: Encoding, v: &serde_json::Value) -> Payload {
    enc.encode_value(v).unwrap()
}

#[test]
fn add_request_is_small_in_both_encodings() {
    for (enc, limit) in [(Encoding::Json, 40), (Encoding::MsgPack, 20)] {
        let frame = Frame::Call {
            id: 1,
            method: "add".into(),
            params: payload(enc, &serde_json::json!({"a": 1, "b": 2})),
            options: CallExt::default(),
        };
        let bytes = enc.frame_to_vec(&frame);
        assert!(bytes.len() < limit, "{enc:?}: {} bytes", bytes.len());
        assert_eq!(enc.decode_frame(&Bytes::from(bytes)).unwrap(), frame);
    }
    let json = Encoding::Json.frame_to_vec(&Frame::Call {
        id: 1,
        method: "add".into(),
        params: payload(Encoding::Json, &serde_json::json!({"a": 1, "b": 2})),
        options: CallExt::default(),
    });
    assert_eq!(std::str::from_utf8(&json).unwrap(), r#"[0,1,"add",{"a":1,"b":2}]"#);
    let mp = Encoding::MsgPack.frame_to_vec(&Frame::Call {
        id: 1,
        method: "add".into(),
        params: payload(Encoding::MsgPack, &serde_json::json!({"a": 1, "b": 2})),
        options: CallExt::default(),
    });
    assert_eq!(mp, [0x94, 0x00, 0x01, 0xa3, b'a', b'd', b'd', 0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x02]);
}

#[test]
fn documented_json_examples_decode() {
    let cases: &[&str] = &[
        r#"[0,5,"countdown",{"n":4},{"w":2}]"#,
        r#"[1,1,3]"#,
        r#"[2,3,1000,"division by zero",{"kind":"DivisionByZero"}]"#,
        r#"[3,5,4]"#,
        r#"[4,9,{"count":"1"}]"#,
        r#"[5,9]"#,
        r#"[6,9]"#,
        r#"[7,7,32]"#,
        r#"[8,7,{"k":"v"}]"#,
        r#"[9,0,299,"notifications dropped",{"dropped":3}]"#,
        r#"[10,"news","hello"]"#,
        r#"[11,"board",[{"op":"replace","path":"","value":{}}]]"#,
    ];
    for text in cases {
        let frame = Encoding::Json.decode_frame(&Bytes::from(text.as_bytes().to_vec())).unwrap();
        let again = Encoding::Json.frame_to_vec(&frame);
        assert_eq!(std::str::from_utf8(&again).unwrap(), *text);
    }
}

#[test]
fn broken_frames_report_what_could_be_read() {
    let e = Encoding::Json.decode_frame(&Bytes::from_static(b"[0,7,\"add\",{\"a\":")).unwrap_err();
    assert_eq!((e.kind, e.id), (Some(FrameKind::Call), Some(7)));
    let e = Encoding::Json.decode_frame(&Bytes::from_static(b"[42,1]")).unwrap_err();
    assert!(e.reason.contains("unknown frame kind 42"), "{}", e.reason);
    let e = Encoding::Json.decode_frame(&Bytes::from_static(b"{}")).unwrap_err();
    assert_eq!(e.kind, None);
    let e = Encoding::Json.decode_frame(&Bytes::from_static(b"[0,1,7,{}]")).unwrap_err();
    assert!(e.reason.contains("method"), "{}", e.reason);
    let e = Encoding::MsgPack.decode_frame(&Bytes::from_static(&[0x93, 0x00, 0x05, 0xc1])).unwrap_err();
    assert_eq!((e.kind, e.id), (Some(FrameKind::Call), Some(5)));
    let e = Encoding::MsgPack.decode_frame(&Bytes::from_static(&[0x91, 0x03])).unwrap_err();
    assert!(e.reason.contains("missing"), "{}", e.reason);
}

#[test]
fn values_report_the_failing_path() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct P {
        a: i64,
        b: Vec<i64>,
    }
    for enc in [Encoding::Json, Encoding::MsgPack] {
        let bad = enc.encode_value(&serde_json::json!({"a": 1, "b": [1, "x"]})).unwrap();
        let err = enc.decode_value::<P>(bad.as_bytes()).unwrap_err();
        assert_eq!(err.path, "b[1]", "{enc:?}: {err}");
        let missing = enc.encode_value(&serde_json::json!({"a": 1})).unwrap();
        let err = enc.decode_value::<P>(missing.as_bytes()).unwrap_err();
        assert!(err.message.contains("missing field `b`"), "{enc:?}: {err}");
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        (-1e12f64..1e12).prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z]{0,5}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A `CALL`'s params: always a map (PROTOCOL.md section 2).
fn params() -> impl Strategy<Value = serde_json::Value> {
    prop::collection::btree_map("[a-z]{0,5}", json_value(), 0..4).prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
}

fn metadata() -> impl Strategy<Value = Metadata> {
    prop::collection::btree_map("[a-z-]{1,8}", ".{0,8}", 0..3)
}

fn id() -> impl Strategy<Value = CallId> {
    prop_oneof![1u64..300, 1u64..(1 << 53)]
}

/// A frame whose payloads are JSON values, encoded per codec in the test.
#[derive(Debug, Clone)]
enum Shape {
    Call(CallId, String, serde_json::Value, Metadata, Option<u64>, Option<u32>),
    Result(CallId, serde_json::Value, Metadata),
    Error(CallId, i64, String, Option<serde_json::Value>, Metadata),
    Item(CallId, serde_json::Value),
    End(CallId, Metadata),
    Cancel(CallId, Option<(i64, String)>),
    Stop(CallId),
    Credit(CallId, u32),
    Meta(CallId, Metadata),
    Warning(CallId, i64, String, Option<serde_json::Value>),
    Notify(String, serde_json::Value),
    State(String, serde_json::Value),
}

fn shape() -> impl Strategy<Value = Shape> {
    let code = -2000i64..2000;
    let opt_data = || prop::option::of(json_value().prop_filter("null data is absent data", |v| !v.is_null()));
    prop_oneof![
        (id(), "[a-z.]{1,12}", params(), metadata(), prop::option::of(0u64..100_000), prop::option::of(any::<u32>()))
            .prop_map(|(a, b, c, d, e, f)| Shape::Call(a, b, c, d, e, f)),
        (id(), json_value(), metadata()).prop_map(|(a, b, c)| Shape::Result(a, b, c)),
        (0u64..50, code.clone(), ".{0,10}", opt_data(), metadata())
            .prop_map(|(a, b, c, d, e)| Shape::Error(a, b, c, d, e)),
        (id(), json_value()).prop_map(|(a, b)| Shape::Item(a, b)),
        (id(), metadata()).prop_map(|(a, b)| Shape::End(a, b)),
        (id(), prop::option::of((code.clone(), ".{0,10}"))).prop_map(|(a, b)| Shape::Cancel(a, b)),
        id().prop_map(Shape::Stop),
        (id(), 1u32..).prop_map(|(a, b)| Shape::Credit(a, b)),
        (id(), metadata()).prop_map(|(a, b)| Shape::Meta(a, b)),
        (0u64..50, code, ".{0,10}", opt_data()).prop_map(|(a, b, c, d)| Shape::Warning(a, b, c, d)),
        (".{0,10}", json_value()).prop_map(|(a, b)| Shape::Notify(a, b)),
        (".{0,10}", json_value()).prop_map(|(a, b)| Shape::State(a, b)),
    ]
}

fn build(enc: Encoding, s: &Shape) -> Frame {
    let p = |v: &serde_json::Value| payload(enc, v);
    match s.clone() {
        Shape::Call(id, method, params, metadata, timeout_ms, window) => {
            Frame::Call { id, method, params: p(&params), options: CallExt { metadata, timeout_ms, window } }
        }
        Shape::Result(id, v, trailers) => Frame::Result { id, value: p(&v), trailers },
        Shape::Error(id, code, message, data, trailers) => Frame::Error {
            id,
            error: ErrorBody { code: ErrorCode(code), message, data: data.as_ref().map(p) },
            trailers,
        },
        Shape::Item(id, v) => Frame::Item { id, value: p(&v) },
        Shape::End(id, trailers) => Frame::End { id, trailers },
        Shape::Cancel(id, reason) => Frame::Cancel { id, reason: reason.map(|(c, m)| (ErrorCode(c), m)) },
        Shape::Stop(id) => Frame::Stop { id },
        Shape::Credit(id, n) => Frame::Credit { id, n },
        Shape::Meta(id, metadata) => Frame::Meta { id, metadata },
        Shape::Warning(id, code, message, data) => {
            Frame::Warning { id, warning: ErrorBody { code: ErrorCode(code), message, data: data.as_ref().map(p) } }
        }
        Shape::Notify(topic, v) => Frame::Notify { topic, value: p(&v) },
        Shape::State(name, v) => Frame::State { name, patch: p(&v) },
    }
}

proptest! {
    #[test]
    fn every_frame_round_trips_through_both_codecs(s in shape()) {
        for enc in [Encoding::Json, Encoding::MsgPack] {
            let frame = build(enc, &s);
            let bytes = Bytes::from(enc.frame_to_vec(&frame));
            let back = enc.decode_frame(&bytes).map_err(|e| TestCaseError::fail(format!("{enc:?}: {e}")))?;
            prop_assert_eq!(&back, &frame);
            prop_assert_eq!(enc.peek_head(&bytes).0, Some(frame.kind()));
            prop_assert_eq!(enc.peek_head(&bytes).1, frame.call_id());
        }
    }

    #[test]
    fn payloads_mean_the_same_in_both_codecs(v in json_value()) {
        let j = Encoding::Json.encode_value(&v).unwrap();
        let m = Encoding::MsgPack.encode_value(&v).unwrap();
        let from_j: serde_json::Value = Encoding::Json.decode_value(j.as_bytes()).unwrap();
        let from_m: serde_json::Value = Encoding::MsgPack.decode_value(m.as_bytes()).unwrap();
        prop_assert_eq!(from_j, from_m);
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let b = Bytes::from(bytes);
        let _ = Encoding::Json.decode_frame(&b);
        let _ = Encoding::MsgPack.decode_frame(&b);
        let _ = Encoding::Json.peek_head(&b);
        let _ = Encoding::MsgPack.peek_head(&b);
    }
}
