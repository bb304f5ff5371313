//! Structured input: questions the assistant asks, and the user's answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One question inside a `structured_input` item.
/// Serialized as `{"id", "question", "answer"?, "type", …}`, the reference key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuredInput {
    /// Stable id, used as the key in the submission's `answers`.
    pub id: String,
    /// Question shown to the user.
    pub question: String,
    /// The recorded answer, once submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<StructuredInputAnswer>,
    /// Variant and its fields.
    #[serde(flatten)]
    pub kind: StructuredInputKind,
}

/// Structured input variants, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StructuredInputKind {
    /// `multiple_choice`
    MultipleChoice {
        /// Suggested choices.
        options: Vec<StructuredInputOption>,
        /// Whether more than one value may be chosen.
        #[serde(default)]
        multiple: bool,
    },
    /// `freeform`
    Freeform {
        /// Supporting text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
}

/// One multiple-choice option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuredInputOption {
    /// Value submitted when chosen.
    pub value: String,
}

/// An answer, as recorded on the item (and as submitted by the client).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StructuredInputAnswer {
    /// Answer values.
    #[serde(default)]
    pub values: Vec<String>,
    /// Whether the question was skipped.
    #[serde(default)]
    pub skipped: bool,
}

/// Status of a `structured_input` item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredInputStatus {
    /// Waiting for the user.
    #[default]
    Pending,
    /// Answered.
    Answered,
    /// Skipped as a whole.
    Skipped,
}

/// What the client submits in `threads.add_structured_input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StructuredInputSubmission {
    /// Overall status.
    #[serde(default)]
    pub status: SubmissionStatus,
    /// Answers keyed by structured input id.
    #[serde(default)]
    pub answers: BTreeMap<String, StructuredInputAnswer>,
}

/// Overall status of a submission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// The user answered.
    #[default]
    Answered,
    /// The user skipped everything.
    Skipped,
}

impl From<SubmissionStatus> for StructuredInputStatus {
    fn from(status: SubmissionStatus) -> Self {
        match status {
            SubmissionStatus::Answered => StructuredInputStatus::Answered,
            SubmissionStatus::Skipped => StructuredInputStatus::Skipped,
        }
    }
}

/// Records a submission on a list of questions the way the reference does: a question is
/// skipped when the whole submission is skipped or its answer is missing, marked skipped or
/// empty; single-choice questions keep only the first value. Unknown answer ids are ignored.
pub fn apply_submission(inputs: &mut [StructuredInput], submission: &StructuredInputSubmission) {
    for input in inputs.iter_mut() {
        let answer = submission.answers.get(&input.id);
        let skipped = submission.status == SubmissionStatus::Skipped
            || answer.is_none_or(|answer| answer.skipped || answer.values.is_empty());
        input.answer = Some(match answer {
            Some(answer) if !skipped => {
                let mut values = answer.values.clone();
                if let StructuredInputKind::MultipleChoice {
                    multiple: false, ..
                } = input.kind
                {
                    values.truncate(1);
                }
                StructuredInputAnswer {
                    values,
                    skipped: false,
                }
            }
            _ => StructuredInputAnswer {
                values: Vec::new(),
                skipped: true,
            },
        });
    }
}
