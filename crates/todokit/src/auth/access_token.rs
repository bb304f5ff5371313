//! Personal access tokens (PATs) for scripts, the CLI and MCP clients.
//!
//! A secret is `tdk_` followed by 40 random base62 characters (~238 bits).
//! Only its SHA-256 is stored: the secret is high-entropy, so a fast hash is
//! enough (a slow password hash would only slow every request down). The
//! secret is shown once, when the token is created.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::persistence::{StorageError, StorageResult};

/// A personal access token as stored (without any secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart in a list.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl AccessToken {
    /// Neither revoked nor expired at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires| expires > now)
    }
}

/// Where tokens are kept: the SHA-256 of each secret, never the secret itself.
#[async_trait]
pub trait AccessTokens: Send + Sync + 'static {
    async fn create_access_token(&self, token: &AccessToken, token_hash: &str) -> StorageResult<()>;
    /// The user's tokens, newest first, revoked ones included.
    async fn list_access_tokens(&self, user: Uuid) -> StorageResult<Vec<AccessToken>>;
    /// Revokes one of the user's tokens (idempotent); `None` when the user has no such token.
    async fn revoke_access_token(
        &self,
        user: Uuid,
        id: Uuid,
        now: Timestamp,
    ) -> StorageResult<Option<AccessToken>>;
    async fn access_token_by_hash(&self, token_hash: &str) -> StorageResult<Option<AccessToken>>;
    /// Whether token `id` is neither revoked nor expired at `now`, for re-checking a long-lived
    /// stream: a token found active a moment ago is taken to still be without asking the
    /// database; one revoked through this storage is refused at once, one revoked elsewhere
    /// within a couple of seconds.
    async fn access_token_is_live(&self, id: Uuid, now: Timestamp) -> StorageResult<bool>;
    /// Records a use; skipped when the last recorded use is recent, to spare writes.
    async fn touch_access_token(&self, id: Uuid, now: Timestamp) -> StorageResult<()>;
}

/// How stale `last_used_at` may get before a use is written again, in seconds.
pub const LAST_USED_PRECISION_SECS: i64 = 60;

/// Every personal access token starts with this; JWTs never do.
pub const TOKEN_PREFIX: &str = "tdk_";
const SECRET_CHARS: usize = 40;
/// How much of the secret is kept in clear for display ("tdk_AbCd1234").
const DISPLAY_PREFIX_CHARS: usize = TOKEN_PREFIX.len() + 8;
pub const NAME_MAX_CHARS: usize = 100;
pub const MAX_EXPIRY_DAYS: u32 = 3650;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Debug, thiserror::Error)]
pub enum AccessTokenError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Whether a presented bearer token is a personal access token (not a JWT).
pub fn is_access_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn generate_secret() -> String {
    let mut rng = rand::rng();
    let body: String =
        (0..SECRET_CHARS).map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())])).collect();
    format!("{TOKEN_PREFIX}{body}")
}

/// Creates a token for `user`. Returns the record and the secret (shown once).
pub async fn create_access_token(
    tokens: &dyn AccessTokens,
    user: Uuid,
    name: &str,
    expires_in_days: Option<u32>,
    now: Timestamp,
) -> Result<(AccessToken, String), AccessTokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(AccessTokenError::Invalid {
            field: "name",
            message: format!("name must be 1–{NAME_MAX_CHARS} characters without control characters"),
        });
    }
    if let Some(days) = expires_in_days
        && !(1..=MAX_EXPIRY_DAYS).contains(&days)
    {
        return Err(AccessTokenError::Invalid {
            field: "expires_in_days",
            message: format!(
                "expires_in_days must be between 1 and {MAX_EXPIRY_DAYS} (leave it out for no expiry)"
            ),
        });
    }
    let expires_at = expires_in_days.map(|days| now + SignedDuration::from_hours(24 * i64::from(days)));
    Ok(issue_access_token(tokens, user, name, expires_at, now).await?)
}

/// Stores a new token with an already-validated name and expiry, created at `now`.
pub async fn issue_access_token(
    tokens: &dyn AccessTokens,
    user: Uuid,
    name: &str,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(AccessToken, String), StorageError> {
    let secret = generate_secret();
    let token = AccessToken {
        id: Uuid::now_v7(),
        user_id: user,
        name: name.to_owned(),
        prefix: secret[..DISPLAY_PREFIX_CHARS].to_owned(),
        created_at: now,
        last_used_at: None,
        expires_at,
        revoked_at: None,
    };
    tokens.create_access_token(&token, &hash_secret(&secret)).await?;
    Ok((token, secret))
}

/// The token a secret belongs to if it is active at `now`, recording the use; `None` for an
/// unknown, revoked or expired secret, or one whose account is gone.
pub async fn authenticate_access_token(
    tokens: &dyn AccessTokens,
    secret: &str,
    now: Timestamp,
) -> Result<Option<AccessToken>, StorageError> {
    if !is_access_token(secret) {
        return Ok(None);
    }
    let Some(token) = tokens.access_token_by_hash(&hash_secret(secret.trim())).await? else {
        return Ok(None);
    };
    if !token.is_active(now) {
        return Ok(None);
    }
    // Recording every use would turn each request into a write; once a minute is enough.
    let precision = SignedDuration::from_secs(LAST_USED_PRECISION_SECS);
    if token.last_used_at.is_none_or(|used| now.duration_since(used) > precision) {
        tokens.touch_access_token(token.id, now).await?;
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_base62_and_distinct() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(is_access_token(&a));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + SECRET_CHARS);
        assert!(a[TOKEN_PREFIX.len()..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
        // A JWT never looks like an access token.
        assert!(!is_access_token("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }
}
