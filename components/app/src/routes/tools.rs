//! `POST /api/tools/{name}`: every board operation for scripts, with the tool's arguments
//! as the JSON body and its result as the answer.

use crate::allowed_methods::method_not_allowed;
use crate::http_io::{Request, Response};
use crate::tools::{ToolCtx, find, registry};
use marcus_core::api_error::ApiError;
use serde_json::{Value, json};

/// `GET /api/tools` lists the tools (with the access each needs: read, agent, board or
/// admin); `POST /api/tools/{name}` runs one.
pub fn handle(req: &Request, name: Option<&str>) -> Result<Response, ApiError> {
    match (req.method.as_str(), name) {
        ("GET", None) => {
            let tools: Vec<Value> = registry()
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "access": t.access.as_str(), "input_schema": (t.input_schema)()}))
                .collect();
            Ok(Response::json(200, &json!({"tools": tools})))
        }
        (m, None) => Err(method_not_allowed(m, &["GET"])),
        ("POST", Some(name)) => {
            let tool =
                find(name).ok_or_else(|| ApiError::not_found(format!("unknown tool: {name}")))?;
            let args = match req.json()? {
                Value::Null => Default::default(),
                Value::Object(m) => m,
                _ => {
                    return Err(ApiError::bad_request(
                        "the body must be a JSON object of tool arguments",
                    ));
                }
            };
            let result = crate::tools::call(tool, &ToolCtx::default(), &args)?;
            Ok(Response::json(200, &result))
        }
        (m, Some(_)) => Err(method_not_allowed(m, &["POST"])),
    }
}
