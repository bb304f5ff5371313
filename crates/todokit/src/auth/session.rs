//! Server-side sessions: every sign-in (and sign-up) is a row, and the session token (a JWT)
//! names it in its `sid` claim. A token is accepted only while its row is live, so signing out,
//! revoking a session, changing the password or deleting the account ends it for good, not
//! only when the token expires.
//!
//! Checking the row on every request would be a database read per request: the storage
//! remembers for a moment (`storage::known_users`, 2 s) the sessions it found live, and forgets
//! at once the ones revoked through it. A revocation made on another replica is therefore
//! honoured everywhere within that moment.

use std::net::IpAddr;

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::persistence::StorageResult;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: Timestamp,
    /// Updated at most once every [`LAST_SEEN_PRECISION_SECS`].
    pub last_seen_at: Timestamp,
    /// When the token issued with it expires; the session is not live after it.
    pub expires_at: Timestamp,
    /// The `User-Agent` it signed in with, at most [`USER_AGENT_MAX_CHARS`] characters.
    pub user_agent: Option<String>,
    /// The client address it signed in from (as `--trusted-proxies` resolves it).
    pub address: String,
}

/// Longest user agent kept; longer ones are truncated.
pub const USER_AGENT_MAX_CHARS: usize = 255;

/// How stale `last_seen_at` may get before a use is written again, in seconds.
pub const LAST_SEEN_PRECISION_SECS: i64 = 60;

impl Session {
    /// A new session for `user`, signed in at `now` from `address` with `user_agent`, whose
    /// token expires at `expires_at`.
    pub fn new(
        user: Uuid,
        now: Timestamp,
        expires_at: Timestamp,
        user_agent: Option<&str>,
        address: IpAddr,
    ) -> Self {
        let user_agent = user_agent
            .map(|agent| {
                agent
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(USER_AGENT_MAX_CHARS)
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .filter(|agent| !agent.is_empty());
        Self {
            id: Uuid::now_v7(),
            user_id: user,
            created_at: now,
            last_seen_at: now,
            expires_at,
            user_agent,
            address: address.to_canonical().to_string(),
        }
    }
}

#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    /// Stores a new session (and drops the user's sessions that have expired).
    async fn create_session(&self, session: &Session) -> StorageResult<()>;
    /// Whether session `id` of `user` exists and has not expired at `now`, for authenticating a
    /// request. A session found live a moment ago is taken to still be without asking the
    /// database; one revoked through this storage is refused at once, one revoked elsewhere
    /// (another replica) within a couple of seconds. Records the use at most once a minute.
    async fn session_is_live(&self, id: Uuid, user: Uuid, now: Timestamp) -> StorageResult<bool>;
    /// The user's live sessions at `now`, newest first.
    async fn list_sessions(&self, user: Uuid, now: Timestamp) -> StorageResult<Vec<Session>>;
    /// Revokes one of the user's sessions; false when the user has no live session `id`.
    async fn revoke_session(&self, user: Uuid, id: Uuid, now: Timestamp) -> StorageResult<bool>;
    /// Revokes every session of the user but `keep`; how many live ones were revoked.
    async fn revoke_sessions_except(
        &self,
        user: Uuid,
        keep: Option<Uuid>,
        now: Timestamp,
    ) -> StorageResult<u64>;
    /// Deletes every session (of any user) that has expired by `now`; how many.
    async fn prune_sessions(&self, now: Timestamp) -> StorageResult<u64>;
}

/// Starts a session for `user` at `now`: stores its row, then signs a token naming it.
pub async fn start_session(
    sessions: &dyn Sessions,
    keys: &super::TokenKeys,
    user: Uuid,
    now: Timestamp,
    user_agent: Option<&str>,
    address: IpAddr,
) -> anyhow::Result<(Session, super::SessionToken)> {
    let session = Session::new(user, now, keys.expiry(now), user_agent, address);
    sessions.create_session(&session).await?;
    let token = keys.issue(user, session.id, session.expires_at)?;
    Ok((session, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_truncated_and_cleaned() {
        let now = Timestamp::now();
        let address: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let long = "x".repeat(1000);
        let session = Session::new(Uuid::now_v7(), now, now, Some(&long), address);
        assert_eq!(session.user_agent.as_deref().map(str::len), Some(USER_AGENT_MAX_CHARS));
        assert_eq!(session.address, "10.0.0.1");
        let session = Session::new(Uuid::now_v7(), now, now, Some("a\u{0}b\n"), address);
        assert_eq!(session.user_agent.as_deref(), Some("ab"));
        assert_eq!(Session::new(Uuid::now_v7(), now, now, Some("  "), address).user_agent, None);
    }
}
