//! Drives the offline assistant through the real ChatKit server core with a real SQLite
//! task database and the real SQL chat store on the same database. The only stand-in:
//! `ServiceTools`, a thin executor of the seven tools over `TaskService` (replaced by the
//! real `TaskTools` once merged).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chatkit::{
    ChatKitServer, ItemKind, ProcessResult, SortOrder, ThreadItem, ThreadItemUpdate, ThreadStreamEvent,
};
use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use todokit::assistant::offline::OfflineResponder;
use todokit::chat::ChatContext;
use todokit::storage::DynChatStore;
use todokit::tasks::model::{SortKey, Task, TaskKey, UserId};
use todokit::tasks::{
    ListCriteria, StatusFilter, TaskError, TaskInput, TaskPatchInput, TaskService, UserZone,
};
use todokit::tools::{ToolContext, ToolDefinition, ToolExecutor, ToolOutput};

/// Saturday 2026-11-21 10:00 in New York: the assistant's fixed "now".
pub const NOW: &str = "2026-11-21T15:00:00Z";

/// The seven tools over `TaskService`, recording every call.
pub struct ServiceTools {
    tasks: TaskService,
    calls: Mutex<Vec<(String, Value)>>,
}

fn text_arg(arguments: &Value, key: &str) -> Option<String> {
    arguments.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn task_key(arguments: &Value) -> Result<TaskKey, TaskError> {
    let raw = match arguments.get("task_id") {
        Some(Value::String(raw)) => raw.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    };
    TaskKey::parse(&raw).ok_or(TaskError::NotFound)
}

fn status(raw: Option<&str>) -> StatusFilter {
    match raw {
        Some("pending") => StatusFilter::Pending,
        Some("completed") => StatusFilter::Completed,
        Some("overdue") => StatusFilter::Overdue,
        _ => StatusFilter::All,
    }
}

/// The argument names each tool accepts (the real tools reject unknown fields too).
fn accepted_arguments(tool: &str) -> &'static [&'static str] {
    match tool {
        "create_task" => &["title", "description", "due_date", "priority", "tags"],
        "list_tasks" => &[
            "status",
            "priority",
            "tags",
            "due",
            "due_before",
            "due_after",
            "search",
            "sort",
            "order",
            "limit",
        ],
        "update_task" => &["task_id", "title", "description", "due_date", "priority", "tags", "completed"],
        "delete_task" => &["task_id"],
        "complete_task" => &["task_id", "completed"],
        "complete_all_tasks" => &["completed"],
        "delete_all_tasks" => &["confirmed"],
        _ => &[],
    }
}

/// A task as the tools return it: local times with the user's offset.
fn task_json(task: &Task, zone: &UserZone) -> Value {
    let local = |ts: Timestamp| ts.to_zoned(zone.tz().clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    json!({
        "id": task.id, "number": task.number, "title": task.title, "description": task.description,
        "priority": task.priority, "tags": task.tags, "due_date": task.due_at.map(local),
        "completed": task.completed,
    })
}

impl ServiceTools {
    async fn run(&self, ctx: &ToolContext, name: &str, arguments: &Value) -> Result<Value, TaskError> {
        let (user, zone) = (ctx.user, &ctx.zone);
        let accepted = accepted_arguments(name);
        if let Some(unknown) = arguments
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, _)| key)
            .find(|key| !accepted.contains(&key.as_str()))
        {
            return Err(TaskError::InvalidField {
                field: "arguments",
                message: format!("unknown field `{unknown}` for {name}"),
            });
        }
        match name {
            "create_task" => {
                let input = TaskInput {
                    title: text_arg(arguments, "title").unwrap_or_default(),
                    description: text_arg(arguments, "description"),
                    priority: text_arg(arguments, "priority"),
                    tags: arguments.get("tags").and_then(|tags| serde_json::from_value(tags.clone()).ok()),
                    due_at: text_arg(arguments, "due_date"),
                    ..TaskInput::default()
                };
                let task = self.tasks.create(user, input, zone).await?;
                Ok(
                    json!({"success": true, "task": task_json(&task, zone), "message": format!("✅ Task created: {}", task.title)}),
                )
            }
            "list_tasks" => {
                let criteria = ListCriteria {
                    status: status(arguments.get("status").and_then(Value::as_str)),
                    priority: text_arg(arguments, "priority"),
                    tags: arguments
                        .get("tags")
                        .and_then(|tags| serde_json::from_value(tags.clone()).ok())
                        .unwrap_or_default(),
                    due_before: text_arg(arguments, "due_before"),
                    due_after: text_arg(arguments, "due_after"),
                    search: text_arg(arguments, "search"),
                    sort: arguments
                        .get("sort")
                        .and_then(|sort| serde_json::from_value::<SortKey>(sort.clone()).ok()),
                    limit: arguments.get("limit").and_then(Value::as_u64).map(|limit| limit as u32),
                    ..ListCriteria::default()
                };
                let page = self.tasks.list(user, &criteria, zone).await?;
                let counts = self.tasks.counts(user, &criteria, zone).await?;
                Ok(json!({
                    "success": true, "tasks": page.tasks.iter().map(|task| task_json(task, zone)).collect::<Vec<_>>(), "total": counts.total, "pending": counts.pending,
                    "completed": counts.completed,
                    "message": format!("Found {} tasks", counts.total),
                }))
            }
            "update_task" => {
                let patch = TaskPatchInput {
                    title: text_arg(arguments, "title"),
                    description: text_arg(arguments, "description").map(Some),
                    priority: text_arg(arguments, "priority"),
                    due_at: text_arg(arguments, "due_date").map(Some),
                    ..TaskPatchInput::default()
                };
                let task = self.tasks.update(user, task_key(arguments)?, patch, zone).await?;
                Ok(
                    json!({"success": true, "task": task_json(&task, zone), "message": format!("✅ Task updated: {}", task.title)}),
                )
            }
            "delete_task" => {
                let task = self.tasks.delete(user, task_key(arguments)?).await?;
                Ok(
                    json!({"success": true, "task": task_json(&task, zone), "message": format!("Deleted {}", task.title)}),
                )
            }
            "complete_task" => {
                let completed = arguments.get("completed").and_then(Value::as_bool).unwrap_or(true);
                let key = task_key(arguments)?;
                let before = self.tasks.get(user, key).await?;
                let done = self.tasks.set_completed(user, key, completed).await?;
                let state = |completed: bool| if completed { "completed" } else { "pending" };
                Ok(json!({
                    "success": true, "task": task_json(&done.task, zone), "message": "ok",
                    "old_status": state(before.completed), "new_status": state(completed),
                }))
            }
            "complete_all_tasks" => {
                let completed = arguments.get("completed").and_then(Value::as_bool).unwrap_or(true);
                let outcome = self
                    .tasks
                    .set_completed_matching(user, &ListCriteria::default(), zone, completed)
                    .await?;
                Ok(json!({
                    "success": true, "updated_count": outcome.updated_count,
                    "skipped_count": outcome.skipped_count, "total_count": outcome.total_count, "message": "ok",
                }))
            }
            "delete_all_tasks" => {
                let criteria = ListCriteria::default();
                if arguments.get("confirmed").and_then(Value::as_bool) == Some(true) {
                    let deleted = self.tasks.delete_matching(user, &criteria, zone).await?;
                    Ok(json!({"success": true, "deleted_count": deleted, "message": "ok"}))
                } else {
                    let counts = self.tasks.counts(user, &criteria, zone).await?;
                    Ok(json!({
                        "success": true, "requires_confirmation": true, "task_count": counts.total,
                        "message": "Say yes to confirm",
                    }))
                }
            }
            other => Err(TaskError::InvalidField { field: "tool", message: format!("unknown tool {other}") }),
        }
    }
}

#[async_trait]
impl ToolExecutor for ServiceTools {
    fn definitions(&self) -> Vec<ToolDefinition> {
        Vec::new()
    }

    async fn call(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolOutput {
        self.calls.lock().unwrap().push((name.to_owned(), arguments.clone()));
        match self.run(ctx, name, &arguments).await {
            Ok(value) => ToolOutput { value, is_error: false },
            Err(TaskError::NotFound) => ToolOutput {
                value: json!({
                    "success": false, "error": "Task not found",
                    "message": format!("Could not find task with ID {}", arguments["task_id"]),
                }),
                is_error: true,
            },
            Err(error) => ToolOutput {
                value: json!({"success": false, "error": error.to_string(), "message": error.to_string()}),
                is_error: true,
            },
        }
    }
}

/// One response: every event, the final assistant text and the tool calls made.
pub struct Reply {
    pub events: Vec<ThreadStreamEvent>,
    pub text: String,
    pub calls: Vec<(String, Value)>,
}

impl Reply {
    pub fn tool_names(&self) -> Vec<&str> {
        self.calls.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// Finished items of one type, in order.
    pub fn done_items(&self, type_name: &str) -> Vec<&ThreadItem> {
        self.events
            .iter()
            .filter_map(|event| match event {
                ThreadStreamEvent::ThreadItemDone { item } if item.type_name() == type_name => Some(item),
                _ => None,
            })
            .collect()
    }

    /// Every `text_delta`, in order.
    pub fn deltas(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|event| match event {
                ThreadStreamEvent::ThreadItemUpdated {
                    update: ThreadItemUpdate::TextDelta { delta, .. },
                    ..
                } => Some(delta.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A signed-in user talking to the offline assistant in one thread at a time.
pub struct Chat {
    server: ChatKitServer<dyn chatkit::Store<ChatContext>, OfflineResponder>,
    tools: Arc<ServiceTools>,
    pub tasks: TaskService,
    pub ctx: ChatContext,
    pub thread_id: Option<String>,
    storage: todokit::storage::DynStorage,
    _dir: tempfile::TempDir,
}

impl Chat {
    /// A new user in New York with an empty task list.
    pub async fn new() -> Self {
        Self::in_zone("America/New_York").await
    }

    pub async fn in_zone(zone: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage =
            todokit::storage::connect(&format!("sqlite:{}/t.db", dir.path().display())).await.unwrap();
        let user =
            storage.create_user("a@example.com", "a@example.com", "x", Timestamp::now()).await.unwrap();
        let tasks = TaskService::new(storage.clone());
        let tools = Arc::new(ServiceTools { tasks: tasks.clone(), calls: Mutex::new(Vec::new()) });
        let store: DynChatStore = storage.chat_store();
        let now: Timestamp = NOW.parse().unwrap();
        let responder = OfflineResponder::new(tools.clone(), store.clone()).with_clock(move || now);
        let ctx =
            ChatContext::from(ToolContext { user: UserId(user.id), zone: UserZone::parse(zone).unwrap() });
        Chat {
            server: ChatKitServer::new(store, Arc::new(responder)),
            tools,
            tasks,
            ctx,
            thread_id: None,
            storage,
            _dir: dir,
        }
    }

    /// The standard list: #1 Buy groceries (today 6pm, #shopping), #2 Team meeting (Mon 9am,
    /// high), #3 Morning meeting with Bob (Tue 9am), #4 Finish the report (yesterday, low,
    /// overdue), #5 Call mom (completed, no date).
    pub async fn with_tasks() -> Self {
        let chat = Self::new().await;
        chat.seed("Buy groceries", Some("2026-11-21T18:00:00"), None, &["shopping"], false).await;
        chat.seed("Team meeting", Some("2026-11-23T09:00:00"), Some("high"), &[], false).await;
        chat.seed("Morning meeting with Bob", Some("2026-11-24T09:00:00"), None, &[], false).await;
        chat.seed("Finish the report", Some("2026-11-20T17:00:00"), Some("low"), &[], false).await;
        chat.seed("Call mom", None, None, &[], true).await;
        chat
    }

    /// Another user of the same server and database, in their own thread.
    pub async fn other_user(&self) -> Chat {
        let user =
            self.storage.create_user("b@example.com", "b@example.com", "x", Timestamp::now()).await.unwrap();
        Chat {
            server: self.server.clone(),
            tools: self.tools.clone(),
            tasks: self.tasks.clone(),
            ctx: ChatContext::from(ToolContext { user: UserId(user.id), zone: self.ctx.zone.clone() }),
            thread_id: None,
            storage: self.storage.clone(),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    pub async fn seed(
        &self,
        title: &str,
        due: Option<&str>,
        priority: Option<&str>,
        tags: &[&str],
        done: bool,
    ) {
        let input = TaskInput {
            title: title.to_owned(),
            due_at: due.map(str::to_owned),
            priority: priority.map(str::to_owned),
            tags: Some(tags.iter().map(|tag| (*tag).to_owned()).collect()),
            completed: done,
            ..TaskInput::default()
        };
        self.tasks.create(self.ctx.user, input, &self.ctx.zone).await.unwrap();
    }

    pub async fn all_tasks(&self) -> Vec<Task> {
        let criteria = ListCriteria { sort: Some(SortKey::Title), ..ListCriteria::default() };
        self.tasks.list(self.ctx.user, &criteria, &self.ctx.zone).await.unwrap().tasks
    }

    pub async fn task(&self, title: &str) -> Option<Task> {
        self.all_tasks().await.into_iter().find(|task| task.title == title)
    }

    async fn stream(&self, body: Value) -> Vec<ThreadStreamEvent> {
        match self.server.process(body.to_string().as_bytes(), self.ctx.clone()).await.unwrap() {
            ProcessResult::Stream(stream) => stream.collect().await,
            ProcessResult::Json(body) => panic!("expected a stream, got {body:?}"),
        }
    }

    /// Sends a user message: starts a thread on the first call, then continues it.
    pub async fn say(&mut self, text: &str) -> Reply {
        let input = json!({"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}});
        let body = match &self.thread_id {
            None => json!({"type": "threads.create", "params": {"input": input}}),
            Some(thread_id) => {
                json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": input}})
            }
        };
        self.tools.calls.lock().unwrap().clear();
        let events = self.stream(body).await;
        if let Some(ThreadStreamEvent::ThreadCreated { thread }) = events.first() {
            self.thread_id = Some(thread.id.clone());
        }
        let calls = std::mem::take(&mut *self.tools.calls.lock().unwrap());
        let text = events
            .iter()
            .rev()
            .find_map(|event| match event {
                ThreadStreamEvent::ThreadItemDone { item } => match &item.kind {
                    ItemKind::AssistantMessage { content } => {
                        Some(content.iter().map(|c| c.text.clone()).collect())
                    }
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_default();
        Reply { events, text, calls }
    }

    /// `threads.custom_action` from a widget item.
    pub async fn action(&self, item_id: &str, kind: &str, task_id: &str) -> Vec<ThreadStreamEvent> {
        let thread_id = self.thread_id.as_ref().unwrap();
        self.stream(json!({"type": "threads.custom_action", "params": {
            "thread_id": thread_id, "item_id": item_id,
            "action": {"type": kind, "payload": {"task_id": task_id}},
        }}))
        .await
    }

    /// JSON requests (`threads.sync_custom_action`, `items.list`, …).
    pub async fn request(&self, kind: &str, params: Value) -> Value {
        let body = json!({"type": kind, "params": params});
        match self.server.process(body.to_string().as_bytes(), self.ctx.clone()).await.unwrap() {
            ProcessResult::Json(body) => serde_json::from_slice(&body).unwrap(),
            ProcessResult::Stream(_) => panic!("expected JSON"),
        }
    }

    /// Every stored item of the thread, hidden ones included.
    pub async fn stored_items(&self) -> Vec<ThreadItem> {
        let thread_id = self.thread_id.as_ref().unwrap();
        self.server
            .store()
            .load_thread_items(thread_id, None, 500, SortOrder::Asc, &self.ctx)
            .await
            .unwrap()
            .data
    }
}
