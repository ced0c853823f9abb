//! The Kubernetes manifests in `deploy/k8s`: every object validates against the Kubernetes
//! schemas (PyPI's `kubernetes-validate`, strict mode), and every kustomization names files
//! that exist.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const KUBERNETES_VERSION: &str = "1.30.0";

fn k8s_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/k8s")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn validate(file: &Path) -> std::process::Output {
    Command::new("kubernetes-validate")
        .args(["--strict", "-k", KUBERNETES_VERSION])
        .arg(file)
        .output()
        .expect("running kubernetes-validate")
}

fn validator_available() -> bool {
    let found = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        common::team::skip(
            "Kubernetes manifest validation",
            "kubernetes-validate (pip install kubernetes-validate)",
        );
    }
    found
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas() {
    if !validator_available() {
        return;
    }
    let mut files = Vec::new();
    yaml_files(&k8s_dir(), &mut files);
    // Kustomizations and strategic-merge patches are not whole objects.
    let objects: Vec<&PathBuf> = files
        .iter()
        .filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy();
            name != "kustomization.yaml" && !name.ends_with("-patch.yaml")
        })
        .collect();
    assert!(objects.len() >= 9, "{objects:?}");
    for file in objects {
        let out = validate(file);
        assert!(
            out.status.success(),
            "{}: {}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The validator does reject a broken object.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: two\n",
    )
    .unwrap();
    assert!(!validate(&broken).status.success());
}

#[test]
fn kustomizations_name_files_that_exist_and_the_base_has_the_probes() {
    let mut files = Vec::new();
    yaml_files(&k8s_dir(), &mut files);
    let kustomizations: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.file_name().unwrap() == "kustomization.yaml")
        .collect();
    assert_eq!(kustomizations.len(), 4, "base, solo, team, evaluation");
    for k in kustomizations {
        let text = std::fs::read_to_string(k).unwrap();
        let dir = k.parent().unwrap();
        // Entries under `resources:` and `patches: - path:` are relative paths.
        for line in text.lines().map(str::trim) {
            let rel = line.strip_prefix("- path: ").or_else(|| {
                line.strip_prefix("- ")
                    .filter(|e| e.ends_with(".yaml") || e.starts_with(".."))
            });
            if let Some(rel) = rel {
                assert!(
                    dir.join(rel).exists(),
                    "{} names missing {rel}",
                    k.display()
                );
            }
        }
    }
    let deployment = std::fs::read_to_string(k8s_dir().join("base/deployment.yaml")).unwrap();
    for needle in [
        "path: /healthz",
        "path: /readyz",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
    ] {
        assert!(
            deployment.contains(needle),
            "base deployment lacks {needle}"
        );
    }
}
