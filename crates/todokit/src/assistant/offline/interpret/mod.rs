//! Performs a parsed [`Command`] through the task tools and writes the reply.

use chatkit::StreamClosed;
use jiff::{Timestamp, Zoned};
use todokit_domain::Priority;
use todokit_domain::nl::{
    Command, DEFAULT_DUE_TIME, DueWindow, Edit, ListFilter, NewDue, OffTopicKind, Parsed, QuickAdd, SortKey,
    StatusFilter, TaskRef, parse_message,
};

use super::conversation::{Change, Conversation, Pending};
use super::turn::Turn;
use crate::assistant::widgets::{DateContext, TaskView};
use crate::tools::{
    CompleteAllTasksArgs, CompleteTaskArgs, CreateTaskArgs, DeleteAllTasksArgs, ListOutcome, ListTasksArgs,
    RecurrenceArg, RecurrenceRuleArg, ReminderArg, TaskFilterArgs, TaskIdArg, TaskIdArgs, TaskOutcome,
    TaskTools, ToolContext, ToolError, ToolTask, UpdateTaskArgs, describe_recurrence, describe_reminder,
};

mod undo;

/// How many tasks one listing asks for (the tools' maximum page).
const LIST_LIMIT: u32 = 100;
/// How many tasks a list reply shows before offering to filter.
const SHOWN_IN_LIST: usize = 25;

/// What a turn did.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub paragraphs: Vec<String>,
    /// Tasks created or changed (shown in a widget).
    pub changed: Vec<TaskView>,
    /// The reply asked for the model hint (help, or a message it could not read).
    pub wants_hint: bool,
}

type Step = Result<(), StreamClosed>;

pub(super) struct Interpreter<'a> {
    pub tools: &'a TaskTools,
    pub ctx: &'a ToolContext,
    pub now: Zoned,
    pub dates: DateContext,
    pub turn: &'a mut Turn,
    pub outcome: Outcome,
    /// The thread's memory; `pending` was taken out before the turn and is set again only
    /// when this reply asks something.
    pub state: Conversation,
    /// The task picked by answering "which one?", used for the reference that was ambiguous.
    pub forced: Option<TaskView>,
    /// The user said "yes" to this (deleting what it names may go ahead).
    pub confirmed: bool,
    /// The message being run (corrected), for a question to re-run it.
    pub utterance: String,
    /// This turn's changes, for undo.
    pub changes: Vec<Change>,
    /// This turn leaves nothing to undo (it was an undo, or a bulk delete).
    pub undoing: bool,
    /// The count the user agreed to delete (with `confirmed`).
    pub expected_count: Option<u64>,
    /// The tasks this turn was about ("it" next time).
    pub referred: Vec<TaskView>,
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
    Edit,
    Show,
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
            Self::Edit => format!("tag task {n} with work"),
            Self::Show => format!("show task {n}"),
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
    fn task_id(&self) -> TaskIdArg {
        match self {
            Target::Known(task) => TaskIdArg::Text(task.id.clone()),
            Target::Number(number) => TaskIdArg::Number(i64::from(*number)),
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

/// A task as the tools returned it, in the form replies and widgets use.
fn view(task: &ToolTask) -> TaskView {
    TaskView {
        id: task.id.to_string(),
        number: Some(task.number),
        title: task.title.clone(),
        description: task.description.clone(),
        due_at: task.due_date.as_deref().and_then(|due| due.parse::<Timestamp>().ok()),
        priority: task.priority.to_string(),
        completed: task.completed,
        tags: task.tags.clone(),
        reminder_minutes_before: task.reminder_minutes_before,
        recurrence: task.recurrence.clone().map(Box::new),
    }
}

/// A task known only by what a bulk result names: enough to refer to it and to undo.
fn named_only(id: uuid::Uuid, number: i64, title: &str, completed: bool) -> TaskView {
    TaskView {
        id: id.to_string(),
        number: Some(number),
        title: title.to_owned(),
        description: None,
        due_at: None,
        priority: String::new(),
        completed,
        tags: Vec::new(),
        reminder_minutes_before: None,
        recurrence: None,
    }
}

fn views(outcome: &Result<ListOutcome, ToolError>) -> Vec<TaskView> {
    outcome.as_ref().map(|list| list.tasks.iter().map(view).collect()).unwrap_or_default()
}

/// The rule the tools take for a parsed recurrence.
fn recurrence_arg(repeat: &todokit_domain::nl::Repeat) -> RecurrenceArg {
    use todokit_domain::nl::RepeatFrequency;
    let frequency = match repeat.frequency {
        RepeatFrequency::Daily => crate::tools::FrequencyArg::Daily,
        RepeatFrequency::Weekly => crate::tools::FrequencyArg::Weekly,
        RepeatFrequency::Monthly => crate::tools::FrequencyArg::Monthly,
        RepeatFrequency::Yearly => crate::tools::FrequencyArg::Yearly,
    };
    let weekdays = repeat.weekday_names();
    RecurrenceArg::Rule(RecurrenceRuleArg {
        frequency,
        interval: Some(repeat.interval),
        weekdays: (!weekdays.is_empty()).then_some(weekdays),
        count: repeat.count,
        until: repeat.until.as_ref().map(|until| until.timestamp().to_string()),
    })
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

const FILLER_WORDS: &[&str] =
    &["the", "my", "a", "an", "task", "tasks", "one", "ones", "thing", "things", "to", "do", "todo"];

/// Whether every meaningful word of `phrase` (stemmed) occurs in `title`.
fn loosely_matches(phrase: &str, title: &str) -> bool {
    let title = title.to_lowercase();
    let phrase = phrase.to_lowercase();
    let words: Vec<&str> = phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !FILLER_WORDS.contains(word))
        .collect();
    let title_words: Vec<&str> =
        title.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    !words.is_empty()
        && words.iter().all(|word| {
            title.contains(stem(word))
                || title_words.iter().any(|known| is_typo_of(word, known) || abbreviates(word, known))
        })
}

/// Short forms people write in titles and messages alike ("dentist appt", "team mtg").
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("appt", "appointment"),
    ("mtg", "meeting"),
    ("dr", "doctor"),
    ("bday", "birthday"),
    ("docs", "documents"),
    ("doc", "document"),
    ("info", "information"),
    ("msg", "message"),
    ("pres", "presentation"),
    ("prep", "prepare"),
    ("dept", "department"),
    ("mgr", "manager"),
    ("hw", "homework"),
    ("groc", "groceries"),
    ("admin", "administration"),
    ("vet", "veterinarian"),
];

/// Whether one word is the usual short form of the other, either way round.
fn abbreviates(a: &str, b: &str) -> bool {
    ABBREVIATIONS
        .iter()
        .any(|&(short, long)| (a == short && stem(b) == stem(long)) || (b == short && stem(a) == stem(long)))
}

/// "grocries" for "groceries": one edit apart (two for long words).
fn is_typo_of(typed: &str, word: &str) -> bool {
    let length = typed.chars().count();
    length >= 4 && strsim::osa_distance(typed, word) <= if length >= 7 { 2 } else { 1 }
}

/// "morning meetings" asks for every match; "the dentist task" for one.
fn is_plural_phrase(phrase: &str) -> bool {
    phrase.split_whitespace().last().is_some_and(|word| {
        let word = word.to_lowercase();
        word.ends_with('s') && !word.ends_with("ss") && word.len() > 3
    })
}

fn hashtags(tags: &[String]) -> String {
    tags.iter().map(|tag| format!("#{}", tag.to_lowercase())).collect::<Vec<_>>().join(" ")
}

/// The candidate an answer to "which one?" names: its number ("7", "#7"), its place in the
/// question's list ("the second one"), or words of its title ("the passport one").
pub(super) fn pick(candidates: &[TaskView], answer: &str) -> Option<TaskView> {
    let words: Vec<String> = answer
        .split(|c: char| !(c.is_alphanumeric() || c == '#'))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    const ORDINALS: [&str; 10] =
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
    for word in &words {
        let digits = word.trim_start_matches('#').trim_end_matches(|c: char| c.is_alphabetic());
        if let Ok(n) = digits.parse::<i64>() {
            if let Some(task) = candidates.iter().find(|task| task.number == Some(n)) {
                return Some(task.clone());
            }
            if word.ends_with("st") || word.ends_with("nd") || word.ends_with("rd") || word.ends_with("th") {
                return usize::try_from(n).ok().and_then(|n| candidates.get(n.checked_sub(1)?)).cloned();
            }
        }
        if let Some(position) = ORDINALS.iter().position(|ordinal| ordinal == word) {
            return candidates.get(position).cloned();
        }
        if word == "last" {
            return candidates.last().cloned();
        }
    }
    const FILLER: &[&str] = &[
        "the", "one", "a", "an", "task", "i", "mean", "meant", "that", "this", "please", "yes", "it's",
        "its", "number", "no", "about", "with",
    ];
    let phrase: Vec<&str> = words.iter().map(String::as_str).filter(|word| !FILLER.contains(word)).collect();
    if phrase.is_empty() {
        return None;
    }
    let phrase = phrase.join(" ");
    let matching: Vec<&TaskView> =
        candidates.iter().filter(|task| loosely_matches(&phrase, &task.title)).collect();
    match matching.as_slice() {
        [only] => Some((*only).clone()),
        _ => None,
    }
}

/// "30 minutes before", "1 hour before", "at the due time".
fn reminder_words(minutes: u32) -> String {
    match minutes {
        0 => "at the due time".to_owned(),
        m if m % 1440 == 0 => format!("{} before", plural(u64::from(m / 1440), "day", "days")),
        m if m % 60 == 0 => format!("{} before", plural(u64::from(m / 60), "hour", "hours")),
        m => format!("{} before", plural(u64::from(m), "minute", "minutes")),
    }
}

fn priority_word(priority: &str) -> &str {
    match priority {
        "high" => "🔴 high",
        "low" => "⚪ low",
        _ => "🟡 medium",
    }
}

impl<'a> Interpreter<'a> {
    fn say(&mut self, text: impl Into<String>) {
        self.outcome.paragraphs.push(text.into());
    }

    fn tools(&self) -> (&'a TaskTools, &'a ToolContext) {
        (self.tools, self.ctx)
    }

    async fn list_call(
        &mut self,
        args: ListTasksArgs,
        title: &str,
    ) -> Result<Result<ListOutcome, ToolError>, StreamClosed> {
        let (tools, ctx) = self.tools();
        self.turn.step(title, "search", tools.list_tasks(ctx, args)).await
    }

    /// Every task, soonest first (one page).
    async fn all_tasks(&mut self, title: &str) -> Result<Vec<TaskView>, StreamClosed> {
        let args = ListTasksArgs { limit: Some(LIST_LIMIT), ..ListTasksArgs::default() };
        Ok(views(&self.list_call(args, title).await?))
    }

    /// Runs one message. `pending` is the question the previous reply asked; it is answered
    /// by this message or dropped.
    pub(super) async fn run(&mut self, parsed: Parsed, pending: Option<Pending>) -> Step {
        match pending {
            Some(Pending::Confirm { utterance, expected_count }) => match parsed.command {
                Command::Confirm => {
                    self.confirmed = true;
                    self.expected_count = expected_count;
                    return self.run_text(&utterance).await;
                }
                // "undo" while a question waits only declines it: what it would undo is older.
                Command::Deny | Command::Retract(_) | Command::Undo => {
                    self.say("Okay, I won't change anything.");
                    return Ok(());
                }
                _ => {}
            },
            Some(Pending::Which { utterance, candidates }) => {
                if matches!(parsed.command, Command::Deny | Command::Retract(_)) {
                    self.say("Okay, never mind.");
                    return Ok(());
                }
                if let Some(choice) = pick(&candidates, &parsed.corrected) {
                    self.forced = Some(choice);
                    return self.run_text(&utterance).await;
                }
            }
            None => {}
        }
        if parsed.guessed_destructive() {
            let guessed: Vec<String> = parsed
                .guesses
                .iter()
                .map(|guess| format!("“{}” as *{}*", guess.typed, guess.read_as))
                .collect();
            self.say(format!(
                "Just checking — I read {}. Did you mean **{}**? Reply **yes** to go ahead or **no** to leave \
                 everything as it is.",
                guessed.join(", "),
                parsed.corrected.trim()
            ));
            self.state.pending = Some(Pending::Confirm { utterance: parsed.corrected, expected_count: None });
            return Ok(());
        }
        self.utterance = parsed.corrected.clone();
        let mut commands = Vec::new();
        flatten(parsed.command, &mut commands);
        self.execute_in_turn(commands).await
    }

    /// Runs the commands of one message in order. Within it, "it" is the task the command
    /// before was about ("add team lunch friday and remind me an hour before").
    async fn execute_in_turn(&mut self, commands: Vec<Command>) -> Step {
        for command in commands {
            let before = self.referred.len();
            self.execute(command).await?;
            if self.referred.len() > before {
                self.state.last_tasks = super::dedupe(self.referred[before..].to_vec());
            }
        }
        Ok(())
    }

    /// Runs a stored message again (after "yes" or after "which one?" was answered).
    async fn run_text(&mut self, utterance: &str) -> Step {
        let parsed = parse_message(utterance, &self.now);
        self.utterance = utterance.to_owned();
        let mut commands = Vec::new();
        flatten(parsed.command, &mut commands);
        self.execute_in_turn(commands).await
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
            Command::Show(target) => self.show(target).await,
            Command::Count(filter) => self.count(filter).await,
            Command::Complete(target) => self.set_completed(target, true).await,
            Command::Reopen(target) => self.set_completed(target, false).await,
            Command::CompleteAll(filter) => self.set_all_completed(filter, true).await,
            Command::ReopenAll(filter) => self.set_all_completed(filter, false).await,
            Command::Delete(target) => self.delete(target).await,
            Command::DeleteAll(filter) => self.delete_all(filter).await,
            Command::Edit(target, edit) => self.edit(target, edit).await,
            Command::Undo => self.undo().await,
            Command::Retract(only) => self.retract(only).await,
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
            Command::RescheduleAll(filter, due) => self.reschedule_all(filter, due).await,
            Command::Sequence(commands) => {
                // `run` flattens sequences; a nested one here still runs in order.
                for command in commands {
                    Box::pin(self.execute(command)).await?;
                }
                Ok(())
            }
            Command::Help => {
                self.say(HELP);
                self.outcome.wants_hint = true;
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
                let understood = self.understood();
                self.say(format!(
                    "Sorry, I didn't quite get that{understood}. Nothing was changed. I can add, list, complete, \
                     change and delete tasks — for example *add buy milk tomorrow*, *move task 2 to friday* or \
                     *mark task 2 done*. Type **help** to see more."
                ));
                self.outcome.wants_hint = true;
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
        let args = CreateTaskArgs {
            title: quick.title.clone(),
            description: quick.description.clone(),
            due_date: quick.due.as_ref().map(rfc3339),
            priority: quick.priority.map(|priority| priority.to_string()),
            tags: (!quick.tags.is_empty()).then(|| quick.tags.clone()),
            reminder: quick
                .reminder_minutes
                .filter(|_| quick.due.is_some())
                .map(|m| ReminderArg::Minutes(i64::from(m))),
            recurrence: quick.repeat.as_ref().filter(|_| quick.due.is_some()).map(recurrence_arg),
        };
        let title = format!("Creating task “{}”", quick.title);
        let (tools, ctx) = self.tools();
        match self.turn.step(&title, "write", tools.create_task(ctx, args)).await? {
            Ok(created) => {
                let task = view(&created.task);
                let priority_named = quick.priority.is_some();
                let mut reply =
                    format!("✅ Added **{}**{}", task.label(), self.details(&task, priority_named));
                if let Some(repeat) = &created.task.recurrence.as_ref().and(quick.repeat.as_ref()) {
                    reply.push_str(&format!(", repeating {}", repeat.describe()));
                }
                if let Some(minutes) = created.task.reminder_minutes_before {
                    reply.push_str(&format!(", reminder {}", reminder_words(minutes)));
                }
                reply.push('.');
                if let Some(why) = &quick.repeat_unsupported {
                    // The phrase stayed in the title: say why, so the user can rephrase or edit.
                    reply.push_str(&format!(" It can't repeat that way: {why}."));
                }
                if quick.reminder_minutes.is_some() && quick.due.is_none() {
                    reply.push_str(" A reminder needs a due time — tell me when it's due (e.g. *move it to friday 3pm*).");
                }
                self.say(reply);
                self.changes.push(Change::Created { task: task.clone() });
                self.referred.push(task.clone());
                self.outcome.changed.push(task);
            }
            Err(error) => self.say(format!("I couldn't add that task: {error}")),
        }
        Ok(())
    }

    // ----- list and count -----------------------------------------------------------------

    fn filter_arguments(&self, filter: &ListFilter) -> TaskFilterArgs {
        let mut args = TaskFilterArgs {
            status: match filter.status {
                // Resolved here against the responder's clock, so results follow the same "now"
                // as the dates in the reply.
                StatusFilter::Overdue => StatusFilter::Pending,
                status => status,
            },
            priority: filter.priority.map(|priority| priority.to_string()),
            tags: filter.tag.as_ref().map(|tag| vec![tag.clone()]),
            search: filter.search.clone(),
            ..TaskFilterArgs::default()
        };
        let mut before = (filter.status == StatusFilter::Overdue).then(|| self.now.clone());
        if let Some((start, end)) = filter.due.and_then(|window| window.bounds(&self.now)) {
            args.due_after = Some(rfc3339(&start));
            before = Some(match before {
                Some(existing) if existing < end => existing,
                _ => end,
            });
        }
        args.due_before = before.as_ref().map(rfc3339);
        args
    }

    fn list_arguments(&self, filter: &ListFilter) -> ListTasksArgs {
        ListTasksArgs {
            filter: self.filter_arguments(filter),
            sort: filter.sort,
            order: None,
            limit: Some(LIST_LIMIT),
        }
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
            Some(DueWindow::NextWeek) => words.push("due next week".to_owned()),
            Some(DueWindow::ThisWeekend) => words.push("due this weekend".to_owned()),
            Some(DueWindow::NextDays(n)) => {
                words.push(format!("due in the next {}", plural(u64::from(n), "day", "days")))
            }
            Some(DueWindow::Before(date)) => words.push(format!("due before {}", date.strftime("%a %b %-d"))),
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

    /// "my work tasks": a tag when the user has that tag, otherwise a search.
    async fn resolve_topic(&mut self, filter: &mut ListFilter) -> Step {
        let Some(topic) = filter.topic.take() else { return Ok(()) };
        let args = ListTasksArgs {
            filter: TaskFilterArgs { tags: Some(vec![topic.clone()]), ..TaskFilterArgs::default() },
            limit: Some(1),
            ..ListTasksArgs::default()
        };
        let tagged = self.list_call(args, "Checking tags").await?;
        if tagged.is_ok_and(|list| list.total > 0) {
            filter.tag = Some(topic);
        } else {
            filter.search = Some(topic);
        }
        Ok(())
    }

    async fn list(&mut self, mut filter: ListFilter) -> Step {
        self.resolve_topic(&mut filter).await?;
        let arguments = self.list_arguments(&filter);
        let title = match &filter.search {
            Some(search) => format!("Searching tasks for “{search}”"),
            None => "Listing tasks".to_owned(),
        };
        let output = match self.list_call(arguments, &title).await? {
            Ok(output) => output,
            Err(error) => {
                self.say(format!("I couldn't list your tasks: {error}"));
                return Ok(());
            }
        };
        let tasks: Vec<TaskView> = output.tasks.iter().map(view).collect();
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
        let total = output.total.max(tasks.len() as u64);
        let (pending, completed): (Vec<&TaskView>, Vec<&TaskView>) =
            tasks.iter().partition(|task| !task.completed);
        // Shown pending first, then completed: that order is what "the third one" counts.
        let shown: Vec<TaskView> =
            pending.iter().chain(completed.iter()).take(SHOWN_IN_LIST).map(|task| (*task).clone()).collect();
        self.state.last_list = shown.clone();
        self.referred = shown;
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

    async fn count(&mut self, mut filter: ListFilter) -> Step {
        self.resolve_topic(&mut filter).await?;
        let arguments = self.list_arguments(&filter);
        let (tools, ctx) = self.tools();
        let output =
            match self.turn.step("Counting tasks", "analytics", tools.list_tasks(ctx, arguments)).await? {
                Ok(output) => output,
                Err(error) => {
                    self.say(format!("I couldn't count your tasks: {error}"));
                    return Ok(());
                }
            };
        let (total, pending, completed) = (output.total, output.pending, output.completed);
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

    /// Everything about one task, which "it" then means.
    async fn show(&mut self, reference: TaskRef) -> Step {
        let Some(target) = self.resolve_one(&reference, Purpose::Show).await? else { return Ok(()) };
        let Some(task) = self.known(target).await? else { return Ok(()) };
        let state = if task.completed {
            "✅ done".to_owned()
        } else if task.due_at.is_some_and(|due| due < self.now.timestamp()) {
            "pending, ⚠️ overdue".to_owned()
        } else {
            "pending".to_owned()
        };
        let mut lines = vec![format!("**{}** — {state}", task.label())];
        let due = task.due_at.map_or_else(|| "no due date".to_owned(), |due| self.dates.format_due(due));
        lines.push(format!("- Due: {due}"));
        lines.push(format!("- Priority: {}", priority_word(&task.priority)));
        if !task.tags.is_empty() {
            let tags: Vec<String> = task.tags.iter().map(|tag| format!("#{tag}")).collect();
            lines.push(format!("- Tags: {}", tags.join(" ")));
        }
        if let Some(minutes) = task.reminder_minutes_before {
            lines.push(format!("- Reminder: {}", describe_reminder(minutes)));
        }
        if let Some(rule) = &task.recurrence {
            let until = rule.until.map(|until| self.dates.format_due(until));
            lines.push(format!("- Repeats: {}", describe_recurrence(rule, until)));
        }
        match &task.description {
            Some(notes) => lines.push(format!("- Notes: {notes}")),
            None => lines.push("- No notes".to_owned()),
        }
        self.say(lines.join("\n"));
        self.referred.push(task);
        Ok(())
    }

    // ----- resolving a task reference ---------------------------------------------------

    /// Finds the tasks a title phrase refers to: the tool's text search first, then a looser
    /// word match (plurals, word order) over all tasks.
    async fn find_by_title(&mut self, phrase: &str) -> Result<Vec<TaskView>, StreamClosed> {
        let arguments = ListTasksArgs {
            filter: TaskFilterArgs { search: Some(phrase.to_owned()), ..TaskFilterArgs::default() },
            limit: Some(LIST_LIMIT),
            ..ListTasksArgs::default()
        };
        let found = views(&self.list_call(arguments, &format!("Searching tasks for “{phrase}”")).await?);
        if !found.is_empty() {
            return Ok(found);
        }
        let all = self.all_tasks("Looking through your tasks").await?;
        Ok(all.into_iter().filter(|task| loosely_matches(phrase, &task.title)).collect())
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
        // The conversation is about these now: "the second one" counts in this list.
        self.state.pending = Some(Pending::Which {
            utterance: self.utterance.clone(),
            candidates: matches.iter().take(SHOWN_IN_LIST).cloned().collect(),
        });
        self.state.last_list = matches.iter().take(SHOWN_IN_LIST).cloned().collect();
        let mut lines = vec![if phrase == "it" {
            format!("We were talking about {} tasks:", matches.len())
        } else {
            format!("I found {} tasks matching “{phrase}”:", matches.len())
        }];
        lines.extend(matches.iter().take(SHOWN_IN_LIST).map(|task| self.bullet(task)));
        let example = matches.iter().find_map(|task| task.number).unwrap_or(1);
        lines.push(format!(
            "\nWhich one do you mean? Tell me its number or a word of its title — e.g. *{}*.",
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
        // The answer to "which one?" stands in for the reference that was ambiguous.
        if matches!(reference, TaskRef::Title(_) | TaskRef::Previous)
            && let Some(chosen) = self.forced.take()
        {
            return Ok(vec![Target::Known(chosen)]);
        }
        match reference {
            TaskRef::Number(number) => Ok(vec![Target::Number(*number)]),
            TaskRef::Previous if self.state.last_tasks.len() > 1 => {
                // "it" after several tasks: ask which, with them as the choices.
                let candidates = self.state.last_tasks.clone();
                self.ask_which("it", &candidates, purpose);
                Ok(Vec::new())
            }
            TaskRef::Previous | TaskRef::PreviousAll => {
                if self.state.last_tasks.is_empty() {
                    self.say("Which task do you mean? Tell me its number or its title — say *show my tasks* to see them.");
                    return Ok(Vec::new());
                }
                Ok(self.state.last_tasks.iter().cloned().map(Target::Known).collect())
            }
            TaskRef::Position(position) => {
                let index = *position as usize;
                if self.state.last_list.is_empty() {
                    return Ok(vec![Target::Number(*position)]);
                }
                match self.state.last_list.get(index.wrapping_sub(1)) {
                    Some(task) => Ok(vec![Target::Known(task.clone())]),
                    None => {
                        self.say(format!(
                            "The list I showed has only {} — which one do you mean?",
                            plural(self.state.last_list.len() as u64, "task", "tasks")
                        ));
                        Ok(Vec::new())
                    }
                }
            }
            TaskRef::First | TaskRef::Last if !self.state.last_list.is_empty() => {
                let list = &self.state.last_list;
                let pick = if *reference == TaskRef::First { list.first() } else { list.last() };
                Ok(pick.cloned().map(Target::Known).into_iter().collect())
            }
            TaskRef::First | TaskRef::Last => {
                let arguments = ListTasksArgs {
                    filter: TaskFilterArgs { status: StatusFilter::Pending, ..TaskFilterArgs::default() },
                    sort: Some(SortKey::Due),
                    limit: Some(LIST_LIMIT),
                    ..ListTasksArgs::default()
                };
                let tasks = views(&self.list_call(arguments, "Finding your pending tasks").await?);
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
                    // "check off groceries and the report": no title has the whole phrase, but
                    // each part names one task.
                    0 if allow_several
                        && let Some(targets) = self.resolve_each_part(phrase, purpose).await? =>
                    {
                        Ok(targets)
                    }
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

    /// The tasks "X and Y" (or "X, Y and Z") names, when each part names exactly one task.
    async fn resolve_each_part(
        &mut self,
        phrase: &str,
        purpose: Purpose,
    ) -> Result<Option<Vec<Target>>, StreamClosed> {
        let parts: Vec<&str> = phrase
            .split(',')
            .flat_map(|part| part.split(" and "))
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        if parts.len() < 2 {
            return Ok(None);
        }
        let mut targets = Vec::new();
        for part in parts {
            let found = Self::narrow(self.find_by_title(part).await?, part, purpose);
            let [task] = found.as_slice() else {
                return Ok(None);
            };
            targets.push(Target::Known(task.clone()));
        }
        Ok(Some(targets))
    }

    async fn resolve_one(
        &mut self,
        reference: &TaskRef,
        purpose: Purpose,
    ) -> Result<Option<Target>, StreamClosed> {
        Ok(self.resolve(reference, purpose, false).await?.into_iter().next())
    }

    /// Handles a single-task tool result: the updated task, or a reply explaining the failure.
    fn changed_task(
        &mut self,
        result: Result<ToolTask, ToolError>,
        target: &Target,
        verb: &str,
    ) -> Option<TaskView> {
        match result {
            Ok(task) => Some(view(&task)),
            Err(ToolError::TaskNotFound { .. }) => {
                self.say_not_found(target);
                None
            }
            Err(error) => {
                self.say(format!("I couldn't {verb} that task: {error}"));
                None
            }
        }
    }

    // ----- single-task changes -----------------------------------------------------------

    async fn set_completed(&mut self, reference: TaskRef, completed: bool) -> Step {
        let purpose = if completed { Purpose::Complete } else { Purpose::Reopen };
        for target in self.resolve(&reference, purpose, true).await? {
            self.set_completed_one(target, completed).await?;
        }
        Ok(())
    }

    async fn set_completed_one(&mut self, target: Target, completed: bool) -> Step {
        let (title, icon) = if completed {
            (format!("Completing {}", target.short()), "check-circle")
        } else {
            (format!("Reopening {}", target.short()), "reload")
        };
        let args = CompleteTaskArgs { task_id: target.task_id(), completed };
        let (tools, ctx) = self.tools();
        let result = self.turn.step(&title, icon, tools.complete_task(ctx, args)).await?;
        let verb = if completed { "complete" } else { "reopen" };
        let (next_task, was) = match &result {
            Ok(outcome) => (outcome.next_task.as_ref().map(view), Some(outcome.old_status == "completed")),
            Err(_) => (None, None),
        };
        let Some(task) = self.changed_task(result.map(|outcome| outcome.task), &target, verb) else {
            return Ok(());
        };
        self.referred.push(task.clone());
        if was == Some(completed) {
            let state = if completed { "already complete" } else { "not completed yet" };
            self.say(format!("**{}** is {state}.", task.title));
            return Ok(());
        }
        self.changes.push(Change::Completion {
            task_id: task.id.clone(),
            number: task.number,
            title: task.title.clone(),
            completed,
        });
        let reply = if completed {
            let mut reply = format!("✅ Marked **{}** as complete.", task.title);
            // Completing a recurring task creates its next occurrence (undo deletes it first).
            if let Some(next) = next_task {
                self.changes.push(Change::Created { task: next.clone() });
                let when = next
                    .due_at
                    .map(|due| format!(", due {}", self.dates.format_due(due)))
                    .unwrap_or_default();
                reply.push_str(&format!(" Next one is **{}**{when}.", next.label()));
            }
            reply
        } else {
            let mut reply = format!("✅ Reopened **{}** — it's pending again.", task.title);
            // Reopening a repeating task just completed here: the next one it created goes.
            if let Some(next) = self.spawned_by_last_completion(&task.id) {
                let args = TaskIdArgs { task_id: TaskIdArg::Text(next.id.clone()) };
                let (tools, ctx) = self.tools();
                let title = format!("Removing the next “{}”", next.title);
                if self.turn.step(&title, "empty-circle", tools.delete_task(ctx, args)).await?.is_ok() {
                    reply.push_str(&format!(" I removed **{}**, the next one it had created.", next.label()));
                    self.changes.push(Change::Deleted { task: next, kept: true });
                }
            }
            reply
        };
        self.say(reply);
        self.outcome.changed.push(task);
        Ok(())
    }

    /// The occurrence the last change created by completing repeating task `task_id`.
    fn spawned_by_last_completion(&self, task_id: &str) -> Option<TaskView> {
        self.state.last_change.windows(2).find_map(|pair| match pair {
            [Change::Completion { task_id: done, completed: true, .. }, Change::Created { task }]
                if done == task_id =>
            {
                Some(task.clone())
            }
            _ => None,
        })
    }

    async fn delete(&mut self, reference: TaskRef) -> Step {
        let targets = self.resolve(&reference, Purpose::Delete, true).await?;
        if targets.len() > 1 && !self.confirmed {
            // Deleting several at once is confirmed first, like any bulk delete.
            let mut lines = vec![format!("⚠️ This will delete **{} tasks**:", targets.len())];
            lines.extend(targets.iter().map(|target| format!("- {}", target.short())));
            lines.push("Are you sure? Reply **yes** to confirm or **no** to keep them.".to_owned());
            self.say(lines.join("\n"));
            self.state.pending =
                Some(Pending::Confirm { utterance: self.utterance.clone(), expected_count: None });
            return Ok(());
        }
        for target in targets {
            self.delete_one(target).await?;
        }
        Ok(())
    }

    async fn delete_one(&mut self, target: Target) -> Step {
        let title = format!("Deleting {}", target.short());
        let (tools, ctx) = self.tools();
        let args = TaskIdArgs { task_id: target.task_id() };
        let result = self.turn.step(&title, "empty-circle", tools.delete_task(ctx, args)).await?;
        if let Some(task) = self.changed_task(result.map(|outcome| outcome.task), &target, "delete") {
            self.say(format!("✅ Deleted **{}**.", task.label()));
            self.changes.push(Change::Deleted { task, kept: true });
        }
        Ok(())
    }

    /// Applies `patch` (its `task_id` is set here) and remembers the task as it was, for undo.
    async fn update(
        &mut self,
        target: &Target,
        mut patch: UpdateTaskArgs,
        title: &str,
        icon: &str,
    ) -> Result<Option<TaskView>, StreamClosed> {
        let before = match target {
            Target::Known(task) => Some(task.clone()),
            Target::Number(_) => self.known(target.clone()).await?,
        };
        let Some(before) = before else { return Ok(None) };
        patch.task_id = TaskIdArg::Text(before.id.clone());
        let (tools, ctx) = self.tools();
        let result = self.turn.step(title, icon, tools.update_task(ctx, patch)).await?;
        let after = self.changed_task(result.map(|outcome: TaskOutcome| outcome.task), target, "update");
        if let Some(after) = &after {
            self.changes.push(Change::Updated { before });
            self.referred.push(after.clone());
        }
        Ok(after)
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
        let target = match self.known(target).await? {
            Some(task) => Target::Known(task),
            None => return Ok(()),
        };
        let title = format!("Renaming {}", target.short());
        let mut patch = UpdateTaskArgs::new(target.task_id());
        patch.title = Some(new_title);
        let Some(task) = self.update(&target, patch, &title, "write-alt").await? else {
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
        let mut patch = UpdateTaskArgs::new(target.task_id());
        patch.description = Some(Some(description.clone()));
        let Some(task) = self.update(&target, patch, &title, "notebook-pencil").await? else { return Ok(()) };
        self.say(format!("✅ Updated **{}** — note: “{description}”.", task.title));
        self.outcome.changed.push(task);
        Ok(())
    }

    async fn set_priority(&mut self, reference: TaskRef, priority: Priority) -> Step {
        let Some(target) = self.resolve_one(&reference, Purpose::Prioritise).await? else { return Ok(()) };
        let title = format!("Setting {} to {priority} priority", target.short());
        let mut patch = UpdateTaskArgs::new(target.task_id());
        patch.priority = Some(priority.to_string());
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
                let all = self.all_tasks("Looking up the task").await?;
                let found = all.into_iter().find(|task| task.number == Some(i64::from(number)));
                if found.is_none() {
                    self.say_not_found(&target);
                }
                Ok(found)
            }
        }
    }

    /// The new due time of `task`: `due` itself; for a day without a time, that day at the
    /// task's own time of day ("move the dentist to friday" keeps its 2 PM); for a time-only
    /// change, the task's own date (in the user's zone) at the new time.
    fn new_due(&self, task: Option<&TaskView>, due: &NewDue) -> Zoned {
        let current = task.and_then(|task| task.due_at).map(|at| at.to_zoned(self.now.time_zone().clone()));
        if due.has_date {
            return match current {
                Some(current) if !due.has_time && current.time() != DEFAULT_DUE_TIME => due
                    .at
                    .date()
                    .to_datetime(current.time())
                    .to_zoned(self.now.time_zone().clone())
                    .unwrap_or_else(|_| due.at.clone()),
                _ => due.at.clone(),
            };
        }
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
            // Without a time the task's own time of day is kept, so the task is looked up.
            let task = if due.has_time && due.has_date { None } else { self.known(target.clone()).await? };
            if !(due.has_time && due.has_date) && task.is_none() {
                continue;
            }
            let at = self.new_due(task.as_ref(), &due);
            let title = format!("Rescheduling {}", target.short());
            let mut patch = UpdateTaskArgs::new(target.task_id());
            patch.due_date = Some(Some(rfc3339(&at)));
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

    /// Moves every open task `filter` matches (one page of them).
    async fn reschedule_all(&mut self, mut filter: ListFilter, due: NewDue) -> Step {
        self.resolve_topic(&mut filter).await?;
        if filter.status != StatusFilter::Overdue {
            filter.status = StatusFilter::Pending;
        }
        let described = Self::describe_filter(&filter);
        let args = ListTasksArgs {
            filter: self.filter_arguments(&filter),
            limit: Some(LIST_LIMIT),
            ..Default::default()
        };
        let found = views(&self.list_call(args, &format!("Finding {described}")).await?);
        if found.is_empty() {
            self.say(format!("I didn't find any {described} to move."));
            return Ok(());
        }
        let mut moved = Vec::new();
        for task in found {
            let at = self.new_due(Some(&task), &due);
            let target = Target::Known(task);
            let mut patch = UpdateTaskArgs::new(target.task_id());
            patch.due_date = Some(Some(rfc3339(&at)));
            let title = format!("Rescheduling {}", target.short());
            if let Some(task) = self.update(&target, patch, &title, "calendar").await? {
                moved.push(task);
            }
        }
        let mut lines = vec![format!("✅ Rescheduled {}:", plural(moved.len() as u64, "task", "tasks"))];
        lines.extend(moved.iter().take(SHOWN_IN_LIST).map(|task| self.bullet(task)));
        self.say(lines.join("\n"));
        self.outcome.changed.extend(moved);
        Ok(())
    }

    // ----- other edits and undo ------------------------------------------------------------

    async fn edit(&mut self, reference: TaskRef, edit: Edit) -> Step {
        for target in self.resolve(&reference, Purpose::Edit, true).await? {
            let Some(task) = self.known(target.clone()).await? else { continue };
            let target = Target::Known(task.clone());
            let mut patch = UpdateTaskArgs::new(target.task_id());
            let said = match &edit {
                Edit::AddTags(tags) => {
                    patch.add_tags = Some(tags.clone());
                    format!("tagged {}", hashtags(tags))
                }
                Edit::RemoveTags(tags) => {
                    let lower: Vec<String> = tags.iter().map(|tag| tag.to_lowercase()).collect();
                    if !task.tags.iter().any(|tag| lower.contains(tag)) {
                        self.say(format!("**{}** isn't tagged {}.", task.title, hashtags(tags)));
                        continue;
                    }
                    patch.remove_tags = Some(lower);
                    format!("no longer tagged {}", hashtags(tags))
                }
                Edit::ClearTags => {
                    patch.clear = Some(vec![crate::tools::ClearableField::Tags]);
                    "has no tags now".to_owned()
                }
                Edit::RaisePriority | Edit::LowerPriority => {
                    let raise = edit == Edit::RaisePriority;
                    let next = match (task.priority.as_str(), raise) {
                        ("low", true) => "medium",
                        (_, true) => "high",
                        ("high", false) => "medium",
                        (_, false) => "low",
                    };
                    if next == task.priority {
                        let edge = if raise { "highest" } else { "lowest" };
                        self.say(format!("**{}** is already at the {edge} priority ({next}).", task.title));
                        continue;
                    }
                    patch.priority = Some(next.to_owned());
                    format!("is now **{next}** priority")
                }
                Edit::ShiftDue(shift) => {
                    let Some(due) = task.due_at else {
                        self.say(format!(
                            "**{}** has no due date to move — tell me a day instead, e.g. *move it to friday*.",
                            task.title
                        ));
                        continue;
                    };
                    let zone = self.now.time_zone().clone();
                    let Ok(moved) = due.to_zoned(zone).checked_add(shift.span()) else {
                        self.say("That would move it too far.");
                        continue;
                    };
                    patch.due_date = Some(Some(rfc3339(&moved)));
                    format!("moved {}", shift.describe())
                }
                Edit::ClearDue => {
                    patch.clear = Some(vec![crate::tools::ClearableField::DueDate]);
                    "has no due date now".to_owned()
                }
                Edit::ClearNotes => {
                    patch.clear = Some(vec![crate::tools::ClearableField::Description]);
                    "has no notes now".to_owned()
                }
                Edit::AddNote(note) => {
                    // Added to the notes already there, never in their place.
                    let notes = match task.description.as_deref() {
                        Some(before) if !before.trim().is_empty() => format!("{before}\n{note}"),
                        _ => note.clone(),
                    };
                    patch.description = Some(Some(notes));
                    format!("— note added: “{note}”")
                }
                Edit::Reminder(Some(minutes)) => {
                    if task.due_at.is_none() {
                        self.say(format!(
                            "**{}** has no due time to remind you before — tell me when it's due first, e.g. \
                             *move it to friday 3pm*.",
                            task.title
                        ));
                        continue;
                    }
                    patch.reminder = Some(Some(ReminderArg::Minutes(i64::from(*minutes))));
                    format!("will remind you {}", reminder_words(*minutes))
                }
                Edit::RemindAt(when) => {
                    let Some(due) = task.due_at else {
                        self.say(format!(
                            "**{}** has no due time, and reminders come a set time before it — tell me when \
                             it's due first, e.g. *move it to friday 3pm*.",
                            task.title
                        ));
                        continue;
                    };
                    // Only a time of day ("at 9am"): on the day the task is due.
                    let moment = if when.has_date {
                        Some(when.at.timestamp())
                    } else {
                        due.to_zoned(self.now.time_zone().clone())
                            .date()
                            .to_datetime(when.at.time())
                            .to_zoned(self.now.time_zone().clone())
                            .ok()
                            .map(|at| at.timestamp())
                    };
                    let minutes = moment
                        .filter(|moment| *moment <= due)
                        .and_then(|moment| u32::try_from(due.duration_since(moment).as_secs() / 60).ok());
                    let Some(minutes) = minutes else {
                        self.say(format!(
                            "Reminders come before a task is due, and **{}** is due {} — move it first, \
                             e.g. *move it to {}*.",
                            task.title,
                            self.dates.format_due(due),
                            when.at.strftime("%A %-I%P")
                        ));
                        continue;
                    };
                    patch.reminder = Some(Some(ReminderArg::Minutes(i64::from(minutes))));
                    format!("will remind you {}", reminder_words(minutes))
                }
                Edit::Reminder(None) => {
                    patch.clear = Some(vec![crate::tools::ClearableField::Reminder]);
                    "has no reminder now".to_owned()
                }
                Edit::Repeat(Some(repeat)) => {
                    if task.due_at.is_none() {
                        // A repeating task needs a first occurrence.
                        let first = repeat
                            .first_day(self.now.date())
                            .unwrap_or(self.now.date())
                            .to_datetime(todokit_domain::nl::DEFAULT_DUE_TIME)
                            .to_zoned(self.now.time_zone().clone())
                            .ok();
                        patch.due_date = Some(first.as_ref().map(rfc3339));
                    } else if let Some(current) =
                        task.due_at.map(|due| due.to_zoned(self.now.time_zone().clone()))
                        && let Some(day) = repeat.first_day(current.date())
                        && day != current.date()
                    {
                        // "every Monday" for a task due on a Thursday: the series starts on the
                        // first day the rule names, at the task's time.
                        let first =
                            day.to_datetime(current.time()).to_zoned(self.now.time_zone().clone()).ok();
                        patch.due_date = Some(first.as_ref().map(rfc3339));
                    }
                    patch.recurrence = Some(Some(recurrence_arg(repeat)));
                    format!("repeats {}", repeat.describe())
                }
                Edit::Repeat(None) => {
                    patch.clear = Some(vec![crate::tools::ClearableField::Recurrence]);
                    "no longer repeats".to_owned()
                }
                Edit::RepeatUnsupported(why) => {
                    self.say(format!("I can't make **{}** repeat that way: {why}.", task.title));
                    continue;
                }
            };
            let title = format!("Updating {}", target.short());
            if let Some(after) = self.update(&target, patch, &title, "write-alt").await? {
                let due = match (&edit, after.due_at) {
                    (Edit::ShiftDue(_) | Edit::Repeat(Some(_)), Some(at)) => {
                        format!(" — due {}", self.dates.format_due(at))
                    }
                    _ => String::new(),
                };
                self.say(format!("✅ **{}** {said}{due}.", after.label()));
                self.outcome.changed.push(after);
            }
        }
        Ok(())
    }

    /// What an unreadable message still told us, for the reply.
    fn understood(&self) -> String {
        let found = todokit_domain::nl::parse_datetime(&self.utterance, &self.now);
        match found {
            Some(found) => format!(
                " — I saw a date ({}) but not what to do with it; try *add … {}* or *move task 2 to {}*",
                self.dates.format_due(found.at.timestamp()),
                &self.utterance[found.start..found.end].trim(),
                &self.utterance[found.start..found.end].trim()
            ),
            None => String::new(),
        }
    }

    // ----- bulk changes --------------------------------------------------------------------

    async fn set_all_completed(&mut self, mut filter: ListFilter, completed: bool) -> Step {
        self.resolve_topic(&mut filter).await?;
        let described = Self::describe_filter(&ListFilter { status: StatusFilter::All, ..filter.clone() });
        let args =
            CompleteAllTasksArgs { filter: self.filter_arguments(&filter), completed: Some(completed) };
        let (title, icon) = if completed {
            (format!("Completing all {described}"), "check-circle")
        } else {
            (format!("Reopening all {described}"), "reload")
        };
        let (tools, ctx) = self.tools();
        let outcome = match self.turn.step(&title, icon, tools.complete_all_tasks(ctx, args)).await? {
            Ok(outcome) => outcome,
            Err(error) => {
                self.say(format!("I couldn't update your tasks: {error}"));
                return Ok(());
            }
        };
        if outcome.updated_count == 0 {
            self.say(match (outcome.total_count, completed) {
                (0, _) if filter.is_everything() => {
                    "You don't have any tasks yet. Want to add one?".to_owned()
                }
                (0, _) => format!("I didn't find any {described}."),
                (_, true) => format!("All your {described} are already complete. 🎉"),
                (_, false) => {
                    format!("None of your {described} are completed, so there's nothing to reopen.")
                }
            });
            return Ok(());
        }
        let verb = if completed { "marked as complete" } else { "reopened" };
        let mut lines = vec![format!("✅ {} {verb}:", plural(outcome.updated_count, "task", "tasks"))];
        lines.extend(
            outcome.tasks.iter().take(SHOWN_IN_LIST).map(|task| format!("- #{} {}", task.number, task.title)),
        );
        if !outcome.next_tasks.is_empty() {
            let next: Vec<String> = outcome
                .next_tasks
                .iter()
                .take(SHOWN_IN_LIST)
                .map(|task| format!("**#{} {}**", task.number, task.title))
                .collect();
            // A paragraph of its own, not a continuation of the last list item.
            lines.push(format!("\nNext ones: {}.", next.join(", ")));
        }
        self.say(lines.join("\n"));
        for task in &outcome.tasks {
            let changed = named_only(task.id, task.number, &task.title, completed);
            self.changes.push(Change::Completion {
                task_id: changed.id.clone(),
                number: changed.number,
                title: changed.title.clone(),
                completed,
            });
            self.referred.push(changed);
        }
        // Completing recurring tasks created their next occurrences; undo deletes them too.
        for next in &outcome.next_tasks {
            self.changes.push(Change::Created { task: named_only(next.id, next.number, &next.title, false) });
        }
        Ok(())
    }

    /// Deleting by filter: the first time it counts, names the tasks when there are few and
    /// asks; after "yes" the tool deletes exactly that many matching tasks (or nothing, if the
    /// set changed in between).
    async fn delete_all(&mut self, mut filter: ListFilter) -> Step {
        self.resolve_topic(&mut filter).await?;
        let described = Self::describe_filter(&filter);
        let completed_only =
            filter == ListFilter { status: StatusFilter::Completed, ..ListFilter::default() };
        let confirmed = self.confirmed.then_some(self.expected_count).flatten();
        let args = DeleteAllTasksArgs {
            filter: self.filter_arguments(&filter),
            confirm: confirmed.is_some(),
            expected_count: confirmed,
        };
        let title = if confirmed.is_some() {
            format!("Deleting all {described}")
        } else {
            format!("Counting {described} to delete")
        };
        // What is about to go, in full, so that "undo" can bring it back.
        let doomed = if confirmed.is_some() {
            let list = ListTasksArgs {
                filter: self.filter_arguments(&filter),
                limit: Some(LIST_LIMIT),
                ..ListTasksArgs::default()
            };
            views(&self.list_call(list, &format!("Noting the {described} to delete")).await?)
        } else {
            Vec::new()
        };
        let (tools, ctx) = self.tools();
        let outcome = match self.turn.step(&title, "empty-circle", tools.delete_all_tasks(ctx, args)).await? {
            Ok(outcome) => outcome,
            Err(ToolError::TasksChanged(_)) => {
                self.say("Your tasks changed since I asked, so I didn't delete anything. Ask me again to see what matches now.");
                return Ok(());
            }
            Err(error) => {
                self.say(format!("I couldn't delete those tasks: {error}"));
                return Ok(());
            }
        };
        if outcome.task_count == 0 {
            self.say(if filter.is_everything() {
                "You don't have any tasks to delete.".to_owned()
            } else if completed_only {
                "You don't have any completed tasks to clear.".to_owned()
            } else {
                format!("You don't have any {described} to delete.")
            });
            return Ok(());
        }
        if outcome.requires_confirmation {
            let count = outcome.task_count;
            let what = if filter.is_everything() {
                if count == 1 {
                    "your **only task**".to_owned()
                } else {
                    format!("all **{count} of your tasks**")
                }
            } else if completed_only {
                if count == 1 {
                    "your **1 completed task**".to_owned()
                } else {
                    format!("all **{count} completed tasks**")
                }
            } else {
                format!("**{}** ({described})", plural(count, "task", "tasks"))
            };
            let mut lines = vec![format!("⚠️ This will delete {what}.")];
            if count <= 10 {
                lines.extend(outcome.tasks.iter().map(|task| format!("- #{} {}", task.number, task.title)));
            }
            lines.push("Are you sure? Reply **yes** to confirm or **no** to keep them.".to_owned());
            self.say(lines.join("\n"));
            self.state.pending =
                Some(Pending::Confirm { utterance: self.utterance.clone(), expected_count: Some(count) });
            return Ok(());
        }
        let deleted = outcome.deleted_count;
        let kind = if completed_only { "completed " } else { "" };
        let noun = if deleted == 1 { "task" } else { "tasks" };
        if doomed.len() as u64 == deleted {
            self.say(format!("✅ Deleted {deleted} {kind}{noun}. Say **undo** to bring them back."));
            self.changes.extend(doomed.into_iter().map(|task| Change::Deleted { task, kept: false }));
        } else {
            // More than one page went: too many to bring back one by one.
            self.say(format!("✅ Deleted {deleted} {kind}{noun}. ✨"));
            self.undoing = true;
        }
        Ok(())
    }
}

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
    fn loose_title_matching_reads_usual_short_forms_either_way() {
        assert!(loosely_matches("dentist appointment", "Dentist appt"));
        assert!(loosely_matches("team mtg", "Team meetings on Monday"));
        assert!(loosely_matches("mom's bday", "Mom's birthday present"));
        assert!(!loosely_matches("dentist appointment", "Dentist bill"));
        assert!(!loosely_matches("dr", "Pay the gas bill"));
    }

    #[test]
    fn plural_phrases_are_recognised() {
        assert!(is_plural_phrase("morning meetings"));
        assert!(!is_plural_phrase("dentist"));
        assert!(!is_plural_phrase("class"));
    }
}
