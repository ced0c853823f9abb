//! What each role may do: one rule per kind of access, applied by the app to every route and
//! tool (each states the access it needs), so a new operation cannot exist without a rule.

use crate::principal::{Principal, Role};

/// The access an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reading the board: projects, tasks, status, context, events.
    Read,
    /// Acting as an agent: register, claim, report, log, block. Checked with the agent id.
    ActAsAgent,
    /// Shaping the board: projects, tasks, blocker resolutions, assignments, webhooks.
    Board,
    /// Running the installation: tokens, settings, raw storage, cache and realtime.
    Admin,
    /// Running the installation across tenants: tenants and every tenant's tokens. An admin
    /// with the server administrator scope (`tenant::SERVER_ADMIN_SCOPE`).
    ServerAdmin,
}

impl Access {
    /// Every access, for tables and tests.
    pub const ALL: [Access; 5] = [
        Access::Read,
        Access::ActAsAgent,
        Access::Board,
        Access::Admin,
        Access::ServerAdmin,
    ];

    /// The access's name, as the API documents it.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::ActAsAgent => "agent",
            Access::Board => "board",
            Access::Admin => "admin",
            Access::ServerAdmin => "server-admin",
        }
    }
}

/// The roles that have `access` (for an agent role, as its bound agents).
pub fn roles_with(access: Access) -> &'static [Role] {
    match access {
        Access::Read => &[Role::Admin, Role::Member, Role::Agent, Role::Viewer],
        Access::ActAsAgent => &[Role::Admin, Role::Member, Role::Agent],
        Access::Board => &[Role::Admin, Role::Member],
        Access::Admin | Access::ServerAdmin => &[Role::Admin],
    }
}

/// `Ok` when `principal` has `access`; acting as an agent also needs `agent_id` among an
/// agent role's bound ids (a call naming no agent acts as the only one bound, if one is). The refusal says what was missing, for a `403`.
pub fn check(principal: &Principal, access: Access, agent_id: Option<&str>) -> Result<(), String> {
    if !roles_with(access).contains(&principal.role) {
        return Err(format!(
            "the {} role may not do this (it needs {} access: {})",
            principal.role.as_str(),
            access.as_str(),
            roles_with(access)
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if access == Access::ServerAdmin
        && !principal
            .scopes
            .iter()
            .any(|s| s == crate::tenant::SERVER_ADMIN_SCOPE)
    {
        return Err(
            "only a server administrator may do this (a token made with --server-admin)".into(),
        );
    }
    if access == Access::ActAsAgent && principal.role == Role::Agent {
        match agent_id {
            Some(id) if principal.agent_ids.iter().any(|bound| bound == id) => {}
            Some(id) => {
                return Err(format!(
                    "this token may act only as {}, not as agent {id}",
                    describe(&principal.agent_ids)
                ));
            }
            // A token bound to one agent acts as it where a call names no agent.
            None if principal.agent_ids.len() == 1 => {}
            None => return Err("acting as an agent needs the agent's id".into()),
        }
    }
    Ok(())
}

fn describe(ids: &[String]) -> String {
    if ids.is_empty() {
        "no agent".into()
    } else {
        ids.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::{Kind, Verification};

    fn principal(role: Role, agents: &[&str]) -> Principal {
        Principal {
            tenant: "default".into(),
            subject: "t".into(),
            kind: Kind::Service,
            role,
            scopes: vec![],
            verified_by: Verification::Token,
            agent_ids: agents.iter().map(|s| s.to_string()).collect(),
            credential_id: None,
        }
    }

    #[test]
    fn each_role_has_exactly_its_accesses() {
        let expected = [
            (Role::Admin, [true, true, true, true]),
            (Role::Member, [true, true, true, false]),
            (Role::Agent, [true, true, false, false]),
            (Role::Viewer, [true, false, false, false]),
        ];
        for (role, allowed) in expected {
            let p = principal(role, &["a1"]);
            for (access, ok) in Access::ALL.into_iter().zip(allowed) {
                assert_eq!(
                    check(&p, access, Some("a1")).is_ok(),
                    ok,
                    "{role:?} {access:?}"
                );
            }
        }
    }

    #[test]
    fn an_agent_acts_only_as_the_agents_it_is_bound_to() {
        let p = principal(Role::Agent, &["a1", "a2"]);
        assert!(check(&p, Access::ActAsAgent, Some("a2")).is_ok());
        let refused = check(&p, Access::ActAsAgent, Some("other")).unwrap_err();
        assert!(
            refused.contains("a1, a2") && refused.contains("other"),
            "{refused}"
        );
        assert!(
            check(&p, Access::ActAsAgent, None).is_err(),
            "two bound agents: which?"
        );
        assert!(check(&principal(Role::Agent, &["a1"]), Access::ActAsAgent, None).is_ok());
        let unbound = principal(Role::Agent, &[]);
        assert!(
            check(&unbound, Access::ActAsAgent, Some("a1"))
                .unwrap_err()
                .contains("no agent")
        );
        // Members act as any agent.
        assert!(check(&principal(Role::Member, &[]), Access::ActAsAgent, Some("x")).is_ok());
    }

    #[test]
    fn anonymous_admins_may_do_everything() {
        for p in [Principal::local_admin(), Principal::unverified_admin()] {
            for access in Access::ALL {
                assert!(check(&p, access, Some("any")).is_ok());
            }
        }
    }
}
