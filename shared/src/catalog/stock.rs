//! Stock administration: set or adjust, never below zero, every change recorded.

use serde::Serialize;

use super::Catalog;
use crate::auth::Caller;
use crate::domain::{Timestamp, VariantId};
use crate::http::form_value::text;
use crate::http::{ApiError, ErrorCode, FieldIssue, Form};
use crate::store::stock::{StockChangeRecord, StockWrite};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockOperation {
    /// Make the stock exactly this.
    Set(i64),
    /// Add (or, negative, remove) this many.
    Adjust(i64),
}

/// `{"set": 25, "reason": "…"}` or `{"adjust": -3, "reason": "…"}`, with `variantId` for a variant.
#[derive(Debug, Clone)]
pub struct StockChange {
    pub variant_id: Option<VariantId>,
    pub operation: StockOperation,
    pub reason: String,
}

const MAX_STOCK: i64 = 1_000_000;

impl StockChange {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&["variantId", "set", "adjust", "reason"]);
        let variant_id = form.optional("variantId", |v| VariantId::parse(&text(v)?).map_err(|e| e.to_string()));
        let set = form.optional("set", |v| {
            v.as_i64()
                .filter(|n| (0..=MAX_STOCK).contains(n))
                .ok_or("must be a whole number from 0")
        });
        let adjust = form.optional("adjust", |v| {
            v.as_i64()
                .filter(|n| *n != 0 && n.abs() <= MAX_STOCK)
                .ok_or("must be a non-zero whole number")
        });
        let reason = form.required("reason", |v| {
            let reason = text(v)?.trim().to_owned();
            if (1..=200).contains(&reason.chars().count()) {
                Ok(reason)
            } else {
                Err("must be 1 to 200 characters")
            }
        });
        let (Some(variant_id), Some(set), Some(adjust), Some(reason)) = (variant_id, set, adjust, reason) else {
            return Err(form.into_error());
        };
        let operation = match (set, adjust) {
            (Some(target), None) => StockOperation::Set(target),
            (None, Some(delta)) => StockOperation::Adjust(delta),
            _ => {
                return Err(ApiError::validation(
                    vec![FieldIssue::new("set", "send exactly one of set or adjust")],
                    Vec::new(),
                ));
            }
        };
        Ok(Self {
            variant_id,
            operation,
            reason,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    pub product_id: crate::domain::ProductId,
    /// `null` for the product's own stock.
    pub variant_id: Option<VariantId>,
    pub stock: i64,
    pub inventory: i64,
}

/// Attempts of a `set` that lost a race with another change.
const SET_ATTEMPTS: usize = 5;

impl Catalog {
    /// One transaction (the conditional stock update and its record), then a
    /// consistent read of the new level. An adjustment below zero is BUS_001.
    #[tracing::instrument(skip_all)]
    pub async fn change_stock(
        &self,
        caller: &Caller,
        reference: &str,
        change: StockChange,
    ) -> Result<StockLevel, ApiError> {
        caller.require_admin()?;
        let mut product = self.existing_product(reference).await?;
        let current = |product: &crate::store::products::ProductRecord| -> Result<i64, ApiError> {
            match change.variant_id {
                Some(id) => product
                    .variants
                    .get(&id.to_string())
                    .map(|v| v.stock)
                    .ok_or_else(|| ApiError::invalid_field("variantId", "is not a variant of this product")),
                None if !product.variants.is_empty() => Err(ApiError::invalid_field(
                    "variantId",
                    "is required: this product keeps its stock in its variants",
                )),
                None => Ok(product.stock),
            }
        };
        for _ in 0..SET_ATTEMPTS {
            let stock = current(&product)?;
            let (delta, expected) = match change.operation {
                StockOperation::Set(target) => (target - stock, Some(stock)),
                StockOperation::Adjust(delta) => (delta, None),
            };
            let record = StockChangeRecord {
                product_id: product.product_id,
                variant_id: change.variant_id,
                delta,
                stock_after: expected.map(|_| stock + delta),
                reason: change.reason.clone(),
                actor: caller.user_id,
                at: Timestamp::now(),
            };
            if stock + delta > MAX_STOCK {
                return Err(ApiError::invalid_field(
                    "adjust",
                    format!("stock cannot exceed {MAX_STOCK}"),
                ));
            }
            match self.store.change_stock(&record, expected, MAX_STOCK).await {
                Ok(()) => {
                    let updated = self.existing_product(&product.product_id.to_string()).await?;
                    tracing::info!(productId = %product.product_id, delta, reason = %change.reason, "stock changed");
                    return Ok(StockLevel {
                        product_id: updated.product_id,
                        variant_id: change.variant_id,
                        stock: current(&updated)?,
                        inventory: updated.inventory,
                    });
                }
                Err(err) if err.refused(&StockWrite::Level) && expected.is_none() && delta < 0 => {
                    return Err(ApiError::new(
                        ErrorCode::InsufficientInventory,
                        format!("Not enough in stock to remove {}", -delta),
                    ));
                }
                Err(err) if err.refused(&StockWrite::Level) && expected.is_none() => {
                    return Err(ApiError::invalid_field(
                        "adjust",
                        format!("stock cannot exceed {MAX_STOCK}"),
                    ));
                }
                // A `set` raced another change: read the new level and set again.
                Err(err) if err.refused(&StockWrite::Level) || err.is_conflict() => {
                    product = self.existing_product(&product.product_id.to_string()).await?;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::stale_version())
    }

    /// ADMIN: the newest stock changes of a product.
    pub async fn stock_history(
        &self,
        caller: &Caller,
        reference: &str,
        limit: u32,
    ) -> Result<Vec<StockChangeRecord>, ApiError> {
        caller.require_admin()?;
        let product = self.existing_product(reference).await?;
        Ok(self
            .store
            .stock_changes(product.product_id, i32::try_from(limit).unwrap_or(100))
            .await?)
    }
}
