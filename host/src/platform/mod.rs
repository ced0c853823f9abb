//! The `marcus:platform` imports as the host provides them: the WIT glue converts between
//! generated types and the backends behind [`Platform`].

mod audit_glue;
mod bindings;
mod cache_glue;
pub mod call_count;
mod capabilities_glue;
mod commit_glue;
mod identity_glue;
mod realtime_glue;
pub mod report_glue;
mod storage_glue;

use crate::backend_status::BackendStatus;
use crate::cache::CacheBackend;
use crate::capability_error::CapabilityError;
use crate::realtime::RealtimeBackend;
use crate::storage::StorageBackend;
use std::sync::Arc;

/// The backends of this host, shared by every request.
pub struct Platform {
    /// Storage backend.
    pub storage: Arc<dyn StorageBackend>,
    /// Cache backend.
    pub cache: Arc<dyn CacheBackend>,
    /// Realtime backend.
    pub realtime: Arc<dyn RealtimeBackend>,
    /// Push transports the host serves.
    pub push: crate::push::PushSettings,
    /// Environment facts reported to the app (version, instance id, switches).
    pub facts: Vec<(String, String)>,
    /// A Kubernetes service account is mounted.
    pub kubernetes: bool,
    /// Non-public destinations the operator lets webhook deliveries reach.
    pub webhook_allow: Arc<marcus_core::webhooks::destination::AllowList>,
    /// Requests that may wait on a realtime channel at once: each holds an instance slot
    /// while it waits, so waiting may never take every slot from other requests.
    pub waiters: Arc<tokio::sync::Semaphore>,
    /// Each tenant's quotas, checked before its writes.
    pub quotas: Arc<crate::tenants::quotas::TenantQuotas>,
}

impl Platform {
    /// Every capability's backend status, in report order.
    pub async fn backends(&self) -> Vec<(String, BackendStatus)> {
        vec![
            ("storage".to_string(), self.storage.status().await),
            ("cache".to_string(), self.cache.status().await),
            ("realtime".to_string(), self.realtime.status().await),
            ("push".to_string(), self.push.status()),
        ]
    }
}

/// Where a Kubernetes pod finds its service account.
pub const KUBERNETES_SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Whether this process runs in a Kubernetes pod.
pub fn detect_kubernetes() -> bool {
    std::path::Path::new(KUBERNETES_SERVICE_ACCOUNT).exists()
}

/// The per-request view the generated `Host` traits are implemented on.
pub struct PlatformView {
    /// The shared backends.
    pub platform: Arc<Platform>,
    /// What the app reports about this request; shared with the runner, which reads it once
    /// the response head is there while the guest may still stream the body.
    pub report: Arc<std::sync::Mutex<report_glue::RequestReport>>,
    /// The platform calls this request made; shared with the runner, which may answer it in
    /// a response header.
    pub calls: Arc<call_count::CallCount>,
    /// Who the request is, verified before the app ran.
    pub principal: Option<marcus_identity::principal::Principal>,
    /// Milliseconds this request spent waiting on realtime channels; its execution deadline
    /// moves back by as much, since a wait runs no guest code.
    pub waited_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl PlatformView {
    /// Counts one call of `interface`'s `function`.
    fn record_call(&self, interface: &'static str, function: &'static str) {
        self.calls.record(interface, function);
    }

    /// The tenant every storage, cache and realtime call of this request is scoped to: the
    /// verified principal's. A request without a principal (no credentials where they are
    /// required) or with a malformed tenant reaches no tenant's data at all.
    fn tenant(&self) -> Result<String, bindings::marcus::platform::types::Error> {
        match &self.principal {
            Some(p) if marcus_identity::tenant::check_name(&p.tenant).is_ok() => {
                Ok(p.tenant.clone())
            }
            _ => Err(bindings::marcus::platform::types::Error::Unavailable(
                "this request has no tenant, so it reaches no stored data: send credentials".into(),
            )),
        }
    }
}

fn to_wit(e: CapabilityError) -> bindings::marcus::platform::types::Error {
    use bindings::marcus::platform::types::Error as W;
    match e {
        CapabilityError::NotFound(m) => W::NotFound(m),
        CapabilityError::Conflict(m) => W::Conflict(m),
        CapabilityError::Invalid(m) => W::Invalid(m),
        CapabilityError::Unavailable(m) => W::Unavailable(m),
        CapabilityError::Internal(m) => W::Internal(m),
        CapabilityError::QuotaExceeded(m) => W::QuotaExceeded(m),
    }
}

impl bindings::marcus::platform::types::Host for PlatformView {}

/// Links the platform's interfaces into `linker`, reading the view from the store data.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut PlatformView,
) -> wasmtime::Result<()> {
    bindings::Platform::add_to_linker::<T, wasmtime::component::HasSelf<PlatformView>>(linker, get)
}

/// The report in the core's terms, for the host's own use (start-up line, logs).
pub async fn report(platform: &Platform) -> marcus_core::features::PlatformReport {
    marcus_core::features::PlatformReport {
        backends: platform
            .backends()
            .await
            .into_iter()
            .map(|(c, s)| {
                (
                    c,
                    marcus_core::features::BackendStatus {
                        name: s.name,
                        healthy: s.healthy,
                        detail: s.detail,
                    },
                )
            })
            .collect(),
        kubernetes: platform.kubernetes,
    }
}
