//! Server-Sent Events as the bridge reads them: a streamable-HTTP server may answer a POST
//! with a `text/event-stream` body, and the session's notification stream (`GET /mcp`) is
//! one; each event's `data:` lines carry one JSON-RPC message, its `id:` where to resume.

/// One event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `id:` field, when the event has one.
    pub id: Option<String>,
    /// The `data:` lines joined, when the event has any.
    pub data: Option<String>,
}

/// Reads events from a body arriving in pieces: bytes in, complete events out.
#[derive(Debug, Default)]
pub struct EventReader {
    pending: Vec<u8>,
    current: Event,
}

impl EventReader {
    /// Takes the next piece of the body and returns the events it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        // Lines end at b'\n', which never occurs inside a UTF-8 sequence.
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]);
            self.line(line.strip_suffix('\r').unwrap_or(&line), &mut events);
        }
        events
    }

    /// Ends the body: a last event without its blank line still counts.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            let rest = String::from_utf8_lossy(&rest).into_owned();
            self.line(rest.strip_suffix('\r').unwrap_or(&rest), &mut events);
        }
        self.line("", &mut events);
        events
    }

    fn line(&mut self, line: &str, events: &mut Vec<Event>) {
        if line.is_empty() {
            let event = std::mem::take(&mut self.current);
            if event.id.is_some() || event.data.is_some() {
                events.push(event);
            }
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => match &mut self.current.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.current.data = Some(value.to_string()),
            },
            "id" if !value.contains('\0') => self.current.id = Some(value.to_string()),
            _ => {}
        }
    }
}

/// The data of each event in a whole body, in order (events without data are left out).
pub fn event_data(body: &[u8]) -> Vec<String> {
    let mut reader = EventReader::default();
    let mut events = reader.push(body);
    events.extend(reader.finish());
    events
        .into_iter()
        .filter_map(|e| e.data)
        .filter(|d| !d.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_gives_its_data_lines_joined() {
        let body = "event: message\ndata: {\"a\":1}\n\n: comment\ndata:{\"b\":\ndata: 2}\r\n\r\nid: 7\n\ndata: {\"c\":3}";
        assert_eq!(
            event_data(body.as_bytes()),
            vec!["{\"a\":1}", "{\"b\":\n2}", "{\"c\":3}"]
        );
        assert!(event_data(b"event: ping\n\n").is_empty());
    }

    #[test]
    fn events_split_anywhere_come_out_whole_with_their_ids() {
        let body = "id: 41\ndata: {\"é\":1}\n\nid: 42\ndata: {\"x\":2}\n\n".as_bytes();
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for piece in body.chunks(3) {
            events.extend(reader.push(piece));
        }
        events.extend(reader.finish());
        assert_eq!(
            events,
            vec![
                Event {
                    id: Some("41".into()),
                    data: Some("{\"é\":1}".into())
                },
                Event {
                    id: Some("42".into()),
                    data: Some("{\"x\":2}".into())
                },
            ]
        );
    }
}
