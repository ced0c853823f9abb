//! Tenants: the organisations one installation serves, kept apart on every path. The rules
//! every host and the Spin adapter apply in the same words: what a tenant's name may be,
//! where the installation's own records live, how a cache key or channel is scoped to a
//! tenant, and a tenant's record with its quotas.

use serde::{Deserialize, Serialize};

/// The tenant a board made before tenants existed belongs to, and the tenant of requests
/// that name none (a loopback listener without authentication, tokens made without
/// `--tenant`).
pub const DEFAULT_TENANT: &str = "default";

/// The scope of the installation's own records (token records, the token secret, the
/// tenant registry): no tenant's request ever runs in it, and no tenant name can spell it.
pub const SERVER_SCOPE: &str = "_server";

/// The storage collection of tenant records, in [`SERVER_SCOPE`].
pub const COLLECTION: &str = "tenants";

/// Collections that belong to the installation rather than a tenant: a schema-1 store's
/// documents of these go to [`SERVER_SCOPE`] when it is upgraded, the rest to
/// [`DEFAULT_TENANT`].
pub const SERVER_COLLECTIONS: [&str; 3] = [
    crate::record::COLLECTION,
    crate::record::SETTINGS_COLLECTION,
    COLLECTION,
];

/// The scope a principal grants beyond its role that makes it a server administrator:
/// it manages tenants and every tenant's tokens.
pub const SERVER_ADMIN_SCOPE: &str = "marcus:server-admin";

/// Longest tenant name.
pub const MAX_NAME_LEN: usize = 40;

/// Checks a tenant name: lower-case letters, digits and `-`, starting with a letter or
/// digit, at most [`MAX_NAME_LEN`] characters. Names travel in cache keys, channel names
/// and SQL settings; the small alphabet keeps each of them unambiguous.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tenant name must not be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "tenant name {name:?} is {} characters long; the limit is {MAX_NAME_LEN}",
            name.len()
        ));
    }
    let mut chars = name.chars();
    let first = chars.next().unwrap_or('-');
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(format!(
            "tenant name {name:?} must start with a lower-case letter or a digit"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "tenant name {name:?} contains {bad:?}; allowed are a-z, 0-9 and -"
        ));
    }
    Ok(())
}

/// Whether `scope` may scope storage, cache and realtime: a valid tenant name or the
/// server scope. Anything else is refused before it reaches a backend.
pub fn is_scope(scope: &str) -> bool {
    scope == SERVER_SCOPE || check_name(scope).is_ok()
}

/// A cache key or channel name as a tenant's request sees it, made the installation's
/// name: the tenant and `/` in front. Keys and channels may not contain `/`, so no name
/// of one tenant can spell a name of another.
pub fn scoped(tenant: &str, name: &str) -> String {
    format!("{tenant}/{name}")
}

/// The tenant's own name for an installation name it [`scoped`]; `None` for a name of
/// another tenant (or of none).
pub fn unscoped<'a>(tenant: &str, name: &'a str) -> Option<&'a str> {
    name.strip_prefix(tenant)?.strip_prefix('/')
}

/// The tenant and the tenant's own name of an installation name made by [`scoped`]; `None`
/// for a name no tenant's request made.
pub fn split_scoped(name: &str) -> Option<(&str, &str)> {
    let (tenant, own) = name.split_once('/')?;
    is_scope(tenant).then_some((tenant, own))
}

/// Whether a tenant's requests are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Served.
    Active,
    /// Every credential of it is refused; its data stays.
    Disabled,
}

/// What a tenant may hold and do; `None` is no limit. Unknown fields are refused, so a
/// mistyped quota is an error rather than no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Projects it may hold.
    #[serde(default, deserialize_with = "whole_number")]
    pub projects: Option<u64>,
    /// Tasks it may hold, over all its projects.
    #[serde(default, deserialize_with = "whole_number")]
    pub tasks: Option<u64>,
    /// Megabytes (10^6 bytes) of stored documents.
    #[serde(default, deserialize_with = "whole_number")]
    pub stored_mb: Option<u64>,
    /// Requests per minute, over all its credentials.
    #[serde(default, deserialize_with = "whole_number")]
    pub requests_per_minute: Option<u64>,
}

/// The largest quota: beyond it a figure is a mistake, not a limit.
pub const MAX_QUOTA: u64 = 1_000_000_000_000;

/// A quota: absent or null is no limit; a number must be whole, not negative and at most
/// [`MAX_QUOTA`] (`20` or `20.0`, as JSON Schema's `integer` allows).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        })
        .filter(|q| *q <= MAX_QUOTA)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number from 0 to {MAX_QUOTA}")))
}

/// A tenant as the registry keeps it (collection [`COLLECTION`] in [`SERVER_SCOPE`], id
/// its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    /// Its name.
    pub name: String,
    /// Served or not.
    pub status: Status,
    /// Its limits.
    #[serde(default)]
    pub quotas: Quotas,
    /// When it was made (ms since the epoch).
    pub created_at: u64,
    /// When it was disabled, if it is.
    #[serde(default)]
    pub disabled_at: Option<u64>,
}

impl TenantRecord {
    /// A new active tenant.
    pub fn new(name: &str, quotas: Quotas, now: u64) -> Self {
        Self {
            name: name.into(),
            status: Status::Active,
            quotas,
            created_at: now,
            disabled_at: None,
        }
    }
}

/// Whether requests of `tenant` are served, given its registry record: an active record
/// is, a disabled one is not, and a missing one only for [`DEFAULT_TENANT`] (which exists
/// before any record is made for it). The `Err` completes "the credential's …".
pub fn check_served(tenant: &str, record: Option<&TenantRecord>) -> Result<(), String> {
    match record {
        Some(r) if r.status == Status::Active => Ok(()),
        Some(_) => Err(format!("tenant {tenant:?} is disabled")),
        None if tenant == DEFAULT_TENANT => Ok(()),
        None => Err(format!("tenant {tenant:?} does not exist")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_small_slugs_that_cannot_spell_the_server_scope() {
        for good in ["default", "acme", "team-7", "0x"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Acme",
            "-a",
            "_server",
            "a/b",
            "a:b",
            "a b",
            &"a".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(is_scope(SERVER_SCOPE));
        assert!(!is_scope("a/b"));
    }

    #[test]
    fn quotas_are_whole_numbers() {
        let q: Quotas = serde_json::from_str(r#"{"tasks": 20.0, "projects": 3}"#).unwrap();
        assert_eq!(
            (q.tasks, q.projects, q.stored_mb),
            (Some(20), Some(3), None)
        );
        for bad in [
            r#"{"tasks": 1.5}"#,
            r#"{"tasks": -1}"#,
            r#"{"task": 1}"#,
            r#"{"tasks": 1000000000001}"#,
        ] {
            assert!(serde_json::from_str::<Quotas>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_active_tenants_are_served() {
        let mut acme = TenantRecord::new("acme", Quotas::default(), 1);
        assert!(check_served("acme", Some(&acme)).is_ok());
        acme.status = Status::Disabled;
        assert!(
            check_served("acme", Some(&acme))
                .unwrap_err()
                .contains("disabled")
        );
        assert!(
            check_served("gone", None)
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(check_served(DEFAULT_TENANT, None).is_ok());
    }

    #[test]
    fn a_scoped_name_reads_back_only_for_its_own_tenant() {
        let key = scoped("acme", "status:p1");
        assert_eq!(key, "acme/status:p1");
        assert_eq!(unscoped("acme", &key), Some("status:p1"));
        assert_eq!(unscoped("acm", &key), None);
        assert_eq!(unscoped("acme-2", &key), None);
        assert_eq!(unscoped("other", &key), None);
        assert_eq!(split_scoped(&key), Some(("acme", "status:p1")));
        assert_eq!(split_scoped("no-tenant"), None);
    }
}
