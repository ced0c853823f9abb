//! The messages of a `text/event-stream` body: a streamable-HTTP server may answer a POST
//! with one, each event's `data:` lines carrying one JSON-RPC message.

/// The data of each event in `body`, in order (events without data are left out).
pub fn event_data(body: &str) -> Vec<String> {
    let mut messages = Vec::new();
    let mut data: Option<String> = None;
    for line in body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.is_empty() {
            if let Some(d) = data.take() {
                messages.push(d);
            }
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            }
        }
    }
    messages.extend(data);
    messages.retain(|m| !m.trim().is_empty());
    messages
}

#[cfg(test)]
mod tests {
    use super::event_data;

    #[test]
    fn each_event_gives_its_data_lines_joined() {
        let body = "event: message\ndata: {\"a\":1}\n\n: comment\ndata:{\"b\":\ndata: 2}\r\n\r\nid: 7\n\ndata: {\"c\":3}";
        assert_eq!(
            event_data(body),
            vec!["{\"a\":1}", "{\"b\":\n2}", "{\"c\":3}"]
        );
        assert!(event_data("event: ping\n\n").is_empty());
    }
}
