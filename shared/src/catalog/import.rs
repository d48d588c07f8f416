//! Applying one product of an import file: created when its SKU is new,
//! updated when the file changes it, left alone when it does not. Each product
//! is one transaction (see [`Catalog::create_product`] and
//! [`Catalog::update_product`]), so a refused row writes nothing; stock that
//! the file sets moves through the stock route's recorded changes.

use std::collections::BTreeMap;

use super::Catalog;
use super::products::{ProductDraft, VariantInput, apply_draft};
use super::sheet::{Cell, Column, ProductLine, RowIssue};
use super::stock::{StockChange, StockOperation};
use crate::auth::Caller;
use crate::domain::{Sku, VariantId};
use crate::http::{ApiError, ErrorCode};
use crate::store::products::ProductRecord;

/// What became of a product of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Why a product was not applied.
#[derive(Debug)]
pub enum LineError {
    /// The file is wrong for this product: reported, and the import goes on.
    Refused(Vec<RowIssue>),
    /// The store failed or another edit raced this one: try the product again later.
    Retry(ApiError),
    /// Another writer created the SKU between the lookup and the create.
    Raced,
}

impl From<ApiError> for LineError {
    fn from(error: ApiError) -> Self {
        Self::Retry(error)
    }
}

impl From<crate::store::StoreError> for LineError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Retry(error.into())
    }
}

impl Catalog {
    /// Creates or updates the product the line names by its SKU.
    #[tracing::instrument(skip_all)]
    pub async fn import_product(
        &self,
        caller: &Caller,
        line: &ProductLine,
        reason: &str,
    ) -> Result<Outcome, LineError> {
        caller.require_admin()?;
        let sku = line.sku();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let existing = match self.store.sku_owner(sku).await? {
                Some(owner) => self.store.product_consistent(owner).await?,
                None => None,
            };
            let applied = match existing {
                None => self.import_new(caller, line).await,
                Some(product) if product.sku != *sku => Err(refused(
                    line.row,
                    Column::Sku,
                    format!("{sku} is a variant SKU of product {}", product.sku),
                )),
                Some(product) => self.import_existing(caller, line, product, reason).await,
            };
            match applied {
                // The same file imported twice at once: the other import
                // created it; compare with what it wrote.
                Err(LineError::Raced) if attempts < 3 => continue,
                Err(LineError::Raced) => {
                    return Err(LineError::Retry(ApiError::new(
                        ErrorCode::Unavailable,
                        "the SKU kept changing hands",
                    )));
                }
                other => return other,
            }
        }
    }

    async fn import_new(&self, caller: &Caller, line: &ProductLine) -> Result<Outcome, LineError> {
        let mut missing = Vec::new();
        let mut required = |cell: &Cell<String>, column: Column| -> Option<String> {
            let value = cell.clone().flatten();
            if value.is_none() {
                missing.push(RowIssue::new(line.row, Some(column), "is required for a new product"));
            }
            value
        };
        let name = required(&line.name, Column::Name);
        let description = required(&line.description, Column::Description);
        let brand = required(&line.brand, Column::Brand);
        let category = required(&line.category, Column::Category);
        if line.price.flatten().is_none() {
            missing.push(RowIssue::new(
                line.row,
                Some(Column::Price),
                "is required for a new product",
            ));
        }
        if !missing.is_empty() {
            return Err(LineError::Refused(missing));
        }
        let variants = line.variants.as_ref().map(|variants| {
            variants
                .iter()
                .map(|v| VariantInput {
                    variant_id: None,
                    sku: v.sku.clone(),
                    options: v.options.clone(),
                    price: v.price,
                    stock: v.stock.flatten(),
                })
                .collect()
        });
        let draft = ProductDraft {
            name,
            slug: line.slug.clone().flatten(),
            description,
            price: line.price.flatten(),
            compare_price: Some(line.compare_price.flatten()),
            currency: line.currency.clone().flatten(),
            category,
            brand,
            sku: Some(line.sku().clone()),
            images: line.images.clone(),
            tags: line.tags.clone(),
            status: line.status.flatten(),
            is_featured: line.is_featured.flatten(),
            low_stock_threshold: line.low_stock_threshold.flatten(),
            stock: line.stock.flatten(),
            variants,
            ..ProductDraft::default()
        };
        match self.create_product(caller, draft).await {
            Ok(_) => Ok(Outcome::Created),
            // Taken since the lookup (the slug is checked before the SKU, so
            // ask the SKU's marker): another import of this product won.
            Err(error)
                if error.code == ErrorCode::AlreadyExists && self.store.sku_owner(line.sku()).await?.is_some() =>
            {
                Err(LineError::Raced)
            }
            Err(error) => Err(line_error(error, line)),
        }
    }

    async fn import_existing(
        &self,
        caller: &Caller,
        line: &ProductLine,
        previous: ProductRecord,
        reason: &str,
    ) -> Result<Outcome, LineError> {
        let draft = update_draft(line, &previous)?;
        let tree = self.tree().await?;
        let mut content = previous.content.clone();
        if let Some(reference) = &draft.category {
            let category = tree
                .find(reference)
                .ok_or_else(|| refused(line.row, Column::Category, "no such category"))?;
            content.category_id = category.category_id;
            content.category_path = category.path.clone();
        }
        apply_draft(&mut content, &draft);
        content.search_terms = previous.search_terms.clone();
        let variants_change = draft.variants.as_ref().is_some_and(|inputs| {
            let wanted: BTreeMap<&Sku, (&BTreeMap<String, String>, _)> =
                inputs.iter().map(|v| (&v.sku, (&v.options, v.price))).collect();
            let stored: BTreeMap<&Sku, (&BTreeMap<String, String>, _)> = previous
                .variants
                .values()
                .map(|v| (&v.sku, (&v.options, v.price)))
                .collect();
            wanted != stored
        });
        let mut outcome = Outcome::Unchanged;
        let id = previous.product_id.to_string();
        let mut current = previous.clone();
        if content != previous.content || variants_change {
            self.update_product(caller, &id, draft)
                .await
                .map_err(|error| line_error(error, line))?;
            current = self.existing_product(&id).await?;
            outcome = Outcome::Updated;
        }
        for (variant_id, target) in stock_targets(line, &current) {
            let stock = match variant_id {
                Some(variant) => current.variants.get(&variant.to_string()).map_or(0, |v| v.stock),
                None => current.stock,
            };
            if stock == target {
                continue;
            }
            let change = StockChange {
                variant_id,
                operation: StockOperation::Set(target),
                reason: reason.to_owned(),
            };
            self.change_stock(caller, &id, change)
                .await
                .map_err(|error| line_error(error, line))?;
            outcome = Outcome::Updated;
        }
        Ok(outcome)
    }
}

/// The draft that brings `previous` to what the line says; columns the file
/// does not have leave their fields alone.
fn update_draft(line: &ProductLine, previous: &ProductRecord) -> Result<ProductDraft, LineError> {
    let mut issues = Vec::new();
    let mut kept = |cell: &Cell<String>, column: Column| -> Option<String> {
        match cell {
            Some(None) => {
                issues.push(RowIssue::new(line.row, Some(column), "cannot be empty"));
                None
            }
            other => other.clone().flatten(),
        }
    };
    let name = kept(&line.name, Column::Name);
    let description = kept(&line.description, Column::Description);
    let brand = kept(&line.brand, Column::Brand);
    let category = kept(&line.category, Column::Category);
    if line.price == Some(None) {
        issues.push(RowIssue::new(line.row, Some(Column::Price), "cannot be empty"));
    }
    if !issues.is_empty() {
        return Err(LineError::Refused(issues));
    }
    let variants = line.variants.as_ref().map(|variants| {
        variants
            .iter()
            .map(|v| VariantInput {
                variant_id: previous
                    .variants
                    .values()
                    .find(|p| p.sku == v.sku)
                    .map(|p| p.variant_id),
                sku: v.sku.clone(),
                options: v.options.clone(),
                price: v.price,
                stock: None,
            })
            .collect()
    });
    Ok(ProductDraft {
        name,
        slug: line.slug.clone().flatten(),
        description,
        price: line.price.flatten(),
        compare_price: line.compare_price,
        currency: line.currency.clone().flatten(),
        category,
        brand,
        images: line.images.clone(),
        tags: line.tags.clone(),
        status: line.status.flatten(),
        is_featured: line.is_featured.flatten(),
        low_stock_threshold: line.low_stock_threshold.flatten(),
        variants,
        version: Some(previous.version),
        ..ProductDraft::default()
    })
}

/// The stock levels the line sets (by variant id, `None` for the product's
/// own), for stock cells that are filled in.
fn stock_targets(line: &ProductLine, product: &ProductRecord) -> Vec<(Option<VariantId>, i64)> {
    let mut targets = Vec::new();
    if product.variants.is_empty()
        && let Some(Some(stock)) = line.stock
    {
        targets.push((None, stock));
    }
    for variant in line.variants.iter().flatten() {
        if let Some(Some(stock)) = variant.stock
            && let Some(stored) = product.variants.values().find(|v| v.sku == variant.sku)
        {
            targets.push((Some(stored.variant_id), stock));
        }
    }
    targets
}

fn refused(row: u64, column: Column, reason: impl Into<String>) -> LineError {
    LineError::Refused(vec![RowIssue::new(row, Some(column), reason)])
}

/// A product refused by the catalog's own rules becomes row issues naming the
/// file's columns; a failure of the store or a racing edit is retried.
fn line_error(error: ApiError, line: &ProductLine) -> LineError {
    if error.status().is_server_error() || matches!(error.code, ErrorCode::StaleVersion | ErrorCode::RateLimited) {
        return LineError::Retry(error);
    }
    let details = error.details.as_ref().and_then(serde_json::Value::as_array);
    let issues: Vec<RowIssue> = match details {
        Some(details) if !details.is_empty() => details
            .iter()
            .map(|detail| {
                let field = detail["field"].as_str().unwrap_or_default();
                let (row, column) = column_of(field, line);
                RowIssue {
                    row,
                    column: Some(column),
                    reason: detail["message"].as_str().unwrap_or(&error.message).to_owned(),
                }
            })
            .collect(),
        _ => vec![RowIssue {
            row: line.row,
            column: None,
            reason: error.message.clone(),
        }],
    };
    LineError::Refused(issues)
}

/// The row and column of the file that an API field name stands for.
fn column_of(field: &str, line: &ProductLine) -> (u64, String) {
    if let Some(rest) = field.strip_prefix("variants[")
        && let Some((index, part)) = rest.split_once("].")
        && let Ok(index) = index.parse::<usize>()
    {
        let row = line
            .variants
            .as_ref()
            .and_then(|v| v.get(index))
            .map_or(line.row, |v| v.row);
        let column = match part {
            "options" => Column::OptionName(1).name(),
            "price" => Column::VariantPrice.name(),
            "stock" => Column::VariantStock.name(),
            _ => Column::VariantSku.name(),
        };
        return (row, column);
    }
    let column = match field {
        "categoryId" => Column::Category.name(),
        "variants" => Column::VariantSku.name(),
        "inventory" => Column::Stock.name(),
        other => other.to_owned(),
    };
    (line.row, column)
}
