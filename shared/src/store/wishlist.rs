//! Wishlists: one item per product a customer keeps.

use serde::{Deserialize, Serialize};

use super::keys;
use super::table::{Expr, Query};
use super::{Store, StoreError, to_item};
use crate::domain::{ProductId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WishlistRecord {
    pub product_id: ProductId,
    pub added_at: Timestamp,
}

impl Store {
    pub async fn wishlist(&self, user: UserId) -> Result<Vec<WishlistRecord>, StoreError> {
        let query = Query::table(keys::user_partition(user))
            .begins_with(keys::WISH_PREFIX)
            .consistent();
        self.query_records(&query).await
    }

    /// Adds a product; `false` when it was already there (the first `addedAt` stays).
    pub async fn add_to_wishlist(&self, user: UserId, entry: &WishlistRecord) -> Result<bool, StoreError> {
        let item = to_item(&keys::wishlist_entry(user, entry.product_id), entry)?;
        match self.put(item, Some(Expr::absent())).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(err) => Err(err),
        }
    }

    pub async fn remove_from_wishlist(&self, user: UserId, product: ProductId) -> Result<(), StoreError> {
        self.delete(&keys::wishlist_entry(user, product), None).await
    }
}
