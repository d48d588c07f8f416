//! Admin views of users, and promoting the first admin.

use super::Users;
use super::accounts::{NewUser, new_account};
use super::views::UserSummary;
use crate::auth::Caller;
use crate::auth::hash_password;
use crate::domain::{Role, UserId};
use crate::http::ApiError;
use crate::pagination::{PageRequest, Pagination};
use crate::store::Store;

impl Users {
    /// ADMIN only: all users, newest first (a count and a page, read concurrently).
    #[tracing::instrument(skip_all)]
    pub async fn list_users(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<(Vec<UserSummary>, Pagination), ApiError> {
        caller.require_admin()?;
        let (users, total) = self.store.list_users(page.page, page.limit).await?;
        Ok((
            users.iter().map(UserSummary::from).collect(),
            Pagination::new(page, total),
        ))
    }
}

/// Creates an account with `role` and an already hashed password (seeding, bootstrap).
pub async fn create_account(
    store: &Store,
    input: &NewUser,
    role: Role,
    hash: crate::auth::PasswordHash,
) -> Result<UserId, ApiError> {
    let (user, credentials) = new_account(input, role, hash);
    store
        .create_user(&user, &credentials, None)
        .await
        .map_err(super::accounts::email_taken)?;
    Ok(user.user_id)
}

/// Creates an ADMIN account, or gives an existing account the ADMIN role (its
/// password is left as it is). Returns the user id and whether it was created.
pub async fn bootstrap_admin(store: &Store, input: NewUser) -> Result<(UserId, bool), ApiError> {
    if let Some(existing) = store.credentials(&input.email).await? {
        store.set_role(existing.user_id, &input.email, Role::Admin).await?;
        return Ok((existing.user_id, false));
    }
    let hash = hash_password(&input.password).await?;
    Ok((create_account(store, &input, Role::Admin, hash).await?, true))
}
