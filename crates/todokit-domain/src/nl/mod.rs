//! Natural-language understanding for the quick-add box and the offline assistant.
//!
//! Three entry points, all pure and panic-free on any input, all resolved against the user's
//! local "now" (a [`jiff::Zoned`], which carries the IANA zone):
//!
//! - [`parse_datetime`] finds the first date/time expression in a text;
//! - [`parse_quick_add`] turns one line into title, due date, priority, tags and description;
//! - [`parse_command`] classifies a chat message into a [`Command`] for the offline assistant
//!   (used when no LLM is configured).
//!
//! The parser is a hand-written tokeniser plus small grammars (no regex, nothing compiled per
//! call). Text inside matching quotes is literal: it is never read as a date, priority, tag or
//! keyword, so `change task 1 to 'Call mom tonight'` renames rather than reschedules.
//!
//! # Date rules
//!
//! Weeks start on Monday. All arithmetic is calendar arithmetic in the user's zone (jiff), so
//! "tomorrow at 9am" is 09:00 local even across a DST change; a local time that does not exist
//! (02:30 on a spring-forward day) moves forward by the gap (03:30).
//!
//! | Phrase | Resolves to |
//! |---|---|
//! | a date without a time | that day at **23:59:59** ([`DEFAULT_DUE_TIME`]): "due Friday" is overdue only once Friday is over. `has_time` is `false` so the UI can show the date alone |
//! | `today`, `eod`, `end of day` | today |
//! | `tonight` | today 20:00 (also when 20:00 has passed) |
//! | `tomorrow` (`tmr`, `tmrw`), `day after tomorrow`, `yesterday` | today ± days |
//! | `morning` / `afternoon` / `evening` / `night` after a day ("friday morning"), or `this morning`, `in the evening`, `at night` | 09:00 / 15:00 / 19:00 / 20:00 |
//! | `noon`, `midday` | 12:00 |
//! | `midnight` | 00:00 at the **end** of the named day ("friday at midnight" = Saturday 00:00) |
//! | bare weekday `friday`, `on friday`, `by friday`, `this friday` | the next Friday **on or after today** (today if it is Friday). If a time is given and that time has already passed today, next week's |
//! | `next friday` | the Friday of **next week** (Monday-based): on Sat 21 Nov, `next monday` = 23 Nov, `next saturday` = 28 Nov |
//! | weekday abbreviations (`fri`, `sat`, `sun` …) | only after `on`/`by`/`due`/`this`/`next` ("sat on the couch" is no date) |
//! | `next week` | Monday of next week |
//! | `this week`, `end of week`, `eow` | Sunday of this week; `end of next week`: Sunday of next week |
//! | `this weekend`, `the weekend` | Saturday of this week (today on a Sunday); `next weekend`: Saturday of next week |
//! | `next month` / `next year` | the 1st of next month / 1 January next year |
//! | `end of month`, `this month`, `eom` / `end of year` | last day of this month / 31 December |
//! | `in N minutes/hours` (`in 2h`, `in 30min`, `in half an hour`) | now + N, exact (`has_time`) |
//! | `in N days/weeks/months/years`, `N days from now`, `N days later`, `in a few days` (3), `in a couple of weeks` (2) | today + N calendar units (month ends clamp) |
//! | clock times `5pm`, `5 pm`, `5:30pm`, `17:00`, `09:00`, `12am`, `5 o'clock`, `at 5` | `am`/`pm` as written; 24-hour when a leading zero or hour > 12. Without am/pm, 1–7 are pm and 8–11 am, unless a part of day says otherwise ("at 8 in the evening", "tonight at 7" = 19:00) |
//! | a bare number (`at 5`) | a time only after `at`/`by`/`around` and only when followed by nothing, a clause break or a date ("look at 3 options" is no time) |
//! | time only (`at 5pm`) | today, or **tomorrow if that time has already passed** |
//! | `2026-12-01`, `2026-12-01T09:00` | ISO date / local datetime |
//! | `2026-12-01T09:00Z`, `…+01:00`, `…[Europe/Berlin]` | that instant, shown in the user's zone |
//! | `Dec 1`, `December 1st`, `1 December`, `1st of Dec 2027`, `Dec 1, 2027` | that date; without a year the next such date on or after today (Feb 29 finds the next leap year) |
//! | `12/01`, `12/1/27`, `12/01/2027` | **US order: month/day**; `13/01` is not a date |
//! | `the 15th`, `on the 30th` | the next 15th on or after today |
//!
//! A leading `on`, `by`, `due`, `at`, `before`, `until` or `for` belongs to the expression (so
//! quick-add strips "by Friday" entirely). A date and a time combine in either order ("at 5pm
//! tomorrow", "tomorrow at 5pm", "friday 9am"). The first expression in the text wins.
//!
//! # Priority words in quick-add
//!
//! `urgent`, `asap` → high; `high priority`, `priority: low`, `with low priority`; `!high`,
//! `!low`; `p1`/`p2`/`p3` (Todoist order: p1 = high); `no rush` → low; `important task`,
//! `critical task` → high. Synonyms such as "today" or "now" are *not* read as priority in
//! free text (they are dates); [`crate::Priority::parse`] accepts the full synonym list for
//! explicit fields.

mod command;
mod date;
mod quick_add;
mod repeat;
mod token;
mod typo;
mod words;

pub use crate::query::{SortKey, StatusFilter};
pub use command::{
    Command, DueWindow, Edit, ListFilter, NewDue, OffTopicKind, Parsed, Shift, ShiftUnit, TaskRef,
    parse_command, parse_message,
};
pub use date::{DEFAULT_DUE_TIME, DateMatch, parse_datetime};
pub use quick_add::{QuickAdd, parse_quick_add};
pub use repeat::{Repeat, RepeatFrequency};
pub use typo::Guess;

#[cfg(test)]
mod tests;
