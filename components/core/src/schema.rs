//! JSON Schemas for the board's own value rules, so the schemas clients read (MCP
//! `tools/list`, the OpenAPI document) are derived from the types that apply the rules.

use schemars::{Schema, json_schema};

/// A string that is one of `names` (an enum's API names).
pub fn string_enum(names: &[&str]) -> Schema {
    json_schema!({"type": "string", "enum": names})
}

/// Text that is not blank: [`crate::text::is_blank`]'s rule as a `pattern`.
pub fn not_blank() -> Schema {
    json_schema!({"type": "string", "minLength": 1, "pattern": crate::text::not_blank_pattern()})
}

/// A name or id: [`crate::names::check_name`]'s rule.
pub fn name() -> Schema {
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": crate::names::MAX_NAME_LEN,
        "pattern": crate::names::NAME_PATTERN
    })
}

/// Implements `JsonSchema` for a unit enum as a plain string enum of `$names`, the API
/// names its serde attributes give it (derived enum schemas with documented variants
/// become `oneOf` lists, which filters and query parameters cannot use).
#[macro_export]
macro_rules! string_enum_schema {
    ($ty:ty, $names:expr) => {
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $crate::schema::string_enum($names)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::board::graph::NewTask;
    use crate::board::model::TaskStatus;
    use schemars::generate::SchemaSettings;
    use schemars::{JsonSchema, SchemaGenerator};
    use serde_json::json;

    fn inline() -> SchemaGenerator {
        SchemaSettings::draft2020_12()
            .with(|s| s.inline_subschemas = true)
            .into_generator()
    }

    #[test]
    fn a_submitted_task_needs_a_name_and_nothing_unknown() {
        let schema = NewTask::json_schema(&mut inline()).to_value();
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["additionalProperties"], false);
        let priority = &schema["properties"]["priority"];
        assert_eq!(
            priority["enum"],
            json!(["low", "medium", "high", "urgent", null])
        );
        assert_eq!(schema["properties"]["estimated_hours"]["minimum"], 0);
        assert_eq!(
            schema["properties"]["name"]["pattern"],
            crate::text::not_blank_pattern()
        );
    }

    #[test]
    fn statuses_are_a_plain_enum_of_their_api_names() {
        let schema = TaskStatus::json_schema(&mut inline()).to_value();
        assert_eq!(schema, json!({"type": "string", "enum": TaskStatus::NAMES}));
    }
}
