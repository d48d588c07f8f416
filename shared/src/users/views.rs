//! Response shapes of the users API (see openapi.yaml).

use serde::Serialize;

use crate::domain::{AddressId, AddressInput, Role, Timestamp, UserId};
use crate::store::users::{AddressRecord, UserRecord};

/// What a registration answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredUser {
    pub user_id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub created_at: Timestamp,
}

/// The `user` of a login response, and a row of the admin user list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub user_id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

impl From<&UserRecord> for UserSummary {
    fn from(user: &UserRecord) -> Self {
        Self {
            user_id: user.user_id,
            email: user.email.to_string(),
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            role: user.role,
            created_at: Some(user.created_at),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    pub address_id: AddressId,
    #[serde(flatten)]
    pub fields: AddressInput,
    pub is_default: bool,
    pub version: u64,
}

impl AddressView {
    pub fn new(record: &AddressRecord, default: Option<AddressId>) -> Self {
        Self {
            address_id: record.address_id,
            fields: record.fields(),
            is_default: default == Some(record.address_id),
            version: record.version,
        }
    }
}

/// The profile (`GET /api/v1/users/profile`), with `role` and the `version` used for optimistic updates.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub user_id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    pub role: Role,
    pub addresses: Vec<AddressView>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ProfileView {
    pub fn new(user: &UserRecord, mut addresses: Vec<AddressRecord>) -> Self {
        // Oldest first: ids are ULIDs.
        addresses.sort_by_key(|address| address.address_id);
        Self {
            user_id: user.user_id,
            email: user.email.to_string(),
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            phone_number: user.phone_number.as_ref().map(|phone| phone.as_str().to_owned()),
            role: user.role,
            addresses: addresses
                .iter()
                .map(|a| AddressView::new(a, user.default_address_id))
                .collect(),
            version: user.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }

    /// The strong ETag of this version of the profile.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}
