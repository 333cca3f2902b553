//! Tab completion and hints for the console, all from the schema: commands and method
//! names first on the line, topic and state names after `subscribe`, `unsubscribe` and
//! `publish`, any name after `describe`, and `name=` for a method's parameters.

use std::borrow::Cow;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::Context;

use super::commands::COMMANDS;
use super::schema::Schema;

/// The console's rustyline helper.
pub struct ConsoleHelper {
    schema: Schema,
}

impl ConsoleHelper {
    /// A helper completing from `schema`.
    pub fn new(schema: Schema) -> Self {
        ConsoleHelper { schema }
    }

    /// What a word at `start` of `line` may be, given the words before it.
    pub fn candidates(&self, line: &str, start: usize) -> Vec<String> {
        let before: Vec<&str> = line[..start].split_whitespace().collect();
        let s = &self.schema;
        let methods = s.methods.iter().map(|m| m.name.clone());
        match before.first().copied() {
            None => COMMANDS.iter().map(|(c, _)| c.to_string()).chain(methods).collect(),
            Some("subscribe" | "unsubscribe") => {
                s.topics.iter().filter(|(_, client)| !client).map(|(t, _)| t.clone()).chain(s.states.iter().cloned()).collect()
            }
            Some("publish") if before.len() == 1 => s.topics.iter().filter(|(_, client)| *client).map(|(t, _)| t.clone()).collect(),
            Some("describe") if before.len() == 1 => {
                let defs = s.doc["$defs"].as_object().map(|d| d.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
                methods.chain(s.topics.iter().map(|(t, _)| t.clone())).chain(s.states.iter().cloned()).chain(defs).collect()
            }
            Some(name) => match s.method(name) {
                Some(m) if !line[start..].starts_with('{') => {
                    let used: Vec<&str> = before[1..].iter().filter_map(|w| w.split_once('=').map(|(k, _)| k)).collect();
                    m.param_names(s).into_iter().filter(|p| !used.contains(&p.as_str())).map(|p| format!("{p}=")).collect()
                }
                _ => vec![],
            },
        }
    }
}

/// Where the word under the cursor starts.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos].rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0)
}

impl Completer for ConsoleHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = word_start(line, pos);
        let word = &line[start..pos];
        if word.contains('=') {
            return Ok((start, vec![]));
        }
        let mut found: Vec<String> = self.candidates(line, start).into_iter().filter(|c| c.starts_with(word)).collect();
        found.dedup();
        let single = found.len() == 1;
        let pairs = found
            .into_iter()
            .map(|c| {
                // One match is a whole word: a space follows it, ready for the next.
                let replacement = if single && !c.ends_with('=') { format!("{c} ") } else { c.clone() };
                Pair { display: c, replacement }
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ConsoleHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        // After a method's name and a space: its parameters, the way to type them.
        let method = line.strip_suffix(' ').and_then(|m| self.schema.method(m.trim()))?;
        let params = method.param_names(&self.schema);
        if params.is_empty() || line.ends_with("  ") {
            return None;
        }
        Some(params.iter().map(|p| format!("{p}=…")).collect::<Vec<_>>().join(" "))
    }
}

impl Highlighter for ConsoleHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for ConsoleHelper {}

impl rustyline::Helper for ConsoleHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completes_from_the_schema() {
        let h = ConsoleHelper::new(Schema::new(json!({
            "methods": [{"name": "calc.add", "kind": "unary", "side": "server",
                "params": {"type": "object", "properties": {"a": {}, "b": {}}}}],
            "topics": [{"name": "news", "publisher": "server"}, {"name": "cursor", "publisher": "client"}],
            "states": [{"name": "board"}]
        })));
        assert!(h.candidates("calc", 0).contains(&"calc.add".to_owned()));
        assert_eq!(h.candidates("calc.add a=1 ", 13), ["b="]);
        assert_eq!(h.candidates("subscribe ", 10), ["news", "board"]);
        assert_eq!(h.candidates("publish ", 8), ["cursor"]);
    }
}
