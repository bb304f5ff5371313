//! The seven task tools, one implementation behind every front-end: the LLM agent, the offline
//! assistant, MCP and (where it fits) REST. Tools know nothing about HTTP; the user always comes
//! from [`ToolContext`], never from tool arguments.
//!
//! # The typed API (primary)
//!
//! [`TaskTools`] has one method per tool: an argument struct in ([`args`]), a typed outcome or
//! a [`ToolError`] out ([`outcome`]). Rust callers use these, and match on the error's variant
//! (e.g. [`ToolError::TaskNotFound`]) rather than reading messages:
//!
//! ```ignore
//! let outcome = tools.update_task(&ctx, UpdateTaskArgs { add_tags: Some(vec!["work".into()]),
//!     ..UpdateTaskArgs::new(TaskIdArg::Number(3)) }).await?;
//! ```
//!
//! | tool | arguments | outcome |
//! |---|---|---|
//! | `create_task` | [`CreateTaskArgs`] | [`TaskOutcome`] |
//! | `list_tasks` | [`ListTasksArgs`] | [`ListOutcome`] |
//! | `update_task` | [`UpdateTaskArgs`] | [`TaskOutcome`] |
//! | `delete_task` | [`TaskIdArgs`] | [`TaskOutcome`] |
//! | `complete_task` | [`CompleteTaskArgs`] | [`CompletionOutcome`] |
//! | `complete_all_tasks` | [`CompleteAllTasksArgs`] | [`BulkCompletionOutcome`] |
//! | `delete_all_tasks` | [`DeleteAllTasksArgs`] | [`BulkDeletionOutcome`] |
//!
//! # The JSON adapter
//!
//! [`ToolExecutor`] (implemented by [`TaskTools`] in [`json`]) calls the same methods by tool
//! name with JSON arguments, for the LLM agent and MCP: it decodes the arguments (unknown
//! fields and wrong types become [`ToolError::InvalidArguments`]), and renders the outcome as
//! `{success: true, message, …}` or a failure as `{success: false, error, message}`. The
//! schemas it advertises are generated from the same Rust types.

use crate::tasks::UserZone;
use crate::tasks::model::UserId;

/// Who is calling and in which time zone. Built from the authenticated request.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub user: UserId,
    pub zone: UserZone,
}

pub mod args;
mod json;
pub mod outcome;
mod task_tools;
mod words;
pub(crate) use words::{describe_recurrence, describe_reminder};

pub use args::{
    ClearableField, CompleteAllTasksArgs, CompleteTaskArgs, CreateTaskArgs, DeleteAllTasksArgs, FrequencyArg,
    ListTasksArgs, RecurrenceArg, RecurrenceRuleArg, ReminderArg, TaskFilterArgs, TaskIdArg, TaskIdArgs,
    UpdateTaskArgs, parameters_schema,
};
pub use json::{
    COMPLETE_ALL_TASKS, COMPLETE_TASK, CREATE_TASK, DELETE_ALL_TASKS, DELETE_TASK, LIST_TASKS,
    ToolDefinition, ToolExecutor, ToolHints, ToolMetadata, ToolOutput, UPDATE_TASK, definitions, metadata,
};
pub use outcome::{
    BulkCompletionOutcome, BulkDeletionOutcome, CompletionOutcome, ListOutcome, TaskOutcome, TaskRef,
    ToolError, ToolTask,
};
pub use task_tools::TaskTools;
