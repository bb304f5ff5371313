use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The server-side session this token belongs to (`auth::session`). Tokens issued before
    /// sessions existed have none and are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
}

/// Clock difference tolerated on `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;

/// A freshly issued session token.
#[derive(Debug, Clone)]
pub struct SessionToken {
    pub token: String,
    pub expires_at: Timestamp,
}

/// HS256 signing and verification with the configured secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: SignedDuration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_days: u32) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: SignedDuration::from_hours(24 * i64::from(ttl_days)),
        }
    }

    /// When a token issued at `now` expires.
    pub fn expiry(&self, now: Timestamp) -> Timestamp {
        now + self.ttl
    }

    /// A token for `user`'s session `session`, expiring at `expires_at` (see [`TokenKeys::expiry`]).
    pub fn issue(&self, user: Uuid, session: Uuid, expires_at: Timestamp) -> anyhow::Result<SessionToken> {
        let now = Timestamp::now();
        let claims =
            Claims { sub: user, sid: Some(session), iat: now.as_second(), exp: expires_at.as_second() };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(SessionToken { token, expires_at })
    }

    /// Checks signature, algorithm and expiry. `None` for anything invalid, and for a token
    /// expiring later than one issued now would (plus the leeway): this server never signed it
    /// so, and a leaked signing secret should not mint sessions that outlive its rotation.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        let latest_expiry = Timestamp::now() + self.ttl + SignedDuration::from_secs(LEEWAY_SECS as i64);
        (claims.exp <= latest_expiry.as_second()).then_some(claims)
    }

    pub fn ttl(&self) -> SignedDuration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_foreign_ones_do_not() {
        let keys = TokenKeys::new(&[7u8; 32], 7);
        let user = Uuid::now_v7();
        let session = Uuid::now_v7();
        let issued = keys.issue(user, session, keys.expiry(Timestamp::now())).unwrap();
        let claims = keys.verify(&issued.token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, Some(session)));
        let other = TokenKeys::new(&[8u8; 32], 7);
        assert!(other.verify(&issued.token).is_none());
        assert!(keys.verify("not-a-token").is_none());
    }

    #[test]
    fn a_token_expiring_later_than_any_issued_now_is_refused() {
        let keys = TokenKeys::new(&[7u8; 32], 7);
        let user = Uuid::now_v7();
        let signed = |exp: Timestamp| {
            let claims =
                Claims { sub: user, sid: None, iat: Timestamp::now().as_second(), exp: exp.as_second() };
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
        };
        let now = Timestamp::now();
        assert!(keys.verify(&signed(now + keys.ttl())).is_some(), "as issued");
        assert!(keys.verify(&signed(now + keys.ttl() + SignedDuration::from_hours(1))).is_none());
        assert!(keys.verify(&signed(now + SignedDuration::from_hours(24 * 3650))).is_none(), "ten years");
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let keys = TokenKeys::new(&[7u8; 32], 7);
        // {"alg":"none","typ":"JWT"} . {"sub":…,"exp":far future} . (no signature)
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let payload =
            "eyJzdWIiOiIwMTkzNDZhZC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJpYXQiOjEsImV4cCI6NDEwMjQ0NDgwMH0";
        assert!(keys.verify(&format!("{header}.{payload}.")).is_none());
    }
}
