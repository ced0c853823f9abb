//! The unit of work: one board write is one atomic storage change holding the caller's
//! records, the events that describe them and everything those events owe (webhook
//! deliveries, a health recompute), so an event is never stored without its consequences
//! and a failed write leaves none of them. Once the change is stored, what every committed
//! write owes runs once: the read cache forgets what it touched, then live readers hear of
//! the announced event (in that order, so a reader woken by the event reads fresh data).

pub mod raw;
#[cfg(test)]
mod tests;

use crate::bindings::storage::Write;
use crate::events::{self, BoardEvent};
use crate::jobs::project_health::schedule;
use crate::platform_error::to_api;
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

/// Applies `changes` and what their events owe, all or none; a lost race is `conflict`.
pub fn commit(changes: Vec<Change>) -> Result<(), ApiError> {
    let mut writes: Vec<Write> = changes.into_iter().map(Change::into_write).collect();
    let events = events::recorded_in(&writes);
    for effect in EFFECTS {
        writes.extend(effect(&events)?.into_iter().map(Change::into_write));
    }
    crate::platform::current()
        .put_many(&writes)
        .map_err(to_api)?;
    after_commit(&writes);
    Ok(())
}

/// [`commit`] with `event` appended to the log in the same change, published to live
/// readers once the change is stored (a failed write announces nothing).
pub fn commit_and_announce(mut changes: Vec<Change>, event: &BoardEvent) -> Result<(), ApiError> {
    changes.push(event.change()?);
    commit(changes)?;
    event.publish();
    Ok(())
}

/// What every committed write owes, whoever made it (board code or the raw storage API):
/// the cached reads of what it touched are invalidated.
fn after_commit(written: &[Write]) {
    read_cache::invalidate_after(written);
}
