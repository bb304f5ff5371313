//! Questions: lists, counts, searches and one task's details.

use super::*;

impl Utterance<'_> {
    pub(super) fn is_off_topic(&self) -> bool {
        const TOPICS: &[&str] = &[
            "weather",
            "forecast",
            "temperature",
            "rain",
            "joke",
            "jokes",
            "news",
            "recipe",
            "movie",
            "movies",
            "song",
            "songs",
            "poem",
            "capital",
            "president",
            "stock",
            "stocks",
            "bitcoin",
            "crypto",
            "football",
            "soccer",
            "basketball",
            "score",
            "translate",
            "meaning",
            "horoscope",
            "lottery",
            "sing",
            "story",
            "riddle",
            "math",
            "calculate",
        ];
        self.has_any(TOPICS) && !self.has_any(&["task", "tasks", "todo", "todos", "list"])
    }

    /// One task's details: "show task 2", "tell me about the report", "when is my dentist
    /// appointment?", "what were the notes on groceries", "what's the status of it", "is the
    /// electricity bill paid yet?".
    pub(super) fn show(&self, start: usize) -> Option<Command> {
        let end = self.len();
        let mut end_of_ref = end;
        while end_of_ref > start
            && matches!(self.w(end_of_ref - 1), "yet" | "again" | "due" | "now" | "exactly")
        {
            end_of_ref -= 1;
        }
        let words = &self.words[start..end];
        let (ref_start, ref_end) = match words {
            // "show task 2", "show me #2", "open task 2", "show it", "show me the details for
            // the dentist"
            ["show" | "view" | "open" | "display", rest @ ..] => {
                let at = start + 1 + usize::from(rest.first() == Some(&"me"));
                if let Some(noun) = (at..end).find(|&i| matches!(self.w(i), "details" | "info" | "notes"))
                    && matches!(self.w(noun + 1), "for" | "of" | "on" | "about")
                    && self.words[at..noun].iter().all(|w| matches!(*w, "the" | "all" | "full"))
                {
                    (noun + 2, end_of_ref)
                } else {
                    match self.task_ref(at, end) {
                        TaskRef::Number(_) | TaskRef::Previous if at < end => (at, end),
                        _ => return None,
                    }
                }
            }
            // "whats the plumber one about?"
            ["what's" | "whats", .., "about"] if end - start > 2 => (start + 1, end - 1),
            ["what", "is", .., "about"] if end - start > 3 => (start + 2, end - 1),
            ["tell", "me", "about" | "more", ..] => {
                let at = start + 3 + usize::from(self.w(start + 3) == "about");
                (at, end_of_ref)
            }
            ["details" | "info" | "everything", "of" | "for" | "on" | "about", ..] => (start + 2, end_of_ref),
            ["when" | "when's" | "whens", ..] => {
                let at = start + 1 + usize::from(matches!(self.w(start + 1), "is" | "was" | "does"));
                (at, end_of_ref)
            }
            // "what were the notes on groceries", "what's the status of it"
            ["what" | "what's" | "whats", ..] => {
                let noun = (start + 1..end).find(|&i| {
                    matches!(self.w(i), "notes" | "note" | "description" | "details" | "status" | "deadline")
                })?;
                if !matches!(self.w(noun + 1), "on" | "of" | "for" | "in" | "about") {
                    return None;
                }
                if !self.words[start + 1..noun]
                    .iter()
                    .all(|w| matches!(*w, "are" | "were" | "is" | "was" | "the"))
                {
                    return None;
                }
                (noun + 2, end_of_ref)
            }
            // "is the report done?", "is the electricity bill paid yet?"
            ["is" | "was", ..] => {
                let state = (start + 2..end_of_ref).rev().find(|&i| {
                    matches!(
                        self.w(i),
                        "done" | "finished" | "complete" | "completed" | "paid" | "due" | "overdue"
                    )
                })?;
                if state + 1 != end_of_ref && !(state + 2 == end_of_ref && self.w(state + 1) == "yet") {
                    return None;
                }
                (start + 1, state)
            }
            _ => return None,
        };
        if ref_start >= ref_end {
            return None;
        }
        // Lists are asked for in the plural: "when are my tasks due" is not one task.
        if self.words[ref_start..ref_end]
            .iter()
            .any(|w| matches!(*w, "tasks" | "todos" | "everything" | "anything"))
        {
            return None;
        }
        // "when's the next bin day": the next one is the one still open.
        let ref_start = if self.w(ref_start) == "the" && self.w(ref_start + 1) == "next" {
            ref_start + 2
        } else {
            ref_start
        };
        match self.task_ref(ref_start, ref_end) {
            TaskRef::Unspecified | TaskRef::PreviousAll => None,
            task => Some(Command::Show(task)),
        }
    }

    pub(super) fn list(&self, start: usize) -> Option<Command> {
        const STARTERS: &[&str] = &[
            "show",
            "list",
            "display",
            "view",
            "see",
            "get",
            "give",
            "what",
            "what's",
            "whats",
            "which",
            "any",
            "anything",
            "search",
            "find",
            "look",
            "sort",
            "order",
            "filter",
            "tasks",
            "todos",
            "my",
            "pending",
            "completed",
            "overdue",
            "do",
            "is",
            "are",
            "all",
            "open",
            "upcoming",
            "agenda",
            "lookup",
            "where",
            "am",
            // "got anything overdue?"
            "got",
        ];
        let verb = self.w(start);
        let task_words = self.has_any(&["task", "tasks", "todo", "todos", "to-dos", "list", "agenda"]);
        if !(STARTERS.contains(&verb) || task_words) {
            return None;
        }
        let mut filter = self.list_filter(start, self.len());
        // "what's next?": the pending tasks, soonest first.
        if self.has_any(&["next"]) && filter.due.is_none() && filter.status == StatusFilter::All {
            filter.status = StatusFilter::Pending;
            filter.sort.get_or_insert(SortKey::Due);
        }
        if filter == ListFilter::default()
            && !task_words
            && !matches!(verb, "show" | "list" | "display" | "view" | "sort" | "agenda")
            && !self.has_any(&["do", "need", "have", "doing", "next", "everything", "added", "created"])
        {
            return None;
        }
        Some(Command::List(filter))
    }

    pub(super) fn list_filter(&self, start: usize, end: usize) -> ListFilter {
        let mut filter = ListFilter::default();
        let end = end.min(self.len());
        // Search text consumes the rest of the message, so the other filters only look before it.
        let mut scan_end = end;
        for i in start..end {
            let body = match (self.w(i), self.w(i + 1)) {
                ("search" | "look", "for" | "up") => i + 2,
                // "is there anything with bob" (not "anything with high priority" or "… due …")
                ("anything" | "something" | "stuff", "with" | "involving")
                    if self.priority_phrase(i + 2, end).is_none()
                        && !self.words[i + 2..end].iter().any(|w| {
                            matches!(*w, "priority" | "tag" | "tags" | "tagged" | "due" | "deadline" | "date")
                        }) =>
                {
                    i + 2
                }
                (
                    "search" | "find" | "lookup" | "containing" | "contain" | "contains" | "about"
                    | "matching" | "mentioning" | "mention" | "regarding" | "involving",
                    _,
                ) => i + 1,
                _ => continue,
            };
            let mut body_start = body;
            while matches!(
                self.w(body_start),
                "for"
                    | "my"
                    | "the"
                    | "all"
                    | "tasks"
                    | "task"
                    | "todos"
                    | "about"
                    | "with"
                    | "containing"
                    | "called"
                    | "named"
                    | "that"
                    | "mention"
                    | "word"
                    | "me"
            ) {
                body_start += 1;
            }
            let mut body_end = end;
            while body_end > body_start
                && matches!(
                    self.w(body_end - 1),
                    "tasks" | "task" | "todos" | "items" | "please" | "in" | "my" | "list"
                )
            {
                body_end -= 1;
            }
            let text = tidy(self.raw(body_start, body_end).trim_end_matches(['?', '!', '.']));
            if !text.is_empty() {
                filter.search = Some(text);
                scan_end = i;
            }
            break;
        }
        let words = &self.words[start..scan_end];
        let has = |w: &str| words.contains(&w);
        let phrase = |p: &[&str]| words.windows(p.len()).any(|window| window == p);
        if has("overdue") || has("late") || phrase(&["past", "due"]) || has("missed") || has("behind") {
            filter.status = StatusFilter::Overdue;
        } else if has("completed")
            || has("done")
            || has("finished")
            || has("complete")
            || has("accomplished")
            || phrase(&["did", "i"])
        {
            let negated =
                ["not", "isn't", "isnt", "aren't", "arent", "haven't", "havent", "wasn't", "weren't"]
                    .iter()
                    .any(|not| {
                        ["done", "completed", "complete", "finished"]
                            .iter()
                            .any(|state| phrase(&[not, state]))
                    });
            if !(negated || has("incomplete") || has("haven't") || has("havent")) {
                filter.status = StatusFilter::Completed;
            } else {
                filter.status = StatusFilter::Pending;
            }
        }
        if filter.status == StatusFilter::All
            && (has("pending")
                || has("open")
                || has("incomplete")
                || has("unfinished")
                || has("remaining")
                || has("outstanding")
                || has("left")
                || has("undone")
                || has("active")
                || has("todo")
                || phrase(&["to", "do"])
                || phrase(&["not", "done"]))
        {
            filter.status = StatusFilter::Pending;
        }
        if let Some(window) = self.due_window(start, scan_end) {
            filter.due = Some(window);
        } else if has("today") || has("tonight") {
            filter.due = Some(DueWindow::Today);
        } else if has("tomorrow") {
            filter.due = Some(DueWindow::Tomorrow);
        } else if phrase(&["next", "week"]) {
            filter.due = Some(DueWindow::NextWeek);
        } else if has("weekend") {
            filter.due = Some(DueWindow::ThisWeekend);
        } else if phrase(&["this", "week"]) || has("week") || phrase(&["due", "soon"]) || has("upcoming") {
            filter.due = Some(DueWindow::ThisWeek);
        }
        // "including done ones", "even the finished ones": everything.
        if (has("including") || has("include") || phrase(&["even", "the"]) || has("incl"))
            && filter.status == StatusFilter::Completed
        {
            filter.status = StatusFilter::All;
        }
        filter.topic = self.topic_word(start, scan_end, &filter);
        // "search health": one word may name a tag as well as text (the interpreter checks
        // which the user has).
        if filter.topic.is_none()
            && let Some(word) = filter
                .search
                .take_if(|text| text.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_')))
        {
            filter.topic = Some(word.to_lowercase());
        }
        for (i, w) in words.iter().enumerate() {
            let next = words.get(i + 1).copied().unwrap_or(QUOTED);
            if next == "priority"
                && let Some(priority) = priority_level(w)
            {
                filter.priority = Some(priority);
            } else if *w == "priority"
                && let Some(priority) = priority_level(next)
            {
                filter.priority = Some(priority);
            } else if matches!(*w, "urgent" | "important" | "critical" | "high-priority") {
                filter.priority = Some(Priority::High);
            } else if *w == "low-priority" {
                filter.priority = Some(Priority::Low);
            }
        }
        for (i, w) in words.iter().enumerate() {
            let tag_at =
                match *w {
                    "tagged" | "labeled" | "labelled" => {
                        if matches!(words.get(i + 1), Some(&"with" | &"as")) { i + 2 } else { i + 1 }
                    }
                    "tag" | "label" => i + 1,
                    _ => {
                        if let Some(tag) =
                            w.strip_prefix('#').filter(|t| !t.is_empty() && digits(t).is_none())
                        {
                            filter.tag = Some(tag.to_owned());
                        }
                        continue;
                    }
                };
            if let Some(tag) = words.get(tag_at).filter(|t| **t != QUOTED) {
                filter.tag = Some(tag.trim_start_matches('#').to_owned());
            }
        }
        // Sorting: "sort by due date", "by priority", "alphabetically", "newest first".
        for (i, w) in words.iter().enumerate() {
            let key = match *w {
                "by" => words.get(i + 1).and_then(|k| sort_key(k)),
                "alphabetically" | "alphabetical" => Some(SortKey::Title),
                "newest" | "latest" | "recently" | "recent" => Some(SortKey::Created),
                "added" | "created" if has("i") || has("last") => Some(SortKey::Created),
                _ => None,
            };
            if key.is_some() {
                filter.sort = key;
            }
        }
        if filter.sort.is_none() && (has("sort") || has("order") || has("sorted")) {
            filter.sort = words.iter().find_map(|w| sort_key(w));
        }
        filter
    }

    /// "in the next 3 days", "within 2 weeks", "before friday", "by monday".
    pub(super) fn due_window(&self, start: usize, end: usize) -> Option<DueWindow> {
        for i in start..end {
            let (w, next) = (self.w(i), self.w(i + 1));
            let amount_at = match (w, next) {
                ("next" | "coming", _)
                    if i > start && matches!(self.w(i - 1), "the" | "in" | "within" | "over") =>
                {
                    i + 1
                }
                ("within", _) => i + 1,
                _ => usize::MAX,
            };
            if amount_at != usize::MAX {
                let (amount, unit_at) = match small_number(self.w(amount_at)) {
                    Some(n) if self.w(amount_at) != "a" => (n, amount_at + 1),
                    _ => (1, amount_at),
                };
                let days = match self.w(unit_at) {
                    "day" | "days" => amount,
                    "week" | "weeks" if w != "next" || amount != 1 || self.w(amount_at) != "week" => {
                        amount * 7
                    }
                    "hours" | "hour" => 0,
                    _ => continue,
                };
                return u32::try_from(days).ok().map(DueWindow::NextDays);
            }
            if matches!(w, "before" | "until" | "till") {
                let refs = self.refs(i + 1, end);
                if let Some(found) = find_date(self.text, &refs, self.now)
                    && found.first == 0
                {
                    return Some(DueWindow::Before(found.at.date()));
                }
            }
        }
        None
    }

    /// A single unknown word right before "tasks" ("my work tasks", "any home stuff").
    pub(super) fn topic_word(&self, start: usize, end: usize, filter: &ListFilter) -> Option<String> {
        if filter.tag.is_some() || filter.search.is_some() {
            return None;
        }
        let noun = (start + 1..end).find(|&i| {
            matches!(self.w(i), "tasks" | "task" | "todos" | "stuff" | "items" | "things" | "ones" | "to-dos")
        })?;
        let word = self.w(noun - 1);
        const KNOWN: &[&str] = &[
            "my",
            "the",
            "all",
            "any",
            "your",
            "our",
            "of",
            "open",
            "pending",
            "completed",
            "done",
            "finished",
            "overdue",
            "late",
            "upcoming",
            "priority",
            "high",
            "low",
            "medium",
            "urgent",
            "important",
            "critical",
            "other",
            "remaining",
            "outstanding",
            "incomplete",
            "unfinished",
            "active",
            "current",
            "today's",
            "tomorrow's",
            "old",
            "new",
            "recent",
            "these",
            "those",
            "what",
            "which",
            "show",
            "list",
            "see",
            "view",
            "display",
            "many",
            "much",
            "more",
            "some",
            "today",
            "tomorrow",
            "week",
            "weekend",
            "every",
            "each",
            "are",
            "is",
            "do",
            "did",
            "have",
            "i",
            "me",
            "a",
            "an",
            "next",
            "due",
            "tagged",
            "with",
            "that",
            "for",
            "were",
            "was",
            "still",
            "left",
            "get",
            "give",
            "find",
            "search",
            "high-priority",
            "low-priority",
            "normal",
            "top",
            "biggest",
            "most",
            "first",
            "last",
            "sort",
            "sorted",
            "newest",
            "oldest",
            "latest",
            "all",
            "to-do",
            "todo",
            "count",
            "number",
            "total",
            "including",
        ];
        if word == QUOTED
            || KNOWN.contains(&word)
            || digits(word).is_some()
            || word.len() < 2
            || word.starts_with('#')
        {
            return None;
        }
        Some(word.to_owned())
    }
}
