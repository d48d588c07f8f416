//! Categories, products (with variants and stock), markers, the search index,
//! reviews, purchases and wishlists.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::{Item, Store, StoreError, from_item, number, string, to_item};
use crate::domain::{
    CategoryId, ProductId, ProductStatus, Rating, ReviewId, ReviewStatus, Sku, Slug, Timestamp, UserId, VariantId,
};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantRecord {
    pub variant_id: VariantId,
    pub sku: Sku,
    /// e.g. `{"Size": "M", "Color": "Black"}`.
    pub options: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    pub stock: i64,
}

/// The fields an admin edits. Stock, ratings and timestamps are not here:
/// a content update never writes them, so it cannot undo a concurrent stock change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductContent {
    pub name: String,
    pub slug: Slug,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    /// Minor units (cents).
    pub price: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_price: Option<i64>,
    pub currency: String,
    pub category_id: CategoryId,
    pub category_path: Vec<CategoryId>,
    pub brand: String,
    pub sku: Sku,
    pub images: Vec<String>,
    /// The first image, for product cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub specifications: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub status: ProductStatus,
    pub is_featured: bool,
    pub low_stock_threshold: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seo_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seo_description: Option<String>,
    /// Search terms of this product and their weights (see `catalog::search`).
    #[serde(default)]
    pub search_terms: BTreeMap<String, u8>,
}

/// Attributes of [`ProductContent`] that may be absent (removed when `None`).
const OPTIONAL_CONTENT: [&str; 5] = ["longDescription", "comparePrice", "image", "seoTitle", "seoDescription"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRecord {
    pub product_id: ProductId,
    #[serde(flatten)]
    pub content: ProductContent,
    /// Stock of the product itself (0 when it has variants).
    pub stock: i64,
    /// Keyed by variant id, so one variant's stock is addressable in an update expression.
    #[serde(default)]
    pub variants: BTreeMap<String, VariantRecord>,
    /// Everything available: `stock` plus every variant's stock, kept in the same writes.
    pub inventory: i64,
    #[serde(default)]
    pub rating_total: i64,
    #[serde(default)]
    pub review_count: i64,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A product reads as its content (`product.name`, `product.price`, …).
impl std::ops::Deref for ProductRecord {
    type Target = ProductContent;

    fn deref(&self) -> &ProductContent {
        &self.content
    }
}

impl ProductRecord {
    /// Every SKU of the product: its own and its variants'.
    pub fn skus(&self) -> Vec<Sku> {
        std::iter::once(self.sku.clone())
            .chain(self.variants.values().map(|v| v.sku.clone()))
            .collect()
    }

    pub fn key(&self) -> Key {
        keys::product(self.product_id, &self.slug, self.status)
    }
}

/// What the catalog index projects: enough for a product card, a filter and a facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardRecord {
    pub product_id: ProductId,
    pub name: String,
    pub slug: Slug,
    #[serde(default)]
    pub description: String,
    pub price: i64,
    #[serde(default)]
    pub compare_price: Option<i64>,
    pub currency: String,
    pub brand: String,
    pub sku: Sku,
    pub category_id: CategoryId,
    pub category_path: Vec<CategoryId>,
    pub inventory: i64,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub rating_total: i64,
    #[serde(default)]
    pub review_count: i64,
    pub status: ProductStatus,
    pub is_featured: bool,
    pub created_at: Timestamp,
    #[serde(default)]
    pub low_stock_threshold: i64,
}

impl From<&ProductRecord> for CardRecord {
    fn from(product: &ProductRecord) -> Self {
        Self {
            product_id: product.product_id,
            name: product.name.clone(),
            slug: product.slug.clone(),
            description: product.description.clone(),
            price: product.price,
            compare_price: product.compare_price,
            currency: product.currency.clone(),
            brand: product.brand.clone(),
            sku: product.sku.clone(),
            category_id: product.category_id,
            category_path: product.category_path.clone(),
            inventory: product.inventory,
            image: product.image.clone(),
            rating_total: product.rating_total,
            review_count: product.review_count,
            status: product.status,
            is_featured: product.is_featured,
            created_at: product.created_at,
            low_stock_threshold: product.low_stock_threshold,
        }
    }
}

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
                .with_index(1, keys::approved_reviews(self.product_id), self.review_id.to_string())
                .with_index(
                    2,
                    keys::approved_reviews(self.product_id),
                    format!("{}#{}", self.rating.stars(), self.review_id),
                ),
            ReviewStatus::Pending => key.with_index(3, keys::PENDING_REVIEWS, self.review_id.to_string()),
            ReviewStatus::Rejected => key,
        }
    }
}

/// Proof that a customer bought a product; written when an order is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseRecord {
    pub user_id: UserId,
    pub product_id: ProductId,
    pub order_id: String,
    pub purchased_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WishlistRecord {
    pub product_id: ProductId,
    pub added_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkerRecord {
    owner: String,
}

/// One item of a transaction, built by the catalog service's writes.
fn put_new(store: &Store, item: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            aws_sdk_dynamodb::types::Put::builder()
                .table_name(store.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .expect("table and item are set"),
        )
        .build()
}

fn marker(store: &Store, key: &Key, owner: &str) -> Result<TransactWriteItem, StoreError> {
    Ok(put_new(
        store,
        to_item(
            key,
            &MarkerRecord {
                owner: owner.to_owned(),
            },
        )?,
    ))
}

fn delete(store: &Store, key: &Key) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(
            aws_sdk_dynamodb::types::Delete::builder()
                .table_name(store.table())
                .set_key(Some(key.primary()))
                .build()
                .expect("key is set"),
        )
        .build()
}

fn count_change(store: &Store, category: CategoryId, attribute: &str, delta: i64) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            aws_sdk_dynamodb::types::Update::builder()
                .table_name(store.table())
                .set_key(Some(keys::category(category).primary()))
                .update_expression(format!("ADD {attribute} :delta"))
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":delta", number(delta))
                .build()
                .expect("key is set"),
        )
        .build()
}

/// What went into a product transaction, in order, so a failed condition can be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductWrite {
    Product,
    SlugMarker,
    SkuMarker(Sku),
    Category,
    Other,
}

/// A cancelled product transaction: which write's condition failed.
pub fn failed_write(error: &StoreError, writes: &[ProductWrite]) -> Option<ProductWrite> {
    writes
        .iter()
        .enumerate()
        .find(|(index, _)| error.failed_condition_at(*index))
        .map(|(_, write)| write.clone())
}

impl Store {
    // ---- categories ----

    pub async fn categories(&self) -> Result<Vec<CategoryRecord>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .index_name(keys::GSI1)
                    .key_condition_expression("GSI1PK = :pk")
                    .expression_attribute_values(":pk", string(keys::ALL_CATEGORIES))
            })
            .await?;
        items.into_iter().map(from_item).collect()
    }

    pub async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        self.read(&keys::category(id)).await
    }

    /// The category, its slug marker and the parent's child count; fails at 1 when
    /// the slug is taken and at 2 when the parent is gone.
    pub async fn create_category(&self, category: &CategoryRecord) -> Result<(), StoreError> {
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(put_new(self, to_item(&keys::category(category.category_id), category)?))
            .transact_items(marker(
                self,
                &keys::category_slug(&category.slug),
                &category.category_id.to_string(),
            )?);
        if let Some(parent) = category.parent_id {
            transaction = transaction.transact_items(count_change(self, parent, "childCount", 1));
        }
        transaction.send().await?;
        Ok(())
    }

    /// Replaces a category's editable fields if it is still at `expected_version`
    /// (index 0); a new slug swaps the markers (index 2 fails when it is taken).
    pub async fn update_category(
        &self,
        updated: &CategoryRecord,
        previous_slug: &Slug,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let mut fields: Item = serde_dynamo::to_item(updated)?;
        for counter in ["productCount", "childCount"] {
            fields.remove(counter);
        }
        let (expression, names, values, removes) = set_expression(fields, &["description", "image", "parentId"]);
        let mut update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(self.table())
            .set_key(Some(keys::category(updated.category_id).primary()))
            .update_expression(with_removes(expression, &removes))
            .condition_expression("attribute_exists(PK) AND #version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .expression_attribute_values(":expected", number(expected_version));
        update = update.expression_attribute_names("#version", "version");
        let mut transaction = self.client().transact_write_items().transact_items(
            TransactWriteItem::builder()
                .update(update.build().expect("key is set"))
                .build(),
        );
        if &updated.slug != previous_slug {
            transaction = transaction
                .transact_items(delete(self, &keys::category_slug(previous_slug)))
                .transact_items(marker(
                    self,
                    &keys::category_slug(&updated.slug),
                    &updated.category_id.to_string(),
                )?);
        }
        transaction.send().await?;
        Ok(())
    }

    /// Deletes a category with no products and no children (index 0 fails otherwise).
    pub async fn delete_category(&self, category: &CategoryRecord) -> Result<(), StoreError> {
        let removal = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .set_key(Some(keys::category(category.category_id).primary()))
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(productCount) OR productCount = :zero) \
                 AND (attribute_not_exists(childCount) OR childCount = :zero)",
            )
            .expression_attribute_values(":zero", number(0))
            .build()
            .expect("key is set");
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(removal).build())
            .transact_items(delete(self, &keys::category_slug(&category.slug)));
        if let Some(parent) = category.parent_id {
            transaction = transaction.transact_items(count_change(self, parent, "childCount", -1));
        }
        transaction.send().await?;
        Ok(())
    }

    // ---- products ----

    pub async fn product(&self, id: ProductId) -> Result<Option<ProductRecord>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(keys::product_key(id).primary()))
            .send()
            .await?;
        output.item.map(from_item).transpose()
    }

    pub async fn product_consistent(&self, id: ProductId) -> Result<Option<ProductRecord>, StoreError> {
        self.read(&keys::product_key(id)).await
    }

    /// By slug, through the slug index (one Query).
    pub async fn product_by_slug(&self, slug: &Slug) -> Result<Option<ProductRecord>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk AND GSI1SK = :sk")
            .expression_attribute_values(":pk", string(keys::product_slug_index(slug)))
            .expression_attribute_values(":sk", string("PRODUCT"))
            .send()
            .await?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(from_item)
            .transpose()
    }

    /// Products by id, in any order (BatchGetItem in parallel chunks of 100).
    pub async fn products(&self, ids: &[ProductId]) -> Result<Vec<ProductRecord>, StoreError> {
        let keys: Vec<_> = ids.iter().map(|id| keys::product_key(*id).primary()).collect();
        let items = self.batch_get(keys).await?;
        items.into_iter().map(from_item).collect()
    }

    /// Every card of the catalog index partitions of `statuses` (shards read concurrently).
    pub async fn catalog_cards(&self, statuses: &[ProductStatus]) -> Result<Vec<CardRecord>, StoreError> {
        let queries = statuses.iter().flat_map(|status| {
            (0..keys::CATALOG_SHARDS).map(move |shard| {
                let partition = keys::catalog_partition(*status, shard);
                async move {
                    self.query_all(|query| {
                        query
                            .index_name(keys::CATALOG_INDEX)
                            .key_condition_expression("GSI4PK = :pk")
                            .expression_attribute_values(":pk", string(partition.clone()))
                    })
                    .await
                }
            })
        });
        let pages = futures::future::try_join_all(queries).await?;
        pages.into_iter().flatten().map(from_item).collect()
    }

    /// Creates a product with its slug and SKU markers, counts it in its category,
    /// and records its opening stock. The returned writes name each transaction item.
    pub async fn create_product(
        &self,
        product: &ProductRecord,
        opening_stock: &[StockChangeRecord],
    ) -> Result<(), (StoreError, Vec<ProductWrite>)> {
        let mut writes = Vec::new();
        let build = || -> Result<Vec<TransactWriteItem>, StoreError> {
            let owner = product.product_id.to_string();
            let mut items = vec![put_new(self, to_item(&product.key(), product)?)];
            items.push(marker(self, &keys::product_slug_marker(&product.slug), &owner)?);
            for sku in product.skus() {
                items.push(marker(self, &keys::sku_marker(&sku), &owner)?);
            }
            items.push(count_change(self, product.category_id, "productCount", 1));
            for change in opening_stock {
                items.push(put_new(self, to_item(&keys::stock_change(product.product_id), change)?));
            }
            Ok(items)
        };
        writes.push(ProductWrite::Product);
        writes.push(ProductWrite::SlugMarker);
        writes.extend(product.skus().into_iter().map(ProductWrite::SkuMarker));
        writes.push(ProductWrite::Category);
        writes.extend(opening_stock.iter().map(|_| ProductWrite::Other));
        self.transact_labelled(build(), &writes).await
    }

    /// Applies new content to a product still at `expected_version`, without
    /// touching stock: markers follow slug and SKU changes, category counts follow
    /// a move, new variants start at zero, and removed variants must have no stock.
    pub async fn update_product(
        &self,
        previous: &ProductRecord,
        content: &ProductContent,
        variants: &BTreeMap<String, VariantRecord>,
        now: Timestamp,
    ) -> Result<(), (StoreError, Vec<ProductWrite>)> {
        let mut writes = vec![ProductWrite::Product];
        let build = |writes: &mut Vec<ProductWrite>| -> Result<Vec<TransactWriteItem>, StoreError> {
            let owner = previous.product_id.to_string();
            let mut fields: Item = serde_dynamo::to_item(content)?;
            fields.insert("updatedAt".into(), string(now.to_string()));
            let new_key = keys::product(previous.product_id, &content.slug, content.status);
            for (name, value) in &new_key.indexes {
                fields.insert((*name).to_owned(), string(value.clone()));
            }
            let (mut expression, mut names, mut values, removes) = set_expression(fields, &OPTIONAL_CONTENT);
            let mut conditions = vec!["#version = :expected".to_owned()];
            names.insert("#version".into(), "version".into());
            values.insert(":expected".into(), number(previous.version));
            values.insert(":one".into(), number(1));
            expression.push_str(", #version = #version + :one");
            let mut variant_removes = Vec::new();
            for (index, (id, variant)) in variants.iter().enumerate() {
                names.insert(format!("#v{index}"), id.clone());
                if previous.variants.contains_key(id) {
                    for (attribute, value) in [
                        ("sku", Some(string(variant.sku.as_str()))),
                        ("options", Some(serde_dynamo::to_attribute_value(&variant.options)?)),
                    ] {
                        if let Some(value) = value {
                            expression.push_str(&format!(", variants.#v{index}.{attribute} = :v{index}{attribute}"));
                            values.insert(format!(":v{index}{attribute}"), value);
                        }
                    }
                    match variant.price {
                        Some(price) => {
                            expression.push_str(&format!(", variants.#v{index}.price = :v{index}price"));
                            values.insert(format!(":v{index}price"), number(price));
                        }
                        None => variant_removes.push(format!("variants.#v{index}.price")),
                    }
                } else {
                    expression.push_str(&format!(", variants.#v{index} = :v{index}"));
                    values.insert(
                        format!(":v{index}"),
                        serde_dynamo::to_attribute_value(VariantRecord {
                            stock: 0,
                            ..variant.clone()
                        })?,
                    );
                }
            }
            let gone: Vec<&String> = previous
                .variants
                .keys()
                .filter(|id| !variants.contains_key(*id))
                .collect();
            for (index, id) in gone.iter().enumerate() {
                names.insert(format!("#g{index}"), (*id).clone());
                variant_removes.push(format!("variants.#g{index}"));
                conditions.push(format!("variants.#g{index}.stock = :zero"));
                values.insert(":zero".into(), number(0));
            }
            if previous.variants.is_empty() && !variants.is_empty() {
                // The product's own stock cannot vanish into variants.
                conditions.push("stock = :zero".into());
                values.insert(":zero".into(), number(0));
            }
            if variants.is_empty() && !previous.variants.is_empty() {
                expression.push_str(", variants = :empty");
                values.insert(":empty".into(), AttributeValue::M(HashMap::new()));
                variant_removes.clear();
            }
            let all_removes: Vec<String> = removes.into_iter().chain(variant_removes).collect();
            let update = aws_sdk_dynamodb::types::Update::builder()
                .table_name(self.table())
                .set_key(Some(keys::product_key(previous.product_id).primary()))
                .update_expression(with_removes(expression, &all_removes))
                .condition_expression(conditions.join(" AND "))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .expect("key is set");
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            if content.slug != previous.slug {
                items.push(delete(self, &keys::product_slug_marker(&previous.slug)));
                writes.push(ProductWrite::Other);
                items.push(marker(self, &keys::product_slug_marker(&content.slug), &owner)?);
                writes.push(ProductWrite::SlugMarker);
            }
            let old_skus = previous.skus();
            let new_skus: Vec<Sku> = std::iter::once(content.sku.clone())
                .chain(variants.values().map(|v| v.sku.clone()))
                .collect();
            for sku in old_skus.iter().filter(|sku| !new_skus.contains(sku)) {
                items.push(delete(self, &keys::sku_marker(sku)));
                writes.push(ProductWrite::Other);
            }
            for sku in new_skus.iter().filter(|sku| !old_skus.contains(sku)) {
                items.push(marker(self, &keys::sku_marker(sku), &owner)?);
                writes.push(ProductWrite::SkuMarker(sku.clone()));
            }
            if content.category_id != previous.category_id {
                items.push(count_change(self, previous.category_id, "productCount", -1));
                writes.push(ProductWrite::Other);
                items.push(count_change(self, content.category_id, "productCount", 1));
                writes.push(ProductWrite::Category);
            }
            Ok(items)
        };
        let items = build(&mut writes);
        self.transact_labelled(items, &writes).await
    }

    /// Deletes a product with its markers, category count and search terms' owner.
    pub async fn delete_product(&self, product: &ProductRecord) -> Result<(), StoreError> {
        let removal = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .set_key(Some(keys::product_key(product.product_id).primary()))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", number(product.version))
            .build()
            .expect("key is set");
        let mut items = vec![TransactWriteItem::builder().delete(removal).build()];
        items.push(delete(self, &keys::product_slug_marker(&product.slug)));
        for sku in product.skus() {
            items.push(delete(self, &keys::sku_marker(&sku)));
        }
        items.push(count_change(self, product.category_id, "productCount", -1));
        self.client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await?;
        Ok(())
    }

    /// Adds `delta` to the stock of the product or one variant, never below zero
    /// (index 0 fails otherwise), and records the change in the same transaction.
    pub async fn change_stock(
        &self,
        change: &StockChangeRecord,
        expected: Option<i64>,
        ceiling: i64,
    ) -> Result<(), StoreError> {
        let target = match change.variant_id {
            Some(_) => "variants.#variant.stock",
            None => "stock",
        };
        let mut update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(self.table())
            .set_key(Some(keys::product_key(change.product_id).primary()))
            .update_expression(format!(
                "SET {target} = {target} + :delta, inventory = inventory + :delta, updatedAt = :now"
            ))
            .expression_attribute_values(":delta", number(change.delta))
            .expression_attribute_values(":now", string(change.at.to_string()));
        update = match expected {
            // A `set`: exact, so it applies only to the stock it was computed from.
            Some(stock) => update
                .condition_expression(format!("{target} = :expected"))
                .expression_attribute_values(":expected", number(stock)),
            // Relative: never below zero, never above the ceiling.
            None => update
                .condition_expression(format!("{target} >= :needed AND {target} <= :room"))
                .expression_attribute_values(":needed", number((-change.delta).max(0)))
                .expression_attribute_values(":room", number(ceiling - change.delta.max(0))),
        };
        if let Some(variant) = change.variant_id {
            update = update.expression_attribute_names("#variant", variant.to_string());
        }
        self.client()
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(update.build().expect("key is set"))
                    .build(),
            )
            .transact_items(put_new(self, to_item(&keys::stock_change(change.product_id), change)?))
            .send()
            .await?;
        Ok(())
    }

    /// Newest stock changes of a product first.
    pub async fn stock_changes(&self, product: ProductId, limit: i32) -> Result<Vec<StockChangeRecord>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", string(keys::product_partition(product)))
            .expression_attribute_values(":prefix", string(keys::STOCK_PREFIX))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await?;
        output.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    // ---- search index ----

    /// Product ids with a search term starting with `prefix` (one Query, following pages).
    pub async fn products_with_term_prefix(&self, prefix: &str) -> Result<Vec<(String, ProductId)>, StoreError> {
        let key = keys::search_term(prefix, ProductId::generate());
        let items = self
            .query_all(|query| {
                query
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":pk", string(key.pk.clone()))
                    .expression_attribute_values(":prefix", string(prefix))
                    .projection_expression("SK")
            })
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let sk = item.get(keys::SK)?.as_s().ok()?;
                let (term, product) = sk.rsplit_once('#')?;
                Some((term.to_owned(), ProductId::parse(product).ok()?))
            })
            .collect())
    }

    /// Makes the index hold exactly `terms` for `product`: puts every current term
    /// (idempotent, so a retry heals a partial write) and deletes the dropped ones.
    pub async fn sync_search_terms(
        &self,
        product: ProductId,
        previous: &BTreeMap<String, u8>,
        current: &BTreeMap<String, u8>,
    ) -> Result<(), StoreError> {
        let stale: Vec<Key> = previous
            .keys()
            .filter(|term| !current.contains_key(*term))
            .map(|term| keys::search_term(term, product))
            .collect();
        let fresh: Vec<Item> = current
            .keys()
            .map(|term| {
                let mut item = keys::search_term(term, product).primary();
                item.insert("productId".into(), string(product.to_string()));
                item
            })
            .collect();
        self.put_items(fresh).await?;
        self.delete_keys(&stale).await
    }

    // ---- reviews ----

    pub async fn review(&self, product: ProductId, review: ReviewId) -> Result<Option<ReviewRecord>, StoreError> {
        self.read(&keys::review(product, review)).await
    }

    /// The product, the customer's purchase record and profile, in one BatchGetItem.
    pub async fn review_context(
        &self,
        product: ProductId,
        user: UserId,
    ) -> Result<(Option<ProductRecord>, bool, Option<super::users::UserRecord>), StoreError> {
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
            let pk = keys::text_of(&item, keys::PK);
            let sk = keys::text_of(&item, keys::SK);
            if pk == product_key.pk {
                found.0 = Some(from_item(item)?);
            } else if sk == purchase_key.sk {
                found.1 = true;
            } else if sk == profile_key.sk {
                found.2 = Some(from_item(item)?);
            }
        }
        Ok(found)
    }

    /// A new review and the marker of one review per customer (index 1 fails on a second).
    pub async fn create_review(&self, review: &ReviewRecord) -> Result<(), StoreError> {
        self.client()
            .transact_write_items()
            .transact_items(put_new(self, to_item(&review.key(), review)?))
            .transact_items(marker(
                self,
                &keys::reviewer_marker(review.product_id, review.user_id),
                &review.review_id.to_string(),
            )?)
            .send()
            .await?;
        Ok(())
    }

    /// Replaces a review still at `previous`'s version (index 0), moving the
    /// product's rating by `rating_change` (total, count) in the same transaction.
    pub async fn replace_review(
        &self,
        previous: &ReviewRecord,
        updated: &ReviewRecord,
        rating_change: (i64, i64),
    ) -> Result<(), StoreError> {
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&updated.key(), updated)?))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", number(previous.version))
            .build()
            .expect("table and item are set");
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build());
        if rating_change != (0, 0) {
            transaction = transaction.transact_items(self.rating_change(previous.product_id, rating_change));
        }
        transaction.send().await?;
        Ok(())
    }

    /// Deletes a review still at its version and its marker, taking its rating off the product.
    pub async fn delete_review(&self, review: &ReviewRecord, rating_change: (i64, i64)) -> Result<(), StoreError> {
        let removal = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .set_key(Some(keys::review(review.product_id, review.review_id).primary()))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", number(review.version))
            .build()
            .expect("key is set");
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(removal).build())
            .transact_items(delete(self, &keys::reviewer_marker(review.product_id, review.user_id)));
        if rating_change != (0, 0) {
            transaction = transaction.transact_items(self.rating_change(review.product_id, rating_change));
        }
        transaction.send().await?;
        Ok(())
    }

    fn rating_change(&self, product: ProductId, (total, count): (i64, i64)) -> TransactWriteItem {
        TransactWriteItem::builder()
            .update(
                aws_sdk_dynamodb::types::Update::builder()
                    .table_name(self.table())
                    .set_key(Some(keys::product_key(product).primary()))
                    .update_expression("ADD ratingTotal :total, reviewCount :count")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":total", number(total))
                    .expression_attribute_values(":count", number(count))
                    .build()
                    .expect("key is set"),
            )
            .build()
    }

    /// One page of approved reviews, newest (`GSI1`) or highest rated (`GSI2`) first.
    pub async fn approved_reviews(
        &self,
        product: ProductId,
        highest_first: bool,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<ReviewRecord>, u64), StoreError> {
        let (index, pk) = if highest_first {
            (keys::GSI2, "GSI2PK")
        } else {
            (keys::GSI1, "GSI1PK")
        };
        let (items, total) = self
            .query_page(index, pk, &keys::approved_reviews(product), false, page, limit)
            .await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, total))
    }

    pub async fn pending_reviews(&self, page: u32, limit: u32) -> Result<(Vec<ReviewRecord>, u64), StoreError> {
        let (items, total) = self
            .query_page(keys::GSI3, "GSI3PK", keys::PENDING_REVIEWS, true, page, limit)
            .await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, total))
    }

    /// Records a purchase (the orders work calls this when an order is confirmed).
    /// Puts the purchase records (plain overwrites: safe to repeat), 25 per request.
    pub async fn record_purchases(&self, purchases: &[PurchaseRecord]) -> Result<(), StoreError> {
        let requests = purchases
            .iter()
            .map(|purchase| {
                let item = to_item(&keys::purchase(purchase.user_id, purchase.product_id), purchase)?;
                let put = aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Request(Box::new(e)))?;
                Ok(aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(put)
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.write_batches(requests).await
    }

    // ---- wishlist ----

    pub async fn wishlist(&self, user: UserId) -> Result<Vec<WishlistRecord>, StoreError> {
        let items = self
            .query_all(|query| {
                query
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":pk", string(keys::user_partition(user)))
                    .expression_attribute_values(":prefix", string(keys::WISH_PREFIX))
                    .consistent_read(true)
            })
            .await?;
        items.into_iter().map(from_item).collect()
    }

    /// Adds a product; `false` when it was already there (the first `addedAt` stays).
    pub async fn add_to_wishlist(&self, user: UserId, entry: &WishlistRecord) -> Result<bool, StoreError> {
        let added = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&keys::wishlist_entry(user, entry.product_id), entry)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match added.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(err) => Err(err),
        }
    }

    pub async fn remove_from_wishlist(&self, user: UserId, product: ProductId) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(keys::wishlist_entry(user, product).primary()))
            .send()
            .await?;
        Ok(())
    }

    // ---- helpers ----

    /// Items for `keys` (BatchGetItem, chunks of 100 sent concurrently, unprocessed keys retried).
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let chunks = keys.chunks(100).map(|chunk| {
            let chunk = chunk.to_vec();
            async move {
                let mut pending = KeysAndAttributes::builder()
                    .set_keys(Some(chunk))
                    .build()
                    .expect("keys are set");
                let mut found = Vec::new();
                for attempt in 0..8u32 {
                    let output = self
                        .client()
                        .batch_get_item()
                        .request_items(self.table(), pending.clone())
                        .send()
                        .await?;
                    found.extend(
                        output
                            .responses
                            .and_then(|mut t| t.remove(self.table()))
                            .unwrap_or_default(),
                    );
                    match output.unprocessed_keys.and_then(|mut t| t.remove(self.table())) {
                        Some(rest) if !rest.keys().is_empty() => pending = rest,
                        _ => return Ok::<_, StoreError>(found),
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
                Ok(found)
            }
        });
        Ok(futures::future::try_join_all(chunks)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Writes `items` (BatchWriteItem).
    pub async fn put_items(&self, items: Vec<Item>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let requests = items
            .into_iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item is set"))
                    .build()
            })
            .collect();
        self.write_batches(requests).await
    }
}

/// `SET #a = :a, …` for every attribute of `fields`, and the optional attributes
/// missing from it (to `REMOVE`).
fn set_expression(
    fields: Item,
    optional: &[&str],
) -> (
    String,
    HashMap<String, String>,
    HashMap<String, AttributeValue>,
    Vec<String>,
) {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut sets = Vec::new();
    let mut removes = Vec::new();
    for name in optional {
        if !fields.contains_key(*name) {
            names.insert(format!("#{name}"), (*name).to_owned());
            removes.push(format!("#{name}"));
        }
    }
    for (name, value) in fields {
        names.insert(format!("#{name}"), name.clone());
        values.insert(format!(":{name}"), value);
        sets.push(format!("#{name} = :{name}"));
    }
    sets.sort();
    (format!("SET {}", sets.join(", ")), names, values, removes)
}

fn with_removes(mut expression: String, removes: &[String]) -> String {
    if !removes.is_empty() {
        expression.push_str(" REMOVE ");
        expression.push_str(&removes.join(", "));
    }
    expression
}
