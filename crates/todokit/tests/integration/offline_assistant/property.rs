//! Property: whatever a generated message says — with typos, politeness and filters — the
//! offline assistant changes no task outside the ones it names or its filter matches.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use todokit::tasks::model::Task;

use super::harness::Chat;

const TITLES: &[&str] = &[
    "Buy groceries",
    "Call mom",
    "Pay water bill",
    "Renew passport",
    "Book dentist",
    "Fix the sink",
    "Water the plants",
    "Email the landlord",
];
const TAGS: &[&str] = &["home", "work", "errands"];
const PRIORITIES: &[&str] = &["low", "medium", "high"];

#[derive(Debug, Clone)]
struct Seed {
    title: &'static str,
    priority: &'static str,
    tag: Option<&'static str>,
    done: bool,
    due_in_days: Option<i64>,
}

/// What a message may touch: one task (by seed index), the tasks a filter matches, or nothing.
#[derive(Debug, Clone)]
enum Scope {
    One(usize),
    Tag(&'static str),
    Priority(&'static str),
    Nothing,
}

#[derive(Debug, Clone)]
struct Case {
    seeds: Vec<Seed>,
    messages: Vec<String>,
    scope: Scope,
}

fn seed() -> impl Strategy<Value = (usize, Seed)> {
    (
        0..TITLES.len(),
        prop::sample::select(PRIORITIES),
        prop::option::of(prop::sample::select(TAGS)),
        any::<bool>(),
        prop::option::of(-3i64..10),
    )
        .prop_map(|(title, priority, tag, done, due_in_days)| {
            (title, Seed { title: TITLES[title], priority, tag, done, due_in_days })
        })
}

/// A one-letter typo (a swap of two neighbours) in words long enough to survive it.
fn typo(word: &str, at: usize) -> String {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 5 {
        return word.to_owned();
    }
    let i = 1 + at % (chars.len() - 2);
    let mut chars = chars;
    chars.swap(i, i + 1);
    chars.into_iter().collect()
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(seed(), 2..6),
        0usize..14,
        0usize..8,
        prop::sample::select(vec!["{}", "please {}", "can you {} for me", "{} thanks", "could you {}?"]),
        any::<bool>(),
        0usize..50,
    )
        .prop_map(|(raw, action, pick, wrapper, misspell, typo_at)| {
            let mut seeds: Vec<Seed> = Vec::new();
            for (_, seed) in raw {
                if !seeds.iter().any(|s| s.title == seed.title) {
                    seeds.push(seed);
                }
            }
            let index = pick % seeds.len();
            let number = index + 1;
            let title = seeds[index].title.to_lowercase();
            let title = if misspell { typo(&title, typo_at) } else { title };
            let tag = TAGS[pick % TAGS.len()];
            let priority = PRIORITIES[pick % PRIORITIES.len()];
            let (text, follow_up, scope) = match action {
                0 => (format!("mark task {number} as done"), None, Scope::One(index)),
                1 => (format!("complete the {title} task"), None, Scope::One(index)),
                2 => (format!("delete task {number}"), None, Scope::One(index)),
                3 => (format!("delete {title}"), Some("yes"), Scope::One(index)),
                4 => (format!("make task {number} high priority"), None, Scope::One(index)),
                5 => (format!("tag task {number} with urgent-stuff"), None, Scope::One(index)),
                6 => (format!("postpone task {number} by 2 days"), None, Scope::One(index)),
                7 => (format!("finish every task tagged {tag}"), None, Scope::Tag(tag)),
                8 => (
                    format!("delete all my {priority} priority tasks"),
                    Some("yes"),
                    Scope::Priority(priority),
                ),
                9 => (format!("delete everything tagged {tag}"), Some("no"), Scope::Nothing),
                10 => {
                    (format!("mark all {priority} priority tasks as done"), None, Scope::Priority(priority))
                }
                11 => (format!("{} {title}", typo("delete", typo_at)), None, Scope::Nothing),
                12 => ("show my tasks".to_owned(), Some("delete the dinosaur task"), Scope::Nothing),
                _ => (format!("rename task {number} to Something else"), None, Scope::One(index)),
            };
            // A message about a title that matched nothing changes nothing; that is allowed.
            let mut messages = vec![wrapper.replace("{}", &text)];
            messages.extend(follow_up.map(str::to_owned));
            Case { seeds, messages, scope }
        })
}

fn fingerprint(task: &Task) -> String {
    format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{:?}",
        task.title,
        task.completed,
        task.priority,
        task.tags,
        task.due_at,
        task.reminder_offset_minutes,
        task.recurrence
    )
}

fn in_scope(scope: &Scope, seed: &Seed, index: usize) -> bool {
    match scope {
        Scope::One(one) => *one == index,
        Scope::Tag(tag) => seed.tag == Some(*tag),
        Scope::Priority(priority) => seed.priority == *priority,
        Scope::Nothing => false,
    }
}

async fn run(case: Case) -> Result<(), String> {
    let mut chat = Chat::new().await;
    let base = "2026-11-21T12:00:00";
    for seed in &case.seeds {
        let due = seed.due_in_days.map(|days| {
            let date = jiff::civil::date(2026, 11, 21).checked_add(jiff::Span::new().days(days)).unwrap();
            format!("{date}T{}", &base[11..])
        });
        let tags: Vec<&str> = seed.tag.into_iter().collect();
        chat.seed(seed.title, due.as_deref(), Some(seed.priority), &tags, seed.done).await;
    }
    let before = chat.all_tasks().await;
    for message in &case.messages {
        chat.say(message).await;
    }
    let after = chat.all_tasks().await;
    for (index, seed) in case.seeds.iter().enumerate() {
        if in_scope(&case.scope, seed, index) {
            continue;
        }
        let was = before.iter().find(|task| task.title == seed.title).map(fingerprint);
        let now = after
            .iter()
            .find(|task| task.number == before.iter().find(|t| t.title == seed.title).unwrap().number);
        if was != now.map(fingerprint) {
            return Err(format!(
                "{:?} changed {:?}: {was:?} → {:?}",
                case.messages,
                seed.title,
                now.map(fingerprint)
            ));
        }
    }
    Ok(())
}

#[test]
fn nothing_outside_what_a_message_names_changes() {
    // Deterministic (fixed seed, bounded cases) so CI never turns red by chance.
    let mut runner = TestRunner::new_with_rng(
        Config { cases: 48, failure_persistence: None, ..Config::default() },
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runner.run(&case(), |case| runtime.block_on(run(case)).map_err(TestCaseError::fail)).unwrap();
}
