//! A task as submitted for creation: lenient about the shapes agents and people send
//! (missing fields, `null`, a single string for a list, any case for the priority), so
//! that validation errors are about the plan, not about JSON details.

use serde::{Deserialize, Deserializer, de::Error as _};

use super::model::Priority;

/// One task to create; dependencies name other tasks by id or by name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct NewTask {
    /// Short name, unique within the project (other tasks refer to it).
    #[serde(deserialize_with = "string_or_null")]
    pub name: String,
    /// What to do.
    #[serde(deserialize_with = "string_or_null")]
    pub description: String,
    /// low, medium (default), high or urgent, in any case.
    #[serde(deserialize_with = "priority_lenient")]
    pub priority: Priority,
    /// Labels matched against agent skills.
    #[serde(deserialize_with = "list_lenient")]
    pub labels: Vec<String>,
    /// Tasks that must be done first: ids of existing tasks or names of existing tasks
    /// or of tasks in the same batch.
    #[serde(deserialize_with = "list_lenient")]
    pub dependencies: Vec<String>,
    /// Estimate in hours (0 when unknown).
    #[serde(deserialize_with = "hours_lenient")]
    pub estimated_hours: f64,
    /// Conditions for done.
    #[serde(deserialize_with = "list_lenient")]
    pub acceptance_criteria: Vec<String>,
}

/// Parses a priority name case-insensitively; `None` for anything but the four levels.
pub fn parse_priority(text: &str) -> Option<Priority> {
    match text.trim().to_ascii_lowercase().as_str() {
        "low" => Some(Priority::Low),
        "medium" => Some(Priority::Medium),
        "high" => Some(Priority::High),
        "urgent" => Some(Priority::Urgent),
        _ => None,
    }
}

fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn priority_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(Priority::default()),
        Some(text) if text.trim().is_empty() => Ok(Priority::default()),
        Some(text) => parse_priority(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown priority {text:?}; expected low, medium, high or urgent"
            ))
        }),
    }
}

fn hours_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn list_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<NewTask, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn missing_fields_take_defaults() {
        let t = parse(json!({"name": "A"})).unwrap();
        assert_eq!(t.name, "A");
        assert_eq!(t.priority, Priority::Medium);
        assert!(t.labels.is_empty() && t.dependencies.is_empty());
        assert_eq!(t.estimated_hours, 0.0);
    }

    #[test]
    fn accepts_all_priorities_in_any_case() {
        for (text, p) in [
            ("low", Priority::Low),
            ("Medium", Priority::Medium),
            ("HIGH", Priority::High),
            ("urgent", Priority::Urgent),
        ] {
            assert_eq!(parse(json!({"priority": text})).unwrap().priority, p);
        }
        assert_eq!(
            parse(json!({"priority": null})).unwrap().priority,
            Priority::Medium
        );
    }

    #[test]
    fn rejects_unknown_priority_with_the_accepted_values() {
        let e = parse(json!({"priority": "asap"})).unwrap_err().to_string();
        assert!(e.contains("asap") && e.contains("low, medium, high or urgent"));
    }

    #[test]
    fn nulls_and_single_strings_are_accepted() {
        let t = parse(json!({
            "name": "B", "description": null, "labels": "backend",
            "dependencies": null, "estimated_hours": null, "acceptance_criteria": ["x"]
        }))
        .unwrap();
        assert_eq!(t.description, "");
        assert_eq!(t.labels, vec!["backend"]);
        assert!(t.dependencies.is_empty());
        assert_eq!(t.acceptance_criteria, vec!["x"]);
    }
}
