use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash as ParsedHash};
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::http::ApiError;

/// An argon2id PHC string (`$argon2id$v=19$…`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// Hashed once, then verified against when the account does not exist, so an
/// unknown email takes as long as a wrong password.
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| hash_blocking("Decoy-password-1!").ok());

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    ParsedHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Hashes with argon2id (OWASP parameters: 19 MiB, 2 passes) off the async threads.
pub async fn hash_password(password: &Password) -> Result<PasswordHash, ApiError> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(ApiError::internal)?
        .map(PasswordHash)
        .map_err(|err| ApiError::internal(err.to_string()))
}

/// Checks `password` against `hash`, or against a decoy when there is no account.
pub async fn verify_password(password: &str, hash: Option<&PasswordHash>) -> Result<bool, ApiError> {
    let password = password.to_owned();
    let target = hash.map(|hash| hash.0.clone());
    tokio::task::spawn_blocking(move || match target {
        Some(hash) => verify_blocking(&password, &hash),
        None => {
            if let Some(decoy) = DECOY.as_deref() {
                verify_blocking(&password, decoy);
            }
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let password = Password::parse("SecurePass123!").unwrap();
        let hash = hash_password(&password).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(verify_password("SecurePass123!", Some(&hash)).await.unwrap());
        assert!(!verify_password("SecurePass124!", Some(&hash)).await.unwrap());
        assert!(!verify_password("SecurePass123!", None).await.unwrap());
    }
}
