//! The natural-language parser: `parse_datetime`, `parse_quick_add` and `parse_command` never
//! panic, and a date match's byte range lies on character boundaries of the input (callers
//! slice the text with it).
#![no_main]

use jiff::Zoned;
use libfuzzer_sys::fuzz_target;
use todokit_domain::nl::{parse_command, parse_datetime, parse_quick_add};

/// Fixed "nows" (a DST zone near a change, UTC, a half-hour zone) so runs are reproducible.
const NOWS: [&str; 3] = [
    "2026-03-08T01:30:00-05:00[America/New_York]",
    "2026-11-21T23:59:30+00:00[UTC]",
    "2026-02-28T12:00:00+05:30[Asia/Kolkata]",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let now: Zoned = NOWS[usize::from(selector) % NOWS.len()].parse().expect("valid fixed now");
    if let Some(found) = parse_datetime(text, &now) {
        assert!(found.start <= found.end && found.end <= text.len(), "match out of range");
        assert!(
            text.is_char_boundary(found.start) && text.is_char_boundary(found.end),
            "match splits a char"
        );
    }
    let quick = parse_quick_add(text, &now);
    assert!(!quick.title.contains('\0') || text.contains('\0'), "title invented a NUL");
    let _ = parse_command(text, &now);
});
