//! The offline assistant: the embedded default when no model is configured.
//!
//! A deterministic command interpreter. Each user message is read with
//! [`todokit_domain::nl::parse_command`] against "now" in the user's zone and performed by
//! calling the same task tools an LLM would (through a [`ToolExecutor`]), so the rules live
//! in one place. Replies stream through the same ChatKit events as a model's:
//!
//! 1. each tool call is a task of one `custom` workflow item (`thread.item.added`, then
//!    `workflow.task.added` with a spinner, `workflow.task.updated` when the tool returns,
//!    and `thread.item.done` with a summary before the answer starts);
//! 2. the answer is an `assistant_message` streamed as `content_part.added`, a few
//!    `text_delta`s, `content_part.done` and `thread.item.done`;
//! 3. after a turn that created or changed tasks, a task widget (see
//!    [`crate::assistant::widgets`]) whose buttons complete, reopen or delete a task;
//! 4. when it asked to confirm a delete-all, a `hidden_context_item` recording the question.
//!
//! # State between turns
//!
//! - **Pending confirmation.** "Delete all my tasks" counts (the tool unconfirmed), asks, and
//!   ends the turn with a hidden item `{"type": "todokit.offline.pending_confirmation",
//!   "action": "delete_all" | "delete_completed", "task_count": n}`.
//!   The next turn reads the items since the previous user message through the
//!   [`Store`]; if that hidden item is there and the new message is just "yes"/"confirm" the
//!   deletion runs, "no" cancels, and anything else lets it lapse (it is never carried
//!   further than one turn).
//! - **Model hint.** The first reply in a thread mentions that configuring a model unlocks
//!   free-form conversation; the thread's server-only metadata
//!   (`offline_model_hint_shown`) records that it was said.
//!
//! # Tool contract relied on
//!
//! Arguments (the tools reject unknown fields): `create_task {title, description?, due_date?
//! (RFC 3339 with offset), priority?, tags?}`; `list_tasks {status? (all|pending|completed),
//! priority?, tags?, search?, due_after?, due_before?, sort? (due|priority|title|created),
//! limit?}`; `update_task {task_id, title? | description? | priority? | due_date?}`;
//! `complete_task {task_id, completed}`; `delete_task {task_id}`; `complete_all_tasks
//! {completed}`; `delete_all_tasks {confirmed}`. `task_id` is the task's id, or its number as
//! a string. Time windows ("overdue", "due today") are sent as `due_before`/`due_after`
//! computed from the responder's clock, so one "now" governs the whole reply. "Clear
//! completed" lists completed tasks and deletes them one by one after the confirmation.
//!
//! Results: `task` / `tasks` objects with `id`, `number`, `title`, `due_date` (or `due_at`),
//! `priority`, `completed`, `tags`; list counts `total`/`pending`/`completed`; `old_status` /
//! `new_status` and `next_task` from `complete_task`; `task_count` (unconfirmed delete-all),
//! `deleted_count`, `updated_count`, `total_count`; failures `{success:false, error, message}`
//! with `error` containing "not found" for a missing task.

mod interpret;
mod turn;

use std::sync::Arc;

use async_trait::async_trait;
use chatkit::{
    Action, ItemKind, ProcessError, Responder, ResponseError, ResponseStream, SortOrder, Store,
    SyncCustomActionResponse, ThreadHandle, ThreadItem, ThreadMetadata, ThreadStreamEvent, new_message_id,
    response_stream,
};
use jiff::Timestamp;
use serde_json::Value;
use todokit_domain::nl::parse_command;

use crate::assistant::widgets::{DateContext, TaskRow, TaskView, apply_task_action, task_widget_item};
use crate::chat::ChatContext;
use crate::tools::{ToolContext, ToolExecutor};
use interpret::{Interpreter, Outcome, PendingConfirmation, flatten};
use turn::Turn;

/// Where "now" comes from. Tests pass a fixed instant.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Thread metadata key recording that the model hint was shown.
const HINT_SHOWN_KEY: &str = "offline_model_hint_shown";

const MODEL_HINT: &str = "_I'm the built-in offline assistant, so I understand task commands like these. \
For free-form conversation, configure a model — for example set `GEMINI_API_KEY`._";

/// How many recent items are read to find the previous turn's pending confirmation.
const HISTORY_WINDOW: usize = 20;

/// The offline assistant. Cheap to clone.
#[derive(Clone)]
pub struct OfflineResponder {
    tools: Arc<dyn ToolExecutor>,
    store: Arc<dyn Store<ChatContext>>,
    clock: Clock,
}

impl OfflineResponder {
    /// An assistant that performs commands through `tools` and reads thread history from
    /// `store` (the same store the ChatKit server uses). Uses the system clock.
    pub fn new(tools: Arc<dyn ToolExecutor>, store: Arc<dyn Store<ChatContext>>) -> Self {
        Self { tools, store, clock: Arc::new(Timestamp::now) }
    }

    /// Replaces the clock that "today", "tomorrow at 5pm" and "overdue" are resolved against.
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn dates(&self, ctx: &ToolContext) -> DateContext {
        DateContext::at((self.clock)(), ctx.zone.tz())
    }

    /// The confirmation the previous assistant turn asked for, if any.
    async fn pending_confirmation(
        &self,
        thread_id: &str,
        user_message_id: &str,
        ctx: &ChatContext,
    ) -> Result<Option<PendingConfirmation>, ResponseError> {
        let recent = self
            .store
            .load_thread_items(thread_id, None, HISTORY_WINDOW, SortOrder::Desc, ctx)
            .await
            .map_err(ResponseError::internal)?;
        for item in recent.data {
            match item.kind {
                _ if item.id == user_message_id => continue,
                ItemKind::UserMessage { .. } => break,
                ItemKind::HiddenContext { content } => {
                    if let Ok(pending) = serde_json::from_value::<PendingConfirmation>(content) {
                        return Ok(Some(pending));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    async fn turn(
        &self,
        turn: &mut Turn,
        thread: &ThreadHandle,
        user_message: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(Outcome, bool), ResponseError> {
        let ItemKind::UserMessage { content, .. } = &user_message.kind else {
            return Ok((Outcome::default(), false));
        };
        let text: String = content.iter().map(|part| part.text()).collect();
        // Title and hint flag change together, so the client gets one `thread.updated`.
        let give_hint = thread.update(|metadata| {
            if metadata.title.is_none() {
                metadata.title = super::thread_title(user_message);
            }
            metadata.metadata.insert(HINT_SHOWN_KEY.to_owned(), Value::Bool(true)) != Some(Value::Bool(true))
        });
        // A thread made by this request has asked nothing yet.
        let pending = if thread.is_new() {
            None
        } else {
            self.pending_confirmation(&thread.id(), &user_message.id, ctx).await?
        };
        let now = (self.clock)().to_zoned(ctx.zone.tz().clone());
        let mut commands = Vec::new();
        flatten(parse_command(&text, &now), &mut commands);
        let mut interpreter = Interpreter {
            tools: self.tools.as_ref(),
            ctx,
            dates: DateContext::at(now.timestamp(), ctx.zone.tz()),
            now,
            turn,
            outcome: Outcome::default(),
        };
        interpreter.run(commands, pending).await?;
        Ok((interpreter.outcome, give_hint))
    }

    async fn respond_to(
        &self,
        turn: &mut Turn,
        thread: ThreadHandle,
        user_message: ThreadItem,
        ctx: ChatContext,
    ) -> Result<(), ResponseError> {
        let (outcome, give_hint) = self.turn(turn, &thread, &user_message, &ctx).await?;
        let mut reply = outcome.paragraphs.join("\n\n");
        if give_hint {
            reply.push_str("\n\n");
            reply.push_str(MODEL_HINT);
        }
        turn.say(reply.trim_start()).await?;
        let rows = latest_states(outcome.changed);
        if !rows.is_empty() {
            let item = task_widget_item(turn.thread_id(), &rows, &self.dates(&ctx));
            turn.add_item(item).await?;
        }
        if let Some(pending) = outcome.pending {
            let content = serde_json::to_value(pending).map_err(ResponseError::internal)?;
            let item =
                ThreadItem::new(new_message_id(), turn.thread_id(), ItemKind::HiddenContext { content });
            turn.add_item(item).await?;
        }
        Ok(())
    }
}

/// One widget row per changed task, in first-change order, showing its latest state.
fn latest_states(changed: Vec<TaskView>) -> Vec<TaskRow> {
    // Only the ones left pending: see "When a card is shown" in `widgets`.
    crate::assistant::widgets::card_rows(changed)
}

#[async_trait]
impl Responder<ChatContext> for OfflineResponder {
    fn respond(
        &self,
        thread: ThreadHandle,
        user_message: Option<ThreadItem>,
        ctx: ChatContext,
    ) -> ResponseStream {
        let this = self.clone();
        response_stream(move |sink| async move {
            // Without a new user message (client tool output, structured input) there is
            // nothing for a command interpreter to answer.
            let Some(user_message) = user_message else { return Ok(()) };
            let mut turn = Turn::new(sink, thread.id());
            this.respond_to(&mut turn, thread, user_message, ctx).await
        })
    }

    fn action(
        &self,
        thread: ThreadHandle,
        action: Action,
        sender: Option<ThreadItem>,
        ctx: ChatContext,
    ) -> ResponseStream {
        let this = self.clone();
        response_stream(move |sink| async move {
            let dates = this.dates(&ctx);
            let outcome = apply_task_action(this.tools.as_ref(), &ctx, &thread.id(), &action, sender, &dates)
                .await
                .map_err(|error| ResponseError::custom(error.0, false))?;
            let event = if outcome.is_new {
                ThreadStreamEvent::ThreadItemDone { item: outcome.item }
            } else {
                ThreadStreamEvent::ThreadItemReplaced { item: outcome.item }
            };
            sink.send(event).await?;
            Ok(())
        })
    }

    /// Like [`Responder::action`], but the updated widget is returned. It is also saved
    /// here (the server does not persist `updated_item`), so a reload shows the new state.
    async fn sync_action(
        &self,
        thread: ThreadMetadata,
        action: Action,
        sender: Option<ThreadItem>,
        ctx: ChatContext,
    ) -> Result<SyncCustomActionResponse, ProcessError> {
        let dates = self.dates(&ctx);
        let outcome = apply_task_action(self.tools.as_ref(), &ctx, &thread.id, &action, sender, &dates)
            .await
            .map_err(|error| ProcessError::BadRequest(error.0))?;
        let saved = if outcome.is_new {
            self.store.add_thread_item(&thread.id, &outcome.item, &ctx).await
        } else {
            self.store.save_item(&thread.id, &outcome.item, &ctx).await
        };
        saved.map_err(|error| ProcessError::Internal(Box::new(error)))?;
        Ok(SyncCustomActionResponse { updated_item: Some(outcome.item) })
    }
}
