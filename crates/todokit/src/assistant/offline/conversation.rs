//! What the offline assistant remembers between the turns of one thread.
//!
//! Kept in the thread's server-only metadata (key [`STATE_KEY`]), which the chat store saves
//! with the thread: it survives a restart and any replica reads the same state.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::assistant::widgets::TaskView;

/// Thread metadata key of the [`Conversation`].
pub(super) const STATE_KEY: &str = "offline_conversation";

/// The conversation so far, as far as follow-ups need it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Conversation {
    /// The task(s) the last reply was about: what "it", "that" and "them" mean.
    #[serde(default)]
    pub last_tasks: Vec<TaskView>,
    /// The last list shown, in order: what "the third one" means.
    #[serde(default)]
    pub last_list: Vec<TaskView>,
    /// A question the last reply asked, answered (or dropped) by the next message.
    #[serde(default)]
    pub pending: Option<Pending>,
    /// How to take back the last change ("undo").
    #[serde(default)]
    pub last_change: Vec<Change>,
    /// The last reply made that change (so "wait, no, don't" objects to it, not to an older one).
    #[serde(default)]
    pub last_reply_changed: bool,
}

/// A question waiting for the user's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Pending {
    /// "Are you sure?": on "yes" the message `utterance` runs, confirmed; a bulk delete then
    /// deletes only if `expected_count` tasks still match (the count the user agreed to).
    Confirm { utterance: String, expected_count: Option<u64> },
    /// "Which one do you mean?": the answer picks one of `candidates` for `utterance`.
    Which { utterance: String, candidates: Vec<TaskView> },
}

/// One step of the last change, with what undoing it needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Change {
    /// A task was created: undo deletes it.
    Created { task: TaskView },
    /// A task was completed (or reopened): undo flips it back.
    Completion {
        task_id: String,
        #[serde(default)]
        number: Option<i64>,
        title: String,
        completed: bool,
    },
    /// A task was changed: undo puts these fields back.
    Updated { before: TaskView },
    /// A task was deleted: undo restores it (`kept`: the server keeps it for a while, so it
    /// comes back with its id and number) or creates it again.
    Deleted {
        task: TaskView,
        #[serde(default)]
        kept: bool,
    },
}

impl Conversation {
    pub fn load(metadata: &Map<String, Value>) -> Self {
        metadata
            .get(STATE_KEY)
            .and_then(|value| serde_json::from_value(value.clone()).ok())
            .unwrap_or_default()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
