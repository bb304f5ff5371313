//! Workflows (grouped progress shown above an answer) and their tasks.

use serde::{Deserialize, Serialize};

use super::content::{FileSource, UrlSource};

/// A workflow: a collapsible list of tasks, e.g. reasoning or tool progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// `custom` or `reasoning`.
    #[serde(rename = "type")]
    pub kind: WorkflowKind,
    /// The tasks, in display order.
    pub tasks: Vec<Task>,
    /// Summary shown when collapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<WorkflowSummary>,
    /// Whether the workflow is shown expanded.
    #[serde(default)]
    pub expanded: bool,
}

/// Workflow flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowKind {
    /// Application-defined progress.
    Custom,
    /// Model reasoning.
    Reasoning,
}

/// Collapsed summary of a workflow. Not discriminated on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WorkflowSummary {
    /// `{"title", "icon"?}`
    Custom {
        /// Summary title.
        title: String,
        /// Optional icon name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        icon: Option<String>,
    },
    /// `{"duration"}`: how long the workflow took, in seconds.
    Duration {
        /// Seconds.
        duration: u64,
    },
}

/// A workflow task. Serialized as `{"status_indicator", "type", …}`, the reference key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Progress indicator shown when rendered inside a workflow.
    #[serde(default)]
    pub status_indicator: TaskStatusIndicator,
    /// The task's variant and fields.
    #[serde(flatten)]
    pub kind: TaskKind,
}

/// A task's progress indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatusIndicator {
    /// No indicator.
    #[default]
    None,
    /// Spinner.
    Loading,
    /// Check mark.
    Complete,
}

/// Task variants, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskKind {
    /// `custom`: free-form title / icon / content.
    Custom {
        /// Title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Icon name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        icon: Option<String>,
        /// Body text (markdown).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
    },
    /// `web_search`
    WebSearch {
        /// Title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Title shown while searching.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title_query: Option<String>,
        /// Queries issued.
        #[serde(default)]
        queries: Vec<String>,
        /// Pages found.
        #[serde(default)]
        sources: Vec<UrlSource>,
    },
    /// `thought`: reasoning text.
    Thought {
        /// Title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// The thought.
        content: String,
    },
    /// `file`
    File {
        /// Title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Files referenced.
        #[serde(default)]
        sources: Vec<FileSource>,
    },
    /// `image`
    Image {
        /// Title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
}
