//! The caller's profile and the admin view of any user.

use super::Users;
use super::views::ProfileView;
use crate::auth::Caller;
use crate::domain::{PersonName, PhoneNumber, Timestamp, UserId};
use crate::http::form_value::{text, unsigned};
use crate::http::{ApiError, Form, Incoming};
use crate::store::users::{ProfileChanges, UserWrite};

/// A profile update and the version it was based on (body `version` or `If-Match`).
#[derive(Debug)]
pub struct ProfileUpdate {
    pub changes: ProfileChanges,
    pub expected_version: u64,
}

/// `"3"`, `W/"3"` or `3` from an `If-Match` header.
fn version_from_if_match(header: &str) -> Option<u64> {
    header.trim().trim_start_matches("W/").trim_matches('"').parse().ok()
}

impl ProfileUpdate {
    pub fn parse(request: &Incoming) -> Result<Self, ApiError> {
        let mut form = Form::from_body(request.body())?;
        form.reject("email", "cannot be changed");
        form.reject("role", "cannot be changed");
        let first_name = form.optional("firstName", |v| PersonName::parse(&text(v)?).map_err(|e| e.to_string()));
        let last_name = form.optional("lastName", |v| PersonName::parse(&text(v)?).map_err(|e| e.to_string()));
        let phone_number = if form.is_null("phoneNumber") {
            // An explicit null removes the phone number.
            Some(Some(None))
        } else {
            form.optional("phoneNumber", |v| {
                PhoneNumber::parse(&text(v)?).map_err(|e| e.to_string())
            })
            .map(|phone| phone.map(Some))
        };
        let body_version = form.optional("version", |v| unsigned(v).map_err(str::to_owned));
        let header_version = match request.header("if-match") {
            Some(header) => match version_from_if_match(header) {
                Some(version) => Some(version),
                None => {
                    return Err(ApiError::invalid_field(
                        "If-Match",
                        "must be the profile's ETag, such as \"3\"",
                    ));
                }
            },
            None => None,
        };
        let (Some(first_name), Some(last_name), Some(phone_number), Some(body_version)) =
            (first_name, last_name, phone_number, body_version)
        else {
            return Err(form.into_error());
        };
        form.finish()?;
        let Some(expected_version) = header_version.or(body_version) else {
            return Err(ApiError::validation(
                Vec::new(),
                vec![crate::http::FieldIssue::new(
                    "version",
                    "is required (or send an If-Match header)",
                )],
            ));
        };
        let changes = ProfileChanges {
            first_name,
            last_name,
            phone_number,
        };
        if changes.first_name.is_none() && changes.last_name.is_none() && changes.phone_number.is_none() {
            return Err(ApiError::invalid_field(
                "body",
                "must change at least one of firstName, lastName, phoneNumber",
            ));
        }
        Ok(Self {
            changes,
            expected_version,
        })
    }
}

impl Users {
    /// One Query: the profile and its addresses.
    #[tracing::instrument(skip_all, fields(userId = %user))]
    pub async fn profile(&self, user: UserId) -> Result<ProfileView, ApiError> {
        let (profile, addresses) = self
            .store
            .user_with_addresses(user)
            .await?
            .ok_or_else(|| ApiError::not_found("User"))?;
        Ok(ProfileView::new(&profile, addresses))
    }

    /// A user's profile for an admin or for that user; 403 for anyone else.
    pub async fn user_for(&self, caller: &Caller, user: UserId) -> Result<ProfileView, ApiError> {
        if caller.user_id != user {
            caller.require_admin()?;
        }
        self.profile(user).await
    }

    /// A conditional transaction (409 RES_003 when the version is stale, nothing
    /// written), then one Query for the new state.
    #[tracing::instrument(skip_all, fields(userId = %caller.user_id))]
    pub async fn update_profile(&self, caller: &Caller, update: ProfileUpdate) -> Result<ProfileView, ApiError> {
        self.store
            .update_profile(
                caller.user_id,
                &caller.email,
                &update.changes,
                update.expected_version,
                Timestamp::now(),
            )
            .await
            .map_err(|err| {
                if err.refused(&UserWrite::Profile) {
                    ApiError::stale_version()
                } else {
                    err.into()
                }
            })?;
        self.profile(caller.user_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_strong_and_weak_tags() {
        assert_eq!(version_from_if_match("\"3\""), Some(3));
        assert_eq!(version_from_if_match("W/\"12\""), Some(12));
        assert_eq!(version_from_if_match("7"), Some(7));
        assert_eq!(version_from_if_match("\"abc\""), None);
    }
}
