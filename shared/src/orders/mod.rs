//! Orders: checkout, reading, cancelling and moving orders along, and the
//! stock reservation behind them (consumer and sweeper).

mod checkout;
mod reservation;
mod status;
mod views;

pub use checkout::{AddressChoice, CheckoutRequest};
pub use reservation::SweepReport;
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
}

impl Orders {
    /// Tells the customer about a status change. The order has already changed:
    /// a lost notification is logged, not returned.
    async fn notify(&self, order: &OrderRecord, status: OrderStatus, note: Option<String>) {
        let message = NotificationMessage::new(Notification::OrderStatus {
            order_id: order.order_id,
            user_id: order.user_id,
            email: order.email.clone(),
            status,
            note,
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
