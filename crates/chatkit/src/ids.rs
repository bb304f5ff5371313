//! Prefixed, time-ordered identifiers.
//!
//! The reference uses `<prefix>_` + 8 random hex characters (32 bits). We keep the familiar
//! prefixes but append a full UUIDv7 (48-bit millisecond timestamp + 74 random/counter bits),
//! so ids are unguessable and sort by creation time within a process.

use uuid::Uuid;

/// What an id is for; decides its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `thr_`
    Thread,
    /// `msg_`: user and assistant messages, widgets, generated images, hidden context.
    Message,
    /// `tc_`
    ToolCall,
    /// `wf_`
    Workflow,
    /// `tsk_`
    Task,
    /// `atc_`
    Attachment,
    /// `shcx_`: hidden context written by this crate (e.g. the cancellation note).
    SdkHiddenContext,
}

impl IdKind {
    /// The prefix (without the underscore).
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Thread => "thr",
            IdKind::Message => "msg",
            IdKind::ToolCall => "tc",
            IdKind::Workflow => "wf",
            IdKind::Task => "tsk",
            IdKind::Attachment => "atc",
            IdKind::SdkHiddenContext => "shcx",
        }
    }
}

/// A new id such as `msg_0190b8e2c3a87c4e9d1f5a6b7c8d9e0f`.
pub fn new_id(kind: IdKind) -> String {
    format!("{}_{}", kind.prefix(), Uuid::now_v7().simple())
}

/// Shorthand for `new_id(IdKind::Thread)`.
pub fn new_thread_id() -> String {
    new_id(IdKind::Thread)
}

/// Shorthand for `new_id(IdKind::Message)`.
pub fn new_message_id() -> String {
    new_id(IdKind::Message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_long_and_ordered() {
        let ids: Vec<String> = (0..100).map(|_| new_id(IdKind::Workflow)).collect();
        assert!(
            ids.iter()
                .all(|id| id.starts_with("wf_") && id.len() == 3 + 32)
        );
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(new_id(IdKind::SdkHiddenContext).starts_with("shcx_"));
    }
}
