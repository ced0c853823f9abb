//! One session per agent id: registering binds the agent id to the MCP session, so two
//! agent processes that picked the same id do not silently share one task. A second session
//! may take an id only when the session holding it has been quiet for a lease period (an
//! agent that restarted gets its id back without ceremony), or when it asks for a takeover;
//! the session it took the id from may no longer act as that agent.

use super::tool::ToolCtx;
use crate::board_error::BoardError;
use crate::ids::now_ms;
use crate::mcp::session;
use marcus_core::api_error::ApiError;
use marcus_core::board::lease::LEASE_INITIAL_SECS;

/// How long a session's hold on its agent id outlives its last request: a lease period, the
/// time a silent agent keeps its task.
pub const HOLD_MS: u64 = LEASE_INITIAL_SECS * 1000;

/// Binds `agent_id` to the calling session (no-op outside MCP). Refused with
/// `agent_id_in_use` (409) while another session that was active within [`HOLD_MS`] holds
/// it, unless `takeover`; every other session bound to it loses it.
pub fn bind(ctx: &ToolCtx, agent_id: &str, takeover: bool) -> Result<(), BoardError> {
    let Some(own) = &ctx.session_id else {
        return Ok(());
    };
    let now = now_ms();
    let others: Vec<_> = session::bound_to(agent_id)?
        .into_iter()
        .filter(|(id, _, _)| id != own)
        .collect();
    if !takeover
        && let Some(quiet) = others
            .iter()
            .map(|(_, _, record)| record.quiet_for(now))
            .filter(|quiet| *quiet <= HOLD_MS)
            .min()
    {
        return Err(BoardError::Refused(ApiError::new(
            409,
            "agent_id_in_use",
            format!(
                "agent {agent_id} is in use by another MCP session (active {} s ago); \
                 register with takeover: true to take it over (that session can then no \
                 longer act as {agent_id}), or choose another agent_id",
                quiet / 1000
            ),
        )));
    }
    for (id, _, _) in &others {
        session::update(id, |record| {
            record.agent_id = None;
            if !record.taken_over.iter().any(|a| a == agent_id) {
                record.taken_over.push(agent_id.to_string());
            }
        })?;
    }
    session::update(own, |record| {
        record.agent_id = Some(agent_id.to_string());
        record.taken_over.retain(|a| a != agent_id);
    })?;
    *ctx.session_agent.borrow_mut() = Some(agent_id.to_string());
    ctx.taken_over.borrow_mut().retain(|a| a != agent_id);
    Ok(())
}

/// The refusal for a call acting as `agent_id` from a session that lost it to a takeover.
pub fn taken_over(agent_id: &str) -> ApiError {
    ApiError::new(
        409,
        "session_replaced",
        format!(
            "another MCP session took over agent {agent_id}; this session may no longer act \
             as it (register_agent with takeover: true takes it back)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::in_memory::InMemory;
    use serde_json::{Value, json};

    fn session() -> ToolCtx {
        let id = session::start("2025-06-18", &Value::Null).unwrap();
        let facts = session::facts(&id).unwrap().unwrap();
        ToolCtx {
            session_id: Some(id),
            taken_over: std::cell::RefCell::new(facts.taken_over),
            ..Default::default()
        }
    }

    fn register(ctx: &ToolCtx, args: Value) -> Result<Value, ApiError> {
        let spec = crate::tools::find("register_agent").unwrap();
        let Value::Object(args) = args else { panic!() };
        crate::tools::call(spec, ctx, &args)
    }

    #[test]
    fn a_second_live_session_is_refused_the_id_until_it_asks_for_a_takeover() {
        let platform = InMemory::installed();
        let first = session();
        let second = session();
        register(&first, json!({"agent_id": "a", "name": "A"})).unwrap();
        // Registering again from the same session is fine.
        register(&first, json!({"agent_id": "a", "name": "A"})).unwrap();
        let refused = register(&second, json!({"agent_id": "a", "name": "A2"})).unwrap_err();
        assert_eq!((refused.status, refused.code), (409, "agent_id_in_use"));
        assert!(
            refused.message.contains("takeover: true"),
            "{}",
            refused.message
        );

        register(
            &second,
            json!({"agent_id": "a", "name": "A2", "takeover": true}),
        )
        .unwrap();
        // The first session, as a new request reads it, may no longer act as a.
        let first_again = ToolCtx {
            session_id: first.session_id.clone(),
            taken_over: std::cell::RefCell::new(
                session::facts(first.session_id.as_deref().unwrap())
                    .unwrap()
                    .unwrap()
                    .taken_over,
            ),
            ..Default::default()
        };
        let spec = crate::tools::find("request_next_task").unwrap();
        let args = json!({"agent_id": "a"}).as_object().unwrap().clone();
        let e = crate::tools::call(spec, &first_again, &args).unwrap_err();
        assert_eq!(e.code, "session_replaced");
        // A quiet holder gives the id up without ceremony.
        platform.advance(HOLD_MS + 1);
        let third = session();
        register(&third, json!({"agent_id": "a", "name": "A3"})).unwrap();
    }

    #[test]
    fn calls_outside_mcp_are_not_bound() {
        let _platform = InMemory::installed();
        let holder = session();
        register(&holder, json!({"agent_id": "a", "name": "A"})).unwrap();
        register(&ToolCtx::default(), json!({"agent_id": "a", "name": "A"})).unwrap();
    }

    #[test]
    fn idle_sessions_end() {
        let platform = InMemory::installed();
        let ctx = session();
        let id = ctx.session_id.clone().unwrap();
        platform.advance(session::IDLE_MS - 1);
        assert!(session::facts(&id).unwrap().is_some(), "activity noted");
        platform.advance(session::IDLE_MS - 1);
        assert!(
            session::facts(&id).unwrap().is_some(),
            "still within the idle time"
        );
        platform.advance(session::IDLE_MS + 1);
        assert!(session::facts(&id).unwrap().is_none());
        let other = session();
        platform.advance(session::IDLE_MS + 1);
        assert_eq!(session::forget_idle(crate::ids::now_ms()).unwrap(), 1);
        assert!(
            session::facts(other.session_id.as_deref().unwrap())
                .unwrap()
                .is_none()
        );
    }
}
