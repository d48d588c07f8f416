//! Messages on the SQS queues, shared by producers and consumers.

use serde::{Deserialize, Serialize};

use crate::domain::{Email, Money, OrderId, OrderStatus, ProductId, Timestamp, UserId};
use crate::store::outbox::{Destination, OutboxRecord};

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
    /// An order changed status (received, confirmed, processing, shipped, delivered,
    /// cancelled, refunded). `tracking` comes with shipped; `note` carries the reason
    /// of a cancellation (`out_of_stock`, `reservation_expired`, …).
    OrderStatus {
        order_id: OrderId,
        user_id: UserId,
        email: Email,
        status: OrderStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<Money>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<TrackingNote>,
    },
    /// Money of an order's payment went back (`full` when all of it has now).
    Refund {
        order_id: OrderId,
        user_id: UserId,
        email: Email,
        amount: Money,
        total_refunded: Money,
        full: bool,
    },
    /// A payment attempt for an order failed; the order stays payable until its reservation expires.
    PaymentFailed {
        order_id: OrderId,
        user_id: UserId,
        email: Email,
        reason: String,
    },
    /// A product fell to or below its low-stock threshold (sent to the operations address).
    LowStock {
        product_id: ProductId,
        name: String,
        sku: String,
        stock: i64,
        threshold: i64,
    },
}

/// Where a shipped order can be followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingNote {
    pub carrier: String,
    pub tracking_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Notification {
    /// Transactional mail always goes; the rest honours the customer's settings.
    pub fn is_transactional(&self) -> bool {
        !matches!(self, Self::Welcome { .. } | Self::LowStock { .. })
    }

    /// The customer this is about (none for operations alerts).
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::Welcome { user_id, .. }
            | Self::PasswordReset { user_id, .. }
            | Self::OrderStatus { user_id, .. }
            | Self::Refund { user_id, .. }
            | Self::PaymentFailed { user_id, .. } => Some(*user_id),
            Self::LowStock { .. } => None,
        }
    }

    /// The order this is about, if any.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            Self::OrderStatus { order_id, .. }
            | Self::Refund { order_id, .. }
            | Self::PaymentFailed { order_id, .. } => Some(*order_id),
            Self::Welcome { .. } | Self::PasswordReset { .. } | Self::LowStock { .. } => None,
        }
    }

    /// A stable name for logs, records and settings (`order_shipped`, `password_reset`, …).
    pub fn kind(&self) -> String {
        match self {
            Self::Welcome { .. } => "welcome".into(),
            Self::PasswordReset { .. } => "password_reset".into(),
            Self::OrderStatus { status, .. } => format!("order_{status}"),
            Self::Refund { full: true, .. } => "order_refunded".into(),
            Self::Refund { full: false, .. } => "order_partially_refunded".into(),
            Self::PaymentFailed { .. } => "payment_failed".into(),
            Self::LowStock { .. } => "low_stock".into(),
        }
    }
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
    /// Hold every line of the order (or cancel it as out of stock).
    Reserve { order_id: OrderId },
}

/// Work for the order-fulfillment consumer, sent once an order is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentMessage {
    pub id: String,
    #[serde(flatten)]
    pub action: FulfillmentAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum FulfillmentAction {
    /// A paid order: sell its held stock and start preparing it.
    Fulfill { order_id: OrderId },
    /// Money taken for an order that cannot use it (cancelled, or paid after
    /// its cancellation): give back `amount`, or all that is left when absent.
    Refund {
        order_id: OrderId,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Money>,
    },
}

impl InventoryAction {
    pub fn order_id(&self) -> OrderId {
        match self {
            Self::Reserve { order_id } => *order_id,
        }
    }
}

impl FulfillmentAction {
    pub fn order_id(&self) -> OrderId {
        match self {
            Self::Fulfill { order_id } | Self::Refund { order_id, .. } => *order_id,
        }
    }
}

/// A message for one of the queues, before the outbox gives it an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Inventory(InventoryAction),
    Fulfillment(FulfillmentAction),
    Notification(Notification),
}

impl Outgoing {
    pub fn destination(&self) -> Destination {
        match self {
            Self::Inventory(_) => Destination::Inventory,
            Self::Fulfillment(_) => Destination::Fulfillment,
            Self::Notification(_) => Destination::Notifications,
        }
    }

    /// The order the message is about, if any.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            Self::Inventory(action) => Some(action.order_id()),
            Self::Fulfillment(action) => Some(action.order_id()),
            Self::Notification(notification) => notification.order_id(),
        }
    }

    /// The outbox record that sends this message once the change that wrote it commits.
    pub fn into_outbox(self, now: Timestamp) -> OutboxRecord {
        self.into_outbox_with_id(ulid::Ulid::new().to_string(), now)
    }

    /// [`Self::into_outbox`] with a message id of the caller's: a message sent
    /// again under the same id is recognised by its consumer.
    pub fn into_outbox_with_id(self, message_id: String, now: Timestamp) -> OutboxRecord {
        let order_id = self.order_id();
        let destination = self.destination();
        let id = message_id.clone();
        // Serialising these plain enums cannot fail: their maps have string keys.
        let body = match self {
            Self::Inventory(action) => serde_json::to_string(&InventoryMessage { id, action }),
            Self::Fulfillment(action) => serde_json::to_string(&FulfillmentMessage { id, action }),
            Self::Notification(notification) => serde_json::to_string(&NotificationMessage { id, notification }),
        }
        .unwrap_or_default();
        OutboxRecord {
            message_id,
            destination,
            body,
            order_id,
            request_id: crate::logging::request_id(),
            created_at: now,
        }
    }
}

impl FulfillmentMessage {
    pub fn new(action: FulfillmentAction) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            action,
        }
    }
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
