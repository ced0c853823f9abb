//! One queued job and its state transitions (queued → running → done, back to queued with a
//! backoff, or dead after its last attempt).

use super::backoff;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a runner until `lease_until`.
    Running,
    /// Finished (periodic jobs never reach it: they are queued again).
    Succeeded,
    /// Failed on its last allowed attempt; kept for people to inspect or retry.
    Dead,
}

impl JobStatus {
    /// The name used in the API and in storage filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
        }
    }

    /// Parses an API filter value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// How long a claim lasts: a runner that dies mid-job frees it after this (at-least-once).
pub const CLAIM_MS: u64 = 60_000;

/// One unit of background work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Time-ordered id; webhook deliveries use it as the delivery id.
    pub id: String,
    /// Which handler runs it (`webhook-delivery`, `lease-sweep`, `project-health`).
    pub kind: String,
    /// Handler input.
    #[serde(default)]
    pub payload: Value,
    /// Where it stands.
    pub status: JobStatus,
    /// Attempts started so far.
    #[serde(default)]
    pub attempts: u32,
    /// Attempts allowed before it is dead.
    pub max_attempts: u32,
    /// Not before this time (ms since the epoch).
    pub run_at: u64,
    /// While running: the claim's end.
    #[serde(default)]
    pub lease_until: Option<u64>,
    /// The last failure, for people.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Project concerned, if any (for listing).
    #[serde(default)]
    pub project_id: Option<String>,
    /// Repeat period for periodic jobs: on success they are queued again this much later.
    #[serde(default)]
    pub every_ms: Option<u64>,
    /// Created at (ms).
    pub created_at: u64,
    /// Last change (ms).
    pub updated_at: u64,
}

impl Job {
    /// A job due at `now`.
    pub fn new(id: String, kind: &str, payload: Value, max_attempts: u32, now: u64) -> Self {
        Self {
            id,
            kind: kind.to_string(),
            payload,
            status: JobStatus::Queued,
            attempts: 0,
            max_attempts: max_attempts.max(1),
            run_at: now,
            lease_until: None,
            last_error: None,
            project_id: None,
            every_ms: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether a runner may claim it now: queued and due, or running under a claim that
    /// ran out (its runner died).
    pub fn is_due(&self, now: u64) -> bool {
        match self.status {
            JobStatus::Queued => self.run_at <= now,
            JobStatus::Running => self.lease_until.is_some_and(|until| until <= now),
            JobStatus::Succeeded | JobStatus::Dead => false,
        }
    }

    /// The claimed job: running, one more attempt, held until `now + CLAIM_MS`.
    pub fn claimed(&self, now: u64) -> Self {
        Self {
            status: JobStatus::Running,
            attempts: self.attempts + 1,
            lease_until: Some(now + CLAIM_MS),
            updated_at: now,
            ..self.clone()
        }
    }

    /// After a successful run: done, or queued again one period later if periodic.
    pub fn succeeded(&self, now: u64) -> Self {
        match self.every_ms {
            Some(every) => Self {
                status: JobStatus::Queued,
                attempts: 0,
                run_at: now + every,
                lease_until: None,
                last_error: None,
                updated_at: now,
                ..self.clone()
            },
            None => Self {
                status: JobStatus::Succeeded,
                lease_until: None,
                last_error: None,
                updated_at: now,
                ..self.clone()
            },
        }
    }

    /// After a failed run: queued again after the backoff, or dead on the last attempt.
    /// Periodic jobs never die: they retry with backoff until their handler recovers.
    pub fn failed(&self, now: u64, error: &str, jitter: f64) -> Self {
        let last_error = Some(error.chars().take(2_000).collect());
        if self.attempts >= self.max_attempts && self.every_ms.is_none() {
            return Self {
                status: JobStatus::Dead,
                lease_until: None,
                last_error,
                updated_at: now,
                ..self.clone()
            };
        }
        Self {
            status: JobStatus::Queued,
            run_at: now + backoff::delay_ms(self.attempts, jitter),
            lease_until: None,
            last_error,
            updated_at: now,
            ..self.clone()
        }
    }

    /// A dead job put back in the queue by a person: due now, with a fresh set of attempts.
    pub fn retried(&self, now: u64) -> Option<Self> {
        (self.status == JobStatus::Dead).then(|| Self {
            status: JobStatus::Queued,
            attempts: 0,
            run_at: now,
            lease_until: None,
            updated_at: now,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(max: u32) -> Job {
        Job::new("job_1".into(), "webhook-delivery", json!({}), max, 1_000)
    }

    #[test]
    fn a_claim_counts_an_attempt_and_blocks_other_claims_until_it_runs_out() {
        let j = job(3);
        assert!(j.is_due(1_000) && !j.is_due(999));
        let c = j.claimed(1_000);
        assert_eq!((c.status, c.attempts), (JobStatus::Running, 1));
        assert!(!c.is_due(1_000 + CLAIM_MS - 1));
        assert!(
            c.is_due(1_000 + CLAIM_MS),
            "a dead runner's claim frees the job"
        );
    }

    #[test]
    fn failures_back_off_then_end_in_dead_letter() {
        let mut j = job(3);
        let mut now = 1_000;
        for attempt in 1..=2 {
            j = j.claimed(now).failed(now, "HTTP 500", 0.0);
            assert_eq!(j.status, JobStatus::Queued, "attempt {attempt}");
            assert_eq!(j.run_at, now + backoff::delay_ms(attempt, 0.0));
            assert!(!j.is_due(now));
            now = j.run_at;
        }
        let dead = j.claimed(now).failed(now, "HTTP 500", 0.0);
        assert_eq!(dead.status, JobStatus::Dead);
        assert_eq!(dead.attempts, 3);
        assert_eq!(dead.last_error.as_deref(), Some("HTTP 500"));
        assert!(!dead.is_due(u64::MAX));
        let again = dead.retried(now).unwrap();
        assert!(again.is_due(now) && again.attempts == 0);
        assert!(again.retried(now).is_none(), "only dead jobs are retried");
    }

    #[test]
    fn periodic_jobs_come_back_instead_of_finishing_or_dying() {
        let mut j = job(1);
        j.every_ms = Some(5_000);
        let ok = j.claimed(1_000).succeeded(1_200);
        assert_eq!(
            (ok.status, ok.run_at, ok.attempts),
            (JobStatus::Queued, 6_200, 0)
        );
        let failed = j.claimed(1_000).failed(1_200, "storage down", 0.0);
        assert_eq!(failed.status, JobStatus::Queued);
        let done = job(1).claimed(1_000).succeeded(1_100);
        assert_eq!(done.status, JobStatus::Succeeded);
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Dead,
        ] {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
        assert_eq!(JobStatus::parse("nope"), None);
    }
}
