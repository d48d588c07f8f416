//! Products (variants embedded), their slug and SKU markers, the cards the
//! catalog index projects, and the search terms that point at them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::categories::count_change;
use super::keys::{self, Index, Key};
use super::table::{Expr, Query, Transaction, TxError};
use super::{Item, Store, StoreError, from_item, marker_item, number, string, to_item};
use crate::domain::money::cents;
use crate::domain::{CategoryId, Money, ProductId, ProductStatus, Sku, Slug, Timestamp, VariantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantRecord {
    pub variant_id: VariantId,
    pub sku: Sku,
    /// e.g. `{"Size": "M", "Color": "Black"}`.
    pub options: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "cents::option")]
    pub price: Option<Money>,
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
    #[serde(with = "cents")]
    pub price: Money,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "cents::option")]
    pub compare_price: Option<Money>,
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
    #[serde(with = "cents")]
    pub price: Money,
    #[serde(default, with = "cents::option")]
    pub compare_price: Option<Money>,
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

/// The items of product transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductWrite {
    /// New, or still at the version read.
    Product,
    SlugTaken,
    SkuTaken(Sku),
    CategoryGone,
    /// Markers and counters given up, and opening stock records.
    Other,
}

impl Store {
    /// An eventually consistent read (product pages and carts).
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

    /// The product that holds `sku` (as its own SKU or a variant's), from its marker.
    pub async fn sku_owner(&self, sku: &Sku) -> Result<Option<ProductId>, StoreError> {
        #[derive(Deserialize)]
        struct Marker {
            owner: String,
        }
        let marker: Option<Marker> = self.read(&keys::sku_marker(sku)).await?;
        Ok(marker.and_then(|m| ProductId::parse(&m.owner).ok()))
    }

    /// By slug, through the slug index (one Query).
    pub async fn product_by_slug(&self, slug: &Slug) -> Result<Option<ProductRecord>, StoreError> {
        let query =
            Query::index(Index::Gsi1, keys::product_slug_index(slug)).between(keys::PRODUCT_SK, keys::PRODUCT_SK);
        self.query_first(&query, 1)
            .await?
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
                let query = Query::index(Index::Catalog, keys::catalog_partition(*status, shard));
                async move { self.query_records::<CardRecord>(&query).await }
            })
        });
        let pages = futures::future::try_join_all(queries).await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// Creates a product with its slug and SKU markers, counts it in its
    /// category, and records its opening stock.
    pub async fn create_product(
        &self,
        product: &ProductRecord,
        opening_stock: &[super::stock::StockChangeRecord],
    ) -> Result<(), TxError<ProductWrite>> {
        let owner = product.product_id.to_string();
        let mut tx = Transaction::new(self);
        tx.put(
            ProductWrite::Product,
            to_item(&product.key(), product)?,
            Some(Expr::absent()),
        );
        tx.put(
            ProductWrite::SlugTaken,
            marker_item(&keys::product_slug_marker(&product.slug), &owner)?,
            Some(Expr::absent()),
        );
        for sku in product.skus() {
            tx.put(
                ProductWrite::SkuTaken(sku.clone()),
                marker_item(&keys::sku_marker(&sku), &owner)?,
                Some(Expr::absent()),
            );
        }
        let (key, update, condition) = count_change(product.category_id, "productCount", 1);
        tx.update(ProductWrite::CategoryGone, &key, update, Some(condition));
        for change in opening_stock {
            tx.put(
                ProductWrite::Other,
                to_item(&keys::stock_change(product.product_id), change)?,
                Some(Expr::absent()),
            );
        }
        self.commit(tx).await
    }

    /// Applies new content to a product still at `previous`'s version, without
    /// touching stock: markers follow slug and SKU changes, category counts follow
    /// a move, new variants start at zero, and removed variants must have no stock.
    pub async fn update_product(
        &self,
        previous: &ProductRecord,
        content: &ProductContent,
        variants: &BTreeMap<String, VariantRecord>,
        now: Timestamp,
    ) -> Result<(), TxError<ProductWrite>> {
        let owner = previous.product_id.to_string();
        let mut tx = Transaction::new(self);
        tx.update(
            ProductWrite::Product,
            &keys::product_key(previous.product_id),
            content_update(previous, content, variants, now)?,
            Some(content_condition(previous, variants)),
        );
        if content.slug != previous.slug {
            tx.delete(ProductWrite::Other, &keys::product_slug_marker(&previous.slug), None);
            tx.put(
                ProductWrite::SlugTaken,
                marker_item(&keys::product_slug_marker(&content.slug), &owner)?,
                Some(Expr::absent()),
            );
        }
        let old_skus = previous.skus();
        let new_skus: Vec<Sku> = std::iter::once(content.sku.clone())
            .chain(variants.values().map(|v| v.sku.clone()))
            .collect();
        for sku in old_skus.iter().filter(|sku| !new_skus.contains(sku)) {
            tx.delete(ProductWrite::Other, &keys::sku_marker(sku), None);
        }
        for sku in new_skus.iter().filter(|sku| !old_skus.contains(sku)) {
            tx.put(
                ProductWrite::SkuTaken(sku.clone()),
                marker_item(&keys::sku_marker(sku), &owner)?,
                Some(Expr::absent()),
            );
        }
        if content.category_id != previous.category_id {
            let (key, update, condition) = count_change(previous.category_id, "productCount", -1);
            tx.update(ProductWrite::Other, &key, update, Some(condition));
            let (key, update, condition) = count_change(content.category_id, "productCount", 1);
            tx.update(ProductWrite::CategoryGone, &key, update, Some(condition));
        }
        self.commit(tx).await
    }

    /// Deletes a product still at its version, with its markers and its category count.
    pub async fn delete_product(&self, product: &ProductRecord) -> Result<(), TxError<ProductWrite>> {
        let mut tx = Transaction::new(self);
        tx.delete(
            ProductWrite::Product,
            &keys::product_key(product.product_id),
            Some(
                Expr::new("#version = :expected")
                    .name("#version", "version")
                    .value(":expected", number(product.version)),
            ),
        );
        tx.delete(ProductWrite::Other, &keys::product_slug_marker(&product.slug), None);
        for sku in product.skus() {
            tx.delete(ProductWrite::Other, &keys::sku_marker(&sku), None);
        }
        let (key, update, condition) = count_change(product.category_id, "productCount", -1);
        tx.update(ProductWrite::Other, &key, update, Some(condition));
        self.commit(tx).await
    }

    // ---- search index ----

    /// Product ids with a search term starting with `prefix` (one Query, following pages).
    pub async fn products_with_term_prefix(&self, prefix: &str) -> Result<Vec<(String, ProductId)>, StoreError> {
        let query = Query::table(keys::search_term_partition(prefix)).begins_with(prefix);
        let found = self.query_keys(&query).await?;
        Ok(found
            .iter()
            .filter_map(|key| {
                let (term, product) = key.sk.rsplit_once('#')?;
                Some((term.to_owned(), ProductId::parse(product).ok()?))
            })
            .collect())
    }

    /// Every word any product has been indexed under (one Query, following
    /// pages). It only grows: a word no product holds any more finds nothing.
    pub async fn search_vocabulary(&self) -> Result<BTreeSet<String>, StoreError> {
        let found = self.query_keys(&Query::table(keys::SEARCH_VOCABULARY)).await?;
        Ok(found.into_iter().map(|key| key.sk).collect())
    }

    /// Puts every word of every product (of any status) into the vocabulary:
    /// for a table indexed before the vocabulary existed. Idempotent; returns
    /// the number of words.
    pub async fn rebuild_search_vocabulary(&self) -> Result<usize, StoreError> {
        let cards = self.catalog_cards(&ProductStatus::ALL).await?;
        let ids: Vec<ProductId> = cards.iter().map(|card| card.product_id).collect();
        let words: BTreeSet<String> = self
            .products(&ids)
            .await?
            .into_iter()
            .flat_map(|product| product.search_terms.keys().cloned().collect::<Vec<_>>())
            .collect();
        let count = words.len();
        let items = words
            .iter()
            .map(|word| keys::search_vocabulary_word(word).primary())
            .collect();
        self.put_items(items).await?;
        Ok(count)
    }

    /// Makes the index hold exactly `terms` for `product`: puts every current term
    /// (idempotent, so a retry heals a partial write) and deletes the dropped ones.
    /// Words new to the product join the vocabulary in the same batch.
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
            .chain(
                current
                    .keys()
                    .filter(|term| !previous.contains_key(*term))
                    .map(|term| keys::search_vocabulary_word(term).primary()),
            )
            .collect();
        self.put_items(fresh).await?;
        self.delete_keys(&stale).await
    }
}

/// The update of a product's content, index keys, version and variants.
fn content_update(
    previous: &ProductRecord,
    content: &ProductContent,
    variants: &BTreeMap<String, VariantRecord>,
    now: Timestamp,
) -> Result<Expr, StoreError> {
    let mut fields: Item = serde_dynamo::to_item(content)?;
    fields.insert("updatedAt".into(), string(now.to_string()));
    keys::product(previous.product_id, &content.slug, content.status).write_into(&mut fields);
    fields.remove(keys::PK);
    fields.remove(keys::SK);
    let mut update = Expr::set_fields(fields, &OPTIONAL_CONTENT)
        .and_set("#version = #version + :one")
        .name("#version", "version")
        .value(":one", number(1));
    let mut removes = Vec::new();
    for (index, (id, variant)) in variants.iter().enumerate() {
        update = update.name(format!("#v{index}"), id.clone());
        if previous.variants.contains_key(id) {
            update = update
                .and_set(format!("variants.#v{index}.sku = :v{index}sku"))
                .value(format!(":v{index}sku"), string(variant.sku.as_str()))
                .and_set(format!("variants.#v{index}.options = :v{index}options"))
                .value(
                    format!(":v{index}options"),
                    serde_dynamo::to_attribute_value(&variant.options)?,
                );
            match variant.price {
                Some(price) => {
                    update = update
                        .and_set(format!("variants.#v{index}.price = :v{index}price"))
                        .value(format!(":v{index}price"), number(price.cents()));
                }
                None => removes.push(format!("variants.#v{index}.price")),
            }
        } else {
            update = update.and_set(format!("variants.#v{index} = :v{index}")).value(
                format!(":v{index}"),
                serde_dynamo::to_attribute_value(VariantRecord {
                    stock: 0,
                    ..variant.clone()
                })?,
            );
        }
    }
    for (index, id) in gone_variants(previous, variants).enumerate() {
        update = update.name(format!("#g{index}"), id.clone());
        removes.push(format!("variants.#g{index}"));
    }
    if variants.is_empty() && !previous.variants.is_empty() {
        update = update
            .and_set("variants = :empty")
            .value(":empty", AttributeValue::M(HashMap::new()));
        removes.retain(|attribute| !attribute.starts_with("variants."));
    }
    Ok(update.remove(removes))
}

/// The product is still at the version read, removed variants hold no stock,
/// and the product's own stock cannot vanish into new variants.
fn content_condition(previous: &ProductRecord, variants: &BTreeMap<String, VariantRecord>) -> Expr {
    let mut conditions = vec!["#version = :expected".to_owned()];
    let mut condition = Expr::default().value(":expected", number(previous.version));
    for (index, _) in gone_variants(previous, variants).enumerate() {
        conditions.push(format!("variants.#g{index}.stock = :zero"));
        condition = condition.value(":zero", number(0));
    }
    if previous.variants.is_empty() && !variants.is_empty() {
        conditions.push("stock = :zero".into());
        condition = condition.value(":zero", number(0));
    }
    condition.text = conditions.join(" AND ");
    condition
}

fn gone_variants<'a>(
    previous: &'a ProductRecord,
    variants: &'a BTreeMap<String, VariantRecord>,
) -> impl Iterator<Item = &'a String> {
    previous.variants.keys().filter(|id| !variants.contains_key(*id))
}
