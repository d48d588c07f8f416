//! Users, credentials, addresses, sessions, login throttles and reset tokens.

use aws_sdk_dynamodb::types::{Delete, KeysAndAttributes, Put, ReturnValue, Select, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::{Item, Store, StoreError, from_item, number, string, to_item};
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

impl Store {
    fn put(&self, item: Item) -> Put {
        Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .build()
            .expect("table and item are set")
    }

    fn update(&self, key: &Key, expression: &str) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(self.table())
            .set_key(Some(key.primary()))
            .update_expression(expression)
    }

    fn delete(&self, key: &Key) -> aws_sdk_dynamodb::types::builders::DeleteBuilder {
        Delete::builder().table_name(self.table()).set_key(Some(key.primary()))
    }

    /// Creates the profile and the email marker together; fails at index 1 when the email is taken.
    pub async fn create_user(&self, user: &UserRecord, credentials: &CredentialRecord) -> Result<(), StoreError> {
        let profile = self.put(to_item(&keys::user_profile(user.user_id), user)?);
        let marker = self.put(to_item(&keys::credentials(&user.email), credentials)?);
        self.client()
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(with_condition_put(profile, "attribute_not_exists(PK)"))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(with_condition_put(marker, "attribute_not_exists(PK)"))
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }

    /// Credentials and both throttles in one round trip.
    pub async fn login_state(&self, email: &Email, ip: &str) -> Result<LoginState, StoreError> {
        let credentials_key = keys::credentials(email);
        let email_key = keys::login_throttle_by_email(email);
        let ip_key = keys::login_throttle_by_ip(ip);
        let mut pending = KeysAndAttributes::builder()
            .consistent_read(true)
            .keys(credentials_key.primary())
            .keys(email_key.primary())
            .keys(ip_key.primary())
            .build()
            .expect("keys are set");
        let mut state = LoginState::default();
        loop {
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), pending)
                .send()
                .await?;
            let items = output
                .responses
                .and_then(|mut tables| tables.remove(self.table()))
                .unwrap_or_default();
            for item in items {
                let pk = keys::text_of(&item, keys::PK);
                if pk == credentials_key.pk {
                    state.credentials = Some(from_item(item)?);
                } else if pk == email_key.pk {
                    state.email_throttle = Some(from_item(item)?);
                } else if pk == ip_key.pk {
                    state.ip_throttle = Some(from_item(item)?);
                }
            }
            match output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(self.table()))
            {
                Some(rest) if !rest.keys().is_empty() => pending = rest,
                _ => return Ok(state),
            }
        }
    }

    /// Counts a failed login against `key`: adds to the live window, or starts a new one.
    pub async fn record_login_failure(&self, key: &Key, now: i64, window_secs: i64) -> Result<(), StoreError> {
        let cutoff = now - window_secs;
        for _ in 0..3 {
            let added = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key.primary()))
                .update_expression("ADD attempts :one")
                .condition_expression("windowStart > :cutoff")
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":cutoff", number(cutoff))
                .send()
                .await;
            match added {
                Ok(_) => return Ok(()),
                Err(err) => match StoreError::from(err) {
                    StoreError::ConditionFailed => {}
                    other => return Err(other),
                },
            }
            let record = ThrottleRecord {
                window_start: now,
                attempts: 1,
                expires_at: now + window_secs,
            };
            let started = self
                .client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(to_item(key, &record)?))
                .condition_expression("attribute_not_exists(PK) OR windowStart <= :cutoff")
                .expression_attribute_values(":cutoff", number(cutoff))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(()),
                Err(err) => match StoreError::from(err) {
                    // Another request opened the window first: add to it.
                    StoreError::ConditionFailed => {}
                    other => return Err(other),
                },
            }
        }
        Ok(())
    }

    /// Stores a new session, clearing the email's failed-login window when there was one.
    pub async fn open_session(&self, session: &SessionRecord, clear_throttle: Option<&Key>) -> Result<(), StoreError> {
        let item = to_item(&keys::session(session.user_id, session.session_id), session)?;
        match clear_throttle {
            None => {
                self.client()
                    .put_item()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .send()
                    .await?;
            }
            Some(throttle) => {
                self.client()
                    .transact_write_items()
                    .transact_items(TransactWriteItem::builder().put(self.put(item)).build())
                    .transact_items(
                        TransactWriteItem::builder()
                            .delete(self.delete(throttle).build().expect("key is set"))
                            .build(),
                    )
                    .send()
                    .await?;
            }
        }
        Ok(())
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
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(keys::session(user, session).primary()))
            .send()
            .await?;
        Ok(())
    }

    /// Revokes every session of `user` (password reset).
    pub async fn delete_all_sessions(&self, user: UserId) -> Result<usize, StoreError> {
        let keys = self
            .query_keys(&keys::user_partition(user), keys::SESSION_PREFIX)
            .await?;
        self.delete_keys(&keys).await?;
        Ok(keys.len())
    }

    /// The profile and its addresses in one query (`ADDR#…` sorts before `PROFILE`).
    pub async fn user_with_addresses(
        &self,
        user: UserId,
    ) -> Result<Option<(UserRecord, Vec<AddressRecord>)>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", string(keys::user_partition(user)))
                    .expression_attribute_values(":from", string(keys::ADDRESS_PREFIX))
                    .expression_attribute_values(":to", string(keys::PROFILE))
                    .consistent_read(true)
            })
            .await?;
        let mut profile = None;
        let mut addresses = Vec::new();
        for item in items {
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
    /// copy of the names changes in the same transaction. Fails at index 0 when stale.
    pub async fn update_profile(
        &self,
        user: UserId,
        email: &Email,
        changes: &ProfileChanges,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut sets = vec!["version = version + :one", "updatedAt = :now"];
        let mut removes = Vec::new();
        let mut update = self
            .update(&keys::user_profile(user), "")
            .condition_expression("attribute_exists(PK) AND version = :expected")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":now", string(now.to_string()))
            .expression_attribute_values(":expected", number(expected_version));
        let mut names = Vec::new();
        if let Some(first) = &changes.first_name {
            sets.push("firstName = :first");
            names.push(("firstName = :first", ":first", first.as_str()));
            update = update.expression_attribute_values(":first", string(first.as_str()));
        }
        if let Some(last) = &changes.last_name {
            sets.push("lastName = :last");
            names.push(("lastName = :last", ":last", last.as_str()));
            update = update.expression_attribute_values(":last", string(last.as_str()));
        }
        match &changes.phone_number {
            Some(Some(phone)) => {
                sets.push("phoneNumber = :phone");
                update = update.expression_attribute_values(":phone", string(phone.as_str()));
            }
            Some(None) => removes.push("phoneNumber"),
            None => {}
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let profile = update
            .update_expression(expression)
            .build()
            .expect("key and expression are set");
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(profile).build());
        if !names.is_empty() {
            let expression = format!(
                "SET {}",
                names.iter().map(|(set, _, _)| *set).collect::<Vec<_>>().join(", ")
            );
            let mut login_copy = self
                .update(&keys::credentials(email), &expression)
                .condition_expression("attribute_exists(PK)");
            for (_, placeholder, value) in &names {
                login_copy = login_copy.expression_attribute_values(*placeholder, string(*value));
            }
            transaction = transaction.transact_items(
                TransactWriteItem::builder()
                    .update(login_copy.build().expect("key is set"))
                    .build(),
            );
        }
        transaction.send().await?;
        Ok(())
    }

    /// Adds an address, counting it against `max` and making it the default when
    /// asked or when the user has none. Fails at index 1 when the limit is reached.
    pub async fn create_address(
        &self,
        user: UserId,
        address: &AddressRecord,
        make_default: bool,
        max: u32,
    ) -> Result<(), StoreError> {
        let item = to_item(&keys::address(user, address.address_id), address)?;
        let default_expression = if make_default {
            "defaultAddressId = :id"
        } else {
            "defaultAddressId = if_not_exists(defaultAddressId, :id)"
        };
        let profile = self
            .update(
                &keys::user_profile(user),
                &format!("SET {default_expression}, addressCount = if_not_exists(addressCount, :zero) + :one"),
            )
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(addressCount) OR addressCount < :max)",
            )
            .expression_attribute_values(":id", string(address.address_id.to_string()))
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":max", number(max))
            .build()
            .expect("key is set");
        self.client()
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(with_condition_put(self.put(item), "attribute_not_exists(PK)"))
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().update(profile).build())
            .send()
            .await?;
        Ok(())
    }

    /// Replaces an address if it is still at `expected_version` (index 0 fails when
    /// stale or gone); `default_change` moves or clears the profile's default.
    pub async fn update_address(
        &self,
        user: UserId,
        address: &AddressRecord,
        expected_version: u64,
        default_change: Option<bool>,
    ) -> Result<(), StoreError> {
        let item = to_item(&keys::address(user, address.address_id), address)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_exists(PK) AND version = :expected")
            .expression_attribute_values(":expected", number(expected_version))
            .build()
            .expect("table and item are set");
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build());
        let id = string(address.address_id.to_string());
        let profile = match default_change {
            Some(true) => Some(
                self.update(&keys::user_profile(user), "SET defaultAddressId = :id")
                    .expression_attribute_values(":id", id),
            ),
            Some(false) => Some(
                self.update(&keys::user_profile(user), "REMOVE defaultAddressId")
                    .condition_expression("defaultAddressId = :id")
                    .expression_attribute_values(":id", id),
            ),
            None => None,
        };
        if let Some(profile) = profile {
            transaction = transaction.transact_items(
                TransactWriteItem::builder()
                    .update(profile.build().expect("key is set"))
                    .build(),
            );
        }
        transaction.send().await?;
        Ok(())
    }

    /// Deletes an address; `was_default` must match the profile (index 1 fails otherwise).
    pub async fn delete_address(&self, user: UserId, address: AddressId, was_default: bool) -> Result<(), StoreError> {
        let id = string(address.to_string());
        let profile = if was_default {
            self.update(
                &keys::user_profile(user),
                "ADD addressCount :minus REMOVE defaultAddressId",
            )
            .condition_expression("defaultAddressId = :id")
        } else {
            self.update(&keys::user_profile(user), "ADD addressCount :minus")
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(defaultAddressId) OR defaultAddressId <> :id)",
                )
        }
        .expression_attribute_values(":id", id)
        .expression_attribute_values(":minus", number(-1))
        .build()
        .expect("key is set");
        let address = self
            .delete(&keys::address(user, address))
            .condition_expression("attribute_exists(PK)")
            .build()
            .expect("key is set");
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(address).build())
            .transact_items(TransactWriteItem::builder().update(profile).build())
            .send()
            .await?;
        Ok(())
    }

    /// Newest users first, one page, with the total; the count and the page are read concurrently.
    pub async fn list_users(&self, page: u32, limit: u32) -> Result<(Vec<UserRecord>, u64), StoreError> {
        let (items, total) = self
            .query_page(keys::GSI1, "GSI1PK", keys::ALL_USERS, false, page, limit)
            .await?;
        let users = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<UserRecord>, _>>()?;
        Ok((users, total))
    }

    pub async fn credentials(&self, email: &Email) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(&keys::credentials(email)).await
    }

    /// Sets the role on both the profile and the login record.
    pub async fn set_role(&self, user: UserId, email: &Email, role: Role) -> Result<(), StoreError> {
        let value = string(role.as_str());
        let profile = self
            .update(&keys::user_profile(user), "SET #role = :role")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", value.clone())
            .build()
            .expect("key is set");
        let login = self
            .update(&keys::credentials(email), "SET #role = :role")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", value)
            .build()
            .expect("key is set");
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(profile).build())
            .transact_items(TransactWriteItem::builder().update(login).build())
            .send()
            .await?;
        Ok(())
    }

    pub async fn create_reset(&self, digest: &str, reset: &ResetRecord) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&keys::password_reset(digest), reset)?))
            .send()
            .await?;
        Ok(())
    }

    pub async fn reset(&self, digest: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.read(&keys::password_reset(digest)).await
    }

    /// Uses the reset token (index 0 fails when used or expired) and sets the new hash.
    pub async fn consume_reset(
        &self,
        digest: &str,
        reset: &ResetRecord,
        hash: &PasswordHash,
        now: i64,
    ) -> Result<(), StoreError> {
        let token = self
            .delete(&keys::password_reset(digest))
            .condition_expression("attribute_exists(PK) AND expiresAt > :now")
            .expression_attribute_values(":now", number(now))
            .build()
            .expect("key is set");
        let hash = serde_dynamo::to_attribute_value(hash)?;
        let login = self
            .update(&keys::credentials(&reset.email), "SET passwordHash = :hash")
            .condition_expression("attribute_exists(PK) AND userId = :user")
            .expression_attribute_values(":hash", hash)
            .expression_attribute_values(":user", string(reset.user_id.to_string()))
            .build()
            .expect("key is set");
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(token).build())
            .transact_items(TransactWriteItem::builder().update(login).build())
            .send()
            .await?;
        Ok(())
    }

    // ---- generic helpers ----

    /// Every item a query returns, following pagination.
    pub async fn query_all(
        &self,
        build: impl Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = build(self.client().query().table_name(self.table()))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Primary keys of the items of `partition` whose SK starts with `prefix`.
    pub async fn query_keys(&self, partition: &str, prefix: &str) -> Result<Vec<Key>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":pk", string(partition))
                    .expression_attribute_values(":prefix", string(prefix))
                    .projection_expression("PK, SK")
            })
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|item| {
                let pk = item.get(keys::PK)?.as_s().ok()?.clone();
                let sk = item.get(keys::SK)?.as_s().ok()?.clone();
                Some(Key::new(pk, sk))
            })
            .collect())
    }

    /// Deletes `keys` (BatchWriteItem).
    pub async fn delete_keys(&self, keys: &[Key]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let requests = keys
            .iter()
            .map(|key| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key.primary()))
                            .build()
                            .expect("key is set"),
                    )
                    .build()
            })
            .collect();
        self.write_batches(requests).await
    }

    /// Sends `requests` in batches of 25, retrying unprocessed ones with backoff.
    pub async fn write_batches(&self, requests: Vec<aws_sdk_dynamodb::types::WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0..8u32 {
                let output = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), pending)
                    .send()
                    .await?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut tables| tables.remove(self.table()))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
            if !pending.is_empty() {
                return Err(StoreError::Request(Box::new(std::io::Error::other(format!(
                    "{} writes still unprocessed after retries",
                    pending.len()
                )))));
            }
        }
        Ok(())
    }

    /// One page (1-based) of a partition of `index`, and the partition's size.
    /// The count and the page are read concurrently: one round trip of latency.
    /// A page deep in a large partition reads every item before it.
    pub async fn query_page(
        &self,
        index: &str,
        pk_name: &str,
        pk_value: &str,
        ascending: bool,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<Item>, u64), StoreError> {
        self.query_page_in(index, (pk_name, pk_value), None, ascending, page, limit)
            .await
    }

    /// [`Self::query_page`], restricted to sort keys between two bounds when given.
    pub async fn query_page_in(
        &self,
        index: &str,
        (pk_name, pk_value): (&str, &str),
        between: Option<(&str, (String, String))>,
        ascending: bool,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<Item>, u64), StoreError> {
        let condition = match &between {
            Some((sk_name, _)) => format!("{pk_name} = :pk AND {sk_name} BETWEEN :from AND :to"),
            None => format!("{pk_name} = :pk"),
        };
        let query = || {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression(&condition)
                .expression_attribute_values(":pk", string(pk_value));
            if let Some((_, (from, to))) = &between {
                query = query
                    .expression_attribute_values(":from", string(from))
                    .expression_attribute_values(":to", string(to));
            }
            query
        };
        let count = async {
            let mut total = 0u64;
            let mut start = None;
            loop {
                let output = query()
                    .select(Select::Count)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                total += u64::try_from(output.count).unwrap_or(0);
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => return Ok::<_, StoreError>(total),
                }
            }
        };
        let items = async {
            let skip = u64::from(page.saturating_sub(1)) * u64::from(limit);
            let wanted = skip + u64::from(limit);
            let mut seen = 0u64;
            let mut kept = Vec::new();
            let mut start = None;
            while seen < wanted {
                let batch = i32::try_from((wanted - seen).min(1000)).unwrap_or(1000);
                let output = query()
                    .scan_index_forward(ascending)
                    .limit(batch)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                for item in output.items.unwrap_or_default() {
                    if seen >= skip && seen < wanted {
                        kept.push(item);
                    }
                    seen += 1;
                }
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
            Ok::<_, StoreError>(kept)
        };
        let (total, items) = futures::try_join!(count, items)?;
        Ok((items, total))
    }
}

fn with_condition_put(put: Put, condition: &str) -> Put {
    Put::builder()
        .table_name(put.table_name)
        .set_item(Some(put.item))
        .condition_expression(condition)
        .build()
        .expect("table and item are set")
}
