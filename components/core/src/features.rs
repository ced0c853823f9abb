//! Tier and feature rules: what Marcus offers, derived only from what the host reports.
//!
//! The app never reads the environment; the host tells which backends serve which
//! capability and whether they work, and these rules turn that into a tier and the
//! feature switches the dashboard and clients use.

use serde::Serialize;

/// One backend as the host reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendStatus {
    /// Backend name: sqlite, postgres, memory, redis, in-process, ...
    pub name: String,
    /// Whether it works right now.
    pub healthy: bool,
    /// Human-readable detail.
    pub detail: String,
}

/// The host's report in domain terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformReport {
    /// Backend per capability name (storage, cache, realtime, push).
    pub backends: Vec<(String, BackendStatus)>,
    /// A Kubernetes service account is mounted.
    pub kubernetes: bool,
}

impl PlatformReport {
    /// The backend serving `capability`, if the host reported one.
    pub fn backend(&self, capability: &str) -> Option<&BackendStatus> {
        self.backends
            .iter()
            .find(|(c, _)| c == capability)
            .map(|(_, b)| b)
    }

    fn healthy(&self, capability: &str, name: &str) -> bool {
        self.backend(capability)
            .is_some_and(|b| b.healthy && b.name == name)
    }
}

/// Deployment tier, from the smallest to the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// One process, SQLite, memory cache, in-process events.
    Solo,
    /// PostgreSQL storage and Redis, shared by several hosts.
    Team,
    /// Kubernetes deployment.
    Enterprise,
}

/// Feature switches, the shape clients of `/api/features` rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Live updates pushed across every host (Redis pub/sub plus a push transport).
    pub realtime: bool,
    /// Shared storage for a team: the team view.
    pub collaboration: bool,
    /// Predictive analytics over shared history.
    pub advanced_analytics: bool,
    /// No per-installation project limit.
    pub unlimited_projects: bool,
    /// The JSON API (always on).
    pub api_access: bool,
    /// Outgoing webhooks.
    pub webhooks: bool,
    /// Single sign-on.
    pub sso: bool,
    /// Tamper-evident audit log.
    pub audit_logs: bool,
}

/// Tier and capabilities together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Features {
    /// The tier the infrastructure supports right now.
    pub tier: Tier,
    /// What that tier switches on.
    pub capabilities: Capabilities,
}

/// Applies the tier rules: Kubernetes → enterprise; PostgreSQL storage and a Redis cache,
/// both healthy → team; otherwise solo. Realtime needs Redis pub/sub and a host push
/// transport, both healthy.
pub fn derive(report: &PlatformReport) -> Features {
    let postgres = report.healthy("storage", "postgres");
    let redis_cache = report.healthy("cache", "redis");
    let redis_realtime = report.healthy("realtime", "redis");
    let push = report.backend("push").is_some_and(|b| b.healthy);

    let tier = if report.kubernetes {
        Tier::Enterprise
    } else if postgres && redis_cache {
        Tier::Team
    } else {
        Tier::Solo
    };
    let team_or_more = tier != Tier::Solo;
    let enterprise = tier == Tier::Enterprise;
    Features {
        tier,
        capabilities: Capabilities {
            realtime: redis_realtime && push,
            collaboration: postgres,
            advanced_analytics: team_or_more && postgres,
            unlimited_projects: postgres,
            api_access: true,
            webhooks: team_or_more,
            sso: enterprise,
            audit_logs: enterprise,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(name: &str, healthy: bool) -> BackendStatus {
        BackendStatus {
            name: name.into(),
            healthy,
            detail: String::new(),
        }
    }

    fn report(storage: &str, cache: &str, realtime: &str, push: bool, k8s: bool) -> PlatformReport {
        let mut backends = vec![
            ("storage".to_string(), backend(storage, true)),
            ("cache".to_string(), backend(cache, true)),
            ("realtime".to_string(), backend(realtime, true)),
        ];
        if push {
            backends.push(("push".to_string(), backend("websocket+sse", true)));
        }
        PlatformReport {
            backends,
            kubernetes: k8s,
        }
    }

    #[test]
    fn solo_defaults() {
        let f = derive(&report("sqlite", "memory", "in-process", true, false));
        assert_eq!(f.tier, Tier::Solo);
        let c = f.capabilities;
        assert!(c.api_access);
        assert!(!c.realtime && !c.collaboration && !c.advanced_analytics);
        assert!(!c.unlimited_projects && !c.webhooks && !c.sso && !c.audit_logs);
    }

    #[test]
    fn team_with_postgres_and_redis() {
        let f = derive(&report("postgres", "redis", "redis", true, false));
        assert_eq!(f.tier, Tier::Team);
        let c = f.capabilities;
        assert!(c.realtime && c.collaboration && c.advanced_analytics && c.webhooks);
        assert!(!c.sso && !c.audit_logs);
    }

    #[test]
    fn unhealthy_redis_drops_to_solo_features() {
        let mut r = report("postgres", "redis", "redis", true, false);
        r.backends[1].1.healthy = false;
        r.backends[2].1.healthy = false;
        let f = derive(&r);
        assert_eq!(f.tier, Tier::Solo);
        assert!(!f.capabilities.realtime);
        assert!(f.capabilities.collaboration, "postgres still shared");
    }

    #[test]
    fn kubernetes_is_enterprise() {
        let f = derive(&report("sqlite", "memory", "in-process", false, true));
        assert_eq!(f.tier, Tier::Enterprise);
        assert!(f.capabilities.sso && f.capabilities.audit_logs && f.capabilities.webhooks);
    }

    #[test]
    fn realtime_needs_push() {
        let f = derive(&report("postgres", "redis", "redis", false, false));
        assert!(!f.capabilities.realtime);
    }

    #[test]
    fn tier_serializes_lowercase() {
        assert_eq!(serde_json::to_string(&Tier::Team).unwrap(), "\"team\"");
    }
}
