//! Thread title helper for responders (the server never invents titles).

/// Longest title [`title_from_text`] returns, in characters.
pub const MAX_TITLE_CHARS: usize = 60;

/// A short title from a user message: whitespace collapsed, at most 60 characters, cut at
/// a word boundary with "…" when longer. Empty input gives an empty string.
pub fn title_from_text(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= MAX_TITLE_CHARS {
        return collapsed;
    }
    // Leave room for the ellipsis.
    let budget = MAX_TITLE_CHARS - 1;
    let cut: String = collapsed.chars().take(budget).collect();
    // Prefer the last space, unless the text is one very long word.
    let next_is_space = collapsed.chars().nth(budget) == Some(' ');
    let head = if next_is_space {
        cut.as_str()
    } else {
        match cut.rfind(' ') {
            Some(space) if space > 0 => &cut[..space],
            _ => cut.as_str(),
        }
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c));
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_with_whitespace_collapsed() {
        assert_eq!(title_from_text("  Plan my\n week  "), "Plan my week");
        assert_eq!(title_from_text("   "), "");
    }

    #[test]
    fn long_text_is_cut_at_a_word_boundary() {
        let text = "Please help me organise all of the tasks for the product launch next month, including QA";
        let title = title_from_text(text);
        assert_eq!(
            title,
            "Please help me organise all of the tasks for the product…"
        );
        assert!(title.chars().count() <= MAX_TITLE_CHARS);
    }

    #[test]
    fn one_long_word_is_hard_cut() {
        let title = title_from_text(&"ä".repeat(100));
        assert_eq!(title.chars().count(), MAX_TITLE_CHARS);
        assert!(title.ends_with('…'));
    }

    #[test]
    fn word_ending_exactly_at_the_budget_is_kept() {
        let text = format!("{} next", "a".repeat(59));
        assert_eq!(title_from_text(&text), format!("{}…", "a".repeat(59)));
    }
}
