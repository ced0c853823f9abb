//! Which store holds the documents: a SQLite file or a PostgreSQL database. `marcus serve`
//! picks one from its settings (`DATABASE_URL`, else the data directory's `marcus.db`) and
//! `marcus migrate` from its `--from`/`--to` arguments; both open it here.

use crate::storage::StorageBackend;
use crate::storage::postgres::PostgresStorage;
use crate::storage::sqlite::{SqliteStorage, SyncMode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The SQLite file's name in the data directory.
pub const SQLITE_FILE: &str = "marcus.db";

/// A store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageChoice {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database URL.
    Postgres(String),
}

impl StorageChoice {
    /// The server's store: PostgreSQL at `database_url` when set, else the data directory's
    /// SQLite file.
    pub fn from_settings(database_url: Option<&str>, data_dir: &Path) -> Self {
        match database_url {
            Some(url) => Self::Postgres(url.to_string()),
            None => Self::Sqlite(data_dir.join(SQLITE_FILE)),
        }
    }

    /// Parses `sqlite`, `sqlite:PATH`, `postgres`, `postgres:URL` (or a bare
    /// `postgresql://` / `postgres://` URL). Bare `sqlite` is the data dir's database and bare
    /// `postgres` is `DATABASE_URL`.
    pub fn parse(text: &str, data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Self> {
        let is_url = |s: &str| s.starts_with("postgresql://") || s.starts_with("postgres://");
        if is_url(text) {
            return Ok(Self::Postgres(text.to_string()));
        }
        let (kind, rest) = match text.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (text, None),
        };
        match (kind, rest) {
            ("sqlite", None) => Ok(Self::Sqlite(data_dir.join(SQLITE_FILE))),
            ("sqlite", Some(path)) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
            ("postgres" | "postgresql", None) => match database_url {
                Some(url) if is_url(url) => Ok(Self::Postgres(url.to_string())),
                Some(url) => anyhow::bail!(
                    "DATABASE_URL must start with postgresql:// or postgres://; got {:?}",
                    url.split("://").next().unwrap_or(url)
                ),
                None => anyhow::bail!(
                    "`postgres` needs a URL: write postgres:postgresql://user@host/db or set DATABASE_URL"
                ),
            },
            ("postgres" | "postgresql", Some(url)) if is_url(url) => {
                Ok(Self::Postgres(url.to_string()))
            }
            ("postgres" | "postgresql", Some(other)) => anyhow::bail!(
                "{other:?} is not a PostgreSQL URL; it must start with postgresql:// or postgres://"
            ),
            _ => anyhow::bail!(
                "unsupported store {text:?}; use sqlite[:PATH] or postgres[:URL] (postgresql:// or postgres://)"
            ),
        }
    }

    /// A stable name for messages and for recognising an interrupted migration.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!(
                "sqlite:{}",
                std::fs::canonicalize(path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
            ),
            Self::Postgres(url) => {
                let location = url
                    .parse::<tokio_postgres::Config>()
                    .map(|c| crate::storage::postgres::describe(&c))
                    .unwrap_or_else(|_| "?".into());
                format!("postgres:{location}")
            }
        }
    }

    /// Opens the store as a source: it must exist and be a Marcus database.
    pub async fn open_source(&self) -> anyhow::Result<Arc<dyn StorageBackend>> {
        Ok(match self {
            Self::Sqlite(path) => Arc::new(SqliteStorage::open_existing(path)?),
            Self::Postgres(url) => Arc::new(PostgresStorage::connect_existing(url).await?),
        })
    }

    /// The backend's name in metrics and reports.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The store an administration command (`marcus token`, `tenant`, `sso`) works on:
    /// `DATABASE_URL`'s when given, else the data directory's (made when missing), opened
    /// with full durability.
    pub async fn open_for_command(
        data_dir: Option<std::path::PathBuf>,
        database_url: Option<&str>,
    ) -> anyhow::Result<Arc<dyn StorageBackend>> {
        let data_dir = crate::data_dir::resolve(data_dir)?;
        std::fs::create_dir_all(&data_dir)?;
        // The command's changes are recorded and checkpointed like a server's: with the
        // data directory's key (made here for its own database, never for a shared one,
        // whose key every host must share).
        let keys = crate::audit::keys::AuditKeys::load(&data_dir, database_url.is_none());
        if let Ok(keys) = keys {
            crate::audit::install(crate::audit::AuditLog {
                keys,
                checkpoint_every: crate::audit::DEFAULT_CHECKPOINT_EVERY,
            });
        }
        Self::from_settings(database_url, &data_dir)
            .open(SyncMode::Full)
            .await
    }

    /// Opens the store, creating its schema when it has none; a SQLite file commits with
    /// `sync`. PostgreSQL must answer now.
    pub async fn open(&self, sync: SyncMode) -> anyhow::Result<Arc<dyn StorageBackend>> {
        Ok(match self {
            Self::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                Arc::new(SqliteStorage::open(path, sync).map_err(|e| {
                    anyhow::anyhow!("opening the SQLite database {}: {e}", path.display())
                })?)
            }
            Self::Postgres(url) => Arc::new(PostgresStorage::connect(url).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_their_defaults() {
        let dir = Path::new("/data");
        assert_eq!(
            StorageChoice::parse("sqlite", dir, None).unwrap(),
            StorageChoice::Sqlite("/data/marcus.db".into())
        );
        assert_eq!(
            StorageChoice::parse("sqlite:/tmp/x.db", dir, None).unwrap(),
            StorageChoice::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            StorageChoice::parse("postgres", dir, Some("postgres://h/db")).unwrap(),
            StorageChoice::Postgres("postgres://h/db".into())
        );
        assert_eq!(
            StorageChoice::parse("postgres:postgresql://h/db", dir, None).unwrap(),
            StorageChoice::Postgres("postgresql://h/db".into())
        );
        assert!(StorageChoice::parse("postgres", dir, None).is_err());
        let mongo = StorageChoice::parse("mongodb://h/db", dir, None).unwrap_err();
        assert!(
            mongo
                .to_string()
                .contains("sqlite[:PATH] or postgres[:URL]")
        );
        assert!(StorageChoice::parse("postgres:mysql://h", dir, None).is_err());
    }
}
