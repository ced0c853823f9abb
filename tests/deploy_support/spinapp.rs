//! The SpinKube operator's `SpinApp` API (core.spinkube.dev/v1alpha1), as far as the suite
//! checks it. No package registry the build machines reach ships the SpinApp CRD or its
//! JSON schema, so the CRD's schema is not applied here: the field names, required fields
//! and value types below follow the operator's API reference, and the parts of a SpinApp
//! that are Kubernetes core types are validated as such inside a Pod (`as_pod`).

use serde_json::{Value, json};

pub const API_VERSION: &str = "core.spinkube.dev/v1alpha1";
pub const KIND: &str = "SpinApp";

/// The fields of `spec`.
const SPEC_FIELDS: &[&str] = &[
    "checks",
    "components",
    "deploymentAnnotations",
    "enableAutoscaling",
    "executor",
    "image",
    "imagePullSecrets",
    "invocationLimits",
    "podAnnotations",
    "podLabels",
    "replicas",
    "resources",
    "runtimeConfig",
    "serviceAccountName",
    "serviceAnnotations",
    "variables",
    "volumeMounts",
    "volumes",
];
/// The fields of `spec` the CRD requires.
const REQUIRED_SPEC_FIELDS: &[&str] = &["executor", "image"];
/// The fields of `spec.runtimeConfig`.
const RUNTIME_CONFIG_FIELDS: &[&str] = &[
    "keyValueStores",
    "llmCompute",
    "loadFromSecret",
    "sqliteDatabases",
];
/// The fields of `spec.checks`, and of each probe in it.
const CHECKS: &[&str] = &["liveness", "readiness"];
const PROBE_FIELDS: &[&str] = &[
    "failureThreshold",
    "httpGet",
    "initialDelaySeconds",
    "periodSeconds",
    "successThreshold",
    "timeoutSeconds",
];
const HTTP_GET_FIELDS: &[&str] = &["httpHeaders", "path"];
/// The fields of a `spec.variables` entry (`name` required).
const VARIABLE_FIELDS: &[&str] = &["name", "value", "valueFrom"];
/// The fields of `spec.resources`.
const RESOURCES_FIELDS: &[&str] = &["limits", "requests"];

fn unknown_fields(object: &Value, known: &[&str], at: &str, problems: &mut Vec<String>) {
    match object.as_object() {
        Some(map) => {
            for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
                problems.push(format!("{at}.{key} is not a field of the SpinApp API"));
            }
        }
        None => problems.push(format!("{at} is not an object")),
    }
}

/// What in `app` the SpinApp API would refuse, or the operator would ignore; empty when
/// nothing.
pub fn problems(app: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if app["apiVersion"] != API_VERSION || app["kind"] != KIND {
        problems.push(format!("not a {API_VERSION} {KIND}"));
    }
    if !app["metadata"]["name"].is_string() {
        problems.push("metadata.name missing".into());
    }
    let spec = &app["spec"];
    unknown_fields(spec, SPEC_FIELDS, "spec", &mut problems);
    for field in REQUIRED_SPEC_FIELDS {
        if spec[field].as_str().is_none_or(str::is_empty) {
            problems.push(format!("spec.{field} is required"));
        }
    }
    if !spec["replicas"].is_null() && !spec["replicas"].is_u64() {
        problems.push("spec.replicas is not a whole number".into());
    }
    // The operator's admission webhook refuses replicas together with autoscaling.
    if spec["enableAutoscaling"] == true && !spec["replicas"].is_null() {
        problems.push("spec.replicas is set while spec.enableAutoscaling is true".into());
    }
    if !spec["runtimeConfig"].is_null() {
        let runtime = &spec["runtimeConfig"];
        unknown_fields(
            runtime,
            RUNTIME_CONFIG_FIELDS,
            "spec.runtimeConfig",
            &mut problems,
        );
        // With loadFromSecret the operator ignores the other runtimeConfig fields.
        let fields = runtime.as_object().map_or(0, |m| m.len());
        if runtime["loadFromSecret"].is_string() && fields > 1 {
            problems.push("spec.runtimeConfig sets fields beside loadFromSecret".into());
        }
    }
    if !spec["checks"].is_null() {
        unknown_fields(&spec["checks"], CHECKS, "spec.checks", &mut problems);
        for check in CHECKS {
            let probe = &spec["checks"][check];
            if probe.is_null() {
                continue;
            }
            let at = format!("spec.checks.{check}");
            unknown_fields(probe, PROBE_FIELDS, &at, &mut problems);
            let get = &probe["httpGet"];
            if !get.is_null() {
                unknown_fields(
                    get,
                    HTTP_GET_FIELDS,
                    &format!("{at}.httpGet"),
                    &mut problems,
                );
                if !get["path"].is_string() {
                    problems.push(format!("{at}.httpGet.path is required"));
                }
            }
        }
    }
    for (i, variable) in spec["variables"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("spec.variables[{i}]");
        unknown_fields(variable, VARIABLE_FIELDS, &at, &mut problems);
        // Spin variable names: lowercase ASCII letters, digits and underscores.
        let name = variable["name"].as_str().unwrap_or("");
        let spin_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !spin_name {
            problems.push(format!("{at}.name {name:?} is not a Spin variable name"));
        }
    }
    if !spec["resources"].is_null() {
        unknown_fields(
            &spec["resources"],
            RESOURCES_FIELDS,
            "spec.resources",
            &mut problems,
        );
    }
    problems
}

/// The parts of `app` that are Kubernetes core types (volumes, volume mounts, resources,
/// image pull secrets, and the variables as the `SPIN_VARIABLE_*` environment variables the
/// operator turns them into) placed in a Pod the way the operator places them in its
/// Deployment, so kubernetes-validate can check them against the core schemas.
pub fn as_pod(app: &Value) -> Value {
    let spec = &app["spec"];
    let env: Vec<Value> = spec["variables"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let mut env = v.clone();
            env["name"] = json!(format!(
                "SPIN_VARIABLE_{}",
                v["name"].as_str().unwrap().to_uppercase()
            ));
            env
        })
        .collect();
    let mut container = json!({
        "name": app["metadata"]["name"],
        "image": spec["image"],
        "env": env,
    });
    for field in ["resources", "volumeMounts"] {
        if !spec[field].is_null() {
            container[field] = spec[field].clone();
        }
    }
    let mut pod_spec = json!({ "containers": [container] });
    for field in ["volumes", "imagePullSecrets", "serviceAccountName"] {
        if !spec[field].is_null() {
            pod_spec[field] = spec[field].clone();
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": app["metadata"]["name"] },
        "spec": pod_spec,
    })
}
