use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::ids::SessionId;
use crate::domain::{Email, Role, UserId};
use crate::http::{ApiError, Incoming};
use crate::secrets::CachedSecret;

pub const ACCESS_TTL_SECS: i64 = 60 * 60;
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// Access-token claims (the README's "Tokens").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims {
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// Refresh-token claims: the session (token family) and this token's id within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshClaims {
    pub user_id: UserId,
    #[serde(rename = "type")]
    pub kind: String,
    pub sid: SessionId,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 AUTH_004 unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// A new refresh token with its claims (the session record keeps `jti` and `exp`).
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    pub token: String,
    pub claims: RefreshClaims,
}

/// One HS256 key, ready to sign and verify.
#[derive(Clone)]
struct KeyPair {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl KeyPair {
    fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// HS256 keys: one for access tokens, another for refresh tokens.
#[derive(Clone)]
pub struct TokenKeys {
    access: KeyPair,
    refresh: KeyPair,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

fn strict_validation() -> Validation {
    // Only HS256, expiry required and checked to the second.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_exp = true;
    validation.set_required_spec_claims(&["exp"]);
    validation
}

fn classify(error: &jsonwebtoken::errors::Error) -> ApiError {
    match error.kind() {
        ErrorKind::ExpiredSignature => ApiError::token_expired(),
        _ => ApiError::invalid_token(),
    }
}

impl TokenKeys {
    pub fn new(access_key: &[u8], refresh_key: &[u8]) -> Self {
        Self {
            access: KeyPair::new(access_key),
            refresh: KeyPair::new(refresh_key),
        }
    }

    pub fn issue_access(&self, user_id: UserId, email: &Email, role: Role, now: i64) -> Result<String, ApiError> {
        let claims = AccessClaims {
            user_id,
            email: email.clone(),
            role,
            iat: now,
            exp: now + ACCESS_TTL_SECS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.access.encoding).map_err(ApiError::internal)
    }

    pub fn issue_refresh(&self, user_id: UserId, session: SessionId, now: i64) -> Result<IssuedRefresh, ApiError> {
        let claims = RefreshClaims {
            user_id,
            kind: "refresh".to_owned(),
            sid: session,
            jti: ulid::Ulid::new().to_string(),
            iat: now,
            exp: now + REFRESH_TTL_SECS,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.refresh.encoding)
            .map_err(ApiError::internal)?;
        Ok(IssuedRefresh { token, claims })
    }

    /// Verifies an access token: 401 AUTH_002 when expired, AUTH_003 for anything
    /// else (bad signature, other algorithm, `alg: none`, malformed).
    pub fn verify_access(&self, token: &str) -> Result<Caller, ApiError> {
        verify_access_with(&self.access, token)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, ApiError> {
        let data = jsonwebtoken::decode::<RefreshClaims>(token, &self.refresh.decoding, &strict_validation())
            .map_err(|err| classify(&err))?;
        if data.claims.kind != "refresh" {
            return Err(ApiError::invalid_token());
        }
        Ok(data.claims)
    }
}

fn verify_access_with(key: &KeyPair, token: &str) -> Result<Caller, ApiError> {
    let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &strict_validation())
        .map_err(|err| classify(&err))?;
    let claims = data.claims;
    Ok(Caller {
        user_id: claims.user_id,
        email: claims.email,
        role: claims.role,
    })
}

/// Token keys loaded from Secrets Manager on first use, then cached. A function
/// that only verifies access tokens never reads the refresh key.
#[derive(Debug)]
pub struct Tokens {
    client: aws_sdk_secretsmanager::Client,
    access_secret: CachedSecret,
    refresh_secret: CachedSecret,
}

impl Tokens {
    /// The signing keys named by the configuration, read on first use.
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(
            clients.secrets().clone(),
            &config.secrets.jwt_access,
            &config.secrets.jwt_refresh,
        )
    }

    pub fn new(client: aws_sdk_secretsmanager::Client, access_secret_id: &str, refresh_secret_id: &str) -> Self {
        Self {
            client,
            access_secret: CachedSecret::new(access_secret_id),
            refresh_secret: CachedSecret::new(refresh_secret_id),
        }
    }

    /// Fetches the access key (and the refresh key too with `refresh`) ahead
    /// of the first request; a failure is logged and left to that request.
    pub async fn warm_up(&self, refresh: bool) {
        let access = self.access_secret.get(&self.client);
        let result = if refresh {
            futures::try_join!(access, self.refresh_secret.get(&self.client)).map(|_| ())
        } else {
            access.await.map(|_| ())
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "warm-up: signing keys not fetched");
        }
    }

    /// Both keys, for issuing tokens (the secrets are cached; building the keys is cheap).
    pub async fn keys(&self) -> Result<TokenKeys, ApiError> {
        let access = self
            .access_secret
            .get(&self.client)
            .await
            .map_err(ApiError::unavailable)?;
        let refresh = self
            .refresh_secret
            .get(&self.client)
            .await
            .map_err(ApiError::unavailable)?;
        Ok(TokenKeys::new(access.expose().as_bytes(), refresh.expose().as_bytes()))
    }

    /// The caller of `request`, from its `Authorization: Bearer` header.
    pub async fn authenticate(&self, request: &Incoming) -> Result<Caller, ApiError> {
        let header = request
            .header("authorization")
            .ok_or_else(|| ApiError::new(crate::http::ErrorCode::InvalidToken, "Missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(ApiError::invalid_token)?;
        let access = self
            .access_secret
            .get(&self.client)
            .await
            .map_err(ApiError::unavailable)?;
        verify_access_with(&KeyPair::new(access.expose().as_bytes()), token)
    }

    /// The caller when the request carries a bearer token; `None` for anonymous
    /// requests. A token that is present but invalid is still an error.
    pub async fn authenticate_optional(&self, request: &Incoming) -> Result<Option<Caller>, ApiError> {
        if request.header("authorization").is_none() {
            return Ok(None);
        }
        self.authenticate(request).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ErrorCode;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"access-key-for-tests-0123456789abcdef",
            b"refresh-key-for-tests-0123456789abcdef",
        )
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn email() -> Email {
        Email::parse("jane@example.com").unwrap()
    }

    #[test]
    fn an_issued_access_token_verifies() {
        let keys = keys();
        let user = UserId::generate();
        let token = keys.issue_access(user, &email(), Role::Admin, now()).unwrap();
        let caller = keys.verify_access(&token).unwrap();
        assert_eq!(caller.user_id, user);
        assert!(caller.is_admin());
    }

    #[test]
    fn an_expired_access_token_is_auth_002() {
        let keys = keys();
        let token = keys
            .issue_access(
                UserId::generate(),
                &email(),
                Role::Customer,
                now() - ACCESS_TTL_SECS - 5,
            )
            .unwrap();
        assert_eq!(keys.verify_access(&token).unwrap_err().code, ErrorCode::TokenExpired);
    }

    #[test]
    fn a_tampered_token_is_auth_003() {
        let keys = keys();
        let token = keys
            .issue_access(UserId::generate(), &email(), Role::Customer, now())
            .unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("CUSTOMER", "ADMIN"));
        assert_eq!(
            keys.verify_access(&parts.join(".")).unwrap_err().code,
            ErrorCode::InvalidToken
        );
    }

    #[test]
    fn an_unsigned_alg_none_token_is_auth_003() {
        let keys = keys();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = format!(
            r#"{{"userId":"{}","email":"jane@example.com","role":"ADMIN","iat":{},"exp":{}}}"#,
            UserId::generate(),
            now(),
            now() + 600
        );
        let token = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims));
        assert_eq!(keys.verify_access(&token).unwrap_err().code, ErrorCode::InvalidToken);
    }

    #[test]
    fn another_algorithm_with_the_same_key_is_auth_003() {
        let secret = b"access-key-for-tests-0123456789abcdef";
        let claims = AccessClaims {
            user_id: UserId::generate(),
            email: email(),
            role: Role::Customer,
            iat: now(),
            exp: now() + 600,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert_eq!(keys().verify_access(&token).unwrap_err().code, ErrorCode::InvalidToken);
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token() {
        let keys = keys();
        let refresh = keys
            .issue_refresh(UserId::generate(), SessionId::generate(), now())
            .unwrap();
        assert_eq!(
            keys.verify_access(&refresh.token).unwrap_err().code,
            ErrorCode::InvalidToken
        );
        assert_eq!(keys.verify_refresh(&refresh.token).unwrap(), refresh.claims);
    }
}
