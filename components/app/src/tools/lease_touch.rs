//! Any call a holder makes about its task keeps the task: a decision, an artifact, reading
//! its context or its dependencies renews the lease as a progress report would, so an agent
//! busy for longer than a lease (a long model turn between reports) does not lose its task.

use crate::board_error::BoardError;
use crate::ids::now_ms;
use crate::records::{self, Change, collections};
use crate::unit_of_work;
use marcus_core::board::lease;
use marcus_core::board::model::Task;
use marcus_identity::access::Access;

/// Renews `agent_id`'s lease on `task_id` when it holds it and the lease runs short
/// ([`lease::touch`]), for a caller that may act as that agent. Best effort: a lost race
/// means someone else just wrote the task (a report, a claim), which needs no renewal here.
pub fn renew_for_holder(agent_id: &str, task_id: &str) {
    if crate::caller::require(Access::ActAsAgent, Some(agent_id)).is_err() {
        return;
    }
    let Ok(Some(task)) = records::get::<Task>(collections::TASKS, task_id) else {
        return;
    };
    let Some(renewed) = lease::touch(&task.value, agent_id, now_ms()) else {
        return;
    };
    let _best_effort = Change::update(collections::TASKS, task_id, &renewed, task.version)
        .map_err(BoardError::from)
        .and_then(|change| unit_of_work::commit(vec![change]));
}
