//! A small wasmtime host that exists only for the tests. It implements the few Spin
//! interfaces the Spin adapter imports — SQLite on rusqlite (one shared connection, as Spin
//! does), outbound PostgreSQL on the `postgres` driver (as Spin 4 behaves: every open a new
//! server connection, closed with its instance; statements in order; a query that yields no
//! rows is a failure, since it never answers on Spin), key-value in memory, variables from
//! a map, and a Redis that records publishes —
//! so the adapter's `marcus:platform` exports can be checked without a Spin binary. Like
//! Spin's component dependencies, it can also link another component's `marcus:platform`
//! imports to an adapter instance: the Redis worker's, and the app's, served one request at
//! a time over wasi:http. It is not a way to run Marcus.

use rusqlite::types::Value as SqlValue;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Func, HasSelf, Linker, Resource, ResourceTable, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

wasmtime::component::bindgen!({
    world: "marcus:spin/adapter@0.1.0",
    path: [
        "../wit",
        "../components/spin-adapter/wit",
    ],
    with: {
        "fermyon:spin/sqlite@2.0.0.connection": SqliteHandle,
        "fermyon:spin/key-value@2.0.0.store": KvHandle,
        "fermyon:spin/redis@2.0.0.connection": RedisHandle,
        "spin:postgres/postgres@3.0.0.connection": PgHandle,
    },
});

// Not every suite that links this host names platform errors.
#[allow(unused_imports)]
pub use exports::marcus::platform::types::Error as PlatformError;
use fermyon::spin2_0_0::{key_value, redis, sqlite, variables};
use spin::postgres::postgres as pg;

/// An open SQLite connection handle (the database itself is shared).
pub struct SqliteHandle;
/// An open key-value store handle.
pub struct KvHandle;
/// An open PostgreSQL connection (one per `open`, as Spin hands out).
pub struct PgHandle(postgres::Client);
/// An open Redis connection handle, remembering its address.
pub struct RedisHandle(String);

/// How long a request may take before the suite calls it stuck: Spin gives a guest no
/// deadline, so a request that never answers must fail the test instead of hanging it.
pub const APP_ANSWERS_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// The Redis address the stand-in accepts; any other is refused as Spin would refuse an
/// unreachable one.
pub const RECORDING_REDIS: &str = "redis://recorder.test:6379";

/// One Redis publish: (channel, payload).
pub type Published = (String, Vec<u8>);

/// What a Spin application's stores hold; shared by every instance, like Spin's.
#[derive(Clone)]
pub struct SpinStores {
    /// The `default` SQLite database.
    pub sqlite: Arc<Mutex<rusqlite::Connection>>,
    /// The `default` key-value store.
    pub kv: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    /// Messages published to Redis.
    pub published: Arc<Mutex<Vec<Published>>>,
    /// Application variables.
    pub variables: HashMap<String, String>,
    /// Whether the manifest grants the SQLite database and the key-value store.
    pub grant_sqlite: bool,
    /// Whether the manifest grants the key-value store.
    pub grant_kv: bool,
    /// Requests served to the app, and PostgreSQL connections opened, over the stores' life.
    counters: Arc<Counters>,
}

/// What the suites count to check how the adapter uses Spin.
#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    postgres_opens: AtomicUsize,
}

impl SpinStores {
    /// Fresh, empty stores with everything granted and no variables set.
    pub fn new() -> Self {
        Self {
            sqlite: Arc::new(Mutex::new(rusqlite::Connection::open_in_memory().unwrap())),
            kv: Arc::default(),
            published: Arc::default(),
            variables: HashMap::new(),
            grant_sqlite: true,
            grant_kv: true,
            counters: Arc::default(),
        }
    }

    /// HTTP requests served to the app over these stores.
    pub fn requests_served(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// `spin:postgres` connections opened over these stores (each a new server connection).
    pub fn postgres_connections_opened(&self) -> usize {
        self.counters.postgres_opens.load(Ordering::SeqCst)
    }
}

/// Store data of one instance.
pub struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    /// No outbound HTTP: deliveries attempted here fail, as with a receiver that is down.
    http_hooks: marcus_host::request_state::NoOutboundHttp,
    stores: SpinStores,
    /// The adapter's platform functions, by `interface#function`, for a linked component.
    adapter_exports: HashMap<String, Func>,
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}

impl InstanceState {
    fn new(stores: &SpinStores) -> Self {
        Self {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            http_hooks: marcus_host::request_state::NoOutboundHttp,
            stores: stores.clone(),
            adapter_exports: HashMap::new(),
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The compiled adapter, instantiated afresh per "request" like Spin does.
pub struct TestHost {
    engine: Engine,
    adapter: Component,
    pre: AdapterPre<InstanceState>,
}

/// One instance of the adapter with its store.
pub struct Instance {
    /// The wasmtime store.
    pub store: Store<InstanceState>,
    /// The adapter's exports.
    pub adapter: Adapter,
}

impl TestHost {
    /// Compiles the adapter at `path` and links the Spin stand-ins.
    pub fn new(path: &str) -> Self {
        let engine = Engine::default();
        let component = Component::from_file(&engine, path).expect("compiling the adapter");
        let linker = spin_linker(&engine);
        let pre = AdapterPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
        Self {
            engine,
            adapter: component,
            pre,
        }
    }

    /// Delivers one Redis message to the worker component at `worker_path`, its
    /// `marcus:platform` imports served by a fresh adapter instance in the same store, as a
    /// Spin dependency would; `Err` carries the handler's error result.
    pub fn deliver_to_worker(
        &self,
        worker_path: &str,
        stores: &SpinStores,
        message: &[u8],
    ) -> Result<(), String> {
        let worker = Component::from_file(&self.engine, worker_path).expect("compiling the worker");
        let mut linker = spin_linker(&self.engine);
        // The worker's webhook deliveries import wasi:http (this host refuses the requests).
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker).unwrap();
        let forwarded = forward_platform(&self.engine, &worker, &mut linker);
        let mut store = Store::new(&self.engine, InstanceState::new(stores));
        link_adapter(&mut store, &linker, &self.adapter, forwarded);
        let instance = linker.instantiate(&mut store, &worker).unwrap();
        let iface = instance
            .get_export_index(&mut store, None, "fermyon:spin/inbound-redis")
            .expect("the worker exports fermyon:spin/inbound-redis");
        let index = instance
            .get_export_index(&mut store, Some(&iface), "handle-message")
            .unwrap();
        let handle = instance.get_func(&mut store, index).unwrap();
        let mut results = [Val::Bool(false)];
        let message = Val::List(message.iter().map(|b| Val::U8(*b)).collect());
        handle.call(&mut store, &[message], &mut results).unwrap();
        match &results[0] {
            Val::Result(Ok(_)) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    }

    /// Serves one HTTP request with the app component at `app_path`, its platform imports
    /// linked to the adapter as Spin's dependencies do. The handler runs on its own thread
    /// (a stream may outlive this call); the response arrives as soon as the app sets it.
    pub fn serve_app(
        &self,
        app: &Component,
        stores: &SpinStores,
        request: hyper::Request<http_body_util::Full<bytes::Bytes>>,
    ) -> hyper::Response<HyperOutgoingBody> {
        stores.counters.requests.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (engine, adapter, app) = (self.engine.clone(), self.adapter.clone(), app.clone());
        let stores = stores.clone();
        std::thread::spawn(move || {
            let mut linker = spin_linker(&engine);
            wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker).unwrap();
            let forwarded = forward_platform(&engine, &app, &mut linker);
            let mut store = Store::new(&engine, InstanceState::new(&stores));
            link_adapter(&mut store, &linker, &adapter, forwarded);
            let proxy = wasmtime_wasi_http::p2::bindings::sync::Proxy::instantiate(
                &mut store, &app, &linker,
            )
            .unwrap();
            let req = store
                .data_mut()
                .http()
                .new_incoming_request(
                    wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http,
                    request,
                )
                .unwrap();
            let out = store.data_mut().http().new_response_outparam(tx).unwrap();
            // A client that stopped reading makes the guest's writes fail; that is its way out.
            let _ = proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out);
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        match runtime.block_on(async { tokio::time::timeout(APP_ANSWERS_WITHIN, rx).await }) {
            Ok(Ok(Ok(response))) => response,
            Ok(Ok(Err(code))) => panic!("the app answered with the error code {code:?}"),
            Ok(Err(_)) => panic!("the app ended without setting a response (a trap)"),
            Err(_) => panic!(
                "the app did not answer within {APP_ANSWERS_WITHIN:?}; Spin sets no deadline, \
                 so this request would hang there until the client gives up"
            ),
        }
    }

    /// Compiles a component with this host's engine.
    pub fn compile(&self, path: &str) -> Component {
        Component::from_file(&self.engine, path).expect("compiling a component")
    }

    /// A fresh instance over `stores`.
    pub fn instance(&self, stores: &SpinStores) -> Instance {
        let mut store = Store::new(&self.engine, InstanceState::new(stores));
        let adapter = self.pre.instantiate(&mut store).unwrap();
        Instance { store, adapter }
    }
}

/// Defines `component`'s `marcus:platform` imports in `linker` as calls into the adapter
/// functions the store will hold; returns the (interface, function) pairs to resolve.
fn forward_platform(
    engine: &Engine,
    component: &Component,
    linker: &mut Linker<InstanceState>,
) -> Vec<(String, String)> {
    let mut forwarded = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        if !name.starts_with("marcus:platform/") {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        let mut target = linker.instance(name).unwrap();
        for (function, item) in instance.exports(engine) {
            if !matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                continue;
            }
            let key = format!("{name}#{function}");
            forwarded.push((name.to_string(), function.to_string()));
            target
                .func_new(function, move |mut store, _, params, results| {
                    let func = *store
                        .data()
                        .adapter_exports
                        .get(&key)
                        .ok_or_else(|| wasmtime::format_err!("the adapter lacks {key}"))?;
                    func.call(&mut store, params, results)
                })
                .unwrap();
        }
    }
    forwarded
}

/// Instantiates the adapter in `store` and records the functions `forwarded` names.
fn link_adapter(
    store: &mut Store<InstanceState>,
    linker: &Linker<InstanceState>,
    adapter: &Component,
    forwarded: Vec<(String, String)>,
) {
    let instance = linker.instantiate(&mut *store, adapter).unwrap();
    for (interface, function) in forwarded {
        let iface = instance
            .get_export_index(&mut *store, None, &interface)
            .unwrap_or_else(|| panic!("the adapter does not export {interface}"));
        let index = instance
            .get_export_index(&mut *store, Some(&iface), &function)
            .unwrap_or_else(|| panic!("the adapter's {interface} has no {function}"));
        let func = instance.get_func(&mut *store, index).unwrap();
        store
            .data_mut()
            .adapter_exports
            .insert(format!("{interface}#{function}"), func);
    }
}

/// WASI plus the Spin stand-ins.
fn spin_linker(engine: &Engine) -> Linker<InstanceState> {
    let mut linker = Linker::<InstanceState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    Adapter::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).unwrap();
    linker
}

fn to_sql(v: sqlite::Value) -> SqlValue {
    match v {
        sqlite::Value::Integer(i) => SqlValue::Integer(i),
        sqlite::Value::Real(f) => SqlValue::Real(f),
        sqlite::Value::Text(s) => SqlValue::Text(s),
        sqlite::Value::Blob(b) => SqlValue::Blob(b),
        sqlite::Value::Null => SqlValue::Null,
    }
}

fn from_sql(v: SqlValue) -> sqlite::Value {
    match v {
        SqlValue::Integer(i) => sqlite::Value::Integer(i),
        SqlValue::Real(f) => sqlite::Value::Real(f),
        SqlValue::Text(s) => sqlite::Value::Text(s),
        SqlValue::Blob(b) => sqlite::Value::Blob(b),
        SqlValue::Null => sqlite::Value::Null,
    }
}

impl sqlite::Host for InstanceState {}

impl sqlite::HostConnection for InstanceState {
    fn open(&mut self, database: String) -> Result<Resource<SqliteHandle>, sqlite::Error> {
        if database != "default" {
            return Err(sqlite::Error::NoSuchDatabase);
        }
        if !self.stores.grant_sqlite {
            return Err(sqlite::Error::AccessDenied);
        }
        self.table
            .push(SqliteHandle)
            .map_err(|e| sqlite::Error::Io(e.to_string()))
    }

    fn execute(
        &mut self,
        _: Resource<SqliteHandle>,
        statement: String,
        parameters: Vec<sqlite::Value>,
    ) -> Result<sqlite::QueryResult, sqlite::Error> {
        let conn = self.stores.sqlite.lock().unwrap();
        let run = || -> rusqlite::Result<sqlite::QueryResult> {
            let mut stmt = conn.prepare_cached(&statement)?;
            let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
            let params: Vec<SqlValue> = parameters.into_iter().map(to_sql).collect();
            let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let values = (0..columns.len())
                    .map(|i| row.get::<_, SqlValue>(i).map(from_sql))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                out.push(sqlite::RowResult { values });
            }
            Ok(sqlite::QueryResult { columns, rows: out })
        };
        run().map_err(|e| sqlite::Error::Io(e.to_string()))
    }

    fn drop(&mut self, rep: Resource<SqliteHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl key_value::Host for InstanceState {}

impl key_value::HostStore for InstanceState {
    fn open(&mut self, label: String) -> Result<Resource<KvHandle>, key_value::Error> {
        if label != "default" {
            return Err(key_value::Error::NoSuchStore);
        }
        if !self.stores.grant_kv {
            return Err(key_value::Error::AccessDenied);
        }
        self.table
            .push(KvHandle)
            .map_err(|e| key_value::Error::Other(e.to_string()))
    }

    fn get(
        &mut self,
        _: Resource<KvHandle>,
        key: String,
    ) -> Result<Option<Vec<u8>>, key_value::Error> {
        Ok(self.stores.kv.lock().unwrap().get(&key).cloned())
    }

    fn set(
        &mut self,
        _: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), key_value::Error> {
        self.stores.kv.lock().unwrap().insert(key, value);
        Ok(())
    }

    fn delete(&mut self, _: Resource<KvHandle>, key: String) -> Result<(), key_value::Error> {
        self.stores.kv.lock().unwrap().remove(&key);
        Ok(())
    }

    fn exists(&mut self, _: Resource<KvHandle>, key: String) -> Result<bool, key_value::Error> {
        Ok(self.stores.kv.lock().unwrap().contains_key(&key))
    }

    fn get_keys(&mut self, _: Resource<KvHandle>) -> Result<Vec<String>, key_value::Error> {
        Ok(self.stores.kv.lock().unwrap().keys().cloned().collect())
    }

    fn drop(&mut self, rep: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl variables::Host for InstanceState {
    fn get(&mut self, name: String) -> Result<String, variables::Error> {
        self.stores
            .variables
            .get(&name)
            .cloned()
            .ok_or(variables::Error::Undefined(name))
    }
}

impl redis::Host for InstanceState {}

impl redis::HostConnection for InstanceState {
    fn open(&mut self, address: String) -> Result<Resource<RedisHandle>, redis::Error> {
        if address != RECORDING_REDIS {
            return Err(redis::Error::InvalidAddress);
        }
        self.table
            .push(RedisHandle(address))
            .map_err(|e| redis::Error::Other(e.to_string()))
    }

    fn publish(
        &mut self,
        conn: Resource<RedisHandle>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), redis::Error> {
        let handle = self
            .table
            .get(&conn)
            .map_err(|e| redis::Error::Other(e.to_string()))?;
        assert_eq!(handle.0, RECORDING_REDIS);
        self.stores
            .published
            .lock()
            .unwrap()
            .push((channel, payload));
        Ok(())
    }

    fn get(
        &mut self,
        _: Resource<RedisHandle>,
        _key: String,
    ) -> Result<Option<Vec<u8>>, redis::Error> {
        Ok(None)
    }

    fn set(
        &mut self,
        _: Resource<RedisHandle>,
        _key: String,
        _value: Vec<u8>,
    ) -> Result<(), redis::Error> {
        Err(unused("set"))
    }

    fn incr(&mut self, _: Resource<RedisHandle>, _key: String) -> Result<i64, redis::Error> {
        Err(unused("incr"))
    }

    fn del(&mut self, _: Resource<RedisHandle>, _keys: Vec<String>) -> Result<u32, redis::Error> {
        Err(unused("del"))
    }

    fn sadd(
        &mut self,
        _: Resource<RedisHandle>,
        _key: String,
        _values: Vec<String>,
    ) -> Result<u32, redis::Error> {
        Err(unused("sadd"))
    }

    fn smembers(
        &mut self,
        _: Resource<RedisHandle>,
        _key: String,
    ) -> Result<Vec<String>, redis::Error> {
        Err(unused("smembers"))
    }

    fn srem(
        &mut self,
        _: Resource<RedisHandle>,
        _key: String,
        _values: Vec<String>,
    ) -> Result<u32, redis::Error> {
        Err(unused("srem"))
    }

    fn execute(
        &mut self,
        _: Resource<RedisHandle>,
        _command: String,
        _arguments: Vec<redis::RedisParameter>,
    ) -> Result<Vec<redis::RedisResult>, redis::Error> {
        Err(unused("execute"))
    }

    fn drop(&mut self, rep: Resource<RedisHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl pg::Host for InstanceState {}

fn pg_param(v: pg::ParameterValue) -> Result<Box<dyn postgres::types::ToSql + Sync>, pg::Error> {
    Ok(match v {
        pg::ParameterValue::Boolean(b) => Box::new(b),
        pg::ParameterValue::Int32(n) => Box::new(n),
        pg::ParameterValue::Int64(n) => Box::new(n),
        pg::ParameterValue::Floating64(f) => Box::new(f),
        pg::ParameterValue::Str(s) => Box::new(s),
        pg::ParameterValue::DbNull => Box::new(Option::<String>::None),
        other => return Err(pg::Error::BadParameter(format!("{other:?}"))),
    })
}

fn pg_value(row: &postgres::Row, i: usize) -> pg::DbValue {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    let value = if ty == Type::INT8 {
        row.get::<_, Option<i64>>(i).map(pg::DbValue::Int64)
    } else if ty == Type::INT4 {
        row.get::<_, Option<i32>>(i).map(pg::DbValue::Int32)
    } else if ty == Type::BOOL {
        row.get::<_, Option<bool>>(i).map(pg::DbValue::Boolean)
    } else if ty == Type::FLOAT8 {
        row.get::<_, Option<f64>>(i).map(pg::DbValue::Floating64)
    } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(&ty) {
        row.get::<_, Option<String>>(i).map(pg::DbValue::Str)
    } else {
        return pg::DbValue::Unsupported;
    };
    value.unwrap_or(pg::DbValue::DbNull)
}

fn pg_error(e: postgres::Error) -> pg::Error {
    if e.as_db_error().is_some() {
        pg::Error::QueryFailed(e.to_string())
    } else {
        pg::Error::ConnectionFailed(e.to_string())
    }
}

impl pg::HostConnection for InstanceState {
    fn open(&mut self, address: String) -> Result<Resource<PgHandle>, pg::Error> {
        // A new server connection per open, as Spin's pool hands each open its own: nothing
        // is shared between two opens, and it closes when the guest drops it or the instance
        // ends.
        self.stores
            .counters
            .postgres_opens
            .fetch_add(1, Ordering::SeqCst);
        let client = postgres::Client::connect(&address, postgres::NoTls)
            .map_err(|e| pg::Error::ConnectionFailed(e.to_string()))?;
        self.table
            .push(PgHandle(client))
            .map_err(|e| pg::Error::Other(e.to_string()))
    }

    fn query(
        &mut self,
        conn: Resource<PgHandle>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> Result<pg::RowSet, pg::Error> {
        let params = params
            .into_iter()
            .map(pg_param)
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref()).collect();
        let client = &mut self
            .table
            .get_mut(&conn)
            .map_err(|e| pg::Error::Other(e.to_string()))?
            .0;
        let rows = client.query(&statement, &refs).map_err(pg_error)?;
        // Spin 4's `query` takes its column list from the first row and waits for it, so a
        // statement that yields no rows never answers there: fail loudly instead of hanging.
        assert!(
            !rows.is_empty(),
            "spin:postgres query yielded no rows, which never answers on Spin: {statement}"
        );
        let columns = rows
            .first()
            .map(|r| {
                r.columns()
                    .iter()
                    .map(|c| pg::Column {
                        name: c.name().to_string(),
                        data_type: pg::DbDataType::Other,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rows = rows
            .iter()
            .map(|r| (0..r.len()).map(|i| pg_value(r, i)).collect())
            .collect();
        Ok(pg::RowSet { columns, rows })
    }

    fn execute(
        &mut self,
        conn: Resource<PgHandle>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> Result<u64, pg::Error> {
        let params = params
            .into_iter()
            .map(pg_param)
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref()).collect();
        let client = &mut self
            .table
            .get_mut(&conn)
            .map_err(|e| pg::Error::Other(e.to_string()))?
            .0;
        client.execute(&statement, &refs).map_err(pg_error)
    }

    fn drop(&mut self, rep: Resource<PgHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

/// The stand-in implements only what the adapter calls; anything else fails loudly.
fn unused(what: &str) -> redis::Error {
    redis::Error::Other(format!("the test host does not implement redis {what}"))
}
