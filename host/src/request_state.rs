//! What one request's store holds: WASI contexts, the platform view and resource limits.

use crate::outbound_http::OutboundHttp;
use crate::platform::{Platform, PlatformView};
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Store data of one request's instance.
pub struct RequestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHttp,
    table: ResourceTable,
    /// Memory and instance caps for this request.
    pub limits: StoreLimits,
    /// The platform capabilities as the guest sees them.
    pub platform: PlatformView,
}

impl RequestState {
    /// Fresh state for one request made by `principal` (none: no credentials where they are
    /// required); guest stdout/stderr go to the host's stderr.
    pub fn new(
        platform: Arc<Platform>,
        memory_limit_bytes: usize,
        principal: Option<marcus_identity::principal::Principal>,
    ) -> Self {
        Self {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            hooks: OutboundHttp::new(platform.webhook_allow.clone()),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_limit_bytes)
                .instances(64)
                .tables(64)
                .memories(16)
                .trap_on_grow_failure(false)
                .build(),
            platform: PlatformView {
                platform,
                report: Default::default(),
                calls: Default::default(),
                principal,
                waited_ms: Default::default(),
            },
        }
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// For hosts whose guests make no outgoing HTTP requests; refusing them keeps the host's attack surface
/// (and its TLS stack) out of the guest's reach.
pub struct NoOutboundHttp;

impl wasmtime_wasi_http::WasiHttpHooks for NoOutboundHttp {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}
