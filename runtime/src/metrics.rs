//! Metrics: what volley counts, through the [`metrics`](https://docs.rs/metrics) facade,
//! and the Prometheus exporter behind `GET /metrics`.
//!
//! volley records these once [`Server::metrics`](crate::Server::metrics) installed its
//! exporter, or the application called [`enable`] to send them to a recorder of its
//! own; otherwise recording is skipped on a single flag.
//!
//! | name | type | labels |
//! |------|------|--------|
//! | `volley_connections_open` | gauge | |
//! | `volley_connections_total` | counter | |
//! | `volley_connections_refused_total` | counter | `reason`: `capacity`, `draining`, `origin`, `hook`, `tls` |
//! | `volley_calls_started_total` | counter | `method` |
//! | `volley_calls_finished_total` | counter | `method`, `code` (`OK` or the error code's name) |
//! | `volley_call_duration_seconds` | histogram | `method` |
//! | `volley_stream_items_total` | counter | `method`, `direction` (`sent`, `received`) |
//! | `volley_bytes_total` | counter | `direction` (`sent`, `received`) |
//! | `volley_credit_stalls_total` | counter | `method` |
//! | `volley_heartbeats_missed_total` | counter | |
//!
//! Only methods the router serves are labels: a call to an unknown name counts as
//! `method="unknown"`, so a client cannot grow the label set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use hyper::http::StatusCode;
use metrics::SharedString;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::protocol::ErrorCode;

/// Whether volley records at all. Off until [`install`] or [`enable`]: building a
/// metric's key allocates its labels even when no recorder listens, and that cost a
/// measured quarter more server CPU per call on the hot path.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Records volley's metrics into the process's `metrics` recorder, for an application
/// that installs its own (with [`Server::metrics`](crate::Server::metrics) volley
/// installs one and does this itself).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

fn on() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The exporter volley installed, or why it could not.
static EXPORTER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Upper bounds of the call duration buckets, in seconds: 100 us to 30 s.
const DURATION_BUCKETS: &[f64] = &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Installs volley's Prometheus recorder for the process, once.
pub(crate) fn install() {
    EXPORTER.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("volley_call_duration_seconds".into()), DURATION_BUCKETS)
            .map_err(|e| e.to_string())?;
        let handle = builder.install_recorder().map_err(|e| format!("another metrics recorder is installed ({e})"))?;
        describe();
        enable();
        // Histograms are kept in rolling buckets that need draining now and then.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("volley-metrics".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            })
            .map_err(|e| e.to_string())?;
        Ok(handle)
    });
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!("volley_connections_open", "WebSocket connections open now");
    describe_counter!("volley_connections_total", "WebSocket connections accepted");
    describe_counter!("volley_connections_refused_total", "connections refused before they carried calls, by reason");
    describe_counter!("volley_calls_started_total", "calls started, by method");
    describe_counter!("volley_calls_finished_total", "calls finished, by method and code (OK, or the error code's name)");
    describe_histogram!("volley_call_duration_seconds", Unit::Seconds, "time from a call's arrival to its last frame, by method");
    describe_counter!("volley_stream_items_total", "stream items of served calls, by method and direction");
    describe_counter!("volley_bytes_total", Unit::Bytes, "frame bytes, by direction");
    describe_counter!("volley_credit_stalls_total", "times a stream had an item ready and no credit to send it, by method");
    describe_counter!("volley_heartbeats_missed_total", "connections closed because the peer missed its heartbeats");
}

/// `GET /metrics`: the Prometheus text format.
pub(crate) async fn render() -> Response {
    match EXPORTER.get() {
        Some(Ok(handle)) => {
            ([(hyper::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
        }
        Some(Err(why)) => (StatusCode::SERVICE_UNAVAILABLE, format!("volley: metrics are not exported here: {why}\n")).into_response(),
        None => (StatusCode::NOT_FOUND, "volley: metrics are off\n").into_response(),
    }
}

/// A connection refused before it carried calls.
pub(crate) fn connection_refused(reason: &'static str) {
    if !on() {
        return;
    }
    metrics::counter!("volley_connections_refused_total", "reason" => reason).increment(1);
}

/// Counts a connection as open for as long as it lives.
pub(crate) struct ConnectionOpen(bool);

impl ConnectionOpen {
    pub(crate) fn new() -> Self {
        let counted = on();
        if counted {
            metrics::counter!("volley_connections_total").increment(1);
            metrics::gauge!("volley_connections_open").increment(1.0);
        }
        ConnectionOpen(counted)
    }
}

impl Drop for ConnectionOpen {
    fn drop(&mut self) {
        if self.0 {
            metrics::gauge!("volley_connections_open").decrement(1.0);
        }
    }
}

/// A call to `method` began.
pub(crate) fn call_started(method: &SharedString) {
    if !on() {
        return;
    }
    metrics::counter!("volley_calls_started_total", "method" => method.clone()).increment(1);
}

/// A call to `method` ended with `code` (`None`: success) after `elapsed`.
pub(crate) fn call_finished(method: &SharedString, code: Option<ErrorCode>, elapsed: Duration) {
    if !on() {
        return;
    }
    let code = code.map_or("OK", |c| c.name().unwrap_or("APPLICATION"));
    metrics::counter!("volley_calls_finished_total", "method" => method.clone(), "code" => code).increment(1);
    metrics::histogram!("volley_call_duration_seconds", "method" => method.clone()).record(elapsed.as_secs_f64());
}

/// A stream item of `method` went out.
pub(crate) fn item_sent(method: &SharedString) {
    if !on() {
        return;
    }
    metrics::counter!("volley_stream_items_total", "method" => method.clone(), "direction" => "sent").increment(1);
}

/// A stream item of `method` came in.
pub(crate) fn item_received(method: &SharedString) {
    if !on() {
        return;
    }
    metrics::counter!("volley_stream_items_total", "method" => method.clone(), "direction" => "received").increment(1);
}

/// A stream of `method` had an item ready and no credit to send it.
pub(crate) fn credit_stall(method: &SharedString) {
    if !on() {
        return;
    }
    metrics::counter!("volley_credit_stalls_total", "method" => method.clone()).increment(1);
}

/// Bytes written to a connection.
pub(crate) fn bytes_sent(n: usize) {
    if !on() {
        return;
    }
    metrics::counter!("volley_bytes_total", "direction" => "sent").increment(n as u64);
}

/// Bytes read from a connection.
pub(crate) fn bytes_received(n: usize) {
    if !on() {
        return;
    }
    metrics::counter!("volley_bytes_total", "direction" => "received").increment(n as u64);
}

/// A peer stayed silent past the heartbeat timeout.
pub(crate) fn heartbeat_missed() {
    if !on() {
        return;
    }
    metrics::counter!("volley_heartbeats_missed_total").increment(1);
}
