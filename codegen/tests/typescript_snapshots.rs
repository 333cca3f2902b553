//! Snapshots of the TypeScript SDK rendered for the fixture schema (every type shape and
//! the keyword fixture). Review changes with `cargo insta review`.

mod common;

use volley_cli::ir::Service;
use volley_cli::load;
use volley_cli::typescript;

fn render(fixture: &str) -> Vec<volley_cli::OutputFile> {
    common::render(volley_cli::Language::TypeScript, fixture)
}

#[test]
fn shapes_sdk() {
    // The runtime modules are verbatim copies, checked against their sources elsewhere.
    for file in render("shapes.json").into_iter().filter(|f| !f.path.starts_with("src/runtime")) {
        let name = file.path.to_string_lossy().replace(['/', '.'], "_");
        insta::assert_snapshot!(format!("shapes__{name}"), file.contents);
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(render("shapes.json"), render("shapes.json"));
}

#[test]
fn keyword_and_colliding_names_are_escaped() {
    let files = common::render_json(volley_cli::Language::TypeScript, r##"{
          "volley": 1, "name": "kw",
          "methods": [
            {"name": "then", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"$ref": "#/$defs/class"}},
            {"name": "constructor.new", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"$ref": "#/$defs/Client"}},
            {"name": "a-b", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"$ref": "#/$defs/2d"}}
          ],
          "$defs": {
            "class": {"type": "object", "properties": {"yield": {"type": "string"}}, "required": ["yield"]},
            "Client": {"type": "string"},
            "2d": {"type": "string", "enum": ["a b"]}
          }
        }"##);
    let types = &files.iter().find(|f| f.path.ends_with("types.ts")).unwrap().contents;
    let client = &files.iter().find(|f| f.path.ends_with("client.ts")).unwrap().contents;
    assert!(types.contains("export interface class_ {"), "{types}");
    assert!(types.contains("export type Client_ = string;"), "{types}");
    assert!(types.contains("export type _2d = \"a b\";"), "{types}");
    assert!(client.contains("  then_(options: CallOptions = {}): Promise<class_> {"), "{client}");
    assert!(client.contains("readonly constructor_: ConstructorNamespace;"), "{client}");
    assert!(client.contains("  aB(options: CallOptions = {}): Promise<_2d> {"), "{client}");
}

#[test]
fn unmappable_schemas_are_reported_with_their_place() {
    let doc = load::parse(
        "inline",
        r#"{"volley": 1, "name": "bad", "methods": [
            {"name": "m", "side": "server", "kind": "unary",
             "params": {"type": "object", "properties": {"x": {"not": {"type": "string"}}}},
             "result": {"type": "integer", "format": "int256"}}]}"#,
    )
    .unwrap();
    let err = Service::from_document(&doc).unwrap_err().to_string();
    assert!(err.contains("methods[m].params.x: the JSON Schema keyword `not`"), "{err}");
    assert!(err.contains("methods[m].result: unknown integer format `int256`"), "{err}");
}

#[test]
fn members_are_camel_case_reserved_methods_are_left_out_and_imports_are_exact() {
    let files = common::render_json(volley_cli::Language::TypeScript, r##"{
          "volley": 1, "name": "small",
          "methods": [
            {"name": "echo_metadata", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"type": "string"}},
            {"name": "my_tools.run_all", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"type": "integer", "format": "uint64"}},
            {"name": "volley.introspect", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": true},
            {"name": "volley.subscribe", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {"topics": {"type": "array", "items": {"type": "string"}}}}, "result": {"type": "null"}}
          ]
        }"##);
    let client = &files.iter().find(|f| f.path.ends_with("client.ts")).unwrap().contents;
    let types = &files.iter().find(|f| f.path.ends_with("types.ts")).unwrap().contents;
    assert!(client.contains("  echoMetadata(options: CallOptions = {}): Promise<string> {"), "{client}");
    assert!(client.contains("return this.#c.unary<string>(\"echo_metadata\", {}, options);"), "{client}");
    assert!(client.contains("  readonly myTools: MyToolsNamespace;"), "{client}");
    assert!(client.contains("  runAll(options: CallOptions = {}): Promise<WideInt> {"), "{client}");
    assert!(!client.contains("introspect") && !client.contains("VolleyNamespace"), "{client}");
    assert!(!types.contains("VolleySubscribeParams"), "{types}");
    // No stream methods, no handlers: no stream classes, Streamable or HandlerContext.
    for unused in ["ServerStream", "BidiStream", "Streamable", "HandlerContext"] {
        assert!(!client.contains(&format!("  {unused},")) && !client.contains(&format!("type {unused},")), "{unused} imported:\n{client}");
    }
    assert!(client.contains("  type WideInt,"), "{client}");
}

#[test]
fn a_service_gets_only_the_runtime_it_uses() {
    let files = common::render(volley_cli::Language::TypeScript, "unary_only.json");
    let runtime: Vec<String> = files
        .iter()
        .filter_map(|f| f.path.to_str()?.strip_prefix("src/runtime/").map(str::to_string))
        .collect();
    assert_eq!(
        runtime,
        ["frames.ts", "errors.ts", "codec.ts", "credit.ts", "queue.ts", "socket.ts", "reconnect.ts", "calls.ts", "connection.ts"]
    );
    let text = |name: &str| files.iter().find(|f| f.path.ends_with(name)).unwrap().contents.clone();
    let (client, index) = (text("src/client.ts"), text("src/index.ts"));
    for absent in ["runtime/streams", "runtime/server_calls", "runtime/topics", "runtime/state", "runtime/subscriptions", "TopicsApi", "StatesApi"] {
        assert!(!client.contains(absent) && !index.contains(absent), "{absent}: {client}\n{index}");
    }
    // Runtime modules are copied verbatim from the template folder.
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/typescript/runtime/connection.ts")).unwrap();
    assert_eq!(text("src/runtime/connection.ts"), source);

    // The fixture uses every feature: it gets every module.
    let all: Vec<String> = render("shapes.json")
        .iter()
        .filter_map(|f| f.path.to_str()?.strip_prefix("src/runtime/").map(str::to_string))
        .collect();
    assert_eq!(all.len(), typescript::runtime::MODULES.len(), "{all:?}");
}
