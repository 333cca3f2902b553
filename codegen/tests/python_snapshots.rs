//! Snapshots of the Python SDK rendered for the fixture schema (every type shape and
//! the keyword fixture). Review changes with `cargo insta review`.

mod common;

use common::file;

use volley_cli::ir::Service;
use volley_cli::load;
use volley_cli::output::Settings;
use volley_cli::python;

fn render(fixture: &str) -> Vec<volley_cli::OutputFile> {
    common::render(volley_cli::Language::Python, fixture)
}

#[test]
fn shapes_sdk() {
    // The runtime modules are verbatim copies, checked against their sources elsewhere.
    for file in render("shapes.json").into_iter().filter(|f| !f.path.to_string_lossy().contains("/_runtime/")) {
        let name = file.path.to_string_lossy().replace(['/', '.'], "_");
        insta::assert_snapshot!(format!("shapes__{name}"), file.contents);
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(render("shapes.json"), render("shapes.json"));
}

#[test]
fn package_layout_and_names() {
    let files = render("shapes.json");
    let paths: Vec<String> = files.iter().map(|f| f.path.to_string_lossy().into_owned()).collect();
    assert_eq!(
        paths,
        [
            "pyproject.toml",
            "README.md",
            "shapes_client/__init__.py",
            "shapes_client/_runtime/__init__.py",
            "shapes_client/_runtime/errors.py",
            "shapes_client/_runtime/values.py",
            "shapes_client/_runtime/readers.py",
            "shapes_client/_runtime/frames.py",
            "shapes_client/_runtime/codec.py",
            "shapes_client/_runtime/credit.py",
            "shapes_client/_runtime/reconnect.py",
            "shapes_client/_runtime/transport.py",
            "shapes_client/_runtime/calls.py",
            "shapes_client/_runtime/connection.py",
            "shapes_client/_runtime/streams.py",
            "shapes_client/_runtime/server_calls.py",
            "shapes_client/_runtime/subscriptions.py",
            "shapes_client/_runtime/topics.py",
            "shapes_client/_runtime/patch.py",
            "shapes_client/_runtime/state.py",
            "shapes_client/_runtime/machines.py",
            "shapes_client/_runtime/operations.py",
            "shapes_client/types.py",
            "shapes_client/client.py",
            "shapes_client/py.typed",
        ]
    );
    let doc = load::load(&format!("{}/tests/fixtures/shapes.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let service = Service::from_document(&doc).unwrap();
    let named = python::generate(&service, &Settings::new().package_name("my-sdk").package_version("9.9.9")).unwrap();
    assert!(file(&named, "pyproject.toml").contains("name = \"my-sdk\"\nversion = \"9.9.9\""));
    assert!(named.iter().any(|f| f.path.ends_with("my_sdk/client.py")));
}

#[test]
fn a_service_gets_only_the_runtime_it_uses() {
    let files = common::render(volley_cli::Language::Python, "unary_only.json");
    let runtime: Vec<String> = files
        .iter()
        .filter_map(|f| f.path.to_str()?.strip_prefix("plain_client/_runtime/").map(str::to_string))
        .collect();
    assert_eq!(
        runtime,
        ["__init__.py", "errors.py", "values.py", "readers.py", "frames.py", "codec.py", "credit.py", "reconnect.py", "transport.py", "calls.py", "connection.py"]
    );
    let client = file(&files, "client.py");
    for absent in ["_runtime.streams", "_runtime.server_calls", "_runtime.topics", "_runtime.state", "self.topics", "self.states", "ServerCalls"] {
        assert!(!client.contains(absent), "{absent}: {client}");
    }
    assert!(client.contains("        return self._c.unary(\"add\", params, options, identity, None)"), "{client}");
    let init = file(&files, "__init__.py");
    assert!(!init.contains("Subscription") && !init.contains("Stream") && !init.contains("apply_patch"), "{init}");
    // Runtime modules are copied verbatim from the template folder.
    let connection = files.iter().find(|f| f.path.ends_with("_runtime/connection.py")).unwrap();
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/python/_runtime/connection.py")).unwrap();
    assert_eq!(connection.contents, source);
}

#[test]
fn keyword_fields_keep_their_wire_names() {
    let files = render("shapes.json");
    let types = file(&files, "types.py");
    let client = file(&files, "client.py");
    for (attr, wire) in [("class_", "class"), ("from_", "from"), ("await_", "await"), ("type_", "type"), ("self_", "self"), ("None_", "None"), ("kebab_case", "kebab-case"), ("_2d", "2d")] {
        assert!(types.contains(&format!("        d[\"{wire}\"] = self.{attr}\n")), "{attr}: {types}");
        assert!(types.contains(&format!("            {attr}=d[\"{wire}\"],\n")), "{attr}");
    }
    assert!(client.contains("        self.class_ = ClassNamespace(connection)"), "{client}");
    assert!(client.contains("    def connect_(self, *, options: CallOptions | None = None) -> UnaryCall[None]:"));
    assert!(client.contains("class_: Keywords,") || client.contains("class_: Keywords, "), "{client}");
    assert!(client.contains("params[\"self\"] = self_"), "{client}");
}

#[test]
fn keyword_and_colliding_type_names_are_escaped() {
    let files = common::render_json(volley_cli::Language::Python, r##"{
          "volley": 1, "name": "kw",
          "methods": [
            {"name": "import", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {"options": {"type": "string"}}, "required": ["options"]}, "result": {"$ref": "#/$defs/class"}},
            {"name": "lambda.new", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"$ref": "#/$defs/Client"}},
            {"name": "a-b", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"$ref": "#/$defs/2d"}}
          ],
          "$defs": {
            "class": {"type": "object", "properties": {"yield": {"type": "string"}, "to_wire": {"type": "string"}}, "required": ["yield", "to_wire"]},
            "Client": {"type": "string"},
            "2d": {"type": "string", "enum": ["a b"]}
          }
        }"##);
    let types = file(&files, "types.py");
    let client = file(&files, "client.py");
    assert!(types.contains("class class_:"), "{types}");
    assert!(types.contains("    yield_: str\n    to_wire_: str\n"), "{types}");
    assert!(types.contains("Client_: TypeAlias = str"), "{types}");
    assert!(types.contains("_2d: TypeAlias = Literal[\"a b\"]"), "{types}");
    assert!(client.contains("    def import_(self, *, options_: str, options: CallOptions | None = None) -> UnaryCall[class_]:"), "{client}");
    assert!(client.contains("        self.lambda_ = LambdaNamespace(connection)"), "{client}");
    assert!(client.contains("    def a_b(self, *, options: CallOptions | None = None) -> UnaryCall[_2d]:"), "{client}");
}

#[test]
fn reserved_methods_are_hidden_and_topics_and_states_are_typed() {
    let files = common::render_json(volley_cli::Language::Python, r##"{
          "volley": 1, "name": "pubsub",
          "methods": [
            {"name": "volley.introspect", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {}},
            {"name": "volley.subscribe", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {"topics": {"type": "array", "items": {"type": "string"}}}}, "result": {"type": "null"}},
            {"name": "topics", "side": "server", "kind": "unary", "params": {"type": "object", "properties": {}}, "result": {"type": "null"}}
          ],
          "topics": [
            {"name": "jobs.finished", "description": "Finished jobs.", "payload": {"$ref": "#/$defs/Topics"}},
            {"name": "subscribe", "payload": {"type": "string"}}
          ],
          "states": [
            {"name": "watch", "schema": {"type": "object", "additionalProperties": {"type": "integer"}}}
          ],
          "$defs": {
            "Topics": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
          }
        }"##);
    let client = file(&files, "client.py");
    assert!(!client.contains("\"volley."), "{client}");
    assert!(!client.contains("VolleyNamespace"), "{client}");
    // `client.topics` and `client.states` keep their names; the method moves aside.
    assert!(client.contains("    def topics_(self, *, options: CallOptions | None = None) -> UnaryCall[None]:"), "{client}");
    assert!(client.contains("        self.topics = Topics_(connection)"), "{client}");
    assert!(client.contains("class Topics_:"), "{client}");
    assert!(client.contains("        return Subscription(self._c, \"jobs.finished\", payload(Topics.from_wire), buffer, overflow)"), "{client}");
    assert!(client.contains("    \"jobs.finished\": Topics.from_wire,\n"), "{client}");
    assert!(client.contains("    def subscribe_(\n"), "{client}");
    assert!(client.contains("    ) -> Subscription[str]:"), "{client}");
    assert!(client.contains("    def watch_(self, *, buffer: int = DEFAULT_STATE_BUFFER) -> SharedState[dict[str, int]]:"), "{client}");
}
