//! One argument type per tool. The JSON Schemas offered to models and MCP
//! clients are generated from these types, so what is advertised is exactly
//! what is accepted.

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A task as the caller names it: its number (`3`, `"3"`, `"#3"`) or its id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TaskIdArg {
    /// The task's number, as shown by list_tasks.
    Number(i64),
    /// "3", "#3" or the task's UUID.
    Text(String),
}

impl std::fmt::Display for TaskIdArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(text) => f.write_str(text.trim()),
        }
    }
}

// The enums below carry no variant docs on purpose: with them schemars emits a
// `oneOf` of `const`s, which models handle worse than a plain `enum`. The
// fields that use them describe the values instead.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusArg {
    #[default]
    All,
    Pending,
    Completed,
    Overdue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DueWindowArg {
    Overdue,
    Today,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortArg {
    Due,
    Priority,
    Created,
    Updated,
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderArg {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskArgs {
    /// The task title (1–255 characters). "#hashtags" and "tagged with X" in it become tags.
    pub title: String,
    /// Optional longer notes (at most 4000 characters).
    pub description: Option<String>,
    /// When the task is due: RFC 3339 in the user's time zone (e.g. 2026-11-22T17:00:00-05:00)
    /// or words such as "tomorrow at 5pm", "friday", "in 3 days".
    pub due_date: Option<String>,
    /// low, medium (default) or high; synonyms such as "urgent" or "someday" are understood.
    pub priority: Option<String>,
    /// Tags such as ["shopping", "home"].
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasksArgs {
    /// all (default), pending, completed, or overdue (pending and due before now).
    #[serde(default)]
    pub status: StatusArg,
    /// Only tasks of this priority: low, medium or high.
    pub priority: Option<String>,
    /// Only tasks carrying all of these tags.
    pub tags: Option<Vec<String>>,
    /// Only tasks due in this window, in the user's time zone: overdue, today, week (today and
    /// the next 6 days) or month (this calendar month).
    pub due: Option<DueWindowArg>,
    /// Only tasks due before this time (RFC 3339 or words such as "friday").
    pub due_before: Option<String>,
    /// Only tasks due at or after this time (RFC 3339 or words such as "tomorrow").
    pub due_after: Option<String>,
    /// Case-insensitive text to find in the title or description.
    pub search: Option<String>,
    /// due (default: soonest first, undated last), priority (high first), created (newest
    /// first), updated (most recently changed first) or title (alphabetical).
    pub sort: Option<SortArg>,
    /// asc or desc; each sort key has a natural default.
    pub order: Option<OrderArg>,
    /// How many tasks to return, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    /// The task's number (3 or "#3") or id.
    pub task_id: TaskIdArg,
    /// New title.
    pub title: Option<String>,
    /// New description; null removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schemars(with = "Option<String>")]
    pub description: Option<Option<String>>,
    /// New due time (RFC 3339 in the user's time zone, or words such as "tomorrow at 5pm");
    /// null removes the due date.
    #[serde(default, deserialize_with = "double_option")]
    #[schemars(with = "Option<String>")]
    pub due_date: Option<Option<String>>,
    /// low, medium or high (synonyms understood).
    pub priority: Option<String>,
    /// The complete new list of tags (replaces the current ones).
    pub tags: Option<Vec<String>>,
    /// true marks the task completed, false reopens it.
    pub completed: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdArgs {
    /// The task's number (3 or "#3") or id.
    pub task_id: TaskIdArg,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteTaskArgs {
    /// The task's number (3 or "#3") or id.
    pub task_id: TaskIdArg,
    /// true marks the task completed; false reopens it.
    pub completed: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteAllTasksArgs {
    /// true (default) completes every pending task; false reopens every completed task.
    pub completed: Option<bool>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAllTasksArgs {
    /// Leave false (or out) first: the call then only counts the tasks. Send true only after
    /// the user has explicitly confirmed deleting them all.
    #[serde(default)]
    pub confirmed: bool,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The JSON Schema of `T` as a tool's parameters: self-contained (no `$ref`),
/// without the `$schema`/`title` keys some providers reject.
pub fn parameters_schema<T: JsonSchema>() -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = true;
    });
    let mut schema = settings.into_generator().into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
        object.remove("$defs");
    }
    schema
}

/// Decodes a tool call's arguments into `T`, explaining what is wrong (with the
/// field's path) when they do not fit. Pure, so it is also a fuzz target
/// (`fuzz/fuzz_targets/tool_args.rs`).
pub fn decode_arguments<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, String> {
    let arguments = match arguments {
        // Some models send the arguments as a JSON string.
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|err| format!("{tool}: the arguments are not a JSON object: {err}"))?,
        other => other,
    };
    if !arguments.is_object() {
        return Err(format!("{tool}: the arguments must be a JSON object"));
    }
    serde_path_to_error::deserialize(arguments).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." || path.is_empty() {
            format!("{tool}: {inner}")
        } else {
            format!("{tool}: {path}: {inner}")
        }
    })
}
