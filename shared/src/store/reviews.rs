//! Reviews (one per customer and product, listed newest and highest rated
//! first once approved, queued while pending), the rating totals they keep on
//! the product, and the purchase records that make a review verified.

use serde::{Deserialize, Serialize};

use super::keys::{self, Index, Key};
use super::table::{Expr, Query, Transaction, TxError};
use super::users::UserRecord;
use super::{Store, StoreError, from_item, marker_item, number, to_item};
use crate::domain::{ProductId, Rating, ReviewId, ReviewStatus, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewRecord {
    pub review_id: ReviewId,
    pub product_id: ProductId,
    pub user_id: UserId,
    pub author_name: String,
    pub rating: Rating,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub content: String,
    pub status: ReviewStatus,
    pub is_verified: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ReviewRecord {
    /// Approved reviews are listed (newest and highest first); pending ones queue for moderation.
    pub fn key(&self) -> Key {
        let key = keys::review(self.product_id, self.review_id);
        match self.status {
            ReviewStatus::Approved => key
                .with_index(
                    Index::Gsi1,
                    keys::approved_reviews(self.product_id),
                    self.review_id.to_string(),
                )
                .with_index(
                    Index::Gsi2,
                    keys::approved_reviews(self.product_id),
                    format!("{}#{}", self.rating.stars(), self.review_id),
                ),
            ReviewStatus::Pending => key.with_index(Index::Gsi3, keys::PENDING_REVIEWS, self.review_id.to_string()),
            ReviewStatus::Rejected => key,
        }
    }
}

/// Proof that a customer bought a product; written when an order's stock is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseRecord {
    pub user_id: UserId,
    pub product_id: ProductId,
    pub order_id: String,
    pub purchased_at: Timestamp,
}

/// The items of review transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewWrite {
    /// New, or still at the version read.
    Review,
    /// The customer has reviewed the product already.
    AlreadyReviewed,
    Marker,
    Rating,
}

/// The product's rating totals move by (total, count).
fn rating_change((total, count): (i64, i64)) -> Expr {
    Expr::new("ADD ratingTotal :total, reviewCount :count")
        .value(":total", number(total))
        .value(":count", number(count))
}

impl Store {
    pub async fn review(&self, product: ProductId, review: ReviewId) -> Result<Option<ReviewRecord>, StoreError> {
        self.read(&keys::review(product, review)).await
    }

    /// The product, the customer's purchase record and profile, in one BatchGetItem.
    pub async fn review_context(
        &self,
        product: ProductId,
        user: UserId,
    ) -> Result<(Option<super::products::ProductRecord>, bool, Option<UserRecord>), StoreError> {
        let product_key = keys::product_key(product);
        let purchase_key = keys::purchase(user, product);
        let profile_key = keys::user_profile(user);
        let items = self
            .batch_get(vec![
                product_key.primary(),
                purchase_key.primary(),
                profile_key.primary(),
            ])
            .await?;
        let mut found = (None, false, None);
        for item in items {
            if product_key.matches(&item) {
                found.0 = Some(from_item(item)?);
            } else if purchase_key.matches(&item) {
                found.1 = true;
            } else if profile_key.matches(&item) {
                found.2 = Some(from_item(item)?);
            }
        }
        Ok(found)
    }

    /// A new review and the marker of one review per customer.
    pub async fn create_review(&self, review: &ReviewRecord) -> Result<(), TxError<ReviewWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(
            ReviewWrite::Review,
            to_item(&review.key(), review)?,
            Some(Expr::absent()),
        );
        tx.put(
            ReviewWrite::AlreadyReviewed,
            marker_item(
                &keys::reviewer_marker(review.product_id, review.user_id),
                &review.review_id.to_string(),
            )?,
            Some(Expr::absent()),
        );
        self.commit(tx).await
    }

    /// Replaces a review still at `previous`'s version, moving the product's
    /// rating by `rating_change` (total, count) in the same transaction.
    pub async fn replace_review(
        &self,
        previous: &ReviewRecord,
        updated: &ReviewRecord,
        change: (i64, i64),
    ) -> Result<(), TxError<ReviewWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(
            ReviewWrite::Review,
            to_item(&updated.key(), updated)?,
            Some(unchanged(previous.version)),
        );
        if change != (0, 0) {
            tx.update(
                ReviewWrite::Rating,
                &keys::product_key(previous.product_id),
                rating_change(change),
                Some(Expr::present()),
            );
        }
        self.commit(tx).await
    }

    /// Deletes a review still at its version and its marker, taking its rating off the product.
    pub async fn delete_review(&self, review: &ReviewRecord, change: (i64, i64)) -> Result<(), TxError<ReviewWrite>> {
        let mut tx = Transaction::new(self);
        tx.delete(
            ReviewWrite::Review,
            &keys::review(review.product_id, review.review_id),
            Some(unchanged(review.version)),
        );
        tx.delete(
            ReviewWrite::Marker,
            &keys::reviewer_marker(review.product_id, review.user_id),
            None,
        );
        if change != (0, 0) {
            tx.update(
                ReviewWrite::Rating,
                &keys::product_key(review.product_id),
                rating_change(change),
                Some(Expr::present()),
            );
        }
        self.commit(tx).await
    }

    /// One page of approved reviews, newest (`GSI1`) or highest rated (`GSI2`) first.
    pub async fn approved_reviews(
        &self,
        product: ProductId,
        highest_first: bool,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<ReviewRecord>, u64), StoreError> {
        let index = if highest_first { Index::Gsi2 } else { Index::Gsi1 };
        let query = Query::index(index, keys::approved_reviews(product)).descending();
        self.query_page_records(&query, page, limit).await
    }

    pub async fn pending_reviews(&self, page: u32, limit: u32) -> Result<(Vec<ReviewRecord>, u64), StoreError> {
        self.query_page_records(&Query::index(Index::Gsi3, keys::PENDING_REVIEWS), page, limit)
            .await
    }
}

/// The record is still at `version`.
fn unchanged(version: u64) -> Expr {
    Expr::new("#version = :expected")
        .name("#version", "version")
        .value(":expected", number(version))
}
