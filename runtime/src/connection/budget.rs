//! Byte budgets: what one connection may hold in memory on its peer's behalf.
//!
//! Two per connection. The *outgoing* budget counts the bytes queued for the writer and
//! not yet written: while it is over its limit the reader stops reading (so a peer that
//! does not read cannot make this end answer without bound) and stream producers wait,
//! as they wait for credit. The *held* budget counts what arrived from the peer and is
//! still kept: parameters of calls waiting for a slot, stream items granted but not yet
//! consumed, client metadata. What would take it past its limit is refused.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// A count of bytes against a limit, with a wait for room.
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
    room: Notify,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget { limit, used: AtomicUsize::new(0), room: Notify::new() }
    }

    /// Bytes counted now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// True while the count is above the limit.
    pub(crate) fn is_over(&self) -> bool {
        self.used() > self.limit
    }

    /// Counts `n` bytes whatever the limit (the caller waits for room before it makes
    /// more, as the reader and stream producers do).
    pub(crate) fn add(&self, n: usize) {
        self.used.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `n` bytes if they fit under the limit; false (nothing counted) if not.
    pub(crate) fn try_take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(n).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Gives back `n` bytes counted before, waking whoever waits for room.
    pub(crate) fn release(&self, n: usize) {
        let before = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| Some(used.saturating_sub(n)))
            .unwrap_or_default();
        if before > self.limit && before.saturating_sub(n) <= self.limit {
            self.room.notify_waiters();
        }
    }

    /// Completes once the count is at or below the limit.
    pub(crate) async fn room(&self) {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.is_over() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn takes_only_what_fits_and_gives_back() {
        let b = Budget::new(10);
        assert!(b.try_take(6));
        assert!(!b.try_take(5), "6 + 5 is over 10");
        assert!(b.try_take(4));
        b.release(10);
        assert_eq!(b.used(), 0);
    }

    #[tokio::test]
    async fn room_waits_until_released_below_the_limit() {
        let b = std::sync::Arc::new(Budget::new(10));
        b.add(25);
        assert!(b.is_over());
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.room().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        b.release(10);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "15 is still over 10");
        b.release(5);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
    }
}

/// Bytes counted against a budget, given back when dropped.
pub(crate) struct Held<'a>(pub &'a Budget, pub usize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}
