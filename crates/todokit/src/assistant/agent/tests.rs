//! The agent end to end: the real ChatKit server core and persistence
//! pipeline, the in-process fake LLM over real HTTP (OpenAI and Gemini
//! shapes), and tools running against a real SQLite task store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chatkit::{
    ChatKitServer, ItemKind, ProcessResult, SortOrder, TaskKind, TaskStatusIndicator, ThreadItem,
    ThreadItemUpdate, ThreadStreamEvent,
};
use futures::StreamExt;
use serde_json::{Value, json};
use todokit_fake_llm::{ErrorSpec, FakeLlm, Hang, Reply, Script, Shape, ToolCallSpec};
use tokio::sync::Barrier;

use super::LlmResponder;
use crate::assistant::llm::{ApiKey, LlmClient, LlmConfig};
use crate::chat::ChatContext;
use crate::chat::DynChatStore;
use crate::tasks::model::{TaskKey, UserId};
use crate::tasks::{ListCriteria, TaskInput, TaskService, UserZone};
use crate::tools::{ToolContext, ToolDefinition, ToolExecutor, ToolOutput};

const API_KEY: &str = "test-key";
/// Guards every wait so a broken run fails instead of hanging; never reached when things work.
const GUARD: Duration = Duration::from_secs(30);

// ----- tools over a real SQLite task store ---------------------------------------------------

/// A small tool set over the real `TaskService`, recording every call it runs.
struct TestTools {
    tasks: TaskService,
    calls: Mutex<Vec<(String, Value)>>,
    /// When set, `create_task` waits here: two calls only pass it together,
    /// which proves they run concurrently.
    gate: Option<Arc<Barrier>>,
}

fn ok(value: Value) -> ToolOutput {
    ToolOutput { value, is_error: false }
}

fn failed(message: String) -> ToolOutput {
    ToolOutput { value: json!({"success": false, "error": message, "message": message}), is_error: true }
}

#[async_trait]
impl ToolExecutor for TestTools {
    fn definitions(&self) -> Vec<ToolDefinition> {
        let object = |properties: Value, required: Value| json!({"type": "object", "properties": properties, "required": required});
        vec![
            ToolDefinition {
                name: "create_task",
                description: "Create a task.",
                parameters: object(json!({"title": {"type": "string"}}), json!(["title"])),
            },
            ToolDefinition {
                name: "list_tasks",
                description: "List tasks.",
                parameters: object(json!({}), json!([])),
            },
            ToolDefinition {
                name: "complete_task",
                description: "Complete or reopen a task.",
                parameters: object(
                    json!({"task_id": {"type": "string"}, "completed": {"type": "boolean"}}),
                    json!(["task_id", "completed"]),
                ),
            },
            ToolDefinition {
                name: "delete_all_tasks",
                description: "Delete all tasks; without confirmed=true it only counts them.",
                parameters: object(json!({"confirmed": {"type": "boolean"}}), json!([])),
            },
        ]
    }

    async fn call(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolOutput {
        self.calls.lock().unwrap().push((name.to_owned(), arguments.clone()));
        let all = ListCriteria::default();
        match name {
            "create_task" => {
                if let Some(gate) = &self.gate
                    && tokio::time::timeout(GUARD, gate.wait()).await.is_err()
                {
                    return failed("the other call never ran alongside this one".into());
                }
                let title = arguments["title"].as_str().unwrap_or_default().to_owned();
                let input = TaskInput { title, ..TaskInput::default() };
                match self.tasks.create(ctx.user, input, &ctx.zone).await {
                    Ok(task) => ok(json!({"success": true, "task": {"id": task.number, "title": task.title},
                        "message": format!("✅ Task created: {}", task.title)})),
                    Err(error) => failed(error.to_string()),
                }
            }
            "list_tasks" => match self.tasks.list(ctx.user, &all, &ctx.zone).await {
                Ok(page) => ok(json!({"success": true,
                    "tasks": page.tasks.iter().map(|task| json!({"id": task.number, "title": task.title, "completed": task.completed})).collect::<Vec<_>>(),
                    "message": format!("Found {} tasks", page.total)})),
                Err(error) => failed(error.to_string()),
            },
            "complete_task" => {
                let key = arguments["task_id"].as_str().and_then(TaskKey::parse);
                let Some(key) = key else { return failed("task_id must be a task number".into()) };
                let completed = arguments["completed"].as_bool().unwrap_or(true);
                match self.tasks.set_completed(ctx.user, key, completed).await {
                    Ok(done) => {
                        ok(json!({"success": true, "message": format!("✅ Completed: {}", done.task.title)}))
                    }
                    Err(error) => failed(error.to_string()),
                }
            }
            "delete_all_tasks" if arguments["confirmed"] == json!(true) => {
                match self.tasks.delete_matching(ctx.user, &all, &ctx.zone).await {
                    Ok(count) => ok(
                        json!({"success": true, "deleted_count": count, "message": format!("Deleted {count} tasks")}),
                    ),
                    Err(error) => failed(error.to_string()),
                }
            }
            "delete_all_tasks" => match self.tasks.counts(ctx.user, &all, &ctx.zone).await {
                Ok(counts) => {
                    ok(json!({"success": true, "requires_confirmation": true, "task_count": counts.total,
                    "message": format!("This will delete {} tasks. Ask the user to confirm.", counts.total)}))
                }
                Err(error) => failed(error.to_string()),
            },
            other => failed(format!("no tool {other}")),
        }
    }
}

// ----- the harness ----------------------------------------------------------------------------

struct Harness {
    server: ChatKitServer<dyn chatkit::Store<ChatContext>, LlmResponder>,
    /// The real SQL chat store, on the same SQLite database as the tasks.
    store: DynChatStore,
    fake: FakeLlm,
    tools: Arc<TestTools>,
    ctx: ChatContext,
    _dir: tempfile::TempDir,
}

struct HarnessOptions {
    shape: Shape,
    gate: Option<Arc<Barrier>>,
    configure: fn(&mut LlmConfig),
    clock: Option<super::Clock>,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        Self { shape: Shape::Openai, gate: None, configure: |_| {}, clock: None }
    }
}

async fn harness(script: Script) -> Harness {
    harness_with(script, HarnessOptions::default()).await
}

async fn harness_with(script: Script, options: HarnessOptions) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let repos =
        crate::storage::connect(&format!("sqlite:{}", dir.path().join("tasks.db").display())).await.unwrap();
    let user = repos
        .accounts
        .create_user("agent@example.com", "agent@example.com", "not-a-hash", crate::Clock::system().now())
        .await
        .unwrap();
    let ctx = ChatContext::from(ToolContext {
        user: UserId(user.id),
        zone: UserZone::parse("Europe/Berlin").unwrap(),
    });

    // llama.cpp's server answers on OpenAI's path; the script names its style.
    let script = match options.shape {
        Shape::LlamaCpp => Script { shape: Some(Shape::LlamaCpp), ..script },
        _ => script,
    };
    let fake = FakeLlm::builder().api_key(API_KEY).script(script).build();
    let address = fake.spawn().await.unwrap();
    let base_url = match options.shape {
        Shape::Openai | Shape::LlamaCpp => format!("http://{address}/v1"),
        Shape::Gemini => format!("http://{address}/v1beta/openai/"),
    };
    let mut config = LlmConfig::new(&base_url, Some(ApiKey::new(API_KEY)), "test-model").unwrap();
    config.retry_base_delay = Duration::from_millis(1);
    config.first_token_timeout = Duration::from_secs(10);
    config.idle_timeout = Duration::from_secs(10);
    (options.configure)(&mut config);

    let store: DynChatStore = repos.chat.clone();
    let tools = Arc::new(TestTools {
        tasks: TaskService::new(repos.tasks.clone()),
        calls: Mutex::default(),
        gate: options.gate,
    });
    let mut responder = LlmResponder::new(LlmClient::new(config).unwrap(), tools.clone(), store.clone());
    if let Some(clock) = options.clock {
        responder = responder.with_clock(clock);
    }
    let server = ChatKitServer::new(store.clone(), Arc::new(responder));
    Harness { server, store, fake, tools, ctx, _dir: dir }
}

fn user_input(text: &str) -> Value {
    json!({"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}})
}

impl Harness {
    async fn stream(&self, body: Value) -> Vec<ThreadStreamEvent> {
        let result = self.server.process(body.to_string().as_bytes(), self.ctx.clone()).await.unwrap();
        let ProcessResult::Stream(stream) = result else { panic!("expected a stream") };
        tokio::time::timeout(GUARD, stream.collect()).await.expect("the response ended")
    }

    /// `threads.create`; returns the events and the new thread's id.
    async fn start(&self, text: &str) -> (Vec<ThreadStreamEvent>, String) {
        let events =
            self.stream(json!({"type": "threads.create", "params": {"input": user_input(text)}})).await;
        let thread_id = match &events[0] {
            ThreadStreamEvent::ThreadCreated { thread } => thread.id.clone(),
            other => panic!("first event: {other:?}"),
        };
        (events, thread_id)
    }

    async fn say(&self, thread_id: &str, text: &str) -> Vec<ThreadStreamEvent> {
        self.stream(json!({"type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input(text)}}))
            .await
    }

    async fn items(&self, thread_id: &str) -> Vec<ThreadItem> {
        self.store.load_thread_items(thread_id, None, 1000, SortOrder::Asc, &self.ctx).await.unwrap().data
    }

    async fn task_titles(&self) -> Vec<(String, bool)> {
        let page =
            self.tools.tasks.list(self.ctx.user, &ListCriteria::default(), &self.ctx.zone).await.unwrap();
        let mut titles: Vec<_> = page.tasks.into_iter().map(|task| (task.title, task.completed)).collect();
        titles.sort();
        titles
    }

    fn tool_calls(&self) -> Vec<String> {
        self.tools.calls.lock().unwrap().iter().map(|(name, _)| name.clone()).collect()
    }

    fn requests(&self) -> Vec<Value> {
        self.fake.requests().into_iter().map(|request| request.body).collect()
    }
}

fn script(turns: Vec<Reply>) -> Script {
    Script { turns, ..Script::default() }
}

fn calls(specs: Vec<ToolCallSpec>) -> Reply {
    Reply { tool_calls: specs, ..Reply::default() }
}

/// The final text of every assistant message, in order.
fn answers(events: &[ThreadStreamEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            ThreadStreamEvent::ThreadItemDone { item } => match &item.kind {
                ItemKind::AssistantMessage { content } => {
                    Some(content.iter().map(|part| part.text.as_str()).collect())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Finished workflows: each task's (title, status).
fn workflows(events: &[ThreadStreamEvent]) -> Vec<Vec<(String, TaskStatusIndicator)>> {
    events
        .iter()
        .filter_map(|event| match event {
            ThreadStreamEvent::ThreadItemDone { item } => match &item.kind {
                ItemKind::Workflow { workflow } => Some(workflow.tasks.iter().map(task_title).collect()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn task_title(task: &chatkit::Task) -> (String, TaskStatusIndicator) {
    match &task.kind {
        TaskKind::Custom { title, .. } => (title.clone().unwrap_or_default(), task.status_indicator),
        other => panic!("unexpected task kind {other:?}"),
    }
}

fn error_event(events: &[ThreadStreamEvent]) -> Option<(String, bool)> {
    events.iter().find_map(|event| match event {
        ThreadStreamEvent::Error { message, allow_retry, .. } => {
            Some((message.clone().unwrap_or_default(), *allow_retry))
        }
        _ => None,
    })
}

fn messages(request: &Value) -> &Vec<Value> {
    request["messages"].as_array().expect("messages")
}

fn roles(request: &Value) -> Vec<&str> {
    messages(request).iter().map(|message| message["role"].as_str().unwrap()).collect()
}

// ----- scenarios ------------------------------------------------------------------------------

#[tokio::test]
async fn a_single_tool_call_streams_progress_then_the_answer() {
    let h = harness(script(vec![
        Reply::tool_call("create_task", json!({"title": "Buy milk"})),
        Reply::text("Added “Buy milk” to your list."),
    ]))
    .await;
    let (events, thread_id) = h.start("add buy milk").await;

    assert_eq!(h.task_titles().await, vec![("Buy milk".to_owned(), false)]);
    assert_eq!(error_event(&events), None);
    assert_eq!(
        workflows(&events),
        vec![vec![("Created task “Buy milk”".to_owned(), TaskStatusIndicator::Complete)]]
    );
    assert_eq!(answers(&events), vec!["Added “Buy milk” to your list."]);

    // The workflow task appears (loading) before the tool result is known, then completes.
    let task_updates: Vec<(String, TaskStatusIndicator)> = events
        .iter()
        .filter_map(|event| match event {
            ThreadStreamEvent::ThreadItemUpdated {
                update: ThreadItemUpdate::WorkflowTaskAdded { task, .. },
                ..
            }
            | ThreadStreamEvent::ThreadItemUpdated {
                update: ThreadItemUpdate::WorkflowTaskUpdated { task, .. },
                ..
            } => Some(task_title(task)),
            _ => None,
        })
        .collect();
    // Shown as soon as the call's name arrives (before its arguments finished streaming).
    assert_eq!(
        task_updates,
        [
            ("Creating a task".to_owned(), TaskStatusIndicator::Loading),
            ("Creating task “Buy milk”".to_owned(), TaskStatusIndicator::Loading),
            ("Created task “Buy milk”".to_owned(), TaskStatusIndicator::Complete),
        ]
    );

    // Text streams as content-part events, in protocol order.
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            ThreadStreamEvent::ThreadItemAdded { item } if item.type_name() == "assistant_message" => {
                Some("added")
            }
            ThreadStreamEvent::ThreadItemUpdated { update, .. } => match update {
                ThreadItemUpdate::ContentPartAdded { .. } => Some("part.added"),
                ThreadItemUpdate::TextDelta { .. } => Some("delta"),
                ThreadItemUpdate::ContentPartDone { .. } => Some("part.done"),
                _ => None,
            },
            ThreadStreamEvent::ThreadItemDone { item } if item.type_name() == "assistant_message" => {
                Some("done")
            }
            _ => None,
        })
        .collect();
    assert_eq!(kinds.first(), Some(&"added"));
    assert_eq!(kinds[1], "part.added");
    assert!(kinds.iter().filter(|kind| **kind == "delta").count() > 1, "{kinds:?}");
    assert_eq!(&kinds[kinds.len() - 2..], &["part.done", "done"]);

    // The thread is titled from the first message.
    assert!(events.iter().any(|event| matches!(event,
        ThreadStreamEvent::ThreadUpdated { thread } if thread.title.as_deref() == Some("add buy milk"))));

    // The hidden round is stored but never sent; the second request carried the tool result.
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, ThreadStreamEvent::ThreadItemDone { item } if item.is_hidden()))
    );
    let items = h.items(&thread_id).await;
    let kinds: Vec<&str> = items.iter().map(ThreadItem::type_name).collect();
    // The created task's card comes last (see "When a card is shown" in `widgets`).
    assert_eq!(kinds, ["user_message", "workflow", "hidden_context_item", "assistant_message", "widget"]);
    let card = serde_json::to_string(items.last().unwrap()).unwrap();
    assert!(card.contains("Buy milk") && card.contains("task.complete"), "{card}");
    let requests = h.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(roles(&requests[1]), ["system", "user", "assistant", "tool"]);
    let call_id = requests[1]["messages"][2]["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(requests[1]["messages"][3]["tool_call_id"], call_id);
    assert!(requests[1]["messages"][3]["content"].as_str().unwrap().contains("Task created"));
    assert_eq!(h.fake.requests()[0].authorization.as_deref(), Some("Bearer test-key"));
    assert_eq!(requests[0]["stream"], true);
    assert_eq!(requests[0]["tools"].as_array().unwrap().len(), 4);
    let system = requests[0]["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("delete_all_tasks") && !system.contains("Europe/Berlin"), "{system}");
    // The time and zone come last, with the user's message.
    let user = requests[0]["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.starts_with("add buy milk\n\n[Context: now is ") && user.contains("Europe/Berlin"),
        "{user}"
    );
}

#[tokio::test]
async fn two_tool_calls_in_one_response_run_concurrently() {
    let options = HarnessOptions {
        shape: Shape::Gemini,
        gate: Some(Arc::new(Barrier::new(2))),
        ..HarnessOptions::default()
    };
    let h = harness_with(
        script(vec![
            calls(vec![
                ToolCallSpec::new("create_task", json!({"title": "Buy milk"})),
                ToolCallSpec::new("create_task", json!({"title": "Call mom"})),
            ]),
            Reply::text("Both are on your list."),
        ]),
        options,
    )
    .await;
    let (events, _) = h.start("add buy milk and call mom").await;

    // Each call waited for the other at the gate, so they ran at the same time.
    assert_eq!(h.task_titles().await, vec![("Buy milk".to_owned(), false), ("Call mom".to_owned(), false)]);
    assert_eq!(
        workflows(&events),
        vec![vec![
            ("Created task “Buy milk”".to_owned(), TaskStatusIndicator::Complete),
            ("Created task “Call mom”".to_owned(), TaskStatusIndicator::Complete),
        ]]
    );
    assert_eq!(roles(&h.requests()[1]), ["system", "user", "assistant", "tool", "tool"]);
}

#[tokio::test]
async fn a_multi_step_plan_feeds_each_result_to_the_next_step() {
    let h = harness(script(vec![
        Reply::tool_call("list_tasks", json!({})),
        Reply::tool_call("complete_task", json!({"task_id": "1", "completed": true})),
        Reply::text("✅ Marked “Water plants” as complete."),
    ]))
    .await;
    h.tools
        .tasks
        .create(h.ctx.user, TaskInput { title: "Water plants".into(), ..TaskInput::default() }, &h.ctx.zone)
        .await
        .unwrap();
    let (events, _) = h.start("I watered the plants").await;

    assert_eq!(h.tool_calls(), ["list_tasks", "complete_task"]);
    assert_eq!(h.task_titles().await, vec![("Water plants".to_owned(), true)]);
    assert_eq!(workflows(&events).len(), 2);
    assert_eq!(answers(&events), vec!["✅ Marked “Water plants” as complete."]);
    let requests = h.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(roles(&requests[2]), ["system", "user", "assistant", "tool", "assistant", "tool"]);
    assert!(requests[1]["messages"][3]["content"].as_str().unwrap().contains("Water plants"));
}

#[tokio::test]
async fn delete_all_is_confirmed_over_two_turns_with_the_history_sent_again() {
    let h = harness(script(vec![
        Reply::tool_call("delete_all_tasks", json!({"confirmed": false})),
        Reply::text("You have 2 tasks. Reply “yes” to delete them all."),
        Reply::tool_call("delete_all_tasks", json!({"confirmed": true})),
        Reply::text("✅ Deleted 2 tasks."),
    ]))
    .await;
    for title in ["One", "Two"] {
        h.tools
            .tasks
            .create(h.ctx.user, TaskInput { title: title.into(), ..TaskInput::default() }, &h.ctx.zone)
            .await
            .unwrap();
    }
    let (first, thread_id) = h.start("delete all my tasks").await;
    assert_eq!(answers(&first), vec!["You have 2 tasks. Reply “yes” to delete them all."]);
    assert_eq!(h.task_titles().await.len(), 2, "nothing is deleted before the user confirms");

    let second = h.say(&thread_id, "yes").await;
    assert_eq!(answers(&second), vec!["✅ Deleted 2 tasks."]);
    assert!(h.task_titles().await.is_empty());

    // Turn 2's first request carries all of turn 1, rebuilt from the stored items.
    let requests = h.requests();
    assert_eq!(requests.len(), 4);
    let turn_two = &requests[2];
    assert_eq!(roles(turn_two), ["system", "user", "assistant", "tool", "assistant", "user"]);
    let sent = messages(turn_two);
    assert_eq!(sent[1]["content"], "delete all my tasks", "only the newest message carries the context");
    assert_eq!(sent[2]["tool_calls"][0]["function"]["name"], "delete_all_tasks");
    assert_eq!(sent[2]["tool_calls"][0]["function"]["arguments"], r#"{"confirmed":false}"#);
    assert!(sent[3]["content"].as_str().unwrap().contains("requires_confirmation"));
    assert_eq!(sent[4]["content"], "You have 2 tasks. Reply “yes” to delete them all.");
    assert!(sent[5]["content"].as_str().unwrap().starts_with("yes\n\n[Context: "), "{}", sent[5]);
}

#[tokio::test]
async fn gemini_thought_signatures_are_echoed_within_and_across_turns() {
    let mut signed = ToolCallSpec::new("create_task", json!({"title": "Buy milk"}));
    signed.thought_signature = Some("sig-abc".into());
    let options = HarnessOptions { shape: Shape::Gemini, ..HarnessOptions::default() };
    let h = harness_with(
        script(vec![calls(vec![signed]), Reply::text("Added."), Reply::text("You added “Buy milk”.")]),
        options,
    )
    .await;
    // Gemini's stream: no `index` on tool-call deltas and `finish_reason: "stop"` with tool calls.
    let (events, thread_id) = h.start("add buy milk").await;
    assert_eq!(h.task_titles().await, vec![("Buy milk".to_owned(), false)]);
    assert_eq!(answers(&events), vec!["Added."]);
    let second = h.say(&thread_id, "what did I add?").await;
    assert_eq!(answers(&second), vec!["You added “Buy milk”."]);

    let requests = h.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests[1..] {
        let call = &messages(request)[2]["tool_calls"][0];
        assert_eq!(call["extra_content"]["google"]["thought_signature"], "sig-abc", "{request}");
    }
}

#[tokio::test]
async fn tool_calls_finishing_with_stop_still_run() {
    let mut reply = Reply::tool_call("create_task", json!({"title": "Buy milk"}));
    reply.finish_reason = Some("stop".into());
    let h = harness(script(vec![reply, Reply::text("Added.")])).await;
    let (events, _) = h.start("add buy milk").await;
    assert_eq!(h.tool_calls(), ["create_task"]);
    assert_eq!(answers(&events), vec!["Added."]);
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_is_retried_before_the_first_token() {
    let mut limited = Reply::text("Hello!");
    limited.error = Some(ErrorSpec {
        status: 429,
        retry_after_secs: Some(0),
        fail_first: Some(1),
        ..ErrorSpec::default()
    });
    let h = harness(script(vec![limited])).await;
    let (events, _) = h.start("hi").await;
    assert_eq!(error_event(&events), None);
    assert_eq!(answers(&events), vec!["Hello!"]);
    assert_eq!(h.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_bound_ends_the_turn_at_once() {
    let mut limited = Reply::text("Hello!");
    limited.error = Some(ErrorSpec {
        status: 429,
        retry_after_secs: Some(3600),
        fail_first: Some(1),
        ..ErrorSpec::default()
    });
    let h = harness(script(vec![limited])).await;
    let (events, _) = h.start("hi").await;
    let (message, allow_retry) = error_event(&events).expect("an error event");
    assert!(message.contains("too many requests") && message.contains("3600 seconds"), "{message}");
    assert!(allow_retry);
    assert_eq!(h.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_until_retries_run_out_end_in_a_retryable_error_and_retry_works() {
    let h = harness(Script { fallback: Some(Reply::error(500)), ..Script::default() }).await;
    let (events, thread_id) = h.start("hi").await;
    let (message, allow_retry) = error_event(&events).expect("an error event");
    assert!(message.contains("unavailable"), "{message}");
    assert!(allow_retry);
    assert_eq!(h.requests().len(), 3, "the first try and two retries");
    assert!(answers(&events).is_empty());

    // The client's Retry button: `threads.retry_after_item` on the user message.
    h.fake.set_script(script(vec![Reply::text("Hello again!")]));
    let user_message =
        h.items(&thread_id).await.into_iter().find(|item| item.type_name() == "user_message").unwrap();
    let retried = h
        .stream(json!({"type": "threads.retry_after_item",
            "params": {"thread_id": thread_id, "item_id": user_message.id}}))
        .await;
    assert_eq!(answers(&retried), vec!["Hello again!"]);
    assert_eq!(roles(h.requests().last().unwrap()), ["system", "user"]);
}

#[tokio::test]
async fn a_model_that_never_answers_hits_the_first_token_timeout() {
    let options = HarnessOptions {
        configure: |config| config.first_token_timeout = Duration::from_millis(300),
        ..HarnessOptions::default()
    };
    let h =
        harness_with(script(vec![Reply { hang: Some(Hang::AfterHeaders), ..Reply::text("never") }]), options)
            .await;
    let (events, _) = h.start("hi").await;
    let (message, allow_retry) = error_event(&events).expect("an error event");
    assert!(message.contains("too long"), "{message}");
    assert!(allow_retry);
    assert_eq!(h.requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn a_stall_mid_answer_keeps_the_partial_text_and_reports_the_timeout() {
    let options = HarnessOptions {
        configure: |config| config.idle_timeout = Duration::from_millis(300),
        ..HarnessOptions::default()
    };
    let h = harness_with(
        script(vec![Reply { hang: Some(Hang::AfterChunks(3)), ..Reply::text("one two three four five") }]),
        options,
    )
    .await;
    let (events, thread_id) = h.start("hi").await;
    assert!(error_event(&events).expect("an error event").0.contains("too long"));
    // The fake sends the role chunk and two words, then nothing: however slow the machine
    // (whenever the timeout fires), the kept text is exactly what streamed before it, never
    // more than was sent before the stall, and saved as it was shown.
    let streamed: String = events
        .iter()
        .filter_map(|event| match event {
            ThreadStreamEvent::ThreadItemUpdated {
                update: ThreadItemUpdate::TextDelta { delta, .. },
                ..
            } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert!("one two ".starts_with(&streamed), "{streamed:?}");
    assert_eq!(
        answers(&events),
        [streamed.clone()].into_iter().filter(|text| !text.is_empty()).collect::<Vec<_>>()
    );
    let stored: Vec<String> = h
        .items(&thread_id)
        .await
        .into_iter()
        .filter_map(|item| match item.kind {
            ItemKind::AssistantMessage { content } => {
                Some(content.iter().map(|part| part.text.as_str()).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(stored, answers(&events));
}

#[tokio::test]
async fn the_whole_run_limit_ends_a_slow_answer() {
    let options = HarnessOptions {
        configure: |config| config.run_timeout = Duration::from_millis(300),
        ..HarnessOptions::default()
    };
    let slow = Reply { words: Some(50), chunk_delay_ms: 100, ..Reply::default() };
    let h = harness_with(script(vec![slow]), options).await;
    let (events, _) = h.start("hi").await;
    let (message, allow_retry) = error_event(&events).expect("an error event");
    assert!(message.starts_with("Request timed out"), "{message}");
    assert!(allow_retry);
}

#[tokio::test]
async fn malformed_arguments_and_unknown_tools_go_back_to_the_model() {
    let mut malformed = ToolCallSpec::new("create_task", json!({}));
    malformed.raw_arguments = Some(r#"{"title": "Buy milk""#.into());
    let h = harness(script(vec![
        calls(vec![malformed, ToolCallSpec::new("launch_rockets", json!({}))]),
        Reply::tool_call("create_task", json!({"title": "Buy milk"})),
        Reply::text("Added “Buy milk”."),
    ]))
    .await;
    let (events, _) = h.start("add buy milk").await;

    assert_eq!(error_event(&events), None);
    assert_eq!(h.tool_calls(), ["create_task"], "only the well-formed call ran");
    assert_eq!(h.task_titles().await, vec![("Buy milk".to_owned(), false)]);
    let first = &workflows(&events)[0];
    assert_eq!(first[0].0, "Couldn't create a task");
    assert_eq!(first[1].0, "Couldn't run “launch_rockets”");
    let sent = messages(&h.requests()[1]).clone();
    assert!(sent[3]["content"].as_str().unwrap().contains("invalid_arguments"));
    assert!(sent[4]["content"].as_str().unwrap().contains("unknown_tool"));
    assert!(sent[4]["content"].as_str().unwrap().contains("create_task"));
    assert_eq!(answers(&events), vec!["Added “Buy milk”."]);
}

#[tokio::test]
async fn a_garbled_chunk_is_skipped() {
    let h = harness(script(vec![Reply { malformed_after_chunks: Some(2), ..Reply::text("All good here.") }]))
        .await;
    let (events, _) = h.start("hi").await;
    assert_eq!(error_event(&events), None);
    assert_eq!(answers(&events), vec!["All good here."]);
}

#[tokio::test]
async fn the_step_limit_ends_a_runaway_loop_with_a_message() {
    let options = HarnessOptions { configure: |config| config.max_steps = 3, ..HarnessOptions::default() };
    let h = harness_with(
        Script { fallback: Some(Reply::tool_call("list_tasks", json!({}))), ..Script::default() },
        options,
    )
    .await;
    let (events, thread_id) = h.start("list my tasks forever").await;
    assert_eq!(h.requests().len(), 3);
    assert_eq!(h.tool_calls().len(), 3);
    let answers = answers(&events);
    assert_eq!(answers.len(), 1);
    assert!(answers[0].contains("more than 3 steps"), "{answers:?}");
    assert_eq!(error_event(&events), None);
    // Every round was recorded for the next turn.
    let rounds = h.items(&thread_id).await.into_iter().filter(ThreadItem::is_hidden).count();
    assert_eq!(rounds, 3);
}

#[tokio::test]
async fn text_before_tool_calls_is_shown_and_sent_back_once() {
    let mut reply = Reply::tool_call("create_task", json!({"title": "Buy milk"}));
    reply.text = Some("Sure, adding it.".into());
    let h = harness(script(vec![reply, Reply::text("Done."), Reply::text("Anything else?")])).await;
    let (events, thread_id) = h.start("add buy milk").await;
    assert_eq!(answers(&events), vec!["Sure, adding it.", "Done."]);
    h.say(&thread_id, "thanks").await;
    let sent = messages(h.requests().last().unwrap()).clone();
    let roles: Vec<&str> = sent.iter().map(|message| message["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "assistant", "user"]);
    assert_eq!(sent[2]["content"], "Sure, adding it.");
    assert_eq!(sent[2]["tool_calls"][0]["function"]["name"], "create_task");
}

#[tokio::test]
async fn an_invalid_tool_call_costs_one_step_not_the_thread() {
    // llama.cpp's style: it once streamed the arguments twice, and refuses every later request
    // whose history holds arguments that are not JSON ("Extra data").
    let mut doubled = ToolCallSpec::new("complete_task", json!({}));
    doubled.raw_arguments = Some(r#"{"task_id":"1"}{"task_id":"1"}"#.into());
    let options = HarnessOptions { shape: Shape::LlamaCpp, ..HarnessOptions::default() };
    let h = harness_with(
        script(vec![
            calls(vec![doubled]),
            Reply::tool_call("complete_task", json!({"task_id": "1", "completed": true})),
            Reply::text("Done: “Water plants”."),
            Reply::text("You have no pending tasks."),
        ]),
        options,
    )
    .await;
    h.tools
        .tasks
        .create(h.ctx.user, TaskInput { title: "Water plants".into(), ..TaskInput::default() }, &h.ctx.zone)
        .await
        .unwrap();
    let (events, thread_id) = h.start("I watered the plants").await;
    assert_eq!(error_event(&events), None, "{events:?}");
    assert_eq!(answers(&events), ["Done: “Water plants”."]);
    assert_eq!(h.tool_calls(), ["complete_task"], "the doubled call ran nothing");
    assert_eq!(h.task_titles().await, vec![("Water plants".to_owned(), true)]);

    // The next message in the thread works: the history sends `{}` for the bad call.
    let next = h.say(&thread_id, "anything left?").await;
    assert_eq!(error_event(&next), None, "{next:?}");
    assert_eq!(answers(&next), ["You have no pending tasks."]);
    let requests = h.requests();
    assert_eq!(requests.len(), 4);
    for request in &requests[1..] {
        let replayed = &messages(request)[2]["tool_calls"][0];
        assert_eq!(replayed["function"]["name"], "complete_task", "the repeated name is not doubled");
        assert_eq!(replayed["function"]["arguments"], "{}", "{request}");
        assert!(messages(request)[3]["content"].as_str().unwrap().contains("invalid_arguments"));
    }
}

#[tokio::test]
async fn the_prompt_keeps_a_stable_prefix_and_puts_the_time_last() {
    // A controlled clock: the two turns are seven minutes apart without waiting for them.
    let now = Arc::new(Mutex::new("2026-12-07T09:00:30Z".parse::<jiff::Timestamp>().unwrap()));
    let read = now.clone();
    let options =
        HarnessOptions { clock: Some(Arc::new(move || *read.lock().unwrap())), ..HarnessOptions::default() };
    let h = harness_with(
        script(vec![
            Reply::tool_call("create_task", json!({"title": "Buy milk"})),
            Reply::text("Added."),
            Reply::text("Anything else?"),
        ]),
        options,
    )
    .await;
    let (_, thread_id) = h.start("add buy milk").await;
    *now.lock().unwrap() = "2026-12-07T09:07:10Z".parse().unwrap();
    h.say(&thread_id, "thanks").await;

    let requests = h.requests();
    assert_eq!(requests.len(), 3);
    // What a server renders first (instructions, then tools) is byte-identical at 10:00 and
    // 10:07 Berlin time, so its prefix cache holds.
    let prefix = |request: &Value| (messages(request)[0].to_string(), request["tools"].to_string());
    assert_eq!(prefix(&requests[0]), prefix(&requests[2]));
    assert!(!prefix(&requests[2]).0.contains("10:0"), "no time in the instructions");
    // Within a turn everything before the newest step is unchanged too.
    assert_eq!(messages(&requests[0])[..2], messages(&requests[1])[..2]);
    // The time and zone ride at the very end: on the newest user message only.
    let last_user = |request: &Value| {
        messages(request).iter().rev().find(|message| message["role"] == "user").unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(last_user(&requests[0]).contains("10:00 in the user's time zone Europe/Berlin (UTC+01:00)"));
    assert!(
        last_user(&requests[2]).starts_with("thanks\n\n[Context: now is Monday, December 7, 2026, 10:07")
    );
    let text = requests[2].to_string();
    assert_eq!(text.matches("[Context: now").count(), 1, "older messages go back as they were: {text}");
}

#[tokio::test]
async fn an_answer_cut_off_at_the_length_limit_says_so() {
    let mut cut = Reply::text("Here are your tasks: one, two, thr");
    cut.finish_reason = Some("length".into());
    let h = harness(script(vec![cut])).await;
    let (events, thread_id) = h.start("list everything in detail").await;
    assert_eq!(error_event(&events), None);
    let answer = &answers(&events)[0];
    assert!(answer.starts_with("Here are your tasks: one, two, thr…"), "{answer}");
    assert!(answer.contains("cut off") && answer.contains("length limit"), "{answer}");
    let stored = h.items(&thread_id).await;
    assert!(
        stored.iter().any(|item| matches!(&item.kind, ItemKind::AssistantMessage { content }
            if content[0].text == *answer)),
        "saved with the note"
    );
}

#[tokio::test]
async fn a_history_beyond_the_model_context_is_retried_with_the_current_turn_only() {
    let h = harness(script(vec![Reply::text("First."), Reply::text("Second."), Reply::text("Third.")])).await;
    let (_, thread_id) = h.start(&format!("remember this: {}", "long words ".repeat(1_000))).await;
    h.say(&thread_id, "and this").await;
    // The model's server now holds less than the thread: it refuses the long request, as
    // llama-cpp-python does; the turn is retried without the earlier turns and answers.
    let mut smaller = h.fake.script();
    smaller.turns = vec![Reply::text("Short answer.")];
    smaller.context_tokens = Some(2_000);
    h.fake.set_script(smaller);
    let events = h.say(&thread_id, "what now?").await;
    assert_eq!(error_event(&events), None, "{events:?}");
    assert_eq!(answers(&events), ["Short answer."]);
    let requests = h.requests();
    let retried = requests.last().unwrap();
    assert_eq!(roles(retried), ["system", "user"], "only the current turn");
    assert!(messages(retried)[1]["content"].as_str().unwrap().starts_with("what now?"));
    assert!(roles(&requests[requests.len() - 2]).len() > 2, "the first try sent the history");
}

#[tokio::test]
async fn a_turn_that_alone_exceeds_the_context_says_what_to_do_without_retry() {
    let h = harness(Script { context_tokens: Some(10), ..Script::default() }).await;
    let (events, _) = h.start("hello").await;
    let (message, allow_retry) = error_event(&events).expect("an error event");
    assert!(message.contains("too long") && message.contains("new conversation"), "{message}");
    assert!(!allow_retry, "the same request would fail again");
    assert_eq!(h.requests().len(), 1, "nothing shorter to try");
}
