//! Changes to a task: reminders, repeats, tags, priority, notes, title and due date.

use super::*;

impl Utterance<'_> {
    /// "set a reminder for task 4 at 9am tomorrow", "remind me about it at 3pm": a reminder at
    /// a moment, for a task named by number or as "it" (a title here would be a new task:
    /// "remind me about the dentist at 5pm").
    pub(super) fn remind_at(&self, start: usize) -> Option<Command> {
        let end = self.len();
        let mut at = (start..(start + 4).min(end)).find(|&i| matches!(self.w(i), "remind" | "reminder"))?;
        at += 1;
        if self.w(at) == "me" {
            at += 1;
        }
        if matches!(self.w(at), "about" | "of" | "for" | "to" | "on") {
            at += 1;
        }
        let ref_end = match self.w(at) {
            "task" | "number" | "todo" if digits(self.w(at + 1)).is_some() => at + 2,
            "it" | "that" | "this" => at + 1,
            word if word.starts_with('#') && digits(&word[1..]).is_some() => at + 1,
            _ => return None,
        };
        let when = self.date_covering(ref_end, end, true)?;
        Some(Command::Edit(self.task_ref(at, ref_end), Edit::RemindAt(when)))
    }

    pub(super) fn edit(&self, start: usize) -> Option<Command> {
        if let Some(command) = self.remind_at(start) {
            return Some(command);
        }
        let end = self.len();
        let verb = self.w(start);
        let words = &self.words[start..end];
        let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
        const REMOVERS: &[&str] = &[
            "remove",
            "delete",
            "clear",
            "drop",
            "cancel",
            "erase",
            "take",
            "strip",
            "unset",
            "disable",
            "turn",
            "stop",
            "no",
            "don't",
            "dont",
            "doesn't",
            "doesnt",
            "not",
            "without",
            "end",
            "kill",
            "get",
            "shouldn't",
        ];
        const REPEAT_WORDS: &[&str] = &[
            "repeat",
            "repeating",
            "repeats",
            "recurrence",
            "recurring",
            "recur",
            "repetition",
            "recurs",
            "repeated",
            // "the team meeting happens every monday"
            "happens",
            "occurs",
        ];
        const REMINDER_WORDS: &[&str] =
            &["reminder", "reminders", "alert", "alerts", "notification", "notifications", "alarm"];
        const GLUE: &[&str] = &[
            "the", "a", "an", "from", "on", "of", "for", "to", "about", "off", "in", "at", "it's", "its",
            "any", "more", "anymore", "longer", "should", "be", "is", "needs", "need", "have", "has", "with",
            "and", "please", "me", "so", "that", "my", "all", "up", "by",
        ];
        let is_remover = REMOVERS.contains(&verb) || (verb == "i" && has(&["don't", "dont"]));

        // Recurrence: "make it repeat every Wednesday", "stop repeating the gym task".
        if has(REPEAT_WORDS)
            && (is_remover || has(&["don't", "dont", "doesn't", "doesnt", "not", "no", "stop", "shouldn't"]))
            || (matches!(verb, "make" | "set" | "mark")
                && has(&["one-off", "one-time", "once", "non-recurring"]))
        {
            let used = self.mark(start, end, |w| {
                REMOVERS.contains(&w)
                    || REPEAT_WORDS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(
                        w,
                        "make"
                            | "set"
                            | "mark"
                            | "one-off"
                            | "one-time"
                            | "once"
                            | "non-recurring"
                            | "longer"
                            | "off"
                            | "anymore"
                    )
            });
            return Some(Command::Edit(self.ref_outside(start, end, &used), Edit::Repeat(None)));
        }
        let refs = self.refs(start, end);
        // "task 3 should repeat weekly" names a task; "task: gym every monday" adds one.
        let names_a_task = digits(self.w(start + 1).trim_start_matches('#')).is_some();
        let adds_a_task = match verb {
            "task" | "todo" => !names_a_task,
            _ => matches!(verb, "add" | "create" | "new" | "i" | "need" | "gotta" | "don't" | "dont"),
        };
        let add_like = adds_a_task
            && !has(&["tag", "tags", "label", "labels", "reminder", "note", "notes"])
            && !words.iter().any(|w| w.starts_with('#') && verb == "add" && has(&["to", "on"]));
        if let Some(found) = find_repeat(&refs)
            && !add_like
            && (has(REPEAT_WORDS)
                || matches!(
                    verb,
                    "make" | "set" | "change" | "update" | "switch" | "turn" | "schedule" | "have"
                ))
            && !(verb == "remind" && self.w(start + 2) == "to")
            && (names_a_task
                || self
                    .add(start)
                    .is_none_or(|_| has(REPEAT_WORDS) && !matches!(verb, "add" | "create" | "new")))
        {
            let mut used = self.mark(start, end, |w| {
                REPEAT_WORDS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(
                        w,
                        "make"
                            | "set"
                            | "change"
                            | "update"
                            | "switch"
                            | "turn"
                            | "schedule"
                            | "have"
                            | "let"
                            | "every"
                    )
            });
            used[found.first..found.end].iter_mut().for_each(|u| *u = true);
            return Some(Command::Edit(self.ref_outside(start, end, &used), Edit::Repeat(Some(found.value))));
        }
        // "make task 3 repeat every 3rd friday": refused by name rather than misread.
        if has(REPEAT_WORDS)
            && !add_like
            && let Some(found) = find_unsupported_repeat(&refs)
        {
            let mut used = self.mark(start, end, |w| {
                REPEAT_WORDS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(w, "make" | "set" | "change" | "have" | "let")
            });
            used[found.first..found.end].iter_mut().for_each(|u| *u = true);
            return Some(Command::Edit(
                self.ref_outside(start, end, &used),
                Edit::RepeatUnsupported(found.value),
            ));
        }

        // Reminders: "remind me an hour before", "turn off the reminder for task 2".
        if has(REMINDER_WORDS) && is_remover || (has(&["don't", "dont"]) && has(&["remind"])) {
            let used = self.mark(start, end, |w| {
                REMOVERS.contains(&w)
                    || REMINDER_WORDS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(w, "remind" | "off" | "i" | "want")
            });
            return Some(Command::Edit(self.ref_outside(start, end, &used), Edit::Reminder(None)));
        }
        if let Some(found) = find_reminder(&refs)
            && (has(REMINDER_WORDS) || matches!(verb, "remind" | "alert" | "notify" | "ping" | "warn"))
            && find_date(self.text, &self.refs(start, end), self.now)
                .is_none_or(|date| (date.first..date.end).any(|i| i >= found.first && i < found.end))
            && !(verb == "remind" && self.w(start + 2) == "to")
        {
            let mut used = self.mark(start, end, |w| {
                REMINDER_WORDS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(
                        w,
                        "remind"
                            | "set"
                            | "add"
                            | "put"
                            | "give"
                            | "create"
                            | "make"
                            | "alert"
                            | "notify"
                            | "ping"
                            | "warn"
                            | "change"
                            | "update"
                    )
            });
            used[found.first..found.end].iter_mut().for_each(|u| *u = true);
            return Some(Command::Edit(
                self.ref_outside(start, end, &used),
                Edit::Reminder(Some(found.value)),
            ));
        }

        // "set a reminder for the dry cleaning one at the time it's due": the task named
        // between the reminder and when it fires.
        const AT_DUE_TIME: &[&[&str]] = &[
            &["at", "the", "time", "it's", "due"],
            &["at", "the", "time", "its", "due"],
            &["at", "the", "time", "it", "is", "due"],
            &["when", "it's", "due"],
            &["when", "its", "due"],
            &["when", "it", "is", "due"],
            &["at", "the", "due", "time"],
            &["at", "due", "time"],
        ];
        if !is_remover
            && let Some(phrase) = AT_DUE_TIME.iter().find(|phrase| {
                end >= start + phrase.len() && self.words[end - phrase.len()..end] == ***phrase
            })
            && let Some(keyword) = (start..end - phrase.len()).find(|&i| REMINDER_WORDS.contains(&self.w(i)))
            && matches!(self.w(keyword + 1), "for" | "on" | "about")
            && keyword + 2 < end - phrase.len()
        {
            let task = self.task_ref(keyword + 2, end - phrase.len());
            return Some(Command::Edit(task, Edit::Reminder(Some(0))));
        }
        // "put the standup reminder back to 15 min", "change the reminder on task 2 to an hour"
        if has(REMINDER_WORDS)
            && !is_remover
            && let Some(to) = (start + 1..end).rev().find(|&i| self.w(i) == "to")
            && let Some((from, until, shift)) = self.duration_at(to + 1, end)
            && from == to + 1
            && (until == end || (until + 1 == end && self.w(until) == "before"))
            && matches!(
                shift.unit,
                ShiftUnit::Minutes | ShiftUnit::Hours | ShiftUnit::Days | ShiftUnit::Weeks
            )
        {
            let minutes = match shift.unit {
                ShiftUnit::Minutes => shift.amount,
                ShiftUnit::Hours => shift.amount * 60,
                ShiftUnit::Days => shift.amount * 1440,
                _ => shift.amount * 10080,
            };
            let mut used = self.mark(start, end, |w| {
                REMINDER_WORDS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(w, "put" | "set" | "change" | "move" | "back" | "make" | "update" | "switch")
            });
            used[to - start..].iter_mut().for_each(|u| *u = true);
            if let Ok(minutes) = u32::try_from(minutes) {
                return Some(Command::Edit(
                    self.ref_outside(start, end, &used),
                    Edit::Reminder(Some(minutes)),
                ));
            }
        }
        // Tags.
        if let Some(command) = self.tag_edit(start, end) {
            return Some(command);
        }

        // Clearing the due date or the notes: "remove the due date from task 2", "unschedule it".
        let due_words = has(&["deadline", "due", "date", "dates", "deadlines", "duedate"]);
        if is_remover && due_words && (!has(&["task", "tasks"]) || has(&["from", "on", "of", "for", "off"]))
            || verb == "unschedule"
            || (matches!(verb, "make" | "mark" | "set") && has(&["undated", "unscheduled", "no-date"]))
        {
            let used = self.mark(start, end, |w| {
                REMOVERS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(
                        w,
                        "deadline"
                            | "due"
                            | "date"
                            | "dates"
                            | "deadlines"
                            | "duedate"
                            | "unschedule"
                            | "make"
                            | "mark"
                            | "set"
                            | "undated"
                            | "unscheduled"
                            | "time"
                            | "no-date"
                            | "rid"
                    )
            });
            return Some(Command::Edit(self.ref_outside(start, end, &used), Edit::ClearDue));
        }
        if is_remover
            && has(&["note", "notes", "description", "details", "comment", "comments"])
            && !has(&["task", "tasks"])
            || is_remover
                && has(&["note", "notes", "description"])
                && has(&["from", "on", "of", "for", "off"])
        {
            let used = self.mark(start, end, |w| {
                REMOVERS.contains(&w)
                    || GLUE.contains(&w)
                    || matches!(w, "note" | "notes" | "description" | "details" | "comment" | "comments")
            });
            return Some(Command::Edit(self.ref_outside(start, end, &used), Edit::ClearNotes));
        }

        // Priority steps: "raise the priority of task 2", "make it more urgent", "bump it up".
        const UP: &[&str] =
            &["raise", "increase", "boost", "escalate", "higher", "more", "up", "upgrade", "bump"];
        const DOWN: &[&str] = &["lower", "decrease", "reduce", "less", "down", "downgrade", "drop", "demote"];
        let about_priority = has(&["priority", "urgent", "important", "urgency", "importance", "prio"]);
        let step_verb = matches!(
            verb,
            "raise"
                | "increase"
                | "boost"
                | "escalate"
                | "lower"
                | "decrease"
                | "reduce"
                | "downgrade"
                | "make"
                | "set"
                | "bump"
                | "drop"
                | "up"
                | "move"
                | "demote"
                | "upgrade"
        );
        if step_verb
            && (about_priority || matches!(verb, "bump" | "demote" | "upgrade" | "escalate"))
            && !self.has_date_after(start)
        {
            let up = has(UP) && !has(DOWN)
                || (verb == "bump" && !has(DOWN))
                || matches!(verb, "escalate" | "upgrade");
            let down = has(DOWN) && !(verb == "bump" && has(&["up"])) || verb == "demote";
            let exact = self.priority_phrase_anywhere(start, end);
            if (up || down)
                && exact.is_none_or(|_| has(&["more", "less"]))
                && !(verb == "bump" && self.duration_at(start, end).is_some())
            {
                let used = self.mark(start, end, |w| {
                    UP.contains(&w)
                        || DOWN.contains(&w)
                        || GLUE.contains(&w)
                        || matches!(
                            w,
                            "priority"
                                | "urgent"
                                | "important"
                                | "urgency"
                                | "importance"
                                | "prio"
                                | "make"
                                | "set"
                                | "move"
                                | "its"
                                | "it's"
                                | "notch"
                                | "level"
                                | "one"
                        )
                });
                let edit = if up && !down { Edit::RaisePriority } else { Edit::LowerPriority };
                return Some(Command::Edit(self.ref_outside(start, end, &used), edit));
            }
            // "lower the priority of the report to medium": the level named wins over the step.
            if let Some(priority) = exact
                && !has(&["more", "less"])
                && matches!(
                    (self.w(start + 1), self.w(start + 2)),
                    ("priority" | "prio", _) | ("the", "priority" | "prio")
                )
                && let Some(to) = (start + 1..end).rev().find(|&i| self.w(i) == "to")
                && self.priority_phrase(to + 1, end) == Some(priority)
            {
                let mut from = start + 1;
                while matches!(self.w(from), "the" | "priority" | "prio" | "of" | "for" | "on") {
                    from += 1;
                }
                return Some(Command::SetPriority(self.task_ref(from, to), priority));
            }
        }

        // Moving the due date by an amount: "postpone it by 2 days", "push the report back a week".
        if matches!(
            verb,
            "postpone"
                | "push"
                | "delay"
                | "defer"
                | "move"
                | "shift"
                | "bump"
                | "snooze"
                | "put"
                | "kick"
                | "bring"
                | "pull"
                | "reschedule"
                | "give"
        ) && let Some((shift_first, shift_end, mut shift)) = self.duration_at(start + 1, end)
        {
            let earlier = has(&["forward", "earlier", "sooner", "up", "ahead"])
                && !has(&["back", "later", "out"])
                || matches!(verb, "bring" | "pull");
            if earlier {
                shift.amount = -shift.amount;
            }
            let mut used = self.mark(start, end, |w| {
                GLUE.contains(&w)
                    || matches!(
                        w,
                        "back"
                            | "later"
                            | "forward"
                            | "earlier"
                            | "sooner"
                            | "out"
                            | "ahead"
                            | "off"
                            | "extra"
                            | "another"
                            | "more"
                    )
            });
            used[0] = true;
            used[shift_first - start..shift_end - start].iter_mut().for_each(|u| *u = true);
            return Some(Command::Edit(self.ref_outside(start, end, &used), Edit::ShiftDue(shift)));
        }
        None
    }

    /// Whether a date expression follows the verb ("bump it to friday").
    pub(super) fn has_date_after(&self, start: usize) -> bool {
        let refs = self.refs(start + 1, self.len());
        find_date(self.text, &refs, self.now).is_some()
    }

    pub(super) fn priority_phrase_anywhere(&self, start: usize, end: usize) -> Option<Priority> {
        (start..end).find_map(|i| self.priority_phrase(i, end))
    }

    /// "2 days", "a week", "an hour", "30 min", "3d" — not after "in"/"within" (a date).
    pub(super) fn duration_at(&self, start: usize, end: usize) -> Option<(usize, usize, Shift)> {
        for i in start..end {
            if i > 0 && matches!(self.w(i - 1), "in" | "within") {
                continue;
            }
            let word = self.w(i);
            let (amount, unit, unit_end) =
                if let Some(split) = word.find(|c: char| !c.is_ascii_digit()).filter(|&at| at > 0) {
                    let unit = shift_unit(&word[split..]);
                    match (digits(&word[..split]), unit) {
                        (Some(n), Some(unit)) => (n, unit, i + 1),
                        _ => continue,
                    }
                } else {
                    let amount = if matches!(word, "a" | "an" | "one") {
                        1
                    } else if word == "half"
                        && matches!(self.w(i + 1), "an" | "a")
                        && shift_unit(self.w(i + 2)) == Some(ShiftUnit::Hours)
                    {
                        return Some((i, i + 3, Shift { amount: 30, unit: ShiftUnit::Minutes }));
                    } else if let Some(n) = small_number(word) {
                        n
                    } else {
                        continue;
                    };
                    let (unit_at, amount) =
                        if matches!(self.w(i + 1), "more" | "extra" | "additional" | "further") {
                            (i + 2, amount)
                        } else {
                            (i + 1, amount)
                        };
                    match shift_unit(self.w(unit_at)) {
                        Some(unit) if unit_at < end => (amount, unit, unit_at + 1),
                        _ => continue,
                    }
                };
            return Some((i, unit_end, Shift { amount, unit }));
        }
        None
    }

    /// Tag edits: "tag it with work", "add #home to task 3", "take the #work tag off task 2",
    /// "remove all tags from it", "untag task 4".
    pub(super) fn tag_edit(&self, start: usize, end: usize) -> Option<Command> {
        let verb = self.w(start);
        let words = &self.words[start..end];
        let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
        let hashtags: Vec<String> = words
            .iter()
            .filter_map(|w| w.strip_prefix('#'))
            .filter(|t| !t.is_empty() && digits(t).is_none())
            .map(str::to_owned)
            .collect();
        // "call mom should be tagged family", "the report needs to be labelled work"
        if let Some(tagged) = (start + 1..end).find(|&i| {
            matches!(self.w(i), "tagged" | "labeled" | "labelled")
                && matches!(self.w(i - 1), "be" | "is" | "get")
        }) {
            let mut ref_end = tagged - 1;
            while ref_end > start
                && matches!(self.w(ref_end - 1), "should" | "must" | "can" | "needs" | "need" | "to" | "will")
            {
                ref_end -= 1;
            }
            let names: Vec<String> = (tagged + 1..end)
                .map(|i| self.w(i).trim_start_matches('#'))
                .filter(|w| !matches!(*w, "with" | "as" | "and" | "&" | "too" | "also" | "now" | "" | QUOTED))
                .map(str::to_owned)
                .collect();
            if ref_end > start && !names.is_empty() {
                return Some(Command::Edit(self.task_ref(start, ref_end), Edit::AddTags(names)));
            }
        }
        let tag_noun = has(&["tag", "tags", "label", "labels"]);
        let adding = matches!(verb, "tag" | "label" | "retag")
            || (matches!(verb, "add" | "put" | "attach" | "apply" | "stick" | "give")
                // "add tag X to Y", "add the work tag to it", "add #x to task 2" — not "add pay
                // rent on the 1st, tag bills", which adds a task.
                && (self.words[start + 1..end.min(start + 4)]
                    .iter()
                    .any(|w| matches!(*w, "tag" | "tags" | "label" | "labels") || w.starts_with('#')))
                && has(&["to", "on", "onto"])
                // "put gym on thursday 7am, tag it health" adds a task.
                && !(verb == "put" && self.has_date_after(start)));
        let removing = matches!(verb, "untag" | "unlabel")
            || (matches!(verb, "remove" | "delete" | "drop" | "take" | "strip" | "clear" | "detach" | "get")
                && (tag_noun || !hashtags.is_empty()));
        if !adding && !removing {
            return None;
        }
        // "tag it travel and admin": every word after the pronoun is a tag.
        if verb == "tag"
            && hashtags.is_empty()
            && matches!(self.w(start + 1), "it" | "that" | "this" | "them" | "those")
        {
            let names: Vec<String> = (start + 2..end)
                .map(|i| self.w(i).trim_start_matches('#'))
                .filter(|w| {
                    !matches!(
                        *w,
                        "with" | "as" | "and" | "&" | "too" | "also" | "all" | "both" | "each" | "" | QUOTED
                    )
                })
                .map(str::to_owned)
                .collect();
            if !names.is_empty() {
                return Some(Command::Edit(self.task_ref(start + 1, start + 2), Edit::AddTags(names)));
            }
        }
        // Names: hashtags, else the word after "tag"/"as"/"with", else the word before "tag".
        let mut names = hashtags;
        let mut used = self.mark(start, end, |w| {
            w.starts_with('#')
                || matches!(
                    w,
                    "tag"
                        | "tags"
                        | "label"
                        | "labels"
                        | "the"
                        | "a"
                        | "from"
                        | "off"
                        | "to"
                        | "on"
                        | "onto"
                        | "of"
                        | "with"
                        | "as"
                        | "and"
                        | "all"
                        | "its"
                        | "it's"
                        | "any"
                        | "rid"
                        | "tagged"
                )
        });
        used[0] = true;
        if names.is_empty() {
            let mut named_at = None;
            for i in start + 1..end {
                let w = self.w(i);
                let next = self.w(i + 1);
                if matches!(w, "tag" | "tags" | "label" | "labels" | "as" | "with" | "tagged")
                    && !matches!(
                        next,
                        "from" | "to" | "on" | "off" | "onto" | "of" | "the" | "it" | "task" | "\u{0}"
                    )
                    && i + 1 < end
                    && !(w == "tag" && verb == "tag")
                {
                    named_at = Some(i + 1);
                    break;
                }
                if matches!(w, "tag" | "label")
                    && i > start + 1
                    && !matches!(
                        self.w(i - 1),
                        "the"
                            | "a"
                            | "all"
                            | "any"
                            | "its"
                            | "it's"
                            | "remove"
                            | "delete"
                            | "add"
                            | "put"
                            | "take"
                            | "clear"
                            | "drop"
                    )
                {
                    named_at = Some(i - 1);
                    break;
                }
            }
            if verb == "tag" && named_at.is_none() && end > start + 2 {
                named_at = Some(end - 1);
            }
            if let Some(at) = named_at {
                let name = self.w(at);
                if name != QUOTED && !name.is_empty() {
                    names.push(name.trim_start_matches('#').to_owned());
                    used[at - start] = true;
                    // "tag it work and errands"
                    let mut more = at + 1;
                    while matches!(self.w(more), "and" | "&")
                        && more + 1 < end
                        && !matches!(self.w(more + 1), "task" | "the")
                    {
                        names.push(self.w(more + 1).to_owned());
                        used[more - start] = true;
                        used[more + 1 - start] = true;
                        more += 2;
                    }
                }
            }
        }
        let task = self.ref_outside(start, end, &used);
        if adding {
            if names.is_empty() {
                return Some(Command::Unclear);
            }
            return Some(Command::Edit(task, Edit::AddTags(names)));
        }
        if names.is_empty() || has(&["all"]) {
            return Some(Command::Edit(task, Edit::ClearTags));
        }
        Some(Command::Edit(task, Edit::RemoveTags(names)))
    }

    /// Marks the tokens of `start..end` a phrase used (`used[i - start]`): the verb and every
    /// word `is_used` accepts.
    pub(super) fn mark(&self, start: usize, end: usize, is_used: impl Fn(&str) -> bool) -> Vec<bool> {
        let mut used: Vec<bool> = (start..end).map(|i| is_used(self.w(i))).collect();
        if let Some(first) = used.first_mut() {
            *first = true;
        }
        used
    }

    /// The task named by the tokens a phrase did not use; nothing left means "the task we were
    /// just talking about".
    pub(super) fn ref_outside(&self, start: usize, end: usize, used: &[bool]) -> TaskRef {
        let unused: Vec<usize> = (start..end).filter(|&i| !used[i - start]).collect();
        let (Some(&first), Some(&last)) = (unused.first(), unused.last()) else {
            // "it" was consumed as glue, or there was no object at all.
            return TaskRef::Previous;
        };
        self.task_refs(first, last + 1).into_iter().next().unwrap_or(TaskRef::Previous)
    }

    pub(super) fn describe(&self, start: usize) -> Option<Command> {
        let end = self.len();
        let verb = self.w(start);
        // "add a note to task 2: call first", "add a description to the meeting task saying …"
        if verb == "add" {
            let mut at = start + 1;
            if matches!(self.w(at), "a" | "an" | "the") {
                at += 1;
            }
            if !matches!(self.w(at), "note" | "description" | "comment" | "details") || self.w(at + 1) != "to"
            {
                return None;
            }
            let ref_start = at + 2;
            let colon = (ref_start..end).find(|&i| self.tokens[i].colon);
            let saying = (ref_start..end).find(|&i| matches!(self.w(i), "saying" | "that" | "with"));
            let (ref_end, body_start) = match (colon, saying) {
                (Some(c), _) => (c + 1, c + 1),
                (None, Some(s)) => (s, s + 1),
                (None, None) => return Some(Command::Unclear),
            };
            return Some(Command::Edit(
                self.task_ref(ref_start, ref_end),
                Edit::AddNote(tidy(self.raw(body_start, end))),
            ));
        }
        if verb == "describe" {
            let as_at = (start + 1..end).find(|&i| self.w(i) == "as")?;
            return Some(Command::Describe(self.task_ref(start + 1, as_at), tidy(self.raw(as_at + 1, end))));
        }
        None
    }

    pub(super) fn update(&self, start: usize) -> Option<Command> {
        let verb = self.w(start);
        let end = self.len();
        // "the groceries can wait until monday"
        if let Some(can) = (start + 1..end).find(|&i| self.w(i) == "can" && self.w(i + 1) == "wait")
            && matches!(self.w(can + 2), "until" | "till" | "til" | "to" | "for")
            && let Some(new_due) = self.date_covering(can + 3, end, false)
        {
            return Some(Command::Reschedule(self.task_ref(start, can), new_due));
        }
        // "due date for task 1 should be friday", "the deadline of the report is monday"
        let named_at = if verb == "the" { start + 1 } else { start };
        let field_len = match (self.w(named_at), self.w(named_at + 1)) {
            ("due", "date") => 2,
            ("deadline", _) => 1,
            _ => 0,
        };
        if field_len > 0
            && matches!(self.w(named_at + field_len), "for" | "of" | "on")
            && let Some(verb_at) = (named_at + field_len + 1..end)
                .find(|&i| matches!(self.w(i), "should" | "is" | "will" | "must" | "needs" | "to"))
        {
            let mut date_at = verb_at + 1;
            while matches!(self.w(date_at), "be" | "to" | "now" | "moved" | "changed" | "set") {
                date_at += 1;
            }
            if let Some(new_due) = self.date_covering(date_at, end, true) {
                return Some(Command::Reschedule(self.task_ref(named_at + field_len + 1, verb_at), new_due));
            }
        }
        // "put the groceries on monday" (an existing task; "put milk on my list" adds one)
        if verb == "put"
            && matches!(self.w(start + 1), "the" | "my" | "task" | "it" | "that")
            && !self.has_any(&["list", "todo", "todos", "to-do", "agenda"])
            && let Some(on) = (start + 2..end).rev().find(|&i| matches!(self.w(i), "on" | "for" | "to"))
            && let Some(new_due) = self.date_covering(on + 1, end, true)
        {
            return Some(Command::Reschedule(self.task_ref(start + 1, on), new_due));
        }
        match verb {
            // "call it 'renew passport + visa photos'"
            "call"
                if matches!(self.w(start + 1), "it" | "that" | "this")
                    && start + 2 < end
                    && self.tokens[start + 2..end].iter().all(|t| t.quoted) =>
            {
                Some(Command::Rename(TaskRef::Previous, capitalise(&tidy(self.raw(start + 2, end)))))
            }
            // "rename it dinner w jess"
            "rename" | "retitle"
                if matches!(self.w(start + 1), "it" | "that" | "this")
                    && start + 2 < end
                    && !matches!(self.w(start + 2), "to" | "as") =>
            {
                Some(Command::Rename(TaskRef::Previous, capitalise(&tidy(self.raw(start + 2, end)))))
            }
            "rename" | "retitle" => {
                let split = (start + 1..end).find(|&i| matches!(self.w(i), "to" | "as"))?;
                let title = capitalise(&tidy(self.raw(split + 1, end)));
                if title.is_empty() {
                    return Some(Command::Unclear);
                }
                Some(Command::Rename(self.task_ref(start + 1, split), title))
            }
            "prioritize" | "prioritise" => {
                Some(Command::SetPriority(self.task_ref(start + 1, end), Priority::High))
            }
            "deprioritize" | "deprioritise" => {
                Some(Command::SetPriority(self.task_ref(start + 1, end), Priority::Low))
            }
            "move" | "reschedule" | "postpone" | "push" | "delay" | "defer" | "shift" | "bump" | "snooze" => {
                // "bump the report to high priority", "move task 2 up to urgent": a priority,
                // not a date.
                let to = (start + 1..end).rev().find(|&i| self.w(i) == "to");
                if let Some(to) = to
                    && let Some(priority) = self.priority_phrase(to + 1, end)
                {
                    let ref_end = if matches!(self.w(to - 1), "up" | "down") && to - 1 > start + 1 {
                        to - 1
                    } else {
                        to
                    };
                    return Some(Command::SetPriority(self.task_ref(start + 1, ref_end), priority));
                }
                Some(self.reschedule(start + 1, end))
            }
            "change" | "update" | "edit" | "modify" | "set" | "make" | "switch" | "turn" => {
                self.change(start + 1, end, verb)
            }
            _ => None,
        }
    }

    pub(super) fn reschedule(&self, from: usize, end: usize) -> Command {
        // Prefer the last "to/until/for" whose right side starts with a date: "move the friday
        // meeting to monday" moves it to Monday.
        let markers: Vec<usize> =
            (from..end).filter(|&i| matches!(self.w(i), "to" | "until" | "till" | "for" | "into")).collect();
        for &marker in markers.iter().rev() {
            if let Some(new_due) = self.date_covering(marker + 1, end, false) {
                let named = &self.words[from..marker];
                if named.iter().any(|w| matches!(*w, "all" | "every" | "everything"))
                    || named.last().is_some_and(|w| matches!(*w, "tasks" | "todos" | "ones"))
                {
                    return Command::RescheduleAll(self.list_filter(from, marker), new_due);
                }
                return Command::Reschedule(self.task_ref(from, marker), new_due);
            }
        }
        let refs = self.refs(from, end);
        match find_date(self.text, &refs, self.now) {
            Some(found) => {
                let ref_end = from + found.first;
                let ref_end = if ref_end > from && matches!(self.w(ref_end - 1), "to" | "for") {
                    ref_end - 1
                } else {
                    ref_end
                };
                Command::Reschedule(
                    self.task_ref(from, ref_end),
                    NewDue { at: found.at, has_date: found.has_date, has_time: found.has_time },
                )
            }
            None => Command::Unclear,
        }
    }

    /// A date expression at `start` (if `whole`, covering everything up to `end`).
    pub(super) fn date_covering(&self, start: usize, end: usize, whole: bool) -> Option<NewDue> {
        let mut start = start;
        while matches!(self.w(start), "be" | "due") {
            start += 1;
        }
        let refs = self.refs(start, end);
        let found = find_date(self.text, &refs, self.now)?;
        if found.first != 0 || (whole && found.end != refs.len()) {
            return None;
        }
        Some(NewDue { at: found.at, has_date: found.has_date, has_time: found.has_time })
    }

    pub(super) fn change(&self, from: usize, end: usize, verb: &str) -> Option<Command> {
        // "change the priority of task 2 to high", "set the due date of X to friday"
        let mut at = from;
        if self.w(at) == "the" {
            at += 1;
        }
        let field = match (self.w(at), self.w(at + 1)) {
            ("priority", "of" | "for") => Some(("priority", at + 2)),
            ("due", "date") if matches!(self.w(at + 2), "of" | "for") => Some(("due", at + 3)),
            ("deadline" | "date" | "time", "of" | "for") => Some(("due", at + 2)),
            ("title" | "name", "of" | "for") => Some(("title", at + 2)),
            ("description" | "notes" | "note", "of" | "for") => Some(("description", at + 2)),
            _ => None,
        };
        let splits: Vec<usize> = (from..end).filter(|&i| matches!(self.w(i), "to" | "into" | "as")).collect();
        if let Some((field, ref_start)) = field {
            let split = *splits.iter().find(|&&s| s > ref_start)?;
            let task = self.task_ref(ref_start, split);
            return Some(self.apply_field(field, task, split + 1, end));
        }
        // "set task 2 priority to high", "change task 3's due date to friday"
        for &split in splits.iter().rev() {
            let field = match (self.w(split.wrapping_sub(2)), self.w(split.wrapping_sub(1))) {
                (_, "priority") => "priority",
                ("due", "date") => "due",
                (_, "deadline" | "date") => "due",
                (_, "title" | "name") => "title",
                (_, "description") => "description",
                _ => "",
            };
            if !field.is_empty() {
                let ref_end = split
                    - if field == "due" && self.w(split - 1) == "date" && self.w(split - 2) == "due" {
                        2
                    } else {
                        1
                    };
                let ref_end = ref_end.max(from);
                let task = self.task_ref_possessive(from, ref_end);
                return Some(self.apply_field(field, task, split + 1, end));
            }
            if let Some(priority) = self.priority_phrase(split + 1, end) {
                return Some(Command::SetPriority(self.task_ref(from, split), priority));
            }
            if !self.tokens[split + 1..end].iter().all(|t| t.quoted)
                && let Some(new_due) = self.date_covering(split + 1, end, true)
            {
                return Some(Command::Reschedule(self.task_ref(from, split), new_due));
            }
        }
        // "make it due tomorrow", "set the report due friday", "set it for 3pm tomorrow"
        if let Some((at, new_due)) = (from + 1..end)
            .filter(|&at| matches!(self.w(at), "due" | "for"))
            .find_map(|at| Some((at, self.date_covering(at + 1, end, true)?)))
        {
            return Some(Command::Reschedule(self.task_ref(from, at), new_due));
        }
        // "make that tomorrow at 10am", "set task 3 friday": a pronoun or a number, then a date.
        if let Some(at) = (from + 1..end).find(|&at| self.date_covering(at, end, true).is_some())
            && matches!(self.task_ref(from, at), TaskRef::Previous | TaskRef::Number(_))
        {
            return Some(Command::Reschedule(self.task_ref(from, at), self.date_covering(at, end, true)?));
        }
        // "make task 2 high priority", "make my first task urgent"
        if verb == "make" || verb == "set" || verb == "mark" {
            for priority_start in (from + 1..end).rev() {
                if let Some(priority) = self.priority_phrase(priority_start, end) {
                    let mut ref_end = priority_start;
                    if matches!(self.w(ref_end - 1), "a" | "as" | "to") {
                        ref_end -= 1;
                    }
                    return Some(Command::SetPriority(self.task_ref(from, ref_end), priority));
                }
            }
            if verb == "make" {
                return None;
            }
        }
        let split = *splits.first()?;
        let task = self.task_ref(from, split);
        if matches!(self.w(split + 1), "include" | "mention" | "add" | "say") {
            return Some(Command::Edit(task, Edit::AddNote(tidy(self.raw(split + 2, end)))));
        }
        // "change it to an hour before": a reminder, never a title.
        let rest = self.refs(split + 1, end);
        if let Some(found) = find_reminder(&rest)
            && found.first == 0
            && found.end == rest.len()
        {
            return Some(Command::Edit(task, Edit::Reminder(Some(found.value))));
        }
        let title = capitalise(&tidy(self.raw(split + 1, end)));
        if title.is_empty() {
            return Some(Command::Unclear);
        }
        Some(Command::Rename(task, title))
    }

    pub(super) fn apply_field(&self, field: &str, task: TaskRef, value_start: usize, end: usize) -> Command {
        match field {
            "priority" => match self.priority_phrase(value_start, end) {
                Some(priority) => Command::SetPriority(task, priority),
                None => Command::Unclear,
            },
            "due" => match self.date_covering(value_start, end, false) {
                Some(new_due) => Command::Reschedule(task, new_due),
                None => Command::Unclear,
            },
            "description" => Command::Describe(task, tidy(self.raw(value_start, end))),
            _ => {
                let title = capitalise(&tidy(self.raw(value_start, end)));
                if title.is_empty() { Command::Unclear } else { Command::Rename(task, title) }
            }
        }
    }

    /// "high priority", "high", "urgent", "a low priority", "priority high".
    pub(super) fn priority_phrase(&self, start: usize, end: usize) -> Option<Priority> {
        let words: Vec<&str> = self.words[start.min(end)..end]
            .iter()
            .copied()
            .filter(|w| !matches!(*w, "a" | "an" | "be" | "to" | "as" | "the" | "level" | "please" | "one"))
            .collect();
        match words.as_slice() {
            [level, "priority"] | ["priority", level] => priority_level(level),
            [word] => match *word {
                "high" | "low" | "medium" | "urgent" | "important" | "critical" | "normal" | "top" | "p1"
                | "p2" | "p3" | "high-priority" | "low-priority" | "medium-priority" | "asap" => {
                    Priority::parse(word).ok()
                }
                _ => None,
            },
            ["not", "urgent"] | ["no", "rush"] => Some(Priority::Low),
            _ => None,
        }
    }
}
