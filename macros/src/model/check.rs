//! What `#[model]` refuses: unions, and `#[validate]` anywhere but on a field. (The
//! constraints themselves are checked against the field's type in `validate_attr`.)

use syn::{Attribute, DataUnion};

use crate::ctxt::Ctxt;

/// serde cannot (de)serialize unions.
pub fn not_a_union(cx: &Ctxt, u: &DataUnion) {
    cx.error_spanned_by(u.union_token, "`#[model]` goes on a struct or an enum: serde cannot (de)serialize unions; use an enum");
}

/// Removes `#[validate]` from a type or variant, reporting each: constraints go on
/// fields.
pub fn no_validate(cx: &Ctxt, attrs: &mut Vec<Attribute>, place: &str) {
    attrs.retain(|a| {
        if a.path().is_ident("validate") {
            cx.error_spanned_by(a, format!("`#[validate]` goes on fields, not {place}"));
            false
        } else {
            true
        }
    });
}
