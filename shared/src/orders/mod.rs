//! Orders: checkout, reading, cancelling and moving orders along, and the
//! stock reservation behind them (consumer and sweeper).

mod checkout;
mod fulfillment;
mod reservation;
mod status;
mod views;

pub use checkout::{AddressChoice, CheckoutRequest};
pub use reservation::{Handled, SweepReport};
pub use status::StatusChange;
pub use views::{OrderSummaryView, OrderView};

use crate::config::CommerceSettings;
use crate::domain::{OrderStatus, Timestamp};
use crate::http::{ApiError, error_chain};
use crate::messages::{InventoryAction, InventoryMessage, Notification, NotificationMessage, Queue};
use crate::store::Store;
use crate::store::orders::{OrderRecord, TimelineEntry};

/// Everything the orders service needs; built once per cold start.
#[derive(Debug)]
pub struct Orders {
    pub store: Store,
    pub settings: CommerceSettings,
    pub inventory: Queue,
    pub notifications: Queue,
    pub fulfillment: Queue,
}

impl Orders {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::new(clients.dynamodb.clone(), &config.table_name),
            settings: config.commerce.clone(),
            inventory: Queue::new(clients.sqs.clone(), &config.queues.inventory),
            notifications: Queue::new(clients.sqs.clone(), &config.queues.notifications),
            fulfillment: Queue::new(clients.sqs.clone(), &config.queues.fulfillment),
        }
    }

    /// Tells the customer about a status change. The order has already changed:
    /// a lost notification is logged, not returned.
    async fn notify(&self, order: &OrderRecord, status: OrderStatus, note: Option<String>) {
        self.notify_tracked(order, status, note, None).await;
    }

    /// [`Self::notify`] with where a shipped order can be followed.
    async fn notify_tracked(
        &self,
        order: &OrderRecord,
        status: OrderStatus,
        note: Option<String>,
        tracking: Option<&crate::store::orders::Tracking>,
    ) {
        let message = NotificationMessage::new(Notification::OrderStatus {
            order_id: order.order_id,
            user_id: order.user_id,
            email: order.email.clone(),
            status,
            note,
            total: Some(crate::domain::Money::from_cents(order.totals.total)),
            tracking: tracking.map(|t| crate::messages::TrackingNote {
                carrier: t.carrier.clone(),
                tracking_number: t.tracking_number.clone(),
                url: t.url.clone(),
            }),
        });
        if let Err(err) = self.notifications.send(&message).await {
            tracing::error!(orderId = %order.order_id, error = %error_chain(&err), "order notification not queued");
        }
    }

    /// Asks the inventory consumer to act. When the send fails the sweeper re-drives
    /// pending reservations, so this is logged rather than returned.
    async fn request(&self, action: InventoryAction) {
        let message = InventoryMessage::new(action);
        if let Err(err) = self.inventory.send(&message).await {
            tracing::error!(message = ?message, error = %error_chain(&err), "inventory message not queued");
        }
    }
}

fn entry(status: OrderStatus, at: Timestamp, note: Option<String>) -> TimelineEntry {
    TimelineEntry {
        status,
        timestamp: at,
        note,
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("Order")
}
