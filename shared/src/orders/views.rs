//! Order response shapes (`Order` and `OrderSummary` in openapi.yaml).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{
    AddressInput, CouponCode, Money, OrderId, OrderStatus, PaymentStatus, ProductId, ReservationStatus,
    ShippingMethodId, Sku, Summary, TaxRateId, Timestamp, UserId, VariantId, ZoneId,
};
use crate::store::orders::{
    AppliedTaxRecord, OrderRecord, PaymentRecord, ShippingChoiceRecord, TimelineEntry, Totals, Tracking,
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemView {
    pub product_id: ProductId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub name: String,
    pub sku: Sku,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    pub price: Money,
    pub quantity: u32,
    pub subtotal: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationView {
    pub status: ReservationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodView {
    #[serde(rename = "type")]
    pub kind: String,
}

/// The shipping method an order took.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethodView {
    pub method_id: ShippingMethodId,
    pub name: String,
    pub zone_id: ZoneId,
    pub price: Money,
    pub min_days: u32,
    pub max_days: u32,
}

impl From<&ShippingChoiceRecord> for ShippingMethodView {
    fn from(choice: &ShippingChoiceRecord) -> Self {
        Self {
            method_id: choice.method_id,
            name: choice.name.clone(),
            zone_id: choice.zone_id,
            price: choice.price,
            min_days: choice.min_days,
            max_days: choice.max_days,
        }
    }
}

/// The tax rate an order paid.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTaxView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_id: Option<TaxRateId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub rate_bps: u32,
    pub applies_to_shipping: bool,
    pub amount: Money,
}

impl From<&AppliedTaxRecord> for OrderTaxView {
    fn from(tax: &AppliedTaxRecord) -> Self {
        Self {
            rate_id: tax.rate_id,
            name: tax.name.clone(),
            rate_bps: tax.rate_bps,
            applies_to_shipping: tax.applies_to_shipping,
            amount: tax.amount,
        }
    }
}

pub fn summary(totals: &Totals) -> Summary {
    Summary {
        subtotal: totals.subtotal,
        discount: totals.discount,
        tax: totals.tax,
        shipping: totals.shipping,
        total: totals.total,
    }
}

/// An order in full (what checkout and `GET /orders/{id}` answer), with payment, reservation and coupon.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub items: Vec<OrderItemView>,
    pub summary: Summary,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<CouponCode>,
    pub shipping_address: AddressInput,
    pub billing_address: AddressInput,
    /// The shipping method chosen at checkout (shops with shipping zones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<ShippingMethodView>,
    /// The tax rate applied at checkout (shops with tax rates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<OrderTaxView>,
    pub payment_method: PaymentMethodView,
    pub payment_status: PaymentStatus,
    /// The Stripe payment, once one was started (`POST /api/v1/payments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentDetails>,
    pub reservation: ReservationView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    pub timeline: Vec<TimelineEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub estimated_delivery: Timestamp,
}

impl From<&OrderRecord> for OrderView {
    fn from(order: &OrderRecord) -> Self {
        Self {
            order_id: order.order_id,
            user_id: order.user_id,
            status: order.status,
            items: order
                .lines
                .iter()
                .map(|line| OrderItemView {
                    product_id: line.product_id,
                    variant_id: line.variant_id,
                    name: line.name.clone(),
                    sku: line.sku.clone(),
                    options: line.options.clone(),
                    price: line.price,
                    quantity: line.quantity,
                    subtotal: line.subtotal,
                    image: line.image.clone(),
                })
                .collect(),
            summary: summary(&order.totals),
            currency: order.currency.clone(),
            coupon_code: order.coupon_code.clone(),
            shipping_address: order.shipping_address.clone(),
            billing_address: order.billing_address.clone(),
            shipping_method: order.shipping_method.as_ref().map(ShippingMethodView::from),
            tax: order.tax.as_ref().map(OrderTaxView::from),
            payment_method: PaymentMethodView {
                kind: order.payment_method.kind.clone(),
            },
            payment_status: order.payment_status,
            payment: order.payment.as_ref().map(PaymentDetails::from),
            reservation: ReservationView {
                status: order.reservation,
                expires_at: order.reservation_expires_at.map(Timestamp::from_unix),
            },
            tracking: order.tracking.clone(),
            timeline: order.timeline.clone(),
            cancel_reason: order.cancel_reason.clone(),
            created_at: order.created_at,
            updated_at: order.updated_at,
            estimated_delivery: order.estimated_delivery,
        }
    }
}

/// An order in a list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummaryView {
    pub order_id: OrderId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub status: OrderStatus,
    pub total: Money,
    pub item_count: u32,
    pub created_at: Timestamp,
    pub estimated_delivery: Timestamp,
}

impl OrderSummaryView {
    pub fn new(order: &OrderRecord, with_user: bool) -> Self {
        Self {
            order_id: order.order_id,
            user_id: with_user.then_some(order.user_id),
            status: order.status,
            total: order.totals.total,
            item_count: order.lines.iter().map(|l| l.quantity).sum(),
            created_at: order.created_at,
            estimated_delivery: order.estimated_delivery,
        }
    }
}

/// The order's payment as a customer or admin sees it (amounts in the order's currency).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetails {
    pub payment_id: String,
    pub amount: Money,
    /// What Stripe took (0 until the payment succeeds).
    pub amount_captured: Money,
    pub amount_refunded: Money,
    /// Stripe's status of the PaymentIntent.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub refunds: Vec<RefundDetails>,
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundDetails {
    pub refund_id: String,
    pub amount: Money,
    pub status: String,
    pub created_at: Timestamp,
}

impl From<&PaymentRecord> for PaymentDetails {
    fn from(payment: &PaymentRecord) -> Self {
        Self {
            payment_id: payment.intent_id.clone(),
            amount: payment.amount,
            amount_captured: payment.captured(),
            amount_refunded: payment.amount_refunded,
            status: payment.status.clone(),
            last_error: payment.last_error.clone(),
            refunds: payment
                .refunds
                .iter()
                .map(|refund| RefundDetails {
                    refund_id: refund.refund_id.clone(),
                    amount: refund.amount,
                    status: refund.status.clone(),
                    created_at: refund.created_at,
                })
                .collect(),
            updated_at: payment.updated_at,
        }
    }
}
