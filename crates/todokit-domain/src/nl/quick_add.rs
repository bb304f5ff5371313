//! Quick-add: one line of text → title, due date, priority, tags and description.

use jiff::Zoned;
use serde::Serialize;

use super::date::find_date;
use super::repeat::{Repeat, anchored_due, find_reminder, find_repeat, find_unsupported_repeat};
use super::token::{Token, digits, tokenize};
use crate::task::Priority;

/// The result of [`parse_quick_add`]. Nothing here is validated yet: run `title` through
/// [`crate::Title::parse`], `tags` through [`crate::Tags::parse`] and so on. An empty `title`
/// means the text named no task ("add task") and the caller should ask for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuickAdd {
    /// The task title with the date phrase, priority words, tags and lead-in removed, first letter
    /// capitalised.
    pub title: String,
    /// Text after "description:", "notes:" or "with note".
    pub description: Option<String>,
    /// The first date/time expression, resolved in the user's zone.
    pub due: Option<Zoned>,
    /// Whether `due` names a time of day (false: it carries [`super::DEFAULT_DUE_TIME`]).
    pub due_has_time: bool,
    /// A priority named in the text ("urgent", "high priority", "!low", "p1").
    pub priority: Option<Priority>,
    /// Tags from "#hashtags", "tagged with X", "tags X, Y", "labeled X": lower-cased, trimmed,
    /// de-duplicated, in order of appearance.
    pub tags: Vec<String>,
    /// A recurrence phrase ("every Thursday", "every other week", "on the 15th of every month").
    /// When it names days and no date was given, `due` is the first of them.
    pub repeat: Option<Repeat>,
    /// A recurrence phrase todokit cannot keep, and why: "every 3rd friday" (n-th weekday of a
    /// month), "twice a week", "every 2 hours", or a rule that ends before its first occurrence.
    /// Its words stay in `title` and set nothing; callers should say so rather than save.
    pub repeat_unsupported: Option<String>,
    /// A reminder phrase ("remind me an hour before"): minutes before `due`; 0 (at the due
    /// time) when the message asks to be reminded of a task at a time ("remind me to … at 5pm").
    pub reminder_minutes: Option<u32>,
}

/// Parses a quick-add line such as "Call mom tomorrow at 5pm #family !high".
///
/// The title keeps everything that is not a recognised phrase. Text inside quotes is literal:
/// `Create a task called 'Call mom tonight'` keeps "tonight" in the title and sets no due date.
///
/// A recurrence phrase todokit cannot keep ("every 3rd friday", "twice a week") or one that
/// would end before it starts stays in the title word for word, is not read as a date either,
/// and is explained in [`QuickAdd::repeat_unsupported`].
pub fn parse_quick_add(text: &str, now: &Zoned) -> QuickAdd {
    let quick = parse(text, now, false);
    match (&quick.repeat, &quick.due) {
        (Some(Repeat { until: Some(until), .. }), Some(due)) if due > until => {
            let mut kept = parse(text, now, true);
            kept.repeat_unsupported.get_or_insert_with(|| {
                format!(
                    "the repeat would end ({}) before its first occurrence ({})",
                    until.strftime("%a %b %-d, %Y"),
                    due.strftime("%a %b %-d, %Y")
                )
            });
            kept
        }
        (Some(Repeat { until: None, .. }), _) if names_unread_end(&quick.title) => {
            let mut kept = parse(text, now, true);
            kept.repeat_unsupported
                .get_or_insert_with(|| "could not read the date the repeat ends on".to_owned());
            kept
        }
        _ => quick,
    }
}

/// Whether a title still holds an end for a rule ("until march") that was not read as a date.
fn names_unread_end(title: &str) -> bool {
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let words: Vec<String> = title.split_whitespace().map(str::to_lowercase).collect();
    words.windows(2).any(|pair| {
        let next = pair[1].trim_end_matches([',', '.']);
        matches!(pair[0].as_str(), "until" | "till" | "til" | "ending" | "through" | "thru")
            && (next.chars().next().is_some_and(|c| c.is_ascii_digit())
                || matches!(next, "end" | "next" | "the")
                || (next.len() >= 3
                    && next.chars().all(char::is_alphabetic)
                    && MONTHS.iter().any(|month| next.starts_with(month))))
    })
}

fn parse(text: &str, now: &Zoned, keep_repeat: bool) -> QuickAdd {
    let tokens = tokenize(text);
    let mut removed = vec![false; tokens.len()];
    let description = take_description(text, &tokens, &mut removed);
    // Phrases kept in the title as written: hidden from the other phrases, restored at the end.
    let mut kept = vec![false; tokens.len()];
    let repeat_unsupported = locate(&tokens, &removed, find_unsupported_repeat).map(|(why, span)| {
        for index in span {
            kept[index] = true;
            removed[index] = true;
        }
        why
    });
    let located = locate(&tokens, &removed, find_repeat);
    let mut repeat_span = Vec::new();
    let mut repeat = located.map(|(repeat, span)| {
        for &index in &span {
            removed[index] = true;
        }
        repeat_span = span;
        repeat
    });
    // "every monday until dec 31": the end of the rule, not its due date.
    if let Some(repeat) = &mut repeat
        && let Some((until, span)) = locate_until(text, &tokens, &removed, now)
    {
        repeat.until = Some(until);
        for index in span {
            removed[index] = true;
            repeat_span.push(index);
        }
    }
    if keep_repeat {
        for &index in &repeat_span {
            kept[index] = true;
        }
        repeat = None;
    }
    // "every Tuesday evening": the part of day after the rule is its time; "every morning" too.
    let part_of_day_in_rule = repeat_span.iter().find_map(|&index| part_of_day(tokens[index].text()));
    let part_of_day_after_rule = repeat.as_ref().and_then(|_| take_part_of_day(&tokens, &mut removed));
    let repeat_time = repeat.as_ref().and_then(|_| part_of_day_after_rule.or(part_of_day_in_rule));
    // "every monday night at 8" is 20:00, as "every night at 8" is.
    let part_of_day_in_rule = part_of_day_in_rule.or(part_of_day_after_rule);
    let reminder_minutes = take_phrase(&tokens, &mut removed, find_reminder);
    let before_dates = removed.clone();
    let first_date = take_dates(text, &tokens, &mut removed, now);
    // "every morning at 7": a bare hour follows the rule's part of day (7:00, not 19:00).
    let first_date = match (first_date, part_of_day_in_rule) {
        (Some((at, true, has_date)), Some(part)) => {
            let date_words =
                (0..tokens.len()).filter(|&i| removed[i] && !before_dates[i]).map(|i| tokens[i].text());
            let fitted = fit_part_of_day(at, part, date_words);
            // Only a time was given and it moved into the past: the next such time.
            let fitted = if has_date { fitted } else { next_at(fitted.time(), now).unwrap_or(fitted) };
            Some((fitted, true, has_date))
        }
        (first_date, _) => first_date,
    };
    let priority = take_priority(&tokens, &mut removed);
    let tags = take_tags(text, &tokens, &mut removed);
    // Removing priority words and tags can join the words of another date
    // phrase ("this !low morning"); take those too, keeping the first date.
    let later_date = take_dates(text, &tokens, &mut removed, now);
    let mut dated = first_date.or(later_date);
    if dated.is_none()
        && let Some(time) = repeat_time
        // "every morning" at 10:00 starts tomorrow morning.
        && let Some(at) = next_at(time, now)
    {
        dated = Some((at, true, false));
    }
    if let Some(repeat) = &repeat {
        dated = anchored_due(repeat, dated, now).map(|(at, has_time)| (at, has_time, true));
    }
    let (due, due_has_time) = match dated {
        Some((at, has_time, _)) => (Some(at), has_time),
        None => (None, false),
    };
    for (index, keep) in kept.iter().enumerate() {
        if *keep {
            removed[index] = false;
        }
    }
    let mut title = build_title(text, &tokens, &removed);
    let (mut due, mut due_has_time) = (due, due_has_time);
    // Trimming words around the title can leave a phrase that reads as a date
    // on its own ("by 3"); it belongs to the schedule, not the title. Quoted
    // words and kept phrases are never dates.
    let has_quoted_words = (0..tokens.len()).any(|i| !removed[i] && tokens[i].quoted);
    let keeps_phrase = kept.contains(&true);
    for _ in 0..if has_quoted_words || keeps_phrase { 0 } else { 4 } {
        let Some(found) = super::parse_datetime(&title, now) else { break };
        if due.is_none() {
            due = Some(found.at.clone());
            due_has_time = found.has_time;
        }
        let rest = format!("{} {}", &title[..found.start], &title[found.end..]);
        title = capitalise(&tidy(&rest.split_whitespace().collect::<Vec<_>>().join(" ")));
    }
    // "remind me to call mom at 5pm": a reminder at that moment, not only a due time.
    let reminder_minutes = reminder_minutes.or_else(|| {
        let refs: Vec<&Token> = tokens.iter().collect();
        let at = skip_politeness(&refs, 0);
        let asked = refs.get(at).is_some_and(|t| t.text() == "remind")
            && refs.get(at + 1).is_some_and(|t| t.text() == "me");
        (asked && due.is_some() && due_has_time).then_some(0)
    });
    QuickAdd {
        title,
        description,
        due,
        due_has_time,
        priority,
        tags,
        repeat,
        repeat_unsupported,
        reminder_minutes,
    }
}

/// The first phrase `find` recognises among the tokens still in play, with the indices of its
/// tokens.
fn locate<T>(
    tokens: &[Token],
    removed: &[bool],
    find: fn(&[&Token]) -> Option<super::repeat::Found<T>>,
) -> Option<(T, Vec<usize>)> {
    let active = active_indices(removed);
    let refs: Vec<&Token> = active.iter().map(|&i| &tokens[i]).collect();
    let found = find(&refs)?;
    Some((found.value, active[found.first..found.end].to_vec()))
}

/// "until dec 31", "till friday", "ending on 2027-03-01", "through jan 5": the last instant a
/// rule may fall on (the end of that day when no time is named) and the phrase's tokens.
fn locate_until(text: &str, tokens: &[Token], removed: &[bool], now: &Zoned) -> Option<(Zoned, Vec<usize>)> {
    let active = active_indices(removed);
    let refs: Vec<&Token> = active.iter().map(|&i| &tokens[i]).collect();
    (0..refs.len()).find_map(|at| {
        let word = if refs[at].quoted { "" } else { refs[at].text() };
        if !matches!(word, "until" | "till" | "til" | "through" | "thru" | "ending" | "ends" | "up") {
            return None;
        }
        let mut start = at + 1;
        if word == "up" {
            // "up to dec 31", "up until dec 31"
            if !refs.get(start).is_some_and(|t| matches!(t.text(), "to" | "until" | "till")) {
                return None;
            }
            start += 1;
        }
        if matches!(word, "ending" | "ends") && refs.get(start).is_some_and(|t| t.text() == "on") {
            start += 1;
        }
        let found =
            find_date(text, &refs[start..], now).filter(|found| found.first == 0 && found.has_date)?;
        // "until dec 24 at 5pm": the time is the rule's, the end is the day.
        let found = if found.has_time {
            (1..found.end)
                .rev()
                .find_map(|end| {
                    find_date(text, &refs[start..start + end], now)
                        .filter(|m| m.first == 0 && m.end == end && m.has_date && !m.has_time)
                })
                .unwrap_or(found)
        } else {
            found
        };
        let until = if found.has_time {
            found.at
        } else {
            found.at.date().to_datetime(super::DEFAULT_DUE_TIME).to_zoned(now.time_zone().clone()).ok()?
        };
        Some((until, active[at..start + found.end].to_vec()))
    })
}

/// The next `time` of day from `now`: today's, or tomorrow's once it has passed.
fn next_at(time: jiff::civil::Time, now: &Zoned) -> Option<Zoned> {
    let today = now.date().to_datetime(time).to_zoned(now.time_zone().clone()).ok()?;
    if today >= *now {
        return Some(today);
    }
    now.date().tomorrow().ok()?.to_datetime(time).to_zoned(now.time_zone().clone()).ok()
}

/// Moves a bare hour ("at 7", "at 8") by twelve hours when that puts it in the part of day the
/// rule named ("every morning at 7" is 07:00, "every evening at 8" 20:00); a time with am/pm,
/// minutes or a 24-hour leading zero is left as written.
fn fit_part_of_day<'a>(
    at: Zoned,
    part: jiff::civil::Time,
    mut words: impl Iterator<Item = &'a str>,
) -> Zoned {
    let bare = words.all(|word| {
        let marked = word.contains(':')
            || word.ends_with("am")
            || word.ends_with("pm")
            || matches!(word, "a.m." | "p.m." | "noon" | "midnight" | "midday")
            || (word.starts_with('0') && word.len() > 1);
        !marked && digits(word).is_none_or(|hour| hour <= 12)
    });
    let range = match part.hour() {
        9 => 4..12,
        15 => 12..18,
        19 => 17..24,
        _ => 18..24,
    };
    let hour = at.hour();
    if !bare || range.contains(&hour) || !range.contains(&((hour + 12) % 24)) {
        return at;
    }
    let shifted = if hour >= 12 {
        at.time().checked_sub(jiff::Span::new().hours(12))
    } else {
        at.time().checked_add(jiff::Span::new().hours(12))
    };
    shifted
        .ok()
        .and_then(|time| at.date().to_datetime(time).to_zoned(at.time_zone().clone()).ok())
        .unwrap_or(at)
}

fn part_of_day(word: &str) -> Option<jiff::civil::Time> {
    Some(match word {
        "morning" | "mornings" => jiff::civil::time(9, 0, 0, 0),
        "afternoon" | "afternoons" => jiff::civil::time(15, 0, 0, 0),
        "evening" | "evenings" => jiff::civil::time(19, 0, 0, 0),
        "night" | "nights" | "nightly" => jiff::civil::time(20, 0, 0, 0),
        _ => return None,
    })
}

/// A part-of-day word ("morning", "evening") right after removed tokens: its usual time.
fn take_part_of_day(tokens: &[Token], removed: &mut [bool]) -> Option<jiff::civil::Time> {
    let index = (1..tokens.len()).find(|&i| removed[i - 1] && !removed[i] && !tokens[i].quoted)?;
    let time = part_of_day(tokens[index].text()).filter(|_| tokens[index].text() != "nightly")?;
    removed[index] = true;
    Some(time)
}

/// Removes the first phrase `find` recognises among the tokens still in play.
fn take_phrase<T>(
    tokens: &[Token],
    removed: &mut [bool],
    find: fn(&[&Token]) -> Option<super::repeat::Found<T>>,
) -> Option<T> {
    let active = active_indices(removed);
    let refs: Vec<&Token> = active.iter().map(|&i| &tokens[i]).collect();
    let found = find(&refs)?;
    for &index in &active[found.first..found.end] {
        removed[index] = true;
    }
    Some(found.value)
}

/// "description: …", "notes: …", "with note …": everything after it is the description.
fn take_description(text: &str, tokens: &[Token], removed: &mut [bool]) -> Option<String> {
    let is_keyword = |t: &Token| {
        !t.quoted && matches!(t.text(), "description" | "desc" | "notes" | "note" | "details" | "comment")
    };
    let position = tokens.iter().enumerate().position(|(i, t)| {
        is_keyword(t) && (t.colon || (i > 0 && tokens[i - 1].text() == "with" && i + 1 < tokens.len()))
    })?;
    // Never take the whole text as a description: "note: buy milk" is a task called "buy milk".
    if position == 0 || (position == 1 && tokens[0].text() == "with") {
        return None;
    }
    let start = if tokens[position - 1].text() == "with" { position - 1 } else { position };
    let body_start = tokens[position].raw.end;
    let body = text[body_start..].trim().trim_start_matches([':', '-']).trim();
    for flag in &mut removed[start..] {
        *flag = true;
    }
    (!body.is_empty()).then(|| body.to_owned())
}

/// Indices of tokens not removed yet.
fn active_indices(removed: &[bool]) -> Vec<usize> {
    (0..removed.len()).filter(|&i| !removed[i]).collect()
}

/// Removes every date expression; the first one is the due date.
fn take_dates(
    text: &str,
    tokens: &[Token],
    removed: &mut [bool],
    now: &Zoned,
) -> Option<(Zoned, bool, bool)> {
    let mut due = None;
    // Bounded: each round removes at least one token.
    for _ in 0..tokens.len() {
        let active = active_indices(removed);
        let refs: Vec<&Token> = active.iter().map(|&i| &tokens[i]).collect();
        let Some(found) = find_date(text, &refs, now) else {
            break;
        };
        for &index in &active[found.first..found.end] {
            removed[index] = true;
        }
        if due.is_none() {
            due = Some((found.at, found.has_time, found.has_date));
        }
    }
    due
}

/// Priority keywords accepted next to the word "priority" ("high priority", "priority: low").
fn priority_level(word: &str) -> Option<Priority> {
    match word {
        "high" | "highest" | "top" | "urgent" => Some(Priority::High),
        "medium" | "normal" | "mid" | "med" => Some(Priority::Medium),
        "low" | "lowest" => Some(Priority::Low),
        _ => None,
    }
}

const TASK_NOUNS: &[&str] = &["task", "todo", "to-do", "reminder", "item"];

fn take_priority(tokens: &[Token], removed: &mut [bool]) -> Option<Priority> {
    let mut found = None;
    let usable = |i: usize, removed: &[bool]| i < tokens.len() && !removed[i] && !tokens[i].quoted;
    let mut index = 0;
    while index < tokens.len() {
        if !usable(index, removed) {
            index += 1;
            continue;
        }
        let word = tokens[index].text();
        let next = tokens.get(index + 1).filter(|_| usable(index + 1, removed)).map(Token::text);
        let mut span: Option<(usize, usize, Priority)> = None;
        if let Some(rest) = word.strip_prefix('!')
            && let Ok(priority) = Priority::parse(rest)
            && !rest.is_empty()
        {
            span = Some((index, index + 1, priority));
        } else if matches!(word, "p1" | "p2" | "p3")
            || matches!(word, "urgent" | "urgently" | "asap" | "high-priority" | "low-priority")
        {
            span = Priority::parse(word).ok().map(|p| (index, index + 1, p));
        } else if word == "no" && next == Some("rush") {
            span = Some((index, index + 2, Priority::Low));
        } else if next == Some("priority")
            && let Some(priority) = priority_level(word)
        {
            span = Some((index, index + 2, priority));
        } else if word == "priority"
            && let Some(priority) = next.and_then(priority_level)
        {
            span = Some((index, index + 2, priority));
        } else if matches!(word, "important" | "critical") && next.is_some_and(|n| TASK_NOUNS.contains(&n)) {
            span = Some((index, index + 1, Priority::High));
        }
        match span {
            Some((start, end, priority)) => {
                let start = if start > 0
                    && usable(start - 1, removed)
                    && matches!(tokens[start - 1].text(), "with" | "as" | "at")
                {
                    start - 1
                } else {
                    start
                };
                for flag in &mut removed[start..end] {
                    *flag = true;
                }
                found.get_or_insert(priority);
                index = end;
            }
            None => index += 1,
        }
    }
    found
}

fn normalise_tag(raw: &str) -> String {
    raw.trim().to_lowercase()
}

fn take_tags(text: &str, tokens: &[Token], removed: &mut [bool]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let push = |tag: String, tags: &mut Vec<String>| {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    };
    let usable = |i: usize, removed: &[bool]| i < tokens.len() && !removed[i] && !tokens[i].quoted;
    let mut index = 0;
    while index < tokens.len() {
        if !usable(index, removed) {
            index += 1;
            continue;
        }
        let token = &tokens[index];
        let word = token.text();
        if let Some(rest) = word.strip_prefix('#')
            && !rest.is_empty()
            && !rest.bytes().all(|b| b.is_ascii_digit())
            && !rest.starts_with('#')
        {
            let original = &text[token.core.clone()];
            push(normalise_tag(&original[1..]), &mut tags);
            removed[index] = true;
            index += 1;
            continue;
        }
        let Some(items_start) = tag_phrase_items_start(tokens, index) else {
            index += 1;
            continue;
        };
        let items = tag_list(tokens, items_start, removed);
        if items.is_empty() {
            index += 1;
            continue;
        }
        let start = if index > 0
            && usable(index - 1, removed)
            && matches!(tokens[index - 1].text(), "with" | "and" | "add")
        {
            index - 1
        } else {
            index
        };
        let end = items.last().map_or(items_start, |&last| last + 1);
        for &item in &items {
            push(normalise_tag(&text[tokens[item].core.clone()]), &mut tags);
        }
        for flag in &mut removed[start..end] {
            *flag = true;
        }
        index = end;
    }
    tags
}

/// If a tag phrase ("tagged with", "tags:", "with tag", "labeled") starts at `index`, the index of
/// its first item.
fn tag_phrase_items_start(tokens: &[Token], index: usize) -> Option<usize> {
    let word = tokens[index].text();
    let previous = index.checked_sub(1).map(|i| tokens[i].text());
    let next = tokens.get(index + 1).map(Token::text);
    match word {
        "tagged" | "labeled" | "labelled" => {
            Some(if matches!(next, Some("with" | "as")) { index + 2 } else { index + 1 })
        }
        "tags" | "labels" => Some(index + 1),
        "tag" | "label" if tokens[index].colon || matches!(previous, Some("with" | "add")) => Some(index + 1),
        // "add get flu shot, tag it health", "…, tag bills": a new clause about the task being
        // added.
        "tag" | "label" if index > 0 && tokens[index - 1].comma && next.is_some() => {
            let mut at = index + 1;
            while tokens.get(at).is_some_and(|t| matches!(t.text(), "it" | "this" | "that" | "as" | "with")) {
                at += 1;
            }
            Some(at)
        }
        _ => None,
    }
}

/// Items of a tag list: single words separated by commas or "and".
fn tag_list(tokens: &[Token], start: usize, removed: &[bool]) -> Vec<usize> {
    let usable =
        |i: usize| i < tokens.len() && !removed[i] && !tokens[i].quoted && !tokens[i].norm.is_empty();
    let mut items = Vec::new();
    let mut at = start;
    while usable(at) {
        items.push(at);
        if tokens[at].comma && usable(at + 1) {
            at += 1;
        } else if usable(at + 1) && matches!(tokens[at + 1].text(), "and" | "&") && usable(at + 2) {
            at += 2;
        } else {
            break;
        }
    }
    items
}

/// Words left dangling at the end once a phrase after them was removed ("… and #tag").
const DANGLING: &[&str] = &[
    "and",
    "with",
    "due",
    "on",
    "at",
    "by",
    "for",
    "&",
    "-",
    "",
    "to",
    "in",
    "from",
    "until",
    "till",
    "before",
    "of",
    "or",
    "but",
    "the",
    "a",
    "an",
    "starting",
    "every",
    "each",
    "repeat",
    "repeating",
    "recurring",
    // "put gym on thursday 7am, its high priority"
    "its",
    "it's",
];

/// Politeness and filler at the end of a title ("… please", "… too", "… for me thanks").
fn strip_trailing_filler(kept: &mut Vec<&Token>) {
    const TRAILING: &[&[&str]] = &[
        &["please"],
        &["pls"],
        &["plz"],
        &["thanks"],
        &["thx"],
        &["ty"],
        &["thank", "you"],
        &["too"],
        &["also"],
        &["as", "well"],
        &["for", "me"],
        &["ok"],
        &["okay"],
        &["if", "you", "can"],
        &["if", "possible"],
        &["will", "you"],
        &["would", "you"],
        &["could", "you"],
        &["right", "now"],
        &["real", "quick"],
        &["asap"],
        &["cheers"],
        &["x"],
        // No date to keep: "buy stamps at some point" is "Buy stamps", due whenever.
        &["at", "some", "point"],
        &["sometime"],
        &["some", "time"],
        &["someday"],
        &["some", "day"],
        &["eventually"],
        &["one", "of", "these", "days"],
        &["whenever", "i", "can"],
        &["when", "i", "can"],
        &["when", "i", "get", "a", "chance"],
        &["when", "i", "have", "time"],
        &["at", "some", "stage"],
    ];
    loop {
        let words: Vec<&str> = kept.iter().map(|t| if t.quoted { "\u{0}" } else { t.text() }).collect();
        let Some(suffix) = TRAILING
            .iter()
            .find(|suffix| words.len() > suffix.len() && words[words.len() - suffix.len()..] == ***suffix)
        else {
            return;
        };
        kept.truncate(kept.len() - suffix.len());
    }
}

/// Rebuilds the title from the tokens that were not removed.
fn build_title(text: &str, tokens: &[Token], removed: &[bool]) -> String {
    let mut kept: Vec<&Token> = (0..tokens.len()).filter(|&i| !removed[i]).map(|i| &tokens[i]).collect();
    let lead = lead_in_len(&kept);
    kept.drain(..lead);
    // Filler and list suffixes can hide each other ("… to my list please"): strip until stable.
    loop {
        let before = kept.len();
        strip_list_suffix(&mut kept);
        strip_trailing_filler(&mut kept);
        while kept.last().is_some_and(|t| !t.quoted && DANGLING.contains(&t.text())) {
            kept.pop();
        }
        if kept.len() == before {
            break;
        }
    }
    let joined = kept.iter().map(|t| &text[t.raw.clone()]).collect::<Vec<_>>().join(" ");
    // Sentence punctuation at the end is not part of a title ("… book flights!"), but a
    // closing quote or an ellipsis inside quotes is left alone.
    let joined = match kept.last() {
        Some(last) if !last.quoted => joined.trim_end_matches(['.', '!', '?']),
        _ => joined.as_str(),
    };
    capitalise(&tidy(joined))
}

/// Trims separators and unwraps a title that is entirely quoted.
pub(crate) fn tidy(title: &str) -> String {
    const SEPARATORS: &[char] = &[':', ',', ';', '-', '–', '—', ' '];
    let mut title = title.trim().trim_matches(SEPARATORS);
    let quotes = ['"', '\'', '“', '”', '‘', '’', '«', '»', '`'];
    for _ in 0..3 {
        let mut chars = title.chars();
        match (chars.next(), chars.next_back()) {
            (Some(first), Some(last)) if quotes.contains(&first) && quotes.contains(&last) => {
                title =
                    title[first.len_utf8()..title.len() - last.len_utf8()].trim().trim_matches(SEPARATORS);
            }
            _ => break,
        }
    }
    title.to_owned()
}

/// Upper-cases the first letter unless the first word already has capitals ("iPhone").
pub(crate) fn capitalise(title: &str) -> String {
    let first_word = title.split_whitespace().next().unwrap_or("");
    if first_word.chars().any(char::is_uppercase) {
        return title.to_owned();
    }
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "to my list", "to my todo list", "on my tasks" at the end of the title.
fn strip_list_suffix(kept: &mut Vec<&Token>) {
    let words: Vec<&str> = kept.iter().map(|t| t.text()).collect();
    let n = words.len();
    for suffix_len in [4usize, 3] {
        if n <= suffix_len {
            continue;
        }
        let tail = &words[n - suffix_len..];
        let ok = matches!(tail[0], "to" | "on" | "in" | "onto")
            && matches!(tail[1], "my" | "the")
            && matches!(tail[tail.len() - 1], "list" | "tasks" | "todos" | "to-dos" | "todo" | "todolist")
            && (suffix_len == 3 || matches!(tail[2], "todo" | "to-do" | "task" | "tasks" | "shopping"));
        if ok && kept[n - suffix_len..].iter().all(|t| !t.quoted) {
            kept.truncate(n - suffix_len);
            return;
        }
    }
}

/// Number of leading tokens that are a lead-in ("please add a task to", "remind me to").
pub(crate) fn lead_in_len(tokens: &[&Token]) -> usize {
    let word = |i: usize| -> &str { tokens.get(i).filter(|t| !t.quoted).map_or("\u{0}", |t| t.text()) };
    let mut at = skip_politeness(tokens, 0);
    let start = at;
    match word(at) {
        "remind" if word(at + 1) == "me" => {
            at += 2;
            if matches!(word(at), "to" | "that" | "about" | "of") {
                at += 1;
            }
            return at;
        }
        "don't" | "dont" if word(at + 1) == "forget" => {
            at += 2;
            if word(at) == "to" {
                at += 1;
            }
            return at;
        }
        "do" if word(at + 1) == "not" && word(at + 2) == "forget" => {
            at += 3;
            if word(at) == "to" {
                at += 1;
            }
            return at;
        }
        // "note to self: back up the laptop"
        "note" if word(at + 1) == "to" && word(at + 2) == "self" => return at + 3,
        "remember" => {
            at += 1;
            if word(at) == "to" {
                at += 1;
            }
            return at;
        }
        _ => {}
    }
    if let Some(len) = obligation_len(&word, at) {
        // "I gotta remember to renew my passport": the task is the renewing.
        if word(at + len) == "remember" && word(at + len + 1) == "to" {
            return at + len + 2;
        }
        return at + len;
    }
    // "I have a dentist appointment next tuesday": the appointment is the task.
    match (word(at), word(at + 1), word(at + 2)) {
        ("i", "have" | "got", "a" | "an") => return at + 3,
        ("i've" | "ive", "got", "a" | "an") => return at + 3,
        _ => {}
    }
    let verb = word(at);
    let verb_len = match (verb, word(at + 1)) {
        ("set" | "jot" | "write" | "note" | "pencil", "up" | "down" | "in") => 2,
        (
            "add" | "create" | "new" | "make" | "put" | "schedule" | "set" | "setup" | "note" | "jot"
            | "save" | "log" | "record" | "write" | "enter" | "stick" | "pop" | "throw" | "pencil",
            _,
        ) => 1,
        ("task" | "todo" | "to-do" | "reminder", _) if tokens.get(at).is_some_and(|t| t.colon) => {
            return at + 1;
        }
        _ => return start,
    };
    at += verb_len;
    if word(at) == "me" && verb != "remind" {
        at += 1;
    }
    if matches!(word(at), "a" | "an" | "the" | "another" | "my" | "one" | "1") {
        at += 1;
    }
    if word(at) == "new" {
        at += 1;
    }
    let has_noun = TASK_NOUNS.contains(&word(at)) || (word(at) == "to" && word(at + 1) == "do");
    if has_noun {
        at += if word(at) == "to" { 2 } else { 1 };
        if word(at) == "for" && word(at + 1) == "me" {
            at += 2;
        }
        match (word(at), word(at + 1)) {
            ("that", "says") | ("which", "says") => at += 2,
            ("to", _)
            | ("called", _)
            | ("named", _)
            | ("titled", _)
            | ("saying", _)
            | ("for", _)
            | ("about", _)
            | ("of", _)
            | ("that", _) => at += 1,
            _ => {}
        }
        return at;
    }
    // Without "task", only the unambiguous verbs are lead-ins: "make dinner" is a title.
    if matches!(verb, "add" | "create" | "new" | "jot" | "stick" | "pop" | "throw" | "pencil")
        || (verb_len == 2 && verb != "set")
        || (verb == "put" && !matches!(word(at), "away" | "up" | "out" | "on" | "off" | "back"))
    {
        return start + verb_len;
    }
    start
}

/// "i need to", "i have to", "need to", "gotta" …: how many words the phrase spans at `at`.
fn obligation_len<'a>(word: &dyn Fn(usize) -> &'a str, at: usize) -> Option<usize> {
    let subject = usize::from(word(at) == "i");
    let after = at + subject;
    let len = match (word(after), word(after + 1)) {
        ("need" | "have" | "want" | "got", "to") => 2,
        ("must" | "should" | "gotta", _) => 1,
        ("i've" | "ive", "got") if word(after + 2) == "to" => 3,
        _ => return None,
    };
    // "need to" without "I" is still a lead-in; "want to" needs the "I".
    if subject == 0 && word(after) == "want" {
        return None;
    }
    Some(subject + len)
}

/// Skips "please", "can you", "could you please", "i'd like to", "let's", "hey" …
pub(crate) fn skip_politeness(tokens: &[&Token], mut at: usize) -> usize {
    let word = |i: usize| tokens.get(i).filter(|t| !t.quoted).map_or("\u{0}", |t| t.text());
    loop {
        let before = at;
        match (word(at), word(at + 1), word(at + 2)) {
            (
                "please" | "pls" | "plz" | "kindly" | "hey" | "hi" | "ok" | "okay" | "so" | "just" | "also"
                | "now" | "quickly" | "and" | "then",
                _,
                _,
            ) => at += 1,
            ("would", "you", "mind") => at += 3,
            ("can" | "could" | "would" | "will", "you" | "u" | "ya", _) => at += 2,
            ("i'd" | "id", "like", "to") => at += 3,
            ("i'd" | "id" | "i", "like" | "need" | "want", "you") if word(at + 3) == "to" => at += 4,
            ("i", "would", "like") if word(at + 3) == "you" && word(at + 4) == "to" => at += 5,
            (
                "um" | "uh" | "umm" | "erm" | "oh" | "well" | "alright" | "right" | "hmm" | "yo" | "oi"
                | "hiya" | "hello" | "thx" | "thanks" | "ugh",
                _,
                _,
            ) => at += 1,
            ("for", "me", _) if at > 0 => at += 2,
            ("i", "would", "like") if word(at + 3) == "to" => at += 4,
            ("i", "want", "to") if is_command_verb(word(at + 3)) => at += 3,
            ("i", "wanna", verb) if is_command_verb(verb) => at += 2,
            ("let's" | "lets", _, _) => at += 1,
            ("go", "ahead", "and") => at += 3,
            _ => {}
        }
        if at == before {
            return at;
        }
    }
}

/// Verbs that start an assistant command (used to decide where politeness ends and where a
/// second command begins).
pub(crate) fn is_command_verb(word: &str) -> bool {
    matches!(
        word,
        "add"
            | "create"
            | "make"
            | "new"
            | "remind"
            | "mark"
            | "complete"
            | "finish"
            | "check"
            | "tick"
            | "cross"
            | "done"
            | "reopen"
            | "uncomplete"
            | "unmark"
            | "delete"
            | "remove"
            | "erase"
            | "trash"
            | "cancel"
            | "drop"
            | "rename"
            | "change"
            | "update"
            | "edit"
            | "modify"
            | "set"
            | "move"
            | "reschedule"
            | "postpone"
            | "push"
            | "delay"
            | "show"
            | "list"
            | "display"
            | "view"
            | "search"
            | "find"
            | "sort"
            | "order"
            | "schedule"
            | "prioritize"
            | "prioritise"
            | "clear"
    )
}
