//! The browser protections of `marcus_core::request_guard`, applied by the app to every
//! request it serves, so they hold on hosts that do not apply them in front of it (Spin).
//!
//! The app cannot see the listen address, so it serves any `Host` name; it refuses a foreign
//! `Origin` unless the host names that origin in its `allowed-origins` fact, and any non-JSON
//! body on a state-changing method. Only a request that would be refused asks the host for
//! its facts, so the common request costs no platform call.

use crate::bindings::capabilities;
use crate::http_io::Request;
use marcus_core::api_error::ApiError;
use marcus_core::request_guard::{self, GuardPolicy, RequestFacts};

/// The capabilities fact naming further allowed origins (comma-separated).
pub const ALLOWED_ORIGINS_FACT: &str = "allowed-origins";

/// `Ok` when the request may be served.
pub fn check(req: &Request) -> Result<(), ApiError> {
    let facts = RequestFacts {
        method: &req.method,
        host: req.authority.as_deref(),
        origin: req.header("origin"),
        content_type: req.header("content-type"),
        has_body: !req.body.is_empty(),
    };
    // Any Host name is served (see above); an origin beyond this server's own is allowed only
    // when the operator listed it, which is looked up only when one is refused.
    if request_guard::check_origin(&GuardPolicy::any_host(), &facts).is_err() {
        request_guard::check_origin(
            &GuardPolicy::from_lists(false, "", &allowed_origins()),
            &facts,
        )?;
    }
    request_guard::check_media_type(&facts)
}

/// The origins the operator allowed, as the host reports them.
fn allowed_origins() -> String {
    capabilities::describe()
        .environment
        .facts
        .iter()
        .find(|(name, _)| name == ALLOWED_ORIGINS_FACT)
        .map_or(String::new(), |(_, value)| value.clone())
}
