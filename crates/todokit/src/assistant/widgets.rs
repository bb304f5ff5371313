//! Task widgets shown in the chat after a turn that created or edited tasks, and the
//! server-handled actions their buttons send. Shared by the offline assistant and the LLM agent.
//!
//! # When a card is shown
//!
//! A card is shown only where it adds something to the reply's sentence: for the tasks a turn
//! **created, edited or reopened** and left pending, one card with a row per task, as it now
//! is, with its Done and Delete buttons (the next thing one does with such a task). A task the
//! turn completed or deleted gets no card: the one-line confirmation says all there is and the
//! list shows the rest. Lists get no card either (the reply lists them). Both assistants follow
//! this rule: the LLM agent through [`card_tasks`] on its tool results, the offline assistant
//! through [`card_rows`] on the tasks it changed.
//!
//! # What a card shows
//!
//! A widget is a ChatKit `Card` with one row per task. Each row is a component with the id
//! `task_<task id>` holding the title, due date, tags, badges and two `Button`s whose
//! `onClickAction` is `{type: "task.complete" | "task.reopen" | "task.delete", payload:
//! {task_id}, handler: "server"}`. Badges follow the task list's rule: the default (medium)
//! priority has none, only high priority and overdue draw colour, and every badge says its
//! meaning in words. The destructive button is secondary (outlined), never solid.
//! [`apply_task_action`] runs the matching tool and returns the widget item with that row
//! rebuilt, ready for `thread.item.replaced` (or `sync_action`'s `updated_item`).

use chatkit::{Action, ItemKind, ThreadItem, new_message_id};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use todokit_domain::Recurrence;
use todokit_domain::nl::DEFAULT_DUE_TIME;

use crate::tools::{ToolContext, ToolExecutor, ToolOutput};

/// Action type of the "Done" button.
pub const ACTION_COMPLETE: &str = "task.complete";
/// Action type of the "Reopen" button.
pub const ACTION_REOPEN: &str = "task.reopen";
/// Action type of the "Delete" button.
pub const ACTION_DELETE: &str = "task.delete";

/// A task as read from a tool result (`task`, or an element of `tasks`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskView {
    pub id: String,
    /// The per-user number shown as `#3`.
    pub number: Option<i64>,
    pub title: String,
    pub description: Option<String>,
    pub due_at: Option<Timestamp>,
    pub priority: String,
    pub completed: bool,
    pub tags: Vec<String>,
    /// The reminder, in minutes before the due time (kept so that undo can put it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_minutes_before: Option<u32>,
    /// How the task repeats (kept so that undo can put it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Box<Recurrence>>,
}

impl TaskView {
    /// Reads a task object. Accepts `due_at` or `due_date` (RFC 3339) for the due time.
    pub fn from_json(value: &Value) -> Option<Self> {
        let id = match value.get("id")? {
            Value::String(id) => id.clone(),
            Value::Number(id) => id.to_string(),
            _ => return None,
        };
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let due_at = ["due_at", "due_date"]
            .iter()
            .filter_map(|key| value.get(*key).and_then(Value::as_str))
            .find_map(|raw| raw.parse::<Timestamp>().ok());
        Some(Self {
            id,
            number: value.get("number").and_then(Value::as_i64),
            title: text("title")?,
            description: text("description").filter(|d| !d.is_empty()),
            due_at,
            priority: text("priority").unwrap_or_else(|| "medium".to_owned()),
            completed: value.get("completed").and_then(Value::as_bool).unwrap_or(false),
            tags: value
                .get("tags")
                .and_then(Value::as_array)
                .map(|tags| tags.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            reminder_minutes_before: value
                .get("reminder_minutes_before")
                .and_then(Value::as_u64)
                .and_then(|minutes| u32::try_from(minutes).ok()),
            recurrence: value.get("recurrence").and_then(|rule| serde_json::from_value(rule.clone()).ok()),
        })
    }

    /// `#3 Buy milk`, or the bare title when the task has no number.
    pub fn label(&self) -> String {
        match self.number {
            Some(number) => format!("#{number} {}", self.title),
            None => self.title.clone(),
        }
    }
}

/// The task `{"task": …}` of a tool result.
pub fn task_of(output: &ToolOutput) -> Option<TaskView> {
    output.value.get("task").and_then(TaskView::from_json)
}

/// The tasks `{"tasks": […]}` of a tool result, in the order returned.
pub fn tasks_of(output: &ToolOutput) -> Vec<TaskView> {
    output
        .value
        .get("tasks")
        .and_then(Value::as_array)
        .map(|tasks| tasks.iter().filter_map(TaskView::from_json).collect())
        .unwrap_or_default()
}

/// Whether a failed tool call failed because the task does not exist.
pub fn is_not_found(output: &ToolOutput) -> bool {
    output.is_error
        && output
            .value
            .get("error")
            .and_then(Value::as_str)
            .is_some_and(|e| e.to_lowercase().contains("not found"))
}

/// A due time in the user's zone: `Sat Nov 22, 5:00 PM`, or `Sat Nov 22` for a date without
/// a time of day (stored at 23:59:59 local). The year is shown when it is not `today`'s.
pub fn format_due(due: Timestamp, zone: &TimeZone, today: Date) -> String {
    let local = due.to_zoned(zone.clone());
    let mut text = local.strftime("%a %b %-d").to_string();
    if local.year() != today.year() {
        text.push_str(&format!(", {}", local.year()));
    }
    if local.time() != DEFAULT_DUE_TIME {
        text.push_str(&local.strftime(", %-I:%M %p").to_string());
    }
    text
}

/// What a widget row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskRow {
    /// The task as it is now, with its buttons.
    Current(TaskView),
    /// The task was deleted: struck-through title, no buttons.
    Deleted(TaskView),
}

impl TaskRow {
    fn task(&self) -> &TaskView {
        match self {
            TaskRow::Current(task) | TaskRow::Deleted(task) => task,
        }
    }
}

/// Where dates are shown: the user's zone, today's date there and the instant "overdue" is
/// measured against.
#[derive(Debug, Clone)]
pub struct DateContext {
    pub zone: TimeZone,
    pub today: Date,
    pub now: Timestamp,
}

impl DateContext {
    pub fn at(now: Timestamp, zone: &TimeZone) -> Self {
        Self { zone: zone.clone(), today: now.to_zoned(zone.clone()).date(), now }
    }

    /// Pending and due before now.
    pub fn is_overdue(&self, task: &TaskView) -> bool {
        !task.completed && task.due_at.is_some_and(|due| due < self.now)
    }

    pub fn format_due(&self, due: Timestamp) -> String {
        format_due(due, &self.zone, self.today)
    }
}

fn row_id(task_id: &str) -> String {
    format!("task_{task_id}")
}

fn button(label: &str, icon: &str, action: &str, task_id: &str, extra: Value) -> Value {
    let mut button = json!({
        "type": "Button",
        "label": label,
        "iconStart": icon,
        "size": "sm",
        "onClickAction": {"type": action, "payload": {"task_id": task_id}, "handler": "server"},
    });
    if let (Some(button), Value::Object(extra)) = (button.as_object_mut(), extra) {
        button.extend(extra);
    }
    button
}

/// No badge for the default priority; high draws colour, low stays neutral.
fn priority_badge(priority: &str) -> Option<Value> {
    match priority {
        "high" => {
            Some(json!({"type": "Badge", "label": "High priority", "color": "danger", "variant": "soft"}))
        }
        "low" => Some(
            json!({"type": "Badge", "label": "Low priority", "color": "secondary", "variant": "outline"}),
        ),
        _ => None,
    }
}

/// One row: a component with the id `task_<task id>`.
pub fn task_row(row: &TaskRow, dates: &DateContext) -> Value {
    let task = row.task();
    let deleted = matches!(row, TaskRow::Deleted(_));
    let mut details = Vec::new();
    if let Some(due) = task.due_at {
        details.push(format!("Due {}", dates.format_due(due)));
    }
    if !task.tags.is_empty() {
        details.push(task.tags.iter().map(|tag| format!("#{tag}")).collect::<Vec<_>>().join(" "));
    }
    let mut text = vec![json!({
        "type": "Text",
        "value": task.label(),
        "weight": "semibold",
        "lineThrough": deleted || task.completed,
        "color": if deleted || task.completed { "secondary" } else { "primary" },
    })];
    if !details.is_empty() {
        text.push(json!({"type": "Text", "value": details.join(" · "), "size": "sm", "color": "secondary"}));
    }
    let mut children = vec![json!({"type": "Col", "gap": 1, "flex": 1, "children": text})];
    if deleted {
        children
            .push(json!({"type": "Badge", "label": "Deleted", "color": "secondary", "variant": "outline"}));
    } else {
        if task.completed {
            children.push(json!({"type": "Badge", "label": "Done", "color": "success", "variant": "soft"}));
            children.push(button(
                "Reopen",
                "reload",
                ACTION_REOPEN,
                &task.id,
                json!({"style": "secondary", "variant": "outline"}),
            ));
        } else {
            if dates.is_overdue(task) {
                children
                    .push(json!({"type": "Badge", "label": "Overdue", "color": "danger", "variant": "soft"}));
            }
            children.extend(priority_badge(&task.priority));
            children.push(button(
                "Done",
                "check",
                ACTION_COMPLETE,
                &task.id,
                json!({"style": "secondary", "variant": "outline"}),
            ));
        }
        children.push(button(
            "Delete",
            "empty-circle",
            ACTION_DELETE,
            &task.id,
            json!({"style": "secondary", "variant": "outline", "color": "danger"}),
        ));
    }
    json!({
        "type": "Row",
        "id": row_id(&task.id),
        "key": row_id(&task.id),
        "gap": 3,
        "align": "center",
        "children": children,
    })
}

/// A card listing `rows`, separated by dividers.
pub fn task_card(rows: &[TaskRow], dates: &DateContext) -> Value {
    let mut children = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            children.push(json!({"type": "Divider"}));
        }
        children.push(task_row(row, dates));
    }
    json!({"type": "Card", "size": "md", "children": children})
}

/// Plain text for the widget's copy button.
pub fn copy_text(rows: &[TaskRow], dates: &DateContext) -> String {
    rows.iter()
        .map(|row| {
            let task = row.task();
            let mark = match row {
                TaskRow::Deleted(_) => "deleted",
                TaskRow::Current(task) if task.completed => "done",
                TaskRow::Current(_) => "pending",
            };
            let due = task.due_at.map(|due| format!(", due {}", dates.format_due(due))).unwrap_or_default();
            format!("{} ({mark}{due})", task.label())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A new widget item for `rows`.
pub fn task_widget_item(thread_id: &str, rows: &[TaskRow], dates: &DateContext) -> ThreadItem {
    ThreadItem::new(
        new_message_id(),
        thread_id,
        ItemKind::Widget { widget: task_card(rows, dates), copy_text: Some(copy_text(rows, dates)) },
    )
}

/// Replaces the row of `row`'s task inside `widget`. Returns whether it was found.
pub fn replace_task_row(widget: &mut Value, row: &TaskRow, dates: &DateContext) -> bool {
    let id = row_id(&row.task().id);
    let Some(slot) = find_component(widget, &id) else { return false };
    *slot = task_row(row, dates);
    true
}

fn find_component<'a>(node: &'a mut Value, id: &str) -> Option<&'a mut Value> {
    if node.get("id").and_then(Value::as_str) == Some(id) {
        return Some(node);
    }
    node.get_mut("children")?.as_array_mut()?.iter_mut().find_map(|child| find_component(child, id))
}

/// Tools whose result can earn its task a card (see the module docs).
pub const CARD_TOOLS: &[&str] = &["create_task", "update_task", "complete_task"];

/// The rows of a turn's card from the tasks it changed, in change order: each task once, in
/// its latest state, and only if that state is pending. Empty means no card.
pub fn card_rows(changed: impl IntoIterator<Item = TaskView>) -> Vec<TaskRow> {
    let mut latest: Vec<TaskView> = Vec::new();
    for task in changed {
        match latest.iter_mut().find(|seen| seen.id == task.id) {
            Some(seen) => *seen = task,
            None => latest.push(task),
        }
    }
    latest.into_iter().filter(|task| !task.completed).map(TaskRow::Current).collect()
}

/// [`card_rows`] from a turn's tool results, given as `(tool name, result)`: the tasks of the
/// successful [`CARD_TOOLS`] calls.
pub fn card_tasks<'a>(results: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Vec<TaskRow> {
    card_rows(
        results
            .into_iter()
            .filter(|(name, result)| {
                CARD_TOOLS.contains(name) && result.get("success").and_then(Value::as_bool) != Some(false)
            })
            .filter_map(|(_, result)| result.get("task").and_then(TaskView::from_json)),
    )
}

/// A widget button press, parsed from a custom action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskAction {
    Complete(String),
    Reopen(String),
    Delete(String),
}

impl TaskAction {
    /// `None` for actions that are not task actions or have no `payload.task_id`.
    pub fn parse(action: &Action) -> Option<Self> {
        let task_id = match action.payload.get("task_id")? {
            Value::String(id) if !id.trim().is_empty() => id.trim().to_owned(),
            Value::Number(id) => id.to_string(),
            _ => return None,
        };
        match action.kind.as_str() {
            ACTION_COMPLETE => Some(Self::Complete(task_id)),
            ACTION_REOPEN => Some(Self::Reopen(task_id)),
            ACTION_DELETE => Some(Self::Delete(task_id)),
            _ => None,
        }
    }

    /// The tool and arguments that perform it.
    pub fn tool_call(&self) -> (&'static str, Value) {
        match self {
            Self::Complete(id) => ("complete_task", json!({"task_id": id, "completed": true})),
            Self::Reopen(id) => ("complete_task", json!({"task_id": id, "completed": false})),
            Self::Delete(id) => ("delete_task", json!({"task_id": id})),
        }
    }

    fn task_id(&self) -> &str {
        match self {
            Self::Complete(id) | Self::Reopen(id) | Self::Delete(id) => id,
        }
    }
}

/// What a task action produced.
#[derive(Debug, Clone)]
pub struct ActionOutcome {
    /// The widget item to show: the sender with the task's row rebuilt (send it as
    /// `thread.item.replaced`), or a new widget when there was no sender (`is_new`; send it
    /// as `thread.item.done`).
    pub item: ThreadItem,
    pub is_new: bool,
    /// The tool's human-readable message.
    pub message: String,
}

/// Why a task action could not be applied. The message is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ActionError(pub String);

/// Runs a widget button's action through the tools and rebuilds the widget. A task that no
/// longer exists is shown as deleted rather than failing.
pub async fn apply_task_action(
    tools: &dyn ToolExecutor,
    ctx: &ToolContext,
    thread_id: &str,
    action: &Action,
    sender: Option<ThreadItem>,
    dates: &DateContext,
) -> Result<ActionOutcome, ActionError> {
    let task_action =
        TaskAction::parse(action).ok_or_else(|| ActionError(format!("Unknown action `{}`.", action.kind)))?;
    let (tool, arguments) = task_action.tool_call();
    let output = tools.call(ctx, tool, arguments).await;
    let message = output.value.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
    let row = if is_not_found(&output) {
        // Gone already (deleted elsewhere): show it as deleted, keeping the title the widget had.
        let known = sender.as_ref().and_then(|item| row_title(item, task_action.task_id()));
        TaskRow::Deleted(TaskView {
            id: task_action.task_id().to_owned(),
            number: None,
            title: known.unwrap_or_else(|| "This task".to_owned()),
            description: None,
            due_at: None,
            priority: "medium".to_owned(),
            completed: false,
            tags: Vec::new(),
            reminder_minutes_before: None,
            recurrence: None,
        })
    } else if output.is_error {
        let reason = if message.is_empty() { "The task could not be changed.".to_owned() } else { message };
        return Err(ActionError(reason));
    } else {
        let task =
            task_of(&output).ok_or_else(|| ActionError("The task tool returned no task.".to_owned()))?;
        match task_action {
            TaskAction::Delete(_) => TaskRow::Deleted(task),
            _ => TaskRow::Current(task),
        }
    };
    if let Some(mut item) = sender
        && let ItemKind::Widget { widget, copy_text: copy } = &mut item.kind
        && replace_task_row(widget, &row, dates)
    {
        *copy = copy.take().map(|_| copy_text_of_widget(widget));
        return Ok(ActionOutcome { item, is_new: false, message });
    }
    Ok(ActionOutcome { item: task_widget_item(thread_id, &[row], dates), is_new: true, message })
}

/// The label text of a task's row in a widget (`#3 Buy milk`), if present.
fn row_title(item: &ThreadItem, task_id: &str) -> Option<String> {
    let ItemKind::Widget { widget, .. } = &item.kind else { return None };
    let mut widget = widget.clone();
    let row = find_component(&mut widget, &row_id(task_id))?;
    first_text(row)
}

fn first_text(node: &Value) -> Option<String> {
    if node.get("type").and_then(Value::as_str) == Some("Text") {
        return node.get("value").and_then(Value::as_str).map(str::to_owned);
    }
    node.get("children")?.as_array()?.iter().find_map(first_text)
}

/// Rebuilds copy text from the rows' first text lines after a row changed.
fn copy_text_of_widget(widget: &Value) -> String {
    let mut lines = Vec::new();
    collect_rows(widget, &mut lines);
    lines.join("\n")
}

fn collect_rows(node: &Value, lines: &mut Vec<String>) {
    let is_row = node.get("id").and_then(Value::as_str).is_some_and(|id| id.starts_with("task_"));
    if is_row {
        let mut texts = Vec::new();
        collect_texts(node, &mut texts);
        lines.push(texts.join(" — "));
        return;
    }
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        for child in children {
            collect_rows(child, lines);
        }
    }
}

fn collect_texts(node: &Value, texts: &mut Vec<String>) {
    let kind = node.get("type").and_then(Value::as_str);
    if matches!(kind, Some("Text" | "Badge")) {
        let value = node.get("value").or_else(|| node.get("label")).and_then(Value::as_str);
        if let Some(value) = value {
            texts.push(value.to_owned());
        }
    }
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        for child in children {
            collect_texts(child, texts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates() -> DateContext {
        let now: Timestamp = "2026-11-21T15:00:00Z".parse().unwrap();
        DateContext::at(now, &TimeZone::get("America/New_York").unwrap())
    }

    fn task(id: &str, completed: bool) -> TaskView {
        TaskView::from_json(&json!({
            "id": id, "number": 3, "title": "Buy milk", "priority": "high", "completed": completed,
            "tags": ["shopping"], "due_at": "2026-11-22T22:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn due_dates_are_shown_in_the_user_zone() {
        let dates = dates();
        assert_eq!(dates.format_due("2026-11-22T22:00:00Z".parse().unwrap()), "Sun Nov 22, 5:00 PM");
        // 23:59:59 local means "a date without a time".
        assert_eq!(dates.format_due("2026-11-28T04:59:59Z".parse().unwrap()), "Fri Nov 27");
        assert_eq!(dates.format_due("2027-01-05T14:30:00Z".parse().unwrap()), "Tue Jan 5, 2027, 9:30 AM");
    }

    #[test]
    fn rows_carry_server_actions_and_are_replaced_in_place() {
        let dates = dates();
        let mut card =
            task_card(&[TaskRow::Current(task("a", false)), TaskRow::Current(task("b", false))], &dates);
        let text = card.to_string();
        assert!(text.contains(
            r#""onClickAction":{"handler":"server","payload":{"task_id":"a"},"type":"task.complete"}"#
        ));
        assert!(text.contains("Sun Nov 22, 5:00 PM"));
        assert!(replace_task_row(&mut card, &TaskRow::Current(task("b", true)), &dates));
        let text = card.to_string();
        assert!(text.contains(r#""payload":{"task_id":"b"},"type":"task.reopen""#));
        assert!(text.contains(r#""payload":{"task_id":"a"},"type":"task.complete""#));
        assert!(!replace_task_row(&mut card, &TaskRow::Current(task("zzz", true)), &dates));
    }

    fn badges(row: &Value) -> Vec<String> {
        row["children"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == "Badge")
            .map(|c| c["label"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn badges_follow_the_list_rule_and_say_their_meaning_in_words() {
        let dates = dates();
        let with = |priority: &str, due: &str, completed: bool| {
            TaskView::from_json(&json!({
                "id": "a", "number": 1, "title": "Pay rent", "priority": priority,
                "completed": completed, "tags": [], "due_at": due,
            }))
            .unwrap()
        };
        let later = "2026-11-22T22:00:00Z";
        let earlier = "2026-11-21T14:00:00Z";
        // The default priority draws nothing.
        assert!(badges(&task_row(&TaskRow::Current(with("medium", later, false)), &dates)).is_empty());
        assert_eq!(
            badges(&task_row(&TaskRow::Current(with("high", later, false)), &dates)),
            ["High priority"]
        );
        assert_eq!(badges(&task_row(&TaskRow::Current(with("low", later, false)), &dates)), ["Low priority"]);
        assert_eq!(badges(&task_row(&TaskRow::Current(with("medium", earlier, false)), &dates)), ["Overdue"]);
        assert_eq!(badges(&task_row(&TaskRow::Current(with("high", earlier, true)), &dates)), ["Done"]);
        // Colour only for high priority and overdue.
        let text = task_row(&TaskRow::Current(with("low", earlier, false)), &dates).to_string();
        assert!(!text.contains(r#""color":"warning""#), "{text}");
    }

    #[test]
    fn the_destructive_button_is_secondary_and_outlined() {
        let row = task_row(&TaskRow::Current(task("a", false)), &dates());
        let buttons: Vec<&Value> =
            row["children"].as_array().unwrap().iter().filter(|c| c["type"] == "Button").collect();
        let delete = buttons.iter().find(|b| b["label"] == "Delete").unwrap();
        assert_eq!(delete["style"], "secondary");
        assert_eq!(delete["variant"], "outline");
        assert_eq!(delete["color"], "danger");
        assert!(buttons.iter().all(|b| b["variant"] != "solid" && b["style"] != "primary"));
    }

    #[test]
    fn cards_show_the_tasks_left_pending_by_creates_edits_and_reopens() {
        let created =
            json!({"success": true, "task": {"id": "a", "number": 1, "title": "A", "completed": false}});
        let edited =
            json!({"success": true, "task": {"id": "a", "number": 1, "title": "A2", "completed": false}});
        let completed =
            json!({"success": true, "task": {"id": "b", "number": 2, "title": "B", "completed": true}});
        let reopened =
            json!({"success": true, "task": {"id": "c", "number": 3, "title": "C", "completed": false}});
        let listed = json!({"success": true, "tasks": [{"id": "d", "title": "D"}]});
        let failed = json!({"success": false, "error": "not_found", "message": "Task not found"});
        let rows = card_tasks([
            ("create_task", &created),
            ("complete_task", &completed),
            ("update_task", &edited),
            ("list_tasks", &listed),
            ("delete_task", &failed),
            ("complete_task", &reopened),
        ]);
        let titles: Vec<String> = rows.iter().map(|row| row.task().title.clone()).collect();
        assert_eq!(titles, ["A2", "C"]);
        assert!(card_tasks([("complete_task", &completed), ("list_tasks", &listed)]).is_empty());
    }

    #[test]
    fn actions_parse_only_known_types_with_a_task_id() {
        let action = |kind: &str, payload: Value| Action { kind: kind.to_owned(), payload };
        assert_eq!(
            TaskAction::parse(&action("task.delete", json!({"task_id": "x"}))),
            Some(TaskAction::Delete("x".into()))
        );
        assert_eq!(TaskAction::parse(&action("task.delete", json!({}))), None);
        assert_eq!(TaskAction::parse(&action("task.explode", json!({"task_id": "x"}))), None);
    }
}
