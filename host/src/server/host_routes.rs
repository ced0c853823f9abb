//! The paths the host answers itself, before (or instead of) the app: probes, metrics and
//! the push streams. Everything else goes to the app component. One table, so what the
//! host owns is written down once.

use hyper::Method;

/// A path the host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRoute {
    /// `GET /metrics`: the Prometheus scrape.
    Metrics,
    /// `GET /healthz`: liveness.
    Liveness,
    /// `GET /readyz`: readiness (every backend answers).
    Readiness,
    /// `GET /api/events/stream`: server-sent events.
    EventStream,
    /// `GET /api/ws`: the WebSocket push stream.
    WebSocket,
    /// `GET /.well-known/oauth-protected-resource[/mcp]`: where MCP clients find the
    /// identity provider (RFC 9728).
    ResourceMetadata,
    /// `/api/admin/tokens[/{id}]`: tokens made, listed and revoked by an admin.
    AdminTokens,
    /// `/api/admin/tenants[/{name}[/…]]`: tenants made, listed, disabled and limited by a
    /// server administrator.
    AdminTenants,
    /// `/auth/…`: people signing in with their organisation's identity provider, their
    /// session, signing out.
    Sso,
    /// `/scim/v2/…`: an organisation's identity provider provisioning its people.
    Scim,
    /// `GET /api/audit`: the tenant's audit records, for its admins.
    Audit,
    /// A host path asked with a method it does not serve: 405 with `Allow: GET`.
    WrongMethod,
}

/// What the host serves itself: path, route and whether only `GET` is allowed there (other
/// methods are refused by the host; `false` leaves them to the route's own handler).
pub const HOST_ROUTES: &[(&str, HostRoute, bool)] = &[
    ("/metrics", HostRoute::Metrics, true),
    ("/readyz", HostRoute::Readiness, true),
    ("/healthz", HostRoute::Liveness, false),
    (
        crate::auth::oidc::METADATA_PATH,
        HostRoute::ResourceMetadata,
        true,
    ),
    (
        "/.well-known/oauth-protected-resource/mcp",
        HostRoute::ResourceMetadata,
        true,
    ),
    (crate::push::SSE_PATH, HostRoute::EventStream, false),
    (crate::push::WEBSOCKET_PATH, HostRoute::WebSocket, false),
];

/// The host route for `method path`, or `None` when the app answers it. `/healthz` with
/// another method goes to the app, which refuses it the way it refuses any wrong method.
pub fn host_route(method: &Method, path: &str) -> Option<HostRoute> {
    let under =
        |root: &str| path == root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/'));
    if under(crate::auth::admin_api::PATH) {
        return Some(HostRoute::AdminTokens);
    }
    if under(crate::tenants::admin_api::PATH) {
        return Some(HostRoute::AdminTenants);
    }
    if under(crate::sso::routes::PATH) {
        return Some(HostRoute::Sso);
    }
    if under(crate::scim::PATH) {
        return Some(HostRoute::Scim);
    }
    if path == crate::audit::api::PATH {
        return Some(if *method == Method::GET {
            HostRoute::Audit
        } else {
            HostRoute::WrongMethod
        });
    }
    let (_, route, get_only) = HOST_ROUTES.iter().find(|(p, _, _)| *p == path)?;
    match route {
        _ if *method == Method::GET => Some(*route),
        _ if *get_only => Some(HostRoute::WrongMethod),
        HostRoute::Liveness => None,
        _ => Some(*route),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_and_methods() {
        assert_eq!(
            host_route(&Method::GET, "/metrics"),
            Some(HostRoute::Metrics)
        );
        assert_eq!(
            host_route(&Method::POST, "/readyz"),
            Some(HostRoute::WrongMethod)
        );
        assert_eq!(host_route(&Method::POST, "/healthz"), None);
        assert_eq!(
            host_route(&Method::GET, "/healthz"),
            Some(HostRoute::Liveness)
        );
        assert_eq!(
            host_route(&Method::POST, crate::push::SSE_PATH),
            Some(HostRoute::EventStream)
        );
        assert_eq!(host_route(&Method::GET, "/api/projects"), None);
    }
}
