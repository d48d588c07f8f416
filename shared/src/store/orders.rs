//! Orders, their idempotency records and payment lookups.
//!
//! An order item is only ever written whole, conditioned on the `version` it
//! was read at, in one transaction with everything the change implies (stock,
//! coupon uses, purchases, payment link, outbox messages): see
//! [`Store::write_transition`]. What a change is, is decided by the pure
//! lifecycle in [`crate::orders::lifecycle`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cart::CartOwner;
use super::coupons::CouponRecord;
use super::keys::{self, Index, Key};
use super::outbox::OutboxRecord;
use super::products::ProductRecord;
use super::reviews::PurchaseRecord;
use super::table::{Expr, Query, Transaction, TxError};
use super::{Item, Store, StoreError, from_item, number, to_item};
use crate::domain::money::cents;
use crate::domain::{
    AddressInput, CouponCode, Email, Money, OrderId, OrderStatus, PaymentStatus, ProductId, ReservationStatus,
    ShippingMethodId, Sku, TaxRateId, Timestamp, UserId, VariantId, ZoneId,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: ProductId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub name: String,
    /// Options of the variant bought (`{"Size": "M"}`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Unit price at purchase.
    #[serde(with = "cents")]
    pub price: Money,
    pub quantity: u32,
    #[serde(with = "cents")]
    pub subtotal: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    #[serde(with = "cents")]
    pub subtotal: Money,
    #[serde(with = "cents")]
    pub discount: Money,
    #[serde(with = "cents")]
    pub tax: Money,
    #[serde(with = "cents")]
    pub shipping: Money,
    #[serde(with = "cents")]
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub status: OrderStatus,
    pub timestamp: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    pub carrier: String,
    pub tracking_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: String,
    /// A payment-provider token (never card data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The shipping method an order took, as it was at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingChoiceRecord {
    pub method_id: ShippingMethodId,
    pub name: String,
    pub zone_id: ZoneId,
    /// What the order paid for it (0 when the order reached its free-above amount).
    #[serde(with = "cents")]
    pub price: Money,
    pub min_days: u32,
    pub max_days: u32,
}

/// The tax rate an order paid, as it was at checkout: a configured rate, or
/// none of them (no rate for the destination: 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedTaxRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_id: Option<TaxRateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub rate_bps: u32,
    pub applies_to_shipping: bool,
    #[serde(with = "cents")]
    pub amount: Money,
}

/// A refund of an order's payment, as Stripe reports it (one entry per Stripe refund id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRecord {
    pub refund_id: String,
    #[serde(with = "cents")]
    pub amount: Money,
    /// Stripe's status: `succeeded` or `pending` count; `failed` and `canceled` do not.
    pub status: String,
    pub created_at: Timestamp,
}

impl RefundRecord {
    /// True when the refund gives (or will give) the money back.
    pub fn counts(&self) -> bool {
        !matches!(self.status.as_str(), "failed" | "canceled")
    }
}

/// How many Stripe event ids an order remembers, so a redelivered event is recognised.
pub const REMEMBERED_EVENTS: usize = 20;

/// The order's Stripe PaymentIntent as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    pub intent_id: String,
    /// What the intent asks for.
    #[serde(with = "cents")]
    pub amount: Money,
    pub currency: String,
    /// Stripe's status of the intent (`requires_payment_method`, `succeeded`, …).
    pub status: String,
    /// What Stripe took (0 until the payment succeeds).
    #[serde(default, with = "cents")]
    pub amount_captured: Money,
    /// The sum of the counted refunds.
    #[serde(default, with = "cents")]
    pub amount_refunded: Money,
    #[serde(default)]
    pub refunds: Vec<RefundRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The money arrived when the order could no longer use it (it was
    /// cancelled, or paid otherwise): it all goes back, and its refund leaves
    /// the order as it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unusable: bool,
    /// Ids of the Stripe events applied to the order, newest last (at most [`REMEMBERED_EVENTS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_events: Vec<String>,
    pub updated_at: Timestamp,
}

impl PaymentRecord {
    /// A payment just started for `amount`.
    pub fn started(intent_id: impl Into<String>, amount: Money, currency: impl Into<String>, now: Timestamp) -> Self {
        Self {
            intent_id: intent_id.into(),
            amount,
            currency: currency.into(),
            status: "requires_payment_method".into(),
            amount_captured: Money::ZERO,
            amount_refunded: Money::ZERO,
            refunds: Vec::new(),
            last_error: None,
            unusable: false,
            applied_events: Vec::new(),
            updated_at: now,
        }
    }

    /// What was taken; payments recorded before `amountCaptured` existed took their whole amount.
    pub fn captured(&self) -> Money {
        if self.amount_captured == Money::ZERO && self.status == "succeeded" {
            self.amount
        } else {
            self.amount_captured
        }
    }
}

/// Which order a PaymentIntent belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentLookup {
    pub order_id: OrderId,
    pub user_id: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub email: Email,
    pub status: OrderStatus,
    pub reservation: ReservationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_expires_at: Option<i64>,
    pub payment_status: PaymentStatus,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<CouponCode>,
    pub shipping_address: AddressInput,
    pub billing_address: AddressInput,
    /// The method chosen at checkout, when the shop has shipping zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<ShippingChoiceRecord>,
    /// The tax rate applied at checkout, when the shop has tax rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<AppliedTaxRecord>,
    pub payment_method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    pub timeline: Vec<TimelineEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// The Stripe payment of the order, once one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentRecord>,
    pub estimated_delivery: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Counts the order's changes: every write is conditioned on the version read.
    #[serde(default)]
    pub version: u64,
}

/// Units per product or variant of an order.
pub type StockQuantities = BTreeMap<(ProductId, Option<VariantId>), i64>;

impl OrderRecord {
    /// The order's keys for its state (the sweeper's index only while unpaid stock is held).
    pub fn key(&self) -> Key {
        let held = (self.status == OrderStatus::Pending && self.reservation == ReservationStatus::Reserved)
            .then_some(self.reservation_expires_at)
            .flatten();
        keys::order(self.order_id, self.user_id, self.status, held)
    }

    /// Units per product or variant (lines of the same item are summed).
    pub fn quantities(&self) -> StockQuantities {
        let mut quantities = BTreeMap::new();
        for line in &self.lines {
            *quantities.entry((line.product_id, line.variant_id)).or_default() += i64::from(line.quantity);
        }
        quantities
    }

    /// What the payment took.
    pub fn captured(&self) -> Money {
        self.payment.as_ref().map_or(Money::ZERO, PaymentRecord::captured)
    }

    /// What was given back of it.
    pub fn refunded(&self) -> Money {
        self.payment.as_ref().map_or(Money::ZERO, |p| p.amount_refunded)
    }

    /// The products bought, once each, as purchase records.
    pub fn purchases(&self, at: Timestamp) -> Vec<PurchaseRecord> {
        let mut seen = std::collections::BTreeSet::new();
        self.lines
            .iter()
            .filter(|line| seen.insert(line.product_id))
            .map(|line| PurchaseRecord {
                user_id: self.user_id,
                product_id: line.product_id,
                order_id: self.order_id.to_string(),
                purchased_at: at,
            })
            .collect()
    }
}

/// The result of an `Idempotency-Key`: which order a request created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: OrderId,
    pub expires_at: i64,
}

/// Everything a checkout needs besides the cart, read in one BatchGetItem.
#[derive(Debug, Default)]
pub struct CheckoutReads {
    pub products: Vec<ProductRecord>,
    pub coupon: Option<CouponRecord>,
    /// How many times this customer has used the coupon.
    pub coupon_uses: i64,
}

/// The items of the transactions that write orders, so a failed condition reads as what failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderWrite {
    /// The order is new (checkout) or still at the version read.
    Order,
    /// The same `Idempotency-Key` placed an order first.
    Idempotency,
    /// The cart changed since it was priced.
    Cart,
    /// The coupon is used up (checkout) or gone (giving a use back).
    Coupon,
    /// The customer used the coupon as often as allowed, or the use record is gone.
    CouponUse,
    /// Too little stock of the product (taking), or it is gone (giving back).
    Stock(ProductId),
    PaymentLink,
    Purchase,
    Outbox,
}

/// Stock an order change moves, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockMove {
    /// Hold these units (each product must have enough).
    Take(StockQuantities),
    /// Give these units back (each product and variant must still exist).
    Return(StockQuantities),
}

/// One committed order change: the new order and what goes with it.
#[derive(Debug, Clone, Default)]
pub struct OrderWrites {
    pub stock: Option<StockMove>,
    /// The coupon use the order counted goes back.
    pub release_coupon: Option<CouponCode>,
    pub purchases: Vec<PurchaseRecord>,
    /// Links a PaymentIntent to the order.
    pub payment_link: Option<String>,
    pub outbox: Vec<OutboxRecord>,
}

impl Store {
    pub async fn order(&self, id: OrderId) -> Result<Option<OrderRecord>, StoreError> {
        self.read(&keys::order_key(id)).await
    }

    pub async fn payment_lookup(&self, intent: &str) -> Result<Option<PaymentLookup>, StoreError> {
        self.read(&keys::payment_lookup(intent)).await
    }

    pub async fn idempotency(
        &self,
        user: UserId,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let record: Option<IdempotencyRecord> = self.read(&keys::idempotency(user, key)).await?;
        Ok(record.filter(|r| r.expires_at > now))
    }

    /// Products, the coupon and the customer's uses of it, in one BatchGetItem.
    pub async fn checkout_reads(
        &self,
        products: &[ProductId],
        coupon: Option<&CouponCode>,
        user: UserId,
    ) -> Result<CheckoutReads, StoreError> {
        // BatchGetItem refuses a key asked twice (two variants of one product).
        let mut ids = products.to_vec();
        ids.sort();
        ids.dedup();
        let mut wanted: Vec<Item> = ids.iter().map(|id| keys::product_key(*id).primary()).collect();
        let coupon_keys = coupon.map(|code| (keys::coupon_key(code), keys::coupon_use(code, user)));
        if let Some((coupon, uses)) = &coupon_keys {
            wanted.push(coupon.primary());
            wanted.push(uses.primary());
        }
        let mut reads = CheckoutReads::default();
        for item in self.batch_get(wanted).await? {
            match &coupon_keys {
                Some((coupon, _)) if coupon.matches(&item) => reads.coupon = Some(from_item(item)?),
                Some((_, uses)) if uses.matches(&item) => {
                    reads.coupon_uses = item
                        .get("count")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                }
                _ => reads.products.push(from_item(item)?),
            }
        }
        Ok(reads)
    }

    /// One transaction: the new order, its idempotency record, the cart removed
    /// (unchanged since it was priced), the coupon's usage counted within its
    /// limits, and the order's first messages in the outbox.
    pub async fn place_order(
        &self,
        order: &OrderRecord,
        idempotency: Option<(&str, &IdempotencyRecord)>,
        cart: (&CartOwner, u64),
        coupon: Option<&CouponRecord>,
        outbox: &[OutboxRecord],
    ) -> Result<(), TxError<OrderWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(OrderWrite::Order, to_item(&order.key(), order)?, Some(Expr::absent()));
        if let Some((key, record)) = idempotency {
            // A record past its expiry (TTL deletion lags) may be replaced.
            tx.put(
                OrderWrite::Idempotency,
                to_item(&keys::idempotency(order.user_id, key), record)?,
                Some(
                    Expr::new("attribute_not_exists(PK) OR expiresAt < :now")
                        .value(":now", number(order.created_at.unix())),
                ),
            );
        }
        let (owner, version) = cart;
        tx.delete(
            OrderWrite::Cart,
            &owner.key(),
            Some(Expr::new("version = :version").value(":version", number(version))),
        );
        if let Some(coupon) = coupon {
            let mut usage =
                Expr::new("isActive = :active").value(":active", aws_sdk_dynamodb::types::AttributeValue::Bool(true));
            if let Some(limit) = coupon.usage_limit {
                usage = Expr::new("isActive = :active AND (attribute_not_exists(usedCount) OR usedCount < :limit)")
                    .value(":active", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                    .value(":limit", number(limit));
            }
            tx.update(
                OrderWrite::Coupon,
                &keys::coupon_key(&coupon.code),
                Expr::new("ADD usedCount :one").value(":one", number(1)),
                Some(usage),
            );
            let mine = coupon.per_customer_limit.map(|limit| {
                Expr::new("attribute_not_exists(#count) OR #count < :limit")
                    .name("#count", "count")
                    .value(":limit", number(limit))
            });
            tx.update(
                OrderWrite::CouponUse,
                &keys::coupon_use(&coupon.code, order.user_id),
                Expr::new("ADD #count :one")
                    .name("#count", "count")
                    .value(":one", number(1)),
                mine,
            );
        }
        for message in outbox {
            tx.put(OrderWrite::Outbox, message.item()?, Some(Expr::absent()));
        }
        self.commit(tx).await
    }

    /// Replaces `before` with `after` if the stored order is still at
    /// `before`'s version, together with everything in `writes`.
    pub async fn write_transition(
        &self,
        before: &OrderRecord,
        after: &OrderRecord,
        writes: &OrderWrites,
    ) -> Result<(), TxError<OrderWrite>> {
        let mut tx = Transaction::new(self);
        let unchanged = if before.version == 0 {
            // Orders written before versions were counted.
            Expr::new("attribute_exists(PK) AND attribute_not_exists(#version)").name("#version", "version")
        } else {
            Expr::new("#version = :version")
                .name("#version", "version")
                .value(":version", number(before.version))
        };
        tx.put(OrderWrite::Order, to_item(&after.key(), after)?, Some(unchanged));
        if let Some(stock) = &writes.stock {
            stock_updates(&mut tx, stock);
        }
        if let Some(code) = &writes.release_coupon {
            let give_back = |attribute: &str| {
                (
                    Expr::new("ADD #counter :minus")
                        .name("#counter", attribute)
                        .value(":minus", number(-1)),
                    Expr::new("attribute_exists(PK) AND #counter > :zero").value(":zero", number(0)),
                )
            };
            let (update, condition) = give_back("usedCount");
            tx.update(OrderWrite::Coupon, &keys::coupon_key(code), update, Some(condition));
            let (update, condition) = give_back("count");
            tx.update(
                OrderWrite::CouponUse,
                &keys::coupon_use(code, after.user_id),
                update,
                Some(condition),
            );
        }
        for purchase in &writes.purchases {
            tx.put(
                OrderWrite::Purchase,
                to_item(&keys::purchase(purchase.user_id, purchase.product_id), purchase)?,
                None,
            );
        }
        if let Some(intent) = &writes.payment_link {
            let lookup = PaymentLookup {
                order_id: after.order_id,
                user_id: after.user_id,
            };
            tx.put(
                OrderWrite::PaymentLink,
                to_item(&keys::payment_lookup(intent), &lookup)?,
                None,
            );
        }
        for message in &writes.outbox {
            tx.put(OrderWrite::Outbox, message.item()?, Some(Expr::absent()));
        }
        self.commit(tx).await
    }

    /// A customer's orders, newest first (every order is read; a customer's history is small).
    pub async fn customer_orders(&self, user: UserId) -> Result<Vec<OrderRecord>, StoreError> {
        self.query_records(&Query::index(Index::Gsi1, keys::customer_orders(user)).descending())
            .await
    }

    /// Orders with `status`, newest first, created between the two ids' instants
    /// (ULIDs sort by time), one page with the total.
    pub async fn orders_by_status(
        &self,
        status: OrderStatus,
        range: (String, String),
        page: u32,
        limit: u32,
    ) -> Result<(Vec<OrderRecord>, u64), StoreError> {
        let query = Query::index(Index::Gsi2, keys::orders_with_status(status))
            .between(range.0, range.1)
            .descending();
        self.query_page_records(&query, page, limit).await
    }

    /// Every order with `status` whose id lies in `range` (a time range of ULIDs).
    pub async fn orders_created(
        &self,
        status: OrderStatus,
        range: (String, String),
    ) -> Result<Vec<OrderRecord>, StoreError> {
        self.query_records(&Query::index(Index::Gsi2, keys::orders_with_status(status)).between(range.0, range.1))
            .await
    }

    /// Unpaid orders whose held stock expired before `before` (epoch seconds).
    pub async fn expired_holds(&self, before: i64) -> Result<Vec<OrderRecord>, StoreError> {
        self.query_records(&Query::index(Index::Gsi3, keys::HELD_RESERVATIONS).before(keys::epoch_sort_key(before)))
            .await
    }
}

/// Stock taken or given back for an order: one update per product (a
/// transaction may touch an item once), covering its own stock and every
/// variant of it in the order. Taking conditions on enough stock; giving back
/// on the product and variants still existing.
fn stock_updates(tx: &mut Transaction<OrderWrite>, stock: &StockMove) {
    let (quantities, take) = match stock {
        StockMove::Take(quantities) => (quantities, true),
        StockMove::Return(quantities) => (quantities, false),
    };
    let mut by_product: BTreeMap<ProductId, Vec<(Option<VariantId>, i64)>> = BTreeMap::new();
    for ((product, variant), quantity) in quantities {
        by_product.entry(*product).or_default().push((*variant, *quantity));
    }
    for (product, lines) in by_product {
        let mut sets = Vec::new();
        let mut conditions = vec!["attribute_exists(PK)".to_owned()];
        let mut update = Expr::default();
        let mut condition = Expr::default();
        let mut total = 0;
        for (index, (variant, quantity)) in lines.iter().enumerate() {
            let target = match variant {
                Some(variant) => {
                    update = update.name(format!("#v{index}"), variant.to_string());
                    format!("variants.#v{index}.stock")
                }
                None => "stock".to_owned(),
            };
            let delta = if take { -quantity } else { *quantity };
            total += delta;
            sets.push(format!("{target} = {target} + :d{index}"));
            update = update.value(format!(":d{index}"), number(delta));
            if take {
                conditions.push(format!("{target} >= :q{index}"));
                condition = condition.value(format!(":q{index}"), number(*quantity));
            } else if variant.is_some() {
                conditions.push(format!("attribute_exists(variants.#v{index})"));
            }
        }
        sets.push("inventory = inventory + :total".to_owned());
        update = update.value(":total", number(total));
        update.text = format!("SET {}", sets.join(", "));
        condition.text = conditions.join(" AND ");
        tx.update(
            OrderWrite::Stock(product),
            &keys::product_key(product),
            update,
            Some(condition),
        );
    }
}
