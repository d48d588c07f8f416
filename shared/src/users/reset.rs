//! Password reset: a single-use token, valid for an hour, sent by email.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{RESET_TOKEN_TTL_SECS, Users};
use crate::auth::hash_password;
use crate::domain::{Email, Password, Timestamp};
use crate::http::form_value::text;
use crate::http::{ApiError, Form};
use crate::messages::{Notification, Outgoing};
use crate::store::users::{ResetRecord, UserWrite};

#[derive(Debug)]
pub struct ResetRequest {
    pub email: Email,
}

impl ResetRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let email = form.required("email", |v| Email::parse(&text(v)?).map_err(|e| e.to_string()));
        let Some(email) = email else {
            return Err(form.into_error());
        };
        Ok(Self { email })
    }
}

#[derive(Debug)]
pub struct ResetConfirmation {
    pub token: String,
    pub new_password: Password,
}

impl ResetConfirmation {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let token = form.required("token", text);
        let new_password = form.required("newPassword", |v| Password::parse(&text(v)?).map_err(|e| e.to_string()));
        let (Some(token), Some(new_password)) = (token, new_password) else {
            return Err(form.into_error());
        };
        Ok(Self { token, new_password })
    }
}

/// Only the digest is stored: a leaked table does not leak usable tokens.
fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn invalid_reset_token() -> ApiError {
    ApiError::invalid_field("token", "is invalid, expired or already used")
}

impl Users {
    /// Always succeeds from the caller's point of view (no account enumeration);
    /// for a real account it stores a token and queues the email.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, request: ResetRequest) -> Result<(), ApiError> {
        let Some(credentials) = self.store.credentials(&request.email).await? else {
            tracing::info!("password reset requested for an unknown email");
            return Ok(());
        };
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let expires_at = Timestamp::now().plus_seconds(RESET_TOKEN_TTL_SECS);
        let record = ResetRecord {
            user_id: credentials.user_id,
            email: credentials.email.clone(),
            expires_at: expires_at.unix(),
        };
        let digest = digest(&token);
        let mail = Outgoing::Notification(Notification::PasswordReset {
            user_id: credentials.user_id,
            email: credentials.email,
            first_name: credentials.first_name.as_str().to_owned(),
            token,
            expires_at,
        })
        .into_outbox(Timestamp::now());
        self.store.create_reset(&digest, &record, &mail).await?;
        Ok(())
    }

    /// Uses the token once, sets the new password and revokes every session.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_password_reset(&self, confirmation: ResetConfirmation) -> Result<(), ApiError> {
        let digest = digest(&confirmation.token);
        let now = Timestamp::now().unix();
        let reset = self
            .store
            .reset(&digest)
            .await?
            .filter(|reset| reset.expires_at > now)
            .ok_or_else(invalid_reset_token)?;
        let hash = hash_password(&confirmation.new_password).await?;
        self.store
            .consume_reset(&digest, &reset, &hash, now)
            .await
            .map_err(|err| {
                if err.refused(&UserWrite::ResetToken) {
                    invalid_reset_token()
                } else {
                    err.into()
                }
            })?;
        let revoked = self.store.delete_all_sessions(reset.user_id).await?;
        tracing::info!(userId = %reset.user_id, revoked, "password reset; sessions revoked");
        Ok(())
    }
}
