//! Register, login, refresh and logout.

use serde::Serialize;

use super::views::{RegisteredUser, UserSummary};
use super::{LOGIN_WINDOW_SECS, MAX_FAILED_LOGINS, Users};
use crate::auth::{ACCESS_TTL_SECS, hash_password, verify_password};
use crate::domain::ids::SessionId;
use crate::domain::{Email, Password, PersonName, PhoneNumber, Role, Timestamp, UserId};
use crate::http::form_value::text;
use crate::http::{ApiError, Form};
use crate::messages::{Notification, Outgoing};
use crate::store::TxError;
use crate::store::keys;
use crate::store::users::{CredentialRecord, SessionRecord, ThrottleRecord, UserRecord, UserWrite};

/// A valid registration (`POST /api/v1/users/register`).
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub password: Password,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub phone_number: Option<PhoneNumber>,
}

impl NewUser {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let email = form.required("email", |v| Email::parse(&text(v)?).map_err(|e| e.to_string()));
        let password = form.required("password", |v| Password::parse(&text(v)?).map_err(|e| e.to_string()));
        let first_name = form.required("firstName", |v| PersonName::parse(&text(v)?).map_err(|e| e.to_string()));
        let last_name = form.required("lastName", |v| PersonName::parse(&text(v)?).map_err(|e| e.to_string()));
        let phone_number = form.optional("phoneNumber", |v| {
            PhoneNumber::parse(&text(v)?).map_err(|e| e.to_string())
        });
        let (Some(email), Some(password), Some(first_name), Some(last_name), Some(phone_number)) =
            (email, password, first_name, last_name, phone_number)
        else {
            return Err(form.into_error());
        };
        Ok(Self {
            email,
            password,
            first_name,
            last_name,
            phone_number,
        })
    }
}

/// Email and password of a login. The password is not checked against the policy:
/// a wrong one is simply wrong.
#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: String,
}

impl Credentials {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let email = form.required("email", |v| Email::parse(&text(v)?).map_err(|e| e.to_string()));
        let password = form.required("password", |v| {
            text(v).map_err(str::to_owned).and_then(|p| {
                if p.is_empty() {
                    Err("must not be empty".to_owned())
                } else {
                    Ok(p)
                }
            })
        });
        let (Some(email), Some(password)) = (email, password) else {
            return Err(form.into_error());
        };
        Ok(Self { email, password })
    }
}

/// What a login answers (`POST /api/v1/users/login`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub token_type: &'static str,
    /// Present on login; a refresh returns tokens only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSummary>,
}

/// The body of refresh and logout: `{"refreshToken": "…"}`.
#[derive(Debug)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl RefreshRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let token = form.required("refreshToken", text);
        let Some(refresh_token) = token else {
            return Err(form.into_error());
        };
        Ok(Self { refresh_token })
    }
}

/// The profile and login records of a new account.
pub(super) fn new_account(
    input: &NewUser,
    role: Role,
    password_hash: crate::auth::PasswordHash,
) -> (UserRecord, CredentialRecord) {
    let now = Timestamp::now();
    let user_id = UserId::generate();
    let user = UserRecord {
        user_id,
        email: input.email.clone(),
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        phone_number: input.phone_number.clone(),
        role,
        default_address_id: None,
        address_count: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let credentials = CredentialRecord {
        user_id,
        email: input.email.clone(),
        password_hash,
        role,
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
    };
    (user, credentials)
}

/// Seconds until a throttle window that has reached the limit closes, if it is closed.
fn blocked_for(throttle: Option<&ThrottleRecord>, now: i64) -> Option<i64> {
    let throttle = throttle?;
    let ends = throttle.window_start + LOGIN_WINDOW_SECS;
    (throttle.attempts >= MAX_FAILED_LOGINS && ends > now).then_some(ends - now)
}

impl Users {
    /// One TransactWriteItems: the profile, the email marker and the welcome
    /// mail in the outbox; 409 when the email is taken.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: NewUser) -> Result<RegisteredUser, ApiError> {
        let password_hash = hash_password(&input.password).await?;
        let (user, credentials) = new_account(&input, Role::Customer, password_hash);
        let (user_id, now) = (user.user_id, user.created_at);
        let welcome = Outgoing::Notification(Notification::Welcome {
            user_id,
            email: input.email.clone(),
            first_name: input.first_name.as_str().to_owned(),
        })
        .into_outbox(now);
        self.store
            .create_user(&user, &credentials, Some(&welcome))
            .await
            .map_err(email_taken)?;
        tracing::info!(userId = %user_id, "user registered");
        Ok(RegisteredUser {
            user_id,
            email: user.email.to_string(),
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            created_at: now,
        })
    }

    /// Round trips: one BatchGetItem (credentials and both throttles), then one
    /// write (the session, or the failure counters in parallel).
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, input: Credentials, source_ip: &str) -> Result<LoginResult, ApiError> {
        let now = Timestamp::now().unix();
        let state = self.store.login_state(&input.email, source_ip).await?;
        let wait = [state.email_throttle.as_ref(), state.ip_throttle.as_ref()]
            .into_iter()
            .filter_map(|throttle| blocked_for(throttle, now))
            .max();
        if let Some(wait) = wait {
            return Err(ApiError::rate_limited(u64::try_from(wait).unwrap_or(1)));
        }
        let hash = state.credentials.as_ref().map(|c| &c.password_hash);
        let valid = verify_password(&input.password, hash).await?;
        let Some(credentials) = state.credentials.filter(|_| valid) else {
            let by_email = keys::login_throttle_by_email(&input.email);
            let by_ip = keys::login_throttle_by_ip(source_ip);
            futures::try_join!(
                self.store.record_login_failure(&by_email, now, LOGIN_WINDOW_SECS),
                self.store.record_login_failure(&by_ip, now, LOGIN_WINDOW_SECS),
            )?;
            return Err(ApiError::invalid_credentials());
        };
        let keys = self.tokens.keys().await?;
        let session_id = SessionId::generate();
        let access_token = keys.issue_access(credentials.user_id, &credentials.email, credentials.role, now)?;
        let refresh = keys.issue_refresh(credentials.user_id, session_id, now)?;
        let session = SessionRecord {
            session_id,
            user_id: credentials.user_id,
            email: credentials.email.clone(),
            role: credentials.role,
            current_jti: refresh.claims.jti.clone(),
            created_at: Timestamp::from_unix(now),
            expires_at: refresh.claims.exp,
        };
        let clear = state
            .email_throttle
            .is_some()
            .then(|| keys::login_throttle_by_email(&input.email));
        self.store.open_session(&session, clear.as_ref()).await?;
        tracing::info!(userId = %credentials.user_id, "user logged in");
        Ok(LoginResult {
            access_token,
            refresh_token: refresh.token,
            expires_in: ACCESS_TTL_SECS,
            token_type: "Bearer",
            user: Some(UserSummary {
                user_id: credentials.user_id,
                email: credentials.email.to_string(),
                first_name: credentials.first_name.as_str().to_owned(),
                last_name: credentials.last_name.as_str().to_owned(),
                role: credentials.role,
                created_at: None,
            }),
        })
    }

    /// Rotates a refresh token (one conditional UpdateItem). A token that is no longer
    /// the newest of its session was stolen or replayed: the whole session is revoked.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, input: RefreshRequest) -> Result<LoginResult, ApiError> {
        let keys = self.tokens.keys().await?;
        let claims = keys.verify_refresh(&input.refresh_token)?;
        let now = Timestamp::now().unix();
        let next = keys.issue_refresh(claims.user_id, claims.sid, now)?;
        let rotated = self
            .store
            .rotate_session(
                claims.user_id,
                claims.sid,
                &claims.jti,
                &next.claims.jti,
                next.claims.exp,
                now,
            )
            .await;
        let session = match rotated {
            Ok(session) => session,
            Err(crate::store::StoreError::ConditionFailed) => {
                self.store.delete_session(claims.user_id, claims.sid).await?;
                tracing::warn!(userId = %claims.user_id, session = %claims.sid, "refresh token reused or revoked; session revoked");
                return Err(ApiError::new(
                    crate::http::ErrorCode::InvalidToken,
                    "Refresh token is no longer valid; please log in again",
                ));
            }
            Err(other) => return Err(other.into()),
        };
        let access_token = keys.issue_access(session.user_id, &session.email, session.role, now)?;
        Ok(LoginResult {
            access_token,
            refresh_token: next.token,
            expires_in: ACCESS_TTL_SECS,
            token_type: "Bearer",
            user: None,
        })
    }

    /// Revokes the session (token family) of the given refresh token.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, input: RefreshRequest) -> Result<(), ApiError> {
        let keys = self.tokens.keys().await?;
        let claims = keys.verify_refresh(&input.refresh_token)?;
        self.store.delete_session(claims.user_id, claims.sid).await?;
        tracing::info!(userId = %claims.user_id, "user logged out");
        Ok(())
    }
}

/// 409 for an account whose email is taken.
pub(crate) fn email_taken(error: TxError<UserWrite>) -> ApiError {
    if error.refused(&UserWrite::EmailTaken) {
        ApiError::already_exists("An account with this email already exists")
    } else {
        error.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_blocks_until_it_closes() {
        let full = ThrottleRecord {
            window_start: 1000,
            attempts: MAX_FAILED_LOGINS,
            expires_at: 1000 + LOGIN_WINDOW_SECS,
        };
        assert_eq!(blocked_for(Some(&full), 1000 + 60), Some(LOGIN_WINDOW_SECS - 60));
        assert_eq!(blocked_for(Some(&full), 1000 + LOGIN_WINDOW_SECS), None);
        let partial = ThrottleRecord {
            attempts: MAX_FAILED_LOGINS - 1,
            ..full
        };
        assert_eq!(blocked_for(Some(&partial), 1001), None);
        assert_eq!(blocked_for(None, 1001), None);
    }

    #[test]
    fn registration_names_every_bad_field() {
        let err = NewUser::parse(br#"{"email":"nope","password":"short","firstName":""}"#).unwrap_err();
        let details = err.details.unwrap().to_string();
        for field in ["email", "password", "firstName", "lastName"] {
            assert!(details.contains(field), "{field} missing from {details}");
        }
    }
}
