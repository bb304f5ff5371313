use proptest::prelude::*;

use super::new_york_now;
use crate::nl::{parse_command, parse_datetime, parse_quick_add};

fn words() -> impl Strategy<Value = String> {
    let vocabulary = prop::sample::select(vec![
        "add",
        "task",
        "to",
        "buy",
        "milk",
        "tomorrow",
        "at",
        "5pm",
        "friday",
        "next",
        "in",
        "3",
        "days",
        "#work",
        "tagged",
        "with",
        "urgent",
        "high",
        "priority",
        "!low",
        "p1",
        "'",
        "\"",
        "mark",
        "as",
        "done",
        "delete",
        "all",
        "yes",
        "no",
        "and",
        "then",
        "the",
        "task",
        "12/01",
        "2026-12-01T09:00Z",
        "noon",
        "midnight",
        "this",
        "morning",
        "tonight",
        "end",
        "of",
        "month",
        "description:",
        "remind",
        "me",
        "called",
        "rename",
        "change",
        "move",
        "search",
        "for",
        ",",
        ":",
        "é",
        "☕",
        "日本",
        "\u{0}",
        "\n",
        "by",
        "on",
        "the 15th",
        "dec",
        "1st",
    ]);
    prop::collection::vec(vocabulary, 0..14).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic_on_arbitrary_unicode(text in "\\PC{0,80}") {
        let now = new_york_now();
        let _ = parse_command(&text, &now);
        let _ = parse_quick_add(&text, &now);
        if let Some(found) = parse_datetime(&text, &now) {
            // (A date inside "description: …" stays in the description, so `due` may be None.)
            prop_assert!(found.start <= found.end && found.end <= text.len());
            prop_assert!(text.is_char_boundary(found.start) && text.is_char_boundary(found.end));
        }
    }

    #[test]
    fn parsers_never_panic_on_keyword_soup(text in words()) {
        let now = new_york_now();
        let _ = parse_command(&text, &now);
        let _ = parse_quick_add(&text, &now);
        let _ = parse_datetime(&text, &now);
    }

    #[test]
    fn quick_add_title_keeps_no_date_phrase(text in words()) {
        let now = new_york_now();
        let quick = parse_quick_add(&text, &now);
        if let Some(found) = parse_datetime(&text, &now) {
            // (A date inside "description: …" stays in the description, so `due` may be None.)
            // The title contains no date expression at all, so in particular not the stripped one.
            prop_assert!(parse_datetime(&quick.title, &now).is_none(),
                "title {:?} still has a date (stripped {:?})", quick.title, &text[found.start..found.end]);
        }
    }

    #[test]
    fn quick_add_title_is_trimmed(text in "\\PC{0,60}") {
        let now = new_york_now();
        let quick = parse_quick_add(&text, &now);
        prop_assert_eq!(quick.title.trim(), quick.title.as_str());
    }
}
