//! The model: an OpenAI-compatible Chat Completions streaming client.
//!
//! Works with Gemini's OpenAI-compatible endpoint (the default), OpenAI, and
//! anything OpenAI-compatible (Ollama, vLLM) through a base URL; see
//! [`LlmArgs`] for configuration. Built on reqwest + eventsource-stream with
//! our own tolerant wire types ([`wire`]), because Gemini's stream differs from
//! OpenAI's in ways typed clients reject.
//!
//! ```no_run
//! # async fn example(config: todokit::Config) -> anyhow::Result<()> {
//! use todokit::assistant::llm::{ChatMessage, ChatStreamItem, LlmClient};
//! let Some(llm) = config.llm.resolve()? else { return Ok(()) }; // None: offline assistant
//! let client = LlmClient::new(llm)?;
//! let mut stream = client.stream_chat(&[ChatMessage::user("hi")], &Default::default()).await?;
//! while let ChatStreamItem::Event(event) = stream.next().await? {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

mod client;
mod config;
pub mod wire;

pub use client::{ChatStream, ChatStreamItem, LlmClient, LlmError};
pub use config::{
    ApiKey, GEMINI_BASE_URL, GEMINI_DEFAULT_MODEL, LlmArgs, LlmConfig, LlmConfigError, OPENAI_BASE_URL,
    OPENAI_DEFAULT_MODEL, Provider,
};
pub use wire::{AssistantTurn, ChatMessage, FunctionCall, StreamEvent, ToolCall, ToolList, ToolSpec};
