//! Stock reservation: what the inventory-reservation consumer and the
//! order-sweeper do. Every step is one transaction conditioned on the order's
//! current reservation state, so a duplicate or late message changes nothing.

use serde::Serialize;

use super::checkout::backoff;
use super::{Orders, entry};
use crate::domain::{OrderId, OrderStatus, ReservationStatus, Timestamp};
use crate::messages::{InventoryAction, InventoryMessage};
use crate::store::StoreError;
use crate::store::orders::{OrderChange, OrderRecord};

/// Attempts of a reservation transaction that conflicts with another one on the same products.
const CONFLICT_ATTEMPTS: u32 = 12;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Unpaid reservations that expired: cancelled and their stock given back.
    pub expired: usize,
    /// Orders stuck without a reservation, or paid but not yet fulfilled when
    /// their hold ran out: their reservation or fulfilment message sent again.
    pub redriven: usize,
}

/// The outcome of handling one message or step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Done,
    /// Nothing to do: the message was a duplicate, late, or for an unknown order.
    Skipped,
}

impl Orders {
    /// Handles one inventory message. An `Err` means "try again later" (the
    /// consumer reports it as a batch item failure).
    #[tracing::instrument(skip_all, fields(messageId = %message.id))]
    pub async fn handle_inventory(&self, message: &InventoryMessage) -> Result<Handled, StoreError> {
        match &message.action {
            InventoryAction::Reserve { order_id } => self.reserve(*order_id).await,
            InventoryAction::Release { order_id, reason } => self.release(*order_id, reason).await,
            InventoryAction::Commit { order_id } => self.commit(*order_id).await,
        }
    }

    /// Retries `change` while it conflicts with concurrent transactions.
    async fn retrying(&self, order: &OrderRecord, change: &OrderChange, stock: Option<bool>) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            match self.store.change_order(order, change, stock).await {
                Err(err) if err.is_transaction_conflict() && attempt < CONFLICT_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Holds every line of a pending order, or cancels it as out of stock.
    async fn reserve(&self, order_id: OrderId) -> Result<Handled, StoreError> {
        let Some(order) = self.store.order(order_id).await? else {
            tracing::warn!(orderId = %order_id, "reserve for an unknown order");
            return Ok(Handled::Skipped);
        };
        if order.reservation != ReservationStatus::Pending || order.status != OrderStatus::Pending {
            return Ok(Handled::Skipped);
        }
        let now = Timestamp::now();
        let expires = now.unix() + i64::try_from(self.settings.reservation_ttl.as_secs()).unwrap_or(900);
        let change = OrderChange {
            reservation: ReservationStatus::Reserved,
            reservation_expires_at: Some(expires),
            ..OrderChange::from(&order, now)
        };
        match self.retrying(&order, &change, Some(true)).await {
            Ok(()) => {
                tracing::info!(orderId = %order_id, "stock reserved");
                Ok(Handled::Done)
            }
            // The order moved on (a duplicate message, or cancelled meanwhile).
            Err(err) if err.failed_condition_at(0) => Ok(Handled::Skipped),
            // A stock condition failed: some line is short, nothing was held.
            Err(err) if err.failed_condition_after(0) => {
                let cancelled = OrderChange {
                    release_coupon: self.coupon_to_release(&order).await?,
                    status: OrderStatus::Cancelled,
                    reservation: ReservationStatus::Failed,
                    reservation_expires_at: None,
                    cancel_reason: Some("out_of_stock".into()),
                    entry: Some(entry(OrderStatus::Cancelled, now, Some("out_of_stock".into()))),
                    ..OrderChange::from(&order, now)
                };
                match self.retrying(&order, &cancelled, None).await {
                    Ok(()) => {
                        tracing::info!(orderId = %order_id, "order cancelled: out of stock");
                        self.notify(&order, OrderStatus::Cancelled, Some("out_of_stock".into()))
                            .await;
                        Ok(Handled::Done)
                    }
                    Err(err) if err.failed_condition_at(0) => Ok(Handled::Skipped),
                    Err(err) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Gives held (or sold, not shipped) stock back and cancels the order.
    async fn release(&self, order_id: OrderId, reason: &str) -> Result<Handled, StoreError> {
        let Some(order) = self.store.order(order_id).await? else {
            return Ok(Handled::Skipped);
        };
        self.cancel_with_release(&order, reason).await
    }

    /// Cancels `order` and returns its stock in one transaction, if its state allows.
    pub(crate) async fn cancel_with_release(&self, order: &OrderRecord, reason: &str) -> Result<Handled, StoreError> {
        let holds_stock = matches!(
            order.reservation,
            ReservationStatus::Reserved | ReservationStatus::Committed
        );
        if !order.status.customer_can_cancel()
            || matches!(
                order.reservation,
                ReservationStatus::Released | ReservationStatus::Failed
            )
        {
            return Ok(Handled::Skipped);
        }
        let now = Timestamp::now();
        let release_coupon = self.coupon_to_release(order).await?;
        let change = OrderChange {
            release_coupon,
            status: OrderStatus::Cancelled,
            reservation: ReservationStatus::Released,
            reservation_expires_at: None,
            cancel_reason: Some(reason.to_owned()),
            entry: Some(entry(OrderStatus::Cancelled, now, Some(reason.to_owned()))),
            ..OrderChange::from(order, now)
        };
        let mut result = self.retrying(order, &change, holds_stock.then_some(false)).await;
        if let Err(err) = &result
            && !err.failed_condition_at(0)
            && err.failed_condition_after(0)
        {
            // A product, variant or coupon is gone since: return what still exists.
            let existing = self.existing_quantities(order).await?;
            tracing::warn!(orderId = %order.order_id, "some stock or coupon of a cancelled order no longer exists");
            let fallback = OrderChange {
                release_coupon: false,
                ..change.clone()
            };
            result = self
                .store
                .change_order_moving(order, &fallback, holds_stock.then_some((false, existing)))
                .await;
        }
        match result {
            Ok(()) => {
                tracing::info!(orderId = %order.order_id, reason, "order cancelled, stock released");
                self.notify(order, OrderStatus::Cancelled, Some(reason.to_owned()))
                    .await;
                if matches!(
                    order.payment_status,
                    crate::domain::PaymentStatus::Paid | crate::domain::PaymentStatus::PartiallyRefunded
                ) {
                    // Paid and cancelled before shipping: the money goes back.
                    let refund = crate::messages::FulfillmentMessage::new(crate::messages::FulfillmentAction::Refund {
                        order_id: order.order_id,
                        reason: reason.to_owned(),
                    });
                    if let Err(err) = self.fulfillment.send(&refund).await {
                        tracing::error!(orderId = %order.order_id, error = %crate::http::error_chain(&err), "refund request not queued");
                    }
                }
                Ok(Handled::Done)
            }
            Err(err) if err.failed_condition_at(0) => Ok(Handled::Skipped),
            Err(err) => Err(err),
        }
    }

    /// The order's quantities of products and variants that still exist.
    pub(crate) async fn existing_quantities(
        &self,
        order: &OrderRecord,
    ) -> Result<crate::store::orders::StockQuantities, StoreError> {
        let ids: Vec<_> = order.lines.iter().map(|l| l.product_id).collect();
        let products = self.store.products(&ids).await?;
        Ok(order
            .quantities()
            .into_iter()
            .filter(|((product, variant), _)| {
                products.iter().any(|p| {
                    p.product_id == *product && variant.is_none_or(|v| p.variants.contains_key(&v.to_string()))
                })
            })
            .collect())
    }

    /// True when cancelling `order` should give its coupon use back: it used one
    /// and the coupon still exists (a deleted coupon has nothing to give back to).
    async fn coupon_to_release(&self, order: &OrderRecord) -> Result<bool, StoreError> {
        match &order.coupon_code {
            Some(code) if order.status != OrderStatus::Cancelled => Ok(self.store.coupon(code).await?.is_some()),
            _ => Ok(false),
        }
    }

    /// Marks held stock as sold once the order is paid.
    async fn commit(&self, order_id: OrderId) -> Result<Handled, StoreError> {
        let Some(order) = self.store.order(order_id).await? else {
            return Ok(Handled::Skipped);
        };
        if order.reservation != ReservationStatus::Reserved {
            return Ok(Handled::Skipped);
        }
        let change = OrderChange {
            reservation: ReservationStatus::Committed,
            reservation_expires_at: None,
            ..OrderChange::from(&order, Timestamp::now())
        };
        match self.retrying(&order, &change, None).await {
            Ok(()) => Ok(Handled::Done),
            Err(err) if err.failed_condition_at(0) => Ok(Handled::Skipped),
            Err(err) => Err(err),
        }
    }

    /// The sweeper: cancels unpaid reservations that expired (their stock given
    /// back exactly once) and re-sends the reservation of orders stuck pending.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, StoreError> {
        let redrive_before = now.unix() - i64::try_from(self.settings.redrive_after.as_secs()).unwrap_or(120);
        let (expired, stuck) = futures::try_join!(
            self.store.due_reservations(ReservationStatus::Reserved, now.unix()),
            self.store.due_reservations(ReservationStatus::Pending, redrive_before),
        )?;
        let mut report = SweepReport::default();
        for order in &expired {
            if order.status == OrderStatus::Confirmed && order.payment_status == crate::domain::PaymentStatus::Paid {
                // Paid in time, but its fulfilment message was lost or is late: ask again (fulfilling is idempotent).
                let fulfil = crate::messages::FulfillmentMessage::new(crate::messages::FulfillmentAction::Fulfill {
                    order_id: order.order_id,
                });
                match self.fulfillment.send(&fulfil).await {
                    Ok(()) => report.redriven += 1,
                    Err(err) => {
                        tracing::error!(orderId = %order.order_id, error = %crate::http::error_chain(&err), "fulfilment not re-sent");
                    }
                }
                continue;
            }
            if order.status != OrderStatus::Pending {
                continue;
            }
            // One order that cannot be handled must not hold up the others.
            match self.cancel_with_release(order, "reservation_expired").await {
                Ok(Handled::Done) => report.expired += 1,
                Ok(Handled::Skipped) => {}
                Err(err) => {
                    tracing::error!(orderId = %order.order_id, error = %crate::http::error_chain(&err), "expired reservation not released");
                }
            }
        }
        for order in &stuck {
            self.request(InventoryAction::Reserve {
                order_id: order.order_id,
            })
            .await;
            report.redriven += 1;
        }
        tracing::info!(expired = report.expired, redriven = report.redriven, "sweep done");
        Ok(report)
    }
}
