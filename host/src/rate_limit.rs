//! Request budgets, so one client cannot starve the others or guess credentials at speed:
//! each verified principal has a budget per minute, and requests without (valid)
//! credentials share one per client address. A refused credential costs
//! [`FAILED_CREDENTIALS_COST`] requests of its address's budget, so repeated failures slow
//! down quickly. The person at the keyboard of a loopback server (the local admin) has no
//! limit.
//!
//! One host keeps its budgets in process (`governor`'s GCRA). With Redis (the team tier)
//! the budgets are shared by every host through fixed one-minute windows, and fall back to
//! the in-process ones while Redis is away. Every limited answer carries `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset`; a refusal is `429 rate_limited` with
//! `Retry-After`.

use crate::json_error;
use crate::redis_link::RedisLink;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};
use hyper::header::HeaderValue;
use marcus_identity::principal::{Principal, Verification};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Requests a refused credential costs its client address.
pub const FAILED_CREDENTIALS_COST: u32 = 10;

/// The window of the shared (Redis) budgets.
const WINDOW_MS: u64 = 60_000;

/// Checks between clean-ups of idle in-process budgets.
const RETAIN_EVERY: u64 = 10_000;

type Keyed = RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// Whose budget a request spends.
pub enum Budget {
    /// A verified principal (tenant, how verified and subject make the key).
    Principal(String),
    /// A client address without valid credentials.
    Address(IpAddr),
}

impl Budget {
    /// The budget a request of `principal` from `peer` spends: the principal's when it was
    /// verified, the address's otherwise; none for the local admin of a loopback server.
    pub fn of(principal: Option<&Principal>, peer: IpAddr) -> Option<Self> {
        match principal {
            Some(p) if p.verified_by == Verification::Local => None,
            Some(p) if p.verified_by != Verification::Unverified => Some(Budget::Principal(
                format!("{}/{}/{}", p.tenant, p.verified_by.as_str(), p.subject),
            )),
            _ => Some(Budget::Address(peer)),
        }
    }
}

/// The outcome of spending from a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Requests per minute.
    pub limit: u32,
    /// Requests left now.
    pub remaining: u32,
    /// Seconds until the budget is whole again.
    pub reset_s: u64,
    /// Seconds to wait before the next request, when this one is refused.
    pub retry_after_s: Option<u64>,
}

impl Verdict {
    /// Whether the request is refused.
    pub fn refused(&self) -> bool {
        self.retry_after_s.is_some()
    }

    /// Adds the `RateLimit-*` headers (and `Retry-After` on a refusal).
    pub fn annotate<B>(&self, response: &mut hyper::Response<B>) {
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset_s));
        if let Some(wait) = self.retry_after_s {
            headers.insert(hyper::header::RETRY_AFTER, HeaderValue::from(wait));
        }
    }

    /// The `429` answer of a refused request.
    pub fn refusal(&self) -> hyper::Response<HyperOutgoingBody> {
        metrics::counter!("marcus_rate_limited_total").increment(1);
        let mut response = json_error::response(
            429,
            "rate_limited",
            &format!(
                "too many requests: {} a minute are allowed; retry in {} s",
                self.limit,
                self.retry_after_s.unwrap_or(1)
            ),
        );
        self.annotate(&mut response);
        response
    }
}

/// The budgets of one server.
pub struct RateLimits {
    principals: Option<(u32, Keyed)>,
    addresses: Option<(u32, Keyed)>,
    redis: Option<Arc<RedisLink>>,
    checks: AtomicU64,
}

impl RateLimits {
    /// Budgets of `per_principal` and `per_address` requests a minute (0: no limit), shared
    /// through `redis` when there is one.
    pub fn new(per_principal: u32, per_address: u32, redis: Option<Arc<RedisLink>>) -> Self {
        let limiter = |n: u32| {
            NonZeroU32::new(n).map(|n| {
                (
                    n.get(),
                    RateLimiter::keyed(Quota::per_minute(n))
                        .with_middleware::<StateInformationMiddleware>(),
                )
            })
        };
        Self {
            principals: limiter(per_principal),
            addresses: limiter(per_address),
            redis,
            checks: AtomicU64::new(0),
        }
    }

    /// Spends `cost` requests from `budget`; `None` when no limit applies to it.
    pub async fn spend(&self, budget: Budget, cost: u32) -> Option<Verdict> {
        let (kind, key, (limit, local)) = match budget {
            Budget::Principal(key) => ("p", key, self.principals.as_ref()?),
            Budget::Address(ip) => ("a", ip.to_string(), self.addresses.as_ref()?),
        };
        if let Some(verdict) = self.shared(kind, &key, *limit, cost).await {
            return Some(verdict);
        }
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            local.retain_recent();
        }
        Some(in_process(local, &key, *limit, cost))
    }

    /// Spends one request of `tenant`'s budget of `limit` a minute from the window every host
    /// shares through Redis; `None` without a healthy Redis (the caller keeps the budget in
    /// process then).
    pub async fn spend_tenant(&self, tenant: &str, limit: u32) -> Option<Verdict> {
        self.shared("t", tenant, limit, 1).await
    }

    /// The shared budget's verdict, or `None` without a healthy Redis.
    async fn shared(&self, kind: &str, key: &str, limit: u32, cost: u32) -> Option<Verdict> {
        let link = self.redis.as_ref()?;
        let mut connection = link.connection()?;
        let now = crate::storage::now_ms();
        let window = now / WINDOW_MS;
        let redis_key = link.key(&format!("ratelimit:{kind}:{key}:{window}"));
        let mut pipe = redis::pipe();
        pipe.cmd("INCRBY")
            .arg(&redis_key)
            .arg(cost)
            .cmd("PEXPIRE")
            .arg(&redis_key)
            .arg(2 * WINDOW_MS)
            .ignore();
        let (count,): (u64,) = link.run(pipe.query_async(&mut connection)).await.ok()?;
        let reset_s = ((window + 1) * WINDOW_MS - now).div_ceil(1000);
        Some(Verdict {
            limit,
            remaining: u64::from(limit).saturating_sub(count) as u32,
            reset_s,
            retry_after_s: (count > u64::from(limit)).then_some(reset_s.max(1)),
        })
    }
}

/// The in-process budget's verdict.
fn in_process(local: &Keyed, key: &String, limit: u32, cost: u32) -> Verdict {
    let per_request_s = 60.0 / f64::from(limit);
    let cost_nz = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
    match local.check_key_n(key, cost_nz) {
        Ok(Ok(state)) => {
            let remaining = state.remaining_burst_capacity();
            Verdict {
                limit,
                remaining,
                reset_s: (f64::from(limit - remaining.min(limit)) * per_request_s).ceil() as u64,
                retry_after_s: None,
            }
        }
        Ok(Err(not_until)) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Verdict {
                limit,
                remaining: 0,
                reset_s: (f64::from(limit) * per_request_s).ceil() as u64,
                retry_after_s: Some(wait.as_secs_f64().ceil().max(1.0) as u64),
            }
        }
        // More than the whole budget at once.
        Err(_) => Verdict {
            limit,
            remaining: 0,
            reset_s: 60,
            retry_after_s: Some(60),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_budget_runs_out_and_others_are_untouched() {
        let limits = RateLimits::new(3, 0, None);
        let spend = || limits.spend(Budget::Principal("default/token/ci".into()), 1);
        let first = spend().await.unwrap();
        assert_eq!(
            (first.limit, first.remaining, first.refused()),
            (3, 2, false)
        );
        assert!(!spend().await.unwrap().refused());
        assert!(!spend().await.unwrap().refused());
        let refused = spend().await.unwrap();
        assert!(refused.refused());
        assert!(refused.retry_after_s.unwrap() >= 1);
        let other = limits
            .spend(Budget::Principal("default/token/other".into()), 1)
            .await
            .unwrap();
        assert!(!other.refused());
        // No address budget was configured.
        assert!(
            limits
                .spend(Budget::Address("192.0.2.1".parse().unwrap()), 1)
                .await
                .is_none()
        );
    }

    #[test]
    fn the_local_admin_spends_nothing_and_the_unverified_spend_per_address() {
        let ip: IpAddr = "192.0.2.3".parse().unwrap();
        assert!(Budget::of(Some(&Principal::local_admin()), ip).is_none());
        assert!(matches!(
            Budget::of(Some(&Principal::unverified_admin()), ip),
            Some(Budget::Address(a)) if a == ip
        ));
        assert!(matches!(Budget::of(None, ip), Some(Budget::Address(_))));
        assert!(Budget::of(Some(&Principal::host_job()), ip).is_none());
    }

    #[tokio::test]
    async fn failed_credentials_cost_more() {
        let limits = RateLimits::new(0, 25, None);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..2 {
            let v = limits
                .spend(Budget::Address(ip), FAILED_CREDENTIALS_COST)
                .await
                .unwrap();
            assert!(!v.refused(), "{v:?}");
        }
        let third = limits
            .spend(Budget::Address(ip), FAILED_CREDENTIALS_COST)
            .await
            .unwrap();
        assert!(third.refused(), "{third:?}");
    }
}
