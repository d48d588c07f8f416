//! Messages on the SQS queues, shared by producers and consumers.

use serde::{Deserialize, Serialize};

use crate::domain::{Email, OrderId, OrderStatus, Timestamp, UserId};

/// A notification to send. `id` makes redelivered messages recognisable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationMessage {
    pub id: String,
    #[serde(flatten)]
    pub notification: Notification,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Notification {
    Welcome {
        user_id: UserId,
        email: Email,
        first_name: String,
    },
    PasswordReset {
        user_id: UserId,
        email: Email,
        first_name: String,
        token: String,
        expires_at: Timestamp,
    },
    /// An order changed status (received, confirmed, shipped, cancelled, …).
    OrderStatus {
        order_id: OrderId,
        user_id: UserId,
        email: Email,
        status: OrderStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

/// A request to the inventory-reservation consumer. `id` identifies one send;
/// the order's reservation state makes every action idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryMessage {
    pub id: String,
    #[serde(flatten)]
    pub action: InventoryAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum InventoryAction {
    /// Hold every line of the order.
    Reserve { order_id: OrderId },
    /// Give the held stock back (the order is cancelled).
    Release { order_id: OrderId, reason: String },
    /// The order is paid: the held stock is sold.
    Commit { order_id: OrderId },
}

impl InventoryMessage {
    pub fn new(action: InventoryAction) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            action,
        }
    }
}

impl NotificationMessage {
    pub fn new(notification: Notification) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            notification,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not send to queue {queue}")]
pub struct SendError {
    queue: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// One SQS queue that messages of type `T` are sent to.
#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> Result<(), SendError> {
        let wrap = |source: Box<dyn std::error::Error + Send + Sync>| SendError {
            queue: self.url.clone(),
            source,
        };
        let body = serde_json::to_string(message).map_err(|err| wrap(Box::new(err)))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|err| wrap(Box::new(err)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_tagged_by_type() {
        let message = NotificationMessage::new(Notification::Welcome {
            user_id: UserId::generate(),
            email: Email::parse("jane@example.com").unwrap(),
            first_name: "Jane".into(),
        });
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["type"], "welcome");
        assert_eq!(json["firstName"], "Jane");
        let back: NotificationMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);
    }
}
