//! Drives the offline assistant through the real ChatKit server core with a real SQLite
//! task database, the real SQL chat store on the same database and the real `TaskTools`.

use std::sync::Arc;

use chatkit::{
    ChatKitServer, ItemKind, ProcessResult, SortOrder, ThreadItem, ThreadItemUpdate, ThreadStreamEvent,
};
use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use todokit::assistant::offline::OfflineResponder;
use todokit::chat::ChatContext;
use todokit::chat::DynChatStore;
use todokit::tasks::model::{SortKey, Task, UserId};
use todokit::tasks::{ListCriteria, TaskInput, TaskService, UserZone};
use todokit::tools::{TaskTools, ToolContext};

/// Saturday 2026-11-21 10:00 in New York: the assistant's fixed "now".
pub const NOW: &str = "2026-11-21T15:00:00Z";

/// The tool a workflow step ran, read from its title (the assistant calls the typed tools
/// directly, so the steps it shows are the record of what it did).
fn tool_of_step(title: &str) -> &'static str {
    let starts = |prefix: &str| title.starts_with(prefix);
    if starts("Creating task") {
        "create_task"
    } else if starts("Completing all") || starts("Reopening all") {
        "complete_all_tasks"
    } else if starts("Deleting all") || (starts("Counting") && title.ends_with("to delete")) {
        "delete_all_tasks"
    } else if starts("Completing") || starts("Reopening") {
        "complete_task"
    } else if starts("Deleting") {
        "delete_task"
    } else if starts("Renaming") || starts("Updating") || starts("Setting") || starts("Rescheduling") {
        "update_task"
    } else {
        "list_tasks"
    }
}

/// One response: every event and the final assistant text.
pub struct Reply {
    pub events: Vec<ThreadStreamEvent>,
    pub text: String,
}

impl Reply {
    /// The tools run, in order (one workflow step each).
    pub fn tool_names(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|event| match event {
                ThreadStreamEvent::ThreadItemUpdated {
                    update: ThreadItemUpdate::WorkflowTaskAdded { task, .. },
                    ..
                } => match &task.kind {
                    chatkit::TaskKind::Custom { title: Some(title), .. } => Some(tool_of_step(title)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// How each workflow step ended (its last status), in order.
    pub fn step_statuses(&self) -> Vec<chatkit::TaskStatusIndicator> {
        let mut statuses = Vec::new();
        for event in &self.events {
            if let ThreadStreamEvent::ThreadItemUpdated {
                update: ThreadItemUpdate::WorkflowTaskUpdated { task_index, task },
                ..
            } = event
            {
                statuses.resize(statuses.len().max(task_index + 1), chatkit::TaskStatusIndicator::Loading);
                statuses[*task_index] = task.status_indicator;
            }
        }
        statuses
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
    pub tasks: TaskService,
    pub ctx: ChatContext,
    pub thread_id: Option<String>,
    storage: todokit::storage::Repositories,
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
        let user = storage
            .accounts
            .create_user("a@example.com", "a@example.com", "x", Timestamp::now())
            .await
            .unwrap();
        let tasks = TaskService::new(storage.tasks.clone());
        let tools = Arc::new(TaskTools::new(tasks.clone()));
        let store: DynChatStore = storage.chat.clone();
        let now: Timestamp = NOW.parse().unwrap();
        let responder = OfflineResponder::new(tools.clone(), store.clone()).with_clock(move || now);
        let ctx =
            ChatContext::from(ToolContext { user: UserId(user.id), zone: UserZone::parse(zone).unwrap() });
        Chat {
            server: ChatKitServer::new(store, Arc::new(responder)),
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
        let user = self
            .storage
            .accounts
            .create_user("b@example.com", "b@example.com", "x", Timestamp::now())
            .await
            .unwrap();
        Chat {
            server: self.server.clone(),
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
        let events = self.stream(body).await;
        if let Some(ThreadStreamEvent::ThreadCreated { thread }) = events.first() {
            self.thread_id = Some(thread.id.clone());
        }
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
        Reply { events, text }
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
