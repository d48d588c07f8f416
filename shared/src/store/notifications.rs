//! Sent notifications (one record per message, also the customer's history) and
//! notification settings.

use serde::{Deserialize, Serialize};

use super::keys::{self, Index, Key};
use super::table::{Expr, Query};
use super::{Store, StoreError, string, to_item};
use crate::domain::{Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Delivery {
    /// Claimed by a consumer that is sending it now.
    Sending,
    Sent,
    /// Not sent on purpose (the customer opted out of this kind).
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRecord {
    pub message_id: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub recipient: String,
    pub subject: String,
    pub delivery: Delivery,
    pub claimed_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
}

fn record_key(record: &NotificationRecord) -> Key {
    keys::notification(&record.message_id, record.user_id, &record.claimed_at.to_string())
}

/// A customer's choices: transactional mail always goes; `marketing` covers the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettings {
    pub marketing: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self { marketing: true }
    }
}

/// What claiming a message found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This consumer sends it now.
    Claimed,
    /// Sent (or skipped) before: nothing to do.
    Done,
    /// Another consumer claimed it moments ago: try later.
    Busy,
}

impl Store {
    /// Claims a message for sending. A claim older than `stale_after_secs` (its
    /// consumer died mid-send) can be taken over: the mail may then go twice, never zero times.
    pub async fn claim_notification(
        &self,
        record: &NotificationRecord,
        stale_after_secs: i64,
    ) -> Result<Claim, StoreError> {
        let free = Expr::new("attribute_not_exists(PK) OR (delivery = :sending AND claimedAt < :stale)")
            .value(":sending", string("SENDING"))
            .value(
                ":stale",
                string(record.claimed_at.plus_seconds(-stale_after_secs).to_string()),
            );
        match self.put(to_item(&record_key(record), record)?, Some(free)).await {
            Ok(()) => Ok(Claim::Claimed),
            Err(StoreError::ConditionFailed) => {
                let existing = self.notification(&record.message_id).await?;
                Ok(match existing.map(|r| r.delivery) {
                    Some(Delivery::Sending) => Claim::Busy,
                    _ => Claim::Done,
                })
            }
            Err(err) => Err(err),
        }
    }

    pub async fn notification(&self, message_id: &str) -> Result<Option<NotificationRecord>, StoreError> {
        self.read(&keys::notification_key(message_id)).await
    }

    /// Gives up a claim whose mail could not be sent, so the next delivery of the
    /// message tries again at once (only this consumer's claim is removed).
    pub async fn release_notification(&self, record: &NotificationRecord) -> Result<(), StoreError> {
        let mine = Expr::new("delivery = :sending AND claimedAt = :mine")
            .value(":sending", string("SENDING"))
            .value(":mine", string(record.claimed_at.to_string()));
        match self.delete(&record_key(record), Some(mine)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Records the outcome of a claimed message.
    pub async fn finish_notification(&self, record: &NotificationRecord) -> Result<(), StoreError> {
        self.put(to_item(&record_key(record), record)?, None).await
    }

    /// A customer's notifications, newest first, with the total.
    pub async fn notification_history(
        &self,
        user: UserId,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<NotificationRecord>, u64), StoreError> {
        let query = Query::index(Index::Gsi1, keys::customer_notifications(user)).descending();
        self.query_page_records(&query, page, limit).await
    }

    pub async fn notification_settings(&self, user: UserId) -> Result<NotificationSettings, StoreError> {
        Ok(self.read(&keys::notification_settings(user)).await?.unwrap_or_default())
    }

    pub async fn save_notification_settings(
        &self,
        user: UserId,
        settings: &NotificationSettings,
    ) -> Result<(), StoreError> {
        self.put(to_item(&keys::notification_settings(user), settings)?, None)
            .await
    }
}
