//! The JSON adapter over the typed tools: tool definitions (schemas, titles, hints) and calls
//! by name with JSON arguments, as the LLM agent and MCP make them.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::args::{
    CompleteAllTasksArgs, CompleteTaskArgs, CreateTaskArgs, DeleteAllTasksArgs, ListTasksArgs, TaskIdArgs,
    UpdateTaskArgs, decode_arguments, parameters_schema, tool_schema,
};
use super::outcome::{
    BulkCompletionOutcome, BulkDeletionOutcome, CompletionOutcome, ListOutcome, TaskOutcome, ToolError,
};
use super::{TaskTools, ToolContext};

pub const CREATE_TASK: &str = "create_task";
pub const LIST_TASKS: &str = "list_tasks";
pub const UPDATE_TASK: &str = "update_task";
pub const DELETE_TASK: &str = "delete_task";
pub const COMPLETE_TASK: &str = "complete_task";
pub const COMPLETE_ALL_TASKS: &str = "complete_all_tasks";
pub const DELETE_ALL_TASKS: &str = "delete_all_tasks";

const TOOL_NAMES: [&str; 7] =
    [CREATE_TASK, LIST_TASKS, UPDATE_TASK, DELETE_TASK, COMPLETE_TASK, COMPLETE_ALL_TASKS, DELETE_ALL_TASKS];

/// What a client may assume about a tool (MCP's tool annotations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ToolHints {
    /// It changes nothing.
    pub read_only: bool,
    /// It may destroy data (irreversibly).
    pub destructive: bool,
    /// Calling it again with the same arguments changes nothing more.
    pub idempotent: bool,
}

/// A tool as offered to a model or an MCP client.
#[derive(Debug, Clone, Serialize)]
pub struct ToolDefinition {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments, generated from the Rust argument type.
    pub parameters: Value,
}

/// What MCP clients are told about a tool besides its definition.
#[derive(Debug, Clone, Serialize)]
pub struct ToolMetadata {
    /// A short human name ("Create task").
    pub title: &'static str,
    /// JSON Schema of a successful result, generated from the Rust outcome type.
    pub output_schema: Value,
    pub hints: ToolHints,
}

/// What a tool call produced. `value` always carries `success` and a
/// human-readable `message`; failures also carry `error`, so a model can
/// read what went wrong and recover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolOutput {
    pub value: Value,
    pub is_error: bool,
}

impl ToolOutput {
    /// A successful result: the outcome with `success: true`.
    pub fn success(outcome: &impl Serialize) -> Self {
        let mut value = serde_json::to_value(outcome).unwrap_or_else(|_| json!({}));
        if let Value::Object(object) = &mut value {
            object.insert("success".into(), Value::Bool(true));
        }
        Self { value, is_error: false }
    }

    /// A failure: `{success: false, error, message}`.
    pub fn failure(error: &ToolError) -> Self {
        Self {
            value: json!({"success": false, "error": error.kind(), "message": error.to_string()}),
            is_error: true,
        }
    }

    fn from_result(result: Result<impl Serialize, ToolError>) -> Self {
        match result {
            Ok(outcome) => Self::success(&outcome),
            Err(error) => Self::failure(&error),
        }
    }
}

/// Runs tools by name with JSON arguments.
#[async_trait]
pub trait ToolExecutor: Send + Sync + 'static {
    fn definitions(&self) -> Vec<ToolDefinition>;
    /// Title, output schema and hints of the tool `name`, where known.
    fn metadata(&self, _name: &str) -> Option<ToolMetadata> {
        None
    }
    /// Never panics and never fails at the transport level: bad arguments,
    /// unknown tools and missing tasks come back as `is_error` outputs.
    async fn call(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolOutput;
}

#[async_trait]
impl ToolExecutor for TaskTools {
    fn definitions(&self) -> Vec<ToolDefinition> {
        definitions()
    }

    fn metadata(&self, name: &str) -> Option<ToolMetadata> {
        metadata(name)
    }

    async fn call(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolOutput {
        match name {
            CREATE_TASK => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.create_task(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            LIST_TASKS => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.list_tasks(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            UPDATE_TASK => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.update_task(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            DELETE_TASK => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.delete_task(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            COMPLETE_TASK => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.complete_task(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            COMPLETE_ALL_TASKS => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.complete_all_tasks(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            DELETE_ALL_TASKS => match decode(name, arguments) {
                Ok(args) => ToolOutput::from_result(self.delete_all_tasks(ctx, args).await),
                Err(error) => ToolOutput::failure(&error),
            },
            other => ToolOutput::failure(&ToolError::UnknownTool {
                name: other.to_owned(),
                available: TOOL_NAMES.join(", "),
            }),
        }
    }
}

fn decode<T: DeserializeOwned + JsonSchema>(tool: &str, arguments: Value) -> Result<T, ToolError> {
    decode_arguments(tool, arguments).map_err(ToolError::InvalidArguments)
}

/// The JSON Schema of a successful result of type `T`: the outcome plus `success: true`.
fn output_schema<T: JsonSchema>() -> Value {
    let mut schema = tool_schema::<T>();
    if let Some(properties) = schema["properties"].as_object_mut() {
        properties.insert("success".into(), json!({"type": "boolean"}));
    }
    if let Some(required) = schema["required"].as_array_mut() {
        required.insert(0, json!("success"));
    }
    schema
}

const fn hints(read_only: bool, destructive: bool, idempotent: bool) -> ToolHints {
    ToolHints { read_only, destructive, idempotent }
}

struct ToolSpec {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    parameters: Value,
    output_schema: Value,
    hints: ToolHints,
}

/// The seven tool definitions (the same for every front-end).
pub fn definitions() -> Vec<ToolDefinition> {
    specs()
        .into_iter()
        .map(|spec| ToolDefinition {
            name: spec.name,
            description: spec.description,
            parameters: spec.parameters,
        })
        .collect()
}

/// Title, output schema and hints of the tool `name`.
pub fn metadata(name: &str) -> Option<ToolMetadata> {
    specs().into_iter().find(|spec| spec.name == name).map(|spec| ToolMetadata {
        title: spec.title,
        output_schema: spec.output_schema,
        hints: spec.hints,
    })
}

/// Everything about each tool, in the order they are offered.
fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: CREATE_TASK,
            title: "Create task",
            description: "Create a task for the user. Put the due time in due_date (RFC 3339 in the \
                          user's time zone preferred), not in the title. A reminder and a recurrence \
                          (e.g. \"every Monday and Thursday\") need a due date.",
            parameters: parameters_schema::<CreateTaskArgs>(),
            output_schema: output_schema::<TaskOutcome>(),
            hints: hints(false, false, false),
        },
        ToolSpec {
            name: LIST_TASKS,
            title: "List tasks",
            description: "List, filter, search, sort and count the user's tasks. Each task has a \
                          number the user can refer to (\"task 3\"). Returns total/pending/completed counts.",
            parameters: parameters_schema::<ListTasksArgs>(),
            output_schema: output_schema::<ListOutcome>(),
            hints: hints(true, false, true),
        },
        ToolSpec {
            name: UPDATE_TASK,
            title: "Update task",
            description: "Change a task's title, description, due date, priority, tags (set, add or \
                          remove), reminder, recurrence or completion; clear fields with clear.",
            parameters: parameters_schema::<UpdateTaskArgs>(),
            output_schema: output_schema::<TaskOutcome>(),
            hints: hints(false, false, true),
        },
        ToolSpec {
            name: DELETE_TASK,
            title: "Delete task",
            description: "Delete one task permanently.",
            parameters: parameters_schema::<TaskIdArgs>(),
            output_schema: output_schema::<TaskOutcome>(),
            hints: hints(false, true, false),
        },
        ToolSpec {
            name: COMPLETE_TASK,
            title: "Complete or reopen task",
            description: "Mark a task completed (completed: true) or reopen it (completed: false). \
                          Completing a recurring task creates its next occurrence.",
            parameters: parameters_schema::<CompleteTaskArgs>(),
            output_schema: output_schema::<CompletionOutcome>(),
            hints: hints(false, false, true),
        },
        ToolSpec {
            name: COMPLETE_ALL_TASKS,
            title: "Complete matching tasks",
            description: "Mark every task matching the filter (the same filter as list_tasks: status, \
                          priority, tags, due window, search; no filter means all tasks) completed, or \
                          with completed: false reopen them. Only the matching tasks change; the result \
                          names them.",
            parameters: parameters_schema::<CompleteAllTasksArgs>(),
            output_schema: output_schema::<BulkCompletionOutcome>(),
            // Not idempotent: completing a recurring task creates its next occurrence, which a
            // second call with the same filter may complete in turn.
            hints: hints(false, false, false),
        },
        ToolSpec {
            name: DELETE_ALL_TASKS,
            title: "Delete matching tasks",
            description: "Delete the tasks matching the filter (the same filter as list_tasks; no filter \
                          means all tasks), in two steps: call without confirm to get the count and names, \
                          tell the user and wait for an explicit yes, then call again with the same filter, \
                          confirm: true and expected_count.",
            parameters: parameters_schema::<DeleteAllTasksArgs>(),
            output_schema: output_schema::<BulkDeletionOutcome>(),
            hints: hints(false, true, false),
        },
    ]
}
