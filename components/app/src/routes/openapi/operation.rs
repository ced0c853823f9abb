//! One OpenAPI operation, built up from what its route reads and answers.
//!
//! Every operation carries the answers any request may get whatever the route: the host's
//! browser protections (403), a trap or timeout of the app (500, app-served routes), a
//! refused body (413, 415: routes that take one) and a backend outage (503).

use super::schemas::error_ref;
use marcus_core::names::{MAX_NAME_LEN, NAME_PATTERN};
use marcus_identity::access::Access;
use marcus_identity::route_access;
use serde_json::{Map, Value, json};

/// Who answers a route: the app component, or the native host before the app is involved.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ServedBy {
    /// The app component (every host).
    App,
    /// The native host itself (`/readyz`, `/metrics`, push streams).
    Host,
}

/// An operation under construction.
pub struct Operation {
    /// Lower-case HTTP method.
    pub method: String,
    /// Path template with `{param}` segments.
    pub path: String,
    op: Map<String, Value>,
    served_by: ServedBy,
    has_body: bool,
    uses_backends: bool,
}

/// A path parameter's schema when the route says nothing more: the names rule.
pub fn name_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": NAME_PATTERN})
}

/// The operation field naming who may call it: `public`, `read`, `agent`, `board`, `admin`.
pub const ACCESS_KEY: &str = "x-marcus-access";

impl Operation {
    /// `method path` with a summary and a tag; path parameters follow the names rule
    /// until [`Operation::path_param`] says otherwise.
    pub fn new(method: &str, path: &str, tag: &str, summary: &str) -> Self {
        let mut op = Map::new();
        op.insert("summary".into(), json!(summary));
        op.insert("tags".into(), json!([tag]));
        op.insert("operationId".into(), json!(operation_id(method, path)));
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": name_schema()}))
            .collect();
        op.insert("parameters".into(), Value::Array(params));
        op.insert("responses".into(), json!({}));
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let access = route_access::route_access(&method.to_ascii_uppercase(), &segments);
        op.insert(ACCESS_KEY.into(), json!(route_access::name(access)));
        Self {
            method: method.to_ascii_lowercase(),
            path: path.to_string(),
            op,
            served_by: ServedBy::App,
            has_body: false,
            uses_backends: true,
        }
    }

    /// The access a tool needs, where the operation runs one (the route's own is read).
    pub fn access(mut self, access: Access) -> Self {
        self.op
            .insert(ACCESS_KEY.into(), json!(route_access::name(Some(access))));
        self
    }

    /// Marks a route the native host answers itself.
    pub fn served_by(mut self, by: ServedBy) -> Self {
        self.served_by = by;
        self
    }

    /// Marks a route that reads no storage, cache or realtime backend (no 503).
    pub fn without_backends(mut self) -> Self {
        self.uses_backends = false;
        self
    }

    /// A longer description.
    pub fn description(mut self, text: &str) -> Self {
        self.op.insert("description".into(), json!(text));
        self
    }

    fn params(&mut self) -> &mut Vec<Value> {
        match self.op.get_mut("parameters") {
            Some(Value::Array(p)) => p,
            _ => unreachable!("parameters is set at construction"),
        }
    }

    /// Replaces the schema of path parameter `name`.
    pub fn path_param(mut self, name: &str, schema: Value) -> Self {
        for p in self.params() {
            if p["name"] == name {
                p["schema"] = schema.clone();
            }
        }
        self
    }

    /// An optional query parameter.
    pub fn query(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.params()
            .push(json!({"name": name, "in": "query", "required": false,
            "schema": schema, "description": description}));
        self
    }

    /// A required query parameter.
    pub fn required_query(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.params()
            .push(json!({"name": name, "in": "query", "required": true,
            "schema": schema, "description": description}));
        self
    }

    /// A request header.
    pub fn header(mut self, name: &str, required: bool, schema: Value, description: &str) -> Self {
        self.params()
            .push(json!({"name": name, "in": "header", "required": required,
            "schema": schema, "description": description}));
        self
    }

    /// A JSON request body. An optional object body may also be JSON `null`: the routes read
    /// it as no body at all.
    pub fn json_body(mut self, required: bool, mut schema: Value) -> Self {
        if !required && schema["type"] == "object" {
            schema["type"] = json!(["object", "null"]);
        }
        self.op.insert(
            "requestBody".into(),
            json!({"required": required, "content": {"application/json": {"schema": schema}}}),
        );
        self.has_body = true;
        self
    }

    /// A request body in any of the given media types (the cache takes raw bytes).
    pub fn body_media(mut self, required: bool, media: &[(&str, Value)]) -> Self {
        let content: Map<String, Value> = media
            .iter()
            .map(|(m, schema)| (m.to_string(), json!({"schema": schema})))
            .collect();
        self.op.insert(
            "requestBody".into(),
            json!({"required": required, "content": content}),
        );
        self.has_body = true;
        self
    }

    fn responses(&mut self) -> &mut Map<String, Value> {
        match self.op.get_mut("responses") {
            Some(Value::Object(r)) => r,
            _ => unreachable!("responses is set at construction"),
        }
    }

    /// A JSON answer.
    pub fn answers(mut self, status: u16, description: &str, schema: Value) -> Self {
        self.responses().insert(
            status.to_string(),
            json!({"description": description, "content": {"application/json": {"schema": schema}}}),
        );
        self
    }

    /// An answer in other media types (`(media type, schema)` pairs; none for no body).
    pub fn answers_media(
        mut self,
        status: u16,
        description: &str,
        media: &[(&str, Value)],
    ) -> Self {
        let mut response = json!({"description": description});
        if !media.is_empty() {
            let content: Map<String, Value> = media
                .iter()
                .map(|(m, s)| (m.to_string(), json!({"schema": s})))
                .collect();
            response["content"] = Value::Object(content);
        }
        self.responses().insert(status.to_string(), response);
        self
    }

    /// An error answer with the codes it carries.
    pub fn fails(mut self, status: u16, codes: &[&str]) -> Self {
        let listed = format!("`{}`", codes.join("`, `"));
        let error = json!({"application/json": {"schema": error_ref()}});
        match self.responses().get_mut(&status.to_string()) {
            // Another answer with this status: its codes are added, its body stays described.
            Some(existing) => {
                let d = existing["description"].as_str().unwrap_or("").to_string();
                existing["description"] = json!(format!("{d}, {listed}"));
                if existing.get("content").is_none() {
                    existing["content"] = error;
                }
            }
            None => {
                let description = format!("{} ({listed})", reason(status));
                self.responses().insert(
                    status.to_string(),
                    json!({"description": description, "content": error}),
                );
            }
        }
        self
    }

    /// The finished operation, with the answers every request may get added.
    pub fn build(mut self) -> Value {
        if self.op.get(ACCESS_KEY).and_then(Value::as_str) != Some("public") {
            self = self
                .fails(401, &["unauthorized"])
                .fails(403, &["forbidden"]);
        }
        self = self.fails(403, &["origin_not_allowed", "host_not_allowed"]);
        self = self.fails(405, &["method_not_allowed"]);
        // Request budgets apply to every route (the local admin of a loopback server has none).
        self = self.fails(429, &["rate_limited"]);
        if self.has_body {
            self = self
                .fails(413, &["payload_too_large"])
                .fails(415, &["unsupported_media_type"]);
        }
        if self.served_by == ServedBy::App {
            self = self.fails(500, &["internal", "guest_trap", "guest_timeout"]);
        }
        if self.uses_backends {
            self = self.fails(503, &["unavailable"]);
        }
        Value::Object(self.op)
    }
}

/// `get_api_projects_project_id`: unique per method and path.
fn operation_id(method: &str, path: &str) -> String {
    let tail: String = path
        .trim_start_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let tail = tail
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if tail.is_empty() {
        format!("{}_root", method.to_ascii_lowercase())
    } else {
        format!("{}_{tail}", method.to_ascii_lowercase())
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        403 => "Forbidden",
        404 => "Not found",
        405 => {
            "Method not allowed on this path (for another method than this one; `Allow` lists the path's methods)"
        }
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        429 => "Too many requests (`Retry-After` says when to retry)",
        500 => "Internal error",
        503 => "Unavailable",
        _ => "Error",
    }
}
