//! serde's representations of enums with data, recognised in a `oneOf`: external
//! (`{"Circle": {..}}`), adjacent (`{"t": "Circle", "c": {..}}`) and internal
//! (`{"kind": "Circle", ..}`) tagging, and unit variants as string enums. A guess that
//! fails leaves no errors behind, so the next rule can try.

use std::collections::BTreeSet;

use serde_json::Value;

use super::mapper::{description, Mapper, ANNOTATIONS};
use super::types::*;

impl Mapper<'_> {
    /// Recognises serde's external, internal and adjacent taggings.
    pub(super) fn tagged(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        self.external(members, at)
            .or_else(|| self.adjacent(members, at))
            .or_else(|| self.internal(members, at))
    }

    fn external(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        // Check the whole shape first so a failed guess reports no errors.
        let mut units_only = true;
        for m in members {
            if string_values(m).is_some() {
                continue;
            }
            units_only = false;
            let props = m.get("properties")?.as_object()?;
            let required = m.get("required")?.as_array()?;
            if props.len() != 1 || required.len() != 1 || m.get("additionalProperties") != Some(&Value::Bool(false)) {
                return None;
            }
            if required[0].as_str()? != props.keys().next()? {
                return None;
            }
        }
        if units_only {
            return None;
        }
        let mut variants = vec![];
        for m in members {
            if let Some(values) = string_values(m) {
                for v in values {
                    variants.push(Variant { name: v.value, description: v.description, payload: Payload::Unit });
                }
                continue;
            }
            let (name, schema) = m.get("properties")?.as_object()?.iter().next()?;
            let payload = self.payload(schema, &format!("{at}.{name}"));
            variants.push(Variant { name: name.clone(), description: description(m), payload });
        }
        Some(Tagged { tagging: Tagging::External, variants })
    }

    fn adjacent(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        let tag = common_tag(members)?;
        let mut content: Option<String> = None;
        for m in members {
            if m.get("$ref").is_some() {
                return None;
            }
            let props = m.get("properties")?.as_object()?;
            for key in props.keys().filter(|k| **k != tag) {
                match &content {
                    None => content = Some(key.clone()),
                    Some(c) if c == key => {}
                    Some(_) => return None,
                }
            }
        }
        let content = content?;
        // `{tag, x}` is also an internally tagged struct variant with one field `x`;
        // take it as adjacent only when several variants agree or the key says so.
        let with_content = members.iter().filter(|m| m.get("properties").and_then(|p| p.get(&content)).is_some()).count();
        if with_content < 2 && !["c", "content", "data", "value", "payload"].contains(&content.as_str()) {
            return None;
        }
        let mut variants = vec![];
        for m in members {
            let props = m.get("properties")?.as_object()?;
            let name = props.get(&tag)?.get("const")?.as_str()?.to_string();
            let payload = match props.get(&content) {
                None => Payload::Unit,
                Some(schema) => self.payload(schema, &format!("{at}.{name}")),
            };
            variants.push(Variant { name, description: description(m), payload });
        }
        Some(Tagged { tagging: Tagging::Adjacent { tag, content }, variants })
    }

    fn internal(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        let tag = common_tag(members)?;
        let mut variants = vec![];
        for m in members {
            let obj = m.as_object()?;
            let props = obj.get("properties")?.as_object()?;
            let name = props.get(&tag)?.get("const")?.as_str()?.to_string();
            let vat = format!("{at}.{name}");
            let required: BTreeSet<&str> = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields: Vec<Field> = props
                .iter()
                .filter(|(k, _)| **k != tag)
                .map(|(k, s)| self.field(k, s, !required.contains(k.as_str()), &format!("{vat}.{k}")))
                .collect();
            let payload = match obj.get("$ref") {
                Some(r) if fields.is_empty() => Payload::Value(self.reference(r, &vat)),
                Some(r) => {
                    let target = self.reference(r, &vat);
                    Payload::Value(Type::AllOf(vec![target, Type::Object(Object { fields, additional: None })]))
                }
                None if fields.is_empty() => Payload::Unit,
                None => Payload::Fields(fields),
            };
            variants.push(Variant { name, description: description(m), payload });
        }
        Some(Tagged { tagging: Tagging::Internal { tag }, variants })
    }

    /// A variant's payload: inline objects become fields, anything else a value.
    fn payload(&mut self, schema: &Value, at: &str) -> Payload {
        let inline_object = schema.get("$ref").is_none()
            && schema.get("type").and_then(Value::as_str) == Some("object")
            && schema.get("properties").is_some()
            && schema.get("oneOf").is_none()
            && schema.get("anyOf").is_none();
        match self.ty(schema, at) {
            Type::Object(o) if inline_object && o.additional.is_none() => Payload::Fields(o.fields),
            t => Payload::Value(t),
        }
    }
}

/// The property that every member has as a required string constant, if there is one.
fn common_tag(members: &[&Value]) -> Option<String> {
    let first = members.first()?;
    let candidates = first.get("properties")?.as_object()?;
    'candidates: for (key, _) in candidates {
        for m in members {
            let is_tag = m
                .get("properties")
                .and_then(|p| p.get(key))
                .and_then(|p| p.get("const"))
                .is_some_and(Value::is_string)
                && m.get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key)));
            if !is_tag {
                continue 'candidates;
            }
        }
        return Some(key.clone());
    }
    None
}

/// The values of a schema that admits only a few strings (`const` or `enum`).
fn string_values(schema: &Value) -> Option<Vec<EnumValue>> {
    let obj = schema.as_object()?;
    if obj.keys().any(|k| !ANNOTATIONS.contains(&k.as_str()) && !["type", "const", "enum"].contains(&k.as_str())) {
        return None;
    }
    if obj.get("type").is_some_and(|t| t != "string") {
        return None;
    }
    let description = description(schema);
    if let Some(c) = obj.get("const") {
        return Some(vec![EnumValue { value: c.as_str()?.to_string(), description }]);
    }
    let values = obj.get("enum")?.as_array()?;
    let single = values.len() == 1;
    values
        .iter()
        .map(|v| {
            Some(EnumValue {
                value: v.as_str()?.to_string(),
                description: if single { description.clone() } else { None },
            })
        })
        .collect()
}

/// The values of a union whose members are each a few strings.
pub(super) fn unit_enum(members: &[&Value]) -> Option<Vec<EnumValue>> {
    let mut out = vec![];
    for m in members {
        out.extend(string_values(m)?);
    }
    Some(out)
}
