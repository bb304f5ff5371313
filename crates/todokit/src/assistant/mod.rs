//! The assistant behind the chat: an LLM agent when a model is configured,
//! otherwise the offline command interpreter. Both call the same task tools
//! and stream the same ChatKit events.

pub mod agent;
pub mod llm;
pub mod offline;
pub mod widgets;

use chatkit::{ItemKind, ThreadItem, title_from_text};

/// A thread's title from a user message: its text, shortened; `None` for any other
/// item or a message without text. Both assistants name threads this way: a new
/// thread when it is created, an untitled one at its next message.
pub fn thread_title(message: &ThreadItem) -> Option<String> {
    let ItemKind::UserMessage { content, .. } = &message.kind else { return None };
    let text: String = content.iter().map(|part| part.text()).collect();
    Some(title_from_text(&text)).filter(|title| !title.is_empty())
}
