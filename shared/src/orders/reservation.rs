//! Stock reservation: what the inventory-reservation consumer and the
//! order-sweeper do. Each step is an event of the lifecycle, so a duplicate or
//! late message changes nothing.

use serde::Serialize;

use super::lifecycle::Event;
use super::{Applied, ApplyError, Orders};
use crate::domain::{OrderStatus, ReservationStatus, Timestamp};
use crate::messages::{InventoryAction, InventoryMessage};
use crate::store::StoreError;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Unpaid reservations that expired: cancelled and their stock given back.
    pub expired: usize,
    /// Outbox messages whose delivery from the table's stream had failed, sent again.
    pub redriven: usize,
    /// Pending orders stuck for [`OVERDUE_AFTER_SECS`] or more (see [`Orders::sweep`]).
    pub overdue: usize,
}

/// How long a pending order may wait for its reservation, or stay held past
/// its expiry, before the sweeper counts it as stuck.
pub const OVERDUE_AFTER_SECS: i64 = 300;

/// The outcome of handling one message or step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Done,
    /// Nothing to do: the message was a duplicate, late, or for an unknown order.
    Skipped,
}

impl From<Result<Applied, ApplyError>> for Handled {
    fn from(result: Result<Applied, ApplyError>) -> Self {
        match result {
            Ok(applied) if applied.changed() => Self::Done,
            _ => Self::Skipped,
        }
    }
}

/// A consumer's view of an applied event: refusals and unknown orders are
/// nothing to do (the order moved on); only infrastructure errors are retried.
pub(crate) fn handled(result: Result<Applied, ApplyError>) -> Result<Handled, StoreError> {
    match result {
        Err(ApplyError::Store(err)) => Err(err),
        Err(ApplyError::Contended) => Err(StoreError::Unavailable(Box::new(std::io::Error::other(
            "the order kept changing",
        )))),
        other => Ok(Handled::from(other)),
    }
}

impl Orders {
    /// Handles one inventory message. An `Err` means "try again later" (the
    /// consumer reports it as a batch item failure).
    #[tracing::instrument(skip_all, fields(messageId = %message.id, orderId = %message.action.order_id()))]
    pub async fn handle_inventory(&self, message: &InventoryMessage) -> Result<Handled, StoreError> {
        let ttl = i64::try_from(self.settings.reservation_ttl.as_secs()).unwrap_or(900);
        let InventoryAction::Reserve { order_id } = &message.action;
        let result = self
            .apply(*order_id, |_| Event::Reserved {
                expires_at: Timestamp::now().unix() + ttl,
            })
            .await;
        handled(result)
    }

    /// The sweeper: cancels unpaid reservations that expired (their stock given
    /// back exactly once), and sends again outbox messages whose delivery failed.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, StoreError> {
        let expired = self.store.expired_holds(now.unix()).await?;
        let mut report = SweepReport::default();
        for order in expired {
            let order_id = order.order_id;
            // One order that cannot be handled must not hold up the others.
            match handled(self.apply_to(order, |_| Event::HoldExpired { at: now.unix() }).await) {
                Ok(Handled::Done) => report.expired += 1,
                Ok(Handled::Skipped) => {}
                Err(err) => {
                    tracing::error!(orderId = %order_id, error = %crate::http::error_chain(&err), "expired reservation not released");
                }
            }
        }
        let age = i64::try_from(self.settings.redrive_after.as_secs()).unwrap_or(120);
        let delivery = self.outbox.redrive(now, age).await?;
        report.redriven = delivery.sent;
        report.overdue = self.overdue(now).await?;
        crate::metrics::value(crate::metrics::Metric::OrdersOverdue, report.overdue as f64)
            .and(crate::metrics::Metric::OutboxBacklog, report.redriven as f64)
            .emit();
        tracing::info!(
            expired = report.expired,
            redriven = report.redriven,
            overdue = report.overdue,
            "sweep done"
        );
        Ok(report)
    }

    /// Pending orders of the last day that are stuck: their stock still not
    /// looked at [`OVERDUE_AFTER_SECS`] after checkout (the inventory queue is
    /// not being consumed), or still held that long after their hold expired
    /// (the sweeper cannot release it).
    async fn overdue(&self, now: Timestamp) -> Result<usize, StoreError> {
        let bound = |at: i64| {
            let millis = u64::try_from(at.max(0)).unwrap_or(0) * 1000;
            format!(
                "{}_{}",
                crate::domain::OrderId::PREFIX,
                ulid::Ulid::from_parts(millis, 0)
            )
        };
        let range = (bound(now.unix() - 24 * 3600), bound(now.unix() - OVERDUE_AFTER_SECS));
        let pending = self.store.orders_created(OrderStatus::Pending, range).await?;
        Ok(pending
            .iter()
            .filter(|order| match order.reservation {
                ReservationStatus::Pending => true,
                ReservationStatus::Reserved => order
                    .reservation_expires_at
                    .is_some_and(|expiry| expiry < now.unix() - OVERDUE_AFTER_SECS),
                _ => false,
            })
            .count())
    }
}
