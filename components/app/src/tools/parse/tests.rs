//! Refusals name the argument by its path, whichever field type refuses.

use super::args;
use crate::board_error::BoardError;
use crate::tools::fields::{Count, Id, Object, StrList, TaskList};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize, JsonSchema)]
struct Inner {
    lease_seconds: Option<Count<1>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Sample {
    agent_id: Id,
    #[serde(default)]
    skills: StrList,
    options: Option<Object<Inner>>,
    tasks: Option<TaskList>,
}

fn refusal(v: Value) -> String {
    let Value::Object(map) = v else {
        unreachable!()
    };
    match args::<Sample>(&map) {
        Err(BoardError::Invalid(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn messages_name_the_argument() {
    assert_eq!(refusal(json!({})), "agent_id is required");
    assert_eq!(refusal(json!({"agent_id": null})), "agent_id is required");
    assert_eq!(refusal(json!({"agent_id": 1})), "agent_id must be a string");
    assert_eq!(
        refusal(json!({"agent_id": "\t"})),
        "agent_id must not be empty"
    );
    assert_eq!(
        refusal(json!({"agent_id": "a", "skills": ["x", 2]})),
        "skills[1] must be a string"
    );
    assert_eq!(
        refusal(json!({"agent_id": "a", "options": {"lease_seconds": 0}})),
        "options.lease_seconds must be a positive integer"
    );
    assert_eq!(
        refusal(json!({"agent_id": "a", "options": []})),
        "options must be an object"
    );
    assert!(
        refusal(json!({"agent_id": "a", "tasks": [{"name": "t"}, {"name": 3}]}))
            .starts_with("tasks[1]: invalid type"),
    );
    // A mistyped argument is named before a missing one.
    assert_eq!(
        refusal(json!({"skills": 5})),
        "skills must be a list of strings"
    );
}

#[test]
fn absent_and_null_optionals_are_the_same() {
    let Value::Object(map) = json!({"agent_id": "a", "skills": null, "options": null}) else {
        unreachable!()
    };
    let sample = args::<Sample>(&map).expect("accepted");
    assert_eq!(sample.agent_id.0, "a");
    assert!(sample.skills.0.is_empty());
    assert!(sample.options.is_none() && sample.tasks.is_none());
    let Value::Object(map) = json!({"agent_id": "a", "skills": "one", "unknown": 1}) else {
        unreachable!()
    };
    assert_eq!(args::<Sample>(&map).unwrap().skills.0, vec!["one"]);
    let Value::Object(map) = json!({"agent_id": "a", "options": {"lease_seconds": 7}}) else {
        unreachable!()
    };
    let options = args::<Sample>(&map).unwrap().options.expect("options");
    assert_eq!(options.0.lease_seconds.map(|s| s.0), Some(7));
}
