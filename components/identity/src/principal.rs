//! The verified caller of a request, as the host (or the Spin adapter) established it; the
//! app only ever reads it.

use serde::{Deserialize, Serialize};

/// The tenant of requests that name none (see [`crate::tenant`]).
pub use crate::tenant::DEFAULT_TENANT;

/// What a principal may do on the board (see [`crate::access`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Tokens, settings, raw storage, and everything a member may do.
    Admin,
    /// Projects, tasks, blockers: everything on the board, as any agent.
    Member,
    /// Register itself, claim, report, log, read context: only as the agents it is bound to.
    Agent,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Member, Role::Agent, Role::Viewer];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| format!("unknown role {name:?}: admin, member, agent or viewer"))
    }
}

/// Who stands behind a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A person.
    User,
    /// A coding agent.
    Agent,
    /// A script or another service.
    Service,
}

impl Kind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Agent => "agent",
            Kind::Service => "service",
        }
    }
}

/// How a principal was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// A Marcus access token.
    Token,
    /// An identity provider's access token.
    Oidc,
    /// A signed-in browser session.
    Session,
    /// A request on a loopback listener with no authentication configured.
    Local,
    /// Nothing: the server runs exposed with authentication switched off on purpose.
    Unverified,
}

impl Verification {
    /// The verification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Token => "token",
            Verification::Oidc => "oidc",
            Verification::Session => "session",
            Verification::Local => "local",
            Verification::Unverified => "unverified",
        }
    }
}

/// The verified caller of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The organisation it belongs to.
    pub tenant: String,
    /// Who it is: a token's name, a provider's subject, `local`.
    pub subject: String,
    /// A person, an agent or a service.
    pub kind: Kind,
    /// What it may do.
    pub role: Role,
    /// Scopes granted beyond the role (from an identity provider).
    pub scopes: Vec<String>,
    /// How it was verified.
    pub verified_by: Verification,
    /// The agent ids it may act as (an agent role's binding).
    pub agent_ids: Vec<String>,
    /// The credential that established it (a Marcus token's id), so the audit log can list
    /// every use of one credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
}

impl Principal {
    /// A request on a loopback listener with no authentication configured: the person at the
    /// keyboard, who may do anything.
    pub fn local_admin() -> Self {
        Self::anonymous_admin(Verification::Local)
    }

    /// A request to a server exposed with authentication switched off on purpose.
    pub fn unverified_admin() -> Self {
        Self::anonymous_admin(Verification::Unverified)
    }

    /// The host's own background work (jobs it runs through the app).
    pub fn host_job() -> Self {
        Self::job_of(DEFAULT_TENANT)
    }

    /// The host's own background work for one tenant: its jobs run in its scope only.
    pub fn job_of(tenant: &str) -> Self {
        Self {
            tenant: tenant.into(),
            subject: "marcus-jobs".into(),
            kind: Kind::Service,
            scopes: Vec::new(),
            ..Self::anonymous_admin(Verification::Local)
        }
    }

    fn anonymous_admin(verified_by: Verification) -> Self {
        Self {
            tenant: DEFAULT_TENANT.into(),
            subject: verified_by.as_str().into(),
            kind: Kind::User,
            role: Role::Admin,
            // The person at the keyboard of an unauthenticated server runs all of it.
            scopes: vec![crate::tenant::SERVER_ADMIN_SCOPE.to_string()],
            verified_by,
            agent_ids: Vec::new(),
            credential_id: None,
        }
    }
}
