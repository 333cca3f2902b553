//! The types of a service's values, as every language's generator reads them: one
//! [`Type`] per shape serde gives a Rust type, named definitions ([`TypeDef`]), fields and
//! their constraints, and the taggings of enums with data.

use std::collections::BTreeSet;

use serde_json::Value;

/// A named type from `$defs`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// The `$defs` key, as the server named it.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// What it is.
    pub ty: Type,
}

/// A field of an object, or a parameter of a method.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The wire name (after serde's renames).
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// The value's type; a nullable field has a [`Type::Nullable`].
    pub ty: Type,
    /// Whether the key may be left out (serde `default`, or an `Option`).
    pub optional: bool,
    /// The default value the server fills in when the key is left out.
    pub default: Option<Value>,
    /// Declared constraints.
    pub constraints: Constraints,
}

/// Constraints a schema declares (PROTOCOL.md section 9), kept for docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// `minimum`.
    pub minimum: Option<Value>,
    /// `maximum`.
    pub maximum: Option<Value>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
}

impl Constraints {
    /// Whether nothing is constrained.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }

    /// The constraints as short phrases, such as `minimum 1`.
    pub fn phrases(&self) -> Vec<String> {
        let mut out = vec![];
        let mut push = |label: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(format!("{label} {v}"));
            }
        };
        push("minimum", self.minimum.as_ref().map(Value::to_string));
        push("maximum", self.maximum.as_ref().map(Value::to_string));
        push("min length", self.min_length.map(|v| v.to_string()));
        push("max length", self.max_length.map(|v| v.to_string()));
        push("pattern", self.pattern.clone().map(|p| format!("`{p}`")));
        push("min items", self.min_items.map(|v| v.to_string()));
        push("max items", self.max_items.map(|v| v.to_string()));
        out
    }
}

/// An integer's width, from the schema's `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntFormat {
    /// Whether negative values are allowed.
    pub signed: bool,
    /// Bits; `None` when the schema names no width (take it as unbounded).
    pub bits: Option<u32>,
}

impl IntFormat {
    /// Whether every value of this integer is exactly representable as an IEEE 754
    /// double, that is lies within ±(2^53 − 1).
    pub fn fits_in_double(&self) -> bool {
        matches!(self.bits, Some(b) if b <= 32)
    }
}

/// A JSON literal used as a type (`const`).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string.
    String(String),
    /// A number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

/// A type, as far as the wire is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// Any value (`true` or `{}` in JSON Schema).
    Any,
    /// Only null: Rust's `()` and unit structs.
    Null,
    /// A boolean.
    Bool,
    /// An integer of some width.
    Integer {
        /// The width.
        format: IntFormat,
        /// `minimum` and `maximum`, when both are declared and are integers.
        range: Option<(i128, i128)>,
    },
    /// A floating-point number.
    Number,
    /// A string.
    String,
    /// Bytes: a list of `uint8` in the schema (serde's `Vec<u8>`). JSON carries a list
    /// of numbers; MessagePack a list or, with `serde_bytes`, a binary.
    Bytes,
    /// One fixed value.
    Literal(Literal),
    /// The inner type, or null.
    Nullable(Box<Type>),
    /// A list.
    List(Box<Type>),
    /// A map from strings to values.
    Map(Box<Type>),
    /// A fixed-length list whose positions have their own types.
    Tuple(Vec<Type>),
    /// An object with known fields.
    Object(Object),
    /// A unit-only enum: one of a few strings.
    Enum(Vec<EnumValue>),
    /// A serde enum with a recognised tagging.
    Tagged(Tagged),
    /// An untagged union: the first alternative the value fits.
    Union(Vec<Type>),
    /// All of these at once (serde flattening an enum, or a newtype variant of an
    /// internally tagged enum).
    AllOf(Vec<Type>),
    /// A named type from `$defs`.
    Ref(String),
}

impl Type {
    /// Whether this type is `Nullable`.
    pub fn is_nullable(&self) -> bool {
        matches!(self, Type::Nullable(_))
    }

    /// Every `$defs` name this type refers to, directly or inside.
    pub fn refs(&self, out: &mut BTreeSet<String>) {
        match self {
            Type::Ref(n) => {
                out.insert(n.clone());
            }
            Type::Nullable(t) | Type::List(t) | Type::Map(t) => t.refs(out),
            Type::Tuple(ts) | Type::Union(ts) | Type::AllOf(ts) => ts.iter().for_each(|t| t.refs(out)),
            Type::Object(o) => {
                o.fields.iter().for_each(|f| f.ty.refs(out));
                if let Some(a) = &o.additional {
                    a.refs(out);
                }
            }
            Type::Tagged(t) => t.variants.iter().for_each(|v| match &v.payload {
                Payload::Unit => {}
                Payload::Fields(fs) => fs.iter().for_each(|f| f.ty.refs(out)),
                Payload::Value(t) => t.refs(out),
            }),
            _ => {}
        }
    }
}

/// An object's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Known fields, in the schema's order.
    pub fields: Vec<Field>,
    /// The type of other keys (a flattened map), if they are allowed and typed.
    pub additional: Option<Box<Type>>,
}

/// One value of a unit enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// The string on the wire.
    pub value: String,
    /// Doc text.
    pub description: Option<String>,
}

/// How a serde enum puts its variant's name on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tagging {
    /// `{"Variant": payload}`, or `"Variant"` for a unit variant (serde's default).
    External,
    /// `{"tag": "Variant", ...fields}` (`#[serde(tag = "...")]`).
    Internal {
        /// The tag's key.
        tag: String,
    },
    /// `{"tag": "Variant", "content": payload}` (`#[serde(tag, content)]`).
    Adjacent {
        /// The tag's key.
        tag: String,
        /// The payload's key.
        content: String,
    },
}

/// A serde enum whose variants carry data, recognised from its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged {
    /// How the variant is named on the wire.
    pub tagging: Tagging,
    /// The variants, in the schema's order.
    pub variants: Vec<Variant>,
}

/// One variant of a [`Tagged`] enum.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's name on the wire (the tag's value).
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// What it carries.
    pub payload: Payload,
}

/// What a variant carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Nothing.
    Unit,
    /// Named fields (a struct variant).
    Fields(Vec<Field>),
    /// One value: a newtype variant, or a [`Type::Tuple`] for a tuple variant. Under
    /// internal tagging its fields sit beside the tag.
    Value(Type),
}

