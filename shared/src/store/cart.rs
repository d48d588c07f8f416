//! Carts: one item per cart (its lines in a map), so a cart is read in one
//! GetItem, expires as a whole by TTL, and changes with one conditional write.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::table::Expr;
use super::{Store, StoreError, number, to_item};
use crate::domain::{CartItemId, CouponCode, ProductId, Quantity, Timestamp, UserId, VariantId};

/// Whose cart: a customer's, or a guest's (by the digest of its cart token).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CartOwner {
    User(UserId),
    Guest(String),
}

impl CartOwner {
    pub fn key(&self) -> Key {
        match self {
            Self::User(user) => keys::user_cart(*user),
            Self::Guest(digest) => keys::guest_cart(digest),
        }
    }

    /// The `cartId` the API shows: `cart_usr_…` for a customer.
    pub fn cart_id(&self) -> String {
        match self {
            Self::User(user) => format!("cart_{user}"),
            Self::Guest(digest) => format!("cart_guest_{}", &digest[..digest.len().min(16)]),
        }
    }

    pub fn user(&self) -> Option<UserId> {
        match self {
            Self::User(user) => Some(*user),
            Self::Guest(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineRecord {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub quantity: Quantity,
    pub added_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartRecord {
    /// Keyed by item id.
    #[serde(default)]
    pub lines: BTreeMap<String, CartLineRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<CouponCode>,
    /// 0 for a cart that is not stored yet.
    pub version: u64,
    /// Unique to each write: a write whose answer was lost (and whose retry
    /// then failed its own version condition) is recognised by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_id: Option<String>,
    pub updated_at: Timestamp,
    pub expires_at: i64,
}

impl CartRecord {
    pub fn empty(now: Timestamp) -> Self {
        Self {
            lines: BTreeMap::new(),
            coupon_code: None,
            version: 0,
            write_id: None,
            updated_at: now,
            expires_at: 0,
        }
    }

    /// Lines in the order they were added.
    pub fn lines(&self) -> Vec<&CartLineRecord> {
        let mut lines: Vec<&CartLineRecord> = self.lines.values().collect();
        lines.sort_by_key(|line| line.item_id);
        lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

impl Store {
    /// The cart, or an empty one when there is none or it has expired (TTL deletion lags).
    pub async fn cart(&self, owner: &CartOwner, now: Timestamp) -> Result<CartRecord, StoreError> {
        let cart: Option<CartRecord> = self.read(&owner.key()).await?;
        Ok(cart
            .filter(|c| c.expires_at > now.unix())
            .unwrap_or_else(|| CartRecord::empty(now)))
    }

    /// Writes `cart` if the stored one is still at `expected` (0: none, or expired).
    pub async fn save_cart(
        &self,
        owner: &CartOwner,
        cart: &CartRecord,
        expected: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let condition = if expected == 0 {
            Expr::new("attribute_not_exists(PK) OR expiresAt <= :now").value(":now", number(now.unix()))
        } else {
            Expr::new("version = :expected").value(":expected", number(expected))
        };
        self.put(to_item(&owner.key(), cart)?, Some(condition)).await
    }

    pub async fn delete_cart(&self, owner: &CartOwner) -> Result<(), StoreError> {
        self.delete(&owner.key(), None).await
    }
}
