//! Event sequences and persistence of the server core, with a scripted responder.

use chatkit::{
    ItemKind, ProcessError, ProcessResult, ResponseError, SortOrder, Store, ThreadItem, ThreadMetadata,
    ThreadStatus, ThreadStreamEvent, response_stream,
};
use futures::StreamExt;
use serde_json::{Value, json};

mod common;
use common::*;

fn text_of(user_message: &Option<ThreadItem>) -> String {
    match user_message.as_ref().map(|item| &item.kind) {
        Some(ItemKind::UserMessage { content, .. }) => content.iter().map(|part| part.text()).collect(),
        _ => String::new(),
    }
}

/// Streams "Hello" after a progress update, like the captured reference run.
fn hello_server() -> TestServer {
    server(|thread, _| {
        let mut events = vec![ThreadStreamEvent::ProgressUpdate {
            icon: Some("search".into()),
            text: "Thinking...".into(),
        }];
        events.extend(assistant_message_events(&thread.id(), &["Hel", "lo"]));
        events_stream(events)
    })
}

async fn all_items(server: &TestServer, thread_id: &str) -> Vec<ThreadItem> {
    server
        .store()
        .load_thread_items(thread_id, None, 1000, SortOrder::Asc, &ALICE.to_owned())
        .await
        .expect("thread exists")
        .data
}

#[tokio::test]
async fn create_streams_the_reference_sequence_and_persists_done_items() {
    let server = hello_server();
    let stream = expect_stream(process(&server, &create_request("hi"), ALICE).await);
    let frames: Vec<bytes::Bytes> = stream.into_sse().collect().await;
    let sse: String = frames.iter().map(|frame| std::str::from_utf8(frame).expect("utf-8")).collect();
    assert!(frames.iter().all(|frame| frame.starts_with(b"data: ") && frame.ends_with(b"}\n\n")));
    insta::assert_snapshot!(redact_timestamps(&IdNormalizer::default().text(&sse)));

    let thread =
        server.store().load_threads(10, None, SortOrder::Desc, &ALICE.to_owned()).await.expect("list").data;
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].title, None, "the server never invents titles");
    let items = all_items(&server, &thread[0].id).await;
    let kinds: Vec<_> = items.iter().map(ThreadItem::type_name).collect();
    assert_eq!(kinds, ["user_message", "assistant_message"]);
    assert_eq!(assistant_text(&items[1]).as_deref(), Some("Hello"));
}

#[tokio::test]
async fn responder_title_change_is_saved_and_announced() {
    let server = server(|thread, user_message| {
        let title = chatkit::title_from_text(&text_of(&user_message));
        let events = assistant_message_events(&thread.id(), &["Hi!"]);
        response_stream(|sink| async move {
            thread.set_title(title);
            for event in events {
                sink.send(event).await?;
            }
            thread.set_status(ThreadStatus::Locked { reason: Some("Done for today".into()) });
            Ok(())
        })
    });
    let events = run(&server, &create_request("Plan my week"), ALICE).await;
    let thread_id = created_thread_id(&events);
    insta::assert_json_snapshot!(IdNormalizer::default().events(&events), {
        "[].**.created_at" => "[created_at]",
    });
    let thread = server.store().load_thread(&thread_id, &ALICE.to_owned()).await.expect("saved");
    assert_eq!(thread.title.as_deref(), Some("Plan my week"));
    assert!(matches!(thread.status, ThreadStatus::Locked { .. }));

    // A locked thread refuses new messages before any stream starts.
    match process(&server, &add_message_request(&thread_id, "more"), ALICE).await {
        Err(ProcessError::Conflict(message)) => {
            assert_eq!(message, format!("thread `{thread_id}` is locked: Done for today"));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
}

/// Names each new thread after its first message.
struct NamingResponder;

impl chatkit::Responder<String> for NamingResponder {
    fn respond(
        &self,
        thread: chatkit::ThreadHandle,
        _user_message: Option<ThreadItem>,
        _ctx: String,
    ) -> chatkit::ResponseStream {
        events_stream(assistant_message_events(&thread.id(), &["Noted."]))
    }

    fn new_thread_title(&self, first_message: &ThreadItem) -> Option<String> {
        Some(format!("About {}", text_of(&Some(first_message.clone()))))
    }
}

#[tokio::test]
async fn a_new_thread_is_stored_and_announced_with_the_responders_title() {
    let server = chatkit::ChatKitServer::new(
        std::sync::Arc::new(chatkit::MemoryStore::new()),
        std::sync::Arc::new(NamingResponder),
    );
    let events = run(&server, &create_request("groceries"), ALICE).await;
    let ThreadStreamEvent::ThreadCreated { thread } = &events[0] else { panic!("{events:?}") };
    assert_eq!(thread.title.as_deref(), Some("About groceries"));
    assert!(
        !events.iter().any(|event| matches!(event, ThreadStreamEvent::ThreadUpdated { .. })),
        "a title given at creation needs no second save: {events:?}"
    );
    let stored = server.store().load_thread(&thread.id, &ALICE.to_owned()).await.expect("saved");
    assert_eq!(stored.title.as_deref(), Some("About groceries"));

    // Only new threads are named: a later message leaves the title alone.
    run(&server, &add_message_request(&stored.id, "milk"), ALICE).await;
    let stored = server.store().load_thread(&stored.id, &ALICE.to_owned()).await.expect("saved");
    assert_eq!(stored.title.as_deref(), Some("About groceries"));
}

#[tokio::test]
async fn the_responder_is_told_which_threads_this_request_made() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let server = server(move |thread, _| {
        record.lock().unwrap().push(thread.is_new());
        events_stream(assistant_message_events(&thread.id(), &["Ok"]))
    });
    let events = run(&server, &create_request("first"), ALICE).await;
    run(&server, &add_message_request(&created_thread_id(&events), "second"), ALICE).await;
    assert_eq!(*seen.lock().unwrap(), [true, false]);
}

#[tokio::test]
async fn responder_errors_become_in_band_error_events() {
    let server = server(|thread, user_message| {
        let custom = text_of(&user_message) == "custom";
        let first = assistant_message_events(&thread.id(), &["partial"]).remove(0);
        response_stream(move |sink| async move {
            sink.send(first).await?;
            if custom {
                Err(ResponseError::custom("The task list is unavailable.", true))
            } else {
                Err(ResponseError::internal("model timed out"))
            }
        })
    });
    let custom = run(&server, &create_request("custom"), ALICE).await;
    let internal = run(&server, &create_request("internal"), ALICE).await;
    insta::assert_json_snapshot!(
        json!({
            "custom": IdNormalizer::default().events(&custom),
            "internal": IdNormalizer::default().events(&internal),
        }),
        { ".*[].**.created_at" => "[created_at]" }
    );
    // The added-but-never-done message was not persisted.
    let items = all_items(&server, &created_thread_id(&custom)).await;
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn hidden_items_are_stored_but_never_sent() {
    let server = server(|thread, _| {
        let thread_id = thread.id();
        let mut events = vec![
            ThreadStreamEvent::ThreadItemDone {
                item: ThreadItem::new(
                    chatkit::new_message_id(),
                    &thread_id,
                    ItemKind::HiddenContext { content: json!({"tool": "list_tasks", "result": []}) },
                ),
            },
            ThreadStreamEvent::ThreadItemDone {
                item: ThreadItem::new(
                    chatkit::new_id(chatkit::IdKind::SdkHiddenContext),
                    &thread_id,
                    ItemKind::SdkHiddenContext { content: "note".into() },
                ),
            },
        ];
        events.extend(assistant_message_events(&thread_id, &["Nothing due."]));
        events_stream(events)
    });
    let events = run(&server, &create_request("what is due?"), ALICE).await;
    let thread_id = created_thread_id(&events);
    let sent: Vec<_> = events.iter().map(ThreadStreamEvent::type_name).collect();
    assert_eq!(
        sent,
        [
            "thread.created",
            "thread.item.done",
            "stream_options",
            "thread.item.added",
            "thread.item.updated",
            "thread.item.updated",
            "thread.item.updated",
            "thread.item.done",
        ]
    );
    let stored: Vec<_> = all_items(&server, &thread_id).await.iter().map(ThreadItem::type_name).collect();
    assert_eq!(stored, ["user_message", "hidden_context_item", "sdk_hidden_context", "assistant_message"]);

    let listed = expect_json(
        process(
            &server,
            &body(json!({"type": "items.list", "params": {"thread_id": thread_id, "order": "asc"}})),
            ALICE,
        )
        .await,
    );
    let listed_types: Vec<_> =
        listed["data"].as_array().expect("data").iter().map(|item| item["type"].clone()).collect();
    assert_eq!(listed_types, [json!("user_message"), json!("assistant_message")]);
    assert_eq!(listed["has_more"], false);

    let thread = expect_json(
        process(
            &server,
            &body(json!({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})),
            ALICE,
        )
        .await,
    );
    assert_eq!(thread["items"]["data"].as_array().expect("items").len(), 2);
    assert_eq!(thread["metadata"], json!({}));
}

#[tokio::test]
async fn retry_after_item_deletes_later_items_without_removal_events() {
    let server = server(|thread, user_message| {
        let reply = format!("Answer to {}", text_of(&user_message));
        events_stream(assistant_message_events(&thread.id(), &[&reply]))
    });
    let first = run(&server, &create_request("first"), ALICE).await;
    let thread_id = created_thread_id(&first);
    run(&server, &add_message_request(&thread_id, "second"), ALICE).await;
    let before = all_items(&server, &thread_id).await;
    assert_eq!(before.len(), 4);
    let first_message = &before[0];

    let retry = body(json!({"type": "threads.retry_after_item",
        "params": {"thread_id": thread_id, "item_id": first_message.id}}));
    let events = run(&server, &retry, ALICE).await;
    let mut ids = IdNormalizer::default();
    ids.value(&mut json!(thread_id));
    insta::assert_json_snapshot!(ids.events(&events), { "[].**.created_at" => "[created_at]" });

    let after = all_items(&server, &thread_id).await;
    let texts: Vec<_> = after
        .iter()
        .map(|item| assistant_text(item).unwrap_or_else(|| text_of(&Some(item.clone()))))
        .collect();
    assert_eq!(texts, ["first", "Answer to first"]);

    // Retrying an assistant message is refused before the stream starts.
    let wrong = body(json!({"type": "threads.retry_after_item",
        "params": {"thread_id": thread_id, "item_id": after[1].id}}));
    assert!(matches!(process(&server, &wrong, ALICE).await, Err(ProcessError::BadRequest(_))));
    let missing = body(json!({"type": "threads.retry_after_item",
        "params": {"thread_id": thread_id, "item_id": "msg_missing"}}));
    assert!(matches!(process(&server, &missing, ALICE).await, Err(ProcessError::NotFound(_))));
}

/// A responder that streams part of an answer, sets a title, then hangs until cancelled.
fn hanging_server() -> TestServer {
    server(|thread, _| {
        let mut events = assistant_message_events(&thread.id(), &["partial text that never "]);
        events.truncate(3); // added, content_part.added, text_delta
        hanging_after(thread, events)
    })
}

/// Sets the thread's title, sends `events`, then hangs until cancelled.
fn hanging_after(thread: chatkit::ThreadHandle, events: Vec<ThreadStreamEvent>) -> chatkit::ResponseStream {
    response_stream(|sink| async move {
        thread.set_title("Unfinished");
        for event in events {
            sink.send(event).await?;
        }
        futures::future::pending::<()>().await;
        Ok(())
    })
}

async fn read_until_text_delta(stream: &mut chatkit::ThreadEventStream) -> Vec<ThreadStreamEvent> {
    let mut seen = Vec::new();
    while let Some(event) = stream.next().await {
        let is_delta = matches!(
            &event,
            ThreadStreamEvent::ThreadItemUpdated { update: chatkit::ThreadItemUpdate::TextDelta { .. }, .. }
        );
        seen.push(event);
        if is_delta {
            return seen;
        }
    }
    panic!("stream ended early: {seen:?}");
}

fn hidden_item_done(thread_id: &str, content: Value) -> ThreadStreamEvent {
    let item = ThreadItem::new(chatkit::new_message_id(), thread_id, ItemKind::HiddenContext { content });
    ThreadStreamEvent::ThreadItemDone { item }
}

/// A hidden item waits for the next item the response stores and goes with it (one store
/// call), and one the response ends with is stored at the end.
#[tokio::test]
async fn hidden_items_are_stored_with_the_next_item_or_at_the_end() {
    let server = server(|thread, _| {
        let thread_id = thread.id();
        let mut events = vec![hidden_item_done(&thread_id, json!("round"))];
        events.extend(assistant_message_events(&thread_id, &["Done."]));
        events.push(hidden_item_done(&thread_id, json!("last")));
        events_stream(events)
    });
    let mut stream = expect_stream(process(&server, &create_request("add milk"), ALICE).await);
    let mut thread_id = None;
    while let Some(event) = stream.next().await {
        match &event {
            ThreadStreamEvent::ThreadCreated { thread } => thread_id = Some(thread.id.clone()),
            // Sent after the responder's hidden item is done: it waits for the message.
            ThreadStreamEvent::ThreadItemAdded { .. } => {
                let kinds: Vec<_> = all_items(&server, thread_id.as_deref().unwrap())
                    .await
                    .iter()
                    .map(ThreadItem::type_name)
                    .collect();
                assert_eq!(kinds, ["user_message"]);
            }
            _ => {}
        }
    }
    let stored: Vec<_> = all_items(&server, &thread_id.unwrap())
        .await
        .into_iter()
        .map(|item| match item.kind {
            ItemKind::HiddenContext { content } => content.to_string(),
            _ => item.type_name().to_owned(),
        })
        .collect();
    assert_eq!(stored, ["user_message", r#""round""#, "assistant_message", r#""last""#]);
}

/// A cancel while a hidden item waits for the next item still stores it.
#[tokio::test]
async fn a_cancel_stores_the_hidden_items_waiting() {
    let server = server(|thread, _| {
        let thread_id = thread.id();
        let mut events = vec![hidden_item_done(&thread_id, json!("round"))];
        events.extend(assistant_message_events(&thread_id, &["partial"]).into_iter().take(3));
        hanging_after(thread, events)
    });
    let mut stream = expect_stream(process(&server, &create_request("hi"), ALICE).await);
    let completion = stream.completion();
    let thread_id = created_thread_id(&read_until_text_delta(&mut stream).await);
    drop(stream);
    completion.wait().await;
    let kinds: Vec<_> = all_items(&server, &thread_id).await.iter().map(ThreadItem::type_name).collect();
    assert_eq!(kinds, ["user_message", "hidden_context_item", "assistant_message", "sdk_hidden_context"]);
}

#[tokio::test]
async fn dropping_the_stream_persists_partial_text_and_a_hidden_note() {
    let server = hanging_server();
    let mut stream = expect_stream(process(&server, &create_request("hi"), ALICE).await);
    let completion = stream.completion();
    let events = read_until_text_delta(&mut stream).await;
    drop(stream); // the client went away
    completion.wait().await;

    let thread_id = created_thread_id(&events);
    let items = all_items(&server, &thread_id).await;
    let mut normalized = serde_json::to_value(&items).expect("items serialize");
    IdNormalizer::default().value(&mut normalized);
    insta::assert_json_snapshot!(
        json!({"sent": IdNormalizer::default().events(&events), "stored": normalized}),
        { ".*[].**.created_at" => "[created_at]" }
    );
    assert_eq!(assistant_text(&items[1]).as_deref(), Some("partial text that never "));
    assert!(
        matches!(&items[2].kind, ItemKind::SdkHiddenContext { content } if content == chatkit::CANCELLED_NOTE)
    );
    assert!(items[2].id.starts_with("shcx_"));
    let thread = server.store().load_thread(&thread_id, &ALICE.to_owned()).await.expect("thread");
    assert_eq!(thread.title.as_deref(), Some("Unfinished"), "a title set before the cancel is kept");

    let listed = expect_json(
        process(&server, &body(json!({"type": "items.list", "params": {"thread_id": thread_id}})), ALICE)
            .await,
    );
    assert_eq!(listed["data"].as_array().expect("data").len(), 2, "the note stays hidden");
}

#[tokio::test]
async fn explicit_cancel_of_a_detached_run_waits_for_the_cleanup() {
    let server = hanging_server();
    let mut stream = expect_stream(process(&server, &create_request("hi"), ALICE).await);
    let thread_id = created_thread_id(&read_until_text_delta(&mut stream).await);
    // A detached run: some task owns the stream; the app cancels it explicitly.
    let (cancel_tx, cancel_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        tokio::select! {
            _ = cancel_rx => stream.cancel().await,
            _ = async { while stream.next().await.is_some() {} } => {}
        }
    });
    cancel_tx.send(()).expect("run alive");
    run.await.expect("run task");
    let kinds: Vec<_> = all_items(&server, &thread_id).await.iter().map(ThreadItem::type_name).collect();
    assert_eq!(kinds, ["user_message", "assistant_message", "sdk_hidden_context"]);
}

#[tokio::test]
async fn a_finished_stream_does_no_cancellation_cleanup() {
    let server = hello_server();
    let mut stream = expect_stream(process(&server, &create_request("hi"), ALICE).await);
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event);
    }
    stream.cancel().await;
    let kinds: Vec<_> =
        all_items(&server, &created_thread_id(&events)).await.iter().map(ThreadItem::type_name).collect();
    assert_eq!(kinds, ["user_message", "assistant_message"]);
}

#[tokio::test]
async fn unknown_and_foreign_threads_are_not_found_before_streaming() {
    let server = hello_server();
    let thread_id = created_thread_id(&run(&server, &create_request("mine"), ALICE).await);
    for (thread, owner) in [("thr_missing", ALICE), (thread_id.as_str(), BOB)] {
        for request in [
            add_message_request(thread, "hi"),
            body(json!({"type": "threads.get_by_id", "params": {"thread_id": thread}})),
            body(json!({"type": "threads.update", "params": {"thread_id": thread, "title": "x"}})),
            body(json!({"type": "threads.delete", "params": {"thread_id": thread}})),
            body(json!({"type": "items.list", "params": {"thread_id": thread}})),
            body(
                json!({"type": "items.feedback", "params": {"thread_id": thread, "item_ids": [], "kind": "positive"}}),
            ),
            body(
                json!({"type": "threads.custom_action", "params": {"thread_id": thread, "action": {"type": "x"}}}),
            ),
            body(
                json!({"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": "msg_x"}}),
            ),
            body(
                json!({"type": "threads.add_client_tool_output", "params": {"thread_id": thread, "result": 1}}),
            ),
        ] {
            match process(&server, &request, owner).await {
                Err(error @ ProcessError::NotFound(_)) => {
                    assert_eq!(error.http_status(), 404);
                    assert_eq!(error.to_string(), format!("thread `{thread}` not found"));
                }
                other => panic!("expected NotFound, got {other:?}"),
            }
        }
    }
    let bobs = expect_json(process(&server, &body(json!({"type": "threads.list", "params": {}})), BOB).await);
    assert_eq!(bobs, json!({"data": [], "has_more": false}));
}

#[tokio::test]
async fn uploads_and_dictation_are_unsupported() {
    let server = hello_server();
    let with_attachment = body(json!({"type": "threads.create", "params": {"input": {
        "content": [{"type": "input_text", "text": "see file"}], "attachments": ["atc_1"], "inference_options": {}}}}));
    for (request, expected) in [
        (with_attachment, "uploads are not enabled"),
        (
            body(
                json!({"type": "attachments.create", "params": {"name": "a", "size": 1, "mime_type": "text/plain"}}),
            ),
            "uploads are not enabled",
        ),
        (
            body(json!({"type": "attachments.delete", "params": {"attachment_id": "atc_1"}})),
            "uploads are not enabled",
        ),
        (
            body(
                json!({"type": "input.transcribe", "params": {"audio_base64": "", "mime_type": "audio/webm"}}),
            ),
            "dictation is not enabled",
        ),
    ] {
        match process(&server, &request, ALICE).await {
            Err(ProcessError::Unsupported(message)) => assert_eq!(message, expected),
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn json_requests_update_list_feedback_and_delete() {
    let server = hello_server();
    let thread_id = created_thread_id(&run(&server, &create_request("hi"), ALICE).await);

    let blank = body(json!({"type": "threads.update", "params": {"thread_id": thread_id, "title": "   "}}));
    assert!(matches!(process(&server, &blank, ALICE).await, Err(ProcessError::BadRequest(_))));
    let updated = expect_json(
        process(&server, &body(json!({"type": "threads.update", "params": {"thread_id": thread_id, "title": "  Groceries "}})), ALICE).await,
    );
    assert_eq!(updated["title"], "Groceries");
    assert_eq!(updated["items"], json!({"data": [], "has_more": false}));

    let listed = expect_json(
        process(&server, &body(json!({"type": "threads.list", "params": {"limit": null}})), ALICE).await,
    );
    assert_eq!(listed["data"][0]["title"], "Groceries");
    assert_eq!(listed["data"][0]["items"], json!({"data": [], "has_more": false}));
    assert_eq!(listed["has_more"], false);

    let items = all_items(&server, &thread_id).await;
    let feedback = body(
        json!({"type": "items.feedback", "params": {"thread_id": thread_id, "item_ids": [items[1].id], "kind": "negative"}}),
    );
    match process(&server, &feedback, ALICE).await {
        Ok(ProcessResult::Json(bytes)) => assert_eq!(&bytes[..], b"{}"),
        other => panic!("expected {{}}, got {other:?}"),
    }
    assert_eq!(server.store().feedback()[0].item_ids, [items[1].id.clone()]);
    assert_eq!(server.store().feedback()[0].kind, chatkit::FeedbackKind::Negative);

    match process(
        &server,
        &body(json!({"type": "threads.delete", "params": {"thread_id": thread_id}})),
        ALICE,
    )
    .await
    {
        Ok(ProcessResult::Json(bytes)) => assert_eq!(&bytes[..], b"{}"),
        other => panic!("expected {{}}, got {other:?}"),
    }
    assert!(server.store().load_thread(&thread_id, &ALICE.to_owned()).await.is_err());
}

#[tokio::test]
async fn custom_action_from_a_non_widget_item_is_a_single_error_event() {
    let server = hello_server();
    let thread_id = created_thread_id(&run(&server, &create_request("hi"), ALICE).await);
    let user_message = all_items(&server, &thread_id).await.remove(0);
    let request = body(json!({"type": "threads.custom_action",
        "params": {"thread_id": thread_id, "item_id": user_message.id, "action": {"type": "toggle"}}}));
    let events = run(&server, &request, ALICE).await;
    assert_eq!(events, [ThreadStreamEvent::stream_error(false)]);

    // Without a handler the default action() ends the phase with stream.error.
    let request = body(json!({"type": "threads.custom_action",
        "params": {"thread_id": thread_id, "action": {"type": "toggle"}}}));
    let kinds: Vec<_> = run(&server, &request, ALICE)
        .await
        .iter()
        .map(|event| serde_json::to_value(event).expect("json"))
        .collect();
    assert_eq!(
        kinds,
        [
            json!({"type": "stream_options", "stream_options": {"allow_cancel": true}}),
            json!({"type": "error", "code": "stream.error", "allow_retry": true})
        ]
    );
}

#[tokio::test]
async fn client_tool_output_completes_the_pending_call_and_responds() {
    let server = server(|thread, user_message| {
        let thread_id = thread.id();
        if user_message.is_some() {
            let call = ThreadItem::new(
                chatkit::new_id(chatkit::IdKind::ToolCall),
                &thread_id,
                ItemKind::ClientToolCall {
                    status: chatkit::ClientToolCallStatus::Pending,
                    call_id: "call_1".into(),
                    name: "get_selection".into(),
                    arguments: serde_json::Map::new(),
                    output: None,
                },
            );
            events_stream(vec![ThreadStreamEvent::ThreadItemDone { item: call }])
        } else {
            events_stream(assistant_message_events(&thread_id, &["Thanks"]))
        }
    });
    let thread_id = created_thread_id(&run(&server, &create_request("hi"), ALICE).await);
    let output = body(
        json!({"type": "threads.add_client_tool_output", "params": {"thread_id": thread_id, "result": {"text": "abc"}}}),
    );
    let events = run(&server, &output, ALICE).await;
    assert_eq!(events[0].type_name(), "stream_options");
    let items = all_items(&server, &thread_id).await;
    assert!(
        matches!(&items[1].kind, ItemKind::ClientToolCall { status: chatkit::ClientToolCallStatus::Completed, output: Some(output), .. } if output["text"] == "abc")
    );
    assert_eq!(assistant_text(&items[2]).as_deref(), Some("Thanks"));
    // Now the newest item is an assistant message: a second output is refused.
    assert!(matches!(process(&server, &output, ALICE).await, Err(ProcessError::BadRequest(_))));
}

#[tokio::test]
async fn structured_input_is_recorded_and_replaced_before_responding() {
    let server = server(|thread, _| events_stream(assistant_message_events(&thread.id(), &["Noted"])));
    let owner = ALICE.to_owned();
    let thread = ThreadMetadata::new(chatkit::new_thread_id());
    server.store().save_thread(&thread, &owner).await.expect("save");
    let question: ThreadItem = serde_json::from_value(json!({
        "id": "msg_q", "thread_id": thread.id, "created_at": "2026-01-01T00:00:00Z",
        "type": "structured_input", "inputs": [
            {"id": "when", "question": "When?", "type": "multiple_choice",
             "options": [{"value": "today"}, {"value": "tomorrow"}]},
            {"id": "why", "question": "Why?", "type": "freeform"}]}))
    .expect("valid item");
    server.store().add_thread_item(&thread.id, &question, &owner).await.expect("add");
    let submit = body(json!({"type": "threads.add_structured_input", "params": {
        "thread_id": thread.id, "item_id": "msg_q",
        "input": {"answers": {"when": {"values": ["today", "tomorrow"]}}}}}));
    let events = run(&server, &submit, ALICE).await;
    assert_eq!(events[0].type_name(), "stream_options");
    let ThreadStreamEvent::ThreadItemReplaced { item } = &events[1] else {
        panic!("expected the replaced item second, got {:?}", events[1]);
    };
    let replaced = serde_json::to_value(item).expect("json");
    assert_eq!(replaced["status"], "answered");
    assert_eq!(replaced["inputs"][0]["answer"], json!({"values": ["today"], "skipped": false}));
    assert_eq!(replaced["inputs"][1]["answer"], json!({"values": [], "skipped": true}));
    let stored = server.store().load_item(&thread.id, "msg_q", &owner).await.expect("stored");
    assert_eq!(&stored, item);
    // Not pending any more.
    assert!(matches!(process(&server, &submit, ALICE).await, Err(ProcessError::BadRequest(_))));
}

#[test]
fn server_and_streams_can_cross_threads() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    fn assert_sync<T: Send + Sync + 'static>() {}
    assert_sync::<TestServer>();
    assert_sync::<chatkit::ThreadHandle>();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let server = hello_server();
        let stream = expect_stream(process(&server, &create_request("hi"), ALICE).await);
        let sse = stream.into_sse();
        assert_send_static(&sse);
    });
}
