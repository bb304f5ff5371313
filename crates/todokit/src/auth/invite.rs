//! One-time invite codes for `--signup invite`. A code is `inv_` followed by 24 random base62
//! characters (~143 bits); only its SHA-256 is stored, and it is shown once, when created.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use uuid::Uuid;

use crate::persistence::StorageResult;

/// How long an invite may be used.
pub const INVITE_TTL_DAYS: i64 = 7;
pub const CODE_PREFIX: &str = "inv_";
const CODE_CHARS: usize = 24;
/// Longest invite code a sign-up may send (longer ones are not codes this server made).
pub const CODE_MAX_CHARS: usize = 64;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[async_trait]
pub trait Invites: Send + Sync + 'static {
    async fn create_invite(
        &self,
        code_hash: &str,
        created_by: Option<Uuid>,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StorageResult<()>;
    /// Whether an invite with this hash exists, is unused and unexpired at `now`.
    async fn invite_is_usable(&self, code_hash: &str, now: Timestamp) -> StorageResult<bool>;
}

pub fn hash_code(code: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(code.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn generate_code() -> String {
    let mut rng = rand::rng();
    let body: String =
        (0..CODE_CHARS).map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())])).collect();
    format!("{CODE_PREFIX}{body}")
}

/// Creates an invite (by `created_by`, or by the operator when `None`). Returns the code, shown
/// once, and when it expires.
pub async fn create_invite(
    invites: &dyn Invites,
    created_by: Option<Uuid>,
    now: Timestamp,
) -> StorageResult<(String, Timestamp)> {
    let code = generate_code();
    let expires_at = now + SignedDuration::from_hours(24 * INVITE_TTL_DAYS);
    invites.create_invite(&hash_code(&code), created_by, now, expires_at).await?;
    Ok((code, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_prefixed_random_and_hashed() {
        let (a, b) = (generate_code(), generate_code());
        assert_ne!(a, b);
        assert!(a.starts_with(CODE_PREFIX) && a.len() == CODE_PREFIX.len() + CODE_CHARS);
        assert!(a.len() <= CODE_MAX_CHARS);
        assert_eq!(hash_code(&a), hash_code(&format!(" {a} ")));
        assert_ne!(hash_code(&a), hash_code(&b));
    }
}
