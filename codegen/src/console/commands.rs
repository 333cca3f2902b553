//! What a console line says: a command of the console's own, or a call.

use serde_json::Value;

/// The console's own commands, for `help` and Tab completion.
pub const COMMANDS: &[(&str, &str)] = &[
    ("help", "this list"),
    ("describe", "describe [NAME]: the service, or one method, topic, state or type in full"),
    ("subscribe", "subscribe NAME...: topics (wildcards `chat.*`, `*`) and shared states; each prints as it arrives"),
    ("unsubscribe", "unsubscribe NAME...: stop them"),
    ("publish", "publish TOPIC {json}: send a notification on a topic the server handles"),
    ("exit", "leave (also `quit`, Ctrl-D)"),
    ("quit", "leave"),
];

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Nothing typed.
    Empty,
    /// `help`.
    Help,
    /// `exit`, `quit`.
    Exit,
    /// `describe [NAME]`.
    Describe(Option<String>),
    /// `subscribe NAME...`.
    Subscribe(Vec<String>),
    /// `unsubscribe NAME...`.
    Unsubscribe(Vec<String>),
    /// `publish TOPIC VALUE`.
    Publish {
        /// The topic.
        topic: String,
        /// The value: JSON, or else the text as a string.
        value: Value,
    },
    /// `METHOD {json}` or `METHOD key=value ...`.
    Call {
        /// The method's name.
        method: String,
        /// The parameters.
        params: Params,
    },
}

/// A call's parameters as typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// One JSON object.
    Json(Value),
    /// `key=value` pairs, the values as typed (the console reads them with the schema).
    Pairs(Vec<(String, String)>),
}

/// Parses a line.
pub fn parse(line: &str) -> Result<Line, String> {
    let line = line.trim();
    let (first, rest) = match line.split_once(char::is_whitespace) {
        Some((f, r)) => (f, r.trim()),
        None => (line, ""),
    };
    let words = || split_args(rest);
    Ok(match first {
        "" => Line::Empty,
        "help" | "?" => Line::Help,
        "exit" | "quit" => Line::Exit,
        "describe" => Line::Describe(words()?.into_iter().next()),
        "subscribe" | "unsubscribe" => {
            let names = words()?;
            if names.is_empty() {
                return Err(format!("usage: {first} NAME... (topics such as `chat.*` or `*`, and shared states)"));
            }
            if first == "subscribe" { Line::Subscribe(names) } else { Line::Unsubscribe(names) }
        }
        "publish" => {
            let (topic, value) = match rest.split_once(char::is_whitespace) {
                Some((t, v)) => (t, v.trim()),
                None => (rest, ""),
            };
            if topic.is_empty() || value.is_empty() {
                return Err("usage: publish TOPIC {json}".into());
            }
            Line::Publish { topic: topic.to_owned(), value: json_or_text(value) }
        }
        method => {
            let params = if rest.starts_with('{') {
                let v: Value = serde_json::from_str(rest).map_err(|e| format!("the parameters are not JSON: {e}"))?;
                Params::Json(v)
            } else {
                let mut pairs = vec![];
                for word in words()? {
                    let Some((k, v)) = word.split_once('=') else {
                        return Err(format!("`{word}` is not key=value (or give the parameters as one JSON object: {method} {{\"a\": 1}})"));
                    };
                    pairs.push((k.to_owned(), v.to_owned()));
                }
                Params::Pairs(pairs)
            };
            Line::Call { method: method.to_owned(), params }
        }
    })
}

/// A value as typed: JSON when it parses as JSON, else the text itself as a string.
pub fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Splits at white space that is outside double quotes and brackets, so `a=[1, 2]` and
/// `text="hello world"` stay one word each.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word) = (vec![], String::new());
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    for c in text.chars() {
        if quoted {
            word.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            c if c.is_whitespace() && depth <= 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines() {
        assert_eq!(parse("  ").unwrap(), Line::Empty);
        assert_eq!(parse("add {\"a\": 1}").unwrap(), Line::Call { method: "add".into(), params: Params::Json(json!({"a": 1})) });
        assert_eq!(
            parse("chat text=\"hi there\" tags=[1, 2]").unwrap(),
            Line::Call { method: "chat".into(), params: Params::Pairs(vec![("text".into(), "\"hi there\"".into()), ("tags".into(), "[1, 2]".into())]) }
        );
        assert!(parse("add a").unwrap_err().contains("not key=value"));
        assert_eq!(parse("subscribe chat.* jobs").unwrap(), Line::Subscribe(vec!["chat.*".into(), "jobs".into()]));
        assert_eq!(parse("publish cursor {\"x\": 1}").unwrap(), Line::Publish { topic: "cursor".into(), value: json!({"x": 1}) });
        assert_eq!(parse("publish news hello").unwrap(), Line::Publish { topic: "news".into(), value: json!("hello") });
        assert_eq!(parse("describe add").unwrap(), Line::Describe(Some("add".into())));
    }
}
