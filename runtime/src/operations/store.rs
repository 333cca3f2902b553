//! Where a server keeps its operations: by id, each with its latest progress and, once
//! it has ended, its outcome, kept for the retention period; bounded in number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::connection::ConnShared;
use crate::protocol::Frame;
use crate::{Error, ErrorCode};

/// How long an ended operation's outcome is kept, by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(600);

/// Operations a server keeps at most (running and ended), by default.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The topic of progress notifications.
pub(crate) const PROGRESS_TOPIC: &str = "volley.operation";

/// A server's operations.
pub(crate) struct Store {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    settings: Mutex<(Duration, usize)>,
}

impl Default for Store {
    fn default() -> Self {
        Store { entries: Mutex::default(), settings: Mutex::new((DEFAULT_RETENTION, DEFAULT_CAPACITY)) }
    }
}

/// One operation.
pub(crate) struct Entry {
    pub id: String,
    pub method: String,
    /// Who started it: `user:<name>` when authenticated, else `connection:<id>`.
    pub owner: String,
    pub created: Instant,
    pub cancel: CancellationToken,
    pub state: Mutex<EntryState>,
    /// Bumped on every change (accepted, progress, ended).
    pub changed: tokio::sync::watch::Sender<u64>,
    /// Connections told of its progress: the one that started it, and those waiting.
    pub watchers: Mutex<Vec<Weak<ConnShared>>>,
}

#[derive(Default)]
pub(crate) struct EntryState {
    /// The handler accepted it: it is an operation, not an answer at once.
    pub accepted: bool,
    pub progress: Option<Value>,
    pub outcome: Option<Result<Value, Error>>,
    pub ended: Option<Instant>,
}

impl Entry {
    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn accept(&self) {
        let mut st = self.state.lock().unwrap();
        if !st.accepted {
            st.accepted = true;
            drop(st);
            self.bump();
        }
    }

    pub fn progress(&self, value: Value) {
        self.state.lock().unwrap().progress = Some(value.clone());
        self.bump();
        let note = serde_json::json!({ "id": self.id, "progress": value });
        let mut watchers = self.watchers.lock().unwrap();
        watchers.retain(|w| w.strong_count() > 0);
        for conn in watchers.iter().filter_map(Weak::upgrade) {
            if let Ok(value) = conn.encode(&note) {
                crate::topics::enqueue(&conn, Frame::Notify { topic: PROGRESS_TOPIC.to_owned(), value });
            }
        }
    }

    pub fn finish(&self, outcome: Result<Value, Error>) {
        let mut st = self.state.lock().unwrap();
        if st.outcome.is_none() {
            st.outcome = Some(outcome);
            st.ended = Some(Instant::now());
        }
        drop(st);
        self.watchers.lock().unwrap().clear();
        self.bump();
    }

    pub fn watch(&self, conn: &Arc<ConnShared>) {
        let mut watchers = self.watchers.lock().unwrap();
        if !watchers.iter().any(|w| w.as_ptr() == Arc::as_ptr(conn)) {
            watchers.push(Arc::downgrade(conn));
        }
    }

    /// `{"id", "method", "done", "progress"?, "result"?, "error"?}`.
    pub fn describe(&self) -> Value {
        let st = self.state.lock().unwrap();
        let mut v = serde_json::json!({ "id": self.id, "method": self.method, "done": st.outcome.is_some() });
        if let Some(p) = &st.progress {
            v["progress"] = p.clone();
        }
        match &st.outcome {
            Some(Ok(r)) => v["result"] = r.clone(),
            Some(Err(e)) => v["error"] = serde_json::json!({ "code": e.code, "message": e.message, "data": e.data }),
            None => {}
        }
        v
    }

    /// Resolves once the operation has ended, with its outcome.
    pub async fn ended(&self) -> Result<Value, Error> {
        let mut rx = self.changed.subscribe();
        loop {
            if let Some(out) = self.state.lock().unwrap().outcome.clone() {
                return out;
            }
            if rx.changed().await.is_err() {
                return Err(Error::internal("the operation was dropped"));
            }
        }
    }
}

impl Store {
    pub fn configure(&self, retention: Duration, capacity: usize) {
        *self.settings.lock().unwrap() = (retention, capacity.max(1));
    }

    /// A new operation, or `UNAVAILABLE` when the store is full of running ones.
    pub fn create(&self, method: &str, owner: String) -> Result<Arc<Entry>, Error> {
        let (retention, capacity) = *self.settings.lock().unwrap();
        let mut entries = self.entries.lock().unwrap();
        sweep(&mut entries, retention);
        if entries.len() >= capacity {
            // Make room by dropping the outcome that ended first.
            let oldest = entries.values().filter_map(|e| e.state.lock().unwrap().ended.map(|t| (t, e.id.clone()))).min();
            match oldest {
                Some((_, id)) => {
                    entries.remove(&id);
                }
                None => {
                    return Err(Error::new(ErrorCode::UNAVAILABLE, format!("the server is running its most operations ({capacity}); retry later"))
                        .with_data(serde_json::json!({ "retry_after_ms": 1000 })))
                }
            }
        }
        let id = new_id();
        let entry = Arc::new(Entry {
            id: id.clone(),
            method: method.to_owned(),
            owner,
            created: Instant::now(),
            cancel: CancellationToken::new(),
            state: Mutex::default(),
            changed: tokio::sync::watch::channel(0).0,
            watchers: Mutex::default(),
        });
        entries.insert(id, entry.clone());
        Ok(entry)
    }

    /// An operation that was answered at once is forgotten.
    pub fn remove(&self, id: &str) {
        self.entries.lock().unwrap().remove(id);
    }

    /// The accepted operation `id`, or `OPERATION_NOT_FOUND`.
    pub fn get(&self, id: &str) -> Result<Arc<Entry>, Error> {
        let retention = self.settings.lock().unwrap().0;
        let mut entries = self.entries.lock().unwrap();
        sweep(&mut entries, retention);
        entries
            .get(id)
            .filter(|e| e.state.lock().unwrap().accepted)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    /// The accepted operations of `owner`, oldest first.
    pub fn list(&self, owner: &str) -> Vec<Arc<Entry>> {
        let retention = self.settings.lock().unwrap().0;
        let mut entries = self.entries.lock().unwrap();
        sweep(&mut entries, retention);
        let mut mine: Vec<Arc<Entry>> = entries.values().filter(|e| e.owner == owner && e.state.lock().unwrap().accepted).cloned().collect();
        mine.sort_by_key(|e| e.created);
        mine
    }
}

fn sweep(entries: &mut HashMap<String, Arc<Entry>>, retention: Duration) {
    let now = Instant::now();
    entries.retain(|_, e| e.state.lock().unwrap().ended.is_none_or(|t| now.duration_since(t) < retention));
}

/// `OPERATION_NOT_FOUND`, naming the id.
pub(crate) fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::OPERATION_NOT_FOUND, format!("no operation `{}`: it never existed, or ended longer ago than the server keeps results", crate::error::bounded(id)))
        .with_data(serde_json::json!({ "id": crate::error::bounded(id) }))
}

/// 128 random bits, as 32 hex digits: an id nobody can guess.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
