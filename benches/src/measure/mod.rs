//! Measurements taken around a scenario: latency percentiles, CPU time, resident memory
//! and bytes on the wire.

pub mod cpu;
pub mod latency;
pub mod memory;
pub mod wire;
