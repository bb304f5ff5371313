//! The seven task tools, one implementation behind every front-end: the LLM
//! agent, the offline assistant, MCP and (where it fits) REST. Tools know
//! nothing about HTTP; the user always comes from [`ToolContext`], never
//! from tool arguments.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use crate::tasks::UserZone;
use crate::tasks::model::UserId;

/// Who is calling and in which time zone. Built from the authenticated request.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub user: UserId,
    pub zone: UserZone,
}

/// A tool as offered to a model or an MCP client.
#[derive(Debug, Clone, Serialize)]
pub struct ToolDefinition {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments, generated from the Rust argument type.
    pub parameters: Value,
}

/// What a tool call produced. `value` always carries `success` and a
/// human-readable `message`; failures also carry `error`, so a model can
/// read what went wrong and recover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolOutput {
    pub value: Value,
    pub is_error: bool,
}

/// Runs tools by name with JSON arguments.
#[async_trait]
pub trait ToolExecutor: Send + Sync + 'static {
    fn definitions(&self) -> Vec<ToolDefinition>;
    /// Never panics and never fails at the transport level: bad arguments,
    /// unknown tools and missing tasks come back as `is_error` outputs.
    async fn call(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolOutput;
}

mod args;
mod task_tools;

pub use args::parameters_schema;
pub use task_tools::{TaskTools, definitions};
