//! `volley describe` against live example servers and the shapes fixture: the service's
//! overview, one item in full, a misspelt name, `--format json`, and URLs that are not
//! volley servers.

mod live;

use live::{serve, serve_app, text, volley};

const SHAPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");

/// Runs `volley describe ARGS...`, asserting it succeeded; returns stdout.
fn describe(args: &[&str]) -> String {
    let mut all = vec!["describe"];
    all.extend_from_slice(args);
    let o = volley(&all, "");
    assert!(o.status.success(), "volley {all:?} failed:\n{}", text(&o.stderr));
    text(&o.stdout)
}

fn assert_lines(out: &str, lines: &[&str]) {
    for line in lines {
        assert!(out.lines().any(|l| l == *line), "no line {line:?} in:\n{out}");
    }
}

#[test]
fn a_live_server_is_listed_method_by_method() {
    let url = serve(calculator::router());
    let out = describe(&[&url]);
    assert!(out.starts_with("calculator 0.1.0\nA calculator: the volley example service.\n"), "{out}");
    assert_lines(
        &out,
        &[
            "encodings: volley.v1.json, volley.v1.msgpack",
            "methods:",
            "  unary add(a: integer, b: integer) -> integer throws AddError",
            "  unary divide(a: number, b: number) -> number throws DivError",
            "namespace calc:",
            "  unary calc.evaluate(batch: Batch) -> Report",
            "protocol methods: volley.introspect, volley.subscribe, volley.unsubscribe",
            "types: AddError, Batch, DivError, Operation, Outcome, Report",
        ],
    );
}

#[test]
fn every_call_shape_topics_and_states_of_a_live_server() {
    let url = serve(streams::router());
    let out = describe(&[&url]);
    assert_lines(
        &out,
        &[
            "  server_stream countdown(from: integer, interval_ms: integer) -> stream of integer",
            "  client_stream sum(stream of number) -> number",
            "  bidi_stream chat(stream of Message) -> stream of Message",
            "  server_stream job.run(name: string, steps: integer, step_ms: integer) -> stream of JobEvent throws JobError",
            "  unary client.confirm(question: string) -> boolean [called by the server]",
            "  server_stream client.numbers(count: integer) -> stream of integer [called by the server]",
            "topics:",
            "  jobs.finished: JobResult [the server publishes]",
            "shared states:",
            "  jobs: { [key: string]: integer } [scope: server]",
        ],
    );
}

#[test]
fn a_method_in_full_has_its_signature_docs_and_types() {
    let url = serve(calculator::router());
    let out = describe(&[&url, "calc.evaluate"]);
    assert!(out.starts_with("unary calc.evaluate(batch: Batch) -> Report\n\nEvaluates a batch of operations; each one's outcome is reported by name.\n"), "{out}");
    assert_lines(
        &out,
        &[
            "parameters:",
            "  batch: Batch",
            "result: Report",
            "types:",
            // Batch, then what it leads to, each defined once, in the order met.
            "  // A batch of named operations to evaluate.",
            "  type Batch = {",
            "    label: string; // min length 1, max length 64",
            "    precision?: integer | null; // uint8, maximum 12",
            "    tags?: string[]; // default []",
            "  type Operation =",
            "    // Sum of all values.",
            "    | { op: \"sum\"; args: number[] }",
            "    | { op: \"power\"; args: { value: number; exponent: integer } }",
            "    outcomes: { [key: string]: Outcome };",
        ],
    );
    let order: Vec<usize> = ["type Batch", "type Operation", "type Report", "type Outcome"].iter().map(|t| out.find(t).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");

    let out = describe(&[&url, "divide"]);
    assert_lines(
        &out,
        &[
            "unary divide(a: number, b: number) -> number throws DivError",
            "Divides `a` by `b`. Fails with a typed `DivError` when `b` is zero.",
            "error: DivError, the data of its APPLICATION (1000) errors",
            "    | { kind: \"DivisionByZero\" }",
            "    | { kind: \"Overflow\"; dividend: number };",
        ],
    );
}

#[test]
fn a_misspelt_name_fails_and_suggests_the_right_one() {
    let url = serve(calculator::router());
    let o = volley(&["describe", &url, "calc.evalute"], "");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(err.starts_with("error: `calc.evalute` is not a method, topic, state, machine, type or namespace of calculator"), "{err}");
    assert!(err.contains("did you mean `calc.evaluate`?"), "{err}");
    // By the last segment of a dotted name, and a swap of two letters.
    let o = volley(&["describe", &url, "evaluate"], "");
    assert!(text(&o.stderr).contains("did you mean `calc.evaluate`?"), "{}", text(&o.stderr));
    let o = volley(&["describe", &url, "Bacth"], "");
    assert!(text(&o.stderr).contains("did you mean `Batch`?"), "{}", text(&o.stderr));
    // Nothing close: the way to list the names.
    let o = volley(&["describe", &url, "sqrt"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("`volley describe` without a name lists them"), "{}", text(&o.stderr));
}

#[test]
fn a_schema_file_with_every_type_shape() {
    let out = describe(&[SHAPES]);
    assert!(out.starts_with("shapes 0.1.0\nA service using every type shape.\n"), "{out}");
    assert_lines(
        &out,
        &[
            "  unary calc.sci.pow(base: number, exp: integer) -> number [deprecated]",
            "  unary job(steps: integer) -> integer [operation, progress: integer]",
            "  client_stream ui.progress(stream of integer) -> null [called by the server]",
            "  unary shapes(scalars: Scalars, optionals: Optionals, color: Color, shape: Shape, event: Event, message: Message, value: Value2, flattened: Flattened, flat_enum: WithFlatEnum, tree: Tree, user: UserId, rgb: Rgb, nothing: Nothing, constrained: Constrained, maybe?: Point | null) -> Scalars",
            "  news: string [the server publishes]",
            "  board: Tree [scope: server]",
            "machines:",
            "  door [transmit: Point]",
            "    closed (initial): events open, lock; goes to open, locked",
            "    open: events close; goes to any state",
            "    locked: no events; goes to no other state",
        ],
    );

    // Tagged enums, each tagging.
    let out = describe(&[SHAPES, "Shape"]);
    assert_eq!(
        out,
        "// Externally tagged (serde's default).\ntype Shape =\n  // No area at all.\n  | \"Empty\"\n  | { Circle: { radius: number } }\n  | { Square: number }\n  | { Rect: [number, number] }\n  | { At: Point };\n\ntypes:\n  // A point on the plane.\n  type Point = {\n    // Horizontal position.\n    x: number;\n    // Vertical position.\n    y: number;\n  };\n"
    );
    assert_lines(&describe(&[SHAPES, "Event"]), &["  | { type: \"Moved\"; to: Point }", "  | { type: \"Located\" } & Point;"]);
    assert_lines(&describe(&[SHAPES, "Message"]), &["  | { t: \"Edit\"; c: { line: integer; text: string } };"]);
    // Optional and nullable fields.
    assert_lines(
        &describe(&[SHAPES, "Optionals"]),
        &[
            "  // May be left out entirely.",
            "  omitted?: integer | null; // int32",
            "  defaulted?: integer; // uint32, default 0",
            "  nested?: boolean | null;",
        ],
    );
    // A recursive type: defined once, wherever it is reached from.
    let out = describe(&[SHAPES, "Tree"]);
    assert_eq!(out, "// A recursive type.\ntype Tree = {\n  label: string;\n  children: Tree[];\n  parent?: Tree | null;\n};\n");
    let out = describe(&[SHAPES, "board"]);
    assert!(out.starts_with("state board: Tree\nscope: server (one document, the same for every subscriber)\n\nThe shared board.\n"), "{out}");
    assert_eq!(out.matches("type Tree =").count(), 1, "{out}");
    let out = describe(&[SHAPES, "shapes"]);
    assert_eq!(out.matches("type Tree =").count(), 1, "{out}");
    assert_eq!(out.matches("type Point =").count(), 1, "{out}");
}

#[test]
fn topics_machines_namespaces_and_deprecations_in_full() {
    let out = describe(&[SHAPES, "calc.sci.pow"]);
    assert_lines(&out, &["Raise to a power.", "deprecated: use calc.power", "  exp: integer // int32"]);
    let out = describe(&[SHAPES, "news"]);
    assert_eq!(out, "topic news: string\npublished by the server: clients subscribe to it\n\nHeadlines.\n");
    let out = describe(&[SHAPES, "door"]);
    assert_lines(
        &out,
        &[
            "machine door",
            "transmit: Point (the data of its data events)",
            "  closed",
            "    goes to: open, locked",
            "    door.open() -> boolean",
            "      Opens it.",
            "    door.lock(data: string) -> null",
            "  open (entered with Point)",
            "    goes to: any state",
            "  type Point = {",
        ],
    );
    let out = describe(&[SHAPES, "calc"]);
    assert_eq!(
        out,
        "namespace calc\n  unary calc.divide(a: number, b: number) -> number throws DivError\n    Divide a by b.\n  unary calc.sci.pow(base: number, exp: integer) -> number [deprecated]\n    Raise to a power.\n"
    );
}

#[test]
fn json_prints_the_schema_entry() {
    let url = serve(calculator::router());
    let entry: serde_json::Value = serde_json::from_str(&describe(&[&url, "divide", "--format", "json"])).unwrap();
    assert_eq!(entry["name"], "divide");
    assert_eq!(entry["kind"], "unary");
    assert_eq!(entry["error"], serde_json::json!({"$ref": "#/$defs/DivError"}));
    let def: serde_json::Value = serde_json::from_str(&describe(&[SHAPES, "Tree", "--format", "json"])).unwrap();
    assert_eq!(def["description"], "A recursive type.");
    let doc: serde_json::Value = serde_json::from_str(&describe(&[SHAPES, "--format", "json"])).unwrap();
    assert_eq!(doc["name"], "shapes");
}

#[test]
fn a_url_that_is_not_a_volley_server_is_a_clear_error() {
    use volley::axum::routing::get;
    let addr = serve_app(volley::axum::Router::new().route("/", get(|| async { "a web page" })));
    let url = format!("http://{addr}/");
    let o = volley(&["describe", &url], "");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.starts_with(&format!("error: cannot fetch schema from http://{addr}/schema: the server answered `404 Not Found`")), "{err}");
    assert!(err.contains(&format!("is {url} a volley server?")), "{err}");

    // Something answers at /schema, but not with a volley schema.
    let addr = serve_app(volley::axum::Router::new().route("/schema", get(|| async { "{\"openapi\": \"3.1.0\"}" })));
    let url = format!("http://{addr}/schema");
    let o = volley(&["describe", &url], "");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("is not a volley schema document") && err.contains("a volley server?"), "{err}");

    // Nobody listening.
    let o = volley(&["describe", "ws://127.0.0.1:9/"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cannot fetch schema from http://127.0.0.1:9/schema"), "{}", text(&o.stderr));
}
