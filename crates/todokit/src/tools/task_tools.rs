//! [`TaskTools`]: the seven task tools over [`TaskService`], as typed methods.

use jiff::Timestamp;
use todokit_domain::nl::{parse_datetime, parse_quick_add};
use todokit_domain::{Recurrence, ReminderOffset, Weekday};

use super::ToolContext;
use super::args::{
    ClearableField, CompleteAllTasksArgs, CompleteTaskArgs, CreateTaskArgs, DeleteAllTasksArgs, FrequencyArg,
    ListTasksArgs, RecurrenceArg, ReminderArg, TaskFilterArgs, TaskIdArg, TaskIdArgs, UpdateTaskArgs,
};
use super::outcome::{
    BulkCompletionOutcome, BulkDeletionOutcome, CompletionOutcome, ListOutcome, TaskOutcome, TaskRef,
    ToolError, ToolTask,
};
use super::words::{describe_recurrence, describe_reminder, recurrence_from_words, reminder_from_words};
use crate::tasks::model::{SortKey, Task, TaskKey};
use crate::tasks::{
    DueWindow, ListCriteria, StatusFilter, TaskError, TaskInput, TaskPatchInput, TaskService, UserZone,
    parse_due,
};

/// How many tasks a bulk result names in its message (all of them are in its `tasks`).
const NAMED_IN_MESSAGE: usize = 20;
/// How many matching tasks an unconfirmed delete_all_tasks lists.
const LISTED_BEFORE_DELETE: u32 = 100;

/// The task tools, scoped to the user of each call's [`ToolContext`].
#[derive(Clone)]
pub struct TaskTools {
    tasks: TaskService,
}

type ToolResult<T> = Result<T, ToolError>;

impl TaskTools {
    pub fn new(tasks: TaskService) -> Self {
        Self { tasks }
    }

    /// `create_task`: a new task; tags in the title ("#home") join `tags`.
    pub async fn create_task(&self, ctx: &ToolContext, args: CreateTaskArgs) -> ToolResult<TaskOutcome> {
        let now = self.tasks.clock().now();
        let (title, found_tags) = split_title_tags(&args.title, &ctx.zone, now);
        let mut tags = args.tags.unwrap_or_default();
        tags.extend(found_tags);
        let due_at =
            args.due_date.as_deref().map(|raw| resolve_due(raw, "due_date", &ctx.zone, now)).transpose()?;
        let reminder = args.reminder.as_ref().map(reminder_offset).transpose()?.flatten();
        let recurrence =
            args.recurrence.as_ref().map(|r| recurrence_rule(r, &ctx.zone, now)).transpose()?.flatten();
        if due_at.is_none() && (reminder.is_some() || recurrence.is_some()) {
            let field = if reminder.is_some() { "reminder" } else { "recurrence" };
            return Err(ToolError::invalid(format!("{field} needs a due date: send due_date too")));
        }
        let input = TaskInput {
            title,
            description: args.description,
            priority: args.priority,
            tags: Some(tags),
            due_at: due_at.map(|ts| ts.to_string()),
            reminder_offset_minutes: reminder.map(|r| i64::from(r.minutes())),
            recurrence,
            completed: false,
        };
        let task = self.tasks.create(ctx.user, input, &ctx.zone).await.map_err(|e| tool_error(e, None))?;
        let mut message = format!("✅ Task created: #{} {}", task.number, task.title);
        if let Some(due) = task.due_at {
            message.push_str(&format!(" (due {})", display_time(due, &ctx.zone)));
        }
        if !task.tags.is_empty() {
            message.push_str(&format!(" (tags: {})", task.tags.join(", ")));
        }
        if let Some(minutes) = task.reminder_offset_minutes {
            message.push_str(&format!(" (reminder {})", describe_reminder(minutes)));
        }
        if let Some(rule) = &task.recurrence {
            message.push_str(&format!(" (repeats {})", describe_rule(rule, &ctx.zone)));
        }
        Ok(TaskOutcome { message, task: ToolTask::new(&task, &ctx.zone) })
    }

    /// `list_tasks`: the matching tasks (a page) and how many match in all.
    pub async fn list_tasks(&self, ctx: &ToolContext, args: ListTasksArgs) -> ToolResult<ListOutcome> {
        let mut criteria = self.criteria(&args.filter, &ctx.zone)?;
        criteria.sort = args.sort;
        criteria.order = args.order;
        criteria.limit = args.limit;
        let page = self.tasks.list(ctx.user, &criteria, &ctx.zone).await.map_err(|e| tool_error(e, None))?;
        let counts =
            self.tasks.counts(ctx.user, &criteria, &ctx.zone).await.map_err(|e| tool_error(e, None))?;
        let noun = if counts.total == 1 { "task" } else { "tasks" };
        let mut summary = format!(
            "Found {} {noun} ({} pending, {} completed)",
            counts.total, counts.pending, counts.completed
        );
        if (page.tasks.len() as u64) < counts.total {
            summary.push_str(&format!("; showing the first {}", page.tasks.len()));
        }
        let message = if counts.total == 0 { "No tasks match.".to_owned() } else { format!("{summary}.") };
        Ok(ListOutcome {
            message,
            summary,
            tasks: page.tasks.iter().map(|t| ToolTask::new(t, &ctx.zone)).collect(),
            total: counts.total,
            pending: counts.pending,
            completed: counts.completed,
            returned: page.tasks.len() as u64,
        })
    }

    /// `update_task`: changes the fields given, clears those in `clear`.
    pub async fn update_task(&self, ctx: &ToolContext, args: UpdateTaskArgs) -> ToolResult<TaskOutcome> {
        let now = self.tasks.clock().now();
        let key = task_key(&args.task_id)?;
        let failure = |e| tool_error(e, Some(&args.task_id));
        let before = self.tasks.get(ctx.user, key).await.map_err(failure)?;
        let patch = self.patch(ctx, &args, &before, now)?;
        let changes_fields = patch.title.is_some()
            || patch.description.is_some()
            || patch.priority.is_some()
            || patch.tags.is_some()
            || patch.due_at.is_some()
            || patch.reminder_offset_minutes.is_some()
            || patch.recurrence.is_some();
        if !changes_fields && args.completed.is_none() {
            return Err(ToolError::invalid(
                "Nothing to change: send at least one of title, description, due_date, priority, tags, \
                 add_tags, remove_tags, reminder, recurrence, clear, completed",
            ));
        }
        let mut after = if changes_fields {
            self.tasks.update(ctx.user, TaskKey::Id(before.id), patch, &ctx.zone).await.map_err(failure)?
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
        Ok(TaskOutcome { message, task: ToolTask::new(&after, &ctx.zone) })
    }

    /// `delete_task`.
    pub async fn delete_task(&self, ctx: &ToolContext, args: TaskIdArgs) -> ToolResult<TaskOutcome> {
        let key = task_key(&args.task_id)?;
        let task = self.tasks.delete(ctx.user, key).await.map_err(|e| tool_error(e, Some(&args.task_id)))?;
        Ok(TaskOutcome {
            message: format!("🗑️ Deleted task #{} {}", task.number, task.title),
            task: ToolTask::new(&task, &ctx.zone),
        })
    }

    /// Brings back a task deleted a moment ago (within the undo window), id, number and every
    /// field as they were. Not one of the model's tools: the offline assistant's "undo" uses it.
    pub async fn restore_task(&self, ctx: &ToolContext, args: TaskIdArgs) -> ToolResult<TaskOutcome> {
        let TaskKey::Id(id) = task_key(&args.task_id)? else {
            return Err(ToolError::not_found(&args.task_id));
        };
        let task = self.tasks.restore(ctx.user, id).await.map_err(|e| tool_error(e, Some(&args.task_id)))?;
        Ok(TaskOutcome {
            message: format!("↩️ Restored task #{} {}", task.number, task.title),
            task: ToolTask::new(&task, &ctx.zone),
        })
    }

    /// `complete_task`: completes or reopens one task; completing a recurring one creates
    /// its next occurrence.
    pub async fn complete_task(
        &self,
        ctx: &ToolContext,
        args: CompleteTaskArgs,
    ) -> ToolResult<CompletionOutcome> {
        let key = task_key(&args.task_id)?;
        let failure = |e| tool_error(e, Some(&args.task_id));
        let before = self.tasks.get(ctx.user, key).await.map_err(failure)?;
        let completion = self
            .tasks
            .set_completed(ctx.user, TaskKey::Id(before.id), args.completed)
            .await
            .map_err(failure)?;
        let task = &completion.task;
        let status = |done: bool| if done { "completed" } else { "pending" }.to_owned();
        let mut message = match (before.completed, args.completed) {
            (true, true) => format!("Task #{} {} was already completed", task.number, task.title),
            (false, false) => format!("Task #{} {} is already pending", task.number, task.title),
            (false, true) => format!("✅ Completed task #{} {}", task.number, task.title),
            (true, false) => format!("↩️ Reopened task #{} {}", task.number, task.title),
        };
        if let Some(next) = &completion.next_instance {
            message.push_str(&format!("; next occurrence #{} is due", next.number));
            if let Some(due) = next.due_at {
                message.push_str(&format!(" {}", display_time(due, &ctx.zone)));
            }
        }
        Ok(CompletionOutcome {
            message,
            task: ToolTask::new(task, &ctx.zone),
            old_status: status(before.completed),
            new_status: status(task.completed),
            next_task: completion.next_instance.as_ref().map(|next| ToolTask::new(next, &ctx.zone)),
        })
    }

    /// `complete_all_tasks`: completes (or reopens) exactly the tasks matching the filter.
    pub async fn complete_all_tasks(
        &self,
        ctx: &ToolContext,
        args: CompleteAllTasksArgs,
    ) -> ToolResult<BulkCompletionOutcome> {
        let completed = args.completed.unwrap_or(true);
        let criteria = self.criteria(&args.filter, &ctx.zone)?;
        let outcome = self
            .tasks
            .set_completed_matching(ctx.user, &criteria, &ctx.zone, completed)
            .await
            .map_err(|e| tool_error(e, None))?;
        let filter = describe_filter(&args.filter);
        let changed: Vec<TaskRef> = outcome.changed.iter().map(|c| TaskRef::from(&c.task)).collect();
        let next_tasks: Vec<TaskRef> =
            outcome.changed.iter().filter_map(|c| c.next_instance.as_ref()).map(TaskRef::from).collect();
        let (verb, state) = if completed { ("Completed", "completed") } else { ("Reopened", "pending") };
        let message = if outcome.total_count == 0 {
            if args.filter.is_empty() {
                "You have no tasks.".to_owned()
            } else {
                format!("No {filter} found.")
            }
        } else if outcome.updated_count == 0 {
            format!("All {} {filter} are already {state}; nothing changed.", outcome.total_count)
        } else {
            let mut message = format!(
                "✅ {verb} {} of {} {filter}: {}",
                outcome.updated_count,
                outcome.total_count,
                name_tasks(&changed, changed.len() as u64)
            );
            if outcome.skipped_count > 0 {
                message.push_str(&format!(" ({} already {state})", outcome.skipped_count));
            }
            if !next_tasks.is_empty() {
                message.push_str(&format!(
                    "; next occurrences created: {}",
                    name_tasks(&next_tasks, next_tasks.len() as u64)
                ));
            }
            message.push('.');
            message
        };
        Ok(BulkCompletionOutcome {
            message,
            filter,
            updated_count: outcome.updated_count,
            skipped_count: outcome.skipped_count,
            total_count: outcome.total_count,
            tasks: changed,
            next_tasks,
        })
    }

    /// `delete_all_tasks`: without `confirm`, counts and names the tasks matching the filter;
    /// with it, deletes exactly those (and, given `expected_count`, only if that many still
    /// match, so a task added or changed since the user agreed is never deleted unseen).
    pub async fn delete_all_tasks(
        &self,
        ctx: &ToolContext,
        args: DeleteAllTasksArgs,
    ) -> ToolResult<BulkDeletionOutcome> {
        let failure = |e| tool_error(e, None);
        let mut criteria = self.criteria(&args.filter, &ctx.zone)?;
        let filter = describe_filter(&args.filter);
        if !args.confirm {
            criteria.limit = Some(LISTED_BEFORE_DELETE);
            criteria.sort = Some(SortKey::Due);
            let page = self.tasks.list(ctx.user, &criteria, &ctx.zone).await.map_err(failure)?;
            let tasks: Vec<TaskRef> = page.tasks.iter().map(TaskRef::from).collect();
            let count = page.total;
            if count == 0 {
                let message = if args.filter.is_empty() {
                    "You have no tasks to delete.".to_owned()
                } else {
                    format!("No {filter} found; nothing to delete.")
                };
                return Ok(BulkDeletionOutcome {
                    message,
                    filter,
                    requires_confirmation: false,
                    task_count: 0,
                    deleted_count: 0,
                    tasks,
                });
            }
            let what = if args.filter.is_empty() {
                format!("all {count} of your tasks")
            } else {
                format!("{} {}", count, filter_noun(&filter, count))
            };
            let message = format!(
                "This will permanently delete {what}: {}. Ask the user to confirm (\"yes\"), then call \
                 delete_all_tasks again with the same filter, confirm: true and expected_count: {count}.",
                name_tasks(&tasks, count)
            );
            return Ok(BulkDeletionOutcome {
                message,
                filter,
                requires_confirmation: true,
                task_count: count,
                deleted_count: 0,
                tasks,
            });
        }
        let deletion = self
            .tasks
            .delete_matching_expected(ctx.user, &criteria, &ctx.zone, args.expected_count)
            .await
            .map_err(failure)?;
        if let Some(expected) = args.expected_count
            && expected != deletion.matched
        {
            return Err(ToolError::TasksChanged(format!(
                "Nothing was deleted: {} {} match now, not {expected} as the user confirmed. Tell the user \
                 and ask again (call delete_all_tasks without confirm to list them).",
                deletion.matched,
                filter_noun(&filter, deletion.matched)
            )));
        }
        let deleted: Vec<TaskRef> = deletion.deleted.iter().map(TaskRef::from).collect();
        let count = deleted.len() as u64;
        let message = if count == 0 {
            format!("No {filter} found; nothing was deleted.")
        } else {
            format!("🗑️ Deleted {count} {}: {}.", filter_noun(&filter, count), name_tasks(&deleted, count))
        };
        Ok(BulkDeletionOutcome {
            message,
            filter,
            requires_confirmation: false,
            task_count: deletion.matched,
            deleted_count: count,
            tasks: deleted,
        })
    }

    /// The listing criteria of a tool filter; due bounds may be words, read in the user's zone.
    fn criteria(&self, filter: &TaskFilterArgs, zone: &UserZone) -> ToolResult<ListCriteria> {
        let now = self.tasks.clock().now();
        let bound = |raw: &Option<String>, field: &str| -> ToolResult<Option<String>> {
            raw.as_deref().map(|raw| resolve_due(raw, field, zone, now).map(|ts| ts.to_string())).transpose()
        };
        Ok(ListCriteria {
            status: filter.status,
            priority: filter.priority.clone(),
            tags: filter.tags.clone().unwrap_or_default(),
            due: filter.due,
            due_before: bound(&filter.due_before, "due_before")?,
            due_after: bound(&filter.due_after, "due_after")?,
            search: filter.search.clone(),
            ..Default::default()
        })
    }

    /// The service patch for an update_task call, read against the task as it is.
    fn patch(
        &self,
        ctx: &ToolContext,
        args: &UpdateTaskArgs,
        before: &Task,
        now: Timestamp,
    ) -> ToolResult<TaskPatchInput> {
        let clear = args.clear.clone().unwrap_or_default();
        let clears = |field: ClearableField| clear.contains(&field);
        let both = |field: ClearableField, set: bool| -> ToolResult<()> {
            if set && clears(field) {
                return Err(ToolError::invalid(format!(
                    "{0}: either set it or clear it, not both",
                    field.name()
                )));
            }
            Ok(())
        };
        both(ClearableField::Description, matches!(args.description, Some(Some(_))))?;
        both(ClearableField::DueDate, matches!(args.due_date, Some(Some(_))))?;
        both(ClearableField::Reminder, matches!(args.reminder, Some(Some(_))))?;
        both(ClearableField::Recurrence, matches!(args.recurrence, Some(Some(_))))?;
        both(ClearableField::Tags, args.tags.is_some() || args.add_tags.is_some())?;

        let mut tags = args.tags.clone();
        if clears(ClearableField::Tags) {
            tags = Some(Vec::new());
        }
        let title = args.title.as_deref().map(|raw| {
            let (title, found) = split_title_tags(raw, &ctx.zone, now);
            if !found.is_empty() {
                tags.get_or_insert_with(|| before.tags.clone()).extend(found);
            }
            title
        });
        if let Some(added) = &args.add_tags {
            tags.get_or_insert_with(|| before.tags.clone()).extend(added.iter().cloned());
        }
        if let Some(removed) = &args.remove_tags {
            let removed: Vec<String> = removed.iter().map(|t| t.trim().to_lowercase()).collect();
            let current = tags.get_or_insert_with(|| before.tags.clone());
            let normalised = |tag: &String| tag.trim().to_lowercase();
            let missing: Vec<String> = removed
                .iter()
                .filter(|tag| !current.iter().any(|have| normalised(have) == **tag))
                .map(|tag| format!("\"{tag}\""))
                .collect();
            if !missing.is_empty() {
                let have = if current.is_empty() { "none".to_owned() } else { current.join(", ") };
                return Err(ToolError::invalid(format!(
                    "remove_tags: task #{} has no tag {}; its tags are: {have}",
                    before.number,
                    missing.join(", ")
                )));
            }
            current.retain(|tag| !removed.contains(&normalised(tag)));
        }

        let description =
            if clears(ClearableField::Description) { Some(None) } else { args.description.clone() };
        let due_at = match (&args.due_date, clears(ClearableField::DueDate)) {
            (_, true) | (Some(None), _) => Some(None),
            (Some(Some(raw)), false) => Some(Some(resolve_due(raw, "due_date", &ctx.zone, now)?)),
            (None, false) => None,
        };
        let reminder = match (&args.reminder, clears(ClearableField::Reminder)) {
            (_, true) | (Some(None), _) => Some(None),
            (Some(Some(reminder)), false) => Some(reminder_offset(reminder)?),
            (None, false) => None,
        };
        let recurrence = match (&args.recurrence, clears(ClearableField::Recurrence)) {
            (_, true) | (Some(None), _) => Some(None),
            (Some(Some(rule)), false) => Some(recurrence_rule(rule, &ctx.zone, now)?),
            (None, false) => None,
        };
        // Reminders and recurrence hang off the due time, set already or in this call.
        let due_after = due_at.unwrap_or(before.due_at);
        let needs_due = |field: &str, set: bool| -> ToolResult<()> {
            if set && due_after.is_none() {
                return Err(ToolError::invalid(format!(
                    "{field} needs a due date: task #{} has none, so send due_date too",
                    before.number
                )));
            }
            Ok(())
        };
        needs_due("reminder", matches!(reminder, Some(Some(_))))?;
        needs_due("recurrence", matches!(recurrence, Some(Some(_))))?;
        // Removing the due date takes the reminder and recurrence with it.
        let drops_due = matches!(due_at, Some(None)) && before.due_at.is_some();
        let reminder =
            if drops_due && before.reminder_offset_minutes.is_some() { Some(None) } else { reminder };
        let recurrence = if drops_due && before.recurrence.is_some() { Some(None) } else { recurrence };

        Ok(TaskPatchInput {
            title,
            description,
            priority: args.priority.clone(),
            tags,
            due_at: due_at.map(|due| due.map(|ts| ts.to_string())),
            reminder_offset_minutes: reminder.map(|r| r.map(|r| i64::from(r.minutes()))),
            recurrence,
        })
    }
}

/// A [`TaskError`] as a tool reports it; `task` names the task the call was about.
fn tool_error(err: TaskError, task: Option<&TaskIdArg>) -> ToolError {
    match err {
        TaskError::NotFound => match task {
            Some(task) => ToolError::not_found(task),
            None => {
                ToolError::TaskNotFound { task: String::new(), message: "Could not find that task".into() }
            }
        },
        TaskError::Invalid(err) => ToolError::invalid(err.to_string()),
        TaskError::InvalidField { message, .. } | TaskError::Conflict { message, .. } => {
            ToolError::invalid(message)
        }
        TaskError::Storage(err) => {
            tracing::error!(error = %err, "a task tool failed in storage");
            ToolError::Unavailable
        }
    }
}

fn task_key(task: &TaskIdArg) -> ToolResult<TaskKey> {
    let key = match task {
        TaskIdArg::Number(n) => (*n > 0).then_some(TaskKey::Number(*n)),
        TaskIdArg::Text(text) => TaskKey::parse(text),
    };
    key.ok_or_else(|| ToolError::TaskNotFound {
        task: task.to_string(),
        message: format!(
            "Could not find task with ID {task}: task_id must be a task number such as 3 or \"#3\", or a \
             task id; use list_tasks (with search) to find the task"
        ),
    })
}

/// A reminder argument: `Some(offset)`, or `None` for words meaning "no reminder".
fn reminder_offset(reminder: &ReminderArg) -> ToolResult<Option<ReminderOffset>> {
    match reminder {
        ReminderArg::Minutes(minutes) => ReminderOffset::new(*minutes)
            .map(Some)
            .map_err(|err| ToolError::invalid(format!("reminder: {err}"))),
        ReminderArg::Words(words) => reminder_from_words(words).map_err(ToolError::InvalidArguments),
    }
}

/// A recurrence argument: `Some(rule)`, or `None` for words meaning "does not repeat".
fn recurrence_rule(arg: &RecurrenceArg, zone: &UserZone, now: Timestamp) -> ToolResult<Option<Recurrence>> {
    let (mut rule, until) = match arg {
        RecurrenceArg::Words(words) => {
            match recurrence_from_words(words).map_err(ToolError::InvalidArguments)? {
                Some(parsed) => (parsed.rule, parsed.until),
                None => return Ok(None),
            }
        }
        RecurrenceArg::Rule(rule) => {
            let weekdays = rule
                .weekdays
                .as_ref()
                .map(|days| days.iter().map(|d| Weekday::parse(d)).collect::<Result<Vec<_>, _>>())
                .transpose()
                .map_err(|err| ToolError::invalid(format!("recurrence.weekdays: {err}")))?;
            let frequency = match rule.frequency {
                FrequencyArg::Daily => todokit_domain::Frequency::Daily,
                FrequencyArg::Weekly => todokit_domain::Frequency::Weekly,
                FrequencyArg::Monthly => todokit_domain::Frequency::Monthly,
                FrequencyArg::Yearly => todokit_domain::Frequency::Yearly,
            };
            let rule_value = Recurrence {
                frequency,
                interval: rule.interval.unwrap_or(1),
                weekdays,
                count: rule.count,
                until: None,
            };
            (rule_value, rule.until.clone())
        }
    };
    if let Some(raw) = until {
        rule.until = Some(resolve_until(&raw, zone, now)?);
    }
    rule.validate().map(Some).map_err(|err| ToolError::invalid(format!("recurrence: {err}")))
}

/// The end of a series: a date means the end of that day in the user's zone.
fn resolve_until(raw: &str, zone: &UserZone, now: Timestamp) -> ToolResult<Timestamp> {
    if let Ok(date) = raw.trim().parse::<jiff::civil::Date>() {
        return date
            .at(23, 59, 59, 0)
            .to_zoned(zone.tz().clone())
            .map(|z| z.timestamp())
            .map_err(|err| ToolError::invalid(format!("recurrence.until: {err}")));
    }
    resolve_due(raw, "recurrence.until", zone, now)
}

/// Reads a due time: RFC 3339 or a civil date/time in the user's zone, or a
/// natural-language phrase ("tomorrow at 5pm") resolved in that zone.
fn resolve_due(raw: &str, field: &str, zone: &UserZone, now: Timestamp) -> ToolResult<Timestamp> {
    let raw = raw.trim();
    match parse_due(raw, zone, now) {
        Ok(ts) => return Ok(ts),
        Err(TaskError::Invalid(err)) => return Err(ToolError::invalid(format!("{field}: {err}"))),
        Err(_) => {}
    }
    let local_now = now.to_zoned(zone.tz().clone());
    let unparseable = || {
        ToolError::invalid(format!(
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
        .map_err(|err| ToolError::invalid(format!("{field}: {err}")))
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

fn describe_rule(rule: &Recurrence, zone: &UserZone) -> String {
    let until = rule.until.map(|until| until.to_zoned(zone.tz().clone()).strftime("%a %Y-%m-%d").to_string());
    describe_recurrence(rule, until)
}

/// A filter in words: "high-priority pending tasks tagged work due this week matching “milk”".
fn describe_filter(filter: &TaskFilterArgs) -> String {
    let mut text = String::new();
    if let Some(priority) = filter.priority.as_deref().and_then(|p| todokit_domain::Priority::parse(p).ok()) {
        text.push_str(&format!("{priority}-priority "));
    }
    text.push_str(match filter.status {
        StatusFilter::All => "",
        StatusFilter::Pending => "pending ",
        StatusFilter::Completed => "completed ",
        StatusFilter::Overdue => "overdue ",
    });
    text.push_str("tasks");
    if let Some(tags) = filter.tags.as_ref().filter(|tags| !tags.is_empty()) {
        text.push_str(&format!(" tagged {}", tags.join(" and ")));
    }
    if let Some(due) = filter.due {
        text.push_str(match due {
            DueWindow::Overdue => " that are overdue",
            DueWindow::Today => " due today",
            DueWindow::Week => " due this week",
            DueWindow::Month => " due this month",
        });
    }
    if let Some(after) = &filter.due_after {
        text.push_str(&format!(" due from {after}"));
    }
    if let Some(before) = &filter.due_before {
        text.push_str(&format!(" due before {before}"));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        text.push_str(&format!(" matching “{search}”"));
    }
    text
}

/// The filter's words for `count` tasks ("1 high-priority task", "3 high-priority tasks").
fn filter_noun(filter: &str, count: u64) -> String {
    if count == 1 { filter.replacen("tasks", "task", 1) } else { filter.to_owned() }
}

/// "#1 Buy milk, #4 Call Bob, and 3 more": the first tasks of `total`.
fn name_tasks(tasks: &[TaskRef], total: u64) -> String {
    let mut names: Vec<String> =
        tasks.iter().take(NAMED_IN_MESSAGE).map(|t| format!("#{} {}", t.number, t.title)).collect();
    let named = names.len() as u64;
    if total > named {
        names.push(format!("and {} more", total - named));
    }
    names.join(", ")
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
    if before.reminder_offset_minutes != after.reminder_offset_minutes {
        changes.push(match after.reminder_offset_minutes {
            Some(minutes) => format!("reminder set to {}", describe_reminder(minutes)),
            None => "reminder removed".to_owned(),
        });
    }
    if before.recurrence != after.recurrence {
        changes.push(match &after.recurrence {
            Some(rule) => format!("now repeats {}", describe_rule(rule, zone)),
            None => "no longer repeats".to_owned(),
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
        let message = resolve("1900-01-01T00:00:00Z").err().unwrap().to_string();
        assert!(message.contains("10 years"), "{message}");
    }

    #[test]
    fn until_dates_include_the_whole_day() {
        let zone = UserZone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            resolve_until("2027-06-30", &zone, utc_now()).unwrap().to_string(),
            "2027-06-30T21:59:59Z"
        );
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

    #[test]
    fn long_lists_are_cut_with_the_true_remainder() {
        let tasks: Vec<TaskRef> = (1..=30)
            .map(|n| TaskRef { id: uuid::Uuid::now_v7(), number: n, title: format!("t{n}") })
            .collect();
        let named = name_tasks(&tasks, 250);
        assert!(named.starts_with("#1 t1, #2 t2"), "{named}");
        assert!(named.ends_with("#20 t20, and 230 more"), "{named}");
        assert_eq!(name_tasks(&tasks[..2], 2), "#1 t1, #2 t2");
    }

    #[test]
    fn filters_in_words() {
        let filter = TaskFilterArgs {
            status: StatusFilter::Pending,
            priority: Some("urgent".into()),
            tags: Some(vec!["work".into()]),
            due: Some(DueWindow::Week),
            search: Some("report".into()),
            ..Default::default()
        };
        assert_eq!(
            describe_filter(&filter),
            "high-priority pending tasks tagged work due this week matching “report”"
        );
        assert_eq!(filter_noun("low-priority tasks", 1), "low-priority task");
        assert_eq!(describe_filter(&TaskFilterArgs::default()), "tasks");
    }
}
