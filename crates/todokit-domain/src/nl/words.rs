//! The verbs that start a command, gathered in one place: adding a synonym means adding it here.
//! Each list is its own set on purpose (a word that deletes one task may not clear a whole list),
//! so the lists overlap rather than share.

/// Verbs that delete the tasks they name ("delete task 3", "scrap the report one"). "cancel" also
/// deletes when something follows it, and "get rid of" does too (see `Utterance::delete`).
pub(super) const DELETE_VERBS: &[&str] = &[
    "delete", "remove", "erase", "trash", "drop", "discard", "del", "rm", "scrap", "scratch", "ditch", "nix",
];

/// Verbs that delete every task matching a filter ("delete all completed tasks", "wipe my list").
pub(super) const BULK_DELETE_VERBS: &[&str] = &[
    "delete", "remove", "erase", "wipe", "purge", "trash", "clear", "drop", "cancel", "nuke", "scrap",
    "ditch", "nix",
];

/// Of [`BULK_DELETE_VERBS`], those that empty the whole list when followed only by words such as
/// "my list" or "everything" ("clear my list").
pub(super) const WHOLE_LIST_VERBS: &[&str] = &["clear", "wipe", "purge", "nuke"];

/// Verbs that, read from a typo, make the interpreter ask before deleting anything.
pub(super) const DESTRUCTIVE_VERBS: &[&str] = &["delete", "remove", "erase", "clear", "cancel"];

/// Verbs a message can start with, for typo correction: a misspelt first word is read as the
/// closest of these.
pub(super) const TYPO_VERBS: &[&str] = &[
    "add",
    "create",
    "delete",
    "remove",
    "complete",
    "finish",
    "mark",
    "show",
    "list",
    "rename",
    "change",
    "update",
    "move",
    "reschedule",
    "postpone",
    "search",
    "reopen",
    "prioritize",
    "undo",
    "cancel",
    "remind",
    "schedule",
    "display",
    "erase",
    "clear",
];
