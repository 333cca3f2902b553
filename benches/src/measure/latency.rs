//! Latency samples and their percentiles.

use std::time::Instant;

/// Percentiles of per-call latency, in microseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
}

/// Collects one sample per call, up to a fixed capacity allocated up front so that
/// recording never allocates inside the measured loop.
pub struct Recorder {
    samples: Vec<u32>,
}

impl Recorder {
    /// A recorder for at most `capacity` samples; later samples are dropped.
    pub fn with_capacity(capacity: usize) -> Self {
        Recorder { samples: Vec::with_capacity(capacity) }
    }

    /// Records the time elapsed since `start`.
    #[inline]
    pub fn record_since(&mut self, start: Instant) {
        if self.samples.len() < self.samples.capacity() {
            let ns = start.elapsed().as_nanos().min(u32::MAX as u128) as u32;
            self.samples.push(ns);
        }
    }

    /// The percentiles of the recorded samples (nearest-rank), or `None` without samples.
    pub fn percentiles(mut self) -> Option<Percentiles> {
        if self.samples.is_empty() {
            return None;
        }
        self.samples.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * self.samples.len() as f64).ceil() as usize).clamp(1, self.samples.len());
            self.samples[rank - 1] as f64 / 1000.0
        };
        Some(Percentiles { p50_us: at(0.50), p99_us: at(0.99), p999_us: at(0.999) })
    }
}
