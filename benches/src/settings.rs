//! The run's parameters: how long each window lasts and how much work a client does.

use std::time::Duration;

/// Parameters shared by every system in one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Settings {
    /// Measured window per scenario, seconds.
    pub secs: f64,
    /// Measured windows per scenario; the one with the median rate is reported.
    pub repeats: usize,
    /// Warm-up before each measured window, seconds.
    pub warmup_secs: f64,
    /// Calls in flight in the pipelined scenario.
    pub depth: usize,
    /// Items per stream call.
    pub stream_items: u64,
    /// Sequential calls counted by the wire proxy.
    pub wire_calls: u64,
    /// Connection counts at which server memory is read; the first is the baseline.
    pub idle_conns: Vec<usize>,
    /// Pause before each memory reading, milliseconds.
    pub settle_ms: u64,
    /// Credit window volley's stream client grants (`CallOptions::window`); `None` leaves
    /// the protocol's default of 32, as the published figures do.
    pub stream_window: Option<u32>,
}

impl Settings {
    /// The settings of a `--quick` run (under two minutes) or a full one.
    pub fn new(quick: bool) -> Settings {
        if quick {
            Settings { secs: 1.5, repeats: 1, warmup_secs: 0.3, depth: 64, stream_items: 10_000, wire_calls: 1_000, idle_conns: vec![1, 1_000, 10_000], settle_ms: 300, stream_window: None }
        } else {
            Settings { secs: 3.0, repeats: 3, warmup_secs: 0.5, depth: 64, stream_items: 10_000, wire_calls: 10_000, idle_conns: vec![1, 1_000, 10_000], settle_ms: 1_000, stream_window: None }
        }
    }

    /// The `client` subcommand's flags for these settings.
    pub fn client_args(&self) -> Vec<String> {
        let conns = self.idle_conns.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        [
            ("--secs", self.secs.to_string()),
            ("--warmup", self.warmup_secs.to_string()),
            ("--depth", self.depth.to_string()),
            ("--items", self.stream_items.to_string()),
            ("--calls", self.wire_calls.to_string()),
            ("--conns", conns),
        ]
        .into_iter()
        .chain(self.stream_window.map(|w| ("--window", w.to_string())))
        .flat_map(|(k, v)| [k.to_string(), v])
        .collect()
    }

    /// How long a measured-window client may take in all, connection and warm-up included.
    pub fn client_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.warmup_secs + self.secs + 60.0)
    }

    /// How long the idle-connection client may take in all.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(180)
    }

    /// The pause before a memory reading.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }
}
