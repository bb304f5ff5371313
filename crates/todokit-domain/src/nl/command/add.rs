//! New tasks: "add …", "remind me to …", and a bare task line that says when ("fix bike asap").

use super::*;

impl Utterance<'_> {
    pub(super) fn add(&self, start: usize) -> Option<Command> {
        let verb = self.w(start);
        let next = self.w(start + 1);
        let adds = match verb {
            "add" | "create" | "new" | "remind" | "remember" | "todo" | "task" | "jot" | "note" => true,
            "make" | "schedule" | "set" | "save" => {
                // An article is required: "make task 4 urgent" is an update, not an add.
                let mut at = start + 1;
                if matches!(self.w(at), "me" | "up") {
                    at += 1;
                }
                if !matches!(self.w(at), "a" | "an" | "new" | "another") {
                    return None;
                }
                at += 1;
                if self.w(at) == "new" {
                    at += 1;
                }
                matches!(self.w(at), "task" | "todo" | "to-do" | "reminder")
            }
            "don't" | "dont" => next == "forget",
            // "put oat milk on my list", "jot down call the bank", "stick bread on the list"
            "put" | "stick" | "pop" | "throw" | "write" | "pencil" => {
                matches!(next, "down" | "in" | "a" | "an")
                    || self.has_any(&["list", "todo", "to-do", "todos", "tasks"])
                    // "put gym on thursday 7am" (but "put the groceries on monday" moves a task)
                    || (verb == "put"
                        && !matches!(next, "the" | "my" | "it" | "that" | "this" | "task" | "them")
                        && self.has_date_after(start))
            }
            "do" => next == "not" && self.w(start + 2) == "forget",
            "i" | "need" | "gotta" | "must" => {
                matches!(
                    (next, self.w(start + 2)),
                    ("need" | "have" | "got", "to") | ("must" | "should" | "gotta", _)
                ) || (verb == "need" && next == "to")
                    || verb == "gotta"
                    // "I have a dentist appointment next tuesday at 2pm": something on a day.
                    || (matches!(next, "have" | "got")
                        && matches!(self.w(start + 2), "a" | "an")
                        && self.has_date_after(start))
            }
            "i've" | "ive" => {
                next == "got" && matches!(self.w(start + 2), "a" | "an") && self.has_date_after(start)
            }
            _ => false,
        };
        if !adds {
            return None;
        }
        if let Some(several) = self.add_several(start) {
            return Some(several);
        }
        // "add a reminder the day before": a reminder for the task just talked about.
        if verb == "add" {
            let at = start + 1 + usize::from(matches!(next, "a" | "an"));
            let refs = self.refs(at, self.len());
            if matches!(self.w(at), "reminder" | "alarm" | "alert")
                && let Some(found) = find_reminder(&refs)
                && found.end == refs.len()
                && refs[..found.first]
                    .iter()
                    .all(|t| matches!(t.text(), "reminder" | "alarm" | "alert" | "for" | "it"))
            {
                return Some(Command::Edit(TaskRef::Previous, Edit::Reminder(Some(found.value))));
            }
        }
        let quick_add = parse_quick_add(self.raw(start, self.len()), self.now);
        if quick_add.title.is_empty() {
            return Some(Command::AddMissingTitle);
        }
        Some(Command::Add(quick_add))
    }

    /// "create 3 tasks for my morning routine".
    pub(super) fn add_several(&self, start: usize) -> Option<Command> {
        let mut at = start + 1;
        if self.w(at) == "me" {
            at += 1;
        }
        let count = small_number(self.w(at)).filter(|n| *n >= 2)?;
        if !matches!(self.w(at + 1), "tasks" | "todos" | "to-dos" | "reminders" | "items" | "new") {
            return None;
        }
        let mut topic = at + 2;
        if self.w(topic) == "tasks" {
            topic += 1;
        }
        while matches!(self.w(topic), "for" | "about" | "on" | "my" | "the" | "to" | "of") {
            topic += 1;
        }
        Some(Command::AddSeveral {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            topic: tidy(self.raw(topic, self.len())),
        })
    }

    /// "book flights for xmas tonite", "fix bike asap", "wrap presents dec 24 #holiday": a line
    /// with no command that still says when, how urgent or which tag is a task to add, as in
    /// a quick-add box. A question, or a line about something already talked about ("the
    /// report friday", "it tomorrow"), is not.
    pub(super) fn bare_task_line(&self, start: usize) -> Option<Command> {
        const NOT_A_TITLE_START: &[&str] = &[
            "what",
            "what's",
            "whats",
            "when",
            "when's",
            "where",
            "who",
            "why",
            "how",
            "which",
            "is",
            "are",
            "was",
            "were",
            "do",
            "does",
            "did",
            "can",
            "could",
            "should",
            "would",
            "will",
            "have",
            "has",
            "i",
            "i'm",
            "im",
            "i've",
            "you",
            "we",
            "they",
            "it",
            "it's",
            "its",
            "that",
            "this",
            "these",
            "those",
            "the",
            "my",
            "a",
            "an",
            "task",
            "tasks",
            "todo",
            "todos",
            "all",
            "every",
            "everything",
            "nothing",
            "no",
            "not",
            "yes",
            "ok",
            "okay",
            "also",
            "and",
            "or",
            "but",
            "for",
            "on",
            "at",
            "by",
            "in",
            "to",
            "from",
            "until",
            "due",
            "next",
            "this",
            "tomorrow",
            "today",
            "tonight",
        ];
        // Words that talk about a task already there ("call it …", "the haircut is at 3",
        // "actually just daily"), which a new task's title would not carry.
        const ABOUT_ANOTHER_TASK: &[&str] = &[
            "it", "it's", "its", "that", "that's", "them", "this", "is", "are", "was", "should", "instead",
            "actually", "just", "again", "snooze",
        ];
        if NOT_A_TITLE_START.contains(&self.w(start))
            || is_command_verb(self.w(start))
            || self.words[start..].iter().any(|w| ABOUT_ANOTHER_TASK.contains(w))
            || self.words[start].starts_with('#')
            || digits(self.w(start)).is_some()
            || self.text.trim_end().ends_with('?')
        {
            return None;
        }
        let quick = parse_quick_add(self.raw(start, self.len()), self.now);
        // One word and a priority ("dentist low priority") more likely names a task already there.
        let says_more = quick.due.is_some()
            || quick.repeat.is_some()
            || !quick.tags.is_empty()
            || (quick.priority.is_some() && quick.title.split_whitespace().count() > 1);
        (says_more && !quick.title.is_empty() && quick.repeat_unsupported.is_none())
            .then_some(Command::Add(quick))
    }
}
