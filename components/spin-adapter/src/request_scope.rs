//! The tenant this instance serves. Spin makes one instance per request (or per Redis
//! message), so the scope is the instance's: the tenant of the principal `identity.current`
//! established, or the tenant the worker entered through `job-scope`. Scoping is the
//! adapter's work, never the app's; until a tenant is established every scoped call fails
//! closed, so a call that could not be scoped reaches nothing.

use crate::bindings::Error;
use std::cell::RefCell;

/// How this instance came to serve a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// Nothing established yet.
    Unset,
    /// The request's credentials were refused: it is served nothing at all.
    Refused,
    /// A request's principal: its tenant, for the rest of the instance.
    Request(String),
    /// The worker's current tenant, which `job-scope.enter` moves from tenant to tenant.
    Job(String),
}

thread_local! {
    static SCOPE: RefCell<Scope> = const { RefCell::new(Scope::Unset) };
}

/// Makes `tenant` (a checked tenant name) the scope of this request's calls. A request
/// whose credentials were refused stays refused.
pub fn establish_request(tenant: &str) {
    SCOPE.with_borrow_mut(|s| {
        if *s != Scope::Refused {
            *s = Scope::Request(tenant.to_string());
        }
    });
}

/// Marks this request's credentials as refused: nothing is served to it any more.
pub fn refuse() {
    SCOPE.set(Scope::Refused);
}

/// Makes `tenant` (a checked, served tenant name) the worker's scope; refused in an
/// instance that serves a request, whose scope is its principal's and never changes.
pub fn enter_job(tenant: &str) -> Result<(), Error> {
    SCOPE.with_borrow_mut(|s| match s {
        Scope::Unset | Scope::Job(_) => {
            *s = Scope::Job(tenant.to_string());
            Ok(())
        }
        Scope::Request(_) | Scope::Refused => Err(Error::Unavailable(
            "this instance serves a request: its tenant is its principal's".into(),
        )),
    })
}

/// Fails when this request's credentials were refused; the calls that touch no tenant's
/// data (the capability report) need only this.
pub fn not_refused() -> Result<(), Error> {
    match SCOPE.with_borrow(Clone::clone) {
        Scope::Refused => Err(refused()),
        _ => Ok(()),
    }
}

/// The tenant every storage, cache and realtime call of this instance is scoped to.
pub fn tenant() -> Result<String, Error> {
    match SCOPE.with_borrow(Clone::clone) {
        Scope::Request(tenant) | Scope::Job(tenant) => Ok(tenant),
        Scope::Refused => Err(refused()),
        Scope::Unset => Err(Error::Unavailable(
            "no tenant is established for this request".into(),
        )),
    }
}

fn refused() -> Error {
    Error::Unavailable("this request's credentials were refused; it is served nothing".into())
}
