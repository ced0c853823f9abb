//! What a reader of the audit log asks for: `GET /api/audit`'s query and `marcus audit
//! export`'s options, parsed and checked in one place.

use super::entry::Outcome;

/// Most records one page answers.
pub const MAX_LIMIT: u32 = 1000;

/// A filtered, paged read of one tenant's records, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only records at or after this time (ms).
    pub since: Option<u64>,
    /// Only this actor's records (the actor's id).
    pub actor: Option<String>,
    /// Only this action's records.
    pub action: Option<String>,
    /// Only records about this target (`kind/id`).
    pub target: Option<String>,
    /// Only records with this outcome.
    pub outcome: Option<Outcome>,
    /// Only records before this sequence number (the previous page's cursor).
    pub before_seq: Option<u64>,
    /// Page size (1 to [`MAX_LIMIT`]).
    pub limit: u32,
}

impl AuditFilter {
    /// The filter a query string's `(name, value)` pairs ask for; an unknown name or a bad
    /// value is the error, in words for the caller.
    pub fn from_query<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut f = AuditFilter {
            limit: 100,
            ..Default::default()
        };
        let number = |name: &str, v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{name} must be a whole number, not {v:?}"))
        };
        for (name, value) in pairs {
            match name {
                "since" => f.since = Some(number(name, value)?),
                "actor" => f.actor = Some(value.to_string()),
                "action" => f.action = Some(value.to_string()),
                "target" => f.target = Some(value.to_string()),
                "outcome" => f.outcome = Some(Outcome::parse(value)?),
                "cursor" => f.before_seq = Some(number(name, value)?),
                "limit" => {
                    let n = number(name, value)?;
                    if n == 0 || n > MAX_LIMIT as u64 {
                        return Err(format!("limit must be between 1 and {MAX_LIMIT}"));
                    }
                    f.limit = n as u32;
                }
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}: since, actor, action, target, outcome, cursor, limit"
                    ));
                }
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_parsed_or_refused_in_words() {
        let f = AuditFilter::from_query([("since", "5"), ("outcome", "denied"), ("limit", "2")])
            .unwrap();
        assert_eq!(f.since, Some(5));
        assert_eq!(f.outcome, Some(Outcome::Denied));
        assert_eq!(f.limit, 2);
        assert_eq!(AuditFilter::from_query([]).unwrap().limit, 100);
        assert!(AuditFilter::from_query([("limit", "0")]).is_err());
        assert!(AuditFilter::from_query([("since", "x")]).is_err());
        assert!(
            AuditFilter::from_query([("sort", "x")])
                .unwrap_err()
                .contains("unknown")
        );
    }
}
