//! The offline assistant: the embedded default when no model is configured.
//!
//! A deterministic command interpreter. Each user message is read with
//! [`todokit_domain::nl::parse_message`] against "now" in the user's zone and performed by
//! calling the typed methods of [`TaskTools`] — the same tools an LLM calls through their JSON
//! adapter — so the rules live in one place. Replies stream through the same ChatKit events as
//! a model's:
//!
//! 1. each tool call is a task of one `custom` workflow item (`thread.item.added`, then
//!    `workflow.task.added` with a spinner, `workflow.task.updated` when the tool returns,
//!    and `thread.item.done` with a summary before the answer starts);
//! 2. the answer is an `assistant_message` streamed as `content_part.added`, a few
//!    `text_delta`s, `content_part.done` and `thread.item.done`;
//! 3. after a turn that created or changed tasks, a task widget (see
//!    [`crate::assistant::widgets`]) whose buttons complete, reopen or delete a task.
//!
//! # State between turns
//!
//! A [`conversation::Conversation`] is kept in the thread's server-only metadata (key
//! `offline_conversation`), saved with the thread, so it survives a restart and works on any
//! replica: the task(s) the last reply was about ("it", "them"), the last list shown ("the
//! third one"), a pending question (a confirmation, or "which one?" with its candidates) and
//! how to undo the last change. A question is answered by the next message or dropped.
//!
//! - **Confirmations.** Deleting by filter ("delete all my low priority tasks") counts, lists
//!   the tasks when there are few and asks; "yes" runs the message again, confirmed, and
//!   deletes exactly what matches then. A delete whose verb was only guessed from a typo
//!   ("delte task 3") asks first as well.
//! - **Model hint.** The note about configuring a model is given at most once per thread,
//!   only with *help* or a message it could not read (`offline_model_hint_shown`).
//!
mod conversation;
mod interpret;
mod turn;

use std::sync::Arc;

use async_trait::async_trait;
use chatkit::{
    Action, ItemKind, ProcessError, Responder, ResponseError, ResponseStream, Store,
    SyncCustomActionResponse, ThreadHandle, ThreadItem, ThreadMetadata, ThreadStreamEvent, response_stream,
};
use jiff::Timestamp;
use serde_json::Value;
use todokit_domain::nl::parse_message;

use crate::assistant::widgets::{DateContext, TaskRow, TaskView, apply_task_action, task_widget_item};
use crate::chat::ChatContext;
use crate::tools::{TaskTools, ToolContext};
use conversation::{Conversation, STATE_KEY};
use interpret::{Interpreter, Outcome};
use turn::Turn;

/// Where "now" comes from. Tests pass a fixed instant.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Thread metadata key recording that the model hint was shown.
const HINT_SHOWN_KEY: &str = "offline_model_hint_shown";

const MODEL_HINT: &str = "_I'm the built-in offline assistant, so I understand task commands like these. \
For free-form conversation, configure a model — for example set `GEMINI_API_KEY`._";

/// The offline assistant. Cheap to clone.
#[derive(Clone)]
pub struct OfflineResponder {
    tools: Arc<TaskTools>,
    store: Arc<dyn Store<ChatContext>>,
    clock: Clock,
}

impl OfflineResponder {
    /// An assistant that performs commands through `tools` and reads thread history from
    /// `store` (the same store the ChatKit server uses). Uses the system clock.
    pub fn new(tools: Arc<TaskTools>, store: Arc<dyn Store<ChatContext>>) -> Self {
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
        let mut state = thread.update(|metadata| {
            if metadata.title.is_none() {
                metadata.title = super::thread_title(user_message);
            }
            Conversation::load(&metadata.metadata)
        });
        let pending = state.pending.take();
        let now = (self.clock)().to_zoned(ctx.zone.tz().clone());
        let parsed = parse_message(&text, &now);
        let mut interpreter = Interpreter {
            tools: self.tools.as_ref(),
            ctx,
            dates: DateContext::at(now.timestamp(), ctx.zone.tz()),
            now,
            turn,
            outcome: Outcome::default(),
            state,
            forced: None,
            confirmed: false,
            utterance: parsed.corrected.clone(),
            changes: Vec::new(),
            undoing: false,
            expected_count: None,
            referred: Vec::new(),
        };
        interpreter.run(parsed, pending).await?;
        let Interpreter { mut state, changes, referred, undoing, outcome, .. } = interpreter;
        state.last_reply_changed = !changes.is_empty();
        if !changes.is_empty() || undoing {
            state.last_change = changes;
        }
        if !referred.is_empty() {
            state.last_tasks = dedupe(referred);
        }
        // The hint goes with help or a message it could not read, once per thread.
        let give_hint = outcome.wants_hint
            && thread.update(|metadata| {
                metadata.metadata.insert(HINT_SHOWN_KEY.to_owned(), Value::Bool(true))
                    != Some(Value::Bool(true))
            });
        thread.update(|metadata| metadata.metadata.insert(STATE_KEY.to_owned(), state.to_value()));
        Ok((outcome, give_hint))
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
        Ok(())
    }
}

/// The tasks in first-mention order, each once, in its latest state.
pub(super) fn dedupe(tasks: Vec<TaskView>) -> Vec<TaskView> {
    let mut latest: Vec<TaskView> = Vec::new();
    for task in tasks {
        match latest.iter_mut().find(|seen| seen.id == task.id) {
            Some(seen) => *seen = task,
            None => latest.push(task),
        }
    }
    latest
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
