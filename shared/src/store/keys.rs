//! Every key of the single table, built in one place.
//!
//! Generic key attributes `PK`/`SK`, overloaded indexes `GSI1`…`GSI3`
//! (`GSInPK`/`GSInSK`, projection ALL), TTL attribute `expiresAt` (epoch seconds;
//! reads ignore expired items because deletion lags).
//!
//! | entity / access pattern            | PK                              | SK                | index keys                                  | operation |
//! |------------------------------------|---------------------------------|-------------------|---------------------------------------------|-----------|
//! | user profile                       | `USER#<userId>`                 | `PROFILE`         | GSI1: `USERS` / `<userId>` (admin list, newest first) | GetItem |
//! | user's addresses                   | `USER#<userId>`                 | `ADDR#<addressId>`|                                             | Query     |
//! | profile + addresses in one read    | `USER#<userId>`                 | between `ADDR#` and `PROFILE` |                                 | Query     |
//! | login credentials by email         | `EMAIL#<email>`                 | `CREDENTIALS`     |                                             | GetItem (also the email uniqueness marker) |
//! | refresh-token session (family)     | `USER#<userId>`                 | `SESSION#<sessionId>` |                                         | UpdateItem (rotate), Query (revoke all) |
//! | login throttle per email / per IP  | `THROTTLE#LOGIN#EMAIL#<email>` / `THROTTLE#LOGIN#IP#<ip>` | `THROTTLE` |                | BatchGetItem, UpdateItem |
//! | password-reset token               | `RESET#<sha256(token)>`         | `RESET`           |                                             | GetItem, TransactWrite (single use) |
//! | all users (admin)                  | GSI1 `USERS`                    | GSI1SK `<userId>` |                                             | Query (ULIDs sort by creation) |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::ids::SessionId;
use crate::domain::{AddressId, Email, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const TTL: &str = "expiresAt";

pub const PROFILE: &str = "PROFILE";
pub const ADDRESS_PREFIX: &str = "ADDR#";
pub const SESSION_PREFIX: &str = "SESSION#";
pub const ALL_USERS: &str = "USERS";

/// A primary key plus the index keys an item carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
    pub indexes: Vec<(&'static str, String)>,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            indexes: Vec::new(),
        }
    }

    /// Adds `GSIn` keys (`n` is 1-based).
    pub fn with_index(mut self, index: u8, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        let (pk_name, sk_name) = match index {
            1 => ("GSI1PK", "GSI1SK"),
            2 => ("GSI2PK", "GSI2SK"),
            _ => ("GSI3PK", "GSI3SK"),
        };
        self.indexes.push((pk_name, pk.into()));
        self.indexes.push((sk_name, sk.into()));
        self
    }

    /// The primary key alone, for GetItem/UpdateItem/DeleteItem.
    pub fn primary(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    pub fn write_into(&self, item: &mut HashMap<String, AttributeValue>) {
        item.extend(self.primary());
        for (name, value) in &self.indexes {
            item.insert((*name).to_owned(), AttributeValue::S(value.clone()));
        }
    }
}

pub fn user_partition(user: UserId) -> String {
    format!("USER#{user}")
}

pub fn user_profile(user: UserId) -> Key {
    Key::new(user_partition(user), PROFILE).with_index(1, ALL_USERS, user.to_string())
}

pub fn address(user: UserId, address: AddressId) -> Key {
    Key::new(user_partition(user), format!("{ADDRESS_PREFIX}{address}"))
}

pub fn credentials(email: &Email) -> Key {
    Key::new(format!("EMAIL#{email}"), "CREDENTIALS")
}

pub fn session(user: UserId, session: SessionId) -> Key {
    Key::new(user_partition(user), format!("{SESSION_PREFIX}{session}"))
}

pub fn login_throttle_by_email(email: &Email) -> Key {
    Key::new(format!("THROTTLE#LOGIN#EMAIL#{email}"), "THROTTLE")
}

pub fn login_throttle_by_ip(ip: &str) -> Key {
    Key::new(format!("THROTTLE#LOGIN#IP#{ip}"), "THROTTLE")
}

pub fn password_reset(token_digest: &str) -> Key {
    Key::new(format!("RESET#{token_digest}"), "RESET")
}
