//! Completing, reopening and deleting: one task, several, or every task a filter matches.

use super::*;

/// Words that, around "all", still mean every task ("mark all my tasks as done").
const EVERYTHING_WORDS: &[&str] = &[
    "all",
    "every",
    "everything",
    "each",
    "of",
    "my",
    "the",
    "tasks",
    "task",
    "todos",
    "to-dos",
    "items",
    "ones",
    "stuff",
    "things",
    "open",
    "pending",
    "remaining",
    "current",
    "as",
    "to",
    "i",
    "have",
];

impl Utterance<'_> {
    pub(super) fn bulk(&self, start: usize) -> Option<Command> {
        // "get rid of everything tagged work" deletes as "delete everything tagged work" does.
        let (verb, start) =
            if self.w(start) == "get" && self.w(start + 1) == "rid" && self.w(start + 2) == "of" {
                ("delete", start + 2)
            } else {
                (self.w(start), start)
            };
        let end = self.len();
        let all = self.has_any(&["all", "every", "everything", "each"]);
        let plural = self.has_any(&["tasks", "todos", "ones", "items", "to-dos"]);
        match verb {
            "mark" | "complete" | "finish" | "check" | "tick" | "set" | "close" | "reopen" | "uncomplete"
            | "unmark" | "uncheck"
                if all || plural =>
            {
                let state = self.trailing_state(start + 1);
                let (filter_end, reopen) = match state {
                    Some((state_start, reopen)) => (state_start, reopen),
                    None if matches!(verb, "mark" | "set") => return None,
                    None => (end, matches!(verb, "reopen" | "uncomplete" | "unmark" | "uncheck")),
                };
                let mut filter = self.list_filter(start + 1, filter_end);
                if !all && filter.is_everything() {
                    return None;
                }
                // "mark all of today's stuff done": a qualifier not understood must never widen
                // the action to every task.
                if filter.is_everything()
                    && !self.words[start + 1..filter_end].iter().all(|w| EVERYTHING_WORDS.contains(w))
                {
                    return None;
                }
                if filter.status != StatusFilter::Overdue {
                    filter.status = StatusFilter::All;
                }
                Some(if reopen { Command::ReopenAll(filter) } else { Command::CompleteAll(filter) })
            }
            verb if BULK_DELETE_VERBS.contains(&verb)
                && !(self.has_any(&[
                    "tag",
                    "tags",
                    "label",
                    "labels",
                    "reminder",
                    "reminders",
                    "note",
                    "notes",
                    "description",
                ]) && self.has_any(&["from", "off", "on"])) =>
            {
                const LIST_WORDS: &[&str] = &[
                    "my",
                    "the",
                    "list",
                    "tasks",
                    "todo",
                    "todos",
                    "out",
                    "all",
                    "everything",
                    "whole",
                    "entire",
                ];
                let whole_list = WHOLE_LIST_VERBS.contains(&verb)
                    && self.words[start + 1..].iter().all(|w| LIST_WORDS.contains(w) || is_status_word(w));
                let filter = self.list_filter(start + 1, end);
                if all
                    || whole_list
                    || (plural && !filter.is_everything())
                    || (filter.status == StatusFilter::Completed
                        && self.words[start + 1..].iter().all(|w| {
                            LIST_WORDS.contains(w) || is_status_word(w) || matches!(*w, "ones" | "items")
                        }))
                {
                    return Some(Command::DeleteAll(filter));
                }
                None
            }
            _ => None,
        }
    }

    pub(super) fn complete_or_reopen(&self, start: usize) -> Option<Command> {
        let verb = self.w(start);
        let end = self.len();
        match verb {
            "mark" | "set" | "flag" => {
                let (state_start, reopen) = self.trailing_state(start + 1)?;
                Some(self.per_ref(start + 1, state_start, reopen))
            }
            // "check off X", "crossed off X" (said once it is done)
            "check" | "tick" | "cross" | "checked" | "ticked" | "crossed" => {
                let from = if self.w(start + 1) == "off" { start + 2 } else { start + 1 };
                let to = if self.w(end - 1) == "off" { end - 1 } else { end };
                Some(self.per_ref(from, to, false))
            }
            "done" if self.w(start + 1) == "with" => Some(self.per_ref(start + 2, end, false)),
            "complete" | "done" | "close" | "finished" | "completed" => {
                Some(self.per_ref(start + 1, end, false))
            }
            // "finish task 5", "finish the report": a task named by what finishing it means.
            "finish" if start + 1 < end => Some(self.per_ref(start + 1, end, false)),
            "reopen" | "re-open" | "uncomplete" | "un-complete" | "unmark" | "unfinish" | "undo"
            | "restore" | "uncheck" | "untick"
                if start + 1 < end =>
            {
                // "undo the completion of call mom"
                let from = match (self.w(start + 1), self.w(start + 2), self.w(start + 3)) {
                    ("the", "completion", "of") => start + 4,
                    ("completing" | "finishing", _, _) => start + 2,
                    _ => start + 1,
                };
                Some(self.per_ref(from, end, true))
            }
            "i" | "i've" | "ive" | "i'm" | "im" | "just" | "finally" | "already" | "we" | "we've"
            | "we're" => {
                let mut at = start + 1;
                while matches!(self.w(at), "have" | "just" | "already" | "finally" | "now" | "went" | "and") {
                    at += 1;
                }
                if matches!(self.w(at), "finished" | "completed" | "done" | "did" | "complete") {
                    let from = if self.w(at + 1) == "with" { at + 2 } else { at + 1 };
                    return Some(self.per_ref(from, end, false));
                }
                // "I've paid the water bill", "just called mom": a task done, named by what was done.
                if matches!(self.w(at), "didn't" | "haven't" | "havent" | "didnt" | "not") {
                    // "i didnt renew the library books after all": that task is not done.
                    let mut end = end;
                    while end > at + 2 && matches!(self.w(end - 1), "all" | "after" | "yet" | "actually") {
                        end -= 1;
                    }
                    let said_after_all = self.has_phrase(&["after", "all"]) || self.has_any(&["actually"]);
                    return (said_after_all && at + 2 < end).then(|| self.per_ref(at + 2, end, true));
                }
                (is_past_tense(self.w(at)) && at + 1 < end).then(|| self.per_ref(at + 1, end, false))
            }
            word if is_past_tense(word)
                && !is_command_verb(word)
                && start + 1 < end
                && !self
                    .has_any(&["what", "which", "when", "?", "how", "tasks", "did", "anything", "any"]) =>
            {
                // "knocked out the groceries": the particle belongs to the verb.
                let from = start + 1 + usize::from(matches!(self.w(start + 1), "out" | "off" | "up"));
                Some(self.per_ref(from, end, false))
            }
            _ => {
                // "task 3 done", "the report is finished"; "call mom isn't done yet" reopens.
                let end = if end >= 3 && self.w(end - 1) == "yet" { end - 1 } else { end };
                // "the report isn't actually finished"
                if end >= 4
                    && matches!(self.w(end - 2), "actually" | "really" | "quite" | "fully")
                    && matches!(self.w(end - 3), "isn't" | "isnt" | "wasn't" | "wasnt" | "not")
                    && matches!(self.w(end - 1), "done" | "complete" | "completed" | "finished")
                    && !is_command_verb(verb)
                    && !self.has_any(&["?", "which", "what", "whats", "what's"])
                {
                    let mut ref_end = end - 3;
                    while ref_end > start && matches!(self.w(ref_end - 1), "is" | "was" | "are" | "still") {
                        ref_end -= 1;
                    }
                    return (ref_end > start).then(|| self.per_ref(start, ref_end, true));
                }
                let last = self.w(end - 1);
                // "call mom needs to be redone", "the report has to be done again"
                let before_last = if end >= 2 { self.w(end - 2) } else { QUOTED };
                let again = match (before_last, last) {
                    (_, "redone" | "re-done") => Some(end - 1),
                    ("done", "again") => Some(end - 2),
                    _ => None,
                };
                if let Some(mut ref_end) = again
                    && !is_command_verb(verb)
                    && !self.has_any(&["what", "which", "what's", "whats", "show", "list"])
                {
                    while ref_end > start
                        && matches!(
                            self.w(ref_end - 1),
                            "be" | "to" | "needs" | "need" | "has" | "have" | "must" | "should" | "is"
                        )
                    {
                        ref_end -= 1;
                    }
                    return (ref_end > start).then(|| self.per_ref(start, ref_end, true));
                }
                if end >= 2
                    && matches!(
                        last,
                        "done" | "complete" | "completed" | "finished" | "sorted" | "handled" | "paid"
                    )
                {
                    let negated = match self.w(end - 2) {
                        "isn't" | "isnt" | "wasn't" | "wasnt" | "aren't" | "arent" => Some(end - 2),
                        "not" if end >= 3 && matches!(self.w(end - 3), "is" | "was" | "are" | "still") => {
                            Some(end - 3)
                        }
                        _ => None,
                    };
                    if let Some(mut ref_end) = negated {
                        while ref_end > start && matches!(self.w(ref_end - 1), "is" | "was" | "are" | "still")
                        {
                            ref_end -= 1;
                        }
                        let statement = !self.has_any(&["?", "which", "what", "whats", "what's"])
                            && !is_command_verb(verb)
                            && ref_end > start;
                        return statement.then(|| self.per_ref(start, ref_end, true));
                    }
                    let ref_end = if matches!(self.w(end - 2), "is" | "was" | "are" | "now") {
                        end - 2
                    } else {
                        end - 1
                    };
                    let question = matches!(
                        verb,
                        "what"
                            | "what's"
                            | "whats"
                            | "which"
                            | "how"
                            | "did"
                            | "have"
                            | "has"
                            | "is"
                            | "are"
                            | "show"
                            | "list"
                            | "any"
                            | "who"
                            | "when"
                            | "where"
                    );
                    if ref_end > start && !question && !is_command_verb(verb) && self.w(ref_end - 1) != "not"
                    {
                        return Some(self.per_ref(start, ref_end, false));
                    }
                }
                None
            }
        }
    }

    /// For "mark X as done": where the state phrase starts and whether it means "not done".
    pub(super) fn trailing_state(&self, from: usize) -> Option<(usize, bool)> {
        let end = self.len();
        // Longest phrase first, so "not done" wins over "done".
        for state_start in from..end {
            let phrase = self.words[state_start..end].join(" ");
            let phrase = phrase.strip_prefix("as ").unwrap_or(&phrase);
            let reopen = match phrase {
                "complete" | "completed" | "done" | "finished" | "checked" | "off" | "checked off"
                | "closed" | "paid" | "bought" | "sorted" | "handled" | "taken care of" => false,
                "incomplete" | "uncompleted" | "not done" | "not complete" | "not completed" | "undone"
                | "pending" | "open" | "unfinished" | "todo" | "to do" | "active" | "not finished"
                | "uncomplete" | "unchecked" | "not yet done" | "to-do" | "not done yet" | "in progress"
                | "reopened" => true,
                _ => continue,
            };
            return Some((state_start, reopen));
        }
        None
    }

    /// One command per referenced task ("complete 2 and 3" → two commands).
    pub(super) fn per_ref(&self, start: usize, end: usize, reopen: bool) -> Command {
        let build = |task: TaskRef| if reopen { Command::Reopen(task) } else { Command::Complete(task) };
        self.build_per_ref(start, end, build)
    }

    pub(super) fn build_per_ref(
        &self,
        start: usize,
        end: usize,
        build: impl Fn(TaskRef) -> Command,
    ) -> Command {
        let mut refs = self.task_refs(start, end);
        if refs.len() == 1 {
            return build(refs.remove(0));
        }
        Command::Sequence(refs.into_iter().map(build).collect())
    }

    pub(super) fn delete(&self, start: usize) -> Option<Command> {
        let end = self.len();
        let from = match self.w(start) {
            verb if DELETE_VERBS.contains(&verb) => start + 1,
            "cancel" if start + 1 < end => start + 1,
            "get" if self.w(start + 1) == "rid" && self.w(start + 2) == "of" => start + 3,
            // "forget about the groceries" ("forget it" is a no, read before this).
            "forget" if self.w(start + 1) == "about" && start + 2 < end => start + 2,
            // "I don't need the groceries task anymore", "I no longer need task 3".
            "i" => return self.no_longer_needed(start + 1, end),
            _ => return None,
        };
        Some(self.build_per_ref(from, end, Command::Delete))
    }

    /// "don't need X anymore" / "no longer need X" (after "I"): delete X. Without "anymore" it
    /// may be a wish ("I don't need milk"), so nothing is read.
    pub(super) fn no_longer_needed(&self, at: usize, end: usize) -> Option<Command> {
        let (from, end) = match (self.w(at), self.w(at + 1), self.w(at + 2)) {
            ("don't" | "dont", "need", _) | ("do", "not", "need") => {
                let from = at + if self.w(at) == "do" { 3 } else { 2 };
                let end = match (self.w(end - 2), self.w(end - 1)) {
                    ("any", "more") | ("any", "longer") => end - 2,
                    (_, "anymore") => end - 1,
                    _ => return None,
                };
                (from, end)
            }
            ("no", "longer", "need") => (at + 3, end),
            _ => return None,
        };
        (from < end).then(|| self.build_per_ref(from, end, Command::Delete))
    }
}
