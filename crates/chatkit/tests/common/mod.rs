//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use chatkit::{
    ChatKitServer, ItemKind, MemoryStore, ProcessError, ProcessResult, Responder, ResponseStream,
    ThreadEventStream, ThreadHandle, ThreadItem, ThreadStreamEvent,
};
use futures::StreamExt;
use serde_json::{Value, json};

pub const ALICE: &str = "alice";
pub const BOB: &str = "bob";

type Script = dyn Fn(ThreadHandle, Option<ThreadItem>) -> ResponseStream + Send + Sync;

/// A responder whose `respond` is a closure.
pub struct ScriptedResponder(Arc<Script>);

impl Responder<String> for ScriptedResponder {
    fn respond(
        &self,
        thread: ThreadHandle,
        user_message: Option<ThreadItem>,
        _ctx: String,
    ) -> ResponseStream {
        (self.0)(thread, user_message)
    }
}

pub type TestServer = ChatKitServer<MemoryStore, ScriptedResponder>;

pub fn server(
    script: impl Fn(ThreadHandle, Option<ThreadItem>) -> ResponseStream + Send + Sync + 'static,
) -> TestServer {
    ChatKitServer::new(Arc::new(MemoryStore::new()), Arc::new(ScriptedResponder(Arc::new(script))))
}

pub fn body(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).expect("test request serializes")
}

pub fn create_request(text: &str) -> Vec<u8> {
    body(json!({"type": "threads.create", "params": {"input": {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [], "inference_options": {}}}}))
}

pub fn add_message_request(thread_id: &str, text: &str) -> Vec<u8> {
    body(json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [], "inference_options": {}}}}))
}

pub async fn process<R: Responder<String>>(
    server: &ChatKitServer<MemoryStore, R>,
    request: &[u8],
    owner: &str,
) -> Result<ProcessResult, ProcessError> {
    server.process(request, owner.to_owned()).await
}

pub fn expect_stream(result: Result<ProcessResult, ProcessError>) -> ThreadEventStream {
    match result {
        Ok(ProcessResult::Stream(stream)) => stream,
        other => panic!("expected a stream, got {other:?}"),
    }
}

pub fn expect_json(result: Result<ProcessResult, ProcessError>) -> Value {
    match result {
        Ok(ProcessResult::Json(bytes)) => serde_json::from_slice(&bytes).expect("valid JSON body"),
        other => panic!("expected JSON, got {other:?}"),
    }
}

/// Runs a streaming request to the end.
pub async fn run<R: Responder<String>>(
    server: &ChatKitServer<MemoryStore, R>,
    request: &[u8],
    owner: &str,
) -> Vec<ThreadStreamEvent> {
    expect_stream(process(server, request, owner).await).collect().await
}

pub fn created_thread_id(events: &[ThreadStreamEvent]) -> String {
    match events.first() {
        Some(ThreadStreamEvent::ThreadCreated { thread }) => thread.id.clone(),
        other => panic!("expected thread.created first, got {other:?}"),
    }
}

pub fn assistant_text(item: &ThreadItem) -> Option<String> {
    match &item.kind {
        ItemKind::AssistantMessage { content } => {
            Some(content.iter().map(|part| part.text.as_str()).collect())
        }
        _ => None,
    }
}

/// Replaces generated ids with `<prefix>_<n>` (numbered by first appearance) so snapshots
/// are stable but still show which events refer to the same item.
#[derive(Default)]
pub struct IdNormalizer {
    seen: HashMap<String, String>,
    counters: HashMap<String, usize>,
}

impl IdNormalizer {
    pub fn value(&mut self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Some(replacement) = self.replace(text) {
                    *text = replacement;
                }
            }
            Value::Array(values) => values.iter_mut().for_each(|value| self.value(value)),
            Value::Object(map) => map.values_mut().for_each(|value| self.value(value)),
            _ => {}
        }
    }

    pub fn events(&mut self, events: &[ThreadStreamEvent]) -> Value {
        let mut value = serde_json::to_value(events).expect("events serialize");
        self.value(&mut value);
        value
    }

    pub fn text(&mut self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| c.is_ascii_lowercase()) {
            out.push_str(&rest[..start]);
            let candidate = &rest[start..];
            let end =
                candidate.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(candidate.len());
            let word = &candidate[..end];
            out.push_str(&self.replace(word).unwrap_or_else(|| word.to_owned()));
            rest = &candidate[end..];
        }
        out.push_str(rest);
        out
    }

    fn replace(&mut self, text: &str) -> Option<String> {
        let (prefix, hex) = text.split_once('_')?;
        let generated = ["thr", "msg", "wf", "tc", "tsk", "atc", "shcx"].contains(&prefix)
            && hex.len() == 32
            && hex.chars().all(|c| c.is_ascii_hexdigit());
        if !generated {
            return None;
        }
        if let Some(known) = self.seen.get(text) {
            return Some(known.clone());
        }
        let counter = self.counters.entry(prefix.to_owned()).or_default();
        *counter += 1;
        let replacement = format!("{prefix}_{counter}");
        self.seen.insert(text.to_owned(), replacement.clone());
        Some(replacement)
    }
}

/// Replaces RFC 3339 timestamps in SSE text with `[ts]`.
pub fn redact_timestamps(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("\"created_at\":\"") {
        let value_start = start + "\"created_at\":\"".len();
        out.push_str(&rest[..value_start]);
        let after = &rest[value_start..];
        let end = after.find('"').unwrap_or(after.len());
        out.push_str("[ts]");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The events of an assistant message streamed as one text part.
pub fn assistant_message_events(thread_id: &str, text_deltas: &[&str]) -> Vec<ThreadStreamEvent> {
    use chatkit::{AssistantMessageContent, ThreadItemUpdate, new_message_id};
    let id = new_message_id();
    let empty = ThreadItem::new(id.clone(), thread_id, ItemKind::AssistantMessage { content: vec![] });
    let full_text: String = text_deltas.concat();
    let mut events = vec![
        ThreadStreamEvent::ThreadItemAdded { item: empty.clone() },
        ThreadStreamEvent::ThreadItemUpdated {
            item_id: id.clone(),
            update: ThreadItemUpdate::ContentPartAdded {
                content_index: 0,
                content: AssistantMessageContent::text(""),
            },
        },
    ];
    for delta in text_deltas {
        events.push(ThreadStreamEvent::ThreadItemUpdated {
            item_id: id.clone(),
            update: ThreadItemUpdate::TextDelta { content_index: 0, delta: (*delta).to_owned() },
        });
    }
    events.push(ThreadStreamEvent::ThreadItemUpdated {
        item_id: id.clone(),
        update: ThreadItemUpdate::ContentPartDone {
            content_index: 0,
            content: AssistantMessageContent::text(full_text.clone()),
        },
    });
    let mut done = empty;
    done.kind = ItemKind::AssistantMessage { content: vec![AssistantMessageContent::text(full_text)] };
    events.push(ThreadStreamEvent::ThreadItemDone { item: done });
    events
}

/// A response that yields the given events.
pub fn events_stream(events: Vec<ThreadStreamEvent>) -> ResponseStream {
    futures::stream::iter(events.into_iter().map(Ok)).boxed()
}
