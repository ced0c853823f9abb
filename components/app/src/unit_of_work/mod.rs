//! The unit of work: one board write is one atomic storage change holding the caller's
//! records, the events that describe them and everything those events owe (webhook
//! deliveries, a health recompute), so an event is never stored without its consequences
//! and a failed write leaves none of them. The platform stores the change and, once it is
//! stored, runs what every committed write owes, in the same call: the read cache forgets
//! what it touched, then live readers hear of the announced event (in that order, so a
//! reader woken by the event reads fresh data).

pub mod raw;
#[cfg(test)]
mod tests;

use crate::bindings::storage::Write;
use crate::board_error::BoardError;
use crate::events::{self, BoardEvent};
use crate::jobs::project_health::schedule;
use crate::read_ahead;
use crate::read_cache;
use crate::records::Change;
use crate::webhook_fanout;
use marcus_core::api_error::ApiError;

/// Something recording events makes a write owe: given the events being recorded, the
/// changes it wants in the same atomic change.
type Effect = fn(&[BoardEvent]) -> Result<Vec<Change>, ApiError>;

/// Every effect of recorded events, in the order their changes join the write (the health
/// recompute last: its job records are the only ones concurrent writes share, so they are
/// locked last and in one order).
const EFFECTS: &[Effect] = &[webhook_fanout::deliveries_for, schedule::recomputes_for];

/// Applies `changes` and what their events owe, all or none; a lost race is
/// [`BoardError::Conflict`].
pub fn commit(changes: Vec<Change>) -> Result<(), BoardError> {
    commit_with(changes, None)
}

/// [`commit`] with `event` appended to the log in the same change, announced to live
/// readers once the change is stored (a failed write announces nothing).
pub fn commit_and_announce(mut changes: Vec<Change>, event: &BoardEvent) -> Result<(), BoardError> {
    changes.push(event.change()?);
    commit_with(changes, Some(event))
}

/// The write, its effects' changes, and what it owes once stored (invalidation, then the
/// announcement), handed to the platform as one commit.
fn commit_with(changes: Vec<Change>, announced: Option<&BoardEvent>) -> Result<(), BoardError> {
    let mut writes: Vec<Write> = changes.into_iter().map(Change::into_write).collect();
    let events = events::recorded_in(&writes);
    for effect in EFFECTS {
        writes.extend(effect(&events)?.into_iter().map(Change::into_write));
    }
    let invalidations = read_cache::invalidations_for(&writes);
    let announcements = announced.map_or_else(Vec::new, BoardEvent::announcements);
    let committed = crate::platform::current().commit(&writes, &invalidations, &announcements);
    // What was read ahead was read for this write's decision: whether it landed or lost a
    // race, later reads go to storage.
    read_ahead::forget();
    committed.map_err(BoardError::from_platform)?;
    Ok(())
}

/// What every write owes once stored, whoever made it (board code or the raw storage API):
/// the cached reads of what it touched are invalidated.
fn after_commit(written: &[Write]) {
    let invalidations = read_cache::invalidations_for(written);
    if !invalidations.is_empty() {
        let _ = crate::platform::current().commit(&[], &invalidations, &[]);
    }
}
