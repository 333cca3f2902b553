//! The calculator service: what a first volley server looks like.
//!
//! `cargo run -p calculator` serves it on 127.0.0.1:8000.

use std::collections::BTreeMap;
use std::fmt;

use volley::{model, rpc, Router};

/// Why an addition failed.
#[model]
#[derive(Debug, PartialEq)]
#[serde(tag = "kind")]
pub enum AddError {
    /// The sum does not fit in a 64-bit signed integer.
    Overflow,
}

impl fmt::Display for AddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sum does not fit in a 64-bit integer")
    }
}

/// Adds two integers. Fails with a typed `AddError` when the sum overflows.
#[rpc]
pub async fn add(a: i64, b: i64) -> Result<i64, AddError> {
    a.checked_add(b).ok_or(AddError::Overflow)
}

/// Why a division failed.
#[model]
#[serde(tag = "kind")]
pub enum DivError {
    /// The divisor was zero.
    DivisionByZero,
    /// The result does not fit in a finite number.
    Overflow {
        /// The dividend that overflowed.
        dividend: f64,
    },
}

impl fmt::Display for DivError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DivError::DivisionByZero => f.write_str("division by zero"),
            DivError::Overflow { dividend } => write!(f, "{dividend} divided overflows"),
        }
    }
}

/// Divides `a` by `b`. Fails with a typed `DivError` when `b` is zero.
#[rpc]
pub async fn divide(a: f64, b: f64) -> Result<f64, DivError> {
    if b == 0.0 {
        return Err(DivError::DivisionByZero);
    }
    let q = a / b;
    if q.is_finite() {
        Ok(q)
    } else {
        Err(DivError::Overflow { dividend: a })
    }
}

/// An arithmetic operation.
#[model]
#[serde(tag = "op", content = "args", rename_all = "snake_case")]
pub enum Operation {
    /// Sum of all values.
    Sum(Vec<f64>),
    /// `value` raised to `exponent`.
    Power {
        /// The base.
        value: f64,
        /// The exponent.
        exponent: i32,
    },
    /// Negates the value.
    Negate(f64),
}

/// A batch of named operations to evaluate.
#[model]
pub struct Batch {
    /// A label echoed in the report.
    #[validate(length(min = 1, max = 64))]
    pub label: String,
    /// Operations by name.
    pub operations: BTreeMap<String, Operation>,
    /// Digits to round results to; no rounding when absent.
    #[validate(range(min = 0, max = 12))]
    pub precision: Option<u8>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The result of one operation.
#[model]
pub struct Outcome {
    /// The value, when the operation succeeded.
    pub value: Option<f64>,
    /// Why it failed, otherwise.
    pub error: Option<String>,
}

/// What `evaluate` returns.
#[model]
pub struct Report {
    /// The batch's label.
    pub label: String,
    /// Outcomes by operation name.
    pub outcomes: BTreeMap<String, Outcome>,
    /// How many operations succeeded.
    pub succeeded: u32,
}

/// Evaluates a batch of operations; each one's outcome is reported by name.
#[rpc(name = "calc.evaluate")]
pub async fn evaluate(batch: Batch) -> Report {
    let round = |v: f64| match batch.precision {
        Some(p) => {
            let m = 10f64.powi(p as i32);
            (v * m).round() / m
        }
        None => v,
    };
    let mut outcomes = BTreeMap::new();
    let mut succeeded = 0;
    for (name, op) in &batch.operations {
        let v = match op {
            Operation::Sum(vs) => vs.iter().sum(),
            Operation::Power { value, exponent } => value.powi(*exponent),
            Operation::Negate(v) => -v,
        };
        let outcome = if v.is_finite() {
            succeeded += 1;
            Outcome { value: Some(round(v)), error: None }
        } else {
            Outcome { value: None, error: Some("the result is not a finite number".into()) }
        };
        outcomes.insert(name.clone(), outcome);
    }
    Report { label: batch.label.clone(), outcomes, succeeded }
}

/// The calculator's router.
pub fn router() -> Router {
    Router::new()
        .named("calculator", env!("CARGO_PKG_VERSION"), "A calculator: the volley example service.")
        .rpc::<add>()
        .rpc::<divide>()
        .rpc::<evaluate>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn handlers_are_plain_functions() {
        assert_eq!(add(2, 3).await, Ok(5));
        assert_eq!(add(i64::MAX, 1).await, Err(AddError::Overflow));
        assert!(matches!(divide(1.0, 0.0).await, Err(DivError::DivisionByZero)));
    }
}
