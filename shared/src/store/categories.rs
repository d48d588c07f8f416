//! Categories: the tree (read whole and cached by the catalog service), slug
//! markers, and the product and child counts that keep non-empty categories.

use serde::{Deserialize, Serialize};

use super::keys::{self, Index, Key};
use super::table::{Expr, Query, Transaction, TxError};
use super::{Item, Store, StoreError, marker_item, number, to_item};
use crate::domain::{CategoryId, Slug, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRecord {
    pub category_id: CategoryId,
    pub name: String,
    pub slug: Slug,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<CategoryId>,
    /// Ancestors from the root down to this category itself.
    pub path: Vec<CategoryId>,
    pub is_active: bool,
    #[serde(default)]
    pub product_count: i64,
    #[serde(default)]
    pub child_count: i64,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The items of category transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryWrite {
    /// New, still at the version read, or (deleting) still empty.
    Category,
    /// Another category has the slug.
    SlugTaken,
    /// The parent category is gone.
    ParentGone,
    OldSlug,
}

/// Adds `delta` to a counter of a category that must exist.
pub(crate) fn count_change(category: CategoryId, attribute: &str, delta: i64) -> (Key, Expr, Expr) {
    (
        keys::category_key(category),
        Expr::new(format!("ADD {attribute} :delta")).value(":delta", number(delta)),
        Expr::present(),
    )
}

impl Store {
    pub async fn categories(&self) -> Result<Vec<CategoryRecord>, StoreError> {
        self.query_records(&Query::index(Index::Gsi1, keys::ALL_CATEGORIES))
            .await
    }

    pub async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        self.read(&keys::category_key(id)).await
    }

    /// The category, its slug marker and the parent's child count.
    pub async fn create_category(&self, category: &CategoryRecord) -> Result<(), TxError<CategoryWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(
            CategoryWrite::Category,
            to_item(&keys::category(category.category_id), category)?,
            Some(Expr::absent()),
        );
        tx.put(
            CategoryWrite::SlugTaken,
            marker_item(&keys::category_slug(&category.slug), &category.category_id.to_string())?,
            Some(Expr::absent()),
        );
        if let Some(parent) = category.parent_id {
            let (key, update, condition) = count_change(parent, "childCount", 1);
            tx.update(CategoryWrite::ParentGone, &key, update, Some(condition));
        }
        self.commit(tx).await
    }

    /// Replaces a category's editable fields if it is still at
    /// `expected_version`; a new slug swaps the markers.
    pub async fn update_category(
        &self,
        updated: &CategoryRecord,
        previous_slug: &Slug,
        expected_version: u64,
    ) -> Result<(), TxError<CategoryWrite>> {
        let mut fields: Item = serde_dynamo::to_item(updated)?;
        for counter in ["productCount", "childCount"] {
            fields.remove(counter);
        }
        let update = Expr::set_fields(fields, &["description", "image", "parentId"]);
        let unchanged =
            Expr::new("attribute_exists(PK) AND #version = :expected").value(":expected", number(expected_version));
        let mut tx = Transaction::new(self);
        tx.update(
            CategoryWrite::Category,
            &keys::category_key(updated.category_id),
            update,
            Some(unchanged),
        );
        if &updated.slug != previous_slug {
            tx.delete(CategoryWrite::OldSlug, &keys::category_slug(previous_slug), None);
            tx.put(
                CategoryWrite::SlugTaken,
                marker_item(&keys::category_slug(&updated.slug), &updated.category_id.to_string())?,
                Some(Expr::absent()),
            );
        }
        self.commit(tx).await
    }

    /// Deletes a category with no products and no children.
    pub async fn delete_category(&self, category: &CategoryRecord) -> Result<(), TxError<CategoryWrite>> {
        let empty = Expr::new(
            "attribute_exists(PK) AND (attribute_not_exists(productCount) OR productCount = :zero) \
             AND (attribute_not_exists(childCount) OR childCount = :zero)",
        )
        .value(":zero", number(0));
        let mut tx = Transaction::new(self);
        tx.delete(
            CategoryWrite::Category,
            &keys::category_key(category.category_id),
            Some(empty),
        );
        tx.delete(CategoryWrite::OldSlug, &keys::category_slug(&category.slug), None);
        if let Some(parent) = category.parent_id {
            let (key, update, condition) = count_change(parent, "childCount", -1);
            tx.update(CategoryWrite::ParentGone, &key, update, Some(condition));
        }
        self.commit(tx).await
    }
}
