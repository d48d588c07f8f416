//! Authentication: JWT access and refresh tokens, password hashing, and the
//! extractor for the authenticated caller.

mod passwords;
mod tokens;

pub use passwords::{PasswordHash, hash_password, verify_password};
pub use tokens::{
    ACCESS_TTL_SECS, AccessClaims, Caller, IssuedRefresh, REFRESH_TTL_SECS, RefreshClaims, TokenKeys, Tokens,
};
