//! How much the realtime capability holds and hands out, the same on every host: events are
//! small notices (board events are well under a kilobyte; artifacts stay in storage), so
//! one oversized publish, or a channel of them, must never grow a host's memory without
//! bound or make a poll answer too large for the app's memory cap.

/// Events a channel keeps (the newest), on every host: a reader further behind resumes from
/// the oldest kept, the same way on each.
pub const RETAIN_EVENTS: usize = 1000;

/// Age in milliseconds (one hour) past which an event is no longer kept.
pub const RETAIN_MS: u64 = 60 * 60 * 1000;

/// Largest payload of one event, in bytes; a larger publish is refused (413 on the API).
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Payload bytes a channel keeps; the oldest events go first when it would hold more.
pub const MAX_CHANNEL_BYTES: usize = 4 * 1024 * 1024;

/// Payload bytes an in-process backend keeps over all channels (oldest events go first).
pub const MAX_TOTAL_BYTES: usize = 64 * 1024 * 1024;

/// Payload bytes one poll answer carries at most; the reader asks again from the last
/// sequence number it got, so paging is invisible to it.
pub const MAX_POLL_BYTES: usize = 1024 * 1024;

/// Longest `realtime.wait`, in milliseconds: an agent waiting for work asks again at least
/// once a minute, so a lost connection or a host restart never leaves it waiting for long.
pub const MAX_WAIT_MS: u32 = 60_000;

/// How often a host without a live event feed (the Spin adapter) looks at a channel while a
/// request waits on it, in milliseconds.
pub const WAIT_POLL_MS: u64 = 100;

/// The refusal for a payload over [`MAX_EVENT_BYTES`], or `None` when it may be published.
pub fn oversized(payload_bytes: usize) -> Option<String> {
    (payload_bytes > MAX_EVENT_BYTES).then(|| {
        format!("an event of {payload_bytes} bytes exceeds the limit of {MAX_EVENT_BYTES} bytes")
    })
}

/// How many of the events (given by payload size, in order) one poll answer takes: as many
/// as fit in [`MAX_POLL_BYTES`], and always the first, so a reader always makes progress.
pub fn poll_page_len(sizes: impl IntoIterator<Item = usize>) -> usize {
    let mut total = 0usize;
    let mut taken = 0usize;
    for size in sizes {
        total = total.saturating_add(size);
        if taken > 0 && total > MAX_POLL_BYTES {
            break;
        }
        taken += 1;
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_over_the_cap_are_refused() {
        assert!(oversized(MAX_EVENT_BYTES).is_none());
        assert!(oversized(MAX_EVENT_BYTES + 1).is_some());
    }

    #[test]
    fn a_poll_page_stops_at_the_byte_budget_but_always_moves() {
        assert_eq!(poll_page_len([10, 10, 10]), 3);
        assert_eq!(poll_page_len(std::iter::repeat_n(MAX_EVENT_BYTES, 100)), 16);
        assert_eq!(poll_page_len([MAX_POLL_BYTES * 2, 1]), 1);
        assert_eq!(poll_page_len([]), 0);
    }
}
