//! Cache keys written while Redis was away: Redis still holds whatever it had for them, and
//! other hosts would read that as current once it answers again. They are deleted from Redis
//! before this host trusts it again (a deleted key is only a miss; a generation key that is
//! gone gets a fresh one), and past a bound the whole cache is dropped instead.

use std::collections::BTreeSet;

/// Keys remembered one by one; beyond this the next recovery clears the whole cache.
pub const MAX_KEYS: usize = 10_000;

/// What has to be invalidated in Redis when it is back.
#[derive(Debug, Default)]
pub struct PendingInvalidations {
    keys: BTreeSet<String>,
    everything: bool,
}

impl PendingInvalidations {
    /// Remembers that `key` (a full Redis key) changed here while Redis did not hear of it.
    pub fn key(&mut self, key: String) {
        if self.everything {
            return;
        }
        if self.keys.len() >= MAX_KEYS {
            self.everything();
            return;
        }
        self.keys.insert(key);
    }

    /// Remembers that the whole cache must go (a clear, or too many keys to list).
    pub fn everything(&mut self) {
        self.everything = true;
        self.keys.clear();
    }

    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.keys.is_empty()
    }

    /// Takes the work out, leaving nothing pending: `(keys, clear everything)`.
    pub fn take(&mut self) -> (Vec<String>, bool) {
        let everything = std::mem::take(&mut self.everything);
        (
            std::mem::take(&mut self.keys).into_iter().collect(),
            everything,
        )
    }

    /// Puts back work that could not be done.
    pub fn restore(&mut self, keys: Vec<String>, everything: bool) {
        if everything {
            self.everything();
        }
        for k in keys {
            self.key(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_collect_until_the_bound_then_everything_goes() {
        let mut p = PendingInvalidations::default();
        assert!(p.is_empty());
        p.key("a".into());
        p.key("a".into());
        p.key("b".into());
        assert_eq!(p.take(), (vec!["a".to_string(), "b".to_string()], false));
        assert!(p.is_empty());
        for i in 0..=MAX_KEYS {
            p.key(format!("k{i}"));
        }
        assert_eq!(p.take(), (vec![], true));
        p.restore(vec!["x".into()], false);
        assert_eq!(p.take(), (vec!["x".to_string()], false));
        p.restore(vec!["y".into()], true);
        assert_eq!(p.take(), (vec![], true));
    }
}
