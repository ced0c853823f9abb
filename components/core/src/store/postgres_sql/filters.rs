//! Equality filters and field indexes as PostgreSQL SQL, plus the schema: one copy for the
//! native host's backend and the Spin adapter's.

use super::StoreError;
use super::rules::check_field;

/// The statements that create the schema (each runs as its own statement).
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS documents (
        collection TEXT COLLATE \"C\" NOT NULL,
        id TEXT COLLATE \"C\" NOT NULL,
        data JSONB NOT NULL,
        version BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (collection, id)
    )",
    "CREATE INDEX IF NOT EXISTS documents_data ON documents USING GIN (data jsonb_path_ops)",
];

/// SQL condition and text parameters for `(field, JSON value)` filters, numbered from
/// `$first`. `data @> {...}` lets the GIN index find candidates; `data -> field = value`
/// makes it exact equality (containment alone would let `[1]` match `[1, 2]`).
pub fn filter_sql(
    filters: &[(&str, &str)],
    first: usize,
) -> Result<(String, Vec<String>), StoreError> {
    if filters.is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    let mut containment = serde_json::Map::new();
    let mut sql = String::new();
    let mut params = Vec::new();
    for (field, json) in filters {
        check_field(field)?;
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            StoreError::Invalid(format!("filter value for {field} is not JSON: {e}"))
        })?;
        params.push(value.to_string());
        sql.push_str(&format!(
            " AND data -> '{field}' = ${}::text::jsonb",
            first + params.len() - 1
        ));
        containment.insert(field.to_string(), value);
    }
    params.push(serde_json::Value::Object(containment).to_string());
    sql.push_str(&format!(
        " AND data @> ${}::text::jsonb",
        first + params.len() - 1
    ));
    Ok((sql, params))
}

/// `documents_by_<fields>`, within PostgreSQL's 63-byte identifier limit (long combinations
/// end in a hash of the full list instead).
pub fn index_name(fields: &[&str]) -> String {
    let plain: String = format!("documents_by_{}", fields.join("__"))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if plain.len() <= 63 {
        return plain;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in fields.join(",").bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{}_{h:016x}", &plain[..63 - 17])
}

/// The B-tree expression index on (collection, each field, id) that serves an equality
/// query on exactly these fields; `None` without fields or with an unsafe one.
pub fn field_index(fields: &[&str]) -> Option<String> {
    if fields.is_empty() || fields.iter().any(|f| check_field(f).is_err()) {
        return None;
    }
    let columns: Vec<String> = fields.iter().map(|f| format!("(data -> '{f}')")).collect();
    Some(format!(
        "CREATE INDEX IF NOT EXISTS {} ON documents (collection, {}, id)",
        index_name(fields),
        columns.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_exact_and_use_containment() {
        let (sql, params) = filter_sql(&[("status", "\"todo\""), ("n", "3")], 3).unwrap();
        assert_eq!(
            sql,
            " AND data -> 'status' = $3::text::jsonb AND data -> 'n' = $4::text::jsonb AND data @> $5::text::jsonb"
        );
        assert_eq!(params, vec!["\"todo\"", "3", r#"{"n":3,"status":"todo"}"#]);
        assert!(filter_sql(&[("a' OR '1", "1")], 1).is_err());
    }

    #[test]
    fn index_names_fit_postgres_identifiers() {
        assert_eq!(
            index_name(&["project_id", "status"]),
            "documents_by_project_id__status"
        );
        assert_eq!(index_name(&["a-b"]), "documents_by_a_b");
        let long = index_name(&[
            "a_really_long_field_name",
            "another_long_field",
            "third_one",
        ]);
        assert_eq!(long.len(), 63);
        assert_ne!(
            long,
            index_name(&[
                "a_really_long_field_name",
                "another_long_field",
                "third_two"
            ])
        );
        assert!(
            field_index(&["status"])
                .unwrap()
                .contains("(collection, (data -> 'status'), id)")
        );
    }
}
