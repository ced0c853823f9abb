//! Fresh ids and the clock, from WASI (the host supplies randomness and time).

/// A new unique id: `<prefix>-<time hex>-<64 random bits hex>`; sorts by creation time.
pub fn new_id(prefix: &str) -> String {
    let rnd = wasip2::random::random::get_random_u64();
    format!("{prefix}-{:011x}-{rnd:016x}", now_ms())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    let t = wasip2::clocks::wall_clock::now();
    t.seconds * 1000 + u64::from(t.nanoseconds / 1_000_000)
}
