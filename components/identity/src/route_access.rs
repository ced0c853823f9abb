//! The access each route needs before its handler runs, in one table: the app's router and
//! the native host's own routes apply it, and the OpenAPI document publishes it
//! (`x-marcus-access`), so what is documented is what is enforced, wherever it is served.

use crate::access::Access;

/// The access a route needs before its handler runs (`None`: public, so a browser can load
/// the dashboard that then asks for a token). Tools check theirs on top: acting as an
/// agent, shaping the board.
pub fn route_access(method: &str, segments: &[&str]) -> Option<Access> {
    let reads = matches!(method, "GET" | "HEAD");
    match segments {
        // The probes are public on every host (the native host answers `/readyz` itself).
        [] | ["assets", _] | ["healthz"] | ["readyz"] | ["api", "openapi.json"] => None,
        // Where an MCP client learns which identity provider to ask for credentials.
        [".well-known", "oauth-protected-resource", ..] => None,
        // Signing in starts without credentials; each route checks what it needs itself.
        ["auth", ..] => None,
        ["api", "admin", "tenants", ..] => Some(Access::ServerAdmin),
        // An organisation's identity provider provisions its people with an admin token.
        ["scim", ..] => Some(Access::Admin),
        // Who did what: the tenant's admins only.
        ["api", "storage", ..]
        | ["api", "audit", ..]
        | ["api", "cache", ..]
        | ["api", "realtime", _]
        | ["api", "debug", _]
        | ["api", "admin", ..] => Some(Access::Admin),
        ["api", "jobs", ..] if !reads => Some(Access::Admin),
        ["api", "projects", _, "webhooks"] | ["api", "webhooks", ..] if !reads => {
            Some(Access::Board)
        }
        _ => Some(Access::Read),
    }
}

/// The name the API documents for `access` (`public` where none is needed).
pub fn name(access: Option<Access>) -> &'static str {
    access.map_or("public", Access::as_str)
}
