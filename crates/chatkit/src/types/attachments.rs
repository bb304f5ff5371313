//! Attachments. Uploads are not implemented by this crate's server, but the types are
//! complete so user messages that carry them (de)serialize faithfully.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An attachment. Serialized as `{"id", "name", "mime_type", "upload_descriptor"?,
/// "thread_id"?, "type", …}`, the reference key order. Server-side attachment metadata is
/// never part of this type, so it cannot leak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Attachment id (`atc_…`).
    pub id: String,
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// Two-phase upload instructions; `None` once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_descriptor: Option<UploadDescriptor>,
    /// Thread the attachment belongs to, once used in a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// `file` or `image`.
    #[serde(flatten)]
    pub kind: AttachmentKind,
}

/// Attachment variants, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A generic file.
    File,
    /// An image with a preview.
    Image {
        /// URL the client loads the preview from.
        preview_url: String,
    },
}

/// Where and how the client uploads the bytes in a two-phase upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadDescriptor {
    /// Upload URL.
    pub url: String,
    /// `POST` or `PUT`.
    pub method: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}
