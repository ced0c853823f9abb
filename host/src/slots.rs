//! Execution slots: one per pooled instance, so at most that many requests run the app at
//! once. The pool remembers since when every slot has been busy, so readiness can say
//! "cannot serve" instead of staying green while requests queue.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots shared by every request.
pub struct Slots {
    permits: Arc<Semaphore>,
    size: usize,
    /// When the last free slot was taken; `None` while a slot is free.
    all_busy_since: Mutex<Option<Instant>>,
}

/// One slot, held while the app runs; dropping it frees the slot.
pub struct SlotPermit {
    permit: Option<OwnedSemaphorePermit>,
    slots: Arc<Slots>,
}

impl Slots {
    /// A pool of `size` slots (at least one).
    pub fn new(size: usize) -> Arc<Self> {
        let size = size.max(1);
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(size)),
            size,
            all_busy_since: Mutex::new(None),
        })
    }

    /// Waits for a free slot; `None` once the pool is closed.
    pub async fn acquire(self: &Arc<Self>) -> Option<SlotPermit> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        let mut since = self.lock();
        if self.permits.available_permits() == 0 && since.is_none() {
            *since = Some(Instant::now());
        }
        drop(since);
        Some(SlotPermit {
            permit: Some(permit),
            slots: self.clone(),
        })
    }

    /// Slots in the pool.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Slots running a request now.
    pub fn busy(&self) -> usize {
        self.size - self.permits.available_permits()
    }

    /// How long every slot has been busy, or `None` while one is free.
    pub fn saturated_for(&self) -> Option<Duration> {
        self.lock().map(|since| since.elapsed())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.all_busy_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for SlotPermit {
    fn drop(&mut self) {
        // Released under the lock, so a slot taken at the same moment cannot have its
        // "all busy" mark cleared by this release.
        let mut since = self.slots.lock();
        drop(self.permit.take());
        if self.slots.permits.available_permits() > 0 {
            *since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saturation_starts_with_the_last_slot_and_ends_with_its_release() {
        let slots = Slots::new(2);
        let a = slots.acquire().await.unwrap();
        assert_eq!((slots.busy(), slots.saturated_for()), (1, None));
        let b = slots.acquire().await.unwrap();
        assert_eq!(slots.busy(), 2);
        assert!(slots.saturated_for().is_some());
        drop(a);
        assert_eq!((slots.busy(), slots.saturated_for()), (1, None));
        drop(b);
        assert_eq!(slots.busy(), 0);
    }
}
