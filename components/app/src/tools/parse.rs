//! Reads a call's JSON arguments into its typed arguments, refusing with messages that name
//! the argument: a required one that is absent or `null` is "`x` is required", and a field
//! type's refusal ([`super::fields`], written with the [`FIELD`] placeholder) gets the
//! argument's path put in (`skills[1] must be a string`, `options.lease_seconds ...`).

#[cfg(test)]
mod tests;

use crate::board_error::BoardError;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Stands for the argument's name in a field type's refusal; [`args`] and [`nested`] put
/// the argument's path there.
pub const FIELD: &str = "\u{0}field\u{0}";

/// The typed arguments of a call, or `invalid` naming what is wrong.
pub fn args<T: DeserializeOwned + JsonSchema>(args: &Map<String, Value>) -> Result<T, BoardError> {
    read::<T>(args).map_err(|m| BoardError::invalid(m.replacen(FIELD, "", 1)))
}

/// A nested object of arguments; a refusal keeps the placeholder in front of this object's
/// own path, for the outer argument's name to go there.
pub fn nested<T: DeserializeOwned + JsonSchema>(object: &Map<String, Value>) -> Result<T, String> {
    read::<T>(object).map_err(|m| match m.strip_prefix(FIELD) {
        Some(inner) => format!("{FIELD}.{inner}"),
        None => m,
    })
}

/// Reads `T`; a refusal about a field comes back as [`FIELD`] followed by the field's path
/// and the rest of the message, any other refusal as it was. Given arguments are checked
/// first (a mistyped one is named even when another is missing), then the required ones.
fn read<T: DeserializeOwned + JsonSchema>(object: &Map<String, Value>) -> Result<T, String> {
    let error = match serde_path_to_error::deserialize(Value::Object(object.clone())) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let path = error.path().to_string();
    let message = error.into_inner().to_string();
    if let Some(rest) = message.strip_prefix(FIELD) {
        return Err(format!("{FIELD}{path}{rest}"));
    }
    let schema = super::schema::input::<T>();
    for name in schema["required"].as_array().into_iter().flatten() {
        let Some(name) = name.as_str() else { continue };
        if matches!(object.get(name), None | Some(Value::Null)) {
            return Err(format!("{FIELD}{name} is required"));
        }
    }
    Err(message)
}
