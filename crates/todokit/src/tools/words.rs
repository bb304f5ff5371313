//! Everyday words for reminders and recurrence, as people (and models) say them: "30 minutes
//! before", "an hour before", "every weekday", "every Monday and Thursday", "every 2 weeks until
//! June 30". Also the reverse: a rule described in words for tool messages.

use todokit_domain::{Frequency, MAX_OCCURRENCES, Recurrence, ReminderOffset, Weekday};

/// A reminder in words: `Ok(Some(offset))`, or `Ok(None)` for "none"/"off" (remove it).
pub fn reminder_from_words(text: &str) -> Result<Option<ReminderOffset>, String> {
    let lower = text.trim().to_lowercase();
    let unclear = || {
        format!(
            "reminder: could not understand {:?}; send minutes before the due time (e.g. 30) or words \
             such as \"30 minutes before\", \"an hour before\", \"1 day before\", \"at due time\"",
            text.trim()
        )
    };
    if matches!(lower.as_str(), "none" | "off" | "no" | "never" | "no reminder" | "remove" | "clear") {
        return Ok(None);
    }
    let mut words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty() && !matches!(*w, "remind" | "me" | "reminder" | "notify"))
        .collect();
    // "…before", "…before it's due", "…ahead", "…early".
    if let Some(at) =
        words.iter().position(|w| matches!(*w, "before" | "ahead" | "early" | "earlier" | "prior"))
    {
        words.truncate(at);
    }
    let phrase = words.join(" ");
    if matches!(
        phrase.as_str(),
        "at due time"
            | "at the due time"
            | "when due"
            | "when it's due"
            | "on time"
            | "at time"
            | "at the time"
    ) {
        return ReminderOffset::new(0).map(Some).map_err(|err| err.to_string());
    }
    let minutes = match words.as_slice() {
        [number] if number.parse::<i64>().is_ok() => number.parse::<i64>().ok(),
        ["half", "an", "hour"] | ["half", "hour"] | ["a", "half", "hour"] => Some(30),
        ["a", "quarter", "hour"] | ["quarter", "hour"] | ["a", "quarter", "of", "an", "hour"] => Some(15),
        [number, unit] => amount(number).zip(unit_minutes(unit)).map(|(n, unit)| n * unit),
        _ => {
            // "1h", "30min", "2d".
            let digits: String = phrase.chars().take_while(char::is_ascii_digit).collect();
            let unit = phrase[digits.len()..].trim();
            digits.parse::<i64>().ok().zip(unit_minutes(unit)).map(|(n, unit)| n * unit)
        }
    };
    let minutes = minutes.ok_or_else(unclear)?;
    ReminderOffset::new(minutes).map(Some).map_err(|err| format!("reminder: {err}"))
}

fn amount(word: &str) -> Option<i64> {
    let number = match word {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "ten" => 10,
        "fifteen" => 15,
        "twenty" => 20,
        "thirty" => 30,
        "forty-five" => 45,
        other => return other.parse().ok(),
    };
    Some(number)
}

fn unit_minutes(unit: &str) -> Option<i64> {
    let minutes = match unit {
        "m" | "min" | "mins" | "minute" | "minutes" => 1,
        "h" | "hr" | "hrs" | "hour" | "hours" => 60,
        "d" | "day" | "days" => 24 * 60,
        "w" | "wk" | "week" | "weeks" => 7 * 24 * 60,
        _ => return None,
    };
    Some(minutes)
}

/// The parts of a recurrence in words, before the end date (which needs the user's clock and
/// zone) is resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceWords {
    pub rule: Recurrence,
    /// The words after "until"/"till"/"through", if any.
    pub until: Option<String>,
}

/// A recurrence in words: `Ok(Some(..))`, or `Ok(None)` for "none"/"never" (stop repeating).
pub fn recurrence_from_words(text: &str) -> Result<Option<RecurrenceWords>, String> {
    let lower = text.trim().to_lowercase();
    let unclear = || {
        format!(
            "recurrence: could not understand {:?}; use words such as \"daily\", \"every weekday\", \
             \"every Monday and Thursday\", \"every 2 weeks\", \"monthly until 2027-06-30\", \"weekly \
             for 10 times\", or a rule {{frequency, interval, weekdays, count, until}}",
            text.trim()
        )
    };
    if matches!(
        lower.as_str(),
        "none"
            | "never"
            | "no"
            | "off"
            | "once"
            | "not recurring"
            | "does not repeat"
            | "don't repeat"
            | "stop"
    ) {
        return Ok(None);
    }
    let (core, until) = match [" until ", " till ", " through ", " ending ", " ends "]
        .iter()
        .filter_map(|marker| lower.find(marker).map(|at| (at, marker.len())))
        .min()
    {
        Some((at, len)) => (&lower[..at], Some(lower[at + len..].trim().to_owned())),
        None => (lower.as_str(), None),
    };
    let words: Vec<&str> = core
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '&' | '/' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut frequency: Option<Frequency> = None;
    let mut interval: Option<u32> = None;
    let mut count: Option<u32> = None;
    let mut days: Vec<Weekday> = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        let next = words.get(index + 1).copied();
        match word {
            "repeat" | "repeats" | "repeating" | "recurring" | "recur" | "recurs" | "every" | "each"
            | "on" | "and" | "the" | "a" | "an" | "at" | "in" => {}
            "other" => interval = Some(2),
            "daily" | "day" | "days" => frequency = Some(Frequency::Daily),
            "weekly" | "week" | "weeks" => frequency = Some(Frequency::Weekly),
            "monthly" | "month" | "months" => frequency = Some(Frequency::Monthly),
            "yearly" | "annually" | "year" | "years" | "annual" => frequency = Some(Frequency::Yearly),
            "biweekly" | "fortnightly" | "fortnight" => {
                frequency = Some(Frequency::Weekly);
                interval = Some(2);
            }
            "weekday" | "weekdays" | "workday" | "workdays" | "working" => {
                days.extend(Weekday::WORKDAYS);
            }
            "weekend" | "weekends" => days.extend([Weekday::Sat, Weekday::Sun]),
            "for" | "x" | "times" | "occurrences" | "time" => {}
            _ => {
                if let Ok(day) =
                    Weekday::parse(word.strip_suffix('s').filter(|w| w.len() > 2).unwrap_or(word))
                        .or_else(|_| Weekday::parse(word))
                {
                    days.push(day);
                } else if let Some(number) = leading_number(word) {
                    // "10 times" / "x10" is a count; "2 weeks" / "2nd week" an interval.
                    if matches!(next, Some("times" | "occurrences" | "time")) || word.starts_with('x') {
                        count = Some(number);
                    } else {
                        interval = Some(number);
                    }
                } else {
                    return Err(unclear());
                }
            }
        }
        index += 1;
    }
    if !days.is_empty() && frequency.is_none() {
        frequency = Some(Frequency::Weekly);
    }
    let frequency = frequency.ok_or_else(unclear)?;
    if count.is_some_and(|c| c > MAX_OCCURRENCES) {
        return Err(format!("recurrence: at most {MAX_OCCURRENCES} occurrences"));
    }
    let rule = Recurrence {
        frequency,
        interval: interval.unwrap_or(1),
        weekdays: (!days.is_empty()).then_some(days),
        count,
        until: None,
    }
    .validate()
    .map_err(|err| format!("recurrence: {err}"))?;
    Ok(Some(RecurrenceWords { rule, until }))
}

/// "2", "2nd", "3rd", "x10".
fn leading_number(word: &str) -> Option<u32> {
    let digits: String = word.trim_start_matches('x').chars().take_while(char::is_ascii_digit).collect();
    let rest = &word.trim_start_matches('x')[digits.len()..];
    if !matches!(rest, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    digits.parse().ok()
}

/// A rule in words: "daily", "every 2 weeks on Monday and Thursday, 10 times".
pub fn describe_recurrence(rule: &Recurrence, until: Option<String>) -> String {
    let unit = match rule.frequency {
        Frequency::Daily => "day",
        Frequency::Weekly => "week",
        Frequency::Monthly => "month",
        Frequency::Yearly => "year",
    };
    let mut text = match (rule.interval, &rule.weekdays) {
        (1, Some(days)) if days.as_slice() == Weekday::WORKDAYS => "every weekday".to_owned(),
        (1, Some(days)) => format!("every {}", join_names(days)),
        (n, Some(days)) => format!("every {n} weeks on {}", join_names(days)),
        (1, None) => rule.frequency.as_str().to_owned(),
        (2, None) => format!("every other {unit}"),
        (n, None) => format!("every {n} {unit}s"),
    };
    if let Some(count) = rule.count {
        text.push_str(&format!(", {count} times"));
    }
    if let Some(until) = until {
        text.push_str(&format!(", until {until}"));
    }
    text
}

fn join_names(days: &[Weekday]) -> String {
    let names: Vec<&str> = days.iter().map(|d| d.name()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A reminder offset in words: "at the due time", "30 minutes before", "2 hours before".
pub fn describe_reminder(minutes: u32) -> String {
    let plural = |n: u32, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    match minutes {
        0 => "at the due time".to_owned(),
        m if m % (24 * 60) == 0 => format!("{} before", plural(m / (24 * 60), "day")),
        m if m % 60 == 0 => format!("{} before", plural(m / 60, "hour")),
        m => format!("{} before", plural(m, "minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(text: &str) -> Option<u32> {
        reminder_from_words(text).unwrap().map(ReminderOffset::minutes)
    }

    #[test]
    fn reminders_in_words() {
        assert_eq!(minutes("30 minutes before"), Some(30));
        assert_eq!(minutes("an hour before"), Some(60));
        assert_eq!(minutes("2 hours before it's due"), Some(120));
        assert_eq!(minutes("1 day before"), Some(1440));
        assert_eq!(minutes("a week ahead"), Some(10080));
        assert_eq!(minutes("half an hour before"), Some(30));
        assert_eq!(minutes("15"), Some(15));
        assert_eq!(minutes("1h"), Some(60));
        assert_eq!(minutes("at due time"), Some(0));
        assert_eq!(minutes("none"), None);
        assert!(reminder_from_words("when the cows come home").unwrap_err().contains("30 minutes before"));
        assert!(reminder_from_words("5 weeks before").unwrap_err().contains("4 weeks"));
    }

    fn rule(text: &str) -> Recurrence {
        recurrence_from_words(text).unwrap().unwrap().rule
    }

    #[test]
    fn recurrence_in_words() {
        assert_eq!(rule("daily"), Recurrence::new(Frequency::Daily, 1).unwrap());
        assert_eq!(rule("every other week"), Recurrence::new(Frequency::Weekly, 2).unwrap());
        assert_eq!(rule("every 3 months"), Recurrence::new(Frequency::Monthly, 3).unwrap());
        assert_eq!(rule("annually"), Recurrence::new(Frequency::Yearly, 1).unwrap());
        assert_eq!(rule("every weekday"), Recurrence::weekly_on(Weekday::WORKDAYS, 1).unwrap());
        assert_eq!(
            rule("every Monday and Thursday"),
            Recurrence::weekly_on([Weekday::Mon, Weekday::Thu], 1).unwrap()
        );
        assert_eq!(rule("Wednesdays"), Recurrence::weekly_on([Weekday::Wed], 1).unwrap());
        assert_eq!(
            rule("every 2 weeks on tue, fri"),
            Recurrence::weekly_on([Weekday::Tue, Weekday::Fri], 2).unwrap()
        );
        assert_eq!(rule("weekly for 10 times").count, Some(10));
        let until = recurrence_from_words("monthly until 2027-06-30").unwrap().unwrap();
        assert_eq!((until.rule.frequency, until.until.as_deref()), (Frequency::Monthly, Some("2027-06-30")));
        assert_eq!(recurrence_from_words("never").unwrap(), None);
        assert!(recurrence_from_words("whenever I feel like it").unwrap_err().contains("every weekday"));
        assert!(recurrence_from_words("monthly on monday").unwrap_err().contains("weekly"));
    }

    #[test]
    fn rules_in_words() {
        assert_eq!(describe_recurrence(&rule("every weekday"), None), "every weekday");
        assert_eq!(describe_recurrence(&rule("every mon and thu"), None), "every Monday and Thursday");
        assert_eq!(
            describe_recurrence(&rule("every 2 weeks on mon, wed, fri for 6 times"), None),
            "every 2 weeks on Monday, Wednesday and Friday, 6 times"
        );
        assert_eq!(describe_recurrence(&rule("every other day"), None), "every other day");
        assert_eq!(describe_reminder(90), "90 minutes before");
        assert_eq!(describe_reminder(120), "2 hours before");
        assert_eq!(describe_reminder(0), "at the due time");
    }
}
