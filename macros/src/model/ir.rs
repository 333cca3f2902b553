//! What `#[model]` understood about a type: which fields to validate, and under which
//! path segment each sits in an error path.

use syn::{Generics, Ident, Member};

use crate::validate_attr::Constraints;

/// A model.
pub struct Model {
    /// The type's name.
    pub ident: Ident,
    /// Its generics, for the `Validate` impl.
    pub generics: Generics,
    /// Its fields or variants.
    pub body: Body,
}

/// A struct's fields or an enum's variants.
pub enum Body {
    /// A struct.
    Struct(Fields),
    /// An enum.
    Enum(Vec<Variant>),
}

/// The fields of a struct or of one variant.
pub struct Fields {
    /// Named, tuple or unit.
    pub style: Style,
    /// The fields, in order.
    pub fields: Vec<Field>,
}

/// How fields are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `{ a: T }`
    Named,
    /// `(T, U)`
    Tuple,
    /// No fields.
    Unit,
}

/// One field.
pub struct Field {
    /// `self.name` or `self.0`.
    pub member: Member,
    /// Where the field's value sits below its parent, for error paths.
    pub segment: Segment,
    /// Declared constraints.
    pub constraints: Constraints,
    /// Not deserialized (`#[serde(skip)]`): nothing to validate.
    pub skip: bool,
}

/// A step in an error path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `.name`
    Key(String),
    /// `[i]`
    Index(usize),
    /// No step: the value sits inline (newtypes, `flatten`, `transparent`).
    Inline,
}

/// One enum variant.
pub struct Variant {
    /// The variant's name.
    pub ident: Ident,
    /// Where the variant's fields sit below the enum's value.
    pub segment: Segment,
    /// Its fields.
    pub fields: Fields,
    /// Not deserialized (`#[serde(skip)]`).
    pub skip: bool,
}
