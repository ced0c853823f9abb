//! The browser protections every Marcus request passes before it is served: which `Host`
//! names are served, which `Origin`s may call, which bodies may change state, and the headers
//! that keep the dashboard out of other sites' frames.
//!
//! Marcus listens on loopback without credentials, so any web page the user has open can
//! send it requests. A browser marks those requests: it sends `Origin` on every cross-origin
//! request (and on every `POST`), a `Host` of the attacker's own name after DNS rebinding, and
//! only "simple" content types without a preflight. Refusing a foreign `Origin`, a `Host` that
//! is not a loopback name on a loopback listener, and any non-JSON body on a state-changing
//! method closes those doors without touching clients that are not browsers.
//!
//! The native host applies the whole rule to every request (it knows its listen address);
//! the app applies it again with [`GuardPolicy::any_host`] on hosts that cannot tell it the
//! listen address (Spin), so the same rule holds there.

use crate::api_error::ApiError;

/// Headers every response carries: no framing by other sites, no referrer leaking board
/// URLs, no content sniffing, and scripts, styles and connections only from Marcus itself.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// What a host allows beyond same-origin requests to a loopback name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Only loopback `Host` names (and [`Self::allowed_hosts`]) are served: true when the
    /// listen address is a loopback address, where DNS rebinding is the threat.
    pub loopback_listen: bool,
    /// Further `Host` names served (lower case, without port); `*` allows every name.
    pub allowed_hosts: Vec<String>,
    /// Further origins that may call (`scheme://host[:port]`, lower case), for a dashboard or
    /// tool served from another origin.
    pub allowed_origins: Vec<String>,
}

impl GuardPolicy {
    /// The policy of a host that cannot tell its listen address: every `Host` name, and only
    /// same-origin browser requests.
    pub fn any_host() -> Self {
        Self::default()
    }

    /// Builds the policy from comma-separated operator lists (empty entries ignored).
    pub fn from_lists(loopback_listen: bool, hosts: &str, origins: &str) -> Self {
        let list = |s: &str| {
            s.split(',')
                .map(|e| e.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect::<Vec<_>>()
        };
        Self {
            loopback_listen,
            allowed_hosts: list(hosts),
            allowed_origins: list(origins),
        }
    }
}

/// The parts of a request the guard looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// The `Host` header (or the request's authority).
    pub host: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// Whether the request carries a non-empty body.
    pub has_body: bool,
}

/// A Host header this server does not serve (DNS rebinding).
pub const HOST_NOT_ALLOWED: &str = "host_not_allowed";
/// A browser page of another site.
pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";
/// A state-changing body a form could send without a preflight.
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
/// Every reason [`check`] refuses with, for counting refusals from the start.
pub const REFUSALS: [&str; 3] = [HOST_NOT_ALLOWED, ORIGIN_NOT_ALLOWED, UNSUPPORTED_MEDIA_TYPE];

/// Refuses a request a browser page on another site (or behind a rebound DNS name) could
/// have sent; `Ok` for everything else.
pub fn check(policy: &GuardPolicy, request: &RequestFacts<'_>) -> Result<(), ApiError> {
    check_host(policy, request)?;
    check_origin(policy, request)?;
    check_media_type(request)
}

/// Refuses a `Host` the policy does not serve (a DNS-rebound name).
pub fn check_host(policy: &GuardPolicy, request: &RequestFacts<'_>) -> Result<(), ApiError> {
    if let Some(host) = request.host
        && !host_allowed(policy, host)
    {
        return Err(ApiError::new(
            403,
            HOST_NOT_ALLOWED,
            format!(
                "Host {host:?} is not served here: this Marcus listens on loopback and serves \
                 only loopback names (add the name to --allowed-hosts to serve it)"
            ),
        ));
    }
    Ok(())
}

/// Refuses a browser page of an origin the policy does not allow.
pub fn check_origin(policy: &GuardPolicy, request: &RequestFacts<'_>) -> Result<(), ApiError> {
    if let Some(origin) = request.origin
        && !origin_allowed(policy, origin, request.host)
    {
        return Err(ApiError::new(
            403,
            ORIGIN_NOT_ALLOWED,
            format!(
                "requests from origin {origin:?} are refused: only this server's own pages may \
                 call it from a browser (add the origin to --allowed-origins to allow it)"
            ),
        ));
    }
    Ok(())
}

/// Refuses a state-changing body that is not JSON (a form could send it without a preflight).
pub fn check_media_type(request: &RequestFacts<'_>) -> Result<(), ApiError> {
    if changes_state(request.method) && request.has_body && !is_json(request.content_type) {
        return Err(ApiError::new(
            415,
            UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{} with a body needs Content-Type: application/json (or application/octet-stream \
                 for a cache value), got {}",
                request.method,
                request
                    .content_type
                    .map_or("none".to_string(), |c| format!("{c:?}"))
            ),
        ));
    }
    Ok(())
}

/// Methods that may change the board.
fn changes_state(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// `application/json`, any `application/*+json`, or `application/octet-stream` (the raw
/// bytes of a cache value), parameters allowed: types a page can only send after a CORS
/// preflight, which Marcus never grants.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence == "application/octet-stream"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// Splits `host[:port]` (IPv6 in brackets) into a lower-case host name and the port text.
fn split_authority(authority: &str) -> (String, Option<&str>) {
    let authority = authority.trim();
    if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').filter(|p| !p.is_empty());
        return (format!("[{}]", inside.to_ascii_lowercase()), port);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (
            host.trim_end_matches('.').to_ascii_lowercase(),
            Some(port).filter(|p| !p.is_empty()),
        ),
        _ => (authority.trim_end_matches('.').to_ascii_lowercase(), None),
    }
}

/// Loopback names: `localhost`, `*.localhost` (RFC 6761), 127.0.0.0/8 and `[::1]`.
pub fn is_loopback_name(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

fn host_allowed(policy: &GuardPolicy, authority: &str) -> bool {
    let (host, _) = split_authority(authority);
    if host.is_empty() {
        return false;
    }
    if !policy.loopback_listen {
        return true;
    }
    is_loopback_name(&host)
        || policy
            .allowed_hosts
            .iter()
            .any(|allowed| allowed == "*" || *allowed == host)
}

fn origin_allowed(policy: &GuardPolicy, origin: &str, host: Option<&str>) -> bool {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if policy.allowed_origins.contains(&origin) {
        return true;
    }
    // "null" (sandboxed frames, file: pages, redirects) and anything without a scheme is
    // never the server's own page.
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let Some(host) = host else {
        return false;
    };
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let (origin_host, origin_port) = split_authority(authority);
    let (own_host, own_port) = split_authority(host);
    // A proxy in front may terminate TLS, so the Host header cannot tell the scheme: a
    // missing port on either side means the origin's default port.
    origin_host == own_host
        && origin_port.unwrap_or(default_port) == own_port.unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> GuardPolicy {
        GuardPolicy::from_lists(true, "", "")
    }

    fn facts<'a>(
        method: &'a str,
        host: &'a str,
        origin: Option<&'a str>,
        content_type: Option<&'a str>,
        has_body: bool,
    ) -> RequestFacts<'a> {
        RequestFacts {
            method,
            host: Some(host),
            origin,
            content_type,
            has_body,
        }
    }

    fn code(r: Result<(), ApiError>) -> Option<&'static str> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn loopback_names_are_served_and_others_refused() {
        let p = loopback();
        for host in [
            "127.0.0.1:4298",
            "localhost:4298",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:4298",
            "127.1.2.3",
        ] {
            assert_eq!(
                code(check(&p, &facts("GET", host, None, None, false))),
                None,
                "{host}"
            );
        }
        for host in [
            "attacker.example",
            "attacker.example:4298",
            "127.0.0.1.attacker.example",
            "localhost.attacker.example",
            "10.0.0.1:4298",
            "[::2]:4298",
            "",
        ] {
            assert_eq!(
                code(check(&p, &facts("GET", host, None, None, false))),
                Some("host_not_allowed"),
                "{host}"
            );
        }
    }

    #[test]
    fn allowed_hosts_extend_the_loopback_names() {
        let p = GuardPolicy::from_lists(true, "marcus.internal, Board.Example ", "");
        assert!(check(&p, &facts("GET", "marcus.internal:4298", None, None, false)).is_ok());
        assert!(check(&p, &facts("GET", "board.example", None, None, false)).is_ok());
        assert!(check(&p, &facts("GET", "other.example", None, None, false)).is_err());
        let any = GuardPolicy::from_lists(true, "*", "");
        assert!(check(&any, &facts("GET", "other.example", None, None, false)).is_ok());
    }

    #[test]
    fn an_exposed_listener_serves_any_host_name() {
        let p = GuardPolicy::from_lists(false, "", "");
        assert!(check(&p, &facts("GET", "marcus.example.com", None, None, false)).is_ok());
    }

    #[test]
    fn only_the_servers_own_origin_may_call() {
        let p = loopback();
        let own = facts(
            "POST",
            "127.0.0.1:4298",
            Some("http://127.0.0.1:4298"),
            Some("application/json"),
            true,
        );
        assert!(check(&p, &own).is_ok());
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:4299",
            "http://localhost:4298",
            "null",
            "file://",
            "chrome-extension://abc",
        ] {
            let req = RequestFacts {
                origin: Some(origin),
                ..own
            };
            assert_eq!(
                code(check(&p, &req)),
                Some("origin_not_allowed"),
                "{origin}"
            );
            let get = RequestFacts {
                method: "GET",
                has_body: false,
                ..req
            };
            assert_eq!(
                code(check(&p, &get)),
                Some("origin_not_allowed"),
                "GET {origin}"
            );
        }
    }

    #[test]
    fn default_ports_and_proxies_count_as_the_same_origin() {
        let p = GuardPolicy::from_lists(false, "", "");
        let behind_tls = facts(
            "GET",
            "marcus.example",
            Some("https://marcus.example"),
            None,
            false,
        );
        assert!(check(&p, &behind_tls).is_ok());
        let explicit = facts(
            "GET",
            "marcus.example:80",
            Some("http://marcus.example"),
            None,
            false,
        );
        assert!(check(&p, &explicit).is_ok());
        let ipv6 = facts("GET", "[::1]:4298", Some("http://[::1]:4298"), None, false);
        assert!(check(&loopback(), &ipv6).is_ok());
    }

    #[test]
    fn allowed_origins_may_call() {
        let p = GuardPolicy::from_lists(true, "", "https://tools.example/");
        let req = facts(
            "POST",
            "127.0.0.1:4298",
            Some("https://tools.example"),
            Some("application/json"),
            true,
        );
        assert!(check(&p, &req).is_ok());
    }

    #[test]
    fn bodies_that_change_state_must_be_json() {
        let p = loopback();
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            "application/octet-stream",
        ] {
            assert!(
                check(&p, &facts("PUT", "localhost", None, Some(ct), true)).is_ok(),
                "{ct}"
            );
        }
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("text/json"),
            None,
        ] {
            for method in ["POST", "PUT", "PATCH", "DELETE"] {
                assert_eq!(
                    code(check(&p, &facts(method, "localhost", None, ct, true))),
                    Some("unsupported_media_type"),
                    "{method} {ct:?}"
                );
            }
        }
        // No body, or a read: the content type does not matter.
        assert!(check(&p, &facts("POST", "localhost", None, None, false)).is_ok());
        assert!(
            check(
                &p,
                &facts("GET", "localhost", None, Some("text/plain"), true)
            )
            .is_ok()
        );
    }

    #[test]
    fn a_request_without_host_or_origin_is_not_a_browsers() {
        let p = loopback();
        let req = RequestFacts {
            method: "POST",
            has_body: false,
            ..Default::default()
        };
        assert!(check(&p, &req).is_ok());
        let with_origin = RequestFacts {
            origin: Some("http://127.0.0.1:4298"),
            ..req
        };
        assert_eq!(code(check(&p, &with_origin)), Some("origin_not_allowed"));
    }
}
