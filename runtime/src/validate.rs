//! Declarative constraints on request fields, checked on every incoming call.
//!
//! `#[volley::model]` and `#[rpc]` turn `#[validate(range(..))]`, `#[validate(length(..))]`
//! and `#[validate(pattern = "..")]` into a [`Validate`] implementation and into the
//! matching JSON Schema keywords. A call whose parameters break a constraint is
//! answered with `INVALID_PARAMS`, listing every failing field by path.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// One failing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Path to the field: `name`, `address.zip`, `tags[2].label`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// Collects the failing fields of one value.
#[derive(Debug, Default)]
pub struct Violations {
    path: String,
    errors: Vec<FieldError>,
}

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` with `segment` appended to the current path (`field`, or `[3]`).
    pub fn at(&mut self, segment: &str, f: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        if !segment.starts_with('[') && !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(segment);
        f(self);
        self.path.truncate(len);
    }

    /// Records a failure at the current path.
    pub fn push(&mut self, message: impl Into<String>) {
        self.errors.push(FieldError { path: self.path.clone(), message: message.into() });
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failures.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }
}

/// A value with declared constraints. Derived by `#[volley::model]`.
pub trait Validate {
    /// Records every constraint this value breaks.
    fn validate(&self, v: &mut Violations);

    /// Checks the value, returning the failing fields.
    fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Violations::new();
        self.validate(&mut v);
        if v.is_empty() {
            Ok(())
        } else {
            Err(v.into_errors())
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self, v: &mut Violations) {
        (**self).validate(v)
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self, v: &mut Violations) {
        if let Some(x) = self {
            x.validate(v)
        }
    }
}

impl<T: Validate> Validate for [T] {
    fn validate(&self, v: &mut Violations) {
        for (i, x) in self.iter().enumerate() {
            v.at(&format!("[{i}]"), |v| x.validate(v));
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self, v: &mut Violations) {
        self.as_slice().validate(v)
    }
}

impl<K: std::fmt::Display, T: Validate, S> Validate for HashMap<K, T, S> {
    fn validate(&self, v: &mut Violations) {
        for (k, x) in self {
            v.at(&format!("[{k}]"), |v| x.validate(v));
        }
    }
}

impl<K: std::fmt::Display, T: Validate> Validate for BTreeMap<K, T> {
    fn validate(&self, v: &mut Violations) {
        for (k, x) in self {
            v.at(&format!("[{k}]"), |v| x.validate(v));
        }
    }
}

/// Numbers a `range` constraint applies to.
#[diagnostic::on_unimplemented(
    message = "`#[validate(range(..))]` applies to numbers, not `{Self}`",
    label = "this field is checked with `range`",
    note = "use `length(..)` for strings and collections, `pattern = \"..\"` for strings"
)]
pub trait Num {
    /// The value as f64, or `None` to skip the check (an absent optional).
    fn as_f64(&self) -> Option<f64>;
}

macro_rules! num {
    ($($t:ty),*) => { $( impl Num for $t { fn as_f64(&self) -> Option<f64> { Some(*self as f64) } } )* };
}
num!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

impl<T: Num> Num for Option<T> {
    fn as_f64(&self) -> Option<f64> {
        self.as_ref().and_then(Num::as_f64)
    }
}

/// Values a `length` constraint applies to: characters of a string, items of a collection.
#[diagnostic::on_unimplemented(
    message = "`#[validate(length(..))]` applies to strings, vectors and maps, not `{Self}`",
    label = "this field is checked with `length`",
    note = "use `range(..)` for numbers"
)]
pub trait HasLength {
    /// The length, or `None` to skip the check.
    fn length(&self) -> Option<usize>;
}

impl HasLength for String {
    fn length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
}
impl HasLength for str {
    fn length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
}
impl<T> HasLength for Vec<T> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}
impl<K, T, S> HasLength for HashMap<K, T, S> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}
impl<K, T> HasLength for BTreeMap<K, T> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}
impl<T: HasLength> HasLength for Option<T> {
    fn length(&self) -> Option<usize> {
        self.as_ref().and_then(HasLength::length)
    }
}

/// Values a `pattern` constraint applies to.
#[diagnostic::on_unimplemented(
    message = "`#[validate(pattern = ..)]` applies to strings, not `{Self}`",
    label = "this field is checked with `pattern`"
)]
pub trait AsOptStr {
    /// The string, or `None` to skip the check.
    fn as_opt_str(&self) -> Option<&str>;
}
impl AsOptStr for String {
    fn as_opt_str(&self) -> Option<&str> {
        Some(self)
    }
}
impl AsOptStr for str {
    fn as_opt_str(&self) -> Option<&str> {
        Some(self)
    }
}
impl<T: AsOptStr> AsOptStr for Option<T> {
    fn as_opt_str(&self) -> Option<&str> {
        self.as_ref().and_then(AsOptStr::as_opt_str)
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Checks `min <= value <= max`.
pub fn check_range<T: Num + ?Sized>(value: &T, min: Option<f64>, max: Option<f64>, v: &mut Violations) {
    let Some(x) = value.as_f64() else { return };
    match (min, max) {
        (Some(lo), Some(hi)) if x < lo || x > hi => {
            v.push(format!("must be between {} and {}", fmt_num(lo), fmt_num(hi)))
        }
        (Some(lo), None) if x < lo => v.push(format!("must be at least {}", fmt_num(lo))),
        (None, Some(hi)) if x > hi => v.push(format!("must be at most {}", fmt_num(hi))),
        _ if x.is_nan() => v.push("must be a number"),
        _ => {}
    }
}

/// Checks `min <= length <= max`.
pub fn check_length<T: HasLength + ?Sized>(value: &T, min: Option<usize>, max: Option<usize>, v: &mut Violations) {
    let Some(n) = value.length() else { return };
    match (min, max) {
        (Some(lo), Some(hi)) if n < lo || n > hi => v.push(format!("length must be between {lo} and {hi}, is {n}")),
        (Some(lo), None) if n < lo => v.push(format!("length must be at least {lo}, is {n}")),
        (None, Some(hi)) if n > hi => v.push(format!("length must be at most {hi}, is {n}")),
        _ => {}
    }
}

/// Checks that the string matches `re` (compiled once from `pattern`).
pub fn check_pattern<T: AsOptStr + ?Sized>(
    value: &T,
    re: &'static std::sync::LazyLock<regex::Regex>,
    pattern: &str,
    v: &mut Violations,
) {
    if let Some(s) = value.as_opt_str() {
        if !re.is_match(s) {
            v.push(format!("must match the pattern {pattern}"));
        }
    }
}

/// Wraps a field for nested validation by autoref specialization: fields whose type
/// implements [`Validate`] are validated, others are skipped. Used by macro output.
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

/// Picked for `&Wrap<T>` when `T: Validate`.
pub trait ValidateViaTrait {
    /// Validates the wrapped value.
    fn __volley_validate(&self, v: &mut Violations);
}

impl<T: Validate + ?Sized> ValidateViaTrait for &Wrap<'_, T> {
    fn __volley_validate(&self, v: &mut Violations) {
        self.0.validate(v)
    }
}

/// Picked for every other type: nothing to check.
pub trait ValidateFallback {
    /// Does nothing.
    fn __volley_validate(&self, v: &mut Violations);
}

impl<T: ?Sized> ValidateFallback for Wrap<'_, T> {
    fn __volley_validate(&self, _: &mut Violations) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Inner {
        n: i32,
    }
    impl Validate for Inner {
        fn validate(&self, v: &mut Violations) {
            v.at("n", |v| check_range(&self.n, Some(0.0), Some(9.0), v));
        }
    }

    #[test]
    fn paths_name_each_failing_field() {
        let items = vec![Inner { n: 1 }, Inner { n: 12 }];
        let mut v = Violations::new();
        v.at("items", |v| items.validate(v));
        v.at("name", |v| check_length("", Some(1), Some(5), v));
        let errors = v.into_errors();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].path, "items[1].n");
        assert_eq!(errors[0].message, "must be between 0 and 9");
        assert_eq!(errors[1].path, "name");
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the extra borrow is what picks the impl
    fn autoref_picks_validate_when_implemented() {
        use super::{ValidateFallback as _, ValidateViaTrait as _};
        let mut v = Violations::new();
        (&&Wrap(&Inner { n: -1 })).__volley_validate(&mut v);
        (&&Wrap(&5u8)).__volley_validate(&mut v);
        assert_eq!(v.into_errors().len(), 1);
    }

    #[test]
    fn optional_values_are_skipped_when_absent() {
        let mut v = Violations::new();
        check_range(&None::<u8>, Some(1.0), None, &mut v);
        check_length(&None::<String>, Some(1), None, &mut v);
        assert!(v.is_empty());
        check_range(&Some(0u8), Some(1.0), None, &mut v);
        assert_eq!(v.into_errors()[0].message, "must be at least 1");
    }
}
