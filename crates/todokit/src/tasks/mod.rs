//! The task service: the one place where tasks are created, changed and
//! listed. REST handlers, the assistant's tools and MCP all call it, so the
//! rules (validation, numbering, recurrence, time windows) live here once.

pub mod model;
mod repository;
mod zone;

use std::sync::Arc;

use jiff::{Timestamp, ToSpan, Zoned};
use serde::Deserialize;
use todokit_domain::{
    Description, DomainError, Priority, Recurrence, ReminderOffset, Tags, Title, validate_due_at,
};
use utoipa::ToSchema;

use crate::clock::Clock;
use crate::events::{EventBus, kind as event_kind};
use crate::persistence::StorageError;
use model::{
    BulkDeletion, BulkOutcome, Completion, NewTask, SortKey, SortOrder, TagCount, Task, TaskCounts,
    TaskFilter, TaskKey, TaskPage, TaskPatch, TaskQuery, UserId,
};
pub use repository::TaskRepository;
pub use todokit_domain::query::{DueWindow, StatusFilter};
pub use zone::UserZone;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{0}")]
    Invalid(#[from] DomainError),
    #[error("{message}")]
    InvalidField { field: &'static str, message: String },
    #[error("Task not found")]
    NotFound,
    /// A valid change that the task's current state does not allow (e.g. a reminder on a task
    /// without a due date).
    #[error("{message}")]
    Conflict { field: &'static str, message: String },
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for TaskError {
    fn from(err: StorageError) -> Self {
        match err {
            // A domain rule checked inside the write (see `TaskService::update`).
            StorageError::Invalid(err) => Self::Invalid(err),
            err => Self::Storage(err),
        }
    }
}

impl TaskError {
    fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidField { field, message: message.into() }
    }
}

pub type TaskResult<T> = Result<T, TaskError>;

/// The documented shapes of the text fields, from the same rules the domain types enforce
/// (lengths count characters after trimming; see `todokit_domain::task`).
pub mod schema {
    use todokit_domain::task::{DESCRIPTION_PATTERN, TAG_PATTERN, TITLE_PATTERN};
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    use utoipa::openapi::{Array, Object};

    pub fn title() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(TITLE_PATTERN))
            .description(Some("1–255 characters once trimmed, no control characters."))
            .examples(["Buy groceries"])
            .build()
    }

    fn description_builder(nullable: bool) -> ObjectBuilder {
        let schema_type = if nullable {
            utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
        } else {
            utoipa::openapi::schema::SchemaType::new(Type::String)
        };
        ObjectBuilder::new().schema_type(schema_type).pattern(Some(DESCRIPTION_PATTERN)).description(Some(
            "At most 4000 characters once trimmed; newlines and tabs allowed, no other control \
             characters. Empty means none.",
        ))
    }

    pub fn description() -> Object {
        description_builder(false).build()
    }

    /// `null` clears the description.
    pub fn nullable_description() -> Object {
        description_builder(true).build()
    }

    /// A due time as the server reads it (see [`super::parse_due`]): the documented shape is
    /// RFC 3339 with an offset, within the accepted range (from 10 years ago to 100 years ahead,
    /// whole calendar years inside it; days 01–28 so that every match is a real date). Dates
    /// and date-times without an offset are read too, in the request's time zone.
    pub fn due_at(nullable: bool, description: &str) -> Object {
        let year = jiff::Zoned::now().year();
        let first = year - (todokit_domain::task::DUE_AT_MAX_YEARS_PAST as i16) + 1;
        let last = year + (todokit_domain::task::DUE_AT_MAX_YEARS_AHEAD as i16) - 1;
        let years = (first..=last).map(|year| year.to_string()).collect::<Vec<_>>().join("|");
        let pattern = format!(
            "^({years})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\
             (\\.[0-9]{{1,6}})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
        );
        ObjectBuilder::new()
            .schema_type(string_type(nullable))
            .pattern(Some(pattern))
            .description(Some(description))
            .examples(["2026-11-22T17:00:00-05:00"])
            .build()
    }

    pub fn due_at_of_new_task() -> Object {
        due_at(
            true,
            "RFC 3339 with an offset (`2026-11-22T17:00:00-05:00`), from 10 years ago to 100 years \
             ahead; a date or date-time without an offset is read in the request's time zone. \
             Required by `reminder_offset_minutes` and `recurrence`.",
        )
    }

    pub fn due_at_of_patch() -> Object {
        due_at(
            true,
            "RFC 3339 with an offset, from 10 years ago to 100 years ahead (a value without an \
             offset is read in the request's time zone); `null` clears it.",
        )
    }

    fn string_type(nullable: bool) -> utoipa::openapi::schema::SchemaType {
        if nullable {
            utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
        } else {
            utoipa::openapi::schema::SchemaType::new(Type::String)
        }
    }

    /// Search text: at most 200 characters once trimmed, no control characters.
    pub fn search(nullable: bool) -> Object {
        ObjectBuilder::new()
            .schema_type(string_type(nullable))
            .pattern(Some(r"^[^\u0000-\u001f\u007f-\u009f]{0,200}$"))
            .description(Some(
                "Case-insensitive text search over title and description: at most 200 characters, \
                 no control characters.",
            ))
            .build()
    }

    /// An IANA time zone name this server knows (its time zone database).
    pub fn time_zone(nullable: bool) -> Object {
        let mut names: Vec<String> =
            jiff::tz::db().available().map(|name| name.as_str().to_owned()).collect();
        if !names.iter().any(|name| name == "UTC") {
            names.push("UTC".to_owned());
        }
        names.sort();
        let mut values: Vec<serde_json::Value> = names.into_iter().map(serde_json::Value::from).collect();
        if nullable {
            values.push(serde_json::Value::Null);
        }
        ObjectBuilder::new()
            .schema_type(string_type(nullable))
            .enum_values(Some(values))
            .description(Some("IANA time zone for due windows (default UTC; also `X-Timezone`)."))
            .build()
    }

    /// A title in a change: `null` is the same as leaving it out.
    pub fn title_of_patch() -> Object {
        let mut schema = title();
        schema.schema_type = string_type(true);
        schema.description =
            Some("1–255 characters once trimmed, no control characters; `null` leaves it unchanged.".into());
        schema
    }

    /// Tags where `null` is the same as leaving them out (in a change, `[]` removes them all).
    pub fn nullable_tags() -> Array {
        let mut schema = tags();
        schema.schema_type = utoipa::openapi::schema::SchemaType::from_iter([Type::Array, Type::Null]);
        schema
    }

    pub fn tags() -> Array {
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String).pattern(Some(TAG_PATTERN)))
            .max_items(Some(todokit_domain::MAX_TAGS))
            .description(Some(
                "At most 20 tags of at most 50 characters each, no control characters; trimmed and \
                 lower-cased, empty ones dropped, duplicates kept once.",
            ))
            .build()
    }
}

/// Fields of a new task as they arrive from a client, before validation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    #[schema(schema_with = schema::title)]
    pub title: String,
    #[schema(schema_with = schema::nullable_description, required = false)]
    pub description: Option<String>,
    /// low, medium (default) or high. (The assistant's tools also read synonyms such as
    /// "urgent"; the REST API takes these three.)
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
    #[schema(schema_with = schema::nullable_tags, required = false)]
    pub tags: Option<Vec<String>>,
    /// RFC 3339 with an offset (`2026-11-22T17:00:00-05:00`); a value without
    /// an offset is read in the request's time zone.
    #[schema(schema_with = schema::due_at_of_new_task, required = false)]
    pub due_at: Option<String>,
    /// Minutes before `due_at` (0–40320, four weeks); requires a due time.
    #[schema(minimum = 0, maximum = 40320)]
    pub reminder_offset_minutes: Option<i64>,
    pub recurrence: Option<Recurrence>,
    #[serde(default)]
    pub completed: bool,
}

/// A partial update as it arrives. Absent fields are left alone; `null`
/// clears a nullable field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchInput {
    #[schema(schema_with = schema::title_of_patch, required = false)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schema::nullable_description, required = false)]
    pub description: Option<Option<String>>,
    /// low, medium or high; `null` leaves it unchanged.
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
    #[schema(schema_with = schema::nullable_tags, required = false)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schema::due_at_of_patch, required = false)]
    pub due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 40320)]
    pub reminder_offset_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Recurrence>)]
    pub recurrence: Option<Option<Recurrence>>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Listing criteria before they are resolved against the clock and zone.
#[derive(Debug, Clone, Default)]
pub struct ListCriteria {
    pub status: StatusFilter,
    pub priority: Option<String>,
    pub tags: Vec<String>,
    pub due: Option<DueWindow>,
    pub due_before: Option<String>,
    pub due_after: Option<String>,
    pub search: Option<String>,
    pub sort: Option<SortKey>,
    pub order: Option<SortOrder>,
    pub offset: u32,
    pub limit: Option<u32>,
}

#[derive(Clone)]
pub struct TaskService {
    storage: Arc<dyn TaskRepository>,
    events: Option<EventBus>,
    clock: Clock,
}

impl TaskService {
    /// A service on `storage` that reads the system clock.
    pub fn new(storage: Arc<dyn TaskRepository>) -> Self {
        Self { storage, events: None, clock: Clock::system() }
    }

    /// Reads the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the service reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Publishes a live event for every change.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    async fn publish(&self, user: UserId, kind: &str, data: serde_json::Value) {
        if let Some(events) = &self.events {
            events.publish(user, kind, data).await;
        }
    }

    async fn publish_task(&self, user: UserId, kind: &str, task: &Task) {
        self.publish(user, kind, serde_json::json!({"task_id": task.id, "number": task.number})).await;
    }

    pub async fn create(&self, user: UserId, input: TaskInput, zone: &UserZone) -> TaskResult<Task> {
        let now = self.clock.now();
        let new_task = parse_new_task(input, zone, now)?;
        let task = self.storage.create_task(user, &new_task, now).await?;
        self.publish_task(user, event_kind::TASK_CREATED, &task).await;
        Ok(task)
    }

    pub async fn get(&self, user: UserId, key: TaskKey) -> TaskResult<Task> {
        self.storage.get_task(user, key).await?.ok_or(TaskError::NotFound)
    }

    pub async fn update(
        &self,
        user: UserId,
        key: TaskKey,
        input: TaskPatchInput,
        zone: &UserZone,
    ) -> TaskResult<Task> {
        let now = self.clock.now();
        let patch = parse_patch(input, zone, now)?;
        if patch.is_empty() {
            // `{}` (or only `null`s for fields that cannot be cleared): nothing to write.
            return self.get(user, key).await;
        }
        // Storage applies the patch to the row its write transaction read (`Task::apply`), which
        // refuses a recurrence or reminder on a task left without a due time: a concurrent
        // update cannot slip in between the check and the write.
        let task = self
            .storage
            .update_task(user, key, &patch, now)
            .await
            .map_err(|err| match err {
                // A patch that clears the due time is wrong in itself (422); one that leaves it
                // alone on a task that has none conflicts with the task's state (409).
                StorageError::Invalid(err @ DomainError::NeedsDueDate { field })
                    if patch.due_at.is_none() =>
                {
                    TaskError::Conflict {
                        field,
                        message: format!("{err}: this task has none, set one in the same change"),
                    }
                }
                err => err.into(),
            })?
            .ok_or(TaskError::NotFound)?;
        self.publish_task(user, event_kind::TASK_UPDATED, &task).await;
        Ok(task)
    }

    /// Deletes a task; it can be brought back whole by [`restore`](Self::restore) within
    /// [`UNDO_WINDOW`].
    pub async fn delete(&self, user: UserId, key: TaskKey) -> TaskResult<Task> {
        let now = self.clock.now();
        let task = self
            .storage
            .delete_task(user, key, now, undo_window_start(now))
            .await?
            .ok_or(TaskError::NotFound)?;
        self.publish_task(user, event_kind::TASK_DELETED, &task).await;
        Ok(task)
    }

    /// Undoes a delete made within [`UNDO_WINDOW`]: the same task (id, number and every
    /// field) comes back. `NotFound` once the window has passed.
    pub async fn restore(&self, user: UserId, id: uuid::Uuid) -> TaskResult<Task> {
        let now = self.clock.now();
        let task =
            self.storage.restore_task(user, id, undo_window_start(now)).await?.ok_or(TaskError::NotFound)?;
        self.publish_task(user, event_kind::TASK_CREATED, &task).await;
        Ok(task)
    }

    pub async fn set_completed(&self, user: UserId, key: TaskKey, completed: bool) -> TaskResult<Completion> {
        let completion = self
            .storage
            .set_completed(user, key, completed, self.clock.now())
            .await?
            .ok_or(TaskError::NotFound)?;
        let kind = if completed { event_kind::TASK_COMPLETED } else { event_kind::TASK_REOPENED };
        self.publish_task(user, kind, &completion.task).await;
        if let Some(next) = &completion.next_instance {
            self.publish_task(user, event_kind::TASK_CREATED, next).await;
        }
        Ok(completion)
    }

    pub async fn list(&self, user: UserId, criteria: &ListCriteria, zone: &UserZone) -> TaskResult<TaskPage> {
        let query = resolve_query(criteria, zone, self.clock.now())?;
        Ok(self.storage.list_tasks(user, &query).await?)
    }

    pub async fn counts(
        &self,
        user: UserId,
        criteria: &ListCriteria,
        zone: &UserZone,
    ) -> TaskResult<TaskCounts> {
        let query = resolve_query(criteria, zone, self.clock.now())?;
        Ok(self.storage.count_tasks(user, &query.filter).await?)
    }

    pub async fn tags(&self, user: UserId) -> TaskResult<Vec<TagCount>> {
        Ok(self.storage.tag_counts(user).await?)
    }

    pub async fn set_completed_matching(
        &self,
        user: UserId,
        criteria: &ListCriteria,
        zone: &UserZone,
        completed: bool,
    ) -> TaskResult<BulkOutcome> {
        let now = self.clock.now();
        let query = resolve_query(criteria, zone, now)?;
        let outcome = self.storage.set_completed_matching(user, &query.filter, completed, now).await?;
        if outcome.updated_count > 0 {
            self.publish(
                user,
                event_kind::TASKS_BULK_CHANGED,
                serde_json::json!({"updated": outcome.updated_count}),
            )
            .await;
        }
        Ok(outcome)
    }

    pub async fn delete_matching(
        &self,
        user: UserId,
        criteria: &ListCriteria,
        zone: &UserZone,
    ) -> TaskResult<u64> {
        Ok(self.delete_matching_expected(user, criteria, zone, None).await?.deleted.len() as u64)
    }

    /// Deletes the matching tasks, but only if there are exactly `expected_count` of them (when
    /// given): what a user agreed to delete is what gets deleted, even if tasks were added or
    /// changed in between.
    pub async fn delete_matching_expected(
        &self,
        user: UserId,
        criteria: &ListCriteria,
        zone: &UserZone,
        expected_count: Option<u64>,
    ) -> TaskResult<BulkDeletion> {
        let query = resolve_query(criteria, zone, self.clock.now())?;
        let deletion = self.storage.delete_matching(user, &query.filter, expected_count).await?;
        let deleted = deletion.deleted.len();
        if deleted > 0 {
            self.publish(user, event_kind::TASKS_BULK_CHANGED, serde_json::json!({"deleted": deleted})).await;
        }
        Ok(deletion)
    }
}

/// How long a deleted task can be brought back. Long enough for an undo queued while
/// offline to reach the server; short enough that a delete soon means gone.
pub const UNDO_WINDOW: std::time::Duration = std::time::Duration::from_secs(30 * 60);

fn undo_window_start(now: Timestamp) -> Timestamp {
    let window = jiff::SignedDuration::try_from(UNDO_WINDOW).expect("the undo window fits");
    now.checked_sub(window).unwrap_or(Timestamp::MIN)
}

/// Reads a due time: RFC 3339 with an offset, or a civil date-time (or date,
/// meaning 09:00) in the caller's zone.
pub fn parse_due(raw: &str, zone: &UserZone, now: Timestamp) -> TaskResult<Timestamp> {
    let invalid = || {
        TaskError::field(
            "due_at",
            format!("due_at {raw:?} is not a date-time; use RFC 3339, e.g. 2026-11-22T17:00:00Z"),
        )
    };
    // Trimming would take some control characters (U+0085, tabs) off the ends: refused first.
    if raw.chars().any(char::is_control) {
        return Err(invalid());
    }
    let raw = raw.trim();
    let timestamp = if let Ok(ts) = raw.parse::<Timestamp>() {
        ts
    } else if let Ok(civil) = raw.parse::<jiff::civil::DateTime>() {
        civil.to_zoned(zone.tz().clone()).map_err(|_| invalid())?.timestamp()
    } else if let Ok(date) = raw.parse::<jiff::civil::Date>() {
        date.at(9, 0, 0, 0).to_zoned(zone.tz().clone()).map_err(|_| invalid())?.timestamp()
    } else {
        return Err(invalid());
    };
    // Stored at microsecond precision: answer with what a later read returns.
    let timestamp = Timestamp::from_microsecond(timestamp.as_microsecond()).unwrap_or(timestamp);
    Ok(validate_due_at(timestamp, now)?)
}

/// The API names the field `reminder_offset_minutes`; errors use that name.
fn parse_reminder(minutes: i64) -> TaskResult<ReminderOffset> {
    ReminderOffset::new(minutes).map_err(|err| TaskError::field("reminder_offset_minutes", err.to_string()))
}

fn parse_priority(raw: Option<String>) -> TaskResult<Option<Priority>> {
    Ok(raw.map(|p| Priority::parse(&p)).transpose()?)
}

pub fn parse_new_task(input: TaskInput, zone: &UserZone, now: Timestamp) -> TaskResult<NewTask> {
    let due_at = input.due_at.as_deref().map(|raw| parse_due(raw, zone, now)).transpose()?;
    let reminder = input.reminder_offset_minutes.map(parse_reminder).transpose()?;
    let recurrence = input.recurrence.map(Recurrence::validate).transpose()?;
    let task = NewTask {
        title: Title::parse(&input.title)?,
        description: input.description.as_deref().map(Description::parse).transpose()?,
        priority: parse_priority(input.priority)?.unwrap_or_default(),
        tags: Tags::parse(input.tags.unwrap_or_default())?,
        due_at,
        time_zone: zone.name().to_owned(),
        reminder,
        recurrence,
        completed: input.completed,
    };
    task.check()?;
    Ok(task)
}

pub fn parse_patch(input: TaskPatchInput, zone: &UserZone, now: Timestamp) -> TaskResult<TaskPatch> {
    let due_at = match input.due_at {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(parse_due(&raw, zone, now)?)),
    };
    let patch = TaskPatch {
        title: input.title.as_deref().map(Title::parse).transpose()?,
        description: input
            .description
            .map(|d| d.as_deref().map(Description::parse).transpose())
            .transpose()?,
        priority: parse_priority(input.priority)?,
        tags: input.tags.map(Tags::parse).transpose()?,
        time_zone: due_at.is_some().then(|| zone.name().to_owned()),
        due_at,
        reminder: input.reminder_offset_minutes.map(|r| r.map(parse_reminder).transpose()).transpose()?,
        recurrence: input.recurrence.map(|r| r.map(Recurrence::validate).transpose()).transpose()?,
    };
    Ok(patch)
}

fn start_of_day(now: &Zoned) -> TaskResult<Zoned> {
    now.start_of_day().map_err(|err| TaskError::field("timezone", err.to_string()))
}

fn add_days(day: &Zoned, days: i64) -> TaskResult<Timestamp> {
    day.checked_add(days.days())
        .map(|z| z.timestamp())
        .map_err(|err| TaskError::field("due", err.to_string()))
}

/// Turns listing criteria into a storage query: windows become UTC instants
/// computed in the caller's zone.
pub fn resolve_query(criteria: &ListCriteria, zone: &UserZone, now: Timestamp) -> TaskResult<TaskQuery> {
    let mut filter = TaskFilter {
        priority: parse_priority(criteria.priority.clone())?,
        tags: Tags::parse(&criteria.tags)?.into_vec(),
        search: criteria.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase),
        ..Default::default()
    };
    if filter.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(TaskError::field("search", "search text must be at most 200 characters"));
    }
    // Stored text never holds control characters (and PostgreSQL refuses NUL outright).
    if filter.search.as_ref().is_some_and(|s| s.chars().any(char::is_control)) {
        return Err(TaskError::field("search", "search text must not contain control characters"));
    }
    match criteria.status {
        StatusFilter::All => {}
        StatusFilter::Pending => filter.completed = Some(false),
        StatusFilter::Completed => filter.completed = Some(true),
        StatusFilter::Overdue => {
            filter.completed = Some(false);
            filter.due_before = Some(now);
        }
    }
    let local_now = now.to_zoned(zone.tz().clone());
    if let Some(window) = criteria.due {
        let today = start_of_day(&local_now)?;
        let (from, before) = match window {
            DueWindow::Overdue => {
                filter.completed = Some(false);
                (None, now)
            }
            DueWindow::Today => (Some(today.timestamp()), add_days(&today, 1)?),
            DueWindow::Week => (Some(today.timestamp()), add_days(&today, 7)?),
            DueWindow::Month => {
                let first = today.first_of_month().map_err(|err| TaskError::field("due", err.to_string()))?;
                let next =
                    first.checked_add(1.month()).map_err(|err| TaskError::field("due", err.to_string()))?;
                (Some(first.timestamp()), next.timestamp())
            }
        };
        filter.due_from = max_opt(filter.due_from, from);
        filter.due_before = Some(filter.due_before.map_or(before, |b| b.min(before)));
    }
    if let Some(raw) = &criteria.due_after {
        let after = parse_due(raw, zone, now)
            .map_err(|_| TaskError::field("due_after", "due_after must be RFC 3339"))?;
        filter.due_from = max_opt(filter.due_from, Some(after));
    }
    if let Some(raw) = &criteria.due_before {
        let before = parse_due(raw, zone, now)
            .map_err(|_| TaskError::field("due_before", "due_before must be RFC 3339"))?;
        filter.due_before = Some(filter.due_before.map_or(before, |b| b.min(before)));
    }
    let limit = criteria.limit.unwrap_or(model::DEFAULT_PAGE_SIZE);
    if !(1..=model::MAX_PAGE_SIZE).contains(&limit) {
        return Err(TaskError::field(
            "limit",
            format!("limit must be between 1 and {}", model::MAX_PAGE_SIZE),
        ));
    }
    let sort = criteria.sort.unwrap_or_default();
    Ok(TaskQuery {
        filter,
        sort,
        order: criteria.order.unwrap_or(sort.natural_order()),
        offset: criteria.offset,
        limit,
    })
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
