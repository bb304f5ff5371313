//! Performs a parsed [`Command`] through the task tools and writes the reply.

use chatkit::StreamClosed;
use jiff::Zoned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use todokit_domain::Priority;
use todokit_domain::nl::{
    Command, DueWindow, ListFilter, NewDue, OffTopicKind, QuickAdd, SortKey, StatusFilter, TaskRef,
};

use super::turn::Turn;
use crate::assistant::widgets::{DateContext, TaskView, is_not_found, task_of, tasks_of};
use crate::tools::{ToolContext, ToolExecutor, ToolOutput};

/// How many tasks one listing asks for (the tools' maximum page).
const LIST_LIMIT: u64 = 100;
/// How many tasks a list reply shows before offering to filter.
const SHOWN_IN_LIST: usize = 25;

/// Which tasks a bulk delete removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum BulkDelete {
    /// Every task (`delete_all_tasks`).
    DeleteAll,
    /// Completed tasks only ("clear completed"), deleted one by one with `delete_task`.
    DeleteCompleted,
}

/// A destructive bulk action waiting for the user's "yes" on the next turn. Stored as the
/// content of a hidden context item, so it is tagged to be recognisable in history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "todokit.offline.pending_confirmation")]
pub(super) struct PendingConfirmation {
    pub action: BulkDelete,
    /// How many tasks it would delete, as told to the user.
    pub task_count: u64,
}

/// What a turn did.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub paragraphs: Vec<String>,
    /// Tasks created or changed (shown in a widget).
    pub changed: Vec<TaskView>,
    pub pending: Option<PendingConfirmation>,
}

type Step = Result<(), StreamClosed>;

pub(super) struct Interpreter<'a> {
    pub tools: &'a dyn ToolExecutor,
    pub ctx: &'a ToolContext,
    pub now: Zoned,
    pub dates: DateContext,
    pub turn: &'a mut Turn,
    pub outcome: Outcome,
}

/// What an action on one task is, for tool titles and clarifying questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Complete,
    Reopen,
    Delete,
    Rename,
    Describe,
    Prioritise,
    Reschedule,
}

impl Purpose {
    /// An example command naming task `n`, used when asking "which one?".
    fn example(self, n: i64) -> String {
        match self {
            Self::Complete => format!("complete task {n}"),
            Self::Reopen => format!("reopen task {n}"),
            Self::Delete => format!("delete task {n}"),
            Self::Rename => format!("rename task {n} to …"),
            Self::Describe => format!("add a note to task {n}: …"),
            Self::Prioritise => format!("make task {n} high priority"),
            Self::Reschedule => format!("move task {n} to friday"),
        }
    }

    /// Which state to prefer when a title matches a pending and a completed task.
    fn prefers_completed(self) -> bool {
        self == Self::Reopen
    }
}

/// A resolved reference: a task we have seen, or a number to hand to the tool as is.
#[derive(Debug, Clone)]
enum Target {
    Known(TaskView),
    Number(u32),
}

impl Target {
    fn task_id(&self) -> String {
        match self {
            Target::Known(task) => task.id.clone(),
            Target::Number(number) => number.to_string(),
        }
    }

    /// How a tool-progress title names it.
    fn short(&self) -> String {
        match self {
            Target::Known(task) => format!("“{}”", task.title),
            Target::Number(number) => format!("task #{number}"),
        }
    }
}

/// Flattens nested sequences into the commands to run, in order.
pub(super) fn flatten(command: Command, into: &mut Vec<Command>) {
    match command {
        Command::Sequence(commands) => commands.into_iter().for_each(|c| flatten(c, into)),
        other => into.push(other),
    }
}

fn rfc3339(at: &Zoned) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn message_of(output: &ToolOutput) -> String {
    ["message", "error"]
        .iter()
        .find_map(|key| output.value.get(*key).and_then(Value::as_str))
        .unwrap_or("the task tool failed")
        .to_owned()
}

fn count_field(output: &ToolOutput, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|key| output.value.get(*key).and_then(Value::as_u64))
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `groceries` → `grocer`, `meetings` → `meeting`: a stem that is a substring of both forms.
fn stem(word: &str) -> &str {
    let cut = ["ies", "es", "s"]
        .iter()
        .find(|suffix| word.ends_with(*suffix) && !word.ends_with("ss") && word.len() > suffix.len() + 2)
        .map_or(word, |suffix| &word[..word.len() - suffix.len()]);
    if cut.len() >= 3 { cut } else { word }
}

const FILLER_WORDS: &[&str] = &["the", "my", "a", "an", "task", "tasks", "one", "ones", "to", "do", "todo"];

/// Whether every meaningful word of `phrase` (stemmed) occurs in `title`.
fn loosely_matches(phrase: &str, title: &str) -> bool {
    let title = title.to_lowercase();
    let phrase = phrase.to_lowercase();
    let words: Vec<&str> = phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !FILLER_WORDS.contains(word))
        .collect();
    !words.is_empty() && words.iter().all(|word| title.contains(stem(word)))
}

/// "morning meetings" asks for every match; "the dentist task" for one.
fn is_plural_phrase(phrase: &str) -> bool {
    phrase.split_whitespace().last().is_some_and(|word| {
        let word = word.to_lowercase();
        word.ends_with('s') && !word.ends_with("ss") && word.len() > 3
    })
}

fn priority_word(priority: &str) -> &str {
    match priority {
        "high" => "🔴 high",
        "low" => "⚪ low",
        _ => "🟡 medium",
    }
}

impl Interpreter<'_> {
    fn say(&mut self, text: impl Into<String>) {
        self.outcome.paragraphs.push(text.into());
    }

    async fn call(
        &mut self,
        name: &str,
        arguments: Value,
        title: &str,
        icon: &str,
    ) -> Result<ToolOutput, StreamClosed> {
        self.turn.call_tool(self.tools, self.ctx, name, arguments, title, icon).await
    }

    /// Runs the commands of one message. `pending` is the confirmation the previous turn
    /// asked for; it applies only when this message is just "yes" or "no".
    pub(super) async fn run(&mut self, commands: Vec<Command>, pending: Option<PendingConfirmation>) -> Step {
        match (commands.as_slice(), pending) {
            ([Command::Confirm], Some(pending)) => return self.confirm_bulk_delete(pending.action).await,
            ([Command::Deny], Some(pending)) => {
                self.say(format!(
                    "Okay, I won't delete anything — your {} safe.",
                    if pending.task_count == 1 { "task is".to_owned() } else { "tasks are".to_owned() }
                ));
                return Ok(());
            }
            _ => {}
        }
        for command in commands {
            self.execute(command).await?;
        }
        Ok(())
    }

    async fn execute(&mut self, command: Command) -> Step {
        match command {
            Command::Add(quick) => self.add(quick).await,
            Command::AddMissingTitle => {
                self.say("Sure — what's the task? For example: *add call mom tomorrow at 5pm*.");
                Ok(())
            }
            Command::AddSeveral { count, topic } => {
                let about = if topic.is_empty() { String::new() } else { format!(" for your {topic}") };
                self.say(format!(
                    "Happy to add {count} tasks{about}! What should they be? Send them in one message — \
                     e.g. *add stretch at 7am and add make coffee* — or one at a time."
                ));
                Ok(())
            }
            Command::List(filter) => self.list(filter).await,
            Command::Count(filter) => self.count(filter).await,
            Command::Complete(target) => self.set_completed(target, true).await,
            Command::Reopen(target) => self.set_completed(target, false).await,
            Command::CompleteAll => self.set_all_completed(true).await,
            Command::ReopenAll => self.set_all_completed(false).await,
            Command::Delete(target) => self.delete(target).await,
            Command::DeleteAll => self.ask_bulk_delete(BulkDelete::DeleteAll).await,
            Command::DeleteCompleted => self.ask_bulk_delete(BulkDelete::DeleteCompleted).await,
            Command::Confirm => {
                self.say("There's nothing waiting for your confirmation. What would you like to do?");
                Ok(())
            }
            Command::Deny => {
                self.say("Okay! Anything else I can help with?");
                Ok(())
            }
            Command::Rename(target, title) => self.rename(target, title).await,
            Command::Describe(target, description) => self.describe(target, description).await,
            Command::SetPriority(target, priority) => self.set_priority(target, priority).await,
            Command::Reschedule(target, due) => self.reschedule(target, due).await,
            Command::Sequence(commands) => {
                // `run` flattens sequences; a nested one here still runs in order.
                for command in commands {
                    Box::pin(self.execute(command)).await?;
                }
                Ok(())
            }
            Command::Help => {
                self.say(HELP);
                Ok(())
            }
            Command::Greeting => {
                self.say(
                    "Hi there! 👋 I'm your task assistant. I can add, list, complete, change and delete \
                     tasks — try *add buy milk tomorrow* or *show my tasks*.",
                );
                Ok(())
            }
            Command::Thanks => {
                self.say("You're welcome! 😊 Anything else on your list?");
                Ok(())
            }
            Command::OffTopic(OffTopicKind::Unrelated) => {
                self.say(
                    "I'm a task assistant, so I can't help with that — but I can keep your to-dos in \
                     order. Try *show my tasks* or *add call mom tomorrow at 5pm*.",
                );
                Ok(())
            }
            Command::OffTopic(OffTopicKind::InstructionOverride) => {
                self.say(
                    "Sorry, I can't do that. I'm here to help you manage your tasks — want to see them? \
                     Just say *show my tasks*.",
                );
                Ok(())
            }
            Command::Unclear => {
                self.say(
                    "Sorry, I didn't quite get that. I can add, list, complete, change and delete tasks — \
                     for example *add buy milk tomorrow* or *mark task 2 done*. Type **help** to see more.",
                );
                Ok(())
            }
        }
    }

    // ----- describing tasks -------------------------------------------------------------

    /// ` — due Sun Nov 22, 5:00 PM · 🔴 high · #shopping`
    fn details(&self, task: &TaskView, with_priority: bool) -> String {
        let mut parts = Vec::new();
        if let Some(due) = task.due_at {
            let overdue = !task.completed && due < self.now.timestamp();
            parts.push(format!(
                "due {}{}",
                self.dates.format_due(due),
                if overdue { " ⚠️ overdue" } else { "" }
            ));
        }
        if with_priority {
            parts.push(priority_word(&task.priority).to_owned());
        }
        if !task.tags.is_empty() {
            parts.push(task.tags.iter().map(|tag| format!("#{tag}")).collect::<Vec<_>>().join(" "));
        }
        if parts.is_empty() { String::new() } else { format!(" — {}", parts.join(" · ")) }
    }

    fn bullet(&self, task: &TaskView) -> String {
        let number = task.number.map(|n| format!("#{n} ")).unwrap_or_default();
        if task.completed {
            format!("- ✅ ~~{number}{}~~", task.title)
        } else {
            format!("- **{number}{}**{}", task.title, self.details(task, true))
        }
    }

    // ----- add ----------------------------------------------------------------------------

    async fn add(&mut self, quick: QuickAdd) -> Step {
        let mut arguments = json!({"title": quick.title});
        if let Some(description) = &quick.description {
            arguments["description"] = json!(description);
        }
        if let Some(due) = &quick.due {
            arguments["due_date"] = json!(rfc3339(due));
        }
        if let Some(priority) = quick.priority {
            arguments["priority"] = json!(priority.to_string());
        }
        if !quick.tags.is_empty() {
            arguments["tags"] = json!(quick.tags);
        }
        let title = format!("Creating task “{}”", quick.title);
        let output = self.call("create_task", arguments, &title, "write").await?;
        match task_of(&output).filter(|_| !output.is_error) {
            Some(task) => {
                let priority_named = quick.priority.is_some();
                self.say(format!("✅ Added **{}**{}.", task.title, self.details(&task, priority_named)));
                self.outcome.changed.push(task);
            }
            None => self.say(format!("I couldn't add that task: {}", message_of(&output))),
        }
        Ok(())
    }

    // ----- list and count -----------------------------------------------------------------

    fn list_arguments(&self, filter: &ListFilter) -> Value {
        let mut arguments = json!({"limit": LIST_LIMIT});
        let status = match filter.status {
            StatusFilter::All => "all",
            StatusFilter::Pending => "pending",
            StatusFilter::Completed => "completed",
            StatusFilter::Overdue => {
                // Resolved here against the responder's clock, so results follow the same "now"
                // as the dates in the reply.
                arguments["due_before"] = json!(rfc3339(&self.now));
                "pending"
            }
        };
        arguments["status"] = json!(status);
        if let Some(priority) = filter.priority {
            arguments["priority"] = json!(priority.to_string());
        }
        if let Some(tag) = &filter.tag {
            arguments["tags"] = json!([tag]);
        }
        if let Some(search) = &filter.search {
            arguments["search"] = json!(search);
        }
        if let Some((start, end)) = filter.due.and_then(|window| window.bounds(&self.now)) {
            arguments["due_after"] = json!(rfc3339(&start));
            let before = match arguments.get("due_before").and_then(Value::as_str) {
                Some(existing) if existing < rfc3339(&end).as_str() => existing.to_owned(),
                _ => rfc3339(&end),
            };
            arguments["due_before"] = json!(before);
        }
        if let Some(sort) = filter.sort {
            let key = match sort {
                SortKey::Due => "due",
                SortKey::Priority => "priority",
                SortKey::Title => "title",
                SortKey::Created => "created",
            };
            arguments["sort"] = json!(key);
        }
        arguments
    }

    /// "pending high-priority tasks tagged #work due today".
    fn describe_filter(filter: &ListFilter) -> String {
        let mut words = Vec::new();
        match filter.status {
            StatusFilter::All => {}
            StatusFilter::Pending => words.push("pending".to_owned()),
            StatusFilter::Completed => words.push("completed".to_owned()),
            StatusFilter::Overdue => words.push("overdue".to_owned()),
        }
        if let Some(priority) = filter.priority {
            words.push(format!("{priority}-priority"));
        }
        words.push("tasks".to_owned());
        if let Some(tag) = &filter.tag {
            words.push(format!("tagged #{tag}"));
        }
        if let Some(search) = &filter.search {
            words.push(format!("matching “{search}”"));
        }
        match filter.due {
            Some(DueWindow::Today) => words.push("due today".to_owned()),
            Some(DueWindow::Tomorrow) => words.push("due tomorrow".to_owned()),
            Some(DueWindow::ThisWeek) => words.push("due this week".to_owned()),
            None => {}
        }
        words.join(" ")
    }

    fn is_unfiltered(filter: &ListFilter) -> bool {
        filter.status == StatusFilter::All
            && filter.priority.is_none()
            && filter.tag.is_none()
            && filter.search.is_none()
            && filter.due.is_none()
    }

    async fn list(&mut self, filter: ListFilter) -> Step {
        let arguments = self.list_arguments(&filter);
        let title = match &filter.search {
            Some(search) => format!("Searching tasks for “{search}”"),
            None => "Listing tasks".to_owned(),
        };
        let output = self.call("list_tasks", arguments, &title, "search").await?;
        if output.is_error {
            self.say(format!("I couldn't list your tasks: {}", message_of(&output)));
            return Ok(());
        }
        let tasks = tasks_of(&output);
        let described = Self::describe_filter(&filter);
        if tasks.is_empty() {
            let reply = if Self::is_unfiltered(&filter) {
                "You don't have any tasks yet. 🌱 Want to add one? Try *add call mom tomorrow at 5pm*."
                    .to_owned()
            } else if filter.status == StatusFilter::Pending && described == "pending tasks" {
                "Nothing pending — you're all caught up! 🎉 Want to add a task? Try *add buy milk tomorrow*."
                    .to_owned()
            } else {
                format!(
                    "I didn't find any {described}. Want me to show all your tasks? Just say *show my tasks*."
                )
            };
            self.say(reply);
            return Ok(());
        }
        let total = count_field(&output, &["total"]).unwrap_or(tasks.len() as u64).max(tasks.len() as u64);
        let (pending, completed): (Vec<&TaskView>, Vec<&TaskView>) =
            tasks.iter().partition(|task| !task.completed);
        let mut lines = vec![match filter.sort {
            Some(SortKey::Created) => format!("Here are your {described}, newest first:"),
            Some(SortKey::Priority) => format!("Here are your {described} by priority:"),
            Some(SortKey::Title) => format!("Here are your {described}, A to Z:"),
            _ => format!("Here are your {described} ({total}):"),
        }];
        let mut shown = 0;
        for (heading, group) in [("Pending", &pending), ("Completed", &completed)] {
            if group.is_empty() || shown >= SHOWN_IN_LIST {
                continue;
            }
            if !pending.is_empty() && !completed.is_empty() {
                lines.push(format!("\n**{heading}** ({})", group.len()));
            }
            for task in group.iter().take(SHOWN_IN_LIST - shown) {
                lines.push(self.bullet(task));
                shown += 1;
            }
        }
        if (shown as u64) < total {
            lines.push(format!(
                "\n…and {} more. Want to narrow it down? Try *what's due today?*, *show high priority tasks* \
                 or *search for …*.",
                total - shown as u64
            ));
        } else if total > 10 {
            lines.push(
                "\nThat's quite a list! I can filter it — try *what's due today?* or *show high priority tasks*."
                    .to_owned(),
            );
        }
        self.say(lines.join("\n"));
        Ok(())
    }

    async fn count(&mut self, filter: ListFilter) -> Step {
        let arguments = self.list_arguments(&filter);
        let output = self.call("list_tasks", arguments, "Counting tasks", "analytics").await?;
        if output.is_error {
            self.say(format!("I couldn't count your tasks: {}", message_of(&output)));
            return Ok(());
        }
        let tasks = tasks_of(&output);
        let listed_pending = tasks.iter().filter(|task| !task.completed).count() as u64;
        let total = count_field(&output, &["total"]).unwrap_or(tasks.len() as u64);
        let pending = count_field(&output, &["pending"]).unwrap_or(listed_pending);
        let completed = count_field(&output, &["completed"]).unwrap_or(total.saturating_sub(pending));
        let reply = if total == 0 && Self::is_unfiltered(&filter) {
            "You don't have any tasks yet. Want to add one? Try *add call mom tomorrow at 5pm*.".to_owned()
        } else if filter.status == StatusFilter::All {
            let described = Self::describe_filter(&filter);
            let noun = if total == 1 { described.replacen("tasks", "task", 1) } else { described };
            format!("You have **{total} {noun}**: {pending} pending and {completed} completed.")
        } else {
            let described = Self::describe_filter(&filter);
            let noun = if total == 1 { described.replacen("tasks", "task", 1) } else { described };
            format!("You have **{total} {noun}**.")
        };
        self.say(reply);
        Ok(())
    }

    // ----- resolving a task reference ---------------------------------------------------

    /// Finds the tasks a title phrase refers to: the tool's text search first, then a looser
    /// word match (plurals, word order) over all tasks.
    async fn find_by_title(&mut self, phrase: &str) -> Result<Vec<TaskView>, StreamClosed> {
        let arguments = json!({"search": phrase, "limit": LIST_LIMIT});
        let output =
            self.call("list_tasks", arguments, &format!("Searching tasks for “{phrase}”"), "search").await?;
        let found = tasks_of(&output);
        if !found.is_empty() {
            return Ok(found);
        }
        let output = self
            .call("list_tasks", json!({"limit": LIST_LIMIT}), "Looking through your tasks", "search")
            .await?;
        Ok(tasks_of(&output).into_iter().filter(|task| loosely_matches(phrase, &task.title)).collect())
    }

    /// Narrows title matches: an exact title wins, then the only task in the preferred state.
    fn narrow(found: Vec<TaskView>, phrase: &str, purpose: Purpose) -> Vec<TaskView> {
        if found.len() < 2 {
            return found;
        }
        let exact: Vec<&TaskView> =
            found.iter().filter(|task| task.title.eq_ignore_ascii_case(phrase)).collect();
        if let [only] = exact.as_slice() {
            return vec![(*only).clone()];
        }
        let preferred: Vec<&TaskView> =
            found.iter().filter(|task| task.completed == purpose.prefers_completed()).collect();
        if let [only] = preferred.as_slice() {
            return vec![(*only).clone()];
        }
        found
    }

    fn ask_which(&mut self, phrase: &str, matches: &[TaskView], purpose: Purpose) {
        let mut lines = vec![format!("I found {} tasks matching “{phrase}”:", matches.len())];
        lines.extend(matches.iter().take(SHOWN_IN_LIST).map(|task| self.bullet(task)));
        let example = matches.iter().find_map(|task| task.number).unwrap_or(1);
        lines.push(format!(
            "\nWhich one do you mean? Tell me its number — e.g. *{}*.",
            purpose.example(example)
        ));
        self.say(lines.join("\n"));
    }

    fn say_not_found(&mut self, target: &Target) {
        let reply = match target {
            Target::Number(number) => format!(
                "I couldn't find task #{number}. Say *show my tasks* to see your tasks and their numbers."
            ),
            Target::Known(task) => format!("I couldn't find **{}** any more — was it deleted?", task.title),
        };
        self.say(reply);
    }

    /// Resolves a reference to tasks. Writes the question or the "not found" reply itself
    /// and returns nothing when it cannot pick. Several targets come back only when
    /// `allow_several` and the phrase is plural ("my morning meetings").
    async fn resolve(
        &mut self,
        reference: &TaskRef,
        purpose: Purpose,
        allow_several: bool,
    ) -> Result<Vec<Target>, StreamClosed> {
        match reference {
            TaskRef::Number(number) => Ok(vec![Target::Number(*number)]),
            TaskRef::First | TaskRef::Last => {
                let arguments = json!({"status": "pending", "sort": "due", "limit": LIST_LIMIT});
                let output =
                    self.call("list_tasks", arguments, "Finding your pending tasks", "search").await?;
                let tasks = tasks_of(&output);
                let pick = if *reference == TaskRef::First { tasks.first() } else { tasks.last() };
                match pick {
                    Some(task) => Ok(vec![Target::Known(task.clone())]),
                    None => {
                        self.say("You don't have any pending tasks right now. Want to add one?");
                        Ok(Vec::new())
                    }
                }
            }
            TaskRef::Title(phrase) => {
                let found = self.find_by_title(phrase).await?;
                let found = Self::narrow(found, phrase, purpose);
                match found.len() {
                    0 => {
                        self.say(format!(
                            "I couldn't find a task matching “{phrase}”. Say *show my tasks* to see them all."
                        ));
                        Ok(Vec::new())
                    }
                    1 => Ok(found.into_iter().map(Target::Known).collect()),
                    _ if allow_several && is_plural_phrase(phrase) => {
                        Ok(found.into_iter().filter(|task| !task.completed).map(Target::Known).collect())
                    }
                    _ => {
                        self.ask_which(phrase, &found, purpose);
                        Ok(Vec::new())
                    }
                }
            }
            TaskRef::Unspecified => {
                self.say(
                    "Which task do you mean? Tell me its number or its title — say *show my tasks* to see them.",
                );
                Ok(Vec::new())
            }
        }
    }

    async fn resolve_one(
        &mut self,
        reference: &TaskRef,
        purpose: Purpose,
    ) -> Result<Option<Target>, StreamClosed> {
        Ok(self.resolve(reference, purpose, false).await?.into_iter().next())
    }

    /// Handles a single-task tool result: the updated task, or a reply explaining the failure.
    fn changed_task(&mut self, output: &ToolOutput, target: &Target, verb: &str) -> Option<TaskView> {
        if is_not_found(output) {
            self.say_not_found(target);
            return None;
        }
        match task_of(output).filter(|_| !output.is_error) {
            Some(task) => Some(task),
            None => {
                self.say(format!("I couldn't {verb} that task: {}", message_of(output)));
                None
            }
        }
    }

    // ----- single-task changes -----------------------------------------------------------

    async fn set_completed(&mut self, reference: TaskRef, completed: bool) -> Step {
        let purpose = if completed { Purpose::Complete } else { Purpose::Reopen };
        let Some(target) = self.resolve_one(&reference, purpose).await? else { return Ok(()) };
        let (title, icon) = if completed {
            (format!("Completing {}", target.short()), "check-circle")
        } else {
            (format!("Reopening {}", target.short()), "reload")
        };
        let arguments = json!({"task_id": target.task_id(), "completed": completed});
        let output = self.call("complete_task", arguments, &title, icon).await?;
        let verb = if completed { "complete" } else { "reopen" };
        let Some(task) = self.changed_task(&output, &target, verb) else { return Ok(()) };
        let was = match (&target, output.value.get("old_status"), output.value.get("new_status")) {
            (_, Some(old), Some(new)) if old == new => Some(completed),
            (Target::Known(before), ..) => Some(before.completed),
            _ => None,
        };
        if was == Some(completed) {
            let state = if completed { "already complete" } else { "not completed yet" };
            self.say(format!("**{}** is {state}.", task.title));
            return Ok(());
        }
        let reply = if completed {
            let mut reply = format!("✅ Marked **{}** as complete.", task.title);
            // Completing a recurring task creates its next occurrence.
            if let Some(next) = output.value.get("next_task").and_then(TaskView::from_json) {
                let when = next
                    .due_at
                    .map(|due| format!(", due {}", self.dates.format_due(due)))
                    .unwrap_or_default();
                reply.push_str(&format!(" Next one is **{}**{when}.", next.label()));
            }
            reply
        } else {
            format!("✅ Reopened **{}** — it's pending again.", task.title)
        };
        self.say(reply);
        self.outcome.changed.push(task);
        Ok(())
    }

    async fn delete(&mut self, reference: TaskRef) -> Step {
        let Some(target) = self.resolve_one(&reference, Purpose::Delete).await? else { return Ok(()) };
        let title = format!("Deleting {}", target.short());
        let output =
            self.call("delete_task", json!({"task_id": target.task_id()}), &title, "empty-circle").await?;
        if is_not_found(&output) {
            self.say_not_found(&target);
        } else if output.is_error {
            self.say(format!("I couldn't delete that task: {}", message_of(&output)));
        } else {
            let name = task_of(&output).map(|task| task.title).or(match &target {
                Target::Known(task) => Some(task.title.clone()),
                Target::Number(_) => None,
            });
            match name {
                Some(name) => self.say(format!("✅ Deleted **{name}**.")),
                None => self.say(format!("✅ Deleted {}.", target.short())),
            }
        }
        Ok(())
    }

    async fn update(
        &mut self,
        target: &Target,
        patch: Value,
        title: &str,
        icon: &str,
    ) -> Result<Option<TaskView>, StreamClosed> {
        let mut arguments = patch;
        arguments["task_id"] = json!(target.task_id());
        let output = self.call("update_task", arguments, title, icon).await?;
        Ok(self.changed_task(&output, target, "update"))
    }

    async fn rename(&mut self, reference: TaskRef, new_title: String) -> Step {
        if reference == TaskRef::Unspecified {
            self.say(format!(
                "Which task should I rename to “{new_title}”? Tell me its number or title — e.g. \
                 *rename task 2 to {new_title}*."
            ));
            return Ok(());
        }
        let Some(target) = self.resolve_one(&reference, Purpose::Rename).await? else { return Ok(()) };
        let title = format!("Renaming {}", target.short());
        let Some(task) = self.update(&target, json!({"title": new_title}), &title, "write-alt").await? else {
            return Ok(());
        };
        let old = match &target {
            Target::Known(before) => format!("**{}**", before.title),
            Target::Number(number) => format!("task #{number}"),
        };
        self.say(format!("✅ Renamed {old} to **{}**.", task.title));
        self.outcome.changed.push(task);
        Ok(())
    }

    async fn describe(&mut self, reference: TaskRef, description: String) -> Step {
        let Some(target) = self.resolve_one(&reference, Purpose::Describe).await? else { return Ok(()) };
        let title = format!("Updating {}", target.short());
        let patch = json!({"description": description});
        let Some(task) = self.update(&target, patch, &title, "notebook-pencil").await? else { return Ok(()) };
        self.say(format!("✅ Updated **{}** — note: “{description}”.", task.title));
        self.outcome.changed.push(task);
        Ok(())
    }

    async fn set_priority(&mut self, reference: TaskRef, priority: Priority) -> Step {
        let Some(target) = self.resolve_one(&reference, Purpose::Prioritise).await? else { return Ok(()) };
        let title = format!("Setting {} to {priority} priority", target.short());
        let patch = json!({"priority": priority.to_string()});
        let Some(task) = self.update(&target, patch, &title, "star").await? else { return Ok(()) };
        self.say(format!("✅ **{}** is now **{priority}** priority.", task.title));
        self.outcome.changed.push(task);
        Ok(())
    }

    /// The task a time-only reschedule needs in full (its current date): listed when only
    /// its number is known.
    async fn known(&mut self, target: Target) -> Result<Option<TaskView>, StreamClosed> {
        match target {
            Target::Known(task) => Ok(Some(task)),
            Target::Number(number) => {
                let output = self
                    .call("list_tasks", json!({"limit": LIST_LIMIT}), "Looking up the task", "search")
                    .await?;
                let found = tasks_of(&output).into_iter().find(|task| task.number == Some(i64::from(number)));
                if found.is_none() {
                    self.say_not_found(&target);
                }
                Ok(found)
            }
        }
    }

    /// The new due time of `task`: `due` itself, or for a time-only change the task's own
    /// date (in the user's zone) at the new time.
    fn new_due(&self, task: Option<&TaskView>, due: &NewDue) -> Zoned {
        if due.has_date {
            return due.at.clone();
        }
        let current = task.and_then(|task| task.due_at).map(|at| at.to_zoned(self.now.time_zone().clone()));
        match current {
            Some(current) => current
                .date()
                .to_datetime(due.at.time())
                .to_zoned(self.now.time_zone().clone())
                .unwrap_or_else(|_| due.at.clone()),
            None => due.at.clone(),
        }
    }

    async fn reschedule(&mut self, reference: TaskRef, due: NewDue) -> Step {
        let targets = self.resolve(&reference, Purpose::Reschedule, !due.has_date).await?;
        let mut moved = Vec::new();
        for target in targets {
            let task = if due.has_date { None } else { self.known(target.clone()).await? };
            if !due.has_date && task.is_none() {
                continue;
            }
            let at = self.new_due(task.as_ref(), &due);
            let title = format!("Rescheduling {}", target.short());
            let patch = json!({"due_date": rfc3339(&at)});
            if let Some(task) = self.update(&target, patch, &title, "calendar").await? {
                moved.push(task);
            }
        }
        match moved.as_slice() {
            [] => {}
            [task] => {
                let when = task.due_at.map(|at| self.dates.format_due(at)).unwrap_or_default();
                self.say(format!("✅ Moved **{}** to {when}.", task.title));
            }
            tasks => {
                let mut lines = vec![format!("✅ Rescheduled {} tasks:", tasks.len())];
                lines.extend(tasks.iter().map(|task| self.bullet(task)));
                self.say(lines.join("\n"));
            }
        }
        self.outcome.changed.extend(moved);
        Ok(())
    }

    // ----- bulk changes --------------------------------------------------------------------

    async fn set_all_completed(&mut self, completed: bool) -> Step {
        let (title, icon) = if completed {
            ("Completing all pending tasks", "check-circle")
        } else {
            ("Reopening all completed tasks", "reload")
        };
        let output = self.call("complete_all_tasks", json!({"completed": completed}), title, icon).await?;
        if output.is_error {
            self.say(format!("I couldn't update your tasks: {}", message_of(&output)));
            return Ok(());
        }
        let updated = count_field(&output, &["updated_count"]).unwrap_or(0);
        let total = count_field(&output, &["total_count"]);
        let reply = match (updated, total, completed) {
            (0, Some(0), _) => "You don't have any tasks yet. Want to add one?".to_owned(),
            (0, _, true) => "All your tasks are already complete. 🎉".to_owned(),
            (0, _, false) => "None of your tasks are completed, so there's nothing to reopen.".to_owned(),
            (n, _, true) => format!("✅ {} marked as complete.", plural(n, "task", "tasks")),
            (n, _, false) => format!("✅ {} reopened.", plural(n, "task", "tasks")),
        };
        self.say(reply);
        Ok(())
    }

    /// Step one of a bulk delete: count, then ask. Nothing is deleted.
    async fn ask_bulk_delete(&mut self, action: BulkDelete) -> Step {
        let output = match action {
            BulkDelete::DeleteAll => {
                let arguments = json!({"confirmed": false});
                self.call("delete_all_tasks", arguments, "Counting tasks to delete", "analytics").await?
            }
            BulkDelete::DeleteCompleted => {
                let arguments = json!({"status": "completed", "limit": LIST_LIMIT});
                self.call("list_tasks", arguments, "Finding completed tasks", "search").await?
            }
        };
        if output.is_error {
            self.say(format!("I couldn't check your tasks: {}", message_of(&output)));
            return Ok(());
        }
        let count = count_field(&output, &["task_count", "total"]).unwrap_or(0);
        let completed_only = action == BulkDelete::DeleteCompleted;
        if count == 0 {
            self.say(if completed_only {
                "You don't have any completed tasks to clear."
            } else {
                "You don't have any tasks to delete."
            });
            return Ok(());
        }
        let what = match (completed_only, count) {
            (true, 1) => "your **1 completed task**".to_owned(),
            (true, n) => format!("all **{n} completed tasks**"),
            (false, 1) => "your **only task**".to_owned(),
            (false, n) => format!("all **{n} of your tasks**"),
        };
        self.say(format!(
            "⚠️ This will permanently delete {what}. Are you sure? Reply **yes** to confirm or **no** to keep them."
        ));
        self.outcome.pending = Some(PendingConfirmation { action, task_count: count });
        Ok(())
    }

    /// Step two, after "yes".
    async fn confirm_bulk_delete(&mut self, action: BulkDelete) -> Step {
        let deleted = match action {
            BulkDelete::DeleteAll => {
                let arguments = json!({"confirmed": true});
                let output =
                    self.call("delete_all_tasks", arguments, "Deleting all tasks", "empty-circle").await?;
                if output.is_error {
                    self.say(format!("I couldn't delete your tasks: {}", message_of(&output)));
                    return Ok(());
                }
                count_field(&output, &["deleted_count"]).unwrap_or(0)
            }
            BulkDelete::DeleteCompleted => self.delete_completed().await?,
        };
        let kind = if action == BulkDelete::DeleteCompleted { "completed " } else { "" };
        self.say(if deleted == 0 {
            "There was nothing left to delete.".to_owned()
        } else {
            format!("✅ Deleted {deleted} {kind}{}. ✨", if deleted == 1 { "task" } else { "tasks" })
        });
        Ok(())
    }

    /// Deletes the completed tasks (as they are now, not as counted) and returns how many.
    async fn delete_completed(&mut self) -> Result<u64, StreamClosed> {
        let mut deleted = 0;
        // A page at a time; each round deletes what it listed, so the next starts afresh.
        for _ in 0..MAX_DELETE_ROUNDS {
            let arguments = json!({"status": "completed", "limit": LIST_LIMIT});
            let output = self.call("list_tasks", arguments, "Finding completed tasks", "search").await?;
            let tasks = tasks_of(&output);
            if tasks.is_empty() {
                break;
            }
            let mut progress = false;
            for task in tasks {
                let title = format!("Deleting “{}”", task.title);
                let output =
                    self.call("delete_task", json!({"task_id": task.id}), &title, "empty-circle").await?;
                if !output.is_error {
                    deleted += 1;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        Ok(deleted)
    }
}

/// Upper bound on list-then-delete rounds when clearing completed tasks.
const MAX_DELETE_ROUNDS: usize = 20;

const HELP: &str = "Here's what I can do — just type naturally:\n\
- **Add**: *add call mom tomorrow at 5pm #family*, *remind me to pay rent on Dec 1, high priority*\n\
- **See**: *show my tasks*, *what's pending?*, *what's due today?*, *show high priority tasks*, \
*search for dentist*, *how many tasks do I have?*\n\
- **Complete or reopen**: *mark task 3 done*, *I finished the groceries task*, *mark task 1 as incomplete*, \
*mark all tasks as complete*\n\
- **Change**: *rename task 2 to Buy oat milk*, *make task 4 urgent*, *move task 3 to friday 9am*, \
*add a note to task 2: gate code 1234*\n\
- **Delete**: *delete task 2*, *delete my last task*, *clear completed*, *delete all my tasks* (I'll ask first)\n\n\
Dates like *tonight*, *friday 9am*, *next monday at noon*, *in 3 days* and *end of month* all work.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_title_matching_handles_plurals_and_filler() {
        assert!(loosely_matches("morning meetings", "Morning meeting with Bob"));
        assert!(loosely_matches("groceries", "Buy grocery items"));
        assert!(loosely_matches("the report task", "Finish the report"));
        assert!(!loosely_matches("morning meetings", "Evening meeting"));
        assert!(!loosely_matches("the task", "Anything"));
    }

    #[test]
    fn plural_phrases_are_recognised() {
        assert!(is_plural_phrase("morning meetings"));
        assert!(!is_plural_phrase("dentist"));
        assert!(!is_plural_phrase("class"));
    }
}
