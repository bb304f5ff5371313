//! The authorization matrix: a second user walks every endpoint against the
//! first user's data — REST tasks, tags, bulk operations, parse, tokens,
//! every ChatKit request type, the live events stream, re-attach and stop,
//! and MCP — and can read nothing, change nothing, and cannot even tell
//! whether the first user's objects exist. Plus auth attacks beyond auth.rs.

use reqwest::Method;
use serde_json::{Value, json};
use todokit_fake_llm::{FakeLlm, Hang, Reply, Rule, Script};

use crate::chat::{chatkit, create_thread, user_input};
use crate::helpers::{Db, TestApp, spawn_app_with};

macro_rules! on_both_backends_with_llm {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    super::with_hanging_llm($crate::helpers::Db::Sqlite, super::$scenario).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::with_hanging_llm($crate::helpers::Db::Postgres, super::$scenario).await;
                }
            }
        )+
    };
}

on_both_backends_with_llm!(a_second_user_reads_nothing_and_changes_nothing);
crate::on_both_backends!(tokens_in_query_strings_and_revoked_tokens_are_refused_everywhere);

/// An app whose model answers "hang" by starting a reply that never ends
/// (so a run stays open), and anything else with a short text.
async fn with_hanging_llm<F: std::future::Future<Output = ()>>(db: Db, scenario: impl FnOnce(TestApp) -> F) {
    let fake = FakeLlm::builder()
        .script(Script {
            rules: vec![Rule {
                when: serde_json::from_value(json!({"user_contains": "hang"})).unwrap(),
                respond: Reply {
                    text: Some("Thinking about it".into()),
                    hang: Some(Hang::AfterChunks(1)),
                    ..Reply::default()
                },
            }],
            fallback: Some(Reply::text("Noted.")),
            ..Script::default()
        })
        .build();
    let addr = fake.spawn().await.unwrap();
    let Some(app) = spawn_app_with(db, |config| {
        config.llm.base_url = Some(format!("http://{addr}/v1"));
        config.llm.model = Some("fake-model".into());
        config.llm.api_key = Some(todokit::assistant::llm::ApiKey::new("fake-key"));
    })
    .await
    else {
        return;
    };
    scenario(app).await;
}

/// Everything the owner has, as the owner sees it.
async fn owner_view(app: &TestApp, owner: &str, thread_id: &str) -> Value {
    let (_, _, threads) = chatkit(app, owner, json!({"type": "threads.list", "params": {}})).await;
    let (_, _, items) =
        chatkit(app, owner, json!({"type": "items.list", "params": {"thread_id": thread_id}})).await;
    json!({
        "tasks": app.get("/api/tasks?status=all", owner).await.expect(200),
        "tags": app.get("/api/tasks/tags", owner).await.expect(200),
        "tokens": app.get("/api/tokens", owner).await.expect(200)["tokens"]
            .as_array().unwrap().iter()
            .map(|t| json!({"id": t["id"], "active": t["active"], "name": t["name"]})).collect::<Vec<_>>(),
        // Ids only: the running reply titles its own thread whenever it gets to it.
        "threads": threads["data"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>(),
        "title": threads["data"].as_array().unwrap().iter()
            .find(|t| t["id"] == thread_id).map(|t| t["title"].clone()),
        "items": items["data"],
    })
}

/// Sends the same request for the owner's object and for a random one; both answers must be
/// identical once the ids are blanked out.
async fn same_as_missing(
    app: &TestApp,
    intruder: &str,
    method: Method,
    path: impl Fn(&str) -> String,
    body: impl Fn(&str) -> Option<Value>,
    theirs: &str,
    missing: &str,
) -> u16 {
    let foreign = app.send(method.clone(), &path(theirs), Some(intruder), body(theirs)).await;
    let absent = app.send(method.clone(), &path(missing), Some(intruder), body(missing)).await;
    let what = format!("{method} {}", path(theirs));
    assert_eq!(foreign.status, absent.status, "{what}");
    assert_eq!(
        foreign.body.to_string().replace(theirs, "ID"),
        absent.body.to_string().replace(missing, "ID"),
        "{what}: the answer reveals nothing"
    );
    foreign.status.as_u16()
}

async fn mcp_call(app: &TestApp, token: &str, tool: &str, arguments: Value) -> Value {
    let response = app
        .client
        .post(format!("{}/mcp", app.url))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .bearer_auth(token)
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}}))
        .send()
        .await
        .unwrap();
    let response = TestApp::read(response).await;
    let body = response.expect(200);
    let text = body["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{body}"));
    let mut value: Value = serde_json::from_str(text).unwrap();
    value["is_error"] = body["result"]["isError"].clone();
    value
}

/// Reads the intruder's event stream until their own marker task's id appears; returns everything read.
async fn events_until(stream: &mut reqwest::Response, marker: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(marker) {
        let chunk = stream.chunk().await.unwrap().expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

async fn a_second_user_reads_nothing_and_changes_nothing(app: TestApp) {
    let owner = app.new_user().await;
    let intruder = app.new_user().await;
    let owner_email = app.get("/api/auth/session", &owner).await.expect(200)["user"]["email"].clone();
    let missing_uuid = uuid::Uuid::now_v7().to_string();

    // The intruder listens to their own live events from the very beginning of the log.
    let mut stream = app
        .client
        .get(format!("{}/api/events?last_event_id=0", app.url))
        .bearer_auth(&intruder)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    // The owner's data: a task, a tag, a thread with items, a token, a running reply.
    let task = app
        .create_task(&owner, json!({"title": "Owner secret plan", "tags": ["private"], "priority": "high"}))
        .await;
    let task_id = task["id"].as_str().unwrap().to_owned();
    let token = app.post("/api/tokens", &owner, json!({"name": "owner script"})).await.expect(201);
    let token_id = token["id"].as_str().unwrap().to_owned();
    let (thread_id, _) = create_thread(&app, &owner, "Owner thread about the plan").await;
    let (_, _, items) =
        chatkit(&app, &owner, json!({"type": "items.list", "params": {"thread_id": thread_id}})).await;
    let item_id = items["data"][0]["id"].as_str().unwrap().to_owned();
    let hanging_thread = {
        // The first message of this thread starts a reply that never ends: a live run.
        let mut response = crate::chat::post_chatkit(
            &app,
            &owner,
            &json!({"type": "threads.create", "params": {"input": user_input("please hang on")}}),
        )
        .await;
        let mut seen = String::new();
        while !seen.contains("thread.created") {
            seen.push_str(&String::from_utf8_lossy(&response.chunk().await.unwrap().unwrap()));
        }
        let start = seen.find("\"id\":\"").unwrap() + 6;
        let id = seen[start..].split('"').next().unwrap().to_owned();
        (id, response)
    };
    let before = owner_view(&app, &owner, &thread_id).await;
    let missing_thread = "thr_0000000000000000";

    // REST tasks, by id and by number.
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"title": "Pwned", "tags": ["pwned"]}))),
        (Method::DELETE, "", None),
        (Method::POST, "/complete", Some(json!({"completed": true}))),
        (Method::POST, "/reopen", None),
    ] {
        for (theirs, missing) in [(task_id.as_str(), missing_uuid.as_str()), ("1", "999")] {
            let status = same_as_missing(
                &app,
                &intruder,
                method.clone(),
                |key| format!("/api/tasks/{key}{suffix}"),
                |_| body.clone(),
                theirs,
                missing,
            )
            .await;
            assert_eq!(status, 404);
        }
    }
    // Lists, tags, bulk operations and the parser see only the intruder's (empty) world.
    for path in ["/api/tasks?status=all", "/api/tasks?q=secret", "/api/tasks?tags=private"] {
        let list = app.get(path, &intruder).await.expect(200);
        assert_eq!(list["total"], 0, "{path}: {list}");
    }
    assert_eq!(app.get("/api/tasks/tags", &intruder).await.expect(200), json!({"tags": []}));
    let completed = app.post("/api/tasks/bulk/complete", &intruder, json!({})).await.expect(200);
    assert_eq!(completed["total_count"], 0, "{completed}");
    let deleted = app.post("/api/tasks/bulk/delete", &intruder, json!({"confirm": true})).await.expect(200);
    assert_eq!(deleted["deleted_count"], 0);
    let parsed = app
        .post("/api/tasks/parse", &intruder, json!({"text": "Owner secret plan #private"}))
        .await
        .expect(200);
    assert!(!parsed.to_string().contains(&task_id));

    // Tokens: none listed, and revoking the owner's looks like revoking nothing.
    assert_eq!(app.get("/api/tokens", &intruder).await.expect(200)["tokens"], json!([]));
    let status = same_as_missing(
        &app,
        &intruder,
        Method::DELETE,
        |id| format!("/api/tokens/{id}"),
        |_| None,
        &token_id,
        &missing_uuid,
    )
    .await;
    assert_eq!(status, 404);

    // Every ChatKit request type that names a thread or item.
    let requests = |thread: &str, item: &str| {
        vec![
            json!({"type": "threads.get_by_id", "params": {"thread_id": thread}}),
            json!({"type": "threads.update", "params": {"thread_id": thread, "title": "Pwned"}}),
            json!({"type": "items.list", "params": {"thread_id": thread}}),
            json!({"type": "items.feedback", "params": {"thread_id": thread, "item_ids": [item], "kind": "negative"}}),
            json!({"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input("hi")}}),
            json!({"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": item}}),
            json!({"type": "threads.custom_action", "params": {"thread_id": thread, "item_id": item, "action": {"type": "task.complete", "payload": {"task_id": task_id}}}}),
            json!({"type": "threads.sync_custom_action", "params": {"thread_id": thread, "item_id": item, "action": {"type": "task.complete", "payload": {"task_id": task_id}}}}),
            json!({"type": "threads.add_client_tool_output", "params": {"thread_id": thread, "result": {}}}),
            json!({"type": "threads.add_structured_input", "params": {"thread_id": thread, "input": {"type": "x"}}}),
            json!({"type": "threads.delete", "params": {"thread_id": thread}}),
        ]
    };
    for (thread, item) in
        [(thread_id.as_str(), item_id.as_str()), (hanging_thread.0.as_str(), item_id.as_str())]
    {
        for (foreign, absent) in requests(thread, item).into_iter().zip(requests(missing_thread, "msg_0000"))
        {
            let kind = foreign["type"].clone();
            let (status, events, body) = chatkit(&app, &intruder, foreign).await;
            let (absent_status, _, absent_body) = chatkit(&app, &intruder, absent).await;
            assert!(events.is_empty(), "{kind}: no stream starts");
            assert_eq!(status, absent_status, "{kind}: {body}");
            assert!((400..500).contains(&status), "{kind}: {status} {body}");
            assert_eq!(
                body.to_string().replace(thread, "ID").replace(item, "ITEM"),
                absent_body.to_string().replace(missing_thread, "ID").replace("msg_0000", "ITEM"),
                "{kind}: the answer reveals nothing"
            );
        }
    }
    let (_, _, threads) =
        chatkit(&app, &intruder, json!({"type": "threads.list", "params": {"limit": 100}})).await;
    assert_eq!(threads["data"], json!([]));

    // The owner's live run: re-attach and stop behave as for a thread with no run.
    let attached = app.get(&format!("/api/chatkit/runs/{}", hanging_thread.0), &intruder).await;
    assert_eq!(attached.status, 204);
    assert_eq!(app.get(&format!("/api/chatkit/runs/{missing_thread}"), &intruder).await.status, 204);
    let status = same_as_missing(
        &app,
        &intruder,
        Method::POST,
        |thread| format!("/api/chatkit/runs/{thread}/stop"),
        |_| None,
        &hanging_thread.0,
        missing_thread,
    )
    .await;
    assert_eq!(status, 404);
    let own_attach = app
        .client
        .get(format!("{}/api/chatkit/runs/{}", app.url, hanging_thread.0))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(own_attach.status(), 200, "the owner's run is still running");
    drop(own_attach);

    // MCP tools with the owner's task id and number.
    for key in [json!(task_id), json!(1), json!("#1")] {
        for (tool, arguments) in [
            ("update_task", json!({"task_id": key, "title": "Pwned"})),
            ("complete_task", json!({"task_id": key, "completed": true})),
            ("delete_task", json!({"task_id": key})),
        ] {
            let result = mcp_call(&app, &intruder, tool, arguments).await;
            let mut absent_args = json!({"task_id": missing_uuid});
            if tool == "complete_task" {
                absent_args["completed"] = json!(true);
            }
            let absent = mcp_call(&app, &intruder, tool, absent_args).await;
            assert_eq!(result["error"], "Task not found", "{tool} {key}: {result}");
            assert_eq!(result["error"], absent["error"]);
            assert_eq!(result["is_error"], true);
        }
    }
    let listed = mcp_call(&app, &intruder, "list_tasks", json!({"search": "secret"})).await;
    assert!(!listed.to_string().contains("Owner secret"), "{listed}");
    mcp_call(&app, &intruder, "complete_all_tasks", json!({})).await;
    let wiped = mcp_call(&app, &intruder, "delete_all_tasks", json!({"confirmed": true})).await;
    assert!(!wiped.to_string().contains("Owner"), "{wiped}");

    // The events stream carried only the intruder's own changes.
    let marker = app.create_task(&intruder, json!({"title": "intruder-marker"})).await;
    let seen = events_until(&mut stream, marker["id"].as_str().unwrap()).await;
    for secret in ["Owner secret plan", thread_id.as_str(), task_id.as_str(), hanging_thread.0.as_str()] {
        assert!(!seen.contains(secret), "foreign event leaked ({secret}): {seen}");
    }
    // No answer anywhere named the owner.
    assert!(!seen.contains(owner_email.as_str().unwrap()));

    // Stop the owner's run, then compare everything the owner has with before.
    app.post(&format!("/api/chatkit/runs/{}/stop", hanging_thread.0), &owner, json!({})).await.expect(200);
    drop(hanging_thread.1);
    let after = owner_view(&app, &owner, &thread_id).await;
    assert_eq!(after, before, "the owner's data is exactly as it was");
    // The intruder's marker is all they have.
    assert_eq!(app.get("/api/tasks?status=all", &intruder).await.expect(200)["total"], 1);
}

async fn tokens_in_query_strings_and_revoked_tokens_are_refused_everywhere(app: TestApp) {
    let jwt = app.new_user().await;
    let pat = app.post("/api/tokens", &jwt, json!({"name": "revoked soon"})).await.expect(201);
    let secret = pat["token_secret"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/tokens/{}", pat["id"].as_str().unwrap()), &jwt).await.expect(200);

    let families = [
        (Method::GET, "/api/auth/session"),
        (Method::GET, "/api/tasks"),
        (Method::POST, "/api/tasks"),
        (Method::GET, "/api/tasks/tags"),
        (Method::POST, "/api/tasks/parse"),
        (Method::POST, "/api/tasks/bulk/delete"),
        (Method::GET, "/api/tokens"),
        (Method::GET, "/api/events"),
        (Method::POST, "/api/chatkit"),
        (Method::GET, "/api/chatkit/runs/thr_x"),
        (Method::POST, "/api/chatkit/runs/thr_x/stop"),
        (Method::POST, "/mcp"),
    ];
    for (method, path) in families {
        for token in [jwt.as_str(), secret.as_str()] {
            let query = format!("{path}?token={token}&access_token={token}&auth_token={token}&jwt={token}");
            let response = app
                .client
                .request(method.clone(), format!("{}{query}", app.url))
                .header("accept", "application/json, text/event-stream")
                .json(&json!({"title": "x", "text": "x", "confirm": true, "type": "threads.list", "params": {}}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{method} {path}: a token in the query string is ignored");
        }
        // The revoked access token is refused as a header, too.
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.url))
            .header("accept", "application/json, text/event-stream")
            .bearer_auth(&secret)
            .json(&json!({"title": "x", "text": "x", "confirm": true, "type": "threads.list", "params": {}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}: revoked token");
    }
    assert_eq!(app.get("/api/tasks", &jwt).await.expect(200)["total"], 0, "nothing was created");
}

#[tokio::test]
async fn secure_cookies_are_marked_secure() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| config.secure_cookies = true).await else { return };
    app.sign_up("secure@example.com", "correct horse battery").await;
    let response = app
        .send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "secure@example.com", "password": "correct horse battery"})),
        )
        .await;
    let cookie = response.headers["set-cookie"].to_str().unwrap().to_owned();
    response.expect(200);
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.split(';').any(|part| part.trim() == flag), "cookie lacks {flag}: {cookie}");
    }
    let token = app.new_user().await;
    let signed_out = app.send(Method::POST, "/api/auth/sign-out", Some(&token), None).await;
    let cleared = signed_out.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.contains("Secure") && cleared.contains("Max-Age=0"), "{cleared}");
}
