//! A record as the stores keep it: the body and its place in the chain, plus the columns
//! readers filter on (copies of body fields, checked against the body by verification).

use super::chain;
use super::entry::Entry;
use serde_json::Value;

/// One stored row of a tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The chain it belongs to.
    pub tenant: String,
    /// Its place in the chain: 1, 2, 3… with no gaps.
    pub seq: u64,
    /// The record's id.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// The actor's id.
    pub actor: String,
    /// The action.
    pub action: String,
    /// The outcome's name.
    pub outcome: String,
    /// `kind/id` of the target.
    pub target: String,
    /// The entry's canonical JSON.
    pub body: String,
    /// The previous record's hash ([`chain::GENESIS`] for the first).
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

impl StoredRecord {
    /// `entry` placed at `seq` after the record whose hash is `prev_hash`.
    pub fn place(entry: &Entry, seq: u64, prev_hash: &str) -> Self {
        Self::place_body(entry, entry.body(), seq, prev_hash)
    }

    /// [`place`](Self::place) with the entry's body already made, so a writer makes it
    /// before it takes the chain's lock and only links it under the lock.
    pub fn place_body(entry: &Entry, body: String, seq: u64, prev_hash: &str) -> Self {
        Self {
            tenant: entry.tenant.clone(),
            seq,
            id: entry.id.clone(),
            at: entry.at,
            actor: entry.actor.id.clone(),
            action: entry.action.clone(),
            outcome: entry.outcome.as_str().to_string(),
            target: entry.target.key(),
            hash: chain::link(prev_hash, seq, &body),
            prev_hash: prev_hash.to_string(),
            body,
        }
    }

    /// The record as readers see it (the API, the export, a SIEM): the body's fields with
    /// `seq`, `prev_hash` and `hash`.
    pub fn to_json(&self) -> Value {
        let mut value: Value =
            serde_json::from_str(&self.body).unwrap_or_else(|_| Value::String(self.body.clone()));
        if let Value::Object(map) = &mut value {
            map.insert("seq".into(), self.seq.into());
            map.insert("prev_hash".into(), self.prev_hash.clone().into());
            map.insert("hash".into(), self.hash.clone().into());
        }
        value
    }

    /// What is wrong with this row by itself: a hash that is not its link, or a column that
    /// disagrees with its body.
    pub fn fault(&self) -> Option<String> {
        if chain::link(&self.prev_hash, self.seq, &self.body) != self.hash {
            return Some("its hash is not the hash of its content".into());
        }
        let entry = match Entry::from_body(&self.body) {
            Ok(e) => e,
            Err(e) => return Some(e),
        };
        let columns = [
            ("tenant", entry.tenant == self.tenant),
            ("id", entry.id == self.id),
            ("at", entry.at == self.at),
            ("actor", entry.actor.id == self.actor),
            ("action", entry.action == self.action),
            ("outcome", entry.outcome.as_str() == self.outcome),
            ("target", entry.target.key() == self.target),
        ];
        columns
            .iter()
            .find(|(_, same)| !same)
            .map(|(name, _)| format!("its {name} column differs from its hashed content"))
    }
}
