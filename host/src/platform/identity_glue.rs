//! `marcus:platform/identity`: the principal the host verified before the app ran.

use super::PlatformView;
use super::bindings::marcus::platform::identity as wit;
use marcus_identity::principal::{Kind, Principal, Role, Verification};

fn role(r: Role) -> wit::Role {
    match r {
        Role::Admin => wit::Role::Admin,
        Role::Member => wit::Role::Member,
        Role::Agent => wit::Role::Agent,
        Role::Viewer => wit::Role::Viewer,
    }
}

fn kind(k: Kind) -> wit::Kind {
    match k {
        Kind::User => wit::Kind::User,
        Kind::Agent => wit::Kind::Agent,
        Kind::Service => wit::Kind::Service,
    }
}

fn verification(v: Verification) -> wit::Verification {
    match v {
        Verification::Token => wit::Verification::Token,
        Verification::Oidc => wit::Verification::Oidc,
        Verification::Session => wit::Verification::Session,
        Verification::Local => wit::Verification::Local,
        Verification::Unverified => wit::Verification::Unverified,
    }
}

/// The principal as the WIT states it.
pub fn to_wit(p: &Principal) -> wit::Principal {
    wit::Principal {
        tenant: p.tenant.clone(),
        subject: p.subject.clone(),
        kind: kind(p.kind),
        role: role(p.role),
        scopes: p.scopes.clone(),
        verified_by: verification(p.verified_by),
        agent_ids: p.agent_ids.clone(),
    }
}

impl wit::Host for PlatformView {
    async fn current(
        &mut self,
        _authorization: Option<String>,
    ) -> Result<Option<wit::Principal>, wit::AuthError> {
        // The request's credentials were verified before the app ran (a request whose
        // credentials failed never reaches it), so the header needs no second look. Not a
        // counted platform call: it touches no backend.
        Ok(self.principal.as_ref().map(to_wit))
    }
}
