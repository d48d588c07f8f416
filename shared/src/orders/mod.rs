//! Orders: checkout, reading, cancelling and moving orders along, and the
//! stock reservation behind them. Every change goes through the pure
//! [`lifecycle`] and is written by [`Orders::apply`].

mod checkout;
mod fulfillment;
pub mod lifecycle;
mod reservation;
mod status;
mod views;

pub use checkout::{AddressChoice, CheckoutRequest};
pub use reservation::{Handled, SweepReport};
pub use status::StatusChange;
pub use views::{OrderSummaryView, OrderView};

use std::collections::BTreeMap;

use lifecycle::{Effect, Event, Refusal, Transition};

use crate::config::CommerceSettings;
use crate::domain::{OrderId, OrderStatus, PaymentStatus, ReservationStatus, Timestamp};
use crate::http::ApiError;
use crate::metrics::{self, Metric};
use crate::outbox::Outbox;
use crate::shipping::RulesCache;
use crate::store::orders::{OrderRecord, OrderWrite, OrderWrites, StockMove, StockQuantities};
use crate::store::table::TxError;
use crate::store::{Store, StoreError};

/// Everything the orders service needs; built once per cold start.
#[derive(Debug)]
pub struct Orders {
    pub store: Store,
    pub settings: CommerceSettings,
    pub outbox: Outbox,
    /// Shipping zones and tax rates, for checkout.
    rules: RulesCache,
}

/// What applying an event to an order came to.
#[derive(Debug, Clone)]
pub enum Applied {
    /// The change was written; the transition holds the new order.
    Changed(Transition),
    /// Nothing to change (a duplicate, or an event that came too late).
    Unchanged(OrderRecord),
}

impl Applied {
    pub fn order(&self) -> &OrderRecord {
        match self {
            Self::Changed(transition) => &transition.order,
            Self::Unchanged(order) => order,
        }
    }

    pub fn changed(&self) -> bool {
        matches!(self, Self::Changed(_))
    }
}

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("no such order")]
    NotFound,
    /// The order's state does not allow the command.
    #[error("{refusal}")]
    Refused { refusal: Refusal, order: Box<OrderRecord> },
    /// The order kept changing under this writer.
    #[error("the order kept changing")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ApplyError> for ApiError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::NotFound => not_found(),
            ApplyError::Refused { refusal, .. } => ApiError::new(
                crate::http::ErrorCode::InvalidCartOperation,
                capitalised(&refusal.to_string()),
            ),
            ApplyError::Contended => ApiError::unavailable(error),
            ApplyError::Store(err) => err.into(),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Attempts of one change: lost races (re-read and decide again) and transaction conflicts.
const APPLY_ATTEMPTS: u32 = 12;

/// What a change writes besides the order, when the first attempt found
/// products, variants or the coupon gone.
#[derive(Debug, Default)]
struct Fallback {
    /// Only these units go back (the rest belongs to products deleted since).
    returned: Option<StockQuantities>,
    /// The coupon is gone: no use to give back.
    keep_coupon: bool,
}

impl Orders {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::new(clients.dynamodb().clone(), &config.table_name),
            settings: config.commerce.clone(),
            outbox: Outbox::from_config(config, clients),
            rules: RulesCache::from_config(config, clients),
        }
    }

    /// Reads the order and applies the event `event` makes of it (see [`Self::apply_to`]).
    pub async fn apply(&self, order: OrderId, event: impl Fn(&OrderRecord) -> Event) -> Result<Applied, ApplyError> {
        let order = self.store.order(order).await?.ok_or(ApplyError::NotFound)?;
        self.apply_to(order, event).await
    }

    /// Decides `event` on `order` as read and writes the result conditioned on
    /// its version; when another change got there first, reads the order again
    /// and decides again. Stock that cannot be held turns the change into
    /// [`Event::OutOfStock`]; stock or a coupon that no longer exists is left out.
    #[tracing::instrument(skip_all, fields(orderId = %order.order_id))]
    pub async fn apply_to(
        &self,
        mut order: OrderRecord,
        event: impl Fn(&OrderRecord) -> Event,
    ) -> Result<Applied, ApplyError> {
        let mut fallback = Fallback::default();
        let mut out_of_stock = false;
        for attempt in 1..=APPLY_ATTEMPTS {
            let now = Timestamp::now();
            let event = if out_of_stock { Event::OutOfStock } else { event(&order) };
            let transition = match lifecycle::decide(&order, &event, now) {
                Ok(Some(transition)) => transition,
                Ok(None) => {
                    let applied_before = event.stripe_event().is_some_and(|id| {
                        order
                            .payment
                            .as_ref()
                            .is_some_and(|p| p.applied_events.iter().any(|e| e == id))
                    });
                    if applied_before {
                        metrics::count(Metric::DuplicateWebhooks).order(order.order_id).emit();
                    }
                    return Ok(Applied::Unchanged(order));
                }
                Err(refusal) => {
                    return Err(ApplyError::Refused {
                        refusal,
                        order: Box::new(order),
                    });
                }
            };
            let writes = self.writes(&transition, &fallback, now);
            let Err(error) = self.store.write_transition(&order, &transition.order, &writes).await else {
                tracing::info!(
                    event = event.name(),
                    from = %order.status,
                    to = %transition.order.status,
                    reservation = transition.order.reservation.as_str(),
                    payment = ?transition.order.payment_status,
                    version = transition.order.version,
                    "order changed"
                );
                measure(&event, &order, &transition.order);
                return Ok(Applied::Changed(transition));
            };
            match error {
                TxError::Refused(ref failed) if failed.contains(&OrderWrite::Order) => {
                    order = self.store.order(order.order_id).await?.ok_or(ApplyError::NotFound)?;
                }
                TxError::Refused(ref failed) if transition.effects.contains(&Effect::TakeStock) => {
                    tracing::info!(short = ?failed, "stock cannot be held");
                    out_of_stock = true;
                }
                TxError::Refused(failed) => {
                    let stock_gone = failed.iter().any(|f| matches!(f, OrderWrite::Stock(_)));
                    let coupon_gone = failed
                        .iter()
                        .any(|f| matches!(f, OrderWrite::Coupon | OrderWrite::CouponUse));
                    if (!stock_gone || fallback.returned.is_some()) && (!coupon_gone || fallback.keep_coupon) {
                        return Err(TxError::Refused(failed).into_store().into());
                    }
                    if stock_gone {
                        tracing::warn!("some products of the order no longer exist; their stock is not returned");
                        fallback.returned = Some(self.existing_quantities(&order).await?);
                    }
                    if coupon_gone {
                        tracing::warn!("the order's coupon no longer exists; no use is given back");
                        fallback.keep_coupon = true;
                    }
                }
                TxError::Store(err) if err.is_transaction_conflict() => {
                    tokio::time::sleep(checkout::backoff(attempt)).await;
                }
                TxError::Store(err) => return Err(err.into()),
            }
        }
        Err(ApplyError::Contended)
    }

    /// The writes that go with `transition`.
    fn writes(&self, transition: &Transition, fallback: &Fallback, now: Timestamp) -> OrderWrites {
        let order = &transition.order;
        let mut writes = OrderWrites::default();
        for effect in &transition.effects {
            match effect {
                Effect::TakeStock => writes.stock = Some(StockMove::Take(order.quantities())),
                Effect::ReturnStock => {
                    let quantities = fallback.returned.clone().unwrap_or_else(|| order.quantities());
                    writes.stock = (!quantities.is_empty()).then_some(StockMove::Return(quantities));
                }
                Effect::ReleaseCoupon if !fallback.keep_coupon => writes.release_coupon = order.coupon_code.clone(),
                Effect::ReleaseCoupon => {}
                Effect::RecordPurchases => writes.purchases = order.purchases(now),
                Effect::LinkPayment { intent_id } => writes.payment_link = Some(intent_id.clone()),
                Effect::Send(message) => writes.outbox.push(message.clone().into_outbox(now)),
            }
        }
        writes
    }

    /// The order's quantities of products and variants that still exist.
    async fn existing_quantities(&self, order: &OrderRecord) -> Result<StockQuantities, StoreError> {
        let ids: Vec<_> = order.lines.iter().map(|l| l.product_id).collect();
        let products: BTreeMap<_, _> = self
            .store
            .products(&ids)
            .await?
            .into_iter()
            .map(|p| (p.product_id, p))
            .collect();
        Ok(order
            .quantities()
            .into_iter()
            .filter(|((product, variant), _)| {
                products
                    .get(product)
                    .is_some_and(|p| variant.is_none_or(|v| p.variants.contains_key(&v.to_string())))
            })
            .collect())
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("Order")
}

/// The business metrics of one change of an order: a cancellation (by
/// reason), stock held, a payment taken or failed, money refunded.
fn measure(event: &Event, before: &OrderRecord, after: &OrderRecord) {
    let id = after.order_id;
    if after.status == OrderStatus::Cancelled && before.status != OrderStatus::Cancelled {
        let reason = match event {
            Event::OutOfStock => "out_of_stock",
            Event::HoldExpired { .. } => "expired",
            Event::Cancel {
                by: lifecycle::Actor::Admin,
                ..
            } => "admin",
            Event::Cancel {
                by: lifecycle::Actor::Customer,
                ..
            } => "customer",
            _ => "system",
        };
        metrics::count(Metric::OrdersCancelled)
            .dimension("reason", reason)
            .order(id)
            .emit();
    }
    if after.reservation == ReservationStatus::Reserved && before.reservation != ReservationStatus::Reserved {
        metrics::count(Metric::ReservationsHeld).order(id).emit();
    }
    if after.payment_status == PaymentStatus::Paid
        && before.payment_status != PaymentStatus::Paid
        && matches!(event, Event::PaymentSucceeded { .. })
    {
        metrics::count(Metric::PaymentsSucceeded).order(id).emit();
    }
    if matches!(event, Event::PaymentFailed { .. }) {
        metrics::count(Metric::PaymentsFailed).order(id).emit();
    }
    let refunded = after.refunded() - before.refunded();
    if refunded > crate::domain::Money::ZERO {
        metrics::count(Metric::Refunds)
            .and(Metric::RefundedAmount, refunded.cents() as f64 / 100.0)
            .order(id)
            .emit();
    }
}
