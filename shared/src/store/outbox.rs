//! The transactional outbox: a queue message of a change is written as an item
//! in the change's own transaction, and sent from the table's stream (or, if
//! that failed for good, re-driven by the sweeper from the pending index), then
//! deleted. A committed change therefore never loses its message.

use serde::{Deserialize, Serialize};

use super::keys::{self, Index};
use super::table::Query;
use super::{Item, Store, StoreError, to_item};
use crate::domain::{OrderId, Timestamp};

/// Which queue a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    Inventory,
    Fulfillment,
    Notifications,
}

impl Destination {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inventory => "inventory",
            Self::Fulfillment => "fulfillment",
            Self::Notifications => "notifications",
        }
    }
}

/// One message waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxRecord {
    /// The message's own id (a ULID), also inside `body`: consumers recognise a redelivery by it.
    pub message_id: String,
    pub destination: Destination,
    /// The message as JSON, exactly as it is sent.
    pub body: String,
    /// The order the message is about, if any (for tracing one order's path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// The id of the request whose change wrote the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub created_at: Timestamp,
}

impl OutboxRecord {
    /// The message's creation time in milliseconds, read from its ULID.
    pub fn created_millis(&self) -> i64 {
        ulid::Ulid::from_string(&self.message_id)
            .map(|id| i64::try_from(id.timestamp_ms()).unwrap_or(i64::MAX))
            .unwrap_or_else(|_| self.created_at.unix() * 1000)
    }

    /// The item to write in the change's transaction.
    pub fn item(&self) -> Result<Item, StoreError> {
        to_item(&keys::outbox(&self.message_id, self.created_millis()), self)
    }

    /// True when `item` (e.g. from the table's stream) is an outbox message.
    pub fn is_outbox_item(pk: &str) -> bool {
        pk.starts_with(keys::OUTBOX_PREFIX)
    }
}

impl Store {
    /// Messages written before `before_millis` and still not sent, oldest first.
    pub async fn pending_outbox(&self, before_millis: i64) -> Result<Vec<OutboxRecord>, StoreError> {
        self.query_records(&Query::index(Index::Gsi3, keys::PENDING_OUTBOX).before(keys::outbox_before(before_millis)))
            .await
    }

    /// Forgets messages that were sent.
    pub async fn delete_outbox(&self, message_ids: &[&str]) -> Result<(), StoreError> {
        let keys: Vec<_> = message_ids.iter().map(|id| keys::outbox_key(id)).collect();
        self.delete_keys(&keys).await
    }
}
