//! A paid order's next step: its held stock is sold, its purchases recorded,
//! and it moves to processing. Conditioned on its state, so a redelivered
//! message changes nothing.

use super::reservation::Handled;
use super::{Orders, entry};
use crate::domain::{OrderId, OrderStatus, PaymentStatus, ReservationStatus, Timestamp};
use crate::store::StoreError;
use crate::store::orders::OrderChange;

impl Orders {
    #[tracing::instrument(skip_all, fields(orderId = %order_id))]
    pub async fn fulfill(&self, order_id: OrderId) -> Result<Handled, StoreError> {
        let Some(order) = self.store.order(order_id).await? else {
            return Ok(Handled::Skipped);
        };
        let held = matches!(
            order.reservation,
            ReservationStatus::Reserved | ReservationStatus::Committed
        );
        if order.status != OrderStatus::Confirmed || order.payment_status != PaymentStatus::Paid || !held {
            return Ok(Handled::Skipped);
        }
        let now = Timestamp::now();
        // Purchases first (plain puts, safe to repeat): a retry after a failure
        // here finds the order still confirmed and does both again.
        self.record_purchases(&order, now)
            .await
            .map_err(|err| StoreError::Request(Box::new(std::io::Error::other(err.to_string()))))?;
        let change = OrderChange {
            status: OrderStatus::Processing,
            reservation: ReservationStatus::Committed,
            reservation_expires_at: None,
            entry: Some(entry(OrderStatus::Processing, now, None)),
            ..OrderChange::from(&order, now)
        };
        match self.store.change_order(&order, &change, None).await {
            Ok(()) => {}
            Err(err) if err.failed_condition_at(0) => return Ok(Handled::Skipped),
            Err(err) => return Err(err),
        }
        self.notify(&order, OrderStatus::Processing, None).await;
        tracing::info!("order fulfilled: processing");
        Ok(Handled::Done)
    }
}
