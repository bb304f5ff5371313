//! Typo tolerance for command words: "delte task 3", "compelte the report", "tomorow".
//!
//! Only words that steer the command are corrected — the verb at the start of a message and a
//! short list of keywords anywhere — and only to a word one or two edits away (two for long
//! words). Titles are never corrected here: a title is matched against the user's tasks
//! instead, where a typo is measured against what exists.

use super::quick_add::skip_politeness;
use super::token::{Token, tokenize};
use super::words::TYPO_VERBS;

/// A word corrected to a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// As typed (lower case).
    pub typed: String,
    /// The keyword it was read as.
    pub read_as: &'static str,
}

/// Words that matter wherever they are.
const KEYWORDS: &[&str] = &[
    "tomorrow",
    "tonight",
    "today",
    "priority",
    "complete",
    "completed",
    "overdue",
    "pending",
    "urgent",
    "important",
    "reminder",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekday",
    "weekend",
    "every",
];

/// Ordinary words near a verb or keyword that must stay as typed.
const KEEP: &[&str] = &[
    "make",
    "more",
    "love",
    "lost",
    "last",
    "lust",
    "mask",
    "park",
    "bark",
    "dark",
    "mart",
    "fund",
    "fine",
    "fins",
    "done",
    "gone",
    "none",
    "bone",
    "shoe",
    "snow",
    "slow",
    "show",
    "shop",
    "adds",
    "odd",
    "today",
    "toady",
    "modal",
    "model",
    "compete",
    "competed",
    "delight",
    "remote",
    "remover",
    "cancer",
    "create",
    "crate",
    "updated",
    "change",
    "charge",
    "chance",
    "finnish",
    "finish",
    "march",
    "match",
    "mark",
    "marks",
    "marked",
    "moves",
    "mover",
    "movie",
    "remain",
    "reopen",
    "every",
    "ever",
    "very",
    "even",
    "event",
    "evening",
    "everyday",
    "prioritise",
    "friday",
    "fried",
    "monday",
    "sunday",
    "undo",
    "under",
    "lists",
    "listen",
    "clean",
    "clear",
    "cleared",
    "clearly",
    "dentist",
    "schedule",
    "display",
    "search",
    "research",
    "delete",
    "remove",
    "complete",
    "rename",
    "update",
    "tonight",
    "tomorrow",
    "pending",
    "spending",
    "sending",
    "bending",
    "ending",
    "urgent",
    "important",
    "reminder",
    "erase",
    "erased",
    "rinse",
    "cause",
    "pause",
    "pose",
    "post",
    "posted",
    "ensure",
    "secure",
];

/// Restricted Damerau–Levenshtein distance (a swap of two neighbours is one edit).
fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    if word.chars().count() < 4 || !word.chars().all(|c| c.is_alphabetic()) || KEEP.contains(&word) {
        return None;
    }
    // A known word, or a form of one ("finished", "adds"), is not a typo.
    if candidates.iter().any(|candidate| word.starts_with(candidate)) {
        return None;
    }
    let allowed = if word.chars().count() >= 7 { 2 } else { 1 };
    let mut best: Option<(&'static str, usize)> = None;
    let mut tie = false;
    for &candidate in candidates {
        // Same first letter, or a swap of the first two: most typos keep the start.
        let first_ok = candidate.chars().next() == word.chars().next()
            || candidate.chars().nth(1) == word.chars().next();
        if !first_ok {
            continue;
        }
        let d = distance(word, candidate);
        if d > allowed {
            continue;
        }
        match best {
            Some((_, best_d)) if d > best_d => {}
            Some((_, best_d)) if d == best_d => tie = true,
            _ => {
                best = Some((candidate, d));
                tie = false;
            }
        }
    }
    if tie { None } else { best.map(|(candidate, _)| candidate) }
}

/// The word of `candidates` one edit from `word` (three letters or more), when it is not one
/// of them already.
fn near(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    if word.chars().count() < 3 || !word.chars().all(|c| c.is_alphabetic()) || candidates.contains(&word) {
        return None;
    }
    candidates.iter().copied().find(|candidate| distance(word, candidate) == 1)
}

/// Chat shorthand for command words: "hi pri", "high prio", "done w/ the report".
fn shorthand(word: &str, next: Option<&str>) -> Option<&'static str> {
    let names_priority = |word: Option<&str>| matches!(word, Some("prio" | "pri" | "priority"));
    match word {
        "prio" | "pri" => Some("priority"),
        "hi" if names_priority(next) => Some("high"),
        "lo" if names_priority(next) => Some("low"),
        "med" if names_priority(next) => Some("medium"),
        "w/" => Some("with"),
        "w/o" => Some("without"),
        _ => None,
    }
}

/// The text with command words corrected, and what was guessed. Corrected again, the result
/// stays as it is (a confirmation re-reads the corrected text): one correction can make
/// another ("lo rpwiority" → "lo priority" → "low priority"), so passes repeat until none
/// changes anything.
pub fn correct(text: &str) -> (String, Vec<Guess>) {
    let (mut corrected, mut guesses) = correct_once(text);
    // Each pass only writes keywords, which later passes keep; a few passes settle it.
    for _ in 0..4 {
        let (again, more) = correct_once(&corrected);
        if more.is_empty() {
            break;
        }
        corrected = again;
        guesses.extend(more);
    }
    (corrected, guesses)
}

fn correct_once(text: &str) -> (String, Vec<Guess>) {
    let tokens = tokenize(text);
    let refs: Vec<&Token> = tokens.iter().filter(|t| !t.norm.is_empty()).collect();
    let verb_at = skip_politeness(&refs, 0);
    let mut replacements: Vec<(std::ops::Range<usize>, &'static str)> = Vec::new();
    let mut guesses = Vec::new();
    for (index, token) in refs.iter().enumerate() {
        if token.quoted {
            continue;
        }
        let word = token.text();
        let next = refs.get(index + 1).map(|t| t.text());
        let is_last = index + 1 == refs.len();
        // "mark tsak 2 as don": the noun before a number, and the state that ends the message.
        let in_context = if next.is_some_and(|n| n.trim_start_matches('#').parse::<u32>().is_ok()) {
            near(word, &["task"])
        } else if is_last
            && index > 0
            && refs[index - 1].text() == "as"
            && refs.get(verb_at).is_some_and(|verb| matches!(verb.text(), "mark" | "set" | "flag"))
        {
            near(word, &["done", "complete", "completed", "finished"])
        } else {
            None
        };
        let guess = if in_context.is_some() {
            in_context
        } else if index == verb_at && word == "ad" && refs.len() > index + 1 {
            // "ad buy a gift": "ad" alone is not a command.
            Some("add")
        } else if matches!(word, "teh" | "hte") {
            // "mark teh groceries as done": a slip of "the" would otherwise join the title.
            Some("the")
        } else if index == verb_at && matches!(word, "whta's" | "waht's" | "wht's" | "whats's" | "what'a") {
            Some("what's")
        } else if let Some(full) = shorthand(word, next) {
            Some(full)
        } else if index == verb_at {
            closest(word, TYPO_VERBS).or_else(|| closest(word, KEYWORDS))
        } else {
            None
        }
        .or_else(|| if word.chars().count() >= 5 { closest(word, KEYWORDS) } else { None });
        if let Some(read_as) = guess {
            replacements.push((token.core.clone(), read_as));
            guesses.push(Guess { typed: word.to_owned(), read_as });
        }
    }
    if replacements.is_empty() {
        return (text.to_owned(), guesses);
    }
    let mut corrected = String::with_capacity(text.len());
    let mut last = 0;
    for (range, word) in replacements {
        corrected.push_str(&text[last..range.start]);
        corrected.push_str(word);
        last = range.end;
    }
    corrected.push_str(&text[last..]);
    (corrected, guesses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words_are_corrected() {
        assert_eq!(correct("delte task 3").0, "delete task 3");
        assert_eq!(correct("pls compelte the report").0, "pls complete the report");
        assert_eq!(correct("Remvoe the dentist").0, "remove the dentist");
        assert_eq!(correct("add call mom tomorow").0, "add call mom tomorrow");
        assert_eq!(correct("shwo my tasks").0, "show my tasks");
        assert_eq!(correct("mark task 2 as compelted").0, "mark task 2 as completed");
        assert_eq!(correct("make it high priorty").0, "make it high priority");
        assert_eq!(correct("mark tsak 2 as don").0, "mark task 2 as done");
        assert_eq!(correct("complete taks #3").0, "complete task #3");
        assert_eq!(correct("mark teh groceries as done").0, "mark the groceries as done");
        assert_eq!(correct("whta's overdue").0, "what's overdue");
        assert_eq!(correct("ad buy birthday gift for sara").0, "add buy birthday gift for sara");
        // Found by the offline_conversation fuzzer: correcting twice changed "lo" the second time.
        let once = correct("delete all domy lo rpwiority taskss").0;
        assert_eq!(once, "delete all domy low priority taskss");
        assert_eq!(correct(&once).0, once);
        assert_eq!(correct("add buy a gift, hi pri").0, "add buy a gift, high priority");
        assert_eq!(correct("done w/ the report").0, "done with the report");
    }

    #[test]
    fn ordinary_words_and_titles_stay() {
        for text in [
            "make dinner",
            "park the car",
            "done 3",
            "add Tomo's gift",
            "buy a bike",
            "'delte' the word",
            "mark task 2 as done",
            "tag it as dune",
            "call dan 2 times",
        ] {
            assert_eq!(correct(text).0, text, "{text}");
        }
        assert!(correct("show my tasks").1.is_empty());
    }
}
