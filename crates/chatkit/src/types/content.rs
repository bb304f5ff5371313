//! Message content: user input parts, assistant output text, annotations and sources.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One part of a user message, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserMessageContent {
    /// `input_text`: plain text.
    InputText {
        /// The text.
        text: String,
    },
    /// `input_tag`: an entity the user tagged in the composer.
    InputTag {
        /// Entity id.
        id: String,
        /// Display text.
        text: String,
        /// Free-form entity data (required on the wire, may be `{}`).
        data: Map<String, Value>,
        /// Optional group label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        /// Whether the tag is interactive in the UI.
        #[serde(default)]
        interactive: bool,
    },
}

impl UserMessageContent {
    /// The visible text of this part.
    pub fn text(&self) -> &str {
        match self {
            UserMessageContent::InputText { text } | UserMessageContent::InputTag { text, .. } => {
                text
            }
        }
    }
}

/// Model and tool choice the user picked in the composer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InferenceOptions {
    /// Tool the user explicitly selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Model the user selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// An explicit tool selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolChoice {
    /// Tool id.
    pub id: String,
}

/// Assistant output text (`type: "output_text"`, the only assistant content type).
///
/// Serialized as `{"annotations":[…],"text":…,"type":"output_text"}`, the reference key order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AssistantMessageContent {
    /// Citations attached to the text.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
    /// The text (markdown).
    pub text: String,
}

impl AssistantMessageContent {
    /// Text without annotations.
    pub fn text(text: impl Into<String>) -> Self {
        AssistantMessageContent {
            annotations: Vec::new(),
            text: text.into(),
        }
    }
}

impl Serialize for AssistantMessageContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("AssistantMessageContent", 3)?;
        state.serialize_field("annotations", &self.annotations)?;
        state.serialize_field("text", &self.text)?;
        state.serialize_field("type", "output_text")?;
        state.end()
    }
}

/// A citation on assistant text (`type: "annotation"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "annotation")]
pub struct Annotation {
    /// What is cited.
    pub source: Source,
    /// Character offset where the citation marker goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// A cited source, discriminated on `type` (`url`, `file`, `entity`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Source {
    /// `url`
    Url(UrlSource),
    /// `file`
    File(FileSource),
    /// `entity`
    Entity(EntitySource),
}

// Each source struct writes its own `type`, so the enum serializes untagged but must
// dispatch on `type` when reading.
impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| D::Error::missing_field("type"))?
            .to_owned();
        match kind.as_str() {
            "url" => serde_json::from_value(value).map(Source::Url),
            "file" => serde_json::from_value(value).map(Source::File),
            "entity" => serde_json::from_value(value).map(Source::Entity),
            _ => {
                return Err(D::Error::unknown_variant(&kind, &["url", "file", "entity"]));
            }
        }
        .map_err(D::Error::custom)
    }
}

/// A web page source (`type: "url"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "url")]
pub struct UrlSource {
    /// Title shown to the user.
    pub title: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional free-form timestamp text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Optional group label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The URL.
    pub url: String,
    /// Optional attribution text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
}

/// A file source (`type: "file"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "file")]
pub struct FileSource {
    /// Title shown to the user.
    pub title: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional free-form timestamp text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Optional group label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// File name.
    pub filename: String,
}

/// An application entity source (`type: "entity"`), e.g. a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "entity")]
pub struct EntitySource {
    /// Title shown to the user.
    pub title: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional free-form timestamp text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Optional group label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Entity id.
    pub id: String,
    /// Icon name (an `IconName` literal, or `vendor:…` / `lucide:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Label in the hover header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Label in the inline annotation view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_label: Option<String>,
    /// Whether client entity callbacks are wired for this entity.
    #[serde(default)]
    pub interactive: bool,
    /// Data passed to client entity callbacks.
    #[serde(default)]
    pub data: Map<String, Value>,
}
