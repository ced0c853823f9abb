//! Which requests need credentials. Zero configuration stays zero configuration on one
//! machine: on a loopback listener with no authentication asked for, every request is the
//! person at the keyboard (a local admin). Any other listen address requires credentials,
//! unless the operator switches them off with `--insecure-no-auth`, which the log and
//! `/api/features` then say loudly.

use marcus_identity::principal::Principal;
use std::net::SocketAddr;

/// How a server treats requests without credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Loopback, nothing asked: a request without credentials is the local admin.
    Local,
    /// A request without credentials reaches only what is public.
    Required,
    /// Exposed with authentication switched off: anyone who reaches the port is an admin.
    Off,
}

impl AuthMode {
    /// The mode for a server on `listen`: `require` asks for credentials on loopback too,
    /// `insecure_no_auth` switches them off on an exposed address.
    pub fn decide(
        listen: SocketAddr,
        require: bool,
        insecure_no_auth: bool,
    ) -> anyhow::Result<Self> {
        if require && insecure_no_auth {
            anyhow::bail!(
                "--require-auth and --insecure-no-auth contradict each other; choose one"
            );
        }
        Ok(if require {
            AuthMode::Required
        } else if listen.ip().is_loopback() {
            AuthMode::Local
        } else if insecure_no_auth {
            AuthMode::Off
        } else {
            AuthMode::Required
        })
    }

    /// The principal of a request without credentials.
    pub fn anonymous(self) -> Option<Principal> {
        match self {
            AuthMode::Local => Some(Principal::local_admin()),
            AuthMode::Off => Some(Principal::unverified_admin()),
            AuthMode::Required => None,
        }
    }

    /// The mode's name, as `/api/features` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Local => "local",
            AuthMode::Required => "required",
            AuthMode::Off => "insecure-no-auth",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_local_anything_else_requires_credentials() {
        let at = |a: &str| a.parse::<SocketAddr>().unwrap();
        assert_eq!(
            AuthMode::decide(at("127.0.0.1:1"), false, false).unwrap(),
            AuthMode::Local
        );
        assert_eq!(
            AuthMode::decide(at("[::1]:1"), false, false).unwrap(),
            AuthMode::Local
        );
        assert_eq!(
            AuthMode::decide(at("0.0.0.0:1"), false, false).unwrap(),
            AuthMode::Required
        );
        assert_eq!(
            AuthMode::decide(at("192.0.2.7:1"), false, false).unwrap(),
            AuthMode::Required
        );
        assert_eq!(
            AuthMode::decide(at("0.0.0.0:1"), false, true).unwrap(),
            AuthMode::Off
        );
        assert_eq!(
            AuthMode::decide(at("127.0.0.1:1"), true, false).unwrap(),
            AuthMode::Required
        );
        assert!(AuthMode::decide(at("0.0.0.0:1"), true, true).is_err());
        assert!(AuthMode::Required.anonymous().is_none());
        assert_eq!(AuthMode::Local.anonymous().unwrap().role.as_str(), "admin");
    }
}
