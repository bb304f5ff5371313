//! Follow-ups: what a message means given the conversation so far — corrections ("actually
//! friday"), objections ("wait, no, don't"), undo, fragments ("for saturday"), a task named first
//! ("the report, move it to friday") and several commands in one message.

use super::*;

impl Utterance<'_> {
    /// "wait, no, don't", "oops", "I didn't mean that", "no, not task 2". Alone, "no", "stop"
    /// and "never mind" only decline (see `small_talk`): they undo nothing.
    pub(super) fn retraction(&self) -> Option<Command> {
        let mut at = 0;
        loop {
            match (self.w(at), self.w(at + 1)) {
                ("hold", "on") | ("oh", "no") => at += 2,
                (
                    "wait" | "no" | "nope" | "oops" | "whoops" | "sorry" | "actually" | "hmm" | "ugh" | "oh"
                    | "god" | "omg" | "argh" | "nvm",
                    _,
                ) => at += 1,
                _ => break,
            }
        }
        let objects = match self.words[at..].join(" ").as_str() {
            "" => self.has_any(&["oops", "whoops"]),
            "don't"
            | "dont"
            | "do not"
            | "don't do that"
            | "dont do that"
            | "don't do it"
            | "not that"
            | "not that one"
            | "not this one"
            | "i didn't mean that"
            | "i didnt mean that"
            | "i didn't mean to"
            | "i didn't mean it"
            | "i didn't say that"
            | "i didnt say that"
            | "that's wrong"
            | "thats wrong"
            | "that was wrong"
            | "that's not right"
            | "that's not what i meant"
            | "not what i meant"
            | "wrong one"
            | "wrong task"
            | "that's the wrong one"
            | "that's the wrong task"
            | "my mistake"
            | "my bad" => true,
            _ => false,
        };
        // "wait no don't, i need that": the objection, then why.
        let objects = objects
            || (matches!(self.w(at), "don't" | "dont") && self.tokens.get(at).is_some_and(|t| t.clause_end));
        if objects {
            return Some(Command::Retract(None));
        }
        // "hmm actually no": only declining.
        if at == self.len() && self.has_any(&["no", "nope"]) {
            return Some(Command::Deny);
        }
        // "oh wait i didnt do it yet, undo": whatever the reason, a last clause of "undo".
        if at > 0
            && let Some(undo_at) = (at + 1..self.len()).find(|&i| self.is_undo(i))
            && self.tokens[undo_at - 1].clause_end
        {
            return Some(Command::Undo);
        }
        // "no thats wrong, undo", "oops undo that": the objection says what to do.
        if let Some(undo_at) = (at..self.len()).find(|&i| self.is_undo(i))
            && self.words[at..undo_at].iter().all(|w| {
                matches!(
                    *w,
                    "that's"
                        | "thats"
                        | "that"
                        | "was"
                        | "is"
                        | "wrong"
                        | "not"
                        | "right"
                        | "please"
                        | "pls"
                        | "one"
                )
            })
        {
            return Some(Command::Undo);
        }
        // "oops, not 2", "no, not the report": only that task's part of the change.
        if self.w(at) == "not" && at + 1 < self.len() {
            let task = self.task_ref(at + 1, self.len());
            let named = match &task {
                TaskRef::Number(_) => true,
                TaskRef::Title(_) => {
                    at > 0
                        && !self.words[at + 1..].iter().any(|w| is_status_word(w))
                        && find_date(self.text, &self.refs(at + 1, self.len()), self.now).is_none()
                }
                _ => false,
            };
            if named {
                return Some(Command::Retract(Some(task)));
            }
        }
        None
    }

    /// "undo", "undo that", "take that back", "revert the last change".
    pub(super) fn is_undo(&self, start: usize) -> bool {
        let words = &self.words[start..];
        let rest_is_filler = |from: usize| {
            words[from.min(words.len())..].iter().all(|w| {
                matches!(
                    *w,
                    "that"
                        | "it"
                        | "this"
                        | "the"
                        | "last"
                        | "change"
                        | "changes"
                        | "action"
                        | "one"
                        | "thing"
                        | "my"
                        | "please"
                        | "what"
                        | "you"
                        | "just"
                        | "did"
                        | "undo"
                        | "again"
                        | "wrong"
                        | "ones"
                )
            })
        };
        match words {
            ["undo" | "revert" | "unundo", ..] => rest_is_filler(1),
            ["oops" | "whoops", "undo" | "revert", ..] => rest_is_filler(2),
            ["take" | "put" | "change" | "set", "that" | "it", "back", ..] => rest_is_filler(3),
            ["go", "back"] => true,
            // "bring them back", "bring it back please"
            ["bring", "it" | "them" | "that" | "those" | "everything", "back", ..] => rest_is_filler(3),
            _ => false,
        }
    }

    /// "actually Friday", "no, make it low", "I meant 6pm", "sorry, high priority": a change to
    /// the task just talked about.
    pub(super) fn correction(&self, start: usize, depth: u8) -> Option<Command> {
        let mut at = start;
        let mut marked = false;
        loop {
            let before = at;
            match (self.w(at), self.w(at + 1)) {
                (
                    "actually" | "no" | "nope" | "nah" | "sorry" | "oops" | "wait" | "correction" | "rather"
                    | "hmm" | "nevermind" | "nvm",
                    _,
                ) => at += 1,
                ("never", "mind") => at += 2,
                ("i", "meant" | "mean") => at += 2,
                ("i", "said") => at += 2,
                ("make" | "change", "that" | "it") if marked && !matches!(self.w(at + 2), "to" | "into") => {
                    at += 2
                }
                ("make" | "change", "that" | "it") if marked => at += 3,
                ("not", _) if marked => at += 1,
                _ => {}
            }
            if at == before {
                break;
            }
            marked = true;
        }
        // "actually just daily"
        while marked && self.w(at) == "just" {
            at += 1;
        }
        if !marked || at >= self.len() {
            return None;
        }
        if let Some(new_due) = self.date_covering(at, self.len(), true) {
            return Some(Command::Reschedule(TaskRef::Previous, new_due));
        }
        if let Some(priority) = self.priority_phrase(at, self.len()) {
            return Some(Command::SetPriority(TaskRef::Previous, priority));
        }
        let refs = self.refs(at, self.len());
        if let Some(found) = find_repeat(&refs)
            && found.first == 0
            && found.end == refs.len()
        {
            return Some(Command::Edit(TaskRef::Previous, Edit::Repeat(Some(found.value))));
        }
        let rest = parse_at_depth(self.raw(at, self.len()), self.now, depth + 1);
        is_actionable(&rest).then_some(rest)
    }

    /// A follow-up that is only a detail for the task just talked about: "for saturday",
    /// "by friday 5pm", "high priority". (A bare "friday" may be a question, so a date needs
    /// its preposition.)
    pub(super) fn fragment(&self, start: usize) -> Option<Command> {
        if matches!(self.w(start), "for" | "on" | "by" | "due" | "at")
            && let Some(new_due) = self.date_covering(start + 1, self.len(), true)
        {
            return Some(Command::Reschedule(TaskRef::Previous, new_due));
        }
        let words = &self.words[start..];
        if words.contains(&"priority") || words == ["urgent"] {
            return self
                .priority_phrase(start, self.len())
                .map(|p| Command::SetPriority(TaskRef::Previous, p));
        }
        None
    }

    /// "the electric bill, move it to tomorrow morning": the task named first, then what to
    /// do with "it".
    pub(super) fn topic_first(&self, start: usize, depth: u8) -> Option<Command> {
        let comma = (start..self.len()).find(|&i| self.tokens[i].comma)?;
        let pronoun = (comma + 2..self.len()).find(|&i| matches!(self.w(i), "it" | "that"))?;
        if comma + 1 >= self.len() || !is_command_verb(self.w(comma + 1)) || comma - start > 5 {
            return None;
        }
        let topic = self.raw(start, comma + 1).trim_end_matches(',');
        let text =
            format!("{} {} {}", self.raw(comma + 1, pronoun), topic, self.raw(pronoun + 1, self.len()));
        let command = parse_at_depth(text.trim(), self.now, depth + 1);
        is_actionable(&command).then_some(command)
    }

    /// "X and Y" / "X then Y" where Y starts with a command verb and both halves make sense.
    pub(super) fn split_sequence(&self, start: usize, depth: u8) -> Option<Command> {
        // "add buy stamps; add post cards by the 18th": a semicolon ends a command.
        for last in start..self.len().saturating_sub(1) {
            if !self.text[self.tokens[last].raw.clone()].ends_with(';') {
                continue;
            }
            let left = parse_at_depth(self.raw(start, last + 1).trim_end_matches(';'), self.now, depth + 1);
            let right = parse_at_depth(self.raw(last + 1, self.len()), self.now, depth + 1);
            if let Some(both) = in_sequence(left, right) {
                return Some(both);
            }
        }
        for joint in start + 1..self.len() {
            if !matches!(self.w(joint), "and" | "then") {
                continue;
            }
            let mut right = joint + 1;
            while matches!(self.w(right), "then" | "also" | "please") {
                right += 1;
            }
            let verb = self.w(right);
            // "… and tag it errands"
            let tags_it = verb == "tag" && matches!(self.w(right + 1), "it" | "that" | "this");
            if !(is_command_verb(verb) || verb == "what's" || verb == "how" || tags_it) {
                continue;
            }
            let left_text = self.raw(start, joint);
            let right_text = self.raw(right, self.len());
            let left = parse_at_depth(left_text, self.now, depth + 1);
            let right = parse_at_depth(right_text, self.now, depth + 1);
            if let Some(both) = in_sequence(left, right) {
                return Some(both);
            }
        }
        None
    }
}

/// Both commands, one after the other, when each means something (nested sequences flattened).
fn in_sequence(left: Command, right: Command) -> Option<Command> {
    if !is_actionable(&left) || !is_actionable(&right) {
        return None;
    }
    let mut commands = Vec::new();
    for command in [left, right] {
        match command {
            Command::Sequence(inner) => commands.extend(inner),
            other => commands.push(other),
        }
    }
    Some(Command::Sequence(commands))
}
