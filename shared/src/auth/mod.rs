//! Authentication: JWT access and refresh tokens, password hashing, and the
//! extractor for the authenticated caller.

mod passwords;
mod tokens;

pub use passwords::{hash_password, verify_password, PasswordHash};
pub use tokens::{AccessClaims, Caller, IssuedRefresh, RefreshClaims, TokenKeys, Tokens, ACCESS_TTL_SECS, REFRESH_TTL_SECS};
