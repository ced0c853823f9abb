//! The Spin variables that switch optional backends on: an empty or undefined variable
//! means "not configured", so one manifest serves both the plain and the Redis setup.

use crate::bindings::variables;

/// Spin variable holding a PostgreSQL URL for storage.
pub const DATABASE_URL: &str = "database_url";
/// Spin variable holding a `redis://` address for event fan-out.
pub const REDIS_ADDRESS: &str = "redis_address";

/// Spin variable that makes every request bring credentials (`true`); without it a request
/// without credentials is the local admin, as on a loopback native host. The SpinKube
/// manifest sets it.
pub const AUTH_REQUIRED: &str = "auth_required";

/// The non-empty value of a variable, if the application sets one.
pub fn configured(name: &str) -> Option<String> {
    variables::get(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A URL without its user info, safe for capability reports.
pub fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
