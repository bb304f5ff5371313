//! The calendar feed: one secret URL per user that calendar apps subscribe to.
//!
//! The secret is 32 random bytes, base64url (43 characters); only its SHA-256 is stored, so a
//! copy of the database does not give anyone the URL. Looking a feed up is one indexed equality
//! match on that hash: how long an unknown secret takes says nothing about any real one.
//! Creating a feed replaces the user's earlier one (its URL stops working); revoking deletes it.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use rand::RngCore;
use sha2::{Digest, Sha256};
use todokit_domain::interchange::{self, Component};

use super::{AccountData, calendar_options};
use crate::clock::Clock;
use crate::persistence::StorageResult;
use crate::tasks::model::UserId;

/// Length of a feed secret: 32 bytes in unpadded base64url.
pub const SECRET_CHARS: usize = 43;
/// How often subscribers are asked to poll, in minutes (and the feed's `max-age`).
pub const REFRESH_MINUTES: u32 = 5;

/// Where feeds are kept: the SHA-256 (hex) of each secret, never the secret.
#[async_trait]
pub trait CalendarFeeds: Send + Sync + 'static {
    /// Sets the user's feed to `secret_hash`, replacing any earlier one.
    async fn replace_calendar_feed(
        &self,
        user: UserId,
        secret_hash: &str,
        now: Timestamp,
    ) -> StorageResult<()>;
    /// When the user's feed was created, if they have one.
    async fn calendar_feed_created_at(&self, user: UserId) -> StorageResult<Option<Timestamp>>;
    /// Deletes the user's feed; false when there was none.
    async fn delete_calendar_feed(&self, user: UserId) -> StorageResult<bool>;
    /// The owner of the feed whose secret hashes to `secret_hash`.
    async fn calendar_feed_owner(&self, secret_hash: &str) -> StorageResult<Option<UserId>>;
}

/// Which component the feed's tasks become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// VEVENT (the default): what Google Calendar, Outlook and Apple Calendar show.
    Event,
    /// VTODO (`?kind=todo`): for task apps (Thunderbird, Tasks.org, DAVx⁵).
    Todo,
}

/// The feed's calendar text and its strong validator.
#[derive(Debug, Clone)]
pub struct FeedCalendar {
    pub body: String,
    /// `"<hex>"`: the SHA-256 of the body, quoted as an entity tag.
    pub etag: String,
}

#[derive(Clone)]
pub struct CalendarFeedService {
    feeds: Arc<dyn CalendarFeeds>,
    data: Arc<dyn AccountData>,
    clock: Clock,
}

impl CalendarFeedService {
    pub fn new(feeds: Arc<dyn CalendarFeeds>, data: Arc<dyn AccountData>, clock: Clock) -> Self {
        Self { feeds, data, clock }
    }

    /// A new feed for `user` (the earlier one stops working): its secret and creation time.
    pub async fn create(&self, user: UserId) -> StorageResult<(String, Timestamp)> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = base64url(&bytes);
        let now = self.clock.now();
        self.feeds.replace_calendar_feed(user, &hash_secret(&secret), now).await?;
        Ok((secret, now))
    }

    pub async fn created_at(&self, user: UserId) -> StorageResult<Option<Timestamp>> {
        self.feeds.calendar_feed_created_at(user).await
    }

    pub async fn revoke(&self, user: UserId) -> StorageResult<bool> {
        self.feeds.delete_calendar_feed(user).await
    }

    /// The calendar behind `secret`, or `None` for a secret that names no feed.
    pub async fn calendar(&self, secret: &str, kind: FeedKind) -> StorageResult<Option<FeedCalendar>> {
        if !is_well_formed(secret) {
            return Ok(None);
        }
        let Some(user) = self.feeds.calendar_feed_owner(&hash_secret(secret)).await? else {
            return Ok(None);
        };
        let tasks = self.data.all_tasks(user, true).await?;
        let component = match kind {
            FeedKind::Event => Component::Event,
            FeedKind::Todo => Component::Todo,
        };
        let body =
            interchange::tasks_to_icalendar(&tasks, &calendar_options(component, Some(REFRESH_MINUTES)));
        let etag = format!("\"{}\"", hex(&Sha256::digest(body.as_bytes())[..20]));
        Ok(Some(FeedCalendar { body, etag }))
    }
}

/// 43 characters of the base64url alphabet: the only shape a secret can have.
fn is_well_formed(secret: &str) -> bool {
    secret.len() == SECRET_CHARS
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The stored form of a secret: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Unpadded base64url (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(b"fooba"), "Zm9vYmE");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff, 0xfe]), "-__-");
        assert_eq!(base64url(&[0u8; 32]).len(), SECRET_CHARS);
        assert!(is_well_formed(&base64url(&[0xab; 32])));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&format!("{}=", "a".repeat(42))));
    }
}
