//! Test-only fault routes, enabled by the host's `debug-routes` fact, that prove a guest
//! trap or runaway loop never takes the host down. They exist only in a build with the
//! `debug-routes` feature (the host's test build); a release build has none.

#[cfg(feature = "debug-routes")]
use crate::allowed_methods::only;
use crate::bindings::capabilities;
#[cfg(feature = "debug-routes")]
use crate::http_io::{Request, Response};
#[cfg(feature = "debug-routes")]
use marcus_core::api_error::ApiError;

/// Whether the host switched the test-only routes on (`--debug-routes`).
pub fn enabled() -> bool {
    cfg!(feature = "debug-routes")
        && capabilities::describe()
            .environment
            .facts
            .iter()
            .any(|(k, v)| k == "debug-routes" && v == "true")
}

/// `GET /api/debug/trap` and `GET /api/debug/spin`.
#[cfg(feature = "debug-routes")]
pub fn handle(req: &Request, what: &str) -> Result<Response, ApiError> {
    if !enabled() {
        return Err(ApiError::not_found(format!(
            "no route for GET {}",
            req.path
        )));
    }
    match what {
        "trap" => only(&req.method, &["GET"], || {
            // A panic aborts the guest: the host sees a trap.
            panic!("trap requested through /api/debug/trap");
        }),
        "spin" => only(&req.method, &["GET"], || {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }),
        _ => Err(ApiError::not_found(format!(
            "no route for GET {}",
            req.path
        ))),
    }
}
