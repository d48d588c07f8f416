//! The users and auth service: what `users-api` does, behind its thin handlers.

mod accounts;
mod addresses;
mod admin;
mod profile;
mod reset;
mod views;

pub use accounts::{Credentials, LoginResult, NewUser, RefreshRequest};
pub use addresses::{AddressChanges, NewAddress};
pub use admin::{bootstrap_admin, create_account};
pub use profile::ProfileUpdate;
pub use reset::{ResetConfirmation, ResetRequest};
pub use views::{AddressView, ProfileView, RegisteredUser, UserSummary};

use crate::auth::Tokens;
use crate::store::Store;

/// Failed logins allowed per email and per source IP within [`LOGIN_WINDOW_SECS`].
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;
/// Saved addresses per user.
pub const MAX_ADDRESSES: u32 = 20;
pub const RESET_TOKEN_TTL_SECS: i64 = 60 * 60;

/// Everything the users service needs; built once per cold start.
#[derive(Debug)]
pub struct Users {
    pub store: Store,
    pub tokens: Tokens,
}

impl Users {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::from_config(config, clients),
            tokens: Tokens::from_config(config, clients),
        }
    }
}
