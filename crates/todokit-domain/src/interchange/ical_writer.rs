//! A minimal RFC 5545 content-line writer: TEXT escaping (§3.3.11), CRLF line ends and line
//! folding at 75 octets (§3.1) that never splits a UTF-8 character.
//!
//! Hand-written rather than the `icalendar` crate's builder: we need a dozen properties, the
//! builder works on `chrono` types (todokit is on `jiff`), and its folding measures the look-ahead
//! in characters while it cuts in bytes. Its parser checks this writer's output in the tests.

/// Longest content line in octets, excluding the CRLF (RFC 5545 §3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// Escapes a TEXT value: `\` → `\\`, `;` → `\;`, `,` → `\,`, and every line break (CRLF, LF or a
/// lone CR) → `\n`. Other control characters (tabs aside, which TEXT allows) cannot appear in a
/// TEXT value and are dropped; todokit's fields never contain them anyway.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Accumulates a calendar as folded CRLF-terminated content lines.
#[derive(Debug, Default)]
pub struct ContentWriter {
    out: String,
}

impl ContentWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `NAME[;PARAMS]:VALUE` with `value` taken as already encoded (a date, a number, an
    /// RRULE, or text that went through [`escape_text`]).
    pub fn raw(&mut self, name: &str, value: &str) {
        let mut line = String::with_capacity(name.len() + 1 + value.len());
        line.push_str(name);
        line.push(':');
        line.push_str(value);
        fold_into(&line, &mut self.out);
    }

    /// Writes a TEXT property, escaping `text`.
    pub fn text(&mut self, name: &str, text: &str) {
        self.raw(name, &escape_text(text));
    }

    /// Writes a multi-valued TEXT property (`CATEGORIES:a,b`), escaping each value.
    pub fn text_list<S: AsRef<str>>(&mut self, name: &str, values: &[S]) {
        let escaped: Vec<String> = values.iter().map(|v| escape_text(v.as_ref())).collect();
        self.raw(name, &escaped.join(","));
    }

    /// The calendar text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Appends `line` folded: after every 75 octets (74 on continuation lines, which start with a
/// space), at the last UTF-8 character boundary at or before the limit, `CRLF SPACE` is inserted.
pub fn fold_into(line: &str, out: &mut String) {
    let mut rest = line;
    let mut limit = MAX_LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = MAX_LINE_OCTETS - 1;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 5545 §3.1 unfolding: remove every CRLF followed by one space or tab.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "").replace("\r\n\t", "")
    }

    #[test]
    fn escapes_text_specials() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("one\ntwo\r\nthree\rfour"), r"one\ntwo\nthree\nfour");
        assert_eq!(escape_text("tab\there\u{7}"), "tab\there");
        assert_eq!(escape_text("Grüße: 5€"), "Grüße: 5€");
    }

    #[test]
    fn short_lines_are_not_folded() {
        let mut out = String::new();
        fold_into(&"x".repeat(75), &mut out);
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
    }

    #[test]
    fn folds_at_75_octets_on_character_boundaries() {
        let mut out = String::new();
        // 'ü' is two octets, '€' three, '🦀' four.
        let line = format!("SUMMARY:{}", "aü€🦀".repeat(20));
        fold_into(&line, &mut out);
        assert!(out.ends_with("\r\n"));
        for (i, physical) in out.trim_end_matches("\r\n").split("\r\n").enumerate() {
            assert!(physical.len() <= 75, "line {i} has {} octets", physical.len());
            if i > 0 {
                assert!(physical.starts_with(' '));
            }
        }
        assert_eq!(unfold(&out), format!("{line}\r\n"));
    }

    proptest! {
        #[test]
        fn folding_is_undone_by_unfolding(text in "\\PC{0,300}") {
            let line = format!("DESCRIPTION:{}", escape_text(&text));
            let mut out = String::new();
            fold_into(&line, &mut out);
            for physical in out.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(physical.len() <= 75);
                prop_assert!(!physical.is_empty());
            }
            prop_assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
    }
}
