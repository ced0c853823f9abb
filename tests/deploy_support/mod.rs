//! Support for the deploy suite: the tools it drives (kubernetes-validate, kubectl's
//! kustomize) and reading the manifests as data.

pub mod spinapp;

use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes version the manifests are validated against.
pub const KUBERNETES_VERSION: &str = "1.30.0";

/// `deploy/` at the repository root.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// The folders holding Kubernetes manifests: the native host's and the SpinKube one.
pub fn manifest_dirs() -> [PathBuf; 2] {
    [deploy_dir().join("k8s"), deploy_dir().join("spinkube")]
}

/// Every `.yaml` file under `dir`, recursively.
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// The documents of a (multi-document) YAML text as JSON values, empty documents dropped,
/// so the checks can walk the objects the way the API server sees them.
pub fn documents(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("parsing YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// The documents of a YAML file.
pub fn file_documents(path: &Path) -> Vec<Value> {
    documents(&std::fs::read_to_string(path).unwrap())
}

/// `kind/name` as kubernetes-validate reports a resource it checked.
pub fn resource_id(object: &Value) -> String {
    format!(
        "{}/{}",
        object["kind"].as_str().unwrap().to_lowercase(),
        object["metadata"]["name"].as_str().unwrap()
    )
}

/// Runs kubernetes-validate in strict mode (unknown fields are errors) on one file, which
/// may hold several documents.
pub fn validate(file: &Path) -> std::process::Output {
    Command::new("kubernetes-validate")
        .args(["--strict", "-k", KUBERNETES_VERSION])
        .arg(file)
        .output()
        .expect("running kubernetes-validate")
}

/// Validates `file` and checks that every object in `objects` was reported as passed: a
/// kind kubernetes-validate has no schema for only draws a warning, and that must not count
/// as validated.
pub fn assert_valid(file: &Path, objects: &[&Value]) {
    let out = validate(file);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{}: {report}", file.display());
    for object in objects {
        let id = resource_id(object);
        assert!(
            report.contains(&format!("passed for resource {id} ")),
            "{}: {id} was not validated: {report}",
            file.display()
        );
    }
}

/// Whether kubernetes-validate is installed; reports the skip (a failure under CI) if not.
pub fn validator_available() -> bool {
    let found = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        crate::common::team::skip(
            "Kubernetes manifest validation",
            "kubernetes-validate (pip install kubernetes-validate)",
        );
    }
    found
}

/// Whether kubectl is installed; reports the skip (a failure under CI) if not.
pub fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        crate::common::team::skip(
            "Kustomize rendering",
            "kubectl (apt-get install kubernetes-client)",
        );
    }
    found
}

/// What `kubectl kustomize dir` renders: the objects `kubectl apply -k dir` would send.
/// kubectl's built-in kustomize is used rather than a standalone binary because Debian
/// ships it (kubernetes-client), and the kustomizations are written for old and new ones.
pub fn render(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("running kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The one object of `kind` (and `name`, when given) among `objects`.
pub fn find<'a>(objects: &'a [Value], kind: &str, name: Option<&str>) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == kind && name.is_none_or(|n| o["metadata"]["name"] == n))
        .collect();
    assert_eq!(found.len(), 1, "one {kind} {name:?} expected");
    found[0]
}

/// A Secret's value for `key`, from `stringData` or base64 `data`.
pub fn secret_value(secret: &Value, key: &str) -> Option<String> {
    if let Some(text) = secret["stringData"][key].as_str() {
        return Some(text.to_string());
    }
    use base64::Engine;
    let encoded = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("Secret data is base64");
    Some(String::from_utf8(bytes).expect("Secret data is UTF-8"))
}

/// The `host:port` of a `scheme://[user[:password]@]host:port[/path]` URL.
pub fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap()
}
