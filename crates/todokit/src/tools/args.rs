//! One argument type per tool: the typed input of [`super::TaskTools`]'s methods and, decoded
//! from JSON, of every tool call a model or MCP client makes. The JSON Schemas offered to
//! models and MCP clients are generated from these types, so what is advertised is exactly
//! what is accepted.
//!
//! Optional fields are simply left out; the schemas never use `null` (Gemini's function
//! declarations reject `"type": [..., "null"]`). A field is cleared with `clear` (or, leniently,
//! an explicit `null`, which older clients send).

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use todokit_domain::query::{DueWindow, SortKey, SortOrder, StatusFilter};
use todokit_domain::{Frequency, Recurrence};

/// A task as the caller names it: its number (`3`, `"3"`, `"#3"`) or its id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
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
// `oneOf` of `const`s, which models handle worse than a plain `enum` (and Gemini's
// schema dialect has no `const`). The fields that use them describe the values instead.
// The filter and sort words (status, due window, sort key, order) are the domain's own
// (`todokit_domain::query`), written the same way.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FrequencyArg {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A task field `update_task` can clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClearableField {
    Description,
    DueDate,
    Reminder,
    Recurrence,
    Tags,
}

impl ClearableField {
    /// The argument's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Description => "description",
            Self::DueDate => "due_date",
            Self::Reminder => "reminder",
            Self::Recurrence => "recurrence",
            Self::Tags => "tags",
        }
    }
}

/// When a reminder fires, before the due time.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ReminderArg {
    /// Minutes before the due time: 0 (at the due time) to 40320 (4 weeks).
    Minutes(i64),
    /// Words such as "30 minutes before", "an hour before", "1 day before", "at due time".
    Words(String),
}

/// How a task repeats.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RecurrenceArg {
    /// Words such as "daily", "every weekday", "every Monday and Thursday", "every 2 weeks",
    /// "monthly until 2027-06-30", "weekly for 10 times".
    Words(String),
    /// The rule itself.
    Rule(RecurrenceRuleArg),
}

/// A recurrence rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceRuleArg {
    /// daily, weekly, monthly or yearly.
    pub frequency: FrequencyArg,
    /// Repeat every `interval` days/weeks/months/years: 1–365 (default 1).
    #[schemars(range(min = 1, max = 365))]
    pub interval: Option<u32>,
    /// Weekly only: the days it falls on, e.g. ["mon", "thu"] (mon, tue, wed, thu, fri, sat, sun).
    pub weekdays: Option<Vec<String>>,
    /// How many occurrences in all, the first included: 1–100.
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<u32>,
    /// No occurrence after this date or time (RFC 3339 or a date such as 2027-06-30, which
    /// includes that whole day).
    #[serde(alias = "end_date")]
    pub until: Option<String>,
}

impl From<&Recurrence> for RecurrenceArg {
    /// A stored rule as the tools take it (the offline assistant's undo puts one back).
    fn from(rule: &Recurrence) -> Self {
        let frequency = match rule.frequency {
            Frequency::Daily => FrequencyArg::Daily,
            Frequency::Weekly => FrequencyArg::Weekly,
            Frequency::Monthly => FrequencyArg::Monthly,
            Frequency::Yearly => FrequencyArg::Yearly,
        };
        Self::Rule(RecurrenceRuleArg {
            frequency,
            interval: Some(rule.interval),
            weekdays: rule
                .weekdays
                .as_ref()
                .map(|days| days.iter().map(|day| day.as_str().to_owned()).collect()),
            count: rule.count,
            until: rule.until.map(|until| until.to_string()),
        })
    }
}

/// Which tasks list_tasks, complete_all_tasks and delete_all_tasks look at. Every field given
/// must match (an empty filter matches every task).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct TaskFilterArgs {
    /// all (default), pending, completed, or overdue (pending and due before now).
    #[serde(default)]
    // No `"default"` in the schema (the description names it): schemars writes one for a
    // `Serialize` type unless the value would be skipped, and the tools' schemas never had one.
    #[schemars(skip_serializing_if = "always")]
    pub status: StatusFilter,
    /// Only tasks of this priority: low, medium or high.
    pub priority: Option<String>,
    /// Only tasks carrying all of these tags.
    pub tags: Option<Vec<String>>,
    /// Only tasks due in this window, in the user's time zone: overdue, today, week (today and
    /// the next 6 days) or month (this calendar month).
    pub due: Option<DueWindow>,
    /// Only tasks due before this time (RFC 3339 or words such as "friday").
    pub due_before: Option<String>,
    /// Only tasks due at or after this time (RFC 3339 or words such as "tomorrow").
    pub due_after: Option<String>,
    /// Case-insensitive text to find in the title or description.
    pub search: Option<String>,
}

/// For `#[schemars(skip_serializing_if)]`: leaves a field's default out of its schema.
fn always<T>(_: &T) -> bool {
    true
}

impl TaskFilterArgs {
    /// Whether the filter matches every task.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct CreateTaskArgs {
    /// The task title (1–255 characters). "#hashtags" and "tagged with X" in it become tags.
    pub title: String,
    /// Optional longer notes (at most 4000 characters).
    pub description: Option<String>,
    /// When the task is due: RFC 3339 in the user's time zone (e.g. 2026-11-22T17:00:00-05:00)
    /// or words such as "tomorrow at 5pm", "friday", "in 3 days".
    #[serde(alias = "due_at")]
    pub due_date: Option<String>,
    /// low, medium (default) or high; synonyms such as "urgent" or "someday" are understood.
    pub priority: Option<String>,
    /// Tags such as ["shopping", "home"].
    pub tags: Option<Vec<String>>,
    /// A reminder before the due time (needs due_date): minutes (30) or words ("an hour before").
    #[serde(alias = "reminder_minutes_before", alias = "reminder_offset_minutes")]
    pub reminder: Option<ReminderArg>,
    /// Make the task repeat (needs due_date): words ("every Monday and Thursday") or a rule
    /// {frequency, interval, weekdays, count, until}.
    pub recurrence: Option<RecurrenceArg>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ListTasksArgs {
    #[serde(flatten)]
    pub filter: TaskFilterArgs,
    /// due (default: soonest first, undated last), priority (high first), created (newest
    /// first), updated (most recently changed first) or title (alphabetical).
    pub sort: Option<SortKey>,
    /// asc or desc; each sort key has a natural default.
    pub order: Option<SortOrder>,
    /// How many tasks to return, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct UpdateTaskArgs {
    /// The task's number (3 or "#3") or id.
    pub task_id: TaskIdArg,
    /// New title.
    pub title: Option<String>,
    /// New description (clear it with clear: ["description"]).
    #[serde(default, deserialize_with = "double_option")]
    #[schemars(with = "Option<String>")]
    pub description: Option<Option<String>>,
    /// New due time: RFC 3339 in the user's time zone, or words such as "tomorrow at 5pm"
    /// (clear it with clear: ["due_date"]).
    #[serde(default, alias = "due_at", deserialize_with = "double_option")]
    #[schemars(with = "Option<String>")]
    pub due_date: Option<Option<String>>,
    /// low, medium or high (synonyms understood).
    pub priority: Option<String>,
    /// The complete new list of tags (replaces the current ones).
    pub tags: Option<Vec<String>>,
    /// Tags to add, keeping the others.
    pub add_tags: Option<Vec<String>>,
    /// Tags to take off, keeping the others.
    pub remove_tags: Option<Vec<String>>,
    /// A reminder before the due time: minutes (30) or words ("an hour before"); clear it with
    /// clear: ["reminder"].
    #[serde(
        default,
        alias = "reminder_minutes_before",
        alias = "reminder_offset_minutes",
        deserialize_with = "double_option"
    )]
    #[schemars(with = "Option<ReminderArg>")]
    pub reminder: Option<Option<ReminderArg>>,
    /// How the task repeats: words ("every weekday") or a rule {frequency, interval, weekdays,
    /// count, until}; stop it with clear: ["recurrence"].
    #[serde(default, deserialize_with = "double_option")]
    #[schemars(with = "Option<RecurrenceArg>")]
    pub recurrence: Option<Option<RecurrenceArg>>,
    /// Fields to remove: description, due_date, reminder, recurrence, tags.
    pub clear: Option<Vec<ClearableField>>,
    /// true marks the task completed, false reopens it.
    pub completed: Option<bool>,
}

impl UpdateTaskArgs {
    /// An update of `task_id` that changes nothing yet.
    pub fn new(task_id: TaskIdArg) -> Self {
        Self {
            task_id,
            title: None,
            description: None,
            due_date: None,
            priority: None,
            tags: None,
            add_tags: None,
            remove_tags: None,
            reminder: None,
            recurrence: None,
            clear: None,
            completed: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct TaskIdArgs {
    /// The task's number (3 or "#3") or id.
    pub task_id: TaskIdArg,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CompleteTaskArgs {
    /// The task's number (3 or "#3") or id.
    pub task_id: TaskIdArg,
    /// true marks the task completed; false reopens it.
    pub completed: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct CompleteAllTasksArgs {
    #[serde(flatten)]
    pub filter: TaskFilterArgs,
    /// true (default) completes the matching pending tasks; false reopens the matching
    /// completed ones.
    pub completed: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct DeleteAllTasksArgs {
    #[serde(flatten)]
    pub filter: TaskFilterArgs,
    /// Leave out (or false) first: the call then only counts and names the matching tasks.
    /// Send true, with the same filter and expected_count, only after the user has explicitly
    /// agreed to delete them.
    #[serde(default, alias = "confirmed")]
    pub confirm: bool,
    /// With confirm: the task_count the first call reported (what the user agreed to). If a
    /// different number of tasks matches now, nothing is deleted.
    #[schemars(range(min = 0))]
    pub expected_count: Option<u64>,
}

/// Accepted spellings that are not in the advertised schemas, with the field each stands for:
/// older clients send `confirmed`, and models echo the names they read in results and the REST
/// API (`reminder_minutes_before`, `due_at`).
const ARGUMENT_ALIASES: &[(&str, &str)] = &[
    ("confirmed", "confirm"),
    ("reminder_minutes_before", "reminder"),
    ("reminder_offset_minutes", "reminder"),
    ("due_at", "due_date"),
];

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Integer formats schemars adds that are not JSON Schema formats (a strict validator with
/// format checking refuses them, and models do not need them).
const NON_STANDARD_FORMATS: &[&str] =
    &["int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float", "double"];

/// The JSON Schema (2020-12) of `T`, as tools advertise it: self-contained (no `$ref`), without
/// the `$schema`/`title` keys some providers reject, optional fields simply not required (no
/// `null` types), and only standard formats.
pub fn tool_schema<T: JsonSchema>() -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = true;
    });
    let mut schema = settings.into_generator().into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
        object.remove("$defs");
        // The tool's own description says what it does (a flattened part would lend its doc).
        object.remove("description");
    }
    make_portable(&mut schema);
    schema
}

/// The JSON Schema of a tool's parameters: [`tool_schema`], closed to unknown fields.
pub fn parameters_schema<T: JsonSchema>() -> Value {
    let mut schema = tool_schema::<T>();
    if let Some(object) = schema.as_object_mut() {
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
    schema
}

/// Takes out what strict validators or Gemini's schema dialect refuse: non-standard formats and
/// `null` as a type or default (an `Option` field is optional already; `null` is still accepted).
fn make_portable(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.get("format").and_then(Value::as_str).is_some_and(|f| NON_STANDARD_FORMATS.contains(&f))
            {
                object.remove("format");
            }
            if object.get("default").is_some_and(Value::is_null) {
                object.remove("default");
            }
            if let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let single = types.remove(0);
                    object.insert("type".into(), single);
                }
            }
            if let Some(Value::Array(values)) = object.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = object.get_mut(key) {
                    branches.retain(|b| b.get("type").and_then(Value::as_str) != Some("null"));
                    if branches.len() == 1
                        && let Some(Value::Object(only)) = branches.pop()
                    {
                        object.remove(key);
                        for (k, v) in only {
                            object.entry(k).or_insert(v);
                        }
                    }
                }
            }
            object.values_mut().for_each(make_portable);
        }
        Value::Array(items) => items.iter_mut().for_each(make_portable),
        _ => {}
    }
}

/// Decodes a tool call's arguments into `T`, explaining what is wrong (with the
/// field's path) when they do not fit. Pure, so it is also a fuzz target
/// (`fuzz/fuzz_targets/tool_args.rs`).
pub fn decode_arguments<T: DeserializeOwned + JsonSchema>(tool: &str, arguments: Value) -> Result<T, String> {
    let arguments = match arguments {
        // Some models send the arguments as a JSON string.
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|err| format!("{tool}: the arguments are not a JSON object: {err}"))?,
        // Models sometimes send `null` for a tool without required arguments.
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    let Some(object) = arguments.as_object() else {
        return Err(format!("{tool}: the arguments must be a JSON object"));
    };
    // Unknown fields are refused here rather than by serde, which cannot refuse them on a
    // type with a flattened part (the shared filter).
    let schema = tool_schema::<T>();
    let known = schema["properties"].as_object();
    let unknown: Vec<&String> = object
        .keys()
        .filter(|key| {
            let advertised = |name: &str| schema["properties"].get(name).is_some();
            !advertised(key)
                && !ARGUMENT_ALIASES.iter().any(|(alias, field)| alias == key && advertised(field))
        })
        .collect();
    if let Some(first) = unknown.first() {
        let expected: Vec<&String> = known.map(|known| known.keys().collect()).unwrap_or_default();
        let expected: Vec<&str> = expected.iter().map(|key| key.as_str()).collect();
        return Err(format!("{tool}: unknown field `{first}`; the fields are {}", expected.join(", ")));
    }
    deserialize_explained::<T>(tool, arguments.clone()).map_err(|(named_field, message)| {
        // Serde loses the field's name inside a flattened part (the shared filter is the only
        // one): decoding that part alone finds it.
        let filter_schema = tool_schema::<TaskFilterArgs>();
        let filter_part: serde_json::Map<String, Value> = arguments
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| filter_schema["properties"].get(key.as_str()).is_some())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        match deserialize_explained::<TaskFilterArgs>(tool, Value::Object(filter_part)) {
            Err((true, filter_message)) if !named_field => filter_message,
            _ => message,
        }
    })
}

/// Decodes `T`; an error says whether it names the field (`tool: field: …`) and the message.
fn deserialize_explained<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, (bool, String)> {
    serde_path_to_error::deserialize(arguments).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." || path.is_empty() {
            (false, format!("{tool}: {inner}"))
        } else {
            (true, format!("{tool}: {path}: {inner}"))
        }
    })
}
