//! The export document (`GET /api/account/export`), version 1, and how an import reads it back.
//!
//! ```json
//! {"format": "todokit-export", "version": 1, "exported_at": "…",
//!  "account": {"email": "…", "created_at": "…"},
//!  "tasks": [{"id", "number", "title", …, "occurrence_index", "series_id", "series_start_at"}],
//!  "threads": [{"id", "title", "status", "allowed_image_domains", "metadata", "created_at",
//!               "updated_at", "items": [<each item as stored>]}]}
//! ```
//!
//! No secret is in it: no password hash, token, session or feed secret. An import reads the
//! same shape (unknown fields are ignored, so a later minor addition still imports); every task
//! field is validated as the REST API validates it, and the first problem is reported with its
//! JSON path (`tasks[2].title: …`).

use chatkit::{ThreadItem, ThreadMetadata, ThreadStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use todokit_domain::{Description, Priority, Recurrence, ReminderOffset, Tags, Title};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    DataError, EXPORT_FORMAT, EXPORT_VERSION, MAX_IMPORT_ITEMS, MAX_IMPORT_TASKS, MAX_IMPORT_THREADS,
    StoredThread, renumber_ids,
};
use crate::tasks::model::Task;

/// A whole account's data, versioned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportDocument {
    /// Always `todokit-export`.
    #[schema(example = "todokit-export", pattern = "^todokit-export$")]
    pub format: String,
    /// The document's version: 1.
    #[schema(minimum = 1, maximum = 1)]
    pub version: u32,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub exported_at: Timestamp,
    pub account: ExportedAccount,
    /// Every task, by number.
    pub tasks: Vec<ExportedTask>,
    /// Every conversation, oldest first, each with every item.
    pub threads: Vec<ExportedThread>,
}

/// Who the data belongs to (no password hash, no tokens).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedAccount {
    pub email: String,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub created_at: Timestamp,
}

/// A task with every stored field, including its place in a repeating series.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExportedTask {
    pub id: Uuid,
    pub number: i64,
    pub title: String,
    pub description: Option<String>,
    #[schema(value_type = String, example = "medium")]
    pub priority: Priority,
    pub tags: Vec<String>,
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub due_at: Option<Timestamp>,
    pub time_zone: String,
    pub reminder_offset_minutes: Option<u32>,
    pub reminder_sent: bool,
    pub recurrence: Option<Recurrence>,
    pub parent_task_id: Option<Uuid>,
    pub completed: bool,
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub completed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub updated_at: Timestamp,
    /// The occurrence's number within its repeating series (0 for the first).
    pub occurrence_index: u32,
    pub series_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub series_start_at: Option<Timestamp>,
}

impl From<&Task> for ExportedTask {
    fn from(task: &Task) -> Self {
        Self {
            id: task.id,
            number: task.number,
            title: task.title.clone(),
            description: task.description.clone(),
            priority: task.priority,
            tags: task.tags.clone(),
            due_at: task.due_at,
            time_zone: task.time_zone.clone(),
            reminder_offset_minutes: task.reminder_offset_minutes,
            reminder_sent: task.reminder_sent,
            recurrence: task.recurrence.clone(),
            parent_task_id: task.parent_task_id,
            completed: task.completed,
            completed_at: task.completed_at,
            created_at: task.created_at,
            updated_at: task.updated_at,
            occurrence_index: task.occurrence_index,
            series_id: task.series_id,
            series_start_at: task.series_start_at,
        }
    }
}

/// A conversation and its items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedThread {
    pub id: String,
    pub title: Option<String>,
    /// `{"type": "active"}`, `{"type": "locked", "reason"}` or `{"type": "closed", "reason"}`.
    #[schema(value_type = Object)]
    pub status: ThreadStatus,
    pub allowed_image_domains: Option<Vec<String>>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub updated_at: Timestamp,
    /// Every item as stored (ChatKit thread items: messages, widgets, tool calls, hidden context).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<ThreadItem>,
}

impl From<StoredThread> for ExportedThread {
    fn from(stored: StoredThread) -> Self {
        let StoredThread { thread, updated_at, items } = stored;
        Self {
            id: thread.id,
            title: thread.title,
            status: thread.status,
            allowed_image_domains: thread.allowed_image_domains,
            metadata: thread.metadata,
            created_at: thread.created_at,
            updated_at,
            items,
        }
    }
}

/// What an import reads: an export document ([`ExportDocument`] writes it; `exported_at`,
/// `account` and unknown fields are ignored). Only `format`, `version` and each task's `title`
/// are required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportDocument {
    #[schema(pattern = "^todokit-export$", example = "todokit-export")]
    pub format: String,
    #[schema(minimum = 1, maximum = 1)]
    pub version: u32,
    #[serde(default)]
    #[schema(max_items = 10000)]
    pub tasks: Vec<ImportedTask>,
    /// At most 1,000 threads with 10,000 items in all.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub threads: Vec<ImportedThread>,
}

/// A task as an import reads it, each field under the REST API's rules; a reminder or a
/// recurrence needs `due_at`. Ids only link tasks of the file (a parent named before its
/// child, a repeating series); the imported tasks get new ones.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportedTask {
    #[serde(default)]
    pub id: Option<Uuid>,
    #[schema(schema_with = crate::tasks::schema::title)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = crate::tasks::schema::nullable_description, required = false)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::tasks::schema::tags, required = false)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub due_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(schema_with = import_time_zone, required = false)]
    pub time_zone: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 40320)]
    pub reminder_offset_minutes: Option<i64>,
    #[serde(default)]
    pub reminder_sent: bool,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    #[serde(default)]
    pub parent_task_id: Option<Uuid>,
    #[serde(default)]
    pub completed: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 99)]
    pub occurrence_index: u32,
    #[serde(default)]
    pub series_id: Option<Uuid>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub series_start_at: Option<Timestamp>,
}

fn import_time_zone() -> utoipa::openapi::Object {
    crate::tasks::schema::time_zone(true)
}

/// A thread as an import reads it; its items are read as the ChatKit thread items an export
/// holds (each with `id`, `thread_id`, `created_at` and `type`; `thread_id` is replaced).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportedThread {
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]{0,200}$")]
    pub title: Option<String>,
    /// Absent: active. Present, it must be a status (`null` is refused, as the schema says).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = thread_status_schema, required = false)]
    pub status: Option<Value>,
    #[serde(default)]
    pub allowed_image_domains: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(value_type = String, format = DateTime, min_length = 20)]
    pub created_at: Timestamp,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, min_length = 20)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(schema_with = thread_items_schema, required = false)]
    pub items: Vec<Value>,
}

/// `{"type": "active"}`, `{"type": "locked", "reason"}` or `{"type": "closed", "reason"}`.
/// A field that is there, even as `null` (absent fields take the `default`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

fn thread_status_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "type",
            ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["active", "locked", "closed"])),
        )
        .property(
            "reason",
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])),
        )
        .required("type")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
        .build()
}

/// ChatKit thread items as an export holds them: each a ChatKit `ThreadItem` (the ChatKit
/// protocol defines the fields of each `type`); `thread_id` is replaced by the new thread's.
fn thread_items_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let types = [
        "user_message",
        "assistant_message",
        "client_tool_call",
        "widget",
        "generated_image",
        "structured_input",
        "workflow",
        "task",
        "end_of_turn",
        "hidden_context_item",
        "sdk_hidden_context",
    ];
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("id", ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(200)))
                .property("thread_id", ObjectBuilder::new().schema_type(Type::String))
                .property(
                    "created_at",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
                )
                .property("type", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(types)))
                .required("id")
                .required("thread_id")
                .required("created_at")
                .required("type"),
        )
        .description(Some("ChatKit thread items, as an export holds them (each `type` has the fields the ChatKit protocol defines)."))
        .build()
}

/// Longest thread title an import keeps.
const THREAD_TITLE_MAX_CHARS: usize = 200;

/// Reads an export document into new tasks (old ids, renumbered by [`renumber_ids`]) and new
/// threads, checking every rule before anything is written.
pub(super) fn parse_import(body: &[u8], now: Timestamp) -> Result<(Vec<Task>, Vec<StoredThread>), DataError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| DataError::Invalid(format!("The file is not valid JSON: {err}")))?;
    let Some(object) = value.as_object() else {
        return Err(DataError::Invalid("The file is not a todokit export: expected a JSON object".into()));
    };
    if object.get("format").and_then(Value::as_str) != Some(EXPORT_FORMAT) {
        return Err(DataError::Invalid(format!(
            "format: not a todokit export (expected \"format\": \"{EXPORT_FORMAT}\")"
        )));
    }
    match object.get("version").and_then(Value::as_u64) {
        Some(version) if version == u64::from(EXPORT_VERSION) => {}
        _ => {
            return Err(DataError::Invalid(format!(
                "version: this server reads version {EXPORT_VERSION} of the export format"
            )));
        }
    }
    // Counts before the detailed read, so a huge file fails fast.
    let count = |key: &str| object.get(key).and_then(Value::as_array).map_or(0, Vec::len);
    if count("tasks") > MAX_IMPORT_TASKS {
        return Err(DataError::TooMany(format!(
            "tasks: {} tasks; one import takes at most {MAX_IMPORT_TASKS}",
            count("tasks")
        )));
    }
    if count("threads") > MAX_IMPORT_THREADS {
        return Err(DataError::TooMany(format!(
            "threads: {} threads; one import takes at most {MAX_IMPORT_THREADS}",
            count("threads")
        )));
    }
    let items: usize = object
        .get("threads")
        .and_then(Value::as_array)
        .map(|threads| {
            threads.iter().map(|t| t.get("items").and_then(Value::as_array).map_or(0, Vec::len)).sum()
        })
        .unwrap_or(0);
    if items > MAX_IMPORT_ITEMS {
        return Err(DataError::TooMany(format!(
            "threads: {items} items in all; one import takes at most {MAX_IMPORT_ITEMS}"
        )));
    }
    let document: ImportDocument = serde_path_to_error::deserialize(value)
        .map_err(|err| DataError::Invalid(format!("{}: {}", err.path(), err.inner())))?;
    let mut tasks = document
        .tasks
        .into_iter()
        .enumerate()
        .map(|(index, task)| {
            task.into_task(now).map_err(|message| invalid_at(&format!("tasks[{index}]"), message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    renumber_ids(&mut tasks);
    let threads = document
        .threads
        .into_iter()
        .enumerate()
        .map(|(index, thread)| thread.into_stored(index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((tasks, threads))
}

fn invalid_at(path: &str, (field, message): (&str, String)) -> DataError {
    DataError::Invalid(format!("{path}.{field}: {message}"))
}

impl ImportedTask {
    /// A task record with every rule checked; the error names the field.
    fn into_task(self, now: Timestamp) -> Result<Task, (&'static str, String)> {
        let title = Title::parse(&self.title).map_err(|err| ("title", err.to_string()))?;
        let description = match self.description.as_deref() {
            Some(text) => Description::parse(text).map_err(|err| ("description", err.to_string()))?,
            None => Description::parse("").map_err(|err| ("description", err.to_string()))?,
        };
        let priority = match self.priority.as_deref() {
            Some(text) => Priority::parse(text).map_err(|err| ("priority", err.to_string()))?,
            None => Priority::default(),
        };
        let tags = Tags::parse(&self.tags).map_err(|err| ("tags", err.to_string()))?;
        let time_zone = match self.time_zone.as_deref() {
            None => "UTC".to_owned(),
            Some(name) => {
                let zone = jiff::tz::TimeZone::get(name)
                    .map_err(|_| ("time_zone", format!("unknown time zone \"{}\"", short(name))))?;
                zone.iana_name().unwrap_or(name).to_owned()
            }
        };
        let reminder = self
            .reminder_offset_minutes
            .map(ReminderOffset::new)
            .transpose()
            .map_err(|err| ("reminder_offset_minutes", err.to_string()))?;
        // Deserialising reads the fields; the rule's own limits are checked here.
        let recurrence = self
            .recurrence
            .map(Recurrence::validate)
            .transpose()
            .map_err(|err| ("recurrence", err.to_string()))?;
        if self.due_at.is_none() {
            if recurrence.is_some() {
                return Err(("recurrence", "a repeating task needs a due time (due_at)".into()));
            }
            if reminder.is_some() {
                return Err(("reminder_offset_minutes", "a reminder needs a due time (due_at)".into()));
            }
        }
        if self.occurrence_index >= todokit_domain::MAX_OCCURRENCES {
            return Err((
                "occurrence_index",
                format!("must be below {} (got {})", todokit_domain::MAX_OCCURRENCES, self.occurrence_index),
            ));
        }
        let created_at = self.created_at.unwrap_or(now);
        let updated_at = self.updated_at.unwrap_or(created_at);
        let repeating = recurrence.is_some() && self.due_at.is_some();
        // A repeating task without series fields (written by hand) starts its series here.
        let series_id = if repeating { Some(self.series_id.unwrap_or_else(Uuid::now_v7)) } else { None };
        Ok(Task {
            id: self.id.unwrap_or_else(Uuid::now_v7),
            number: 0,
            title: title.as_str().to_owned(),
            description: Some(description.as_str().to_owned()).filter(|d| !d.is_empty()),
            priority,
            tags: tags.as_slice().to_vec(),
            due_at: self.due_at,
            time_zone,
            reminder_offset_minutes: reminder.map(ReminderOffset::minutes),
            reminder_sent: self.reminder_sent && reminder.is_some(),
            recurrence: recurrence.filter(|_| repeating),
            parent_task_id: self.parent_task_id,
            completed: self.completed,
            completed_at: if self.completed { Some(self.completed_at.unwrap_or(updated_at)) } else { None },
            created_at,
            updated_at,
            occurrence_index: if repeating { self.occurrence_index } else { 0 },
            series_id,
            series_start_at: if repeating { self.series_start_at.or(self.due_at) } else { None },
        })
    }
}

impl ImportedThread {
    fn into_stored(self, index: usize) -> Result<StoredThread, DataError> {
        let path = format!("threads[{index}]");
        if let Some(title) = &self.title
            && (title.chars().count() > THREAD_TITLE_MAX_CHARS || title.chars().any(char::is_control))
        {
            return Err(DataError::Invalid(format!(
                "{path}.title: at most {THREAD_TITLE_MAX_CHARS} characters, no control characters"
            )));
        }
        let status = match self.status {
            None => ThreadStatus::default(),
            Some(value) => {
                let known = value.as_object().is_some_and(|fields| {
                    fields.keys().all(|key| key == "type" || key == "reason")
                        && fields.get("reason").is_none_or(|reason| reason.is_string() || reason.is_null())
                });
                let status = known.then(|| serde_json::from_value::<ThreadStatus>(value).ok()).flatten();
                status.ok_or_else(|| {
                    DataError::Invalid(format!(
                        "{path}.status: expected {{\"type\": \"active\"}}, or \"locked\" or \"closed\" with an optional \"reason\""
                    ))
                })?
            }
        };
        let id = chatkit::new_thread_id();
        let mut seen = std::collections::HashSet::new();
        let mut items = Vec::with_capacity(self.items.len());
        for (position, raw) in self.items.into_iter().enumerate() {
            let mut item: ThreadItem = serde_path_to_error::deserialize(raw).map_err(|err| {
                DataError::Invalid(format!("{path}.items[{position}].{}: {}", err.path(), err.inner()))
            })?;
            if item.id.is_empty() || item.id.len() > 200 || !seen.insert(item.id.clone()) {
                return Err(DataError::Invalid(format!(
                    "{path}.items[{position}].id: missing, too long, or the same as an earlier item's"
                )));
            }
            item.thread_id = id.clone();
            items.push(item);
        }
        let newest_item = items.iter().map(|item| item.created_at).max();
        let updated_at =
            self.updated_at.unwrap_or(self.created_at).max(newest_item.unwrap_or(self.created_at));
        let mut thread = ThreadMetadata::new(id);
        thread.title = self.title;
        thread.status = status;
        thread.allowed_image_domains = self.allowed_image_domains;
        thread.metadata = self.metadata;
        thread.created_at = self.created_at;
        Ok(StoredThread { thread, updated_at, items })
    }
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}
