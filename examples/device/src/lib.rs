//! The device service: a machine that a remote console watches and drives, in the
//! manner of an acquisition process publishing its activity.
//!
//! - `device.events`: everything the device does, as [`Event`] envelopes (when, a
//!   monotonic index, a `kind` and its `context`), a heartbeat among them;
//! - `device.emergency`: emergency stops and resumes, on a topic of their own;
//! - `device.properties`: each change of a property, with its old and new value;
//! - commands as methods (`device.start`, `device.set_speed`, ...), answered at once,
//!   with a warning when the device did less than it was asked; `device.move_by` is
//!   sequential: one console's moves happen one after another, in the order sent;
//! - `device.jog`: a notification clients send to nudge the position, fire and forget;
//! - `device.console`: a state each connection has its own document of (its jogs),
//!   coalesced to at most one patch per 50 ms.
//!
//! `cargo run -p device` serves it on 127.0.0.1:8004.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use volley::operations::Operation;
use volley::{model, rpc, IntoCallError, ConnectionState, Context, Error, ErrorCode, Event, Flush, Method, Publisher, Router, State, Topic};

/// What the device does, as the `kind` and `context` of an event envelope.
#[model]
#[derive(Debug, PartialEq)]
#[serde(tag = "kind", content = "context", rename_all = "snake_case")]
pub enum DeviceEvent {
    /// The device is alive; sent every heartbeat period.
    Heartbeat {
        /// Milliseconds since the device started serving.
        uptime_ms: u64,
        /// Whether it is running.
        running: bool,
    },
    /// The device started.
    Started {
        /// Who started it.
        by: String,
    },
    /// The device stopped.
    Stopped {
        /// Who stopped it.
        by: String,
    },
}

/// An emergency, as the `kind` and `context` of an event envelope.
#[model]
#[derive(Debug, PartialEq)]
#[serde(tag = "kind", content = "context", rename_all = "snake_case")]
pub enum Emergency {
    /// Everything stopped; commands that move the device are refused until a resume.
    Halted {
        /// Why.
        reason: String,
        /// Who halted it.
        by: String,
    },
    /// The emergency is over.
    Resumed {
        /// Who resumed it.
        by: String,
    },
}

/// A property of the device.
#[model]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// Millimetres per second, 0 to [`MAX_SPEED`].
    Speed,
    /// Millimetres from home.
    Position,
}

/// A property changed.
#[model]
#[derive(Debug, PartialEq)]
pub struct PropertyChange {
    /// Which one.
    pub property: Property,
    /// Its value before.
    pub previous: f64,
    /// Its value now.
    pub value: f64,
}

/// A nudge of the position, sent by a client as a notification.
#[model]
#[derive(Debug, PartialEq)]
pub struct Jog {
    /// Millimetres to move, either way; at most 10 at a time.
    pub delta: f64,
}

/// The device's state, as the commands answer it.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Whether it is running.
    pub running: bool,
    /// Why it is halted, while an emergency lasts.
    pub halted: Option<String>,
    /// The speed, in millimetres per second.
    pub speed: f64,
    /// The position, in millimetres from home.
    pub position: f64,
}

/// What one console did on its connection: its own document, no other console's.
#[model]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Console {
    /// Jogs this console sent that moved the device.
    pub jogs: u32,
    /// Millimetres those jogs moved it, either way.
    pub travelled: f64,
}

/// Why a command was refused.
#[model]
#[derive(Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandError {
    /// An emergency is on: resume first.
    Halted {
        /// The emergency's reason.
        reason: String,
    },
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Halted { reason } => write!(f, "the device is halted ({reason}): resume it first"),
        }
    }
}

/// Everything the device does.
pub const EVENTS: Topic<Event<DeviceEvent>> = Topic::new("device.events");
/// Emergency stops and resumes.
pub const EMERGENCY: Topic<Event<Emergency>> = Topic::new("device.emergency");
/// Property changes.
pub const PROPERTIES: Topic<PropertyChange> = Topic::new("device.properties");
/// Nudges of the position, from clients.
pub const JOG: Topic<Jog> = Topic::new("device.jog");

/// Each console's own jogs.
pub const CONSOLE: ConnectionState<Console> = ConnectionState::new("device.console");

/// The fastest the device goes, in millimetres per second.
pub const MAX_SPEED: f64 = 100.0;
/// The longest jog, in millimetres.
pub const MAX_JOG: f64 = 10.0;

/// The device: its state, and when it started serving.
#[derive(Debug)]
pub struct Device {
    status: Mutex<Status>,
    started: Instant,
}

impl Default for Device {
    fn default() -> Self {
        Device { status: Mutex::new(Status { running: false, halted: None, speed: 10.0, position: 0.0 }), started: Instant::now() }
    }
}

impl Device {
    /// The current status.
    pub fn status(&self) -> Status {
        self.status.lock().unwrap().clone()
    }

    /// The heartbeat event now.
    pub fn heartbeat(&self) -> DeviceEvent {
        let uptime_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        DeviceEvent::Heartbeat { uptime_ms, running: self.status().running }
    }

    /// Changes the status, refusing while halted.
    fn moving<R>(&self, f: impl FnOnce(&mut Status) -> R) -> Result<R, CommandError> {
        let mut status = self.status.lock().unwrap();
        match &status.halted {
            Some(reason) => Err(CommandError::Halted { reason: reason.clone() }),
            None => Ok(f(&mut status)),
        }
    }
}

/// Publishes, logging what could not be sent: a command's answer does not depend on
/// who is watching.
fn publish<T: serde::Serialize>(ctx: &Context, topic: &Topic<T>, value: &T) {
    if let Some(publisher) = ctx.publisher() {
        if let Err(e) = topic.publish(&publisher, value) {
            tracing::warn!(topic = topic.name(), "not published: {e}");
        }
    }
}

/// Starts the device. Starting a running device changes nothing and says so with a
/// warning.
#[rpc(name = "device.start")]
pub async fn start(ctx: Context, device: State<Arc<Device>>, by: String) -> Result<Status, CommandError> {
    let was_running = device.moving(|s| std::mem::replace(&mut s.running, true))?;
    if was_running {
        ctx.warn(&Error::new(ErrorCode::APPLICATION, "the device was already running"));
    } else {
        publish(&ctx, &EVENTS, &Event::new(DeviceEvent::Started { by }));
    }
    Ok(device.status())
}

/// Stops the device (allowed while halted: stopping is always safe).
#[rpc(name = "device.stop")]
pub async fn stop(ctx: Context, device: State<Arc<Device>>, by: String) -> Status {
    let was_running = std::mem::replace(&mut device.status.lock().unwrap().running, false);
    if was_running {
        publish(&ctx, &EVENTS, &Event::new(DeviceEvent::Stopped { by }));
    }
    device.status()
}

/// Sets the speed. A speed above the device's maximum is clamped to it, with a warning
/// whose data says what was asked and what was used.
#[rpc(name = "device.set_speed")]
pub async fn set_speed(ctx: Context, device: State<Arc<Device>>, #[validate(range(min = 0.0))] speed: f64) -> Result<Status, CommandError> {
    let used = speed.min(MAX_SPEED);
    let previous = device.moving(|s| std::mem::replace(&mut s.speed, used))?;
    if used < speed {
        let warning = Error::new(ErrorCode::APPLICATION, format!("{speed} mm/s is above the maximum: {MAX_SPEED} mm/s used"))
            .with_data(serde_json::json!({ "requested": speed, "used": used }));
        ctx.warn(&warning);
    }
    if previous != used {
        publish(&ctx, &PROPERTIES, &PropertyChange { property: Property::Speed, previous, value: used });
    }
    Ok(device.status())
}

/// Halts everything at once: the device stops, and commands that move it are refused
/// until `device.resume`.
#[rpc(name = "device.emergency_stop")]
pub async fn emergency_stop(ctx: Context, device: State<Arc<Device>>, reason: String, by: String) -> Status {
    {
        let mut s = device.status.lock().unwrap();
        s.running = false;
        s.halted = Some(reason.clone());
    }
    publish(&ctx, &EMERGENCY, &Event::new(Emergency::Halted { reason, by }));
    device.status()
}

/// Ends an emergency. Resuming a device that is not halted changes nothing.
#[rpc(name = "device.resume")]
pub async fn resume(ctx: Context, device: State<Arc<Device>>, by: String) -> Status {
    let was_halted = device.status.lock().unwrap().halted.take().is_some();
    if was_halted {
        publish(&ctx, &EMERGENCY, &Event::new(Emergency::Resumed { by }));
    }
    device.status()
}

/// Moves the position by `delta` millimetres once the device has settled for
/// `settle_ms`, and answers the position after the move. Sequential: one console's
/// moves happen one after another, in the order it sent them, however long each
/// settles, so each answer is the position right after its own move.
#[rpc(name = "device.move_by")]
pub async fn move_by(
    ctx: Context,
    device: State<Arc<Device>>,
    #[validate(range(min = -10.0, max = 10.0))] delta: f64,
    #[validate(range(max = 1000))] settle_ms: u64,
) -> Result<f64, CommandError> {
    tokio::time::sleep(Duration::from_millis(settle_ms)).await;
    let (previous, value) = device.moving(|s| {
        let previous = s.position;
        s.position += delta;
        (previous, s.position)
    })?;
    publish(&ctx, &PROPERTIES, &PropertyChange { property: Property::Position, previous, value });
    Ok(value)
}

/// The device's status.
#[rpc(name = "device.status")]
pub async fn status(device: State<Arc<Device>>) -> Status {
    device.status()
}

/// Moves the position by a client's jog and publishes the change. A jog while halted,
/// or longer than [`MAX_JOG`], is refused: the client gets a warning saying why.
async fn jog(ctx: Context, jog: Jog) -> Result<(), Error> {
    if !jog.delta.is_finite() || jog.delta.abs() > MAX_JOG {
        return Err(Error::new(ErrorCode::INVALID_PARAMS, format!("a jog moves at most {MAX_JOG} mm either way")));
    }
    let device = State::<Arc<Device>>::from_context(&ctx)?;
    let previous = device
        .moving(|s| {
            let previous = s.position;
            s.position += jog.delta;
            previous
        })
        .map_err(|e| Error::new(ErrorCode::PERMISSION_DENIED, e.to_string()))?;
    publish(&ctx, &PROPERTIES, &PropertyChange { property: Property::Position, previous, value: previous + jog.delta });
    CONSOLE.update(&ctx, |c| {
        c.jogs += 1;
        c.travelled += jog.delta.abs();
    })
}

/// This console's own state, sent to it now (when it mirrors `device.console`) rather
/// than at the end of the 50 ms period. Answers, once it is written, the state as it
/// was when sent: the console's mirror holds at least that (jogs handled meanwhile
/// follow).
#[rpc(name = "device.console_sync")]
pub async fn console_sync(ctx: Context) -> Result<Console, Error> {
    let now = CONSOLE.get(&ctx)?.unwrap_or_default();
    CONSOLE.flush(&ctx).await?;
    Ok(now)
}

/// The device's router, serving `device`.
pub fn router(device: Arc<Device>) -> Router {
    Router::new()
        .named("device", env!("CARGO_PKG_VERSION"), "A device that a remote console watches and drives.")
        .rpc::<start>()
        .rpc::<stop>()
        .rpc::<set_speed>()
        .rpc::<emergency_stop>()
        .rpc::<resume>()
        .rpc::<status>()
        .rpc::<console_sync>()
        .method(move_by::definition().sequential())
        .operation("device.calibrate", "Calibrates the axes one after another: an operation reporting each axis, answered at once for 0 axes.", {
            let device = device.clone();
            move |op, p| calibrate(device.clone(), op, p)
        })
        .topic(EVENTS, "Everything the device does, a heartbeat among it, as event envelopes.")
        .topic(EMERGENCY, "Emergency stops and resumes.")
        .topic(PROPERTIES, "Each change of a property.")
        .on_notify(JOG, "Nudges the position by `delta` millimetres.", jog)
        .connection_state(CONSOLE, "This console's own jogs: how many moved the device, and how far.", Flush::Every(Duration::from_millis(50)))
        .with_state(device)
}

/// The params of `device.calibrate`.
#[model]
#[derive(Debug)]
pub struct Calibrate {
    /// Axes to calibrate, one after another (at most 8); 0 answers at once.
    pub axes: u32,
    /// Milliseconds each axis takes.
    #[serde(default = "default_step_ms")]
    pub step_ms: u32,
}

fn default_step_ms() -> u32 {
    200
}

/// How far a calibration has got.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationProgress {
    /// The axis just calibrated, from 1.
    pub axis: u32,
    /// Axes in all.
    pub of: u32,
}

/// What a calibration found.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Each axis's offset, in millimetres.
    pub offsets: Vec<f64>,
}

/// `device.calibrate`: answered at once for 0 axes; otherwise an operation that
/// reports each axis as progress and ends with the offsets. Refused while halted.
async fn calibrate(device: Arc<Device>, op: Operation<CalibrationProgress>, p: Calibrate) -> Result<Calibration, Error> {
    if p.axes > 8 {
        return Err(Error::new(ErrorCode::INVALID_PARAMS, format!("at most 8 axes, not {}", p.axes)));
    }
    if let Some(reason) = device.status().halted {
        return Err(CommandError::Halted { reason }.into_call_error());
    }
    if p.axes == 0 {
        return Ok(Calibration { offsets: vec![] });
    }
    op.accept();
    let mut offsets = Vec::new();
    for axis in 1..=p.axes {
        tokio::time::sleep(Duration::from_millis(u64::from(p.step_ms))).await;
        offsets.push(f64::from(axis) / 100.0);
        op.progress(&CalibrationProgress { axis, of: p.axes })?;
    }
    Ok(Calibration { offsets })
}

/// Emits a heartbeat on `device.events` every `period`, for as long as the server runs.
pub async fn heartbeats(device: Arc<Device>, publisher: Publisher, period: Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if let Err(e) = EVENTS.emit(&publisher, device.heartbeat()) {
            tracing::warn!("heartbeat not published: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_halted_device_refuses_to_move() {
        let device = Device::default();
        device.status.lock().unwrap().halted = Some("door open".into());
        assert_eq!(device.moving(|s| s.speed = 1.0), Err(CommandError::Halted { reason: "door open".into() }));
        assert_eq!(device.status().speed, 10.0);
    }
}
