//! Orders, their stock reservations, idempotency records and coupons.
//!
//! Every change of an order is a conditional write on its current status and
//! reservation state, so duplicate or reordered messages change nothing twice.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::cart::CartOwner;
use super::keys::{self, Key};
use super::{Item, Store, StoreError, from_item, number, string, to_item};
use crate::domain::{
    AddressInput, CouponCode, Email, OrderId, OrderStatus, PaymentStatus, ProductId, ReservationStatus, Sku, Timestamp,
    UserId, VariantId,
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
    /// Unit price at purchase, minor units.
    pub price: i64,
    pub quantity: u32,
    pub subtotal: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub shipping: i64,
    pub total: i64,
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

/// A refund of an order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRecord {
    pub refund_id: String,
    pub amount: i64,
    pub status: String,
    pub created_at: Timestamp,
}

/// The order's Stripe PaymentIntent as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    pub intent_id: String,
    pub amount: i64,
    pub currency: String,
    /// Stripe's status of the intent (`requires_payment_method`, `succeeded`, …).
    pub status: String,
    #[serde(default)]
    pub amount_refunded: i64,
    #[serde(default)]
    pub refunds: Vec<RefundRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// Which order a PaymentIntent belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentLookup {
    pub order_id: OrderId,
    pub user_id: UserId,
}

pub fn payment_lookup_key(intent: &str) -> Key {
    Key::new(format!("PAYMENT#{intent}"), "PAYMENT")
}

/// A Stripe event already handled (TTL 30 days: Stripe retries for three).
pub fn stripe_event_key(event: &str) -> Key {
    Key::new(format!("STRIPE_EVENT#{event}"), "EVENT")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventMarker {
    received_at: Timestamp,
    expires_at: i64,
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
}

impl OrderRecord {
    pub fn key(&self) -> Key {
        order_key(
            self.order_id,
            self.user_id,
            self.status,
            self.reservation,
            self.reservation_expires_at,
            self.created_at,
        )
    }

    /// Units per product or variant (lines of the same item are summed).
    pub fn quantities(&self) -> StockQuantities {
        let mut quantities = BTreeMap::new();
        for line in &self.lines {
            *quantities.entry((line.product_id, line.variant_id)).or_default() += i64::from(line.quantity);
        }
        quantities
    }
}

/// The order's primary key and index keys for a given state: GSI1 lists a
/// customer's orders, GSI2 lists orders by status, GSI3 finds reservations
/// the sweeper must act on (pending ones by creation, held ones by expiry).
fn order_key(
    id: OrderId,
    user: UserId,
    status: OrderStatus,
    reservation: ReservationStatus,
    expires_at: Option<i64>,
    created_at: Timestamp,
) -> Key {
    let key = Key::new(order_partition(id), "ORDER")
        .with_index(1, format!("USER#{user}#ORDERS"), id.to_string())
        .with_index(2, format!("ORDERS#{}", status.as_str()), id.to_string());
    match (reservation, status) {
        (ReservationStatus::Pending, OrderStatus::Pending) => {
            key.with_index(3, "RESERVATIONS#PENDING", format!("{:012}#{id}", created_at.unix()))
        }
        // Confirmed (paid) orders stay until fulfilment commits their stock, so the
        // sweeper can re-send a fulfilment that never arrived.
        (ReservationStatus::Reserved, OrderStatus::Pending | OrderStatus::Confirmed) => key.with_index(
            3,
            "RESERVATIONS#RESERVED",
            format!("{:012}#{id}", expires_at.unwrap_or(0)),
        ),
        _ => key,
    }
}

pub fn order_partition(id: OrderId) -> String {
    format!("ORDER#{id}")
}

fn order_primary(id: OrderId) -> Key {
    Key::new(order_partition(id), "ORDER")
}

/// The result of an `Idempotency-Key`: which order a request created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: OrderId,
    pub expires_at: i64,
}

pub fn idempotency_key(user: UserId, key: &str) -> Key {
    Key::new(format!("IDEMPOTENCY#{user}#{key}"), "IDEMPOTENCY")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DiscountKind {
    Percentage,
    Fixed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponRecord {
    pub code: CouponCode,
    #[serde(rename = "type")]
    pub kind: DiscountKind,
    /// Percent (1–100) or minor units.
    pub value: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_customer_limit: Option<i64>,
    #[serde(default)]
    pub used_count: i64,
    pub is_active: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub fn coupon_key(code: &CouponCode) -> Key {
    Key::new(format!("COUPON#{code}"), "COUPON").with_index(1, "COUPONS", code.to_string())
}

pub fn coupon_use_key(code: &CouponCode, user: UserId) -> Key {
    Key::new(format!("COUPON#{code}"), format!("USER#{user}"))
}

/// Everything a checkout needs besides the cart, read in one BatchGetItem.
#[derive(Debug, Default)]
pub struct CheckoutReads {
    pub products: Vec<super::catalog::ProductRecord>,
    pub coupon: Option<CouponRecord>,
    /// How many times this customer has used the coupon.
    pub coupon_uses: i64,
}

/// The items of a checkout transaction, in order, so a failed condition can be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutWrite {
    Order,
    Idempotency,
    Cart,
    CouponUsage,
    CustomerCouponUsage,
}

fn update(store: &Store, key: &Key, expression: impl Into<String>) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    Update::builder()
        .table_name(store.table())
        .set_key(Some(key.primary()))
        .update_expression(expression)
}

fn timeline_values(entry: &TimelineEntry) -> Result<AttributeValue, StoreError> {
    Ok(AttributeValue::L(vec![serde_dynamo::to_attribute_value(entry)?]))
}

/// SET/REMOVE fragments moving an order's index keys to a new state.
fn index_moves(
    order: &OrderRecord,
    status: OrderStatus,
    reservation: ReservationStatus,
    expires_at: Option<i64>,
) -> (Vec<String>, Vec<String>, Item) {
    let key = order_key(
        order.order_id,
        order.user_id,
        status,
        reservation,
        expires_at,
        order.created_at,
    );
    let mut sets = Vec::new();
    let mut values = Item::new();
    for (name, value) in &key.indexes {
        sets.push(format!("{name} = :{name}"));
        values.insert(format!(":{name}"), string(value.clone()));
    }
    let removes = if key.indexes.iter().any(|(name, _)| *name == "GSI3PK") {
        Vec::new()
    } else {
        vec!["GSI3PK".to_owned(), "GSI3SK".to_owned()]
    };
    (sets, removes, values)
}

/// Units per product or variant of an order.
pub type StockQuantities = BTreeMap<(ProductId, Option<VariantId>), i64>;

/// Stock given back (or taken) for `quantities`: one update per product (a
/// transaction may touch an item once), covering its own stock and every variant
/// of it in the order. `take` conditions on enough stock being there; giving back
/// conditions on the product and variants still existing.
fn stock_updates(store: &Store, quantities: &StockQuantities, take: bool) -> Vec<TransactWriteItem> {
    let mut by_product: BTreeMap<ProductId, Vec<(Option<VariantId>, i64)>> = BTreeMap::new();
    for ((product, variant), quantity) in quantities {
        by_product.entry(*product).or_default().push((*variant, *quantity));
    }
    by_product
        .into_iter()
        .map(|(product, lines)| {
            let mut sets = Vec::new();
            let mut conditions = vec!["attribute_exists(PK)".to_owned()];
            let mut builder = Update::builder()
                .table_name(store.table())
                .set_key(Some(keys::product_key(product).primary()));
            let mut total = 0;
            for (index, (variant, quantity)) in lines.iter().enumerate() {
                let target = match variant {
                    Some(variant) => {
                        builder = builder.expression_attribute_names(format!("#v{index}"), variant.to_string());
                        format!("variants.#v{index}.stock")
                    }
                    None => "stock".to_owned(),
                };
                let delta = if take { -quantity } else { *quantity };
                total += delta;
                sets.push(format!("{target} = {target} + :d{index}"));
                builder = builder.expression_attribute_values(format!(":d{index}"), number(delta));
                if take {
                    conditions.push(format!("{target} >= :q{index}"));
                    builder = builder.expression_attribute_values(format!(":q{index}"), number(*quantity));
                } else if variant.is_some() {
                    conditions.push(format!("attribute_exists(variants.#v{index})"));
                }
            }
            sets.push("inventory = inventory + :total".to_owned());
            let update = builder
                .update_expression(format!("SET {}", sets.join(", ")))
                .condition_expression(conditions.join(" AND "))
                .expression_attribute_values(":total", number(total))
                .build()
                .expect("key is set");
            TransactWriteItem::builder().update(update).build()
        })
        .collect()
}

/// A change of an order's state, as one conditional UpdateItem.
#[derive(Debug, Clone)]
pub struct OrderChange {
    pub from_status: OrderStatus,
    pub from_reservation: ReservationStatus,
    pub status: OrderStatus,
    pub reservation: ReservationStatus,
    pub reservation_expires_at: Option<i64>,
    pub payment_status: Option<PaymentStatus>,
    pub tracking: Option<Tracking>,
    pub cancel_reason: Option<String>,
    /// Appended to the timeline when the status changes.
    pub entry: Option<TimelineEntry>,
    /// Gives the order's coupon use back (the order is cancelled and the coupon still exists).
    pub release_coupon: bool,
    /// Also requires this payment status (payment transitions).
    pub from_payment: Option<PaymentStatus>,
    /// Replaces the order's payment record.
    pub payment: Option<PaymentRecord>,
    /// A Stripe event handled by this change: recorded in the same transaction,
    /// which fails at index 1 when the event was handled before.
    pub event_id: Option<String>,
    pub at: Timestamp,
}

impl OrderChange {
    /// A change that leaves everything as `order` has it.
    pub fn from(order: &OrderRecord, at: Timestamp) -> Self {
        Self {
            from_status: order.status,
            from_reservation: order.reservation,
            status: order.status,
            reservation: order.reservation,
            reservation_expires_at: order.reservation_expires_at,
            payment_status: None,
            tracking: None,
            cancel_reason: None,
            entry: None,
            release_coupon: false,
            from_payment: None,
            payment: None,
            event_id: None,
            at,
        }
    }
}

impl Store {
    pub async fn order(&self, id: OrderId) -> Result<Option<OrderRecord>, StoreError> {
        self.read(&order_primary(id)).await
    }

    /// Links an intent to its order and records it on the order, unless the order
    /// already has a different payment (index 0 fails then).
    pub async fn attach_payment(&self, order: &OrderRecord, payment: &PaymentRecord) -> Result<(), StoreError> {
        let lookup = PaymentLookup {
            order_id: order.order_id,
            user_id: order.user_id,
        };
        let record = update(self, &order_primary(order.order_id), "SET payment = :payment")
            .condition_expression("attribute_not_exists(payment) OR payment.intentId = :intent")
            .expression_attribute_values(":payment", serde_dynamo::to_attribute_value(payment)?)
            .expression_attribute_values(":intent", string(payment.intent_id.clone()))
            .build()
            .expect("key is set");
        let link = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&payment_lookup_key(&payment.intent_id), &lookup)?))
            .build()
            .expect("table and item are set");
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(record).build())
            .transact_items(TransactWriteItem::builder().put(link).build())
            .send()
            .await?;
        Ok(())
    }

    pub async fn payment_lookup(&self, intent: &str) -> Result<Option<PaymentLookup>, StoreError> {
        self.read(&payment_lookup_key(intent)).await
    }

    pub async fn idempotency(
        &self,
        user: UserId,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let record: Option<IdempotencyRecord> = self.read(&idempotency_key(user, key)).await?;
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
        let mut keys: Vec<Item> = ids.iter().map(|id| keys::product_key(*id).primary()).collect();
        if let Some(code) = coupon {
            keys.push(coupon_key(code).primary());
            keys.push(coupon_use_key(code, user).primary());
        }
        let mut reads = CheckoutReads::default();
        for item in self.batch_get(keys).await? {
            let pk = keys::text_of(&item, keys::PK);
            let sk = keys::text_of(&item, keys::SK);
            if pk.starts_with("PRODUCT#") {
                reads.products.push(from_item(item)?);
            } else if sk == "COUPON" {
                reads.coupon = Some(from_item(item)?);
            } else if sk.starts_with("USER#") {
                reads.coupon_uses = item
                    .get("count")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            }
        }
        Ok(reads)
    }

    /// One transaction: the order, the idempotency record, the cart removed
    /// (unchanged since it was priced), and the coupon's usage counted within its limits.
    pub async fn place_order(
        &self,
        order: &OrderRecord,
        idempotency: Option<(&str, &IdempotencyRecord)>,
        owner: &CartOwner,
        cart_version: u64,
        coupon: Option<&CouponRecord>,
    ) -> Result<(), (StoreError, Vec<CheckoutWrite>)> {
        let mut writes = Vec::new();
        let build = |writes: &mut Vec<CheckoutWrite>| -> Result<Vec<TransactWriteItem>, StoreError> {
            let mut items = Vec::new();
            // An idempotency record past its expiry (TTL deletion lags) may be replaced.
            let put_new = |item: Item| {
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(self.table())
                            .set_item(Some(item))
                            .condition_expression("attribute_not_exists(PK) OR expiresAt < :now")
                            .expression_attribute_values(":now", number(order.created_at.unix()))
                            .build()
                            .expect("table and item are set"),
                    )
                    .build()
            };
            items.push(put_new(to_item(&order.key(), order)?));
            writes.push(CheckoutWrite::Order);
            if let Some((key, record)) = idempotency {
                items.push(put_new(to_item(&idempotency_key(order.user_id, key), record)?));
                writes.push(CheckoutWrite::Idempotency);
            }
            // The cart goes in the same transaction, only if unchanged since it was priced.
            let cart = Delete::builder()
                .table_name(self.table())
                .set_key(Some(owner.key().primary()))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", number(cart_version))
                .build()
                .expect("key is set");
            items.push(TransactWriteItem::builder().delete(cart).build());
            writes.push(CheckoutWrite::Cart);
            if let Some(coupon) = coupon {
                let mut usage = update(self, &coupon_key(&coupon.code), "ADD usedCount :one")
                    .condition_expression("isActive = :active")
                    .expression_attribute_values(":one", number(1))
                    .expression_attribute_values(":active", AttributeValue::Bool(true));
                if let Some(limit) = coupon.usage_limit {
                    usage = usage
                        .condition_expression(
                            "isActive = :active AND (attribute_not_exists(usedCount) OR usedCount < :limit)",
                        )
                        .expression_attribute_values(":limit", number(limit));
                }
                items.push(
                    TransactWriteItem::builder()
                        .update(usage.build().expect("key is set"))
                        .build(),
                );
                writes.push(CheckoutWrite::CouponUsage);
                let mut mine = update(self, &coupon_use_key(&coupon.code, order.user_id), "ADD #count :one")
                    .expression_attribute_names("#count", "count")
                    .expression_attribute_values(":one", number(1));
                if let Some(limit) = coupon.per_customer_limit {
                    mine = mine
                        .condition_expression("attribute_not_exists(#count) OR #count < :limit")
                        .expression_attribute_values(":limit", number(limit));
                }
                items.push(
                    TransactWriteItem::builder()
                        .update(mine.build().expect("key is set"))
                        .build(),
                );
                writes.push(CheckoutWrite::CustomerCouponUsage);
            }
            Ok(items)
        };
        let items = build(&mut writes);
        self.transact_labelled(items, &writes).await
    }

    /// Applies `change` if the order is still in `change.from_*` (index 0 of the
    /// transaction); `stock` adds the order's stock back (`Some(false)`) or takes
    /// it (`Some(true)`) in the same transaction.
    pub async fn change_order(
        &self,
        order: &OrderRecord,
        change: &OrderChange,
        stock: Option<bool>,
    ) -> Result<(), StoreError> {
        self.change_order_moving(order, change, stock.map(|take| (take, order.quantities())))
            .await
    }

    /// [`Self::change_order`] moving the stock of `stock.1` only (some products may be gone).
    pub async fn change_order_moving(
        &self,
        order: &OrderRecord,
        change: &OrderChange,
        stock: Option<(bool, StockQuantities)>,
    ) -> Result<(), StoreError> {
        let (mut sets, mut removes, mut values) =
            index_moves(order, change.status, change.reservation, change.reservation_expires_at);
        sets.push("#status = :status".into());
        sets.push("reservation = :reservation".into());
        sets.push("updatedAt = :at".into());
        values.insert(":status".into(), string(change.status.as_str()));
        values.insert(":reservation".into(), string(change.reservation.as_str()));
        values.insert(":at".into(), string(change.at.to_string()));
        values.insert(":fromStatus".into(), string(change.from_status.as_str()));
        values.insert(":fromReservation".into(), string(change.from_reservation.as_str()));
        match change.reservation_expires_at {
            Some(at) => {
                sets.push("reservationExpiresAt = :expires".into());
                values.insert(":expires".into(), number(at));
            }
            None => removes.push("reservationExpiresAt".into()),
        }
        if let Some(payment) = change.payment_status {
            sets.push("paymentStatus = :payment".into());
            values.insert(":payment".into(), serde_dynamo::to_attribute_value(payment)?);
        }
        if let Some(payment) = &change.payment {
            sets.push("payment = :paymentRecord".into());
            values.insert(":paymentRecord".into(), serde_dynamo::to_attribute_value(payment)?);
        }
        let mut condition = "#status = :fromStatus AND reservation = :fromReservation".to_owned();
        if let Some(payment) = change.from_payment {
            condition.push_str(" AND paymentStatus = :fromPayment");
            values.insert(":fromPayment".into(), serde_dynamo::to_attribute_value(payment)?);
        }
        if let Some(tracking) = &change.tracking {
            sets.push("tracking = :tracking".into());
            values.insert(":tracking".into(), serde_dynamo::to_attribute_value(tracking)?);
        }
        if let Some(reason) = &change.cancel_reason {
            sets.push("cancelReason = :reason".into());
            values.insert(":reason".into(), string(reason.clone()));
        }
        if let Some(entry) = &change.entry {
            sets.push("timeline = list_append(timeline, :entry)".into());
            values.insert(":entry".into(), timeline_values(entry)?);
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let order_update = update(self, &order_primary(order.order_id), expression)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values.into_iter().collect()))
            .build()
            .expect("key is set");
        let mut items = vec![TransactWriteItem::builder().update(order_update).build()];
        if let Some(event) = &change.event_id {
            let marker = EventMarker {
                received_at: change.at,
                expires_at: change.at.unix() + 30 * 24 * 3600,
            };
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(self.table())
                            .set_item(Some(to_item(&stripe_event_key(event), &marker)?))
                            .condition_expression("attribute_not_exists(PK)")
                            .build()
                            .expect("table and item are set"),
                    )
                    .build(),
            );
        }
        if let Some((take, quantities)) = &stock {
            items.extend(stock_updates(self, quantities, *take));
        }
        if let (true, Some(code)) = (change.release_coupon, &order.coupon_code) {
            let give_back = |key: Key, attribute: &str| {
                update(self, &key, "ADD #counter :minus")
                    .condition_expression("attribute_exists(PK) AND #counter > :zero")
                    .expression_attribute_names("#counter", attribute)
                    .expression_attribute_values(":minus", number(-1))
                    .expression_attribute_values(":zero", number(0))
                    .build()
                    .expect("key is set")
            };
            items.push(
                TransactWriteItem::builder()
                    .update(give_back(coupon_key(code), "usedCount"))
                    .build(),
            );
            items.push(
                TransactWriteItem::builder()
                    .update(give_back(coupon_use_key(code, order.user_id), "count"))
                    .build(),
            );
        }
        self.client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await?;
        Ok(())
    }

    /// One page of a customer's orders, newest first (every order is read; a
    /// customer's history is small), filtered by status when asked.
    pub async fn customer_orders(&self, user: UserId) -> Result<Vec<OrderRecord>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .index_name(keys::GSI1)
                    .key_condition_expression("GSI1PK = :pk")
                    .expression_attribute_values(":pk", string(format!("USER#{user}#ORDERS")))
                    .scan_index_forward(false)
            })
            .await?;
        items.into_iter().map(from_item).collect()
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
        let partition = format!("ORDERS#{}", status.as_str());
        let (items, total) = self
            .query_page_in(
                keys::GSI2,
                ("GSI2PK", &partition),
                Some(("GSI2SK", range)),
                false,
                page,
                limit,
            )
            .await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, total))
    }

    /// Every order with `status` whose id lies in `range` (a time range of ULIDs).
    pub async fn orders_created(
        &self,
        status: OrderStatus,
        range: (String, String),
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .index_name(keys::GSI2)
                    .key_condition_expression("GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", string(format!("ORDERS#{}", status.as_str())))
                    .expression_attribute_values(":from", string(range.0.clone()))
                    .expression_attribute_values(":to", string(range.1.clone()))
            })
            .await?;
        items.into_iter().map(from_item).collect()
    }

    /// Orders the sweeper must act on: `RESERVATIONS#<state>` entries whose sort
    /// key (an epoch second) is before `before`.
    pub async fn due_reservations(
        &self,
        state: ReservationStatus,
        before: i64,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .index_name(keys::GSI3)
                    .key_condition_expression("GSI3PK = :pk AND GSI3SK < :before")
                    .expression_attribute_values(":pk", string(format!("RESERVATIONS#{}", state.as_str())))
                    .expression_attribute_values(":before", string(format!("{before:012}")))
            })
            .await?;
        items.into_iter().map(from_item).collect()
    }

    // ---- coupons ----

    pub async fn coupon(&self, code: &CouponCode) -> Result<Option<CouponRecord>, StoreError> {
        self.read(&coupon_key(code)).await
    }

    pub async fn coupons(&self, page: u32, limit: u32) -> Result<(Vec<CouponRecord>, u64), StoreError> {
        let (items, total) = self
            .query_page(keys::GSI1, "GSI1PK", "COUPONS", true, page, limit)
            .await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, total))
    }

    /// Creates a coupon; fails when the code exists.
    pub async fn create_coupon(&self, coupon: &CouponRecord) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&coupon_key(&coupon.code), coupon)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// Replaces a coupon's terms if it is still at `version`; its usage count,
    /// kept by checkouts, is never rewritten.
    pub async fn update_coupon(&self, coupon: &CouponRecord, version: u64) -> Result<(), StoreError> {
        let mut fields: Item = serde_dynamo::to_item(coupon)?;
        fields.remove("usedCount");
        fields.remove("code");
        fields.remove("createdAt");
        let optional = [
            "minSubtotal",
            "validFrom",
            "validUntil",
            "usageLimit",
            "perCustomerLimit",
        ];
        let mut names = std::collections::HashMap::new();
        let mut values = std::collections::HashMap::new();
        let mut sets = Vec::new();
        let removes: Vec<String> = optional
            .iter()
            .filter(|name| !fields.contains_key(**name))
            .map(|name| {
                names.insert(format!("#{name}"), (*name).to_owned());
                format!("#{name}")
            })
            .collect();
        for (name, value) in fields {
            names.insert(format!("#{name}"), name.clone());
            values.insert(format!(":{name}"), value);
            sets.push(format!("#{name} = :{name}"));
        }
        values.insert(":expected".into(), number(version));
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(coupon_key(&coupon.code).primary()))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK) AND #version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await?;
        Ok(())
    }

    pub async fn delete_coupon(&self, code: &CouponCode) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(coupon_key(code).primary()))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await?;
        Ok(())
    }
}
