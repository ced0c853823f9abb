//! Marcus on Spin, checked without a Spin binary: the manifests against Spin's manifest
//! rules and the build's outputs, the Spin components' imports against the WIT that
//! spin-sdk 5.2 ships, the adapter's cache, realtime and capabilities (and the storage
//! refusals the app never provokes) through a test-only host that stands in for Spin's
//! stores, and the worker and the app with the adapter linked in as Spin's component
//! dependencies link it. The storage contract runs on the adapter in `tests/contract.rs`.

mod common;
mod spin_support;

use common::team::PrivateDatabase;
use sha2::{Digest, Sha256};
use spin_support::app_requests::{ADAPTER, APP, app, host, read_until, request, serve};
use spin_support::manifest::{self, built, load, resolve, template_names};
use spin_support::tenants::{self, Seeds};
use spin_support::test_host::exports::marcus::platform::{identity, realtime, storage};
use spin_support::test_host::{Instance, PlatformError, RECORDING_REDIS, SpinStores};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Duration;
use storage::{Expect, Write};
use wit_parser::{FunctionKind, Resolve, WorldItem};

const WORKER: &str = env!("MARCUS_SPIN_WORKER_WASM");
const BUILD_COMMAND: &str = env!("MARCUS_COMPONENT_BUILD_COMMAND");
/// The Redis channel the adapter announces events on and the worker's trigger listens to.
const EVENTS_CHANNEL: &str = "marcus-events";
const MANIFESTS: [&str; 2] = ["spin.toml", "spin.redis.toml"];
/// Webhook receivers may be anywhere, over plain HTTP or TLS.
const WEBHOOK_HOSTS: [&str; 2] = ["http://*:*", "https://*:*"];

// ---------------------------------------------------------------------------------------
// Component interfaces, decoded from the built files.

/// A component's imported and exported interfaces (`ns:pkg/iface@ver`) and functions.
struct Surface {
    imports: BTreeSet<String>,
    exports: BTreeSet<String>,
    /// Every function of every imported or exported interface, as (interface, name, async?).
    functions: Vec<(String, String, bool)>,
    /// Functions of imported interfaces, per interface.
    imported_functions: HashMap<String, BTreeSet<String>>,
}

fn is_async(kind: &FunctionKind) -> bool {
    matches!(
        kind,
        FunctionKind::AsyncFreestanding
            | FunctionKind::AsyncMethod(_)
            | FunctionKind::AsyncStatic(_)
    )
}

fn surface(path: &str) -> Surface {
    let bytes = std::fs::read(path).unwrap();
    let decoded = wit_component::decode(&bytes).unwrap_or_else(|e| panic!("decoding {path}: {e}"));
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        panic!("{path} is not a component");
    };
    let world = &resolve.worlds[world];
    let mut s = Surface {
        imports: BTreeSet::new(),
        exports: BTreeSet::new(),
        functions: Vec::new(),
        imported_functions: HashMap::new(),
    };
    for (items, imported) in [(&world.imports, true), (&world.exports, false)] {
        for (key, item) in items {
            match item {
                WorldItem::Interface { id, .. } => {
                    let id = id.to_owned();
                    let name = resolve.id_of(id).expect("a named interface");
                    let iface = &resolve.interfaces[id];
                    for (fname, f) in &iface.functions {
                        s.functions
                            .push((name.clone(), fname.clone(), is_async(&f.kind)));
                        if imported {
                            s.imported_functions
                                .entry(name.clone())
                                .or_default()
                                .insert(fname.clone());
                        }
                    }
                    if imported {
                        s.imports.insert(name);
                    } else {
                        s.exports.insert(name);
                    }
                }
                WorldItem::Function(f) => {
                    s.functions.push((
                        resolve.name_world_key(key),
                        f.name.clone(),
                        is_async(&f.kind),
                    ));
                    if imported {
                        s.imports.insert(resolve.name_world_key(key));
                    }
                }
                WorldItem::Type { .. } => {}
            }
        }
    }
    s
}

/// What Spin 3.x offers a component: the interfaces of the `platform` and Redis-trigger
/// worlds in the WIT that spin-sdk 5.2 ships, with their functions.
fn spin_platform() -> &'static HashMap<String, BTreeSet<String>> {
    static PLATFORM: OnceLock<HashMap<String, BTreeSet<String>>> = OnceLock::new();
    PLATFORM.get_or_init(|| {
        let mut resolve = Resolve::default();
        let (pkg, _) = resolve
            .push_dir(manifest::workspace().join("tests/fixtures/spin-sdk-5.2-wit"))
            .expect("parsing spin-sdk 5.2's WIT");
        let mut offered = HashMap::new();
        let worlds = [
            resolve
                .select_world(&[pkg], Some("spin:up/platform@3.6.0"))
                .unwrap(),
            resolve
                .select_world(&[pkg], Some("fermyon:spin/platform@2.0.0"))
                .unwrap(),
            // The Redis trigger's world: its export's types come from the host.
            resolve
                .select_world(&[pkg], Some("fermyon:spin/redis-trigger"))
                .unwrap(),
        ];
        for world in worlds {
            for item in resolve.worlds[world].imports.values() {
                if let WorldItem::Interface { id, .. } = item {
                    let id = id.to_owned();
                    let functions = resolve.interfaces[id].functions.keys().cloned().collect();
                    offered.insert(resolve.id_of(id).unwrap(), functions);
                }
            }
        }
        offered
    })
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `1.2.3`).
fn split_version(name: &str) -> (&str, Option<semver::Version>) {
    match name.split_once('@') {
        Some((base, v)) => (base, semver::Version::parse(v).ok()),
        None => (name, None),
    }
}

/// The Spin interface an import links to: the same name and version, or for WASI 0.2 the
/// same interface at another 0.2 version (wasmtime links semver-compatible versions).
fn spin_offer(import: &str) -> Option<&'static BTreeSet<String>> {
    let offered = spin_platform();
    if let Some(functions) = offered.get(import) {
        return Some(functions);
    }
    let (base, version) = split_version(import);
    let version = version?;
    if !base.starts_with("wasi:") || version.major != 0 || version.minor != 2 {
        return None;
    }
    offered
        .iter()
        .filter(|(name, _)| {
            let (b, v) = split_version(name);
            b == base && v.is_some_and(|v| v.major == 0 && v.minor == 2)
        })
        .max_by_key(|(name, _)| split_version(name).1)
        .map(|(_, f)| f)
}

#[test]
fn adapter_imports_only_interfaces_spin_provides_and_nothing_async() {
    let adapter = surface(ADAPTER);
    assert!(
        adapter.imports.contains("fermyon:spin/sqlite@2.0.0")
            && adapter.imports.contains("fermyon:spin/key-value@2.0.0"),
        "{:?}",
        adapter.imports
    );
    for import in &adapter.imports {
        let offered = spin_offer(import)
            .unwrap_or_else(|| panic!("Spin 3.x provides no {import} (adapter import)"));
        for f in adapter.imported_functions.get(import).into_iter().flatten() {
            assert!(offered.contains(f), "Spin's {import} has no function {f}");
        }
    }
    for (iface, f, is_async) in &adapter.functions {
        assert!(
            !is_async,
            "{iface}.{f} is async; Spin's p2 components must be sync"
        );
    }
}

#[test]
fn adapter_exports_every_platform_interface_the_app_imports() {
    let app = surface(APP);
    let adapter = surface(ADAPTER);
    let platform: Vec<&String> = app
        .imports
        .iter()
        .filter(|i| i.starts_with("marcus:platform/"))
        .collect();
    let mut names: Vec<&str> = platform
        .iter()
        .filter_map(|i| i.strip_prefix("marcus:platform/")?.split('@').next())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "audit",
            "cache",
            "capabilities",
            "commit",
            "identity",
            "realtime",
            "request-report",
            "storage",
            "types"
        ],
        "{:?}",
        app.imports
    );
    for import in platform {
        assert!(
            adapter.exports.contains(import),
            "the app imports {import}, the adapter does not export it"
        );
    }
    assert!(
        !adapter.imports.iter().any(|i| i.starts_with("marcus:")),
        "the adapter must not need marcus:platform itself: {:?}",
        adapter.imports
    );
}

#[test]
fn worker_imports_spin_and_the_adapter_and_exports_the_redis_handler() {
    let worker = surface(WORKER);
    let adapter = surface(ADAPTER);
    for import in &worker.imports {
        if import.starts_with("marcus:platform/") {
            assert!(
                adapter.exports.contains(import),
                "the worker imports {import}, which the adapter does not export"
            );
        } else {
            let offered = spin_offer(import)
                .unwrap_or_else(|| panic!("Spin 3.x provides no {import} (worker import)"));
            for f in worker.imported_functions.get(import).into_iter().flatten() {
                assert!(offered.contains(f), "Spin's {import} has no function {f}");
            }
        }
    }
    assert!(worker.imports.contains("marcus:platform/storage@0.1.0"));
    // Only the worker moves from tenant to tenant; the app cannot (its imports are listed
    // exactly above).
    assert!(worker.imports.contains("marcus:platform/job-scope@0.1.0"));
    assert!(
        worker.exports.contains("fermyon:spin/inbound-redis"),
        "{:?}",
        worker.exports
    );
    assert!(
        worker
            .functions
            .iter()
            .any(|(i, f, a)| i == "fermyon:spin/inbound-redis" && f == "handle-message" && !a)
    );
    for (iface, f, is_async) in &worker.functions {
        assert!(!is_async, "{iface}.{f} is async");
    }
}

// ---------------------------------------------------------------------------------------
// The manifests.

fn str_list(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_array())
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A component source or dependency path must be one of the files the build produces.
fn assert_built(manifest: &str, what: &str, path: &str) {
    let produced = [APP, ADAPTER, WORKER].map(built);
    let file = resolve(path);
    assert!(
        produced.contains(&file),
        "{manifest}: {what} {path} is not a file the build produces ({produced:?})"
    );
}

fn check_manifest(name: &str) -> toml::Table {
    let m = load(name);
    assert_eq!(m["spin_manifest_version"].as_integer(), Some(2), "{name}");
    assert!(
        m["application"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    let components = m["component"].as_table().expect("[component.*] tables");
    let declared: BTreeSet<&str> = m
        .get("variables")
        .and_then(|v| v.as_table())
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for (kind, triggers) in m["trigger"].as_table().unwrap() {
        for trigger in triggers.as_array().unwrap() {
            let component = trigger["component"].as_str().unwrap();
            assert!(
                components.contains_key(component),
                "{name}: trigger.{kind} names a missing component {component}"
            );
            match kind.as_str() {
                "http" => assert!(trigger["route"].as_str().unwrap().starts_with('/')),
                "redis" => assert_eq!(trigger["channel"].as_str(), Some(EVENTS_CHANNEL)),
                other => panic!("{name}: unexpected trigger type {other}"),
            }
        }
    }
    let adapter_exports = surface(ADAPTER).exports;
    for (cname, c) in components {
        let source = c["source"].as_str().unwrap();
        assert_built(name, &format!("component {cname}'s source"), source);
        let imports = surface(resolve(source).to_str().unwrap()).imports;
        assert_eq!(
            str_list(c.get("key_value_stores")),
            ["default"],
            "{name} {cname}"
        );
        assert_eq!(
            str_list(c.get("sqlite_databases")),
            ["default"],
            "{name} {cname}"
        );
        let deps = c["dependencies"].as_table().expect("dependencies");
        assert_eq!(
            c["dependencies_inherit_configuration"].as_bool(),
            Some(true),
            "{name} {cname}: without it the adapter gets no store access"
        );
        for (key, dep) in deps {
            let path = dep["path"].as_str().unwrap();
            assert_built(name, &format!("dependency {key}"), path);
            assert_eq!(resolve(path), built(ADAPTER));
            // A package key must be satisfied for every interface of it the component imports;
            // an interface key for that interface.
            let satisfied: Vec<&String> = if key.contains('/') {
                imports
                    .iter()
                    .filter(|i| split_version(i).0 == split_version(key).0)
                    .collect()
            } else {
                imports
                    .iter()
                    .filter(|i| i.starts_with(&format!("{}/", split_version(key).0)))
                    .collect()
            };
            assert!(
                !satisfied.is_empty(),
                "{name}: {key} matches no import of {cname}"
            );
            for import in satisfied {
                assert!(
                    adapter_exports.contains(import),
                    "{name}: {cname} imports {import} through {key}, the adapter does not export it"
                );
            }
        }
        let build = c["build"]["command"].as_str().unwrap();
        assert_eq!(
            build, BUILD_COMMAND,
            "{name}: spin build must run the host's component build"
        );
        let mut templated: Vec<String> = str_list(c.get("allowed_outbound_hosts"));
        for host in &templated {
            assert!(
                host.starts_with("postgres://")
                    || host.starts_with("redis://")
                    || WEBHOOK_HOSTS.contains(&host.as_str()),
                "{name}: unexpected outbound host {host}"
            );
        }
        let vars = c["variables"].as_table().unwrap();
        for wanted in ["database_url", "redis_address"] {
            assert!(
                vars.contains_key(wanted),
                "{name} {cname}: variable {wanted}"
            );
        }
        templated.extend(vars.values().map(|v| v.as_str().unwrap().to_string()));
        for text in &templated {
            for var in template_names(text) {
                assert!(
                    declared.contains(var.as_str()),
                    "{name}: {{{{ {var} }}}} is not declared"
                );
            }
        }
    }
    m
}

#[test]
fn spin_toml_follows_the_manifest_rules_and_names_built_files() {
    let m = check_manifest("spin.toml");
    let http = m["trigger"]["http"].as_array().unwrap();
    assert_eq!(http.len(), 1);
    assert_eq!(http[0]["route"].as_str(), Some("/..."));
    assert_eq!(http[0]["component"].as_str(), Some("app"));
    assert!(
        m["trigger"].get("redis").is_none(),
        "spin.toml must start without a Redis; the worker lives in spin.redis.toml"
    );
    for var in ["database_url", "redis_address"] {
        assert_eq!(
            m["variables"][var]["default"].as_str(),
            Some(""),
            "{var} is optional and off by default"
        );
    }
}

#[test]
fn spin_redis_toml_adds_the_worker_on_the_event_channel() {
    let m = check_manifest("spin.redis.toml");
    assert!(
        m["application"]["trigger"]["redis"]["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("redis://"))
    );
    let redis = m["trigger"]["redis"].as_array().unwrap();
    assert_eq!(redis.len(), 1);
    assert_built(
        "spin.redis.toml",
        "worker",
        m["component"][redis[0]["component"].as_str().unwrap()]["source"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        resolve(m["component"]["worker"]["source"].as_str().unwrap()),
        built(WORKER)
    );
    assert!(
        m["variables"]["redis_address"]["default"]
            .as_str()
            .is_some_and(|a| a.starts_with("redis://")),
        "the worker only hears events when the adapter publishes them"
    );
}

#[test]
fn spin_serves_the_very_app_file_the_native_host_embeds() {
    // The test build embeds the app with the test-only routes; a release build embeds the
    // release app, the file the build script names for both.
    let embedded = Sha256::digest(std::fs::read(APP).unwrap());
    for name in MANIFESTS {
        let m = load(name);
        let source = m["component"]["app"]["source"].as_str().unwrap();
        let on_disk = Sha256::digest(std::fs::read(resolve(source)).unwrap());
        assert_eq!(
            on_disk, embedded,
            "{name}'s app component differs from the embedded one"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The adapter's platform exports called directly: storage refusals the app never provokes,
// cache, realtime and capabilities (the storage contract runs over HTTP on every backend,
// the adapter's included, in tests/contract.rs).

/// The platform as one adapter instance exports it.
struct Platform(Instance);

impl Platform {
    /// An instance serving a request without credentials where none are required: the local
    /// admin, in the default tenant.
    fn new(stores: &SpinStores) -> Self {
        let mut p = Self::unscoped(stores);
        let principal = p.current(None).expect("the local admin");
        assert_eq!(principal.map(|p| p.tenant).as_deref(), Some("default"));
        p
    }

    /// An instance before any tenant is established.
    fn unscoped(stores: &SpinStores) -> Self {
        Self(host().instance(stores))
    }

    fn current(
        &mut self,
        authorization: Option<&str>,
    ) -> Result<Option<identity::Principal>, identity::AuthError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_identity()
            .call_current(s, authorization)
            .unwrap()
    }

    fn enter(&mut self, tenant: &str) -> Result<(), PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_job_scope()
            .call_enter(s, tenant)
            .unwrap()
    }

    fn tenants(&mut self) -> Result<Vec<String>, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_job_scope()
            .call_tenants(s)
            .unwrap()
    }

    fn try_get(&mut self, c: &str, id: &str) -> Result<Option<storage::Document>, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_storage()
            .call_get(s, c, id)
            .unwrap()
    }

    fn try_cache_get(&mut self, key: &str) -> Result<Option<Vec<u8>>, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_cache()
            .call_get(s, key)
            .unwrap()
    }

    fn try_publish(&mut self, channel: &str, payload: &str) -> Result<u64, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_realtime()
            .call_publish(s, channel, payload)
            .unwrap()
    }

    fn get(&mut self, c: &str, id: &str) -> Option<storage::Document> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_storage()
            .call_get(s, c, id)
            .unwrap()
            .unwrap()
    }

    fn put(
        &mut self,
        c: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> Result<storage::Document, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_storage()
            .call_put(s, c, id, data, expect)
            .unwrap()
    }

    fn put_many(&mut self, writes: &[Write]) -> Result<Vec<storage::Document>, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_storage()
            .call_put_many(s, writes)
            .unwrap()
    }

    fn get_many(
        &mut self,
        keys: &[storage::DocumentKey],
    ) -> Result<Vec<Option<storage::Document>>, PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_storage()
            .call_get_many(s, keys)
            .unwrap()
    }

    fn cache_get(&mut self, key: &str) -> Option<Vec<u8>> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_cache()
            .call_get(s, key)
            .unwrap()
            .unwrap()
    }

    fn cache_set(
        &mut self,
        key: &str,
        value: &[u8],
        ttl: Option<u32>,
    ) -> Result<(), PlatformError> {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_cache()
            .call_set(s, key, value, ttl)
            .unwrap()
    }

    fn cache_delete(&mut self, key: &str) -> bool {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_cache()
            .call_delete(s, key)
            .unwrap()
            .unwrap()
    }

    fn cache_clear(&mut self) {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_cache()
            .call_clear(s)
            .unwrap()
            .unwrap()
    }

    fn publish(&mut self, channel: &str, payload: &str) -> u64 {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_realtime()
            .call_publish(s, channel, payload)
            .unwrap()
            .unwrap()
    }

    fn poll(&mut self, channel: &str, since: u64, limit: u32) -> realtime::Batch {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_realtime()
            .call_poll(s, channel, since, limit)
            .unwrap()
            .unwrap()
    }

    fn wait(&mut self, channel: &str, since: u64, timeout_ms: u32) -> u64 {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_realtime()
            .call_wait(s, channel, since, timeout_ms)
            .unwrap()
            .unwrap()
    }

    fn describe(
        &mut self,
    ) -> spin_support::test_host::exports::marcus::platform::capabilities::Report {
        let s = &mut self.0.store;
        self.0
            .adapter
            .marcus_platform_capabilities()
            .call_describe(s)
            .unwrap()
    }
}

/// What the app never sends but the adapter's storage export still refuses, in the shared
/// rules' words, whichever backend holds the documents: malformed data or keys, and a batch
/// that writes one document twice (the single-statement batch cannot write a row twice).
fn refuses_malformed_writes(stores: &SpinStores) {
    let mut p = Platform::new(stores);
    assert!(matches!(
        p.put("notes", "t2", "{not json", Expect::Any),
        Err(PlatformError::Invalid(_))
    ));
    assert!(matches!(
        p.put("", "t2", "{}", Expect::Any),
        Err(PlatformError::Invalid(_))
    ));
    let write = |id: &str| Write {
        collection: "b".into(),
        id: id.into(),
        data: "{}".into(),
        expect: Expect::Any,
    };
    assert!(matches!(
        p.put_many(&[write("x"), write("x")]),
        Err(PlatformError::Invalid(_))
    ));
    assert!(p.get("notes", "t2").is_none());
    assert!(p.get("b", "x").is_none());
}

#[test]
fn the_adapters_storage_refuses_malformed_writes() {
    refuses_malformed_writes(&SpinStores::new());
    if let Some(db) = PrivateDatabase::create("Spin adapter refusals on PostgreSQL") {
        let mut stores = SpinStores::new();
        stores
            .variables
            .insert("database_url".into(), db.url.clone());
        refuses_malformed_writes(&stores);
    }
}

/// A `get-many` over the limit is refused by the adapter itself (the app's routes refuse it
/// before), with the limit in the words; the limit itself is read.
fn refuses_oversized_reads(stores: &SpinStores) {
    let mut p = Platform::new(stores);
    let keys: Vec<storage::DocumentKey> = (0..1001)
        .map(|i| storage::DocumentKey {
            collection: "notes".into(),
            id: format!("n{i}"),
        })
        .collect();
    match p.get_many(&keys) {
        Err(PlatformError::Invalid(m)) => assert!(m.contains("at most 1000"), "{m}"),
        other => panic!("1001 keys answered {other:?}"),
    }
    let read = p.get_many(&keys[..1000]).unwrap();
    assert_eq!(read.len(), 1000);
    assert!(read.iter().all(Option::is_none));
}

#[test]
fn the_adapters_storage_refuses_oversized_reads() {
    refuses_oversized_reads(&SpinStores::new());
    if let Some(db) = PrivateDatabase::create("Spin adapter get-many limit on PostgreSQL") {
        let mut stores = SpinStores::new();
        stores
            .variables
            .insert("database_url".into(), db.url.clone());
        refuses_oversized_reads(&stores);
    }
}

#[test]
fn cache_hits_ttl_delete_and_clear() {
    let stores = SpinStores::new();
    let mut p = Platform::new(&stores);
    assert_eq!(p.cache_get("k"), None);
    p.cache_set("k", b"hello", None).unwrap();
    assert_eq!(p.cache_get("k").as_deref(), Some(&b"hello"[..]));
    // An empty value is a hit, not a miss.
    p.cache_set("empty", b"", None).unwrap();
    assert_eq!(p.cache_get("empty"), Some(Vec::new()));

    p.cache_set("short", b"x", Some(1)).unwrap();
    assert!(p.cache_get("short").is_some());
    std::thread::sleep(Duration::from_millis(1200));
    let mut later = Platform::new(&stores);
    assert_eq!(later.cache_get("short"), None, "expired after its TTL");
    assert!(later.cache_get("k").is_some(), "default TTL is 300 s");

    assert!(later.cache_delete("k"));
    assert!(!later.cache_delete("k"));
    stores
        .kv
        .lock()
        .unwrap()
        .insert("not-the-cache".into(), b"kept".to_vec());
    later.cache_clear();
    assert_eq!(later.cache_get("empty"), None);
    assert!(
        stores.kv.lock().unwrap().contains_key("not-the-cache"),
        "clear leaves other users of the store alone"
    );
}

#[test]
fn realtime_publish_poll_and_retention() {
    let stores = SpinStores::new();
    let mut p = Platform::new(&stores);
    for expected in 1..=3 {
        assert_eq!(
            p.publish("alpha", &format!(r#"{{"n":{expected}}}"#)),
            expected
        );
    }
    assert_eq!(p.publish("beta", r#"{"n":1}"#), 1);
    let after1 = Platform::new(&stores).poll("alpha", 1, 100);
    let seqs: Vec<u64> = after1.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(after1.events[0].payload, r#"{"n":2}"#);
    assert_eq!((after1.latest, after1.oldest), (3, 1));
    assert_eq!(p.poll("alpha", 0, 1).events.len(), 1);
    let empty = p.poll("nobody", 0, 10);
    assert_eq!((empty.events.len(), empty.latest, empty.oldest), (0, 0, 0));

    for n in 0..1100 {
        p.publish("busy", &format!(r#"{{"n":{n}}}"#));
    }
    let b = p.poll("busy", 0, 5);
    assert_eq!(b.latest, 1100);
    assert_eq!(b.oldest, 101, "only the newest 1000 events are retained");
    assert_eq!(b.events[0].seq, 101);

    // Age: events older than an hour are gone, and numbering continues after them.
    let two_hours_ago = b.events[0].published_at as i64 - 2 * 3600 * 1000;
    stores
        .sqlite
        .lock()
        .unwrap()
        .execute(
            "UPDATE realtime_events SET published_at = ?1 WHERE channel = 'default/alpha'",
            [two_hours_ago],
        )
        .unwrap();
    let aged = p.poll("alpha", 0, 10);
    assert_eq!((aged.events.len(), aged.latest, aged.oldest), (0, 3, 0));
    assert_eq!(p.publish("alpha", "{}"), 4);
    let fresh = p.poll("alpha", 0, 10);
    assert_eq!(fresh.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [4]);
    assert_eq!((fresh.latest, fresh.oldest), (4, 4));
}

#[test]
fn realtime_wait_answers_when_the_channel_moves_or_the_time_is_up() {
    let stores = SpinStores::new();
    let mut p = Platform::new(&stores);
    p.publish("c", "{}");
    assert_eq!(p.wait("c", 0, 5_000), 1, "already past: at once");
    let started = std::time::Instant::now();
    assert_eq!(p.wait("c", 1, 300), 1);
    assert!(started.elapsed() >= Duration::from_millis(300));
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            Platform::new(&stores).publish("c", "{}");
        });
        let started = std::time::Instant::now();
        assert_eq!(p.wait("c", 1, 20_000), 2);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "woken by the publish, not the 20 s: {:?}",
            started.elapsed()
        );
    });
}

#[test]
fn events_are_announced_on_redis_when_configured() {
    let mut stores = SpinStores::new();
    Platform::new(&stores).publish("project:p1", r#"{"type":"task_created"}"#);
    assert!(
        stores.published.lock().unwrap().is_empty(),
        "no Redis configured, nothing sent"
    );

    stores
        .variables
        .insert("redis_address".into(), RECORDING_REDIS.into());
    let seq = Platform::new(&stores).publish("project:p1", r#"{"type":"task_done"}"#);
    let sent = stores.published.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, EVENTS_CHANNEL);
    let message: serde_json::Value = serde_json::from_slice(&sent[0].1).unwrap();
    assert_eq!(
        message["channel"], "default/project:p1",
        "the installation's name of the default tenant's channel"
    );
    assert_eq!(message["seq"], seq);
    assert_eq!(message["payload"], serde_json::json!({"type": "task_done"}));

    // An unreachable Redis loses no event: the log still has it.
    stores
        .variables
        .insert("redis_address".into(), "redis://nowhere.test:6379".into());
    let mut p = Platform::new(&stores);
    assert_eq!(p.publish("project:p1", "{}"), seq + 1);
    assert_eq!(p.poll("project:p1", seq, 10).events.len(), 1);
}

#[test]
fn capabilities_report_spin_and_each_backend() {
    let mut stores = SpinStores::new();
    let report = Platform::new(&stores).describe();
    assert!(matches!(
        report.host,
        spin_support::test_host::exports::marcus::platform::capabilities::HostKind::Spin
    ));
    let by_capability =
        |r: &spin_support::test_host::exports::marcus::platform::capabilities::Report| {
            r.backends
                .iter()
                .map(|b| (b.capability.clone(), (b.name.clone(), b.healthy)))
                .collect::<HashMap<_, _>>()
        };
    let backends = by_capability(&report);
    assert_eq!(backends["storage"], ("spin-sqlite".into(), true));
    assert_eq!(backends["cache"], ("spin-key-value".into(), true));
    assert_eq!(backends["realtime"], ("sqlite-log".into(), true));
    assert_eq!(backends["push"], ("sse".into(), true));

    // A store the manifest does not grant answers unavailable; nothing traps.
    stores.grant_sqlite = false;
    stores.grant_kv = false;
    let mut p = Platform::new(&stores);
    let backends = by_capability(&p.describe());
    assert_eq!(backends["storage"], ("spin-sqlite".into(), false));
    assert_eq!(backends["cache"], ("spin-key-value".into(), false));
    assert_eq!(backends["push"], ("sse".into(), false));
    assert!(matches!(
        p.put("c", "d", "{}", Expect::Any),
        Err(PlatformError::Unavailable(_))
    ));
    assert!(matches!(
        p.cache_set("k", b"v", None),
        Err(PlatformError::Unavailable(_))
    ));

    // PostgreSQL storage when database_url is set: healthy on a live database, an unreachable
    // one answers unavailable and its report shows no credentials.
    let mut down = SpinStores::new();
    down.variables.insert(
        "database_url".into(),
        "postgres://marcus:secret@127.0.0.1:1/marcus".into(),
    );
    let mut p = Platform::new(&down);
    let report = p.describe();
    let storage = report
        .backends
        .iter()
        .find(|b| b.capability == "storage")
        .unwrap();
    assert_eq!(
        (storage.name.as_str(), storage.healthy),
        ("postgres", false)
    );
    assert!(!storage.detail.contains("secret"), "{}", storage.detail);
    assert!(matches!(
        p.put("c", "d", "{}", Expect::Any),
        Err(PlatformError::Unavailable(_))
    ));
    let realtime = report
        .backends
        .iter()
        .find(|b| b.capability == "realtime")
        .unwrap();
    assert!(realtime.healthy, "the event log stays in Spin SQLite");
    if let Some(db) = PrivateDatabase::create("Spin adapter capabilities on PostgreSQL") {
        let mut up = SpinStores::new();
        up.variables.insert("database_url".into(), db.url.clone());
        let report = Platform::new(&up).describe();
        let storage = report
            .backends
            .iter()
            .find(|b| b.capability == "storage")
            .unwrap();
        assert_eq!(
            (storage.name.as_str(), storage.healthy),
            ("postgres", true),
            "{}",
            storage.detail
        );
    }
}

// ---------------------------------------------------------------------------------------
// The Redis worker, its platform imports served by the adapter as Spin's dependencies do.

fn task_json(id: &str, project: &str, dependencies: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "id": id, "project_id": project, "name": id, "status": "todo",
        "dependencies": dependencies, "created_at": 1, "updated_at": 1,
    })
}

#[test]
fn worker_runs_the_shared_job_queue_with_the_apps_job_code() {
    let stores = SpinStores::new();
    let mut p = Platform::new(&stores);
    let project = serde_json::json!({"id": "p1", "name": "p1", "created_at": 1});
    p.put("projects", "p1", &project.to_string(), Expect::Any)
        .unwrap();
    // A dependency cycle: the board is stuck, and health must say so.
    for t in [task_json("a", "p1", &["b"]), task_json("b", "p1", &["a"])] {
        p.put(
            "tasks",
            t["id"].as_str().unwrap(),
            &t.to_string(),
            Expect::Any,
        )
        .unwrap();
    }
    // Jobs as the app queues them: a health recompute, and a webhook delivery whose
    // receiver this stand-in host cannot reach (it grants no outbound HTTP).
    let job = |id: &str, kind: &str, payload: serde_json::Value| {
        serde_json::json!({"id": id, "kind": kind, "payload": payload, "status": "queued",
            "attempts": 0, "max_attempts": 3, "run_at": 0, "created_at": 0, "updated_at": 0})
    };
    let health = job(
        "project-health-p1",
        "project-health",
        serde_json::json!({"project_id": "p1"}),
    );
    p.put(
        "jobs",
        "project-health-p1",
        &health.to_string(),
        Expect::Absent,
    )
    .unwrap();
    let hook = serde_json::json!({"id": "wh-1", "project_id": "p1", "url": "http://127.0.0.1:9/h",
        "events": ["*"], "secret": "whsec_AAAA", "max_attempts": 3, "created_at": 0});
    p.put("webhooks", "wh-1", &hook.to_string(), Expect::Absent)
        .unwrap();
    let event = serde_json::json!({"id": "evt-1", "kind": "task_blocked", "project_id": "p1",
        "data": {}, "timestamp": 0});
    p.put("events", "evt-1", &event.to_string(), Expect::Absent)
        .unwrap();
    let delivery = job(
        "dlv-1",
        "webhook-delivery",
        serde_json::json!({"webhook_id": "wh-1", "event_id": "evt-1"}),
    );
    p.put("jobs", "dlv-1", &delivery.to_string(), Expect::Absent)
        .unwrap();

    let message = serde_json::json!({
        "channel": "project:p1", "seq": 7, "published_at": 0, "payload": {"type": "task_blocked"},
    });
    host()
        .deliver_to_worker(WORKER, &stores, message.to_string().as_bytes())
        .unwrap();

    // The recompute ran and left its answers in the read cache; a finished job leaves.
    assert!(p.get("jobs", "project-health-p1").is_none());
    let keys: Vec<String> = stores.kv.lock().unwrap().keys().cloned().collect();
    for tool in ["get_project_status", "check_board_health"] {
        assert!(
            keys.iter()
                .any(|k| k.starts_with(&format!("cache/default/rc:{tool}:p1:"))),
            "{tool} cached: {keys:?}"
        );
    }
    // The delivery ran the app's delivery code: one failed attempt, logged, retried later.
    let dlv: serde_json::Value =
        serde_json::from_str(&p.get("jobs", "dlv-1").unwrap().data).unwrap();
    assert_eq!(dlv["status"], "queued", "{dlv}");
    assert_eq!(dlv["attempts"], 1, "{dlv}");
    assert!(dlv["run_at"].as_u64().unwrap() > 0, "backed off: {dlv}");
    let log: serde_json::Value =
        serde_json::from_str(&p.get("webhook_deliveries", "dlv-1").unwrap().data).unwrap();
    assert_eq!(log["status"], "retrying", "{log}");
    // The periodic lease sweep is scheduled by the worker as by the native runner.
    let sweep: serde_json::Value =
        serde_json::from_str(&p.get("jobs", "periodic-lease-sweep").unwrap().data).unwrap();
    assert_eq!(sweep["every_ms"], 5000, "{sweep}");

    // Foreign messages run nothing.
    host()
        .deliver_to_worker(WORKER, &stores, b"not json")
        .unwrap();

    // A worker that cannot read the queue reports failure to Spin.
    let mut denied = stores.clone();
    denied.grant_sqlite = false;
    let failed = host().deliver_to_worker(WORKER, &denied, message.to_string().as_bytes());
    assert!(failed.is_err(), "{failed:?}");
}

/// Every tenant's copy of the same stuck board: a project and a dependency cycle, with a
/// health recompute queued, written straight into `tenant`'s scope.
fn seed_stuck_board(stores: &SpinStores, tenant: &str) {
    let project = serde_json::json!({"id": "p1", "name": tenant, "created_at": 1});
    stores.seed(tenant, "projects", "p1", &project.to_string());
    for t in [task_json("a", "p1", &["b"]), task_json("b", "p1", &["a"])] {
        stores.seed(tenant, "tasks", t["id"].as_str().unwrap(), &t.to_string());
    }
    let job = serde_json::json!({"id": "project-health-p1", "kind": "project-health",
        "payload": {"project_id": "p1"}, "status": "queued", "attempts": 0,
        "max_attempts": 3, "run_at": 0, "created_at": 0, "updated_at": 0});
    stores.seed(tenant, "jobs", "project-health-p1", &job.to_string());
}

/// The tenants holding a document, read beside the adapter.
fn tenants_holding(stores: &SpinStores, collection: &str, id: &str) -> Vec<String> {
    let conn = stores.sqlite.lock().unwrap();
    let mut q = conn
        .prepare("SELECT tenant FROM documents WHERE collection = ?1 AND id = ?2 ORDER BY tenant")
        .unwrap();
    q.query_map([collection, id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_worker_runs_each_served_tenants_jobs_in_that_tenants_scope() {
    use marcus_identity::tenant::Status;
    let stores = SpinStores::new();
    // The first request makes the schema.
    Platform::new(&stores).describe();
    tenants::register_tenant(&stores, "acme", Status::Active);
    tenants::register_tenant(&stores, "initech", Status::Disabled);
    for tenant in ["default", "acme", "initech"] {
        seed_stuck_board(&stores, tenant);
    }
    assert_eq!(
        Platform::unscoped(&stores).tenants().unwrap(),
        ["acme", "default"],
        "the served tenants, the default one included"
    );

    let message = serde_json::json!({
        "channel": "acme/project:p1", "seq": 1, "published_at": 0, "payload": {},
    });
    host()
        .deliver_to_worker(WORKER, &stores, message.to_string().as_bytes())
        .unwrap();

    // Each served tenant's recompute ran on its own board; the disabled tenant's waits.
    assert_eq!(
        tenants_holding(&stores, "jobs", "project-health-p1"),
        ["initech"]
    );
    assert_eq!(
        tenants_holding(&stores, "jobs", "periodic-lease-sweep"),
        ["acme", "default"],
        "each served tenant has its own lease sweep"
    );
    let keys: Vec<String> = stores.kv.lock().unwrap().keys().cloned().collect();
    for tenant in ["acme", "default"] {
        let prefix = format!("cache/{tenant}/rc:get_project_status:p1:");
        let entry = keys
            .iter()
            .find(|k| k.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{tenant}'s status cached: {keys:?}"));
        // The answer is the tenant's own board (its project is named after it).
        let stored = stores.kv.lock().unwrap()[entry].clone();
        let text = String::from_utf8_lossy(&stored[8..]).into_owned();
        assert!(text.contains(&format!(r#""{tenant}""#)), "{tenant}: {text}");
        for other in ["acme", "default", "initech"]
            .iter()
            .filter(|o| **o != tenant)
        {
            assert!(!text.contains(&format!(r#""{other}""#)), "{tenant}: {text}");
        }
    }
    assert!(
        !keys.iter().any(|k| k.starts_with("cache/initech/")),
        "{keys:?}"
    );
}

#[test]
fn a_call_before_any_tenant_is_established_fails_closed() {
    let mut stores = SpinStores::new();
    Platform::new(&stores)
        .put("notes", "n1", "{}", Expect::Any)
        .unwrap();
    let closed = |e: PlatformError| {
        matches!(&e, PlatformError::Unavailable(m) if m == "no tenant is established for this request")
            || panic!("{e:?}")
    };
    let mut p = Platform::unscoped(&stores);
    assert!(closed(p.try_get("notes", "n1").unwrap_err()));
    assert!(closed(p.try_cache_get("k").unwrap_err()));
    assert!(closed(p.try_publish("c", "{}").unwrap_err()));
    assert!(closed(p.put("notes", "n2", "{}", Expect::Any).unwrap_err()));
    // The capability report reads no tenant's data: the app asks for it first.
    let report = p.describe();
    assert!(report.backends.iter().all(|b| b.healthy), "{report:?}");

    // Where credentials are required, a request without them establishes no tenant.
    stores
        .variables
        .insert("auth_required".into(), "true".into());
    let mut p = Platform::unscoped(&stores);
    assert!(p.current(None).unwrap().is_none());
    assert!(closed(p.try_get("notes", "n1").unwrap_err()));
    // Refused credentials: nothing at all is served.
    let mut p = Platform::unscoped(&stores);
    assert!(matches!(
        p.current(Some("Bearer mcs_nope")),
        Err(identity::AuthError::Unauthorized(_))
    ));
    assert!(matches!(
        p.try_get("notes", "n1"),
        Err(PlatformError::Unavailable(m)) if m.contains("refused")
    ));
    assert!(matches!(
        p.enter("default"),
        Err(PlatformError::Unavailable(_))
    ));
}

#[test]
fn only_the_worker_moves_between_tenants_and_only_into_served_ones() {
    use marcus_identity::tenant::Status;
    let stores = SpinStores::new();
    Platform::new(&stores)
        .put("notes", "n1", r#"{"owner":"default"}"#, Expect::Any)
        .unwrap();
    tenants::register_tenant(&stores, "acme", Status::Active);
    tenants::register_tenant(&stores, "initech", Status::Disabled);
    stores.seed("acme", "notes", "n1", r#"{"owner":"acme"}"#);

    let mut worker = Platform::unscoped(&stores);
    worker.enter("acme").unwrap();
    assert!(worker.get("notes", "n1").unwrap().data.contains("acme"));
    worker.enter("default").unwrap();
    assert!(worker.get("notes", "n1").unwrap().data.contains("default"));
    for (name, refused) in [
        ("_server", "invalid"),
        ("Acme", "invalid"),
        ("initech", "unavailable"),
        ("ghost", "unavailable"),
    ] {
        let answer = worker.enter(name);
        let kind = match &answer {
            Err(PlatformError::Invalid(_)) => "invalid",
            Err(PlatformError::Unavailable(_)) => "unavailable",
            _ => "other",
        };
        assert_eq!(kind, refused, "enter {name}: {answer:?}");
    }
    // A refused move leaves the scope where it was.
    assert!(worker.get("notes", "n1").unwrap().data.contains("default"));

    // A request's scope is its principal's: it cannot be moved.
    let mut request = Platform::new(&stores);
    assert!(matches!(
        request.enter("acme"),
        Err(PlatformError::Unavailable(_))
    ));
    assert!(request.get("notes", "n1").unwrap().data.contains("default"));
}

#[test]
fn cache_and_realtime_names_are_each_tenants_own() {
    use marcus_identity::tenant::Status;
    let stores = SpinStores::new();
    Platform::new(&stores).describe();
    tenants::register_tenant(&stores, "acme", Status::Active);
    let mut default = Platform::new(&stores);
    let mut acme = Platform::unscoped(&stores);
    acme.enter("acme").unwrap();

    default.cache_set("k", b"default", None).unwrap();
    acme.cache_set("k", b"acme", None).unwrap();
    assert_eq!(default.cache_get("k").as_deref(), Some(&b"default"[..]));
    assert_eq!(acme.cache_get("k").as_deref(), Some(&b"acme"[..]));
    acme.cache_clear();
    assert_eq!(acme.cache_get("k"), None);
    assert_eq!(default.cache_get("k").as_deref(), Some(&b"default"[..]));
    assert!(!acme.cache_delete("k"), "acme's entry is gone");
    assert!(default.cache_delete("k"), "default's entry is there");

    assert_eq!(default.publish("c", r#"{"by":"default"}"#), 1);
    assert_eq!(acme.publish("c", r#"{"by":"acme"}"#), 1);
    assert_eq!(acme.publish("c", r#"{"by":"acme"}"#), 2);
    let seen = default.poll("c", 0, 10);
    assert_eq!((seen.latest, seen.events.len()), (1, 1));
    assert_eq!(seen.events[0].channel, "c", "the name the tenant asked for");
    assert!(seen.events[0].payload.contains("default"));
    let seen = acme.poll("c", 0, 10);
    assert_eq!((seen.latest, seen.events.len()), (2, 2));
    assert!(
        seen.events
            .iter()
            .all(|e| e.payload.contains("acme") && e.channel == "c")
    );
    assert_eq!(
        default.wait("c", 1, 200),
        1,
        "acme's events do not wake default"
    );
}

#[test]
fn two_tenants_on_spin_sqlite_see_nothing_of_each_other() {
    let mut stores = SpinStores::new();
    stores
        .variables
        .insert("auth_required".into(), "true".into());
    tenants::two_tenants_stay_apart(&stores, &stores);
}

/// The previous release's Spin SQLite tables (schema 1), as its adapter made them.
const SCHEMA_1_SQLITE: &str = "
    CREATE TABLE marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE documents (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (collection, id)
    ) WITHOUT ROWID;
    CREATE INDEX documents_collection ON documents (collection);
    CREATE TABLE realtime_events (
        channel TEXT NOT NULL,
        seq INTEGER NOT NULL,
        payload TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        PRIMARY KEY (channel, seq)
    ) WITHOUT ROWID;
    INSERT INTO marcus_meta (key, value) VALUES ('schema_version', '1');";

#[test]
fn a_board_made_before_tenants_becomes_the_default_tenant_on_spin_sqlite() {
    use marcus_identity::digest::ServerSecret;
    use marcus_identity::principal::Role;
    use marcus_identity::record::TokenRecord;
    use marcus_identity::token::Token;

    let mut stores = SpinStores::new();
    let secret = ServerSecret::from_bytes([7; 32]);
    let token = Token::from_random(&[9; 64]).unwrap();
    let record = TokenRecord::new(&token, &secret, "ci", Role::Admin, vec![], 1, u64::MAX / 4);
    // The previous release's token record has neither a tenant nor the server role.
    let mut old_record = serde_json::to_value(&record).unwrap();
    old_record.as_object_mut().unwrap().remove("tenant");
    old_record.as_object_mut().unwrap().remove("server_admin");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    {
        let conn = stores.sqlite.lock().unwrap();
        conn.execute_batch(SCHEMA_1_SQLITE).unwrap();
        let project = serde_json::json!({"id": "p1", "name": "old-board", "created_at": 1});
        let documents = [
            ("projects", "p1".to_string(), project.to_string()),
            ("tasks", "a".into(), task_json("a", "p1", &[]).to_string()),
            ("notes", "n1".into(), r#"{"kept":true}"#.into()),
            (
                "auth_settings",
                "token_secret".into(),
                serde_json::json!({"secret": secret.to_hex()}).to_string(),
            ),
            ("auth_tokens", record.id.clone(), old_record.to_string()),
        ];
        for (collection, id, data) in documents {
            conn.execute(
                "INSERT INTO documents VALUES (?1, ?2, ?3, 1, 1, 1)",
                rusqlite::params![collection, id, data],
            )
            .unwrap();
        }
        for seq in 1..=3 {
            conn.execute(
                "INSERT INTO realtime_events VALUES ('alpha', ?1, '{}', ?2)",
                rusqlite::params![seq, now],
            )
            .unwrap();
        }
    }

    let (status, projects) = serve(&stores, "GET", "/api/projects", &[], "");
    assert_eq!(status, 200, "{projects}");
    assert!(projects.contains("old-board"), "{projects}");
    for (collection, tenant) in [
        ("projects", "default"),
        ("tasks", "default"),
        ("notes", "default"),
        ("auth_settings", "_server"),
        ("auth_tokens", "_server"),
    ] {
        assert_eq!(stores.tenants_of(collection), [tenant], "{collection}");
    }
    let version: String = stores
        .sqlite
        .lock()
        .unwrap()
        .query_row(
            "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        version,
        marcus_core::store::schema_version::SCHEMA_VERSION.to_string()
    );
    // The event log is the default tenant's, its numbering carried on.
    let (status, events) = serve(&stores, "GET", "/api/realtime/alpha?since=0", &[], "");
    assert_eq!(status, 200, "{events}");
    let events: serde_json::Value = serde_json::from_str(&events).unwrap();
    assert_eq!(
        (
            events["latest"].clone(),
            events["events"].as_array().unwrap().len()
        ),
        (3.into(), 3)
    );
    let (_, published) = serve(&stores, "POST", "/api/realtime/alpha", &[], "{}");
    assert_eq!(published, r#"{"seq":4}"#);
    // The old token still verifies, as the default tenant's, and sees the old board.
    stores
        .variables
        .insert("auth_required".into(), "true".into());
    let bearer = format!("Bearer {}", token.reveal());
    let (status, notes) = serve(
        &stores,
        "GET",
        "/api/storage/notes/n1",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{notes}");
    let (status, _) = serve(&stores, "GET", "/api/storage/notes/n1", &[], "");
    assert_eq!(status, 401);
}

// ---------------------------------------------------------------------------------------
// The app itself on the adapter, over wasi:http, as `spin up` composes them.

#[test]
fn the_app_on_spin_refuses_foreign_origins_and_non_json_bodies() {
    let stores = SpinStores::new();
    let (status, refused) = serve(
        &stores,
        "PUT",
        "/api/storage/notes/n",
        &[("origin", "http://evil.example")],
        "{}",
    );
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("origin_not_allowed"), "{refused}");
    let (status, refused) = serve(
        &stores,
        "PUT",
        "/api/storage/notes/n",
        &[("content-type", "text/plain")],
        "{}",
    );
    assert_eq!(status, 415, "{refused}");
    let (status, _) = serve(&stores, "GET", "/api/storage/notes/n", &[], "");
    assert_eq!(status, 404, "nothing was written");
    let (status, written) = serve(
        &stores,
        "PUT",
        "/api/storage/notes/n",
        &[("origin", "http://localhost")],
        "{}",
    );
    assert_eq!(status, 200, "the server's own origin may write: {written}");
}

#[test]
fn the_app_runs_on_the_adapter_and_streams_events_over_sse() {
    let stores = SpinStores::new();
    let (status, features) = serve(&stores, "GET", "/api/features", &[], "");
    assert_eq!(status, 200, "{features}");
    let features: serde_json::Value = serde_json::from_str(&features).unwrap();
    assert_eq!(features["host"], "spin");
    assert_eq!(features["backends"]["storage"]["name"], "spin-sqlite");
    assert_eq!(features["push"]["sse"], "/api/events/stream");
    assert_eq!(features["push"]["websocket"], serde_json::Value::Null);

    let (status, put) = serve(
        &stores,
        "PUT",
        "/api/storage/notes/t1",
        &[],
        r#"{"status":"todo"}"#,
    );
    assert_eq!(status, 200, "{put}");
    let (status, got) = serve(&stores, "GET", "/api/storage/notes/t1", &[], "");
    assert_eq!(status, 200);
    let got: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(
        (got["version"].clone(), got["data"]["status"].clone()),
        (1.into(), "todo".into())
    );

    for n in 1..=3 {
        let (status, body) = serve(
            &stores,
            "POST",
            "/api/realtime/alpha",
            &[],
            &format!(r#"{{"n":{n}}}"#),
        );
        assert_eq!((status, body), (200, format!(r#"{{"seq":{n}}}"#)));
    }

    // A reconnecting EventSource sends Last-Event-ID and gets what it missed, then live events.
    let response = host().serve_app(
        app(),
        &stores,
        request(
            "GET",
            "/api/events/stream?channel=alpha",
            &[("last-event-id", "1")],
            "",
        ),
    );
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let caught_up = read_until(&mut body, Duration::from_secs(10), |t| {
        t.contains("id: 3\n")
    });
    assert_eq!(
        caught_up,
        "retry: 2000\n\nid: 2\ndata: {\"n\":2}\n\nid: 3\ndata: {\"n\":3}\n\n"
    );
    assert_eq!(
        serve(&stores, "POST", "/api/realtime/alpha", &[], r#"{"n":4}"#).0,
        200
    );
    let live = read_until(&mut body, Duration::from_secs(10), |t| {
        t.contains("id: 4\n")
    });
    assert_eq!(live, "id: 4\ndata: {\"n\":4}\n\n");
    drop(body);

    let (status, refused) = serve(&stores, "GET", "/api/events/stream", &[], "");
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("channel"), "{refused}");
    let (status, _) = serve(
        &stores,
        "GET",
        "/api/events/stream?channel=alpha",
        &[("last-event-id", "soon")],
        "",
    );
    assert_eq!(status, 400);
}

/// Stores one of the installation's own documents (the server scope) straight into the
/// stand-in's Spin SQLite, as a host sharing the database would (the raw storage API
/// refuses the credential collections).
fn seed_document(stores: &SpinStores, collection: &str, id: &str, data: &str) {
    stores.seed(marcus_identity::tenant::SERVER_SCOPE, collection, id, data);
}

#[test]
fn the_adapter_verifies_tokens_with_the_native_hosts_records_when_spin_requires_them() {
    use marcus_identity::digest::ServerSecret;
    use marcus_identity::principal::Role;
    use marcus_identity::record::{COLLECTION, SECRET_ID, SETTINGS_COLLECTION, TokenRecord};
    use marcus_identity::token::Token;

    let mut stores = SpinStores::new();
    // Without the variable a request without credentials is the local admin (and this read
    // makes the adapter's schema).
    let (status, body) = serve(&stores, "GET", "/api/projects", &[], "");
    assert_eq!(status, 200, "{body}");
    let (_, features) = serve(&stores, "GET", "/api/features", &[], "");
    assert!(features.contains(r#""verified_by":"local""#), "{features}");

    let secret = ServerSecret::from_bytes([42; 32]);
    let random: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(3))
        .collect();
    let viewer = Token::from_random(&random).unwrap();
    let record = TokenRecord::new(
        &viewer,
        &secret,
        "watch",
        Role::Viewer,
        vec![],
        1,
        u64::MAX / 4,
    );
    seed_document(
        &stores,
        SETTINGS_COLLECTION,
        SECRET_ID,
        &serde_json::json!({"secret": secret.to_hex()}).to_string(),
    );
    seed_document(
        &stores,
        COLLECTION,
        &record.id,
        &serde_json::to_string(&record).unwrap(),
    );
    stores
        .variables
        .insert("auth_required".into(), "true".into());

    let (status, body) = serve(&stores, "GET", "/api/projects", &[], "");
    assert_eq!(status, 401, "no credentials: {body}");
    let bearer = format!("Bearer {}", viewer.reveal());
    let (status, body) = serve(
        &stores,
        "GET",
        "/api/projects",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    // The use is recorded on the token's record (Spin writes it in the request).
    let stored: String = stores
        .sqlite
        .lock()
        .unwrap()
        .query_row(
            "SELECT data FROM documents WHERE tenant = '_server' AND collection = ?1 AND id = ?2",
            [COLLECTION, record.id.as_str()],
            |row| row.get(0),
        )
        .unwrap();
    let stored: TokenRecord = serde_json::from_str(&stored).unwrap();
    assert!(stored.last_used_at.is_some(), "{stored:?}");
    let (status, body) = serve(
        &stores,
        "POST",
        "/api/projects",
        &[("authorization", &bearer)],
        r#"{"project_name": "p"}"#,
    );
    assert_eq!(status, 403, "a viewer may not create: {body}");
    let other =
        Token::from_random(&random.iter().map(|b| b.wrapping_add(1)).collect::<Vec<_>>()).unwrap();
    let (status, body) = serve(
        &stores,
        "GET",
        "/api/projects",
        &[("authorization", &format!("Bearer {}", other.reveal()))],
        "",
    );
    assert_eq!(status, 401, "an unknown token: {body}");
    let (status, body) = serve(
        &stores,
        "GET",
        "/api/projects",
        &[("authorization", "Bearer mcs_nope")],
        "",
    );
    assert_eq!(status, 401, "a malformed token: {body}");
    let (_, projects) = serve(
        &stores,
        "GET",
        "/api/projects",
        &[("authorization", &bearer)],
        "",
    );
    assert!(
        !projects.contains(r#""name":"p""#),
        "the refused create wrote nothing: {projects}"
    );
}
