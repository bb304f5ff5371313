//! `POST /api/chatkit` beyond what the Python conformance suite checks:
//! todokit's own error statuses, ownership, ordering, titles and feedback.

use serde_json::{Value, json};
use todokit::chat::ChatContext;
use todokit::chat::ThreadSaved;
use todokit::tasks::UserZone;
use todokit::tasks::model::UserId;
use todokit::tools::ToolContext;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    requests_that_cannot_be_understood_are_400s,
    missing_and_foreign_threads_are_404s_before_any_stream,
    uploads_and_dictation_are_refused_clearly,
    thread_title_comes_from_the_first_message_and_can_be_renamed,
    locked_threads_refuse_new_messages,
    items_with_equal_timestamps_keep_a_stable_order,
    feedback_is_stored,
    a_thread_save_says_whether_it_created_the_thread,
    a_new_item_moves_its_thread_up_and_never_lands_in_another_users_thread,
);

/// Posts one ChatKit request as `token`'s user.
pub async fn post_chatkit(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client.post(format!("{}/api/chatkit", app.url)).bearer_auth(token).json(body).send().await.unwrap()
}

/// Sends one ChatKit request; returns the status and either the SSE events or the JSON body.
pub async fn chatkit(app: &TestApp, token: &str, body: Value) -> (u16, Vec<Value>, Value) {
    let response = post_chatkit(app, token, &body).await;
    let status = response.status().as_u16();
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    let text = response.text().await.unwrap();
    if streaming {
        let events = text
            .split("\n\n")
            .filter(|chunk| !chunk.is_empty())
            .map(|chunk| serde_json::from_str(chunk.strip_prefix("data: ").expect("data: framing")).unwrap())
            .collect();
        (status, events, Value::Null)
    } else {
        (status, Vec::new(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

pub fn user_input(text: &str) -> Value {
    json!({"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}})
}

/// Creates a thread with a first message; returns its id and the events.
pub async fn create_thread(app: &TestApp, token: &str, text: &str) -> (String, Vec<Value>) {
    let (status, events, _) =
        chatkit(app, token, json!({"type": "threads.create", "params": {"input": user_input(text)}})).await;
    assert_eq!(status, 200);
    let id = events[0]["thread"]["id"].as_str().expect("thread.created first").to_owned();
    (id, events)
}

async fn requests_that_cannot_be_understood_are_400s(app: TestApp) {
    let token = app.new_user().await;
    let raw = app
        .client
        .post(format!("{}/api/chatkit", app.url))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    TestApp::read(raw).await.expect_error(400, "invalid_request");
    let (status, _, body) = chatkit(&app, &token, json!({"type": "threads.frobnicate", "params": {}})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("threads.frobnicate"), "{body}");
    let (status, _, body) = chatkit(&app, &token, json!({"type": "threads.list"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("params"), "{body}");
    let (status, _, _) =
        chatkit(&app, &token, json!({"type": "threads.update", "params": {"thread_id": 5}})).await;
    assert_eq!(status, 400);
    let anonymous = app
        .client
        .post(format!("{}/api/chatkit", app.url))
        .json(&json!({"type": "threads.list", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn missing_and_foreign_threads_are_404s_before_any_stream(app: TestApp) {
    let owner = app.new_user().await;
    let other = app.new_user().await;
    let (thread_id, _) = create_thread(&app, &owner, "hello").await;
    let requests = |id: &str| {
        vec![
            json!({"type": "threads.add_user_message", "params": {"thread_id": id, "input": user_input("hi")}}),
            json!({"type": "threads.get_by_id", "params": {"thread_id": id}}),
            json!({"type": "threads.update", "params": {"thread_id": id, "title": "x"}}),
            json!({"type": "threads.delete", "params": {"thread_id": id}}),
            json!({"type": "items.list", "params": {"thread_id": id}}),
            json!({"type": "items.feedback", "params": {"thread_id": id, "item_ids": ["msg_1"], "kind": "positive"}}),
            json!({"type": "threads.retry_after_item", "params": {"thread_id": id, "item_id": "msg_1"}}),
            json!({"type": "threads.custom_action", "params": {"thread_id": id, "action": {"type": "x"}}}),
            json!({"type": "threads.sync_custom_action", "params": {"thread_id": id, "action": {"type": "x"}}}),
            json!({"type": "threads.add_client_tool_output", "params": {"thread_id": id, "result": {}}}),
        ]
    };
    for (foreign, missing) in requests(&thread_id).into_iter().zip(requests("thr_doesnotexist")) {
        let kind = foreign["type"].clone();
        let (status, events, body) = chatkit(&app, &other, foreign).await;
        let (missing_status, _, missing_body) = chatkit(&app, &other, missing).await;
        assert_eq!(status, 404, "{kind}: {body}");
        assert!(events.is_empty(), "{kind}: no stream starts");
        assert_eq!(missing_status, 404, "{kind}");
        assert_eq!(body["error"]["code"], missing_body["error"]["code"], "{kind}");
        assert_eq!(
            body["error"]["message"].as_str().unwrap().replace(&thread_id, "ID"),
            missing_body["error"]["message"].as_str().unwrap().replace("thr_doesnotexist", "ID"),
            "{kind}: the answer does not reveal that the thread exists"
        );
    }
    let (_, _, list) = chatkit(&app, &other, json!({"type": "threads.list", "params": {}})).await;
    assert_eq!(list["data"], json!([]));
    let (status, _, thread) =
        chatkit(&app, &owner, json!({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})).await;
    assert_eq!(status, 200, "the owner still has the thread");
    assert!(thread["items"]["data"].as_array().unwrap().len() >= 2);
}

async fn uploads_and_dictation_are_refused_clearly(app: TestApp) {
    let token = app.new_user().await;
    for (request, word) in [
        (
            json!({"type": "attachments.create", "params": {"name": "a.png", "size": 10, "mime_type": "image/png"}}),
            "upload",
        ),
        (json!({"type": "attachments.delete", "params": {"attachment_id": "atc_1"}}), "upload"),
        (
            json!({"type": "input.transcribe", "params": {"audio_base64": "AAAA", "mime_type": "audio/webm"}}),
            "dictation",
        ),
    ] {
        let (status, _, body) = chatkit(&app, &token, request).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "not_supported");
        assert!(body["error"]["message"].as_str().unwrap().contains(word), "{body}");
    }
    let with_attachment = json!({"type": "threads.create", "params": {"input": {
        "content": [{"type": "input_text", "text": "see file"}], "attachments": ["atc_1"], "inference_options": {}}}});
    let (status, events, _) = chatkit(&app, &token, with_attachment).await;
    assert_eq!(status, 400);
    assert!(events.is_empty());
    let (_, _, list) = chatkit(&app, &token, json!({"type": "threads.list", "params": {}})).await;
    assert_eq!(list["data"], json!([]), "nothing half-created");
}

async fn thread_title_comes_from_the_first_message_and_can_be_renamed(app: TestApp) {
    let token = app.new_user().await;
    let long = "Plan the spring garden: buy seeds, compost, new tools and a wheelbarrow before March";
    let (thread_id, events) = create_thread(&app, &token, long).await;
    // Named as it is created: the first event already carries the title.
    assert_eq!(events[0]["type"], "thread.created");
    let title = events[0]["thread"]["title"].as_str().expect("thread.created carries the title");
    assert!(title.starts_with("Plan the spring garden") && title.chars().count() <= 60, "{title}");
    let (_, _, renamed) = chatkit(
        &app,
        &token,
        json!({"type": "threads.update", "params": {"thread_id": thread_id, "title": "  Garden  "}}),
    )
    .await;
    assert_eq!(renamed["title"], "Garden");
    let (_, _, list) = chatkit(&app, &token, json!({"type": "threads.list", "params": {}})).await;
    assert_eq!(list["data"][0]["title"], "Garden");
    // A later message does not overwrite a title.
    let (_, events, _) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("something else")}}),
    )
    .await;
    assert!(events.iter().all(|e| e["type"] != "thread.updated"));
}

/// Two users straight in storage: the owner's and the other user's tool contexts.
async fn owner_and_other(app: &TestApp) -> (ChatContext, ChatContext) {
    let now = todokit::Clock::system().now();
    let owner =
        app.storage.accounts.create_user("owner@example.com", "owner@example.com", "x", now).await.unwrap();
    let other =
        app.storage.accounts.create_user("other@example.com", "other@example.com", "x", now).await.unwrap();
    (context(&json!(owner.id)), context(&json!(other.id)))
}

fn context(app_user: &Value) -> ChatContext {
    ChatContext::from(ToolContext {
        user: UserId(uuid::Uuid::parse_str(app_user.as_str().unwrap()).unwrap()),
        zone: UserZone::utc(),
    })
}

async fn locked_threads_refuse_new_messages(app: TestApp) {
    let token = app.new_user().await;
    let me = app.get("/api/auth/session", &token).await.expect(200);
    let ctx = context(&me["user"]["id"]);
    let (thread_id, _) = create_thread(&app, &token, "hello").await;
    let store = app.storage.chat.clone();
    let mut thread = store.load_thread(&thread_id, &ctx).await.unwrap();
    thread.status = chatkit::ThreadStatus::Locked { reason: Some("Archived".into()) };
    store.save_thread(&thread, &ctx).await.unwrap();
    let (status, events, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("more")}}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(events.is_empty());
    assert!(body["error"]["message"].as_str().unwrap().contains("locked"), "{body}");
    let (_, _, got) =
        chatkit(&app, &token, json!({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})).await;
    assert_eq!(got["status"], json!({"type": "locked", "reason": "Archived"}));
}

async fn items_with_equal_timestamps_keep_a_stable_order(app: TestApp) {
    let token = app.new_user().await;
    let me = app.get("/api/auth/session", &token).await.expect(200);
    let ctx = context(&me["user"]["id"]);
    let (thread_id, _) = create_thread(&app, &token, "hello").await;
    let store = app.storage.chat.clone();
    let at = jiff::Timestamp::from_second(2_000_000_000).unwrap();
    let ids: Vec<String> = (0..7).map(|i| format!("msg_same_{i}")).collect();
    let items: Vec<chatkit::ThreadItem> = ids
        .iter()
        .map(|id| chatkit::ThreadItem {
            id: id.clone(),
            thread_id: thread_id.clone(),
            created_at: at,
            kind: chatkit::ItemKind::AssistantMessage {
                content: vec![chatkit::AssistantMessageContent::text(id.clone())],
            },
        })
        .collect();
    // One at a time, then the rest in one write: both keep their order.
    for item in &items[..3] {
        store.add_thread_item(&thread_id, item, &ctx).await.unwrap();
    }
    store.add_thread_items(&thread_id, &items[3..], &ctx).await.unwrap();
    for order in ["asc", "desc"] {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let (_, _, page) = chatkit(
                &app,
                &token,
                json!({"type": "items.list", "params": {"thread_id": thread_id, "limit": 2, "order": order, "after": after}}),
            )
            .await;
            seen.extend(
                page["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()),
            );
            if page["has_more"] != true {
                break;
            }
            after = page["after"].clone();
        }
        let same: Vec<String> = seen.into_iter().filter(|id| id.starts_with("msg_same_")).collect();
        let mut expected = ids.clone();
        if order == "desc" {
            expected.reverse();
        }
        assert_eq!(same, expected, "{order}: insertion order breaks the tie, no skips or repeats");
    }
}

async fn feedback_is_stored(app: TestApp) {
    let token = app.new_user().await;
    let (thread_id, events) = create_thread(&app, &token, "hello").await;
    let reply = events
        .iter()
        .find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message")
        .unwrap()["item"]["id"]
        .clone();
    let (status, _, body) = chatkit(
        &app,
        &token,
        json!({"type": "items.feedback", "params": {"thread_id": thread_id, "item_ids": [reply], "kind": "negative"}}),
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
    let recorded: Vec<(String, String)> = match app.db {
        crate::helpers::Db::Sqlite => {
            let pool =
                sqlx::SqlitePool::connect(&format!("sqlite:{}/todokit.db", app.data_dir.path().display()))
                    .await
                    .unwrap();
            sqlx::query_as("SELECT item_id, kind FROM chat_feedback").fetch_all(&pool).await.unwrap()
        }
        crate::helpers::Db::Postgres => {
            use sqlx::ConnectOptions;
            let mut conn = app.pg.clone().unwrap().connect().await.unwrap();
            sqlx::query_as("SELECT item_id, kind FROM chat_feedback").fetch_all(&mut conn).await.unwrap()
        }
    };
    assert_eq!(recorded, vec![(reply.as_str().unwrap().to_owned(), "negative".to_owned())]);
}

async fn a_thread_save_says_whether_it_created_the_thread(app: TestApp) {
    let (mine, theirs) = owner_and_other(&app).await;
    let store = app.storage.chat.clone();
    let message = |thread_id: &str, text: &str| chatkit::ThreadItem {
        id: format!("msg_{text}"),
        thread_id: thread_id.to_owned(),
        created_at: todokit::Clock::system().now(),
        kind: chatkit::ItemKind::AssistantMessage {
            content: vec![chatkit::AssistantMessageContent::text(text)],
        },
    };
    let ids = |items: chatkit::Page<chatkit::ThreadItem>| -> Vec<String> {
        items.data.into_iter().map(|item| item.id).collect()
    };

    // A plain save and a start (thread and first item at once) report, and do, the same.
    let mut saved = chatkit::ThreadMetadata::new("thr_saved");
    assert_eq!(store.save_thread_reporting(&saved, &mine).await.unwrap(), ThreadSaved::Created);
    let mut started = chatkit::ThreadMetadata::new("thr_started");
    let first = message(&started.id, "first");
    assert_eq!(store.start_thread(&started, &first, &mine).await.unwrap(), ThreadSaved::Created);
    assert_eq!(
        ids(store.load_thread_items(&started.id, None, 10, chatkit::SortOrder::Asc, &mine).await.unwrap()),
        ["msg_first"]
    );
    for thread in [&mut saved, &mut started] {
        thread.title = Some("Groceries".into());
        assert_eq!(store.save_thread_reporting(thread, &mine).await.unwrap(), ThreadSaved::Updated);
        assert_eq!(store.load_thread(&thread.id, &mine).await.unwrap().title.as_deref(), Some("Groceries"));
    }
    // Started again with an id that exists: the caller's own thread is updated, the item added.
    started.title = Some("Errands".into());
    let again = message(&started.id, "again");
    assert_eq!(store.start_thread(&started, &again, &mine).await.unwrap(), ThreadSaved::Updated);
    assert_eq!(store.load_thread(&started.id, &mine).await.unwrap().title.as_deref(), Some("Errands"));
    assert_eq!(
        ids(store.load_thread_items(&started.id, None, 10, chatkit::SortOrder::Asc, &mine).await.unwrap()),
        ["msg_first", "msg_again"]
    );

    // The same id from another user is somebody else's thread: not found, and left alone.
    for thread in [&saved, &started] {
        let mut hijack = thread.clone();
        hijack.title = Some("Mine now".into());
        let refused = store.save_thread_reporting(&hijack, &theirs).await.unwrap_err();
        assert!(matches!(refused, chatkit::StoreError::NotFound), "{refused:?}");
        assert!(matches!(store.save_thread(&hijack, &theirs).await, Err(chatkit::StoreError::NotFound)));
        let intruder = message(&hijack.id, "intruder");
        let refused = store.start_thread(&hijack, &intruder, &theirs).await.unwrap_err();
        assert!(matches!(refused, chatkit::StoreError::NotFound), "{refused:?}");
        assert!(matches!(
            store.create_thread(&hijack, &intruder, &theirs).await,
            Err(chatkit::StoreError::NotFound)
        ));
        assert_ne!(store.load_thread(&thread.id, &mine).await.unwrap().title.as_deref(), Some("Mine now"));
        let items =
            ids(store.load_thread_items(&thread.id, None, 10, chatkit::SortOrder::Asc, &mine).await.unwrap());
        assert!(!items.contains(&"msg_intruder".to_owned()), "{items:?}");
    }
    assert!(store.load_threads(10, None, chatkit::SortOrder::Desc, &theirs).await.unwrap().data.is_empty());

    // Deleted, then saved again: created anew.
    store.delete_thread(&saved.id, &mine).await.unwrap();
    assert_eq!(store.save_thread_reporting(&saved, &mine).await.unwrap(), ThreadSaved::Created);
}

async fn a_new_item_moves_its_thread_up_and_never_lands_in_another_users_thread(app: TestApp) {
    let (mine, theirs) = owner_and_other(&app).await;
    let store = app.storage.chat.clone();
    let older = chatkit::ThreadMetadata::new("thr_older");
    let newer = chatkit::ThreadMetadata::new("thr_newer");
    store.save_thread(&older, &mine).await.unwrap();
    store.save_thread(&newer, &mine).await.unwrap();
    let listed = |threads: chatkit::Page<chatkit::ThreadMetadata>| -> Vec<String> {
        threads.data.into_iter().map(|thread| thread.id).collect()
    };
    assert_eq!(
        listed(store.load_threads(10, None, chatkit::SortOrder::Desc, &mine).await.unwrap()),
        ["thr_newer", "thr_older"]
    );

    let reply = |id: &str, at: jiff::Timestamp| chatkit::ThreadItem {
        id: id.to_owned(),
        thread_id: "thr_older".to_owned(),
        created_at: at,
        kind: chatkit::ItemKind::AssistantMessage {
            content: vec![chatkit::AssistantMessageContent::text(id)],
        },
    };
    let later = todokit::Clock::system().now() + jiff::SignedDuration::from_secs(60);
    store.add_thread_item("thr_older", &reply("msg_new", later), &mine).await.unwrap();
    assert_eq!(
        listed(store.load_threads(10, None, chatkit::SortOrder::Desc, &mine).await.unwrap()),
        ["thr_older", "thr_newer"],
        "a thread with a new item is listed first"
    );

    // Saving into somebody else's thread: not found, and nothing is written.
    let intruder = reply("msg_intruder", later);
    assert!(matches!(
        store.add_thread_item("thr_older", &intruder, &theirs).await,
        Err(chatkit::StoreError::NotFound)
    ));
    let mut edited = reply("msg_new", later);
    edited.kind = chatkit::ItemKind::AssistantMessage {
        content: vec![chatkit::AssistantMessageContent::text("hijacked")],
    };
    assert!(matches!(
        store.save_item("thr_older", &edited, &theirs).await,
        Err(chatkit::StoreError::NotFound)
    ));
    assert!(matches!(
        store.add_thread_items("thr_older", &[edited.clone(), reply("msg_intruder", later)], &theirs).await,
        Err(chatkit::StoreError::NotFound)
    ));
    let items = store.load_thread_items("thr_older", None, 10, chatkit::SortOrder::Asc, &mine).await.unwrap();
    assert_eq!(items.data, vec![reply("msg_new", later)]);

    // The owner's several items at once: an existing one is replaced, a new one added.
    let mut revised = reply("msg_new", later);
    revised.kind = chatkit::ItemKind::AssistantMessage {
        content: vec![chatkit::AssistantMessageContent::text("revised")],
    };
    let after = reply("msg_after", later + jiff::SignedDuration::from_secs(1));
    store.add_thread_items("thr_older", &[revised.clone(), after.clone()], &mine).await.unwrap();
    let items = store.load_thread_items("thr_older", None, 10, chatkit::SortOrder::Asc, &mine).await.unwrap();
    assert_eq!(items.data, vec![revised, after]);
}
