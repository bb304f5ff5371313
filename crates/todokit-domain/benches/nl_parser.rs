//! The natural-language parser on typical chat messages: `cargo bench -p todokit-domain`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Zoned;
use todokit_domain::nl::{parse_command, parse_datetime, parse_quick_add};

const COMMANDS: &[&str] = &[
    "add call mom tomorrow at 5pm",
    "add buy milk #errands high priority every monday",
    "what's overdue?",
    "mark 3 done",
    "delete all completed tasks tagged work",
    "reschedule my meetings to 2 PM",
    "show high priority tasks due this week",
];

fn now() -> Zoned {
    "2026-03-14T09:30:00[Europe/Paris]".parse().expect("a valid zoned time")
}

fn parser(c: &mut Criterion) {
    let now = now();
    c.bench_function("parse_command/7 typical messages", |b| {
        b.iter(|| {
            for text in COMMANDS {
                black_box(parse_command(black_box(text), &now));
            }
        })
    });
    c.bench_function("parse_command/add with date", |b| {
        b.iter(|| parse_command(black_box("add call mom tomorrow at 5pm"), &now))
    });
    c.bench_function("parse_quick_add", |b| {
        b.iter(|| parse_quick_add(black_box("Pay rent on the 1st of next month #home !high"), &now))
    });
    c.bench_function("parse_datetime", |b| {
        b.iter(|| parse_datetime(black_box("next friday at 10:30am"), &now))
    });
    let long = "add ".to_owned() + &"review the quarterly report draft ".repeat(60);
    c.bench_function("parse_command/2,000-char message", |b| {
        b.iter(|| parse_command(black_box(&long), &now))
    });
}

criterion_group!(benches, parser);
criterion_main!(benches);
