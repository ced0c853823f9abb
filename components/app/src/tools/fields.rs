//! The types tool arguments are made of. Each one reads a JSON value by the rule the board
//! applies to it, refusing with a message that names the argument, and states that rule as
//! its JSON Schema, so what `tools/list` and the OpenAPI document publish is what is read.
//!
//! Optional arguments are `Option<T>` (absent and `null` are the same); a required one that
//! is absent or `null` is refused before these types see it ([`super::parse`]).

use marcus_core::board::graph::NewTask;
use marcus_core::board::model::TaskStatus;
use marcus_core::text::is_blank;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

use super::parse::FIELD;

/// Most tasks accepted in one call.
pub const MAX_TASKS_PER_CALL: usize = 5000;

/// A refusal about the argument being read: `rest` follows its name.
fn refusal(rest: &str) -> String {
    format!("{FIELD}{rest}")
}

/// A value read from JSON by a rule of its own.
trait FromArg: Sized {
    /// The value, or the refusal (from [`refusal`], or complete).
    fn from_arg(value: Value) -> Result<Self, String>;
}

/// `Deserialize` through [`FromArg`] and `JsonSchema` from a function, for a field type.
macro_rules! field_type {
    ([$($generics:tt)*] $ty:ty, $name:literal, |$generator:ident| $schema:expr) => {
        impl<'de, $($generics)*> Deserialize<'de> for $ty
        where
            Self: FromArg,
        {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::from_arg(Value::deserialize(d)?).map_err(D::Error::custom)
            }
        }

        impl<$($generics)*> JsonSchema for $ty
        where
            Self: FromArg,
        {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema($generator: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

fn string(value: Value, blank_ok: bool) -> Result<String, String> {
    match value {
        Value::String(s) if blank_ok || !is_blank(&s) => Ok(s),
        Value::String(_) => Err(refusal(" must not be empty")),
        Value::Null => Err(refusal(" is required")),
        _ => Err(refusal(" must be a string")),
    }
}

/// The id of an agent, task, project or blocker, not blank. Its schema states the names
/// rule; an id outside it names no record, so a lookup answers that it does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Id(pub String);

impl FromArg for Id {
    fn from_arg(value: Value) -> Result<Self, String> {
        string(value, false).map(Self)
    }
}
field_type!([] Id, "Id", |_g| marcus_core::schema::name());

/// An optional id: any string (an empty one names nothing); the schema states the names
/// rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdRef(pub String);

impl FromArg for IdRef {
    fn from_arg(value: Value) -> Result<Self, String> {
        string(value, true).map(Self)
    }
}
field_type!([] IdRef, "IdRef", |_g| marcus_core::schema::name());

/// Free text that is not blank (names, decisions, descriptions of blockers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text(pub String);

impl FromArg for Text {
    fn from_arg(value: Value) -> Result<Self, String> {
        string(value, false).map(Self)
    }
}
field_type!([] Text, "Text", |_g| marcus_core::schema::not_blank());

/// Any string, blank included (messages, artifact content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Str(pub String);

impl FromArg for Str {
    fn from_arg(value: Value) -> Result<Self, String> {
        string(value, true).map(Self)
    }
}
field_type!([] Str, "Str", |_g| json_schema!({"type": "string"}));

/// A list of strings; one string is a list of one, and absent or `null` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrList(pub Vec<String>);

impl FromArg for StrList {
    fn from_arg(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(Self::default()),
            Value::String(s) => Ok(Self(vec![s])),
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(refusal(&format!("[{i}] must be a string"))),
                })
                .collect::<Result<_, _>>()
                .map(Self),
            _ => Err(refusal(" must be a list of strings")),
        }
    }
}
field_type!([] StrList, "StrList", |_g| json_schema!({"anyOf": [
    {"type": "string"},
    {"type": "array", "items": {"type": "string"}},
    {"type": "null"}
]}));

/// A whole number of at least `MIN` that fits 64 bits (lease tokens, lease lengths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MIN: u64>(pub u64);

impl<const MIN: u64> FromArg for Count<MIN> {
    fn from_arg(value: Value) -> Result<Self, String> {
        match value.as_u64() {
            Some(n) if n >= MIN => Ok(Self(n)),
            _ if MIN == 0 => Err(refusal(" must be a non-negative integer")),
            _ => Err(refusal(" must be a positive integer")),
        }
    }
}
field_type!([const MIN: u64] Count<MIN>, "Count", |_g| json_schema!({
    "type": "integer", "minimum": MIN, "maximum": u64::MAX
}));

/// A percentage from 0 to 100, rounded to a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub u8);

impl FromArg for Percent {
    fn from_arg(value: Value) -> Result<Self, String> {
        match value.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Ok(Self(p.round() as u8)),
            _ => Err(refusal(" must be a number from 0 to 100")),
        }
    }
}
field_type!([] Percent, "Percent", |_g| json_schema!({
    "type": "number", "minimum": 0, "maximum": 100
}));

/// How long a call may wait for something to happen, from 0 to 60 seconds (fractions
/// allowed), held as milliseconds: long enough to save an agent dozens of polls, short
/// enough that a lost connection is noticed within a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSeconds(pub u32);

impl FromArg for WaitSeconds {
    fn from_arg(value: Value) -> Result<Self, String> {
        let most = f64::from(marcus_core::realtime_limits::MAX_WAIT_MS) / 1000.0;
        match value.as_f64() {
            Some(s) if (0.0..=most).contains(&s) => Ok(Self((s * 1000.0).round() as u32)),
            _ => Err(refusal(&format!(
                " must be a number of seconds from 0 to {most}"
            ))),
        }
    }
}
field_type!([] WaitSeconds, "WaitSeconds", |_g| json_schema!({
    "type": "number", "minimum": 0, "maximum": marcus_core::realtime_limits::MAX_WAIT_MS / 1000
}));

/// A nested object of arguments of type `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<T>(pub T);

impl<T: DeserializeOwned + JsonSchema> FromArg for Object<T> {
    fn from_arg(value: Value) -> Result<Self, String> {
        match value {
            Value::Object(map) => super::parse::nested(&map).map(Self),
            _ => Err(refusal(" must be an object")),
        }
    }
}
field_type!([T: DeserializeOwned + JsonSchema] Object<T>, "Object", |g| T::json_schema(g));

/// Tasks to create, at most [`MAX_TASKS_PER_CALL`]; each is read by the core's rules for a
/// submitted task (unknown fields refused, priority in any case).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskList(pub Vec<NewTask>);

impl FromArg for TaskList {
    fn from_arg(value: Value) -> Result<Self, String> {
        let items = match value {
            Value::Null => return Ok(Self::default()),
            Value::Array(items) => items,
            _ => return Err(refusal(" must be a list of task objects")),
        };
        if items.len() > MAX_TASKS_PER_CALL {
            return Err(format!(
                "at most {MAX_TASKS_PER_CALL} tasks per call, got {}",
                items.len()
            ));
        }
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value::<NewTask>(item).map_err(|e| refusal(&format!("[{i}]: {e}")))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}
field_type!([] TaskList, "TaskList", |g| json_schema!({
    "type": "array",
    "maxItems": MAX_TASKS_PER_CALL,
    "items": g.subschema_for::<NewTask>()
}));

/// A closed set of names an argument takes, each read into a value.
pub trait Choice: Sized {
    /// The names, as the schema lists them.
    const NAMES: &'static [&'static str];
    /// The value a name stands for.
    fn from_name(name: &str) -> Option<Self>;
    /// Why `got` is refused (after the argument's name).
    fn refused(got: &str) -> String;
}

/// One of `C`'s names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick<C>(pub C);

impl<C: Choice> FromArg for Pick<C> {
    fn from_arg(value: Value) -> Result<Self, String> {
        let name = string(value, true)?;
        C::from_name(&name)
            .map(Self)
            .ok_or_else(|| refusal(&C::refused(&name)))
    }
}
field_type!([C: Choice] Pick<C>, "Pick", |_g| marcus_core::schema::string_enum(C::NAMES));

/// What a progress report says about the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStatus {
    /// Still working: renews the lease.
    InProgress,
    /// Finished: completes the task.
    Completed,
    /// Stopped by a blocker: reports one.
    Blocked,
}

impl ProgressStatus {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl Choice for ProgressStatus {
    const NAMES: &'static [&'static str] = &["in_progress", "completed", "blocked"];
    fn from_name(name: &str) -> Option<Self> {
        [Self::InProgress, Self::Completed, Self::Blocked]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
    fn refused(got: &str) -> String {
        if is_blank(got) {
            " must not be empty".into()
        } else {
            format!(" must be in_progress, completed or blocked, got {got:?}")
        }
    }
}

/// How badly a blocker stops its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// Work can go on around it.
    Low,
    /// The default.
    #[default]
    Medium,
    /// Nothing moves until it is resolved.
    High,
}

impl Severity {
    /// The API name, as stored on the blocker.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl Choice for Severity {
    const NAMES: &'static [&'static str] = &["low", "medium", "high"];
    fn from_name(name: &str) -> Option<Self> {
        [Self::Low, Self::Medium, Self::High]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
    fn refused(got: &str) -> String {
        format!(" must be low, medium or high, got {got:?}")
    }
}

impl Choice for TaskStatus {
    const NAMES: &'static [&'static str] = TaskStatus::NAMES;
    fn from_name(name: &str) -> Option<Self> {
        serde_json::from_value(Value::String(name.to_string())).ok()
    }
    fn refused(got: &str) -> String {
        format!(
            " must be one of {}, got {got:?}",
            TaskStatus::NAMES.join(", ")
        )
    }
}
