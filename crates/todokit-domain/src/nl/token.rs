//! Whitespace tokeniser shared by the date, quick-add and command parsers.
//!
//! Every token remembers two byte ranges into the original text: the whole whitespace-delimited
//! chunk (`raw`) and the chunk without surrounding punctuation and quotes (`core`). Parsers match on
//! the lower-cased core; titles are rebuilt from raw chunks so inner punctuation survives.

use std::ops::Range;

/// One whitespace-delimited chunk of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// Byte range of the whole chunk, punctuation included.
    pub raw: Range<usize>,
    /// Byte range of the chunk without leading quotes/brackets and trailing punctuation.
    pub core: Range<usize>,
    /// Lower-cased core, with typographic apostrophes folded to `'`.
    pub norm: String,
    /// The chunk starts with a quote character.
    pub opens_quote: bool,
    /// The chunk ends with a quote character (possibly followed by other punctuation).
    pub closes_quote: bool,
    /// The token lies inside a matched quoted span: its words are literal, not dates or keywords.
    pub quoted: bool,
    /// Trailing punctuation (`,` `;` `:` `.` `!` `?`) ends a clause after this token.
    pub clause_end: bool,
    /// The trailing punctuation included a colon (`task:`).
    pub colon: bool,
    /// The trailing punctuation included a comma (list separator).
    pub comma: bool,
}

impl Token {
    /// The lower-cased core text.
    pub fn text(&self) -> &str {
        &self.norm
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’' | '«' | '»' | '`')
}

fn is_leading_strip(c: char) -> bool {
    is_quote(c) || matches!(c, '(' | '[' | '{' | '<')
}

fn is_trailing_strip(c: char) -> bool {
    is_quote(c) || matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '>' | '…')
}

/// Splits `text` into tokens and marks quoted spans.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chunk_start: Option<usize> = None;
    for (index, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_whitespace() {
            if let Some(start) = chunk_start.take() {
                tokens.push(make_token(text, start..index));
            }
        } else if chunk_start.is_none() {
            chunk_start = Some(index);
        }
    }
    mark_quoted_spans(&mut tokens);
    tokens
}

fn make_token(text: &str, raw: Range<usize>) -> Token {
    let chunk = &text[raw.clone()];
    let without_leading = chunk.trim_start_matches(is_leading_strip);
    let core_start = raw.start + (chunk.len() - without_leading.len());
    let mut core_text = without_leading.trim_end_matches(is_trailing_strip);
    // Keep the closing bracket of an RFC 9557 zone annotation ("2026-12-01T09:00[Europe/Berlin]").
    if core_text.contains('[') && without_leading[core_text.len()..].starts_with(']') {
        core_text = &without_leading[..core_text.len() + 1];
    }
    let core_end = core_start + core_text.len();
    let trailing = &text[core_end..raw.end];
    let opens_quote = chunk.chars().next().is_some_and(is_quote);
    let closes_quote = chunk.chars().rev().take_while(|c| is_trailing_strip(*c)).any(is_quote)
        && (core_end > core_start || chunk.chars().count() > 1);
    let norm = core_text
        .chars()
        .map(|c| if matches!(c, '’' | '‘' | '`') { '\'' } else { c })
        .flat_map(char::to_lowercase)
        .collect();
    Token {
        raw,
        core: core_start..core_end,
        norm,
        opens_quote,
        closes_quote,
        quoted: false,
        clause_end: trailing.chars().any(|c| matches!(c, ',' | ';' | ':' | '.' | '!' | '?')),
        colon: trailing.contains(':'),
        comma: trailing.contains(','),
    }
}

/// Pairs each opening quote with the next closing quote; the tokens in between are literal.
fn mark_quoted_spans(tokens: &mut [Token]) {
    let mut index = 0;
    while index < tokens.len() {
        if tokens[index].opens_quote
            && let Some(close) = (index..tokens.len()).find(|&j| tokens[j].closes_quote)
        {
            for token in &mut tokens[index..=close] {
                token.quoted = true;
            }
            index = close + 1;
            continue;
        }
        index += 1;
    }
}

/// Small cardinal numbers as digits or words ("3", "three", "a", "an").
pub(crate) fn small_number(word: &str) -> Option<i64> {
    let value = match word {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "fifteen" => 15,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        _ => return digits(word),
    };
    Some(value)
}

/// A plain decimal number of at most 9 digits (so it always fits, whatever arithmetic follows).
pub(crate) fn digits(word: &str) -> Option<i64> {
    if word.is_empty() || word.len() > 9 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

/// Ordinal words and suffixed numbers: "first", "3rd", "21st" → 1, 3, 21.
pub(crate) fn ordinal(word: &str) -> Option<i64> {
    let value = match word {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        _ => {
            let number = word
                .strip_suffix("st")
                .or_else(|| word.strip_suffix("nd"))
                .or_else(|| word.strip_suffix("rd"))
                .or_else(|| word.strip_suffix("th"))?;
            return digits(number);
        }
    };
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_byte_ranges_and_strip_punctuation() {
        let text = "Add task: “Buy milk”, (urgent)!";
        let tokens = tokenize(text);
        let cores: Vec<&str> = tokens.iter().map(|t| &text[t.core.clone()]).collect();
        assert_eq!(cores, ["Add", "task", "Buy", "milk", "urgent"]);
        assert!(tokens[1].colon && tokens[1].clause_end);
        assert!(tokens[2].quoted && tokens[3].quoted && !tokens[4].quoted);
        assert_eq!(tokens[3].norm, "milk");
    }

    #[test]
    fn apostrophes_inside_words_are_not_quotes() {
        let tokens = tokenize("what’s mom's plan");
        assert_eq!(tokens[0].norm, "what's");
        assert!(tokens.iter().all(|t| !t.quoted));
    }

    #[test]
    fn punctuation_only_chunks_have_empty_cores() {
        let tokens = tokenize("a \"\" b !!!");
        assert_eq!(tokens[1].norm, "");
        assert_eq!(tokens[3].norm, "");
    }

    #[test]
    fn numbers() {
        assert_eq!(small_number("three"), Some(3));
        assert_eq!(small_number("an"), Some(1));
        assert_eq!(small_number("12"), Some(12));
        assert_eq!(small_number("9999999999"), None);
        assert_eq!(ordinal("21st"), Some(21));
        assert_eq!(ordinal("third"), Some(3));
        assert_eq!(ordinal("st"), None);
    }
}
