//! A statement as data: its SQL text and its parameters in order. Each dialect module builds
//! every statement of the storage contract once, so the native host's drivers, the Spin
//! adapter's bindings and the benchmark run the same text and only convert the values.

/// A bound parameter, converted by each driver to its own value type.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// INTEGER (SQLite) or BIGINT (PostgreSQL).
    Integer(i64),
    /// REAL (SQLite only: PostgreSQL filters compare JSON text).
    Real(f64),
    /// TEXT.
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<u64> for SqlValue {
    /// Versions, timestamps and limits: far below `i64::MAX`, stored as signed integers.
    fn from(n: u64) -> Self {
        Self::Integer(n as i64)
    }
}

impl From<i64> for SqlValue {
    fn from(n: i64) -> Self {
        Self::Integer(n)
    }
}

/// One SQL statement with its parameters, ready for a driver to convert and run.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text, with the dialect's placeholders (`?` for SQLite, `$n` for PostgreSQL).
    pub sql: String,
    /// The parameters, in placeholder order.
    pub params: Vec<SqlValue>,
}

impl Statement {
    /// A statement from its text and parameters.
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }

    /// A statement without parameters.
    pub fn plain(sql: impl Into<String>) -> Self {
        Self::new(sql, Vec::new())
    }
}
