//! The assistant behind the chat: an LLM agent when a model is configured,
//! otherwise the offline command interpreter. Both call the same task tools
//! and stream the same ChatKit events.

pub mod agent;
pub mod llm;
pub mod offline;
pub mod widgets;
