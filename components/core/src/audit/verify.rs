//! Verification of one tenant's stored log: the records are read in sequence order and
//! checked one by one (so a million records need no memory beyond one row), against the
//! signed checkpoints read first. The answer is the first bad sequence number and why.

use super::chain::GENESIS;
use super::checkpoint::SignedCheckpoint;
use super::stored::StoredRecord;

/// Where and why a log stops verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The first sequence number that is missing, altered or out of place.
    pub seq: u64,
    /// What is wrong there.
    pub reason: String,
}

/// What an intact log holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records checked.
    pub records: u64,
    /// The first record's sequence number (above 1 when retention pruned older ones).
    pub first_seq: Option<u64>,
    /// The last record's sequence number.
    pub last_seq: Option<u64>,
    /// Signed checkpoints checked.
    pub checkpoints: u64,
    /// Records after the last checkpoint: intact as a chain, but not yet signed, so a
    /// truncation among them could not be told apart from a shorter log.
    pub unsigned_tail: u64,
}

/// Checks one tenant's records as they are read.
pub struct ChainVerifier {
    tenant: String,
    checkpoints: Vec<SignedCheckpoint>,
    next_checkpoint: usize,
    last: Option<(u64, String)>,
    summary: Summary,
}

impl ChainVerifier {
    /// A verifier of `tenant`'s log with its `checkpoints` (any order); each must be signed
    /// by one of `trusted` (hex public keys), or by any key when `trusted` is empty. A
    /// checkpoint that fails is the break.
    pub fn new(
        tenant: &str,
        mut checkpoints: Vec<SignedCheckpoint>,
        trusted: &[String],
    ) -> Result<Self, Break> {
        checkpoints.sort_by_key(|c| c.checkpoint.seq);
        let mut prev_signature = String::new();
        let mut prev_seq = 0;
        for c in &checkpoints {
            let seq = c.checkpoint.seq;
            let fail = |reason: String| Break {
                seq,
                reason: format!("the checkpoint at {seq}: {reason}"),
            };
            if c.checkpoint.tenant != tenant {
                return Err(fail(format!("it names tenant {:?}", c.checkpoint.tenant)));
            }
            if seq == prev_seq {
                return Err(fail("there are two".into()));
            }
            c.check_signature().map_err(fail)?;
            if !trusted.is_empty()
                && !trusted
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&c.public_key))
            {
                return Err(fail(format!(
                    "it is signed by {}, which is not a trusted key",
                    c.public_key
                )));
            }
            if c.checkpoint.prev_signature != prev_signature {
                return Err(fail(
                    "it does not follow the checkpoint before it (one was removed or replaced)"
                        .into(),
                ));
            }
            prev_signature = c.signature.clone();
            prev_seq = seq;
        }
        Ok(Self {
            tenant: tenant.to_string(),
            summary: Summary {
                checkpoints: checkpoints.len() as u64,
                ..Default::default()
            },
            checkpoints,
            next_checkpoint: 0,
            last: None,
        })
    }

    /// Checks the next record in sequence order.
    pub fn record(&mut self, r: &StoredRecord) -> Result<(), Break> {
        let fail = |seq: u64, reason: &str| Break {
            seq,
            reason: reason.to_string(),
        };
        if r.tenant != self.tenant {
            return Err(fail(r.seq, "it belongs to another tenant"));
        }
        match &self.last {
            None => {
                if r.seq != 1 {
                    // Records before it went: only retention may do that, and only behind
                    // a checkpoint that vouches for this first remaining record.
                    let anchored = self
                        .checkpoints
                        .iter()
                        .any(|c| c.checkpoint.seq == r.seq && c.checkpoint.hash == r.hash);
                    if !anchored {
                        return Err(fail(
                            1,
                            "records before this one are missing and no checkpoint vouches for the rest",
                        ));
                    }
                } else if r.prev_hash != GENESIS {
                    return Err(fail(1, "the first record does not start the chain"));
                }
                self.summary.first_seq = Some(r.seq);
                while self
                    .checkpoints
                    .get(self.next_checkpoint)
                    .is_some_and(|c| c.checkpoint.seq < r.seq)
                {
                    self.next_checkpoint += 1;
                }
            }
            Some((seq, hash)) => {
                let expected = seq + 1;
                if r.seq > expected {
                    return Err(fail(expected, "this record is missing"));
                }
                if r.seq < expected {
                    return Err(fail(r.seq, "this record is out of order or repeated"));
                }
                if let Some(why) = r.fault() {
                    return Err(fail(r.seq, &why));
                }
                if &r.prev_hash != hash {
                    // This record is whole, so the one before it was rewritten.
                    return Err(fail(
                        *seq,
                        "this record was rewritten: the next record's link does not match it",
                    ));
                }
            }
        }
        if let Some(why) = r.fault() {
            return Err(fail(r.seq, &why));
        }
        while let Some(c) = self.checkpoints.get(self.next_checkpoint) {
            if c.checkpoint.seq != r.seq {
                break;
            }
            if c.checkpoint.hash != r.hash {
                return Err(fail(
                    r.seq,
                    "this record differs from what its signed checkpoint vouches for",
                ));
            }
            self.next_checkpoint += 1;
        }
        self.summary.records += 1;
        self.summary.last_seq = Some(r.seq);
        self.last = Some((r.seq, r.hash.clone()));
        Ok(())
    }

    /// The summary, once every record was read; a checkpoint past the last record means
    /// records it vouched for were removed.
    pub fn finish(mut self) -> Result<Summary, Break> {
        if let Some(c) = self.checkpoints.get(self.next_checkpoint) {
            let seq = self.last.as_ref().map_or(1, |(s, _)| s + 1);
            return Err(Break {
                seq,
                reason: format!(
                    "records up to {} were signed by a checkpoint and are missing (the log was truncated)",
                    c.checkpoint.seq
                ),
            });
        }
        let signed_through = self.checkpoints.last().map_or(0, |c| c.checkpoint.seq);
        self.summary.unsigned_tail = self.summary.last_seq.map_or(0, |last| {
            last.saturating_sub(signed_through.max(self.summary.first_seq.unwrap_or(1) - 1))
        });
        Ok(self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::super::checkpoint::Checkpoint;
    use super::super::entry::{Actor, Entry, Outcome, RequestInfo, Target};
    use super::*;
    use ed25519_dalek::SigningKey;

    fn entry(i: u64) -> Entry {
        Entry {
            id: format!("r{i}"),
            at: i,
            tenant: "acme".into(),
            actor: Actor {
                kind: "user".into(),
                id: "alice".into(),
                verified_by: "token".into(),
                ..Default::default()
            },
            action: "task.claim".into(),
            outcome: Outcome::Success,
            target: Target {
                kind: "task".into(),
                id: format!("T-{i}"),
            },
            request: RequestInfo::default(),
            details: serde_json::Value::Null,
        }
    }

    fn chain(n: u64) -> Vec<StoredRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|i| {
                let r = StoredRecord::place(&entry(i), i, &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn checkpoints(
        records: &[StoredRecord],
        at: &[u64],
        key: &SigningKey,
    ) -> Vec<SignedCheckpoint> {
        let mut prev = String::new();
        at.iter()
            .map(|seq| {
                let c = Checkpoint {
                    tenant: "acme".into(),
                    seq: *seq,
                    hash: records[*seq as usize - 1].hash.clone(),
                    at: 0,
                    prev_signature: prev.clone(),
                }
                .sign(key);
                prev = c.signature.clone();
                c
            })
            .collect()
    }

    fn run(records: &[StoredRecord], cps: Vec<SignedCheckpoint>) -> Result<Summary, Break> {
        let mut v = ChainVerifier::new("acme", cps, &[])?;
        for r in records {
            v.record(r)?;
        }
        v.finish()
    }

    #[test]
    fn an_untouched_log_verifies_and_each_kind_of_tampering_is_named() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let records = chain(10);
        let cps = checkpoints(&records, &[4, 8], &key);
        let s = run(&records, cps.clone()).unwrap();
        assert_eq!((s.records, s.checkpoints, s.unsigned_tail), (10, 2, 2));

        let mut edited = records.clone();
        edited[4].body = edited[4].body.replace("T-5", "T-X");
        assert_eq!(run(&edited, cps.clone()).unwrap_err().seq, 5);

        let mut rehashed = records.clone();
        let e = Entry {
            action: "task.other".into(),
            ..entry(5)
        };
        rehashed[4] = StoredRecord::place(&e, 5, &records[3].hash);
        assert_eq!(run(&rehashed, cps.clone()).unwrap_err().seq, 5);

        let mut column = records.clone();
        column[2].outcome = "denied".into();
        assert_eq!(run(&column, cps.clone()).unwrap_err().seq, 3);

        let mut deleted = records.clone();
        deleted.remove(6);
        assert_eq!(run(&deleted, cps.clone()).unwrap_err().seq, 7);

        let mut swapped = records.clone();
        let (a, b) = (swapped[5].clone(), swapped[6].clone());
        swapped[5] = StoredRecord { seq: 6, ..b };
        swapped[6] = StoredRecord { seq: 7, ..a };
        assert_eq!(run(&swapped, cps.clone()).unwrap_err().seq, 6);

        let truncated = &records[..6];
        let b = run(truncated, cps.clone()).unwrap_err();
        assert_eq!(b.seq, 7, "{b:?}");

        let mut dropped_checkpoint = cps.clone();
        dropped_checkpoint.remove(0);
        assert_eq!(run(&records, dropped_checkpoint).unwrap_err().seq, 8);

        let foreign = checkpoints(&records, &[4, 8], &SigningKey::from_bytes(&[2; 32]));
        let trusted = vec![cps[0].public_key.clone()];
        assert!(ChainVerifier::new("acme", foreign, &trusted).is_err());
    }

    #[test]
    fn a_pruned_prefix_verifies_only_behind_a_checkpoint() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let records = chain(10);
        let cps = checkpoints(&records, &[4, 8], &key);
        let s = run(&records[3..], cps.clone()).unwrap();
        assert_eq!((s.first_seq, s.records), (Some(4), 7));
        assert_eq!(run(&records[4..], cps).unwrap_err().seq, 1);
    }
}
