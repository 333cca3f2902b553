//! Measurements taken around a scenario: latency percentiles, CPU time, resident memory
//! bytes on the wire and TCP segments per call.

pub mod cpu;
pub mod latency;
pub mod memory;
pub mod segments;
pub mod wire;
