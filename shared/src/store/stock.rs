//! Stock changes made by admins: the product's (or a variant's) stock moves and
//! the change is recorded, in one transaction. Orders move stock in their own
//! transactions (see [`super::orders`]).

use serde::{Deserialize, Serialize};

use super::keys;
use super::table::{Expr, Query, Transaction, TxError};
use super::{Store, StoreError, number, string, to_item};
use crate::domain::{ProductId, Timestamp, UserId, VariantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockChangeRecord {
    pub product_id: ProductId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub delta: i64,
    /// The stock after the change, when it is known at write time (a `set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_after: Option<i64>,
    pub reason: String,
    pub actor: UserId,
    pub at: Timestamp,
}

/// The items of a stock change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockWrite {
    /// A `set` found another level than it was computed from, or an
    /// adjustment would go below zero or above the ceiling.
    Level,
    Record,
}

impl Store {
    /// Adds `delta` to the stock of the product or one variant (exactly from
    /// `expected` for a `set`; otherwise never below zero nor above `ceiling`)
    /// and records the change in the same transaction.
    pub async fn change_stock(
        &self,
        change: &StockChangeRecord,
        expected: Option<i64>,
        ceiling: i64,
    ) -> Result<(), TxError<StockWrite>> {
        let target = match change.variant_id {
            Some(_) => "variants.#variant.stock",
            None => "stock",
        };
        let mut update = Expr::new(format!(
            "SET {target} = {target} + :delta, inventory = inventory + :delta, updatedAt = :now"
        ))
        .value(":delta", number(change.delta))
        .value(":now", string(change.at.to_string()));
        if let Some(variant) = change.variant_id {
            update = update.name("#variant", variant.to_string());
        }
        let condition = match expected {
            // A `set`: exact, so it applies only to the stock it was computed from.
            Some(stock) => Expr::new(format!("{target} = :expected")).value(":expected", number(stock)),
            // Relative: never below zero, never above the ceiling.
            None => Expr::new(format!("{target} >= :needed AND {target} <= :room"))
                .value(":needed", number((-change.delta).max(0)))
                .value(":room", number(ceiling - change.delta.max(0))),
        };
        let mut tx = Transaction::new(self);
        tx.update(
            StockWrite::Level,
            &keys::product_key(change.product_id),
            update,
            Some(condition),
        );
        tx.put(
            StockWrite::Record,
            to_item(&keys::stock_change(change.product_id), change)?,
            Some(Expr::absent()),
        );
        self.commit(tx).await
    }

    /// Newest stock changes of a product first.
    pub async fn stock_changes(&self, product: ProductId, limit: i32) -> Result<Vec<StockChangeRecord>, StoreError> {
        let query = Query::table(keys::product_partition(product))
            .begins_with(keys::STOCK_PREFIX)
            .descending();
        self.query_first(&query, limit)
            .await?
            .into_iter()
            .map(super::from_item)
            .collect()
    }
}
