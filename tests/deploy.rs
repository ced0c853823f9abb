//! The Kubernetes manifests in `deploy/k8s` (the native host) and `deploy/spinkube` (the
//! Spin build on SpinKube): every object validates against the Kubernetes schemas (PyPI's
//! `kubernetes-validate`, strict mode), every kustomization renders with `kubectl kustomize`
//! and its output validates too, and the SpinApp fits the SpinApp API, reads Secrets that
//! exist and a Spin runtime configuration that sets up the stores spin.toml uses.
//!
//! The SpinApp is not validated against the SpinKube CRD's schema: no package registry the
//! build machines reach ships that CRD (see `deploy_support::spinapp`).

mod common;
mod deploy_support;

use deploy_support::{
    assert_valid, deploy_dir, documents, file_documents, find, host_port, kubectl_available,
    manifest_dirs, render, secret_value, spinapp, validate, validator_available, yaml_files,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The route the app component answers for probes (`/readyz` is the native host's only).
const APP_HEALTH_PATH: &str = "/healthz";

fn all_yaml_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in manifest_dirs() {
        yaml_files(&dir, &mut files);
    }
    files
}

/// The SpinApp in `deploy/spinkube` and the other objects beside it, read from the files.
fn spinkube_objects() -> (Value, Vec<Value>) {
    let mut objects = Vec::new();
    for file in all_yaml_files() {
        if file.parent().unwrap().ends_with("spinkube")
            && file.file_name().unwrap() != "kustomization.yaml"
        {
            objects.extend(file_documents(&file));
        }
    }
    let app = find(&objects, spinapp::KIND, None).clone();
    (app, objects)
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas() {
    if !validator_available() {
        return;
    }
    // Kustomizations and strategic-merge patches are not whole objects; the SpinApp has no
    // Kubernetes schema (the SpinApp tests below check it).
    let mut checked = 0;
    for file in all_yaml_files() {
        let name = file.file_name().unwrap().to_string_lossy();
        if name == "kustomization.yaml" || name.ends_with("-patch.yaml") {
            continue;
        }
        let objects = file_documents(&file);
        if objects.iter().any(|o| o["kind"] == spinapp::KIND) {
            continue;
        }
        assert_valid(&file, &objects.iter().collect::<Vec<_>>());
        checked += objects.len();
    }
    assert!(checked >= 11, "{checked} objects");

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
    let kustomizations: Vec<PathBuf> = all_yaml_files()
        .into_iter()
        .filter(|f| f.file_name().unwrap() == "kustomization.yaml")
        .collect();
    assert_eq!(
        kustomizations.len(),
        5,
        "base, solo, team, evaluation, spinkube"
    );
    for k in &kustomizations {
        let text = std::fs::read_to_string(k).unwrap();
        let dir = k.parent().unwrap();
        // Entries under `resources:`, `bases:` and `patchesStrategicMerge:` are relative paths.
        for line in text.lines().map(str::trim) {
            let rel = line
                .strip_prefix("- ")
                .filter(|e| e.ends_with(".yaml") || e.starts_with(".."));
            if let Some(rel) = rel {
                assert!(
                    dir.join(rel).exists(),
                    "{} names missing {rel}",
                    k.display()
                );
            }
        }
    }
    let deployment =
        std::fs::read_to_string(deploy_dir().join("k8s/base/deployment.yaml")).unwrap();
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

/// The container named `marcus` in a rendered Deployment.
fn marcus_container(deployment: &Value) -> &Value {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "marcus")
        .expect("a container named marcus")
}

#[test]
fn every_kustomization_renders_and_what_it_renders_validates() {
    if !kubectl_available() || !validator_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rendered = std::collections::HashMap::new();
    for kustomization in [
        "k8s/base",
        "k8s/overlays/solo",
        "k8s/overlays/team",
        "k8s/evaluation",
        "spinkube",
    ] {
        let text = render(&deploy_dir().join(kustomization));
        let objects = documents(&text);
        assert!(!objects.is_empty(), "{kustomization} renders nothing");
        let file = dir
            .path()
            .join(format!("{}.yaml", kustomization.replace('/', "_")));
        std::fs::write(&file, &text).unwrap();
        let core: Vec<&Value> = objects
            .iter()
            .filter(|o| o["kind"] != spinapp::KIND)
            .collect();
        assert_valid(&file, &core);
        rendered.insert(kustomization, objects);
    }

    // Every tier's Deployment probes liveness and readiness on the host's routes.
    for tier in ["k8s/base", "k8s/overlays/solo", "k8s/overlays/team"] {
        let deployment = find(&rendered[tier], "Deployment", Some("marcus"));
        let container = marcus_container(deployment);
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"], "/healthz",
            "{tier}"
        );
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"], "/readyz",
            "{tier}"
        );
        assert_eq!(
            deployment["metadata"]["labels"]["app.kubernetes.io/name"], "marcus",
            "{tier}"
        );
    }

    // Team: DATABASE_URL and REDIS_URL reach the container from the Secret, and the
    // autoscaler drives the Deployment.
    let team = &rendered["k8s/overlays/team"];
    let container = marcus_container(find(team, "Deployment", Some("marcus")));
    let from_secret: Vec<&str> = container["envFrom"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["secretRef"]["name"].as_str())
        .collect();
    assert_eq!(from_secret, ["marcus-backends"]);
    let secret = find(team, "Secret", Some("marcus-backends"));
    for key in ["DATABASE_URL", "REDIS_URL"] {
        assert!(
            secret_value(secret, key).is_some(),
            "marcus-backends lacks {key}"
        );
    }
    assert!(
        container["envFrom"]
            .as_array()
            .unwrap()
            .contains(&json!({"configMapRef": {"name": "marcus-config"}})),
        "the team patch dropped the ConfigMap"
    );
    let hpa = find(team, "HorizontalPodAutoscaler", Some("marcus"));
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "marcus");

    // Solo: one pod, replaced (not rolled) so SQLite never has two writers, data on the claim.
    let solo = &rendered["k8s/overlays/solo"];
    let deployment = find(solo, "Deployment", Some("marcus"));
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let claim = find(solo, "PersistentVolumeClaim", None)["metadata"]["name"].clone();
    assert!(
        deployment["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "data" && v["persistentVolumeClaim"]["claimName"] == claim),
        "solo data volume is not the claim"
    );

    // SpinKube: the SpinApp and the two Secrets it reads.
    let spinkube = &rendered["spinkube"];
    let app = find(spinkube, spinapp::KIND, Some("marcus"));
    assert_eq!(spinapp::problems(app), Vec::<String>::new());
    find(spinkube, "Secret", Some("marcus-spin-runtime-config"));
    find(spinkube, "Secret", Some("marcus-spin-backends"));
}

#[test]
fn the_spinapp_fits_the_spinapp_api_and_reads_secrets_that_exist() {
    let (app, objects) = spinkube_objects();
    assert_eq!(spinapp::problems(&app), Vec::<String>::new());
    let spec = &app["spec"];
    assert_eq!(spec["executor"], "containerd-shim-spin");
    assert!(
        spec["image"].as_str().unwrap().contains(':'),
        "image without a tag"
    );

    // Runtime configuration: a Secret beside it with the key the operator mounts.
    let secret_name = spec["runtimeConfig"]["loadFromSecret"].as_str().unwrap();
    let secret = find(&objects, "Secret", Some(secret_name));
    assert!(secret_value(secret, "runtime-config.toml").is_some());

    // Variables: exactly spin.toml's, each from a value or a Secret key that exists.
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(deploy_dir().join("../spin.toml")).unwrap())
            .unwrap();
    let mut declared: Vec<&str> = manifest["variables"]
        .as_table()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut bound: Vec<&str> = spec["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    declared.sort();
    bound.sort();
    assert_eq!(
        bound, declared,
        "SpinApp variables vs spin.toml [variables]"
    );
    for variable in spec["variables"].as_array().unwrap() {
        let reference = &variable["valueFrom"]["secretKeyRef"];
        if reference.is_null() {
            assert!(variable["value"].is_string(), "{variable}");
            continue;
        }
        let secret = find(&objects, "Secret", reference["name"].as_str());
        assert!(
            secret_value(secret, reference["key"].as_str().unwrap()).is_some(),
            "{variable}: no such key"
        );
    }

    // Probes on the route the app component answers.
    for check in ["liveness", "readiness"] {
        assert_eq!(spec["checks"][check]["httpGet"]["path"], APP_HEALTH_PATH);
    }

    // Every mount names a volume of the SpinApp.
    let volumes: Vec<&Value> = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["name"])
        .collect();
    for mount in spec["volumeMounts"].as_array().unwrap() {
        assert!(volumes.contains(&&mount["name"]), "{mount}");
    }

    // The core-typed parts validate as the Pod the operator makes of them.
    if validator_available() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pod.yaml");
        let pod = spinapp::as_pod(&app);
        std::fs::write(&file, serde_json::to_string(&pod).unwrap()).unwrap();
        assert_valid(&file, &[&pod]);
    }
}

#[test]
fn the_spinapp_check_refuses_what_the_spinapp_api_refuses() {
    let (app, _) = spinkube_objects();
    let mut broken = app.clone();
    broken["spec"].as_object_mut().unwrap().remove("executor");
    broken["spec"]["replica"] = json!(2);
    broken["spec"]["replicas"] = json!("two");
    broken["spec"]["runtimeConfig"]["keyValueStores"] = json!([]);
    broken["spec"]["checks"]["readiness"]["httpGet"] = json!({"port": 80});
    broken["spec"]["variables"][0]["name"] = json!("Database-URL");
    let problems = spinapp::problems(&broken);
    for expected in [
        "spec.executor is required",
        "spec.replica is not a field",
        "spec.replicas is not a whole number",
        "spec.runtimeConfig sets fields beside loadFromSecret",
        "spec.checks.readiness.httpGet.port is not a field",
        "spec.checks.readiness.httpGet.path is required",
        "is not a Spin variable name",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected:?} not in {problems:?}"
        );
    }
    let mut kind = app.clone();
    kind["apiVersion"] = json!("core.spinoperator.dev/v1alpha1");
    assert!(!spinapp::problems(&kind).is_empty());
}

/// The value a `spec.variables` entry of the SpinApp binds, following its Secret reference
/// among `objects`, so the test can compare it with the runtime configuration.
fn variable(app: &Value, objects: &[Value], name: &str) -> String {
    let entry = app["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no variable {name}"));
    if let Some(value) = entry["value"].as_str() {
        return value.to_string();
    }
    let reference = &entry["valueFrom"]["secretKeyRef"];
    let secret = find(objects, "Secret", reference["name"].as_str());
    secret_value(secret, reference["key"].as_str().unwrap()).unwrap()
}

#[test]
fn the_spin_runtime_config_sets_up_the_stores_spin_toml_uses() {
    let (app, objects) = spinkube_objects();
    let secret_name = app["spec"]["runtimeConfig"]["loadFromSecret"]
        .as_str()
        .unwrap();
    let text = secret_value(
        find(&objects, "Secret", Some(secret_name)),
        "runtime-config.toml",
    )
    .unwrap();
    let config: toml::Table = toml::from_str(&text).expect("runtime-config.toml is TOML");

    // Every store label a spin.toml component uses is configured.
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(deploy_dir().join("../spin.toml")).unwrap())
            .unwrap();
    for (component, settings) in manifest["component"].as_table().unwrap() {
        for (field, table) in [
            ("key_value_stores", "key_value_store"),
            ("sqlite_databases", "sqlite_database"),
        ] {
            for label in settings[field].as_array().unwrap() {
                let label = label.as_str().unwrap();
                assert!(
                    config.get(table).and_then(|t| t.get(label)).is_some(),
                    "{component} uses {table}.{label}, runtime-config.toml lacks it"
                );
            }
        }
    }

    // Webhook destinations: Spin refuses loopback and the metadata service's range.
    let blocked: Vec<&str> = config["outbound_networking"]["block_networks"]
        .as_array()
        .expect("[outbound_networking] block_networks")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for network in ["127.0.0.0/8", "::1/128", "169.254.0.0/16"] {
        assert!(blocked.contains(&network), "{network} not in {blocked:?}");
    }

    // The cache on the Redis the redis_host grant allows, the same one redis_address names.
    let cache = &config["key_value_store"]["default"];
    assert_eq!(cache["type"].as_str(), Some("redis"));
    let cache_url = cache["url"].as_str().unwrap();
    assert!(cache_url.starts_with("redis://"), "{cache_url}");
    let redis_host = variable(&app, &objects, "redis_host");
    assert_eq!(host_port(cache_url), redis_host);
    assert_eq!(
        host_port(&variable(&app, &objects, "redis_address")),
        redis_host
    );
    let database_url = variable(&app, &objects, "database_url");
    assert!(database_url.starts_with("postgres://"), "{database_url}");
    assert_eq!(
        host_port(&database_url),
        variable(&app, &objects, "database_host")
    );

    // The SQLite database in a file on one of the SpinApp's volumes.
    let database = &config["sqlite_database"]["default"];
    assert_eq!(database["type"].as_str(), Some("spin"));
    let path = Path::new(database["path"].as_str().unwrap());
    assert!(
        app["spec"]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| path.starts_with(m["mountPath"].as_str().unwrap())),
        "{} is on no volume",
        path.display()
    );
}
