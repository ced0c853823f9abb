//! The schema version every store records in its `marcus_meta` table, and the one rule for a
//! store written by a newer Marcus: refuse it, in the same words on every host, rather than
//! write documents a newer reader would misread.

/// Schema version this build writes and understands, on SQLite and PostgreSQL alike, so a
/// migration between them never needs to translate. Version 2 gave every document its
/// tenant; a version-1 store is upgraded in place, its board becoming the default tenant.
/// Version 3 added the audit log's tables (and on PostgreSQL their guards).
pub const SCHEMA_VERSION: i64 = 3;

/// What the installation keeps apart from tenants, and which tenant a schema-1 document
/// goes to, for [`finish_upgrade`].
#[derive(Debug, Clone, Copy)]
pub struct Scopes<'a> {
    /// Collections of the installation's own records (credentials, settings).
    pub server_collections: &'a [&'a str],
    /// The scope those records live in.
    pub server_scope: &'a str,
    /// The tenant every other schema-1 document joins.
    pub default_tenant: &'a str,
}

/// The `marcus_meta` key holding the schema version.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// The recorded version as a number; `None` for a new store (or an unreadable value, which
/// the next upgrade overwrites).
pub fn recorded(value: Option<&str>) -> Option<i64> {
    value.and_then(|v| v.parse().ok())
}

/// Refuses a store whose recorded schema is newer than [`SCHEMA_VERSION`].
pub fn refuse_newer(recorded: Option<i64>) -> Result<(), String> {
    match recorded {
        Some(v) if v > SCHEMA_VERSION => Err(format!(
            "database schema version {v} is newer than this marcus understands ({SCHEMA_VERSION}); upgrade marcus"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_newer_schema_is_refused() {
        assert_eq!(recorded(Some("1")), Some(1));
        assert_eq!(recorded(Some("x")), None);
        assert!(refuse_newer(None).is_ok());
        assert!(refuse_newer(Some(SCHEMA_VERSION)).is_ok());
        let refusal = refuse_newer(Some(SCHEMA_VERSION + 1)).unwrap_err();
        assert!(refusal.contains("newer than this marcus"), "{refusal}");
    }
}
