//! The chat service: the ChatKit protocol server (crate `chatkit`) wired to
//! todokit's SQL store and the assistant that answers.

pub mod claims;
pub mod limits;
mod live_store;
pub mod runs;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use chatkit::{
    Action, ChatKitServer, ProcessError, Responder, ResponseStream, SyncCustomActionResponse, ThreadHandle,
    ThreadItem, ThreadMetadata,
};

use crate::assistant::agent::LlmResponder;
use crate::assistant::llm::{LlmClient, LlmConfig};
use crate::assistant::offline::OfflineResponder;
use crate::tools::{TaskTools, ToolContext};

pub use claims::{LapsedRun, NewThreadClaim, ReplyCheckpoints, RunClaim, RunClaims, RunHolder};
pub use limits::{RateCounters, RateWindow};
pub use live_store::LiveStore;
pub use store::{ChatStore, DynChatStore, DynSqlChatStore, ThreadSaved};
pub type ChatServer = ChatKitServer<dyn chatkit::Store<ChatContext>, Assistant>;

/// What a ChatKit request carries to the store and the assistant: the caller (for tools, and
/// to scope every row) and, for a reply that creates its thread while replicas share
/// claims, the claim saved together with that thread (`runs.rs`); and the clock the store
/// stamps its saves with (chatkit's `Store` methods carry no time).
#[derive(Debug, Clone)]
pub struct ChatContext {
    pub caller: ToolContext,
    pub new_thread_claim: Option<NewThreadClaim>,
    pub clock: crate::clock::Clock,
}

impl From<ToolContext> for ChatContext {
    fn from(caller: ToolContext) -> Self {
        Self { caller, new_thread_claim: None, clock: crate::clock::Clock::system() }
    }
}

/// Store and assistant code reads the caller's fields directly, and hands `&ChatContext`
/// to tools as their `&ToolContext`.
impl std::ops::Deref for ChatContext {
    type Target = ToolContext;
    fn deref(&self) -> &ToolContext {
        &self.caller
    }
}

/// Builds the protocol server over the user-scoped store.
pub fn chat_server(store: DynChatStore, assistant: Assistant) -> ChatServer {
    ChatKitServer::new(store, Arc::new(assistant))
}

/// Who answers: the LLM agent when a model is configured, otherwise the
/// offline interpreter. Task-widget buttons are deterministic, so the offline
/// interpreter handles them in both cases.
pub struct Assistant {
    conversation: Arc<dyn Responder<ChatContext>>,
    widget_actions: Arc<OfflineResponder>,
    model: Option<String>,
}

impl Assistant {
    pub fn new(llm: Option<LlmConfig>, tools: Arc<TaskTools>, store: DynChatStore) -> anyhow::Result<Self> {
        let offline = Arc::new(OfflineResponder::new(tools.clone(), store.clone()));
        let model = llm.as_ref().map(|config| format!("{} ({})", config.model, config.base_url));
        let conversation: Arc<dyn Responder<ChatContext>> = match llm {
            Some(config) => Arc::new(LlmResponder::new(LlmClient::new(config)?, tools, store)),
            None => offline.clone(),
        };
        Ok(Self { conversation, widget_actions: offline, model })
    }

    /// The configured model, or `None` for the offline assistant.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
}

#[async_trait]
impl Responder<ChatContext> for Assistant {
    fn respond(
        &self,
        thread: ThreadHandle,
        user_message: Option<ThreadItem>,
        ctx: ChatContext,
    ) -> ResponseStream {
        self.conversation.respond(thread, user_message, ctx)
    }

    fn new_thread_title(&self, first_message: &ThreadItem) -> Option<String> {
        crate::assistant::thread_title(first_message)
    }

    fn action(
        &self,
        thread: ThreadHandle,
        action: Action,
        sender: Option<ThreadItem>,
        ctx: ChatContext,
    ) -> ResponseStream {
        self.widget_actions.action(thread, action, sender, ctx)
    }

    async fn sync_action(
        &self,
        thread: ThreadMetadata,
        action: Action,
        sender: Option<ThreadItem>,
        ctx: ChatContext,
    ) -> Result<SyncCustomActionResponse, ProcessError> {
        self.widget_actions.sync_action(thread, action, sender, ctx).await
    }
}
