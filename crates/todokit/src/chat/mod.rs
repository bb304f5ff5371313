//! The chat service: the ChatKit protocol server (crate `chatkit`) wired to
//! todokit's SQL store and the assistant that answers.

mod echo;
pub mod limits;
mod live_store;
pub mod runs;

pub use live_store::LiveStore;

use std::sync::Arc;

use chatkit::{ChatKitServer, Responder};

use crate::storage::DynChatStore;
use crate::tools::ToolContext;

pub type DynResponder = Arc<dyn Responder<ToolContext>>;
pub type ChatServer = ChatKitServer<dyn chatkit::Store<ToolContext>, dyn Responder<ToolContext>>;

/// Builds the protocol server over the user-scoped store.
pub fn chat_server(store: DynChatStore, responder: DynResponder) -> ChatServer {
    ChatKitServer::new(store, responder)
}

/// The responder used until an assistant is configured.
pub fn default_responder() -> DynResponder {
    Arc::new(echo::EchoResponder)
}
