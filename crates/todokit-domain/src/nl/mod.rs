//! Natural-language understanding (docs filled in below).

mod command;
mod date;
mod quick_add;
mod token;

pub use command::{
    Command, DueWindow, ListFilter, NewDue, OffTopicKind, SortKey, StatusFilter, TaskRef,
    parse_command,
};
pub use date::{DEFAULT_DUE_TIME, DateMatch, parse_datetime};
pub use quick_add::{QuickAdd, parse_quick_add};

#[cfg(test)]
mod tests;
