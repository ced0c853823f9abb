//! `marcus:platform/cache` on Spin key-value (store `default`).
//!
//! Spin's key-value has no expiry, so each value is stored behind its expiry time (8 bytes,
//! milliseconds since the epoch, big-endian) and an expired value reads as a miss and is
//! removed. An empty value is a hit, as the contract requires. `add` is not atomic here.
//!
//! The store is the whole application's: every key is the request's tenant's
//! (`tenant::scoped`), so a tenant reads, deletes and clears only its own entries.

use crate::bindings::Error;
use crate::bindings::cache::Guest;
use crate::bindings::key_value::{self, Store};
use crate::{checks, request_scope};
use marcus_identity::tenant;

/// The Spin key-value store label Marcus uses.
pub const STORE: &str = "default";
/// Prefix of cache keys, so `clear` leaves other users of the store alone.
const PREFIX: &str = "cache/";
/// TTL when the caller gives none, as on the native host.
pub const DEFAULT_TTL_SECONDS: u32 = 300;

/// Maps a Spin key-value error to the platform's error.
pub fn to_platform(e: key_value::Error) -> Error {
    match e {
        key_value::Error::NoSuchStore => Error::Unavailable(format!(
            "Spin key-value store {STORE:?} does not exist; add key_value_stores = [\"{STORE}\"]"
        )),
        key_value::Error::AccessDenied => Error::Unavailable(format!(
            "this component is not granted Spin key-value store {STORE:?} \
             (key_value_stores in spin.toml, dependencies_inherit_configuration)"
        )),
        key_value::Error::StoreTableFull => {
            Error::Unavailable("too many Spin key-value stores are open".into())
        }
        key_value::Error::Other(message) => Error::Internal(format!("key-value: {message}")),
    }
}

/// Opens the store.
pub fn open() -> Result<Store, Error> {
    request_scope::not_refused()?;
    Store::open(STORE).map_err(to_platform)
}

/// The store and the stored name of the request tenant's `key`; fails closed when no
/// tenant is established.
fn open_for(key: &str) -> Result<(Store, String), Error> {
    let full = format!("{PREFIX}{}", tenant::scoped(&request_scope::tenant()?, key));
    Ok((open()?, full))
}

/// The value of a stored entry if it has not expired at `now`.
fn live(stored: &[u8], now: u64) -> Option<Vec<u8>> {
    let (expiry, value) = stored.split_first_chunk::<8>()?;
    (u64::from_be_bytes(*expiry) > now).then(|| value.to_vec())
}

impl Guest for crate::Adapter {
    fn get(key: String) -> Result<Option<Vec<u8>>, Error> {
        let (store, full) = open_for(&key)?;
        let Some(stored) = store.get(&full).map_err(to_platform)? else {
            return Ok(None);
        };
        match live(&stored, checks::now_ms()) {
            Some(value) => Ok(Some(value)),
            None => {
                store.delete(&full).map_err(to_platform)?;
                Ok(None)
            }
        }
    }

    fn set(key: String, value: Vec<u8>, ttl_seconds: Option<u32>) -> Result<(), Error> {
        let ttl = ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS).max(1) as u64;
        let expiry = checks::now_ms() + ttl * 1000;
        let mut stored = Vec::with_capacity(8 + value.len());
        stored.extend_from_slice(&expiry.to_be_bytes());
        stored.extend_from_slice(&value);
        let (store, full) = open_for(&key)?;
        store.set(&full, &stored).map_err(to_platform)
    }

    /// Spin 3's key-value has no conditional set, so this is a read then a write: two
    /// requests racing inside that gap may both win (single-flight degrades to "a few").
    fn add(key: String, value: Vec<u8>, ttl_seconds: Option<u32>) -> Result<bool, Error> {
        if Self::get(key.clone())?.is_some() {
            return Ok(false);
        }
        Self::set(key, value, ttl_seconds)?;
        Ok(true)
    }

    fn delete(key: String) -> Result<bool, Error> {
        let (store, full) = open_for(&key)?;
        let Some(stored) = store.get(&full).map_err(to_platform)? else {
            return Ok(false);
        };
        store.delete(&full).map_err(to_platform)?;
        Ok(live(&stored, checks::now_ms()).is_some())
    }

    /// Removes the request tenant's entries only: the others' stay.
    fn clear() -> Result<(), Error> {
        let (store, prefix) = open_for("")?;
        for key in store.get_keys().map_err(to_platform)? {
            if key.starts_with(&prefix) {
                store.delete(&key).map_err(to_platform)?;
            }
        }
        Ok(())
    }
}
