//! [`TaskTools`]: the seven task tools over [`TaskService`].

use async_trait::async_trait;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use todokit_domain::nl::{parse_datetime, parse_quick_add};

use super::args::{
    CompleteAllTasksArgs, CompleteTaskArgs, CreateTaskArgs, DeleteAllTasksArgs, DueWindowArg, ListTasksArgs,
    OrderArg, SortArg, StatusArg, TaskIdArg, TaskIdArgs, UpdateTaskArgs, decode_arguments, parameters_schema,
};
use super::{ToolContext, ToolDefinition, ToolExecutor, ToolOutput};
use crate::tasks::model::{SortKey, SortOrder, Task, TaskKey};
use crate::tasks::{
    DueWindow, ListCriteria, StatusFilter, TaskError, TaskInput, TaskPatchInput, TaskService, UserZone,
    parse_due,
};

pub const CREATE_TASK: &str = "create_task";
pub const LIST_TASKS: &str = "list_tasks";
pub const UPDATE_TASK: &str = "update_task";
pub const DELETE_TASK: &str = "delete_task";
pub const COMPLETE_TASK: &str = "complete_task";
pub const COMPLETE_ALL_TASKS: &str = "complete_all_tasks";
pub const DELETE_ALL_TASKS: &str = "delete_all_tasks";

/// The task tools, scoped to the user of each call's [`ToolContext`].
#[derive(Clone)]
pub struct TaskTools {
    tasks: TaskService,
}

/// A failed call, rendered as `{success:false, error, message}`.
#[derive(Debug)]
struct ToolFailure {
    error: String,
    message: String,
}

type ToolResult = Result<Value, ToolFailure>;

impl ToolFailure {
    fn invalid(message: impl Into<String>) -> Self {
        Self { error: "Invalid arguments".into(), message: message.into() }
    }

    fn not_found(task: &dyn std::fmt::Display) -> Self {
        Self { error: "Task not found".into(), message: format!("Could not find task with ID {task}") }
    }

    fn from_task_error(err: TaskError, task: Option<&TaskIdArg>) -> Self {
        match err {
            TaskError::NotFound => match task {
                Some(task) => Self::not_found(task),
                None => Self { error: "Task not found".into(), message: "Could not find that task".into() },
            },
            TaskError::Invalid(err) => Self::invalid(err.to_string()),
            TaskError::InvalidField { message, .. } => Self::invalid(message),
            TaskError::Storage(err) => {
                tracing::error!(error = %err, "a task tool failed in storage");
                Self {
                    error: "Storage error".into(),
                    message: "The task database is unavailable right now; try again shortly".into(),
                }
            }
        }
    }
}

impl TaskTools {
    pub fn new(tasks: TaskService) -> Self {
        Self { tasks }
    }

    async fn run(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolResult {
        // Models sometimes send `null` or nothing for a tool without required arguments.
        let arguments = if arguments.is_null() { Value::Object(Map::new()) } else { arguments };
        match name {
            CREATE_TASK => self.create_task(ctx, parse_args(name, arguments)?).await,
            LIST_TASKS => self.list_tasks(ctx, parse_args(name, arguments)?).await,
            UPDATE_TASK => self.update_task(ctx, parse_args(name, arguments)?).await,
            DELETE_TASK => self.delete_task(ctx, parse_args(name, arguments)?).await,
            COMPLETE_TASK => self.complete_task(ctx, parse_args(name, arguments)?).await,
            COMPLETE_ALL_TASKS => self.complete_all_tasks(ctx, parse_args(name, arguments)?).await,
            DELETE_ALL_TASKS => self.delete_all_tasks(ctx, parse_args(name, arguments)?).await,
            other => Err(ToolFailure {
                error: "Unknown tool".into(),
                message: format!(
                    "There is no tool named {other:?}; available tools: {}",
                    TOOL_NAMES.join(", ")
                ),
            }),
        }
    }

    async fn create_task(&self, ctx: &ToolContext, args: CreateTaskArgs) -> ToolResult {
        let now = crate::storage::now();
        let (title, found_tags) = split_title_tags(&args.title, &ctx.zone, now);
        let mut tags = args.tags.unwrap_or_default();
        tags.extend(found_tags);
        let due_at =
            args.due_date.as_deref().map(|raw| resolve_due(raw, "due_date", &ctx.zone, now)).transpose()?;
        let input = TaskInput {
            title,
            description: args.description,
            priority: args.priority,
            tags: Some(tags),
            due_at: due_at.map(|ts| ts.to_string()),
            ..Default::default()
        };
        let task = self
            .tasks
            .create(ctx.user, input, &ctx.zone)
            .await
            .map_err(|e| ToolFailure::from_task_error(e, None))?;
        let mut message = format!("✅ Task created: #{} {}", task.number, task.title);
        if let Some(due) = task.due_at {
            message.push_str(&format!(" (due {})", display_time(due, &ctx.zone)));
        }
        if !task.tags.is_empty() {
            message.push_str(&format!(" (tags: {})", task.tags.join(", ")));
        }
        Ok(json!({"success": true, "task": task_json(&task, &ctx.zone), "message": message}))
    }

    async fn list_tasks(&self, ctx: &ToolContext, args: ListTasksArgs) -> ToolResult {
        let now = crate::storage::now();
        let bound = |raw: &Option<String>, field: &str| -> Result<Option<String>, ToolFailure> {
            raw.as_deref()
                .map(|raw| resolve_due(raw, field, &ctx.zone, now).map(|ts| ts.to_string()))
                .transpose()
        };
        let criteria = ListCriteria {
            status: match args.status {
                StatusArg::All => StatusFilter::All,
                StatusArg::Pending => StatusFilter::Pending,
                StatusArg::Completed => StatusFilter::Completed,
                StatusArg::Overdue => StatusFilter::Overdue,
            },
            priority: args.priority,
            tags: args.tags.unwrap_or_default(),
            due: args.due.map(|due| match due {
                DueWindowArg::Overdue => DueWindow::Overdue,
                DueWindowArg::Today => DueWindow::Today,
                DueWindowArg::Week => DueWindow::Week,
                DueWindowArg::Month => DueWindow::Month,
            }),
            due_before: bound(&args.due_before, "due_before")?,
            due_after: bound(&args.due_after, "due_after")?,
            search: args.search,
            sort: args.sort.map(|sort| match sort {
                SortArg::Due => SortKey::Due,
                SortArg::Priority => SortKey::Priority,
                SortArg::Created => SortKey::Created,
                SortArg::Updated => SortKey::Updated,
                SortArg::Title => SortKey::Title,
            }),
            order: args.order.map(|order| match order {
                OrderArg::Asc => SortOrder::Asc,
                OrderArg::Desc => SortOrder::Desc,
            }),
            offset: 0,
            limit: args.limit,
        };
        let failure = |e| ToolFailure::from_task_error(e, None);
        let page = self.tasks.list(ctx.user, &criteria, &ctx.zone).await.map_err(failure)?;
        let counts = self.tasks.counts(ctx.user, &criteria, &ctx.zone).await.map_err(failure)?;
        let noun = if counts.total == 1 { "task" } else { "tasks" };
        let mut summary = format!(
            "Found {} {noun} ({} pending, {} completed)",
            counts.total, counts.pending, counts.completed
        );
        if (page.tasks.len() as u64) < counts.total {
            summary.push_str(&format!("; showing the first {}", page.tasks.len()));
        }
        let message = if counts.total == 0 { "No tasks match.".to_owned() } else { format!("{summary}.") };
        Ok(json!({
            "success": true,
            "tasks": page.tasks.iter().map(|t| task_json(t, &ctx.zone)).collect::<Vec<_>>(),
            "summary": summary,
            "total": counts.total,
            "pending": counts.pending,
            "completed": counts.completed,
            "returned": page.tasks.len(),
            "message": message,
        }))
    }

    async fn update_task(&self, ctx: &ToolContext, args: UpdateTaskArgs) -> ToolResult {
        let now = crate::storage::now();
        let key = task_key(&args.task_id)?;
        let failure = |e| ToolFailure::from_task_error(e, Some(&args.task_id));
        let before = self.tasks.get(ctx.user, key).await.map_err(failure)?;
        let mut tags = args.tags.clone();
        let title = args.title.as_deref().map(|raw| {
            let (title, found) = split_title_tags(raw, &ctx.zone, now);
            if !found.is_empty() {
                tags.get_or_insert_with(|| before.tags.clone()).extend(found);
            }
            title
        });
        let due_at = match &args.due_date {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => Some(Some(resolve_due(raw, "due_date", &ctx.zone, now)?.to_string())),
        };
        let patch = TaskPatchInput {
            title,
            description: args.description.clone(),
            priority: args.priority.clone(),
            tags,
            due_at,
            ..Default::default()
        };
        let changes_fields = patch.title.is_some()
            || patch.description.is_some()
            || patch.priority.is_some()
            || patch.tags.is_some()
            || patch.due_at.is_some();
        if !changes_fields && args.completed.is_none() {
            return Err(ToolFailure::invalid(
                "Nothing to change: send at least one of title, description, due_date, priority, tags, completed",
            ));
        }
        let mut after = if changes_fields {
            self.tasks.update(ctx.user, key, patch, &ctx.zone).await.map_err(failure)?
        } else {
            before.clone()
        };
        if let Some(completed) = args.completed {
            after = self
                .tasks
                .set_completed(ctx.user, TaskKey::Id(after.id), completed)
                .await
                .map_err(failure)?
                .task;
        }
        let changes = describe_changes(&before, &after, &ctx.zone);
        let message = if changes.is_empty() {
            format!("Task #{} {} already had those values; nothing changed", after.number, after.title)
        } else {
            format!("✅ Task updated: {}", changes.join(" and "))
        };
        Ok(json!({"success": true, "task": task_json(&after, &ctx.zone), "message": message}))
    }

    async fn delete_task(&self, ctx: &ToolContext, args: TaskIdArgs) -> ToolResult {
        let key = task_key(&args.task_id)?;
        let task = self
            .tasks
            .delete(ctx.user, key)
            .await
            .map_err(|e| ToolFailure::from_task_error(e, Some(&args.task_id)))?;
        Ok(json!({
            "success": true,
            "task": task_json(&task, &ctx.zone),
            "message": format!("🗑️ Deleted task #{} {}", task.number, task.title),
        }))
    }

    async fn complete_task(&self, ctx: &ToolContext, args: CompleteTaskArgs) -> ToolResult {
        let key = task_key(&args.task_id)?;
        let failure = |e| ToolFailure::from_task_error(e, Some(&args.task_id));
        let before = self.tasks.get(ctx.user, key).await.map_err(failure)?;
        let completion = self
            .tasks
            .set_completed(ctx.user, TaskKey::Id(before.id), args.completed)
            .await
            .map_err(failure)?;
        let task = &completion.task;
        let status = |done: bool| if done { "completed" } else { "pending" };
        let mut message = match (before.completed, args.completed) {
            (true, true) => format!("Task #{} {} was already completed", task.number, task.title),
            (false, false) => format!("Task #{} {} is already pending", task.number, task.title),
            (false, true) => format!("✅ Completed task #{} {}", task.number, task.title),
            (true, false) => format!("↩️ Reopened task #{} {}", task.number, task.title),
        };
        let mut result = json!({
            "success": true,
            "task": task_json(task, &ctx.zone),
            "old_status": status(before.completed),
            "new_status": status(task.completed),
        });
        if let Some(next) = &completion.next_instance {
            message.push_str(&format!("; next occurrence #{} is due", next.number));
            if let Some(due) = next.due_at {
                message.push_str(&format!(" {}", display_time(due, &ctx.zone)));
            }
            result["next_task"] = task_json(next, &ctx.zone);
        }
        result["message"] = Value::String(message);
        Ok(result)
    }

    async fn complete_all_tasks(&self, ctx: &ToolContext, args: CompleteAllTasksArgs) -> ToolResult {
        let completed = args.completed.unwrap_or(true);
        let outcome = self
            .tasks
            .set_completed_matching(ctx.user, &ListCriteria::default(), &ctx.zone, completed)
            .await
            .map_err(|e| ToolFailure::from_task_error(e, None))?;
        let (verb, state) = if completed { ("Completed", "completed") } else { ("Reopened", "pending") };
        let message = if outcome.total_count == 0 {
            "You have no tasks.".to_owned()
        } else if outcome.updated_count == 0 {
            format!("All {} tasks are already {state}; nothing changed.", outcome.total_count)
        } else {
            format!(
                "✅ {verb} {} of {} tasks ({} already {state}).",
                outcome.updated_count, outcome.total_count, outcome.skipped_count
            )
        };
        Ok(json!({
            "success": true,
            "updated_count": outcome.updated_count,
            "skipped_count": outcome.skipped_count,
            "total_count": outcome.total_count,
            "message": message,
        }))
    }

    async fn delete_all_tasks(&self, ctx: &ToolContext, args: DeleteAllTasksArgs) -> ToolResult {
        let failure = |e| ToolFailure::from_task_error(e, None);
        let criteria = ListCriteria::default();
        if !args.confirmed {
            let counts = self.tasks.counts(ctx.user, &criteria, &ctx.zone).await.map_err(failure)?;
            if counts.total == 0 {
                return Ok(json!({
                    "success": true,
                    "requires_confirmation": false,
                    "task_count": 0,
                    "deleted_count": 0,
                    "message": "You have no tasks to delete.",
                }));
            }
            return Ok(json!({
                "success": true,
                "requires_confirmation": true,
                "task_count": counts.total,
                "message": format!(
                    "This will permanently delete all {} of your tasks. Ask the user to confirm (\"yes\"), \
                     then call delete_all_tasks again with confirmed: true.",
                    counts.total
                ),
            }));
        }
        let deleted = self.tasks.delete_matching(ctx.user, &criteria, &ctx.zone).await.map_err(failure)?;
        Ok(json!({
            "success": true,
            "deleted_count": deleted,
            "message": format!("🗑️ Deleted {deleted} {}.", if deleted == 1 { "task" } else { "tasks" }),
        }))
    }
}

const TOOL_NAMES: [&str; 7] =
    [CREATE_TASK, LIST_TASKS, UPDATE_TASK, DELETE_TASK, COMPLETE_TASK, COMPLETE_ALL_TASKS, DELETE_ALL_TASKS];

#[async_trait]
impl ToolExecutor for TaskTools {
    fn definitions(&self) -> Vec<ToolDefinition> {
        definitions()
    }

    async fn call(&self, ctx: &ToolContext, name: &str, arguments: Value) -> ToolOutput {
        match self.run(ctx, name, arguments).await {
            Ok(value) => ToolOutput { value, is_error: false },
            Err(failure) => ToolOutput {
                value: json!({"success": false, "error": failure.error, "message": failure.message}),
                is_error: true,
            },
        }
    }
}

/// The seven tool definitions (the same for every front-end).
pub fn definitions() -> Vec<ToolDefinition> {
    vec![
        ToolDefinition {
            name: CREATE_TASK,
            description: "Create a task for the user. Put the due time in due_date (RFC 3339 in the \
                          user's time zone preferred), not in the title.",
            parameters: parameters_schema::<CreateTaskArgs>(),
        },
        ToolDefinition {
            name: LIST_TASKS,
            description: "List, filter, search, sort and count the user's tasks. Each task has a \
                          number the user can refer to (\"task 3\"). Returns total/pending/completed counts.",
            parameters: parameters_schema::<ListTasksArgs>(),
        },
        ToolDefinition {
            name: UPDATE_TASK,
            description: "Change a task's title, description, due date, priority, tags or completion.",
            parameters: parameters_schema::<UpdateTaskArgs>(),
        },
        ToolDefinition {
            name: DELETE_TASK,
            description: "Delete one task permanently.",
            parameters: parameters_schema::<TaskIdArgs>(),
        },
        ToolDefinition {
            name: COMPLETE_TASK,
            description: "Mark a task completed (completed: true) or reopen it (completed: false).",
            parameters: parameters_schema::<CompleteTaskArgs>(),
        },
        ToolDefinition {
            name: COMPLETE_ALL_TASKS,
            description: "Mark every pending task completed (or, with completed: false, reopen every \
                          completed task). Reports updated and skipped counts.",
            parameters: parameters_schema::<CompleteAllTasksArgs>(),
        },
        ToolDefinition {
            name: DELETE_ALL_TASKS,
            description: "Delete all of the user's tasks, in two steps: call without confirmed to get \
                          the count, tell the user and wait for an explicit yes, then call with confirmed: true.",
            parameters: parameters_schema::<DeleteAllTasksArgs>(),
        },
    ]
}

fn parse_args<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, ToolFailure> {
    decode_arguments(tool, arguments).map_err(ToolFailure::invalid)
}

fn task_key(task: &TaskIdArg) -> Result<TaskKey, ToolFailure> {
    let key = match task {
        TaskIdArg::Number(n) => (*n > 0).then_some(TaskKey::Number(*n)),
        TaskIdArg::Text(text) => TaskKey::parse(text),
    };
    key.ok_or_else(|| ToolFailure {
        error: "Task not found".into(),
        message: format!(
            "Could not find task with ID {task}: task_id must be a task number such as 3 or \"#3\", or a \
             task id; use list_tasks (with search) to find the task"
        ),
    })
}

/// Reads a due time: RFC 3339 or a civil date/time in the user's zone, or a
/// natural-language phrase ("tomorrow at 5pm") resolved in that zone.
fn resolve_due(raw: &str, field: &str, zone: &UserZone, now: Timestamp) -> Result<Timestamp, ToolFailure> {
    let raw = raw.trim();
    match parse_due(raw, zone, now) {
        Ok(ts) => return Ok(ts),
        Err(TaskError::Invalid(err)) => return Err(ToolFailure::invalid(format!("{field}: {err}"))),
        Err(_) => {}
    }
    let local_now = now.to_zoned(zone.tz().clone());
    let unparseable = || {
        ToolFailure::invalid(format!(
            "{field}: could not understand {raw:?} as a date; send RFC 3339 in the user's time zone, \
             e.g. {}",
            local_now.strftime("%Y-%m-%dT17:00:00%:z")
        ))
    };
    let found = parse_datetime(raw, &local_now).ok_or_else(unparseable)?;
    // The phrase must be the whole value, not a date buried in other words.
    let rest = format!("{}{}", &raw[..found.start], &raw[found.end..]);
    if rest.chars().any(char::is_alphanumeric) {
        return Err(unparseable());
    }
    todokit_domain::validate_due_at(found.at.timestamp(), now)
        .map_err(|err| ToolFailure::invalid(format!("{field}: {err}")))
}

/// Takes tags out of a title ("#shopping", "… tagged with work"), using the
/// quick-add rules to find them. Returns the title without the tag phrases.
fn split_title_tags(raw: &str, zone: &UserZone, now: Timestamp) -> (String, Vec<String>) {
    let local_now = now.to_zoned(zone.tz().clone());
    let tags = parse_quick_add(raw, &local_now).tags;
    if tags.is_empty() {
        return (raw.to_owned(), tags);
    }
    let mut title = raw.to_owned();
    let lower = title.to_lowercase();
    const MARKERS: [&str; 9] = [
        " tagged with ",
        " tagged as ",
        " tagged ",
        " with tags ",
        " with tag ",
        " add tag ",
        " tags ",
        " labeled ",
        " labelled ",
    ];
    if let Some(cut) = MARKERS.iter().filter_map(|marker| lower.find(marker)).min()
        && title.is_char_boundary(cut)
    {
        title.truncate(cut);
    }
    let words: Vec<&str> = title
        .split_whitespace()
        .filter(|word| {
            let Some(tag) = word.strip_prefix('#') else { return true };
            let tag = tag.trim_end_matches(|c: char| c.is_ascii_punctuation()).to_lowercase();
            !tags.contains(&tag)
        })
        .collect();
    let cleaned = words.join(" ").trim_end_matches([',', ';', ':', '-']).trim().to_owned();
    if cleaned.is_empty() { (raw.to_owned(), tags) } else { (cleaned, tags) }
}

fn display_time(ts: Timestamp, zone: &UserZone) -> String {
    ts.to_zoned(zone.tz().clone()).strftime("%a %Y-%m-%d %H:%M %Z").to_string()
}

/// A task as tools return it: due and creation times in the user's zone.
fn task_json(task: &Task, zone: &UserZone) -> Value {
    let local = |ts: Timestamp| ts.to_zoned(zone.tz().clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    let mut value = json!({
        "id": task.id,
        "number": task.number,
        "title": task.title,
        "description": task.description,
        "priority": task.priority,
        "tags": task.tags,
        "due_date": task.due_at.map(local),
        "completed": task.completed,
        "created_at": local(task.created_at),
    });
    if let Some(recurrence) = &task.recurrence {
        value["recurrence"] = json!(recurrence);
    }
    if task.due_at.is_some_and(|due| !task.completed && due < Timestamp::now()) {
        value["overdue"] = Value::Bool(true);
    }
    value
}

fn describe_changes(before: &Task, after: &Task, zone: &UserZone) -> Vec<String> {
    let mut changes = Vec::new();
    if before.title != after.title {
        changes.push(format!("title from '{}' to '{}'", before.title, after.title));
    }
    if before.description != after.description {
        changes.push(match &after.description {
            Some(_) => "description changed".to_owned(),
            None => "description removed".to_owned(),
        });
    }
    if before.priority != after.priority {
        changes.push(format!("priority from {} to {}", before.priority, after.priority));
    }
    if before.tags != after.tags {
        changes.push(format!("tags set to [{}]", after.tags.join(", ")));
    }
    if before.due_at != after.due_at {
        changes.push(match after.due_at {
            Some(due) => format!("due date set to {}", display_time(due, zone)),
            None => "due date removed".to_owned(),
        });
    }
    if before.completed != after.completed {
        changes.push(if after.completed { "marked completed".to_owned() } else { "reopened".to_owned() });
    }
    if !changes.is_empty() {
        changes[0] = format!("#{} {}", after.number, changes[0]);
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_now() -> Timestamp {
        "2026-11-21T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn tags_come_out_of_titles() {
        let zone = UserZone::utc();
        let split = |title: &str| split_title_tags(title, &zone, utc_now());
        assert_eq!(
            split("Buy milk #shopping #Home"),
            ("Buy milk".into(), vec!["shopping".into(), "home".into()])
        );
        assert_eq!(
            split("Buy groceries tagged with shopping"),
            ("Buy groceries".into(), vec!["shopping".into()])
        );
        assert_eq!(split("Fix bug #3"), ("Fix bug #3".into(), vec![]), "a number is not a tag");
        assert_eq!(split("Call mom"), ("Call mom".into(), vec![]));
        assert_eq!(split("#errands").0, "#errands", "a title is never emptied");
    }

    #[test]
    fn due_dates_accept_rfc3339_civil_times_and_words() {
        let zone = UserZone::parse("Europe/Berlin").unwrap();
        let resolve = |raw: &str| resolve_due(raw, "due_date", &zone, utc_now());
        let expect = |raw: &str| resolve(raw).unwrap().to_string();
        assert_eq!(expect("2026-11-25T17:00:00+01:00"), "2026-11-25T16:00:00Z");
        assert_eq!(expect("2026-11-25T17:00"), "2026-11-25T16:00:00Z", "civil time is the user's");
        assert_eq!(expect("tomorrow at 5pm"), "2026-11-22T16:00:00Z");
        assert_eq!(expect("  in 3 days "), "2026-11-24T22:59:59Z");
        assert!(resolve("whenever the moon is blue").is_err());
        assert!(resolve("buy milk tomorrow").is_err(), "a date buried in other words is refused");
        let message = resolve("1900-01-01T00:00:00Z").err().unwrap().message;
        assert!(message.contains("10 years"), "{message}");
    }

    #[test]
    fn task_ids_are_numbers_or_ids() {
        assert_eq!(task_key(&TaskIdArg::Number(3)).ok(), Some(TaskKey::Number(3)));
        assert_eq!(task_key(&TaskIdArg::Text("#4".into())).ok(), Some(TaskKey::Number(4)));
        let id = uuid::Uuid::now_v7();
        assert_eq!(task_key(&TaskIdArg::Text(id.to_string())).ok(), Some(TaskKey::Id(id)));
        assert!(task_key(&TaskIdArg::Number(-1)).is_err());
        assert!(task_key(&TaskIdArg::Text("groceries".into())).is_err());
    }
}
