//! The offline assistant's reading of a conversation: each line is one message, read with the
//! typo-correcting `parse_message` against fixed "nows", with the state a conversation keeps
//! modelled alongside (the last list shown, a pending confirmation that re-reads the corrected
//! message). Nothing panics; positions resolve inside the list or not at all; a confirmed
//! message reads the same the second time (so "yes" runs what was asked); every date window,
//! shift and recurrence rule a message names is computable.
#![no_main]

use jiff::Zoned;
use libfuzzer_sys::fuzz_target;
use todokit_domain::nl::{Command, Edit, TaskRef, parse_message};

const NOWS: [&str; 3] = [
    "2026-03-08T01:30:00-05:00[America/New_York]",
    "2026-11-21T23:59:30+00:00[UTC]",
    "2026-02-28T12:00:00+05:30[Asia/Kolkata]",
];

fn flatten(command: Command, into: &mut Vec<Command>) {
    match command {
        Command::Sequence(commands) => commands.into_iter().for_each(|c| flatten(c, into)),
        other => into.push(other),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let now: Zoned = NOWS[usize::from(selector) % NOWS.len()].parse().expect("valid fixed now");
    // The conversation's memory: how many tasks the last list showed, and a question.
    let mut last_list = 0usize;
    let mut pending: Option<String> = None;
    for message in text.lines().take(8) {
        let parsed = parse_message(message, &now);
        if let (Command::Confirm, Some(asked)) = (&parsed.command, pending.take()) {
            let again = parse_message(&asked, &now);
            assert_eq!(again.corrected, asked, "a confirmed message is read as it was shown");
            continue;
        }
        if parsed.guessed_destructive() {
            pending = Some(parsed.corrected.clone());
            continue;
        }
        let mut commands = Vec::new();
        flatten(parsed.command, &mut commands);
        for command in commands {
            match command {
                Command::List(filter) | Command::Count(filter) => {
                    if let Some(window) = filter.due {
                        let _ = window.bounds(&now);
                    }
                    last_list = usize::from(selector) % 30;
                }
                Command::Complete(TaskRef::Position(n)) | Command::Delete(TaskRef::Position(n)) => {
                    // Positions count from one; past the end of the list the assistant asks.
                    assert!(n >= 1, "position {n}");
                    let _ = (n as usize).checked_sub(1).filter(|index| *index < last_list);
                }
                Command::Edit(_, Edit::ShiftDue(shift)) => {
                    let _ = now.checked_add(shift.span());
                }
                Command::Edit(_, Edit::Repeat(Some(repeat))) => {
                    let _ = repeat.first_day(now.date());
                    assert!(repeat.interval >= 1);
                    let _ = repeat.describe();
                }
                Command::Add(quick) => {
                    if let Some(repeat) = &quick.repeat {
                        assert!(quick.due.is_some(), "a repeating task gets a first date");
                        let _ = repeat.describe();
                    }
                }
                Command::DeleteAll(_) => pending = Some(parsed.corrected.clone()),
                _ => {}
            }
        }
    }
});
