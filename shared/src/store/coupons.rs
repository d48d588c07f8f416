//! Coupons: the terms an admin sets, and the usage counters checkouts keep
//! (see [`super::orders`]: counted in the checkout transaction, given back when
//! an order is cancelled).

use serde::{Deserialize, Serialize};

use super::keys::{self, Index};
use super::table::{Expr, Query};
use super::{Item, Store, StoreError, number, to_item};
use crate::domain::money::cents;
use crate::domain::{CouponCode, Money, Timestamp};

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
    #[serde(default, skip_serializing_if = "Option::is_none", with = "cents::option")]
    pub min_subtotal: Option<Money>,
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

/// Terms an update may leave out (and so removes).
const OPTIONAL_TERMS: [&str; 5] = [
    "minSubtotal",
    "validFrom",
    "validUntil",
    "usageLimit",
    "perCustomerLimit",
];

impl Store {
    pub async fn coupon(&self, code: &CouponCode) -> Result<Option<CouponRecord>, StoreError> {
        self.read(&keys::coupon_key(code)).await
    }

    pub async fn coupons(&self, page: u32, limit: u32) -> Result<(Vec<CouponRecord>, u64), StoreError> {
        self.query_page_records(&Query::index(Index::Gsi1, keys::ALL_COUPONS), page, limit)
            .await
    }

    /// Creates a coupon; fails when the code exists.
    pub async fn create_coupon(&self, coupon: &CouponRecord) -> Result<(), StoreError> {
        self.put(to_item(&keys::coupon(&coupon.code), coupon)?, Some(Expr::absent()))
            .await
    }

    /// Replaces a coupon's terms if it is still at `version`; its usage count,
    /// kept by checkouts, is never rewritten.
    pub async fn update_coupon(&self, coupon: &CouponRecord, version: u64) -> Result<(), StoreError> {
        let mut fields: Item = serde_dynamo::to_item(coupon)?;
        fields.remove("usedCount");
        fields.remove("code");
        fields.remove("createdAt");
        let update = Expr::set_fields(fields, &OPTIONAL_TERMS);
        let unchanged = Expr::new("attribute_exists(PK) AND #version = :expected").value(":expected", number(version));
        self.update(&keys::coupon_key(&coupon.code), update, Some(unchanged))
            .await
    }

    pub async fn delete_coupon(&self, code: &CouponCode) -> Result<(), StoreError> {
        self.delete(&keys::coupon_key(code), Some(Expr::present())).await
    }
}
