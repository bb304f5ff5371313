//! Server-sent event framing, exactly as the reference: `data: <compact json>\n\n`.

use bytes::Bytes;

use crate::types::ThreadStreamEvent;

/// One SSE chunk: `data: ` + compact JSON + `\n\n`. No `event:`/`id:` lines, no keep-alives.
pub fn sse_frame(event: &ThreadStreamEvent) -> Bytes {
    let json = serde_json::to_vec(event).unwrap_or_else(|error| {
        // Unreachable for these types (string keys only); keep the stream well-formed anyway.
        tracing::error!(%error, "could not serialize a chatkit event");
        br#"{"type":"error","code":"stream.error","allow_retry":true}"#.to_vec()
    });
    let mut frame = Vec::with_capacity(json.len() + 8);
    frame.extend_from_slice(b"data: ");
    frame.extend_from_slice(&json);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}
