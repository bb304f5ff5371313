//! Serde round trips against the captured examples of the protocol doc, and request parsing.

use chatkit::{
    Attachment, ChatKitServer, MemoryStore, Page, ProcessError, Request, RequestParams, SortOrder,
    SyncCustomActionResponse, Thread, ThreadItem, ThreadStreamEvent,
};
use serde_json::{Value, json};

mod common;

/// The reference emits naive timestamps; we emit the same instant as UTC with `Z`.
fn with_utc_timestamps(json: &str) -> String {
    let mut out = String::new();
    let mut rest = json;
    while let Some(start) = rest.find("\"created_at\":\"") {
        let value_start = start + "\"created_at\":\"".len();
        let end = value_start + rest[value_start..].find('"').expect("closed string");
        out.push_str(&rest[..end]);
        if !rest[..end].ends_with('Z') {
            out.push('Z');
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Parses `json` as `T` and checks it re-serializes to exactly the same bytes.
fn assert_round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(json: &str) {
    let parsed: T = serde_json::from_str(json).unwrap_or_else(|error| panic!("{error} while parsing {json}"));
    let reserialized = serde_json::to_string(&parsed).expect("serializes");
    assert_eq!(reserialized, json);
}

/// Like [`assert_round_trip`] modulo key order, for fixtures holding free-form widget JSON
/// (`serde_json::Value` objects keep their keys sorted).
fn assert_round_trip_modulo_key_order<T: serde::de::DeserializeOwned + serde::Serialize>(json: &str) {
    let parsed: T = serde_json::from_str(json).unwrap_or_else(|error| panic!("{error} while parsing {json}"));
    let reserialized = serde_json::to_value(&parsed).expect("serializes");
    let original: Value = serde_json::from_str(json).expect("valid JSON");
    assert_eq!(reserialized, original);
}

/// The `threads.create` capture from §2.8, timestamps made UTC.
const CAPTURED_CREATE_STREAM: &str = r#"data: {"type":"thread.created","thread":{"id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.558740","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}

data: {"type":"thread.item.done","item":{"id":"msg_d0cc94af","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.569604","type":"user_message","content":[{"type":"input_text","text":"hi"}],"attachments":[],"inference_options":{}}}

data: {"type":"stream_options","stream_options":{"allow_cancel":true}}

data: {"type":"progress_update","icon":"search","text":"Thinking..."}

data: {"type":"thread.item.added","item":{"id":"msg_06796765","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.580015","type":"assistant_message","content":[]}}

data: {"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.added","content_index":0,"content":{"annotations":[],"text":"","type":"output_text"}}}

data: {"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":"Hello"}}

data: {"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.done","content_index":0,"content":{"annotations":[],"text":"Hello","type":"output_text"}}}

data: {"type":"thread.item.done","item":{"id":"msg_06796765","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.580015","type":"assistant_message","content":[{"annotations":[],"text":"Hello","type":"output_text"}]}}

data: {"type":"thread.updated","thread":{"title":"Greeting","id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.558740","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}

"#;

#[test]
fn captured_create_stream_reframes_byte_for_byte() {
    let captured = with_utc_timestamps(CAPTURED_CREATE_STREAM);
    let mut reframed = Vec::new();
    for frame in captured.split_terminator("\n\n") {
        let json = frame.strip_prefix("data: ").expect("data line");
        let event: ThreadStreamEvent = serde_json::from_str(json).expect("valid event");
        reframed.extend_from_slice(&chatkit::sse_frame(&event));
    }
    assert_eq!(String::from_utf8(reframed).expect("utf-8"), captured);
}

#[test]
fn naive_reference_timestamps_are_read_as_utc() {
    let item: ThreadItem = serde_json::from_str(
        r#"{"id":"m","thread_id":"t","created_at":"2026-11-21T10:29:37.558740","type":"end_of_turn"}"#,
    )
    .expect("naive timestamp accepted");
    let json = serde_json::to_value(&item).expect("serializes");
    assert_eq!(json["created_at"], "2026-11-21T10:29:37.558740Z");
}

#[test]
fn integer_timestamps_are_rejected() {
    let result = serde_json::from_str::<ThreadItem>(
        r#"{"id":"m","thread_id":"t","created_at":1759320001,"type":"end_of_turn"}"#,
    );
    assert!(result.is_err());
}

#[test]
fn captured_items_round_trip() {
    for json in [
        r#"{"id":"msg_162a0cb2","thread_id":"thr_8d28260f","created_at":"2026-11-21T10:32:06.405116Z","type":"user_message","content":[{"type":"input_text","text":"see "},{"type":"input_tag","id":"doc_1","text":"Q2 plan","data":{"k":"v"},"group":"Docs","interactive":true}],"attachments":[{"id":"atc_e83ba6c1","name":"cat.png","mime_type":"image/png","thread_id":"thr_8d28260f","type":"image","preview_url":"https://files.example/atc_e83ba6c1/preview"}],"quoted_text":"q","inference_options":{"tool_choice":{"id":"search"},"model":"gpt-5"}}"#,
        r#"{"id":"tc_1","thread_id":"thr_808c9db0","created_at":"2026-11-21T10:29:53.863086Z","type":"client_tool_call","status":"pending","call_id":"call_1","name":"get_sel","arguments":{"x":1}}"#,
        r#"{"id":"wf_93c1168f","thread_id":"thr_x","created_at":"2026-11-21T10:29:53.863086Z","type":"workflow","workflow":{"type":"reasoning","tasks":[{"status_indicator":"none","type":"thought","content":"Thinking"}],"summary":{"duration":0},"expanded":false}}"#,
        r#"{"id":"e","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"end_of_turn"}"#,
        r#"{"id":"h","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"hidden_context_item","content":{"any":["json"]}}"#,
        r#"{"id":"s","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"sdk_hidden_context","content":"note"}"#,
        r#"{"id":"g","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"generated_image","image":{"id":"img","url":"data:image/png;base64,AA"}}"#,
        r#"{"id":"t1","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"task","task":{"status_indicator":"complete","type":"custom","title":"Saved","icon":"check","content":"Done"}}"#,
        r#"{"id":"si","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"structured_input","status":"answered","inputs":[{"id":"q1","question":"Which?","answer":{"values":["a"],"skipped":false},"type":"multiple_choice","options":[{"value":"a"},{"value":"b"}],"multiple":false},{"id":"q2","question":"Why?","type":"freeform","description":"Say"}]}"#,
        r#"{"id":"a","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"assistant_message","content":[{"annotations":[{"type":"annotation","source":{"type":"url","title":"Docs","url":"https://example.com","attribution":"ex"},"index":3},{"type":"annotation","source":{"type":"entity","title":"Task","id":"task_1","icon":"check","interactive":true,"data":{"k":1}}},{"type":"annotation","source":{"type":"file","title":"Plan","filename":"plan.md"}}],"text":"See","type":"output_text"}]}"#,
    ] {
        assert_round_trip::<ThreadItem>(json);
    }
    assert_round_trip_modulo_key_order::<ThreadItem>(
        r#"{"id":"msg_9663de95","thread_id":"thr_1","created_at":"2026-11-21T10:29:53.863086Z","type":"widget","widget":{"type":"Card","children":[{"id":"md1","type":"Markdown","value":"Hel","streaming":true}]},"copy_text":"Hello world"}"#,
    );
}

#[test]
fn captured_events_round_trip() {
    for json in [
        r#"{"type":"progress_update","icon":"search","text":"Searching tickets..."}"#,
        r#"{"type":"client_effect","name":"highlight_text","data":{"index":142,"length":35}}"#,
        r#"{"type":"error","code":"custom","message":"Nope","allow_retry":true}"#,
        r#"{"type":"error","code":"stream.error","allow_retry":true}"#,
        r#"{"type":"notice","level":"warning","message":"You've reached your limit. [Upgrade](https://...)","title":"Limit"}"#,
        r#"{"type":"thread.item.removed","item_id":"msg_2"}"#,
        r#"{"type":"thread.item.updated","item_id":"msg_9663de95","update":{"type":"widget.streaming_text.value_delta","component_id":"md1","delta":"lo wor","done":false}}"#,
        r#"{"type":"thread.item.updated","item_id":"wf","update":{"type":"workflow.task.added","task_index":0,"task":{"status_indicator":"loading","type":"web_search","title_query":"rust","queries":["rust"],"sources":[{"type":"url","title":"Rust","url":"https://rust-lang.org"}]}}}"#,
        r#"{"type":"thread.item.updated","item_id":"wf","update":{"type":"workflow.task.updated","task_index":0,"task":{"status_indicator":"none","type":"file","sources":[{"type":"file","title":"a","filename":"a.txt"}]}}}"#,
        r#"{"type":"thread.item.updated","item_id":"m","update":{"type":"assistant_message.content_part.annotation_added","content_index":0,"annotation_index":0,"annotation":{"type":"annotation","source":{"type":"url","title":"t","url":"u"}}}}"#,
        r#"{"type":"thread.item.updated","item_id":"g","update":{"type":"generated_image.updated","image":{"id":"i","url":"u"},"progress":0.5}}"#,
        r#"{"type":"thread.item.replaced","item":{"id":"e","thread_id":"t","created_at":"2026-11-21T10:29:53.000000Z","type":"end_of_turn"}}"#,
    ] {
        assert_round_trip::<ThreadStreamEvent>(json);
    }
    for json in [
        r#"{"type":"thread.item.updated","item_id":"w","update":{"type":"widget.root.updated","widget":{"type":"Card","children":[]}}}"#,
        r#"{"type":"thread.item.updated","item_id":"w","update":{"type":"widget.component.updated","component_id":"c","component":{"type":"Text","value":"x"}}}"#,
    ] {
        assert_round_trip_modulo_key_order::<ThreadStreamEvent>(json);
    }
}

#[test]
fn captured_json_bodies_round_trip() {
    assert_round_trip::<Attachment>(
        r#"{"id":"atc_e83ba6c1","name":"cat.png","mime_type":"image/png","upload_descriptor":{"url":"https://files.example/atc_e83ba6c1/upload","method":"PUT","headers":{"x-sig":"abc"}},"type":"image","preview_url":"https://files.example/atc_e83ba6c1/preview"}"#,
    );
    assert_round_trip::<Page<Thread>>(
        r#"{"data":[{"title":"Greeting","id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.558740Z","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}],"has_more":false}"#,
    );
    assert_round_trip::<Thread>(
        r#"{"id":"thr_1","created_at":"2026-11-21T10:29:37.558740Z","status":{"type":"locked","reason":"Read only"},"allowed_image_domains":["img.example"],"metadata":{},"items":{"data":[],"has_more":true,"after":"msg_1"}}"#,
    );
    assert_round_trip::<SyncCustomActionResponse>("{}");
}

#[test]
fn wire_thread_never_carries_server_metadata() {
    let thread: Thread = serde_json::from_str(
        r#"{"id":"thr_1","created_at":"2026-11-21T10:29:37.558740Z","metadata":{"secret":1},"items":{}}"#,
    )
    .expect("lenient thread");
    let json = serde_json::to_value(&thread).expect("serializes");
    assert_eq!(json["metadata"], json!({}));
    assert_eq!(json["status"], json!({"type": "active"}));
    assert_eq!(json["items"], json!({"data": [], "has_more": false}));
}

fn parse(value: Value) -> Result<Request, ProcessError> {
    ChatKitServer::<MemoryStore, common::ScriptedResponder>::parse(&common::body(value))
}

fn bad_request_message(result: Result<Request, ProcessError>) -> String {
    match result {
        Err(ProcessError::BadRequest(message)) => message,
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

#[test]
fn list_requests_default_limit_order_and_metadata() {
    for limit in [json!(null), json!(0)] {
        let request = parse(json!({"type": "threads.list", "params": {"limit": limit}})).expect("valid");
        let RequestParams::ThreadsList(params) = &request.params else {
            panic!("wrong variant");
        };
        assert_eq!(params.page_size(), 20);
        assert_eq!(params.order, SortOrder::Desc);
        assert!(request.metadata.is_empty());
        assert!(!request.params.is_streaming());
        assert_eq!(request.params.type_name(), "threads.list");
    }
    let request = parse(json!({"type": "items.list", "params": {"thread_id": "thr_1", "limit": 5, "order": "asc", "after": "msg_1"}, "metadata": {"k": 1}}))
        .expect("valid");
    let RequestParams::ItemsList(params) = &request.params else {
        panic!("wrong variant");
    };
    assert_eq!(
        (params.page_size(), params.order, params.after.as_deref()),
        (5, SortOrder::Asc, Some("msg_1"))
    );
    assert_eq!(request.metadata["k"], 1);
}

#[test]
fn huge_page_sizes_are_capped_not_refused() {
    for limit in [101_u64, 1_000_000, u64::from(u32::MAX)] {
        let request = parse(json!({"type": "threads.list", "params": {"limit": limit}})).expect("valid");
        let RequestParams::ThreadsList(params) = &request.params else {
            panic!("wrong variant");
        };
        assert_eq!(params.page_size(), 100, "limit {limit}");
        let request = parse(json!({"type": "items.list", "params": {"thread_id": "thr_1", "limit": limit}}))
            .expect("valid");
        let RequestParams::ItemsList(params) = &request.params else {
            panic!("wrong variant");
        };
        assert_eq!(params.page_size(), 100, "limit {limit}");
    }
}

#[test]
fn unknown_fields_are_ignored_everywhere() {
    let request = parse(json!({
        "type": "threads.add_user_message",
        "future_field": true,
        "params": {"thread_id": "thr_1", "extra": 1, "input": {
            "content": [{"type": "input_text", "text": "hi", "new": "x"}],
            "attachments": [], "inference_options": {"temperature": 1}}}}))
    .expect("valid");
    assert!(request.params.is_streaming());
    assert!(request.params.sends_user_message());
    assert_eq!(request.params.type_name(), "threads.add_user_message");
}

#[test]
fn all_sixteen_request_types_parse() {
    let input = json!({"content": [], "attachments": [], "inference_options": {}});
    let requests = [
        json!({"type": "threads.create", "params": {"input": input}}),
        json!({"type": "threads.add_user_message", "params": {"thread_id": "t", "input": input}}),
        json!({"type": "threads.add_client_tool_output", "params": {"thread_id": "t", "result": null}}),
        json!({"type": "threads.add_structured_input", "params": {"thread_id": "t", "item_id": "i", "input": {"answers": {"q": {"values": ["a"]}}}}}),
        json!({"type": "threads.retry_after_item", "params": {"thread_id": "t", "item_id": "i"}}),
        json!({"type": "threads.custom_action", "params": {"thread_id": "t", "action": {"type": "x"}}}),
        json!({"type": "threads.get_by_id", "params": {"thread_id": "t"}}),
        json!({"type": "threads.list", "params": {}}),
        json!({"type": "threads.update", "params": {"thread_id": "t", "title": "x"}}),
        json!({"type": "threads.delete", "params": {"thread_id": "t"}}),
        json!({"type": "threads.sync_custom_action", "params": {"thread_id": "t", "item_id": "w", "action": {"type": "x", "payload": {"a": 1}}}}),
        json!({"type": "items.list", "params": {"thread_id": "t"}}),
        json!({"type": "items.feedback", "params": {"thread_id": "t", "item_ids": ["i"], "kind": "positive"}}),
        json!({"type": "attachments.create", "params": {"name": "a", "size": 1, "mime_type": "text/plain"}}),
        json!({"type": "attachments.delete", "params": {"attachment_id": "a"}}),
        json!({"type": "input.transcribe", "params": {"audio_base64": "", "mime_type": "audio/webm"}}),
    ];
    let names: Vec<&str> = requests
        .iter()
        .map(|request| {
            let parsed = parse(request.clone()).expect("valid request");
            assert_eq!(parsed.params.type_name(), request["type"]);
            parsed.params.type_name()
        })
        .collect();
    assert_eq!(names, chatkit::REQUEST_TYPES);
    let streaming = requests
        .iter()
        .filter(|request| parse((*request).clone()).expect("valid").params.is_streaming())
        .count();
    assert_eq!(streaming, 6);
}

#[test]
fn missing_params_is_rejected_with_a_helpful_message() {
    let message = bad_request_message(parse(json!({"type": "threads.list"})));
    assert_eq!(message, "`threads.list` request has no `params`");
}

#[test]
fn unknown_type_is_rejected_with_a_helpful_message() {
    let message = bad_request_message(parse(json!({"type": "threads.cancel", "params": {}})));
    assert!(
        message.starts_with("unknown request type `threads.cancel`; expected one of: threads.create,"),
        "{message}"
    );
}

#[test]
fn invalid_params_and_malformed_bodies_name_the_problem() {
    let message = bad_request_message(parse(json!({"type": "threads.update", "params": {"thread_id": "t"}})));
    assert_eq!(message, "invalid `threads.update` params: missing field `title`");
    let message = bad_request_message(parse(json!({})));
    assert!(message.starts_with("malformed request body: missing field `type`"), "{message}");
    let message =
        bad_request_message(ChatKitServer::<MemoryStore, common::ScriptedResponder>::parse(b"{not json"));
    assert!(message.starts_with("malformed request body:"), "{message}");
    let message = bad_request_message(parse(json!({"type": "threads.list", "params": {"limit": -1}})));
    assert!(message.starts_with("invalid `threads.list` params:"), "{message}");
}

/// Found by the fuzzer: client metadata and payloads are free-form JSON, and
/// a long number in them must survive a parse → serialize → parse round trip.
#[test]
fn long_numbers_in_free_form_json_round_trip() {
    let body = br#"{"type":"items.list","params":{"thread_id":"thr_1","limit":5,"order":"asc"},"metadata":{"k":11111111111111111111111111111111111111111111111111111111111111111111111111}}"#;
    let request = chatkit::Request::from_slice(body).unwrap();
    let reencoded = serde_json::to_vec(&request).unwrap();
    assert_eq!(chatkit::Request::from_slice(&reencoded).unwrap(), request);
}
