//! The streams example: one method of every call shape, plus a long-running job that
//! reports progress and a method that calls back into the client.
//!
//! `cargo run -p streams` serves it on 127.0.0.1:8001.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use volley::{model, rpc, CallOptions, Context, Error, ErrorCode, Router, State, Streaming};

/// Counters the example keeps, so clients (and tests) can see what happened on the
/// server side: how many handlers were cancelled or stopped early.
#[derive(Default)]
pub struct Stats {
    cancelled: AtomicU64,
    stopped: AtomicU64,
    /// Running jobs and their progress in percent: the `jobs` shared state.
    jobs: std::sync::Mutex<BTreeMap<String, u8>>,
}

impl Stats {
    /// Updates the running jobs and mirrors them to subscribers of the `jobs` state.
    fn update_jobs(&self, ctx: &Context, change: impl FnOnce(&mut BTreeMap<String, u8>)) {
        let mut jobs = self.jobs.lock().unwrap();
        change(&mut jobs);
        if let Some(publisher) = ctx.publisher() {
            let _ = publisher.set_state("jobs", &*jobs);
        }
    }
}

/// What `stats` reports.
#[model]
pub struct StatsReport {
    /// Handlers whose caller cancelled them before they finished.
    pub cancelled: u64,
    /// Streams the caller stopped gracefully.
    pub stopped: u64,
}

/// Increments a counter when dropped unless disarmed: a handler's future is dropped when
/// its call is cancelled, so this observes the cancel.
struct CancelGuard(Arc<Stats>, bool);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if self.1 {
            self.0.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Removes a job from the `jobs` state however its call ends.
struct JobGuard(Arc<Stats>, Context, String);

impl Drop for JobGuard {
    fn drop(&mut self) {
        let name = &self.2;
        self.0.update_jobs(&self.1, |jobs| {
            jobs.remove(name);
        });
    }
}

/// Counts down from `from` to 1, one number every `interval_ms` milliseconds.
///
/// Sends leading metadata `countdown-from` before the first number and trailing
/// metadata `countdown-finished: true` once it reaches 1. A graceful stop ends the
/// countdown after the current number, with `countdown-finished: false`.
#[rpc]
pub async fn countdown(
    ctx: Context,
    stats: State<Arc<Stats>>,
    #[validate(range(max = 1000000))] from: u32,
    #[validate(range(max = 60000))] interval_ms: u64,
) -> impl Stream<Item = u32> {
    ctx.set_leading("countdown-from", from.to_string());
    let stats = Arc::clone(&stats);
    async_stream::stream! {
        let mut guard = CancelGuard(Arc::clone(&stats), true);
        for n in (1..=from).rev() {
            if ctx.is_stopping() {
                stats.stopped.fetch_add(1, Ordering::SeqCst);
                ctx.set_trailer("countdown-finished", "false");
                guard.1 = false;
                return;
            }
            yield n;
            if interval_ms > 0 {
                tokio::time::sleep(Duration::from_millis(interval_ms)).await;
            }
        }
        ctx.set_trailer("countdown-finished", "true");
        guard.1 = false;
    }
}

/// Sums every number the caller uploads and returns the total once the upload ends.
///
/// Client metadata `scale`, if given, multiplies the total; metadata sent mid-upload
/// replaces it. The total's item count comes back as trailing metadata `count`.
#[rpc]
pub async fn sum(ctx: Context, mut numbers: Streaming<f64>) -> Result<f64, Error> {
    let mut total = 0.0;
    let mut count = 0u64;
    while let Some(n) = numbers.next().await {
        total += n?;
        count += 1;
    }
    ctx.set_trailer("count", count.to_string());
    let scale = match ctx.metadata_value("scale") {
        Some(s) => s.parse::<f64>().map_err(|_| Error::new(ErrorCode::INVALID_PARAMS, format!("metadata `scale` is not a number: {s:?}")))?,
        None => 1.0,
    };
    Ok(total * scale)
}

/// A chat message.
#[model]
pub struct Message {
    /// Who wrote it.
    #[validate(length(min = 1, max = 64))]
    pub from: String,
    /// What they wrote.
    #[validate(length(max = 4096))]
    pub text: String,
}

/// Echoes every message back as it arrives, from `"echo"` and with the text in upper case,
/// like a chat room with one very loud member. Ends when the caller's stream ends.
#[rpc]
pub async fn chat(messages: Streaming<Message>) -> impl Stream<Item = Result<Message, Error>> {
    messages.map(|m| m.map(|m| Message { from: "echo".into(), text: format!("{}: {}", m.from, m.text.to_uppercase()) }))
}

/// An event of a long-running job.
#[model]
#[derive(Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobEvent {
    /// The job advanced.
    Progress {
        /// Percent done, 0 to 100.
        percent: u8,
        /// What it is doing now.
        stage: String,
    },
    /// The job finished.
    Done {
        /// What it produced.
        result: JobResult,
    },
}

/// What a finished job produced.
#[model]
#[derive(Debug)]
pub struct JobResult {
    /// The job's name.
    pub name: String,
    /// How many steps it ran.
    pub steps: u32,
    /// A digest of its work.
    pub checksum: u64,
}

/// Why a job could not run.
#[model]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum JobError {
    /// A job with no steps has nothing to do.
    NothingToDo,
    /// The requested name is taken by a job that is still running.
    Busy {
        /// The name.
        name: String,
    },
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::NothingToDo => f.write_str("a job needs at least one step"),
            JobError::Busy { name } => write!(f, "a job named {name} is already running"),
        }
    }
}

/// Runs a job of `steps` steps, `step_ms` milliseconds each, reporting progress after
/// each step and then its result (the way a trainer reports a pending command).
/// Fails before the first event with a typed `JobError` when there is nothing to do or
/// a job of that name is running.
///
/// While it runs, the job's progress is in the `jobs` shared state; when it finishes,
/// its result is published on the `jobs.finished` topic.
#[rpc(name = "job.run")]
pub async fn run_job(
    ctx: Context,
    stats: State<Arc<Stats>>,
    #[validate(length(min = 1, max = 64))] name: String,
    #[validate(range(max = 10000))] steps: u32,
    #[validate(range(max = 60000))] step_ms: u64,
) -> Result<impl Stream<Item = JobEvent>, JobError> {
    if steps == 0 {
        return Err(JobError::NothingToDo);
    }
    let stats = Arc::clone(&stats);
    let mut busy = false;
    stats.update_jobs(&ctx, |jobs| {
        busy = jobs.contains_key(&name);
        if !busy {
            jobs.insert(name.clone(), 0);
        }
    });
    if busy {
        return Err(JobError::Busy { name });
    }
    let running = JobGuard(Arc::clone(&stats), ctx.clone(), name.clone());
    Ok(async_stream::stream! {
        let _running = running;
        let mut guard = CancelGuard(Arc::clone(&stats), true);
        let mut checksum: u64 = 0xcbf29ce484222325;
        for step in 1..=steps {
            tokio::time::sleep(Duration::from_millis(step_ms)).await;
            checksum = (checksum ^ u64::from(step)).wrapping_mul(0x100000001b3);
            let percent = (u64::from(step) * 100 / u64::from(steps)) as u8;
            stats.update_jobs(&ctx, |jobs| {
                jobs.insert(name.clone(), percent);
            });
            yield JobEvent::Progress { percent, stage: format!("step {step} of {steps}") };
        }
        guard.1 = false;
        let result = JobResult { name, steps, checksum };
        if let Some(publisher) = ctx.publisher() {
            let _ = publisher.publish("jobs.finished", &result);
        }
        yield JobEvent::Done { result };
    })
}

/// Sleeps for `ms` milliseconds, then returns `ms`. Use it to try timeouts and
/// cancellation; a cancelled sleep is counted in `stats`.
#[rpc]
pub async fn sleep(stats: State<Arc<Stats>>, #[validate(range(max = 600000))] ms: u64) -> u64 {
    let mut guard = CancelGuard(Arc::clone(&stats), true);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    guard.1 = false;
    ms
}

/// Returns the client metadata the call arrived with, and sends it back as leading
/// and trailing metadata too (prefixed `echo-`).
#[rpc]
pub async fn echo_metadata(ctx: Context) -> BTreeMap<String, String> {
    let metadata = ctx.metadata();
    for (k, v) in metadata.iter() {
        ctx.set_leading(format!("echo-{k}"), v.clone());
        ctx.set_trailer(format!("echo-{k}"), v.clone());
    }
    metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// How many handlers were cancelled or stopped so far.
#[rpc]
pub async fn stats(stats: State<Arc<Stats>>) -> StatsReport {
    StatsReport { cancelled: stats.cancelled.load(Ordering::SeqCst), stopped: stats.stopped.load(Ordering::SeqCst) }
}

// ---- methods the server calls on its clients ----

/// Asks the client a yes/no question. Clients implement this; the server calls it.
#[rpc(name = "client.confirm")]
pub async fn confirm(question: String) -> bool {
    let _ = question;
    unreachable!("implemented by clients")
}

/// Asks the client for `count` numbers as a stream. Clients implement this.
#[rpc(name = "client.numbers")]
pub async fn client_numbers(count: u32) -> impl Stream<Item = i64> {
    let _ = count;
    futures_util::stream::empty()
}

/// Asks the calling client to confirm `question` (it answers through its `client.confirm`
/// handler) and returns its answer, so a method can call back into its caller.
#[rpc]
pub async fn ask(ctx: Context, question: String) -> Result<bool, Error> {
    ctx.peer().call_with::<bool>("client.confirm", &serde_json::json!({ "question": question }), CallOptions::new().timeout(Duration::from_secs(30))).await.map(|r| r.value)
}

/// Asks the calling client for `count` numbers (its `client.numbers` handler streams
/// them) and returns their sum.
#[rpc]
pub async fn sum_from_client(ctx: Context, #[validate(range(max = 100000))] count: u32) -> Result<i64, Error> {
    let mut numbers: Streaming<i64> = ctx.peer().server_stream("client.numbers", &serde_json::json!({ "count": count }), CallOptions::new())?;
    let mut total = 0i64;
    while let Some(n) = numbers.next().await {
        total = total.wrapping_add(n?);
    }
    Ok(total)
}

/// The example's router.
pub fn router() -> Router {
    Router::new()
        .named("streams", env!("CARGO_PKG_VERSION"), "Every call shape: the volley streams example.")
        .with_state(Arc::new(Stats::default()))
        .topic::<JobResult>("jobs.finished", "The result of every job that finishes, whoever ran it.")
        .shared_state::<BTreeMap<String, u8>>("jobs", "Running jobs by name, with their progress in percent.")
        .rpc::<countdown>()
        .rpc::<sum>()
        .rpc::<chat>()
        .rpc::<run_job>()
        .rpc::<sleep>()
        .rpc::<echo_metadata>()
        .rpc::<stats>()
        .rpc::<ask>()
        .rpc::<sum_from_client>()
        .calls_peer::<confirm>()
        .calls_peer::<client_numbers>()
}
