//! Users, credentials, addresses, sessions, login throttles and reset tokens.

use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};

use super::keys::{self, Index, Key};
use super::outbox::OutboxRecord;
use super::table::{Expr, Query, Transaction, TxError};
use super::{Store, StoreError, from_item, number, string, to_item};
use crate::auth::PasswordHash;
use crate::domain::ids::SessionId;
use crate::domain::{AddressId, AddressInput, Email, PersonName, PhoneNumber, Role, Timestamp, UserId};

/// The profile item: everything about a user but the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub user_id: UserId,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<PhoneNumber>,
    pub role: Role,
    /// The one default address; addresses derive `isDefault` from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_address_id: Option<AddressId>,
    #[serde(default)]
    pub address_count: u32,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The login item, keyed by normalised email; its existence reserves the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRecord {
    pub user_id: UserId,
    pub email: Email,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub first_name: PersonName,
    pub last_name: PersonName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressRecord {
    pub address_id: AddressId,
    pub street: String,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub zip_code: String,
    pub country: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl AddressRecord {
    pub fn fields(&self) -> AddressInput {
        AddressInput {
            street: self.street.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            zip_code: self.zip_code.clone(),
            country: self.country.clone(),
        }
    }

    pub fn with_fields(mut self, fields: AddressInput) -> Self {
        self.street = fields.street;
        self.city = fields.city;
        self.state = fields.state;
        self.zip_code = fields.zip_code;
        self.country = fields.country;
        self
    }
}

/// One refresh-token family: only the newest token (`current_jti`) may be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub current_jti: String,
    pub created_at: Timestamp,
    pub expires_at: i64,
}

/// Failed logins in the window that started at `window_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleRecord {
    pub window_start: i64,
    pub attempts: u32,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetRecord {
    pub user_id: UserId,
    pub email: Email,
    pub expires_at: i64,
}

/// What a login needs, read in one BatchGetItem.
#[derive(Debug, Default)]
pub struct LoginState {
    pub credentials: Option<CredentialRecord>,
    pub email_throttle: Option<ThrottleRecord>,
    pub ip_throttle: Option<ThrottleRecord>,
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct ProfileChanges {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    /// `Some(None)` removes the phone number.
    pub phone_number: Option<Option<PhoneNumber>>,
}

/// The items of user transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserWrite {
    /// The profile is new, still at the version read, or (addresses) exists
    /// with room for one more address.
    Profile,
    /// Another account has the email.
    EmailTaken,
    /// The login record (credentials) the change keeps in step.
    Login,
    /// The address is new, or still at the version read.
    Address,
    /// The profile's default address is not what the change assumed.
    Default,
    /// The reset token was used already, or expired.
    ResetToken,
    Session,
    Throttle,
    Outbox,
}

impl Store {
    /// Creates the profile and the email marker together, with the welcome mail in the outbox.
    pub async fn create_user(
        &self,
        user: &UserRecord,
        credentials: &CredentialRecord,
        welcome: Option<&OutboxRecord>,
    ) -> Result<(), TxError<UserWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(
            UserWrite::Profile,
            to_item(&keys::user_profile(user.user_id), user)?,
            Some(Expr::absent()),
        );
        tx.put(
            UserWrite::EmailTaken,
            to_item(&keys::credentials(&user.email), credentials)?,
            Some(Expr::absent()),
        );
        if let Some(message) = welcome {
            tx.put(UserWrite::Outbox, message.item()?, Some(Expr::absent()));
        }
        self.commit(tx).await
    }

    /// Credentials and both throttles in one round trip (strongly consistent).
    pub async fn login_state(&self, email: &Email, ip: &str) -> Result<LoginState, StoreError> {
        let credentials_key = keys::credentials(email);
        let email_key = keys::login_throttle_by_email(email);
        let ip_key = keys::login_throttle_by_ip(ip);
        let items = self
            .batch_get_consistent(vec![credentials_key.primary(), email_key.primary(), ip_key.primary()])
            .await?;
        let mut state = LoginState::default();
        for item in items {
            if credentials_key.matches(&item) {
                state.credentials = Some(from_item(item)?);
            } else if email_key.matches(&item) {
                state.email_throttle = Some(from_item(item)?);
            } else if ip_key.matches(&item) {
                state.ip_throttle = Some(from_item(item)?);
            }
        }
        Ok(state)
    }

    /// Counts a failed login against `key`: adds to the live window, or starts a new one.
    pub async fn record_login_failure(&self, key: &Key, now: i64, window_secs: i64) -> Result<(), StoreError> {
        let cutoff = now - window_secs;
        for _ in 0..3 {
            let live = Expr::new("windowStart > :cutoff").value(":cutoff", number(cutoff));
            match self
                .update(key, Expr::new("ADD attempts :one").value(":one", number(1)), Some(live))
                .await
            {
                Err(StoreError::ConditionFailed) => {}
                other => return other,
            }
            let record = ThrottleRecord {
                window_start: now,
                attempts: 1,
                expires_at: now + window_secs,
            };
            let over = Expr::new("attribute_not_exists(PK) OR windowStart <= :cutoff").value(":cutoff", number(cutoff));
            match self.put(to_item(key, &record)?, Some(over)).await {
                // Another request opened the window first: add to it.
                Err(StoreError::ConditionFailed) => {}
                other => return other,
            }
        }
        Ok(())
    }

    /// Stores a new session, clearing the email's failed-login window when there was one.
    pub async fn open_session(&self, session: &SessionRecord, clear_throttle: Option<&Key>) -> Result<(), StoreError> {
        let item = to_item(&keys::session(session.user_id, session.session_id), session)?;
        match clear_throttle {
            None => self.put(item, None).await,
            Some(throttle) => {
                let mut tx = Transaction::new(self);
                tx.put(UserWrite::Session, item, None);
                tx.delete(UserWrite::Throttle, throttle, None);
                self.commit(tx).await.map_err(TxError::into_store)
            }
        }
    }

    /// Replaces the session's current token id, only if `presented_jti` is still current
    /// and the session has not expired. `ConditionFailed` means reuse or revocation.
    pub async fn rotate_session(
        &self,
        user: UserId,
        session: SessionId,
        presented_jti: &str,
        next_jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<SessionRecord, StoreError> {
        let output = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(keys::session(user, session).primary()))
            .update_expression("SET currentJti = :next, expiresAt = :exp")
            .condition_expression("currentJti = :presented AND expiresAt > :now")
            .expression_attribute_values(":next", string(next_jti))
            .expression_attribute_values(":exp", number(expires_at))
            .expression_attribute_values(":presented", string(presented_jti))
            .expression_attribute_values(":now", number(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        from_item(output.attributes.unwrap_or_default())
    }

    pub async fn delete_session(&self, user: UserId, session: SessionId) -> Result<(), StoreError> {
        self.delete(&keys::session(user, session), None).await
    }

    /// Revokes every session of `user` (password reset).
    pub async fn delete_all_sessions(&self, user: UserId) -> Result<usize, StoreError> {
        let sessions = self
            .query_keys(&Query::table(keys::user_partition(user)).begins_with(keys::SESSION_PREFIX))
            .await?;
        self.delete_keys(&sessions).await?;
        Ok(sessions.len())
    }

    /// The profile and its addresses in one query (`ADDR#…` sorts before `PROFILE`).
    pub async fn user_with_addresses(
        &self,
        user: UserId,
    ) -> Result<Option<(UserRecord, Vec<AddressRecord>)>, StoreError> {
        let query = Query::table(keys::user_partition(user))
            .between(keys::ADDRESS_PREFIX, keys::PROFILE)
            .consistent();
        let mut profile = None;
        let mut addresses = Vec::new();
        for item in self.query_all(&query).await? {
            let sk = keys::text_of(&item, keys::SK);
            if sk == keys::PROFILE {
                profile = Some(from_item::<UserRecord>(item)?);
            } else if sk.starts_with(keys::ADDRESS_PREFIX) {
                addresses.push(from_item::<AddressRecord>(item)?);
            }
        }
        Ok(profile.map(|profile| (profile, addresses)))
    }

    /// Applies `changes` if the profile is still at `expected_version`; the login
    /// copy of the names changes in the same transaction.
    pub async fn update_profile(
        &self,
        user: UserId,
        email: &Email,
        changes: &ProfileChanges,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), TxError<UserWrite>> {
        let mut update = Expr::new("SET version = version + :one, updatedAt = :now")
            .value(":one", number(1))
            .value(":now", string(now.to_string()));
        let mut login = Vec::new();
        if let Some(first) = &changes.first_name {
            update = update
                .and_set("firstName = :first")
                .value(":first", string(first.as_str()));
            login.push(("firstName = :first", ":first", first.as_str()));
        }
        if let Some(last) = &changes.last_name {
            update = update.and_set("lastName = :last").value(":last", string(last.as_str()));
            login.push(("lastName = :last", ":last", last.as_str()));
        }
        match &changes.phone_number {
            Some(Some(phone)) => {
                update = update
                    .and_set("phoneNumber = :phone")
                    .value(":phone", string(phone.as_str()))
            }
            Some(None) => update = update.remove(["phoneNumber".to_owned()]),
            None => {}
        }
        let unchanged =
            Expr::new("attribute_exists(PK) AND version = :expected").value(":expected", number(expected_version));
        let mut tx = Transaction::new(self);
        tx.update(UserWrite::Profile, &keys::user_profile(user), update, Some(unchanged));
        if !login.is_empty() {
            let mut copy = Expr::new(format!(
                "SET {}",
                login.iter().map(|(set, _, _)| *set).collect::<Vec<_>>().join(", ")
            ));
            for (_, placeholder, value) in &login {
                copy = copy.value(*placeholder, string(*value));
            }
            tx.update(UserWrite::Login, &keys::credentials(email), copy, Some(Expr::present()));
        }
        self.commit(tx).await
    }

    /// Adds an address, counting it against `max` and making it the default when
    /// asked or when the user has none.
    pub async fn create_address(
        &self,
        user: UserId,
        address: &AddressRecord,
        make_default: bool,
        max: u32,
    ) -> Result<(), TxError<UserWrite>> {
        let default_expression = if make_default {
            "defaultAddressId = :id"
        } else {
            "defaultAddressId = if_not_exists(defaultAddressId, :id)"
        };
        let profile = Expr::new(format!(
            "SET {default_expression}, addressCount = if_not_exists(addressCount, :zero) + :one"
        ))
        .value(":id", string(address.address_id.to_string()))
        .value(":zero", number(0))
        .value(":one", number(1));
        let room = Expr::new("attribute_exists(PK) AND (attribute_not_exists(addressCount) OR addressCount < :max)")
            .value(":max", number(max));
        let mut tx = Transaction::new(self);
        tx.put(
            UserWrite::Address,
            to_item(&keys::address(user, address.address_id), address)?,
            Some(Expr::absent()),
        );
        tx.update(UserWrite::Profile, &keys::user_profile(user), profile, Some(room));
        self.commit(tx).await
    }

    /// Replaces an address if it is still at `expected_version`;
    /// `default_change` moves or clears the profile's default.
    pub async fn update_address(
        &self,
        user: UserId,
        address: &AddressRecord,
        expected_version: u64,
        default_change: Option<bool>,
    ) -> Result<(), TxError<UserWrite>> {
        let unchanged =
            Expr::new("attribute_exists(PK) AND version = :expected").value(":expected", number(expected_version));
        let mut tx = Transaction::new(self);
        tx.put(
            UserWrite::Address,
            to_item(&keys::address(user, address.address_id), address)?,
            Some(unchanged),
        );
        let id = string(address.address_id.to_string());
        match default_change {
            Some(true) => {
                tx.update(
                    UserWrite::Default,
                    &keys::user_profile(user),
                    Expr::new("SET defaultAddressId = :id").value(":id", id),
                    None,
                );
            }
            Some(false) => {
                tx.update(
                    UserWrite::Default,
                    &keys::user_profile(user),
                    Expr::new("REMOVE defaultAddressId"),
                    Some(Expr::new("defaultAddressId = :id").value(":id", id)),
                );
            }
            None => {}
        }
        self.commit(tx).await
    }

    /// Deletes an address; `was_default` must match the profile.
    pub async fn delete_address(
        &self,
        user: UserId,
        address: AddressId,
        was_default: bool,
    ) -> Result<(), TxError<UserWrite>> {
        let (update, condition) = if was_default {
            (
                Expr::new("ADD addressCount :minus REMOVE defaultAddressId"),
                Expr::new("defaultAddressId = :id"),
            )
        } else {
            (
                Expr::new("ADD addressCount :minus"),
                Expr::new(
                    "attribute_exists(PK) AND (attribute_not_exists(defaultAddressId) OR defaultAddressId <> :id)",
                ),
            )
        };
        let mut tx = Transaction::new(self);
        tx.delete(UserWrite::Address, &keys::address(user, address), Some(Expr::present()));
        tx.update(
            UserWrite::Default,
            &keys::user_profile(user),
            update.value(":minus", number(-1)),
            Some(condition.value(":id", string(address.to_string()))),
        );
        self.commit(tx).await
    }

    /// Newest users first, one page, with the total; the count and the page are read concurrently.
    pub async fn list_users(&self, page: u32, limit: u32) -> Result<(Vec<UserRecord>, u64), StoreError> {
        self.query_page_records(&Query::index(Index::Gsi1, keys::ALL_USERS).descending(), page, limit)
            .await
    }

    pub async fn credentials(&self, email: &Email) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(&keys::credentials(email)).await
    }

    /// Sets the role on both the profile and the login record.
    pub async fn set_role(&self, user: UserId, email: &Email, role: Role) -> Result<(), StoreError> {
        let set = || {
            Expr::new("SET #role = :role")
                .name("#role", "role")
                .value(":role", string(role.as_str()))
        };
        let mut tx = Transaction::new(self);
        tx.update(
            UserWrite::Profile,
            &keys::user_profile(user),
            set(),
            Some(Expr::present()),
        );
        tx.update(
            UserWrite::Login,
            &keys::credentials(email),
            set(),
            Some(Expr::present()),
        );
        self.commit(tx).await.map_err(TxError::into_store)
    }

    /// Stores a reset token's record, with its mail in the outbox.
    pub async fn create_reset(&self, digest: &str, reset: &ResetRecord, mail: &OutboxRecord) -> Result<(), StoreError> {
        let mut tx = Transaction::new(self);
        tx.put(
            UserWrite::ResetToken,
            to_item(&keys::password_reset(digest), reset)?,
            None,
        );
        tx.put(UserWrite::Outbox, mail.item()?, Some(Expr::absent()));
        self.commit(tx).await.map_err(TxError::into_store)
    }

    pub async fn reset(&self, digest: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.read(&keys::password_reset(digest)).await
    }

    /// Uses the reset token (once, before it expires) and sets the new hash.
    pub async fn consume_reset(
        &self,
        digest: &str,
        reset: &ResetRecord,
        hash: &PasswordHash,
        now: i64,
    ) -> Result<(), TxError<UserWrite>> {
        let mut tx = Transaction::new(self);
        tx.delete(
            UserWrite::ResetToken,
            &keys::password_reset(digest),
            Some(Expr::new("attribute_exists(PK) AND expiresAt > :now").value(":now", number(now))),
        );
        tx.update(
            UserWrite::Login,
            &keys::credentials(&reset.email),
            Expr::new("SET passwordHash = :hash").value(":hash", serde_dynamo::to_attribute_value(hash)?),
            Some(
                Expr::new("attribute_exists(PK) AND userId = :user").value(":user", string(reset.user_id.to_string())),
            ),
        );
        self.commit(tx).await
    }
}
