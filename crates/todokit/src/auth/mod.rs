//! Accounts and sessions: password hashing, signed session tokens, the
//! signing secret and sign-in throttling. Nothing here knows about HTTP.

pub mod access_token;
mod accounts;
mod email;
pub mod invite;
mod password;
mod secret;
pub mod session;
mod throttle;
mod token;

pub use access_token::{AccessToken, AccessTokens};
pub use accounts::{Accounts, User, UserCredentials, UserSummary};
pub use email::Email;
pub use invite::Invites;
pub use password::{Password, PasswordHasher, UNKNOWN_ACCOUNT_HASH};
pub use secret::load_or_create_secret;
pub use session::{Session, Sessions};
pub use throttle::Throttle;
pub use token::{Claims, SessionToken, TokenKeys};
