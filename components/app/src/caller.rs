//! Who is calling, for this request: the principal the host verified (asked once per request
//! through `marcus:platform/identity`), and the one place access is checked. Work the app
//! starts itself (jobs, the Spin worker, unit tests) runs as the app, with every access.

use crate::http_io::Request;
use marcus_core::api_error::ApiError;
use marcus_identity::access::{self, Access};
use marcus_identity::principal::{Kind, Principal, Role, Verification};
use std::cell::RefCell;

/// Who made the current request.
#[derive(Debug, Clone)]
enum Caller {
    /// Not a request: the app's own work.
    App,
    /// A request, with its principal (none: no credentials where they are required).
    Request(Option<Principal>),
}

thread_local! {
    static CALLER: RefCell<Caller> = const { RefCell::new(Caller::App) };
}

/// Asks the host who the request is (the host verified its credentials before the app ran;
/// on Spin the adapter verifies the header now) and keeps the answer for this request.
pub fn establish(req: &Request) -> Result<(), ApiError> {
    use crate::bindings::identity::{self, AuthError};
    let principal = match identity::current(req.header("authorization")) {
        Ok(p) => p.map(from_wit),
        Err(AuthError::Unauthorized(why)) => {
            return Err(ApiError::new(401, "unauthorized", why));
        }
        Err(AuthError::Unavailable(why)) => {
            return Err(ApiError::new(503, "unavailable", why));
        }
    };
    CALLER.with(|c| *c.borrow_mut() = Caller::Request(principal));
    Ok(())
}

/// `Ok` when the current caller has `access` (as `agent_id`, for acting as an agent): a
/// request without credentials where they are required is `401`, one whose role lacks the
/// access `403`.
pub fn require(access: Access, agent_id: Option<&str>) -> Result<(), ApiError> {
    CALLER.with(|c| match &*c.borrow() {
        Caller::App => Ok(()),
        Caller::Request(None) => Err(ApiError::new(
            401,
            "unauthorized",
            "this request needs credentials: send Authorization: Bearer <token> (marcus token create makes one)",
        )),
        Caller::Request(Some(principal)) => access::check(principal, access, agent_id)
            .map_err(|why| ApiError::new(403, "forbidden", why)),
    })
}

/// The current request's principal, if it has one.
pub fn principal() -> Option<Principal> {
    CALLER.with(|c| match &*c.borrow() {
        Caller::Request(p) => p.clone(),
        Caller::App => None,
    })
}

fn from_wit(p: crate::bindings::identity::Principal) -> Principal {
    use crate::bindings::identity as wit;
    Principal {
        tenant: p.tenant,
        subject: p.subject,
        kind: match p.kind {
            wit::Kind::User => Kind::User,
            wit::Kind::Agent => Kind::Agent,
            wit::Kind::Service => Kind::Service,
        },
        role: match p.role {
            wit::Role::Admin => Role::Admin,
            wit::Role::Member => Role::Member,
            wit::Role::Agent => Role::Agent,
            wit::Role::Viewer => Role::Viewer,
        },
        scopes: p.scopes,
        verified_by: match p.verified_by {
            wit::Verification::Token => Verification::Token,
            wit::Verification::Oidc => Verification::Oidc,
            wit::Verification::Session => Verification::Session,
            wit::Verification::Local => Verification::Local,
            wit::Verification::Unverified => Verification::Unverified,
        },
        agent_ids: p.agent_ids,
        credential_id: None,
    }
}

/// Makes the current thread's caller a request with `principal`, as a unit test's.
#[cfg(test)]
pub fn act_as(principal: Option<Principal>) {
    CALLER.with(|c| *c.borrow_mut() = Caller::Request(principal));
}

#[cfg(test)]
mod tests {
    use super::act_as;
    use crate::platform::in_memory::InMemory;
    use crate::tools::{self, ToolCtx};
    use marcus_identity::principal::{Kind, Principal, Role, Verification};
    use serde_json::{Value, json};

    fn call(tool: &str, args: Value) -> Result<Value, marcus_core::api_error::ApiError> {
        let Value::Object(args) = args else {
            panic!("arguments are an object")
        };
        tools::call(tools::find(tool).unwrap(), &ToolCtx::default(), &args)
    }

    fn token(role: Role, agents: &[&str]) -> Option<Principal> {
        Some(Principal {
            tenant: "default".into(),
            subject: "t".into(),
            kind: Kind::Service,
            role,
            scopes: vec![],
            verified_by: Verification::Token,
            agent_ids: agents.iter().map(|a| a.to_string()).collect(),
            credential_id: None,
        })
    }

    #[test]
    fn tools_answer_only_the_roles_that_may_call_them() {
        let platform = InMemory::installed();
        act_as(token(Role::Member, &[]));
        let project = call(
            "create_project",
            json!({"project_name": "p", "tasks": [{"name": "t"}]}),
        )
        .unwrap()["project_id"]
            .as_str()
            .unwrap()
            .to_string();

        act_as(token(Role::Viewer, &[]));
        assert!(call("get_project_status", json!({"project_id": project})).is_ok());
        let refused = call("create_project", json!({"project_name": "q"})).unwrap_err();
        assert_eq!((refused.status, refused.code), (403, "forbidden"));
        let refused = call("register_agent", json!({"agent_id": "a1", "name": "a"})).unwrap_err();
        assert_eq!(refused.status, 403);

        act_as(token(Role::Agent, &["a1"]));
        assert!(
            call(
                "register_agent",
                json!({"agent_id": "a1", "name": "a", "project_id": project})
            )
            .is_ok()
        );
        let other = call("register_agent", json!({"agent_id": "a2", "name": "b"})).unwrap_err();
        assert_eq!(other.status, 403);
        assert!(
            other.message.contains("a1") && other.message.contains("a2"),
            "{}",
            other.message
        );
        assert!(call("request_next_task", json!({"agent_id": "a2"})).is_err());
        let claimed = call("request_next_task", json!({"agent_id": "a1"})).unwrap();
        assert_eq!(claimed["task"]["name"], "t", "{claimed}");
        assert_eq!(
            call(
                "create_tasks",
                json!({"project_id": project, "tasks": [{"name": "u"}]})
            )
            .unwrap_err()
            .status,
            403
        );

        // Without credentials where they are required, nothing but what is public.
        act_as(None);
        let anonymous = call("list_projects", json!({})).unwrap_err();
        assert_eq!((anonymous.status, anonymous.code), (401, "unauthorized"));
        // A refused call wrote nothing.
        assert_eq!(
            platform
                .documents(crate::records::collections::PROJECTS)
                .len(),
            1
        );
    }
}
