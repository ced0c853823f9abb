//! Fresh ids and the clock, from the platform (the host supplies randomness and time).

/// A new unique id: `<prefix>-<time hex>-<64 random bits hex>`; sorts by creation time.
pub fn new_id(prefix: &str) -> String {
    let rnd = crate::platform::current().random_u64();
    format!("{prefix}-{:011x}-{rnd:016x}", now_ms())
}

/// A number in `[0, 1)` from the host's randomness (retry and TTL jitter).
pub fn unit_random() -> f64 {
    (crate::platform::current().random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// 64 random bits as 16 hex digits (cache generations).
pub fn random_hex() -> String {
    format!("{:016x}", crate::platform::current().random_u64())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    crate::platform::current().now_ms()
}
