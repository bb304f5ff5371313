use super::{new_york_now, render_quick_add};
use crate::nl::parse_quick_add;

/// (text, rendered result) with `now` = Sat 2026-11-21 10:00 America/New_York.
/// Rendering: `"Title" due=YYYY-MM-DD HH:MM p=priority tags=a,b desc="…"`.
const QUICK_ADD: &[(&str, &str)] = &[
    ("Add a task to buy groceries", "\"Buy groceries\""),
    ("add a task to buy groceries", "\"Buy groceries\""),
    ("Create a task called call mom tonight at 7pm", "\"Call mom\" due=2026-11-21 19:00"),
    ("Remind me to finish the report", "\"Finish the report\""),
    ("create a task to call mom tomorrow at 5pm", "\"Call mom\" due=2026-11-22 17:00"),
    (
        "Create a high priority task called 'Finish project report' due tomorrow",
        "\"Finish project report\" due=2026-11-22 23:59 p=high",
    ),
    ("Add urgent task: call mom", "\"Call mom\" p=high"),
    ("Add task: buy groceries tagged with shopping", "\"Buy groceries\" tags=shopping"),
    ("I need to finish the report by Friday", "\"Finish the report\" due=2026-11-27 23:59"),
    ("buy groceries", "\"Buy groceries\""),
    ("buy milk #shopping #Home p1", "\"Buy milk\" p=high tags=shopping,home"),
    ("buy milk #shopping #shopping", "\"Buy milk\" tags=shopping"),
    ("Call dentist next monday at 9am !low", "\"Call dentist\" due=2026-11-23 09:00 p=low"),
    ("pay rent end of month tags: bills, home", "\"Pay rent\" due=2026-11-30 23:59 tags=bills,home"),
    ("Write blog post labeled writing and work", "\"Write blog post\" tags=writing,work"),
    ("Create a task called 'Call mom tonight' due friday", "\"Call mom tonight\" due=2026-11-27 23:59"),
    ("submit taxes by 04/15 high priority", "\"Submit taxes\" due=2027-04-15 23:59 p=high"),
    ("make dinner reservations", "\"Make dinner reservations\""),
    ("iPhone repair tomorrow", "\"iPhone repair\" due=2026-11-22 23:59"),
    ("add buy milk to my shopping list", "\"Buy milk\""),
    ("add walk the dog to my list", "\"Walk the dog\""),
    // "every morning" is daily at 09:00, as "friday morning" is; 09:00 has passed at 10:00.
    ("water plants every morning", "\"Water plants\" due=2026-11-22 09:00 repeat=\"every day\""),
    (
        "please add a new task: \"Book flights\" description: check prices on Kayak first",
        "\"Book flights\" desc=\"check prices on Kayak first\"",
    ),
    ("Don't forget to call the bank at 3pm", "\"Call the bank\" due=2026-11-21 15:00"),
    ("set a reminder to stretch in 30 minutes", "\"Stretch\" due=2026-11-21 10:30"),
    ("new todo for me: renew passport in 2 months", "\"Renew passport\" due=2027-01-21 23:59"),
    ("Look at 3 options tomorrow", "\"Look at 3 options\" due=2026-11-22 23:59"),
    ("meeting with Bob, friday 2pm", "\"Meeting with Bob\" due=2026-11-27 14:00"),
    ("remind me tomorrow to call mom", "\"Call mom\" due=2026-11-22 23:59"),
    ("remind me to pay rent on the 1st of december", "\"Pay rent\" due=2026-12-01 23:59"),
    ("can you add a task to email Sarah about the budget asap", "\"Email Sarah about the budget\" p=high"),
    (
        "could you please create a task named Review PR #42 tomorrow morning",
        "\"Review PR #42\" due=2026-11-22 09:00",
    ),
    ("todo: clean the garage this weekend", "\"Clean the garage\" due=2026-11-21 23:59"),
    ("task: file expenses by eod", "\"File expenses\" due=2026-11-21 23:59"),
    ("I have to pick up the kids at 3:30pm", "\"Pick up the kids\" due=2026-11-21 15:30"),
    ("need to renew car insurance next month", "\"Renew car insurance\" due=2026-12-01 23:59"),
    ("schedule a task to prepare slides for monday 10am", "\"Prepare slides\" due=2026-11-23 10:00"),
    ("add an important task to fix the leaking tap", "\"Fix the leaking tap\" p=high"),
    ("add low priority task to organise photos", "\"Organise photos\" p=low"),
    ("add a task to read a book with low priority", "\"Read a book\" p=low"),
    ("add task to call grandma priority: high", "\"Call grandma\" p=high"),
    ("Add task to vacuum no rush", "\"Vacuum\" p=low"),
    ("add \"Buy 2026 calendar\"", "\"Buy 2026 calendar\""),
    ("add task 'Pay the 5pm invoice' tomorrow", "\"Pay the 5pm invoice\" due=2026-11-22 23:59"),
    ("add task with tag work: prepare report", "\"Prepare report\" tags=work"),
    (
        "book dentist appointment in 2 weeks at 10am #health",
        "\"Book dentist appointment\" due=2026-12-05 10:00 tags=health",
    ),
    ("Buy gift for mom's birthday on Dec 12", "\"Buy gift for mom's birthday\" due=2026-12-12 23:59"),
    ("Renew library books 12/05", "\"Renew library books\" due=2026-12-05 23:59"),
    ("call the plumber at 5", "\"Call the plumber\" due=2026-11-21 17:00"),
    ("gym at 6pm every day", "\"Gym\" due=2026-11-21 18:00 repeat=\"every day\""),
    ("Gym every Thursday at 6pm", "\"Gym\" due=2026-11-26 18:00 repeat=\"every Thu\""),
    ("standup every weekday at 9am", "\"Standup\" due=2026-11-23 09:00 repeat=\"every weekday\""),
    ("call grandma every Mon and Thu", "\"Call grandma\" due=2026-11-23 23:59 repeat=\"every Mon and Thu\""),
    (
        "pay rent on the 1st of every month",
        "\"Pay rent\" due=2026-12-01 23:59 repeat=\"every month on the 1st\"",
    ),
    (
        "team retro every other week starting monday",
        "\"Team retro\" due=2026-11-23 23:59 repeat=\"every other week\"",
    ),
    (
        "budget review on the 15th of every month, remind me a day before",
        "\"Budget review\" due=2026-12-15 23:59 repeat=\"every month on the 15th\" remind=1440m",
    ),
    ("dentist friday 3pm remind me an hour before", "\"Dentist\" due=2026-11-27 15:00 remind=60m"),
    (
        "dentist on friday at 3pm, remind me 30 minutes before please",
        "\"Dentist\" due=2026-11-27 15:00 remind=30m",
    ),
    ("Add milk to my list please", "\"Milk\""),
    ("buy stamps too", "\"Buy stamps\""),
    ("email the landlord, thanks", "\"Email the landlord\""),
    ("weekly review friday", "\"Weekly review\" due=2026-11-27 23:59"),
    (
        "take out the bins every tuesday evening",
        "\"Take out the bins\" due=2026-11-24 19:00 repeat=\"every Tue\"",
    ),
    (
        "Finish the quarterly report by next friday with note include Q3 numbers",
        "\"Finish the quarterly report\" due=2026-11-27 23:59 desc=\"include Q3 numbers\"",
    ),
    ("add", "\"\""),
    ("remind me", "\"\""),
    ("add task tomorrow", "\"\" due=2026-11-22 23:59"),
    ("create a task", "\"\""),
    ("add a task to", "\"\""),
    ("Pick up dry cleaning, tomorrow", "\"Pick up dry cleaning\" due=2026-11-22 23:59"),
    ("Book table at Luigi's for tonight at 8", "\"Book table at Luigi's\" due=2026-11-21 20:00"),
    ("ask Bob about the 3 options", "\"Ask Bob about the 3 options\""),
    ("write to the landlord on the 30th", "\"Write to the landlord\" due=2026-11-30 23:59"),
];

#[test]
fn quick_add_table() {
    let now = new_york_now();
    let mut failures = Vec::new();
    for &(text, expected) in QUICK_ADD {
        let actual = render_quick_add(&parse_quick_add(text, &now));
        if actual != expected {
            failures.push(format!("    ({text:?}, {actual:?}),"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Recurrence phrases: each is kept correctly or refused (text left in the title, nothing set,
/// `refused=` the reason), never read as a different rule. `now` = Sat 2026-11-21 10:00 New York.
/// Rendering: the quick-add one plus ` count=N`, ` until=YYYY-MM-DD HH:MM` and ` refused="…"`.
const RECURRENCE: &[(&str, &str)] = &[
    // The n-th weekday of a month: todokit's rules have no such thing.
    ("pay rent every 3rd friday", "\"Pay rent every 3rd friday\" refused=n-th weekday"),
    ("book club every last friday", "\"Book club every last friday\" refused=n-th weekday"),
    (
        "team sync every second tuesday of the month",
        "\"Team sync every second tuesday of the month\" refused=n-th weekday",
    ),
    ("review first monday of every month", "\"Review first monday of every month\" refused=n-th weekday"),
    (
        "pay on the last friday of every month",
        "\"Pay on the last friday of every month\" refused=n-th weekday",
    ),
    ("team lunch every 2nd tuesday", "\"Team lunch every 2nd tuesday\" refused=n-th weekday"),
    ("every third friday", "\"Every third friday\" refused=n-th weekday"),
    // The refused phrase is kept; the rest of the line is still read.
    ("every first Tuesdays at 9am", "\"Every first Tuesdays\" due=2026-11-22 09:00 refused=n-th weekday"),
    // "every second tuesday" alone is every other Tuesday.
    ("bins every second tuesday", "\"Bins\" due=2026-11-24 23:59 repeat=\"every other week on Tue\""),
    // Ends: "until" is the last day, not the due date.
    (
        "gym every monday until dec 31",
        "\"Gym\" due=2026-11-23 23:59 repeat=\"every Mon until Thu Dec 31, 2026\" until=2026-12-31 23:59",
    ),
    (
        "standup every weekday at 9am until friday",
        "\"Standup\" due=2026-11-23 09:00 repeat=\"every weekday until Fri Nov 27, 2026\" until=2026-11-27 23:59",
    ),
    (
        "standup every weekday until dec 24 at 5pm",
        "\"Standup\" due=2026-11-23 17:00 repeat=\"every weekday until Thu Dec 24, 2026\" until=2026-12-24 23:59",
    ),
    (
        "call mom every sunday ending jan 31",
        "\"Call mom\" due=2026-11-22 23:59 repeat=\"every Sun until Sun Jan 31, 2027\" until=2027-01-31 23:59",
    ),
    (
        "water plants every 2 days starting tomorrow until dec 20",
        "\"Water plants\" due=2026-11-22 23:59 repeat=\"every other day until Sun Dec 20, 2026\" until=2026-12-20 23:59",
    ),
    (
        "gym every monday until nov 22",
        "\"Gym every monday until nov 22\" refused=before its first occurrence",
    ),
    ("yoga every tuesday until march", "\"Yoga every tuesday until march\" refused=could not read the date"),
    // Counts.
    (
        "stretch every other day for 5 times",
        "\"Stretch\" due=2026-11-21 23:59 repeat=\"every other day, 5 times\" count=5",
    ),
    ("gym every monday for 10 weeks", "\"Gym\" due=2026-11-23 23:59 repeat=\"every Mon, 10 times\" count=10"),
    (
        "retro every other week for 10 weeks",
        "\"Retro\" due=2026-11-21 23:59 repeat=\"every other week, 5 times\" count=5",
    ),
    (
        "antibiotics every day for 2 weeks",
        "\"Antibiotics\" due=2026-11-21 23:59 repeat=\"every day, 14 times\" count=14",
    ),
    // Several weekdays per week: "for 2 weeks" is no plain count, so it stays in the title.
    (
        "gym every mon and thu for 2 weeks",
        "\"Gym for 2 weeks\" due=2026-11-23 23:59 repeat=\"every Mon and Thu\"",
    ),
    (
        "workout every mon and thu 8 times",
        "\"Workout\" due=2026-11-23 23:59 repeat=\"every Mon and Thu, 8 times\" count=8",
    ),
    // Intervals and synonyms.
    ("1:1 every 2 weeks on tuesday", "\"1:1\" due=2026-11-24 23:59 repeat=\"every other week on Tue\""),
    ("review every 3 weeks on friday", "\"Review\" due=2026-11-27 23:59 repeat=\"every 3 weeks on Fri\""),
    ("retro biweekly", "\"Retro\" due=2026-11-21 23:59 repeat=\"every other week\""),
    ("sync fortnightly", "\"Sync\" due=2026-11-21 23:59 repeat=\"every other week\""),
    ("call mom once a week", "\"Call mom\" due=2026-11-21 23:59 repeat=\"every week\""),
    (
        "water the orchid once every 2 weeks",
        "\"Water the orchid\" due=2026-11-21 23:59 repeat=\"every other week\"",
    ),
    // Leaving days out.
    ("walk daily except weekends", "\"Walk\" due=2026-11-23 23:59 repeat=\"every weekday\""),
    ("walk every day except saturday and sunday", "\"Walk\" due=2026-11-23 23:59 repeat=\"every weekday\""),
    (
        "run every day except sunday",
        "\"Run\" due=2026-11-21 23:59 repeat=\"every Mon, Tue, Wed, Thu, Fri and Sat\"",
    ),
    (
        "standup every weekday except friday",
        "\"Standup\" due=2026-11-23 23:59 repeat=\"every Mon, Tue, Wed and Thu\"",
    ),
    ("walk every day except holidays", "\"Walk every day except holidays\" refused=leave weekdays out"),
    // The last day of the month: the 31st, which the domain clamps (Feb 28, Apr 30 …); the
    // series starts in a month that has a 31st so no later month is cut short.
    (
        "pay bills every month on the last day",
        "\"Pay bills\" due=2026-12-31 23:59 repeat=\"every month on the last day\"",
    ),
    (
        "report on the last day of every month",
        "\"Report\" due=2026-12-31 23:59 repeat=\"every month on the last day\"",
    ),
    (
        "report every last day of the month",
        "\"Report\" due=2026-12-31 23:59 repeat=\"every month on the last day\"",
    ),
    ("clean every 31st", "\"Clean\" due=2026-12-31 23:59 repeat=\"every month on the last day\""),
    // Parts of day: as in "friday morning" (09:00 / 15:00 / 19:00 / 20:00).
    ("meditate every morning", "\"Meditate\" due=2026-11-22 09:00 repeat=\"every day\""),
    ("run every morning at 7", "\"Run\" due=2026-11-22 07:00 repeat=\"every day\""),
    ("run every evening at 7", "\"Run\" due=2026-11-21 19:00 repeat=\"every day\""),
    ("read every evening at 8", "\"Read\" due=2026-11-21 20:00 repeat=\"every day\""),
    ("run every morning at 7pm", "\"Run\" due=2026-11-21 19:00 repeat=\"every day\""),
    ("take pills nightly", "\"Take pills\" due=2026-11-21 20:00 repeat=\"every day\""),
    ("backup nightly at 2am", "\"Backup\" due=2026-11-22 02:00 repeat=\"every day\""),
    // Several times per unit, or more often than daily: refused.
    ("run twice a week", "\"Run twice a week\" refused=several times"),
    ("gym three times a week", "\"Gym three times a week\" refused=several times"),
    ("brush teeth twice daily", "\"Brush teeth twice daily\" refused=several times"),
    ("pills every 8 hours", "\"Pills every 8 hours\" refused=more often than once a day"),
    ("check mail every hour", "\"Check mail every hour\" refused=more often than once a day"),
    // Not rules at all.
    ("daily standup", "\"Daily standup\""),
    ("go through emails every monday", "\"Go through emails\" due=2026-11-23 23:59 repeat=\"every Mon\""),
];

#[test]
fn recurrence_table() {
    let now = new_york_now();
    let mut failures = Vec::new();
    for &(text, expected) in RECURRENCE {
        let quick = parse_quick_add(text, &now);
        let mut actual = render_quick_add(&quick);
        if let Some(repeat) = &quick.repeat {
            if let Some(count) = repeat.count {
                actual.push_str(&format!(" count={count}"));
            }
            if let Some(until) = &repeat.until {
                actual.push_str(&format!(" until={}", super::short_local(until)));
            }
            assert!(repeat.to_recurrence().is_ok(), "{text}");
        }
        let refused_ok = match (&quick.repeat_unsupported, expected.split_once(" refused=")) {
            (Some(why), Some((_, want))) => why.contains(want) && quick.repeat.is_none(),
            (None, None) => true,
            _ => false,
        };
        let expected_head = expected.split_once(" refused=").map_or(expected, |(head, _)| head);
        if actual != expected_head || !refused_ok {
            failures.push(format!("    ({text:?}, {actual:?} refused={:?}),", quick.repeat_unsupported));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// The rule quick-add hands over ends where the phrase said: "until" includes its day, "for N
/// times" counts the first occurrence.
#[test]
fn recurrence_ends_reach_the_domain_rule() {
    let now = new_york_now();
    let tz = now.time_zone().clone();
    let series = |text: &str| -> Vec<String> {
        let quick = parse_quick_add(text, &now);
        let rule = quick.repeat.expect(text).to_recurrence().expect(text);
        let start = quick.due.expect(text).timestamp();
        (0..20)
            .map_while(|n| rule.occurrence_due(start, &tz, n))
            .map(|at| at.to_zoned(tz.clone()).strftime("%F").to_string())
            .collect()
    };
    assert_eq!(
        series("gym every monday until dec 14"),
        ["2026-11-23", "2026-11-30", "2026-12-07", "2026-12-14"]
    );
    assert_eq!(series("stretch every other day for 3 times"), ["2026-11-21", "2026-11-23", "2026-11-25"]);
    assert_eq!(
        series("pay bills every month on the last day for 4 times"),
        ["2026-12-31", "2027-01-31", "2027-02-28", "2027-03-31"]
    );
    assert_eq!(
        series("walk daily except weekends until nov 27"),
        ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    );
    // An impossible count is reported by the domain rule, not dropped.
    let quick = parse_quick_add("every day for 500 times", &now);
    assert!(quick.repeat.expect("rule").to_recurrence().is_err());
}
