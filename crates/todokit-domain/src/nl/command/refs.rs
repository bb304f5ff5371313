//! How a message names tasks: numbers, positions, pronouns and titles.

use super::*;

impl Utterance<'_> {
    pub(super) fn task_ref(&self, start: usize, end: usize) -> TaskRef {
        self.task_refs(start, end).into_iter().next().unwrap_or(TaskRef::Unspecified)
    }

    /// "task 3's" / "my first task's" before a field name.
    pub(super) fn task_ref_possessive(&self, start: usize, end: usize) -> TaskRef {
        match self.task_ref(start, end) {
            TaskRef::Title(title) => {
                let trimmed = title.trim_end_matches("'s").trim_end_matches("’s").to_owned();
                title_ref(&trimmed)
            }
            TaskRef::Unspecified if end > start => {
                // "task 3's" → the number token is "3's".
                let word = self.w(end - 1);
                let base = word.trim_end_matches("'s");
                match digits(base) {
                    Some(n) => u32::try_from(n).map_or(TaskRef::Unspecified, TaskRef::Number),
                    None => TaskRef::Unspecified,
                }
            }
            other => other,
        }
    }

    pub(super) fn task_refs(&self, start: usize, end: usize) -> Vec<TaskRef> {
        let end = end.min(self.len());
        if start >= end {
            return vec![TaskRef::Unspecified];
        }
        const FILLER: &[&str] = &[
            "the", "my", "task", "tasks", "number", "no", "no.", "#", "item", "items", "todo", "todos",
            "one", "and", "&", "as", "to", "a", "an", "of", "list", "on", "in", "from", "please", "it", "is",
            "now", "called", "named",
        ];
        let mut refs = Vec::new();
        let mut all_positional = true;
        for i in start..end {
            let word = self.w(i);
            let base = word.trim_end_matches("'s");
            if let Some(n) = base.strip_prefix('#').and_then(digits).or_else(|| digits(base)) {
                if let Ok(n) = u32::try_from(n) {
                    refs.push(TaskRef::Number(n));
                }
            } else if matches!(base, "first" | "1st") {
                refs.push(TaskRef::First);
            } else if matches!(base, "last" | "latest" | "final") {
                // "scrap that last one": the one just talked about, not the last of a list.
                let pointed = i > start && matches!(self.w(i - 1), "that" | "this");
                refs.push(if pointed { TaskRef::Previous } else { TaskRef::Last });
            } else if let Some(n) =
                ordinal(base).filter(|n| *n > 0 && (base != "second" || self.w(i + 1) != "to"))
            {
                refs.push(u32::try_from(n).map_or(TaskRef::Unspecified, TaskRef::Position));
            } else if !FILLER.contains(&word) && !matches!(word, "that" | "this" | "them" | "those" | "these")
            {
                all_positional = false;
            }
        }
        if all_positional && !refs.is_empty() {
            return refs;
        }
        let mut first = start;
        while first < end
            && matches!(
                self.w(first),
                "the"
                    | "just"
                    | "only"
                    | "my"
                    | "a"
                    | "an"
                    | "that"
                    | "this"
                    | "task"
                    | "todo"
                    | "called"
                    | "named"
                    | "titled"
                    | "item"
            )
        {
            first += 1;
        }
        let mut last = end;
        while last > first
            && matches!(
                self.w(last - 1),
                "task"
                    | "tasks"
                    | "todo"
                    | "item"
                    | "thing"
                    | "things"
                    | "one"
                    | "ones"
                    | "reminder"
                    | "please"
                    | "too"
                    | "as"
                    | "from"
                    | "my"
                    | "list"
            )
        {
            last -= 1;
        }
        if first >= last {
            let pointed = self.words[start..end]
                .iter()
                .any(|w| matches!(*w, "it" | "that" | "this" | "them" | "those" | "these" | "both"));
            let plural = self.words[start..end].iter().any(|w| is_plural_pronoun(w));
            return vec![match (pointed, plural) {
                (true, true) => TaskRef::PreviousAll,
                (true, false) => TaskRef::Previous,
                _ => TaskRef::Unspecified,
            }];
        }
        let vague = self.words[first..last].iter().all(|w| {
            matches!(
                *w,
                "it" | "it's"
                    | "its"
                    | "that's"
                    | "thats"
                    | "that"
                    | "this"
                    | "them"
                    | "those"
                    | "these"
                    | "both"
                    | "old"
                    | "some"
                    | "stuff"
                    | "thing"
                    | "things"
                    | "ones"
                    | "all"
                    | "of"
                    | "other"
                    | "others"
            )
        });
        if vague {
            let pronoun = self.words[first..last].iter().any(|w| {
                matches!(
                    *w,
                    "it" | "it's"
                        | "its"
                        | "that's"
                        | "thats"
                        | "that"
                        | "this"
                        | "them"
                        | "those"
                        | "these"
                        | "both"
                )
            });
            let older =
                self.words[first..last].iter().any(|w| matches!(*w, "old" | "other" | "others" | "some"));
            let plural = self.words[first..last].iter().any(|w| is_plural_pronoun(w));
            return vec![match (pronoun && !older, plural) {
                (true, true) => TaskRef::PreviousAll,
                (true, false) => TaskRef::Previous,
                _ => TaskRef::Unspecified,
            }];
        }
        vec![title_ref(&tidy(self.raw(first, last)))]
    }
}
