//! Server-Sent Events for one realtime channel: the request's meaning and the wire format,
//! shared by the native host (which streams itself) and the app component (which streams on
//! Spin), so clients see the same protocol everywhere.

/// Sent first: how long the browser waits before reconnecting, in milliseconds.
pub const RETRY_FRAME: &str = "retry: 2000\n\n";
/// A comment that keeps proxies from closing an idle stream.
pub const KEEPALIVE_FRAME: &str = ": keep-alive\n\n";

/// What a stream request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRequest {
    /// The channel (a name: 1-200 of `A-Z a-z 0-9 _ - . :`).
    pub channel: String,
    /// Replay the retained events after this sequence number first (`Last-Event-ID` wins
    /// over `?since=`); `None` starts at the channel's end.
    pub since: Option<u64>,
}

/// Reads `?channel=NAME[&since=SEQ]` and a `Last-Event-ID` header; the error is the
/// `bad_request` message.
pub fn parse_request(
    query: &[(String, String)],
    last_event_id: Option<&str>,
) -> Result<StreamRequest, String> {
    let mut channel = None;
    let mut since = None;
    for (k, v) in query {
        match k.as_str() {
            "channel" if channel.is_some() => return Err("give one channel per stream".into()),
            "channel" => channel = Some(v.clone()),
            "since" => {
                since = Some(
                    v.parse::<u64>()
                        .map_err(|_| "since must be a sequence number".to_string())?,
                )
            }
            _ => {}
        }
    }
    let channel = channel
        .ok_or("the channel query parameter is required, e.g. ?channel=agents".to_string())?;
    check_channel(&channel)?;
    if let Some(last) = last_event_id {
        since = Some(
            last.trim()
                .parse::<u64>()
                .map_err(|_| "Last-Event-ID must be a sequence number".to_string())?,
        );
    }
    Ok(StreamRequest { channel, since })
}

/// Channel names as the realtime API accepts them: the names rule.
pub fn check_channel(channel: &str) -> Result<(), String> {
    crate::names::check_name("channel", channel).map_err(|e| e.message)
}

/// One event as an SSE message; multi-line payloads become several `data:` lines.
pub fn event_frame(seq: u64, payload: &str) -> String {
    let mut out = format!("id: {seq}\n");
    for line in payload.split('\n') {
        out.push_str("data: ");
        out.push_str(line.trim_end_matches('\r'));
        out.push('\n');
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requests_resume_from_the_last_event_id() {
        let r = parse_request(&q(&[("channel", "agents"), ("since", "3")]), Some(" 7 ")).unwrap();
        assert_eq!(
            r,
            StreamRequest {
                channel: "agents".into(),
                since: Some(7)
            }
        );
        assert_eq!(
            parse_request(&q(&[("channel", "a")]), None).unwrap().since,
            None
        );
        assert!(parse_request(&q(&[]), None).is_err());
        assert!(parse_request(&q(&[("channel", "a"), ("channel", "b")]), None).is_err());
        assert!(parse_request(&q(&[("channel", "a"), ("since", "x")]), None).is_err());
        assert!(parse_request(&q(&[("channel", "a")]), Some("x")).is_err());
        assert!(parse_request(&q(&[("channel", "")]), None).is_err());
    }

    #[test]
    fn payload_lines_each_get_a_data_field() {
        assert_eq!(
            event_frame(4, "{\"a\":\n1}"),
            "id: 4\ndata: {\"a\":\ndata: 1}\n\n"
        );
    }
}
