//! Creating, editing, archiving, deleting and reading products.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::categories::{optional_clearable, url};
use super::search::{Searchable, product_terms};
use super::views::ProductView;
use super::{Catalog, CategoryTree};
use crate::auth::Caller;
use crate::domain::{Money, ProductId, ProductStatus, Sku, Slug, Timestamp, VariantId};
use crate::http::form_value::{boolean, bounded_text, text, unsigned};
use crate::http::{ApiError, ErrorCode, FieldIssue, Form, Incoming};
use crate::store::TxError;
use crate::store::products::{ProductContent, ProductRecord, ProductWrite, VariantRecord};
use crate::store::stock::StockChangeRecord;

pub(crate) const MAX_IMAGES: usize = 10;
pub(crate) const MAX_TAGS: usize = 20;
const MAX_SPECIFICATIONS: usize = 50;
/// A transaction holds at most 100 items; markers and records of a product stay well under it.
pub const MAX_VARIANTS: usize = 40;

const PRODUCT_FIELDS: [&str; 23] = [
    "name",
    "slug",
    "description",
    "longDescription",
    "price",
    "comparePrice",
    "currency",
    "categoryId",
    "brand",
    "sku",
    "images",
    "specifications",
    "tags",
    "status",
    "isFeatured",
    "lowStockThreshold",
    "seoTitle",
    "seoDescription",
    "stock",
    "inventory",
    "variants",
    "version",
    "productId",
];

/// One variant as sent: an existing `variantId` keeps its stock, a new one starts
/// with `stock` (on create) or zero (on edit; stock moves through the stock route).
#[derive(Debug, Clone)]
pub struct VariantInput {
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub options: BTreeMap<String, String>,
    pub price: Option<Money>,
    pub stock: Option<i64>,
}

/// Product fields as sent; `None` leaves a field as it is (PATCH) or is missing (create, PUT).
#[derive(Debug, Default)]
pub struct ProductDraft {
    pub name: Option<String>,
    pub slug: Option<Slug>,
    pub description: Option<String>,
    pub long_description: Option<Option<String>>,
    pub price: Option<Money>,
    pub compare_price: Option<Option<Money>>,
    pub currency: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub sku: Option<Sku>,
    pub images: Option<Vec<String>>,
    pub specifications: Option<BTreeMap<String, String>>,
    pub tags: Option<Vec<String>>,
    pub status: Option<ProductStatus>,
    pub is_featured: Option<bool>,
    pub low_stock_threshold: Option<i64>,
    pub seo_title: Option<Option<String>>,
    pub seo_description: Option<Option<String>>,
    pub stock: Option<i64>,
    pub variants: Option<Vec<VariantInput>>,
    pub version: Option<u64>,
}

/// How a body is read: all required fields (create, PUT) or any subset (PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftKind {
    Create,
    Replace,
    Patch,
}

fn money(value: &Value) -> Result<Money, String> {
    let number = value.as_number().ok_or("must be an amount such as 99.99")?;
    let money = Money::try_from(number.clone()).map_err(|e| e.to_string())?;
    if money.cents() <= 0 {
        Err("must be greater than 0".to_owned())
    } else {
        Ok(money)
    }
}

fn whole(max: i64) -> impl Fn(&Value) -> Result<i64, String> {
    move |value| {
        value
            .as_i64()
            .filter(|n| (0..=max).contains(n))
            .ok_or_else(|| format!("must be a whole number from 0 to {max}"))
    }
}

fn currency(value: &Value) -> Result<String, String> {
    let code = text(value)?.trim().to_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a 3-letter ISO currency code such as USD".to_owned())
    }
}

fn list_of<T>(max: usize, item: impl Fn(&Value) -> Result<T, String>) -> impl Fn(&Value) -> Result<Vec<T>, String> {
    move |value| {
        let items = value.as_array().ok_or("must be a list")?;
        if items.len() > max {
            return Err(format!("must have at most {max} entries"));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, v)| item(v).map_err(|e| format!("entry {i} {e}")))
            .collect()
    }
}

fn string_map(
    max: usize,
    key_max: usize,
    value_max: usize,
) -> impl Fn(&Value) -> Result<BTreeMap<String, String>, String> {
    move |value| {
        let map = value.as_object().ok_or("must be an object of text values")?;
        if map.len() > max {
            return Err(format!("must have at most {max} entries"));
        }
        map.iter()
            .map(|(key, value)| {
                let key = key.trim();
                if key.is_empty() || key.chars().count() > key_max {
                    return Err(format!("keys must be 1 to {key_max} characters"));
                }
                let value = bounded_text(value_max)(value).map_err(|e| format!("{key} {e}"))?;
                Ok((key.to_owned(), value))
            })
            .collect()
    }
}

fn tag(value: &Value) -> Result<String, String> {
    let tag = bounded_text(30)(value)?.to_lowercase();
    Ok(tag)
}

fn variant(kind: DraftKind) -> impl Fn(&Value) -> Result<VariantInput, String> {
    move |value| {
        let object = value.as_object().ok_or("must be an object")?;
        let field = |name: &str| object.get(name).filter(|v| !v.is_null());
        let variant_id = field("variantId")
            .map(|v| {
                text(v)
                    .map_err(str::to_owned)
                    .and_then(|t| VariantId::parse(&t).map_err(|e| e.to_string()))
            })
            .transpose()?;
        if variant_id.is_some() && kind == DraftKind::Create {
            return Err("variantId is assigned by the server".to_owned());
        }
        if let Some(unknown) = object
            .keys()
            .find(|k| !["variantId", "sku", "options", "price", "stock"].contains(&k.as_str()))
        {
            return Err(format!("{unknown} is not a known variant field"));
        }
        let sku = Sku::parse(&text(field("sku").ok_or("needs a sku")?)?).map_err(|e| format!("sku {e}"))?;
        let options = string_map(5, 30, 50)(field("options").ok_or("needs options such as {\"Size\": \"M\"}")?)
            .map_err(|e| format!("options {e}"))?;
        if options.is_empty() {
            return Err("needs at least one option".to_owned());
        }
        let price = field("price")
            .map(money)
            .transpose()
            .map_err(|e| format!("price {e}"))?;
        let stock = field("stock")
            .map(whole(1_000_000))
            .transpose()
            .map_err(|e| format!("stock {e}"))?;
        if stock.is_some() && kind != DraftKind::Create {
            return Err("stock cannot be set here: use PATCH /api/v1/products/{productId}/stock".to_owned());
        }
        Ok(VariantInput {
            variant_id,
            sku,
            options,
            price,
            stock,
        })
    }
}

impl ProductDraft {
    pub fn parse(request: &Incoming, kind: DraftKind) -> Result<Self, ApiError> {
        let mut form = Form::from_body(request.body())?;
        form.only(&PRODUCT_FIELDS);
        let require = kind != DraftKind::Patch;
        macro_rules! field {
            ($name:literal, $parse:expr, required) => {
                if require {
                    form.required($name, $parse).map(Some)
                } else {
                    form.optional($name, $parse)
                }
            };
            ($name:literal, $parse:expr) => {
                form.optional($name, $parse)
            };
        }
        let name = field!("name", bounded_text(200), required);
        let slug = field!("slug", |v| Slug::parse(&text(v)?).map_err(|e| e.to_string()));
        let description = field!("description", bounded_text(1000), required);
        let long_description = optional_clearable(&mut form, "longDescription", bounded_text(20_000));
        let price = field!("price", money, required);
        let compare_price = optional_clearable(&mut form, "comparePrice", money);
        let currency = field!("currency", currency);
        let category = field!(
            "categoryId",
            |v| text(v).map(|t| t.trim().to_owned()).map_err(str::to_owned),
            required
        );
        let brand = field!("brand", bounded_text(100), required);
        let sku = field!("sku", |v| Sku::parse(&text(v)?).map_err(|e| e.to_string()), required);
        let images = field!("images", list_of(MAX_IMAGES, url));
        let specifications = field!("specifications", string_map(MAX_SPECIFICATIONS, 50, 200));
        let tags = field!("tags", list_of(MAX_TAGS, tag));
        let status = field!("status", |v| ProductStatus::parse(&text(v)?).map_err(str::to_owned));
        let is_featured = field!("isFeatured", |v| boolean(v).map_err(str::to_owned));
        let low_stock_threshold = field!("lowStockThreshold", whole(1_000_000));
        let seo_title = optional_clearable(&mut form, "seoTitle", bounded_text(70));
        let seo_description = optional_clearable(&mut form, "seoDescription", bounded_text(160));
        // Clients know the product's stock as `inventory` (what it answers); both names are accepted.
        let stock = if form.has("inventory") {
            field!("inventory", whole(1_000_000))
        } else {
            field!("stock", whole(1_000_000))
        };
        let variants = field!("variants", list_of(MAX_VARIANTS, variant(kind)));
        let version = field!("version", |v| unsigned(v).map_err(str::to_owned));
        if kind != DraftKind::Create {
            for name in ["stock", "inventory"] {
                form.reject(name, "cannot be set here: use PATCH /api/v1/products/{productId}/stock");
            }
        }
        form.reject("productId", "is assigned by the server");
        let header_version = match request.header("if-match") {
            Some(header) => Some(
                header
                    .trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .parse::<u64>()
                    .map_err(|_| ApiError::invalid_field("If-Match", "must be the product's version, such as \"3\""))?,
            ),
            None => None,
        };
        form.finish()?;
        // Every field parsed (`Some`), so each is now the value sent, or `None` when absent.
        let draft = Self {
            name: name.flatten(),
            slug: slug.flatten(),
            description: description.flatten(),
            long_description: long_description.flatten(),
            price: price.flatten(),
            compare_price: compare_price.flatten(),
            currency: currency.flatten(),
            category: category.flatten(),
            brand: brand.flatten(),
            sku: sku.flatten(),
            images: images.flatten(),
            specifications: specifications.flatten(),
            tags: tags.flatten(),
            status: status.flatten(),
            is_featured: is_featured.flatten(),
            low_stock_threshold: low_stock_threshold.flatten(),
            seo_title: seo_title.flatten(),
            seo_description: seo_description.flatten(),
            stock: stock.flatten(),
            variants: variants.flatten(),
            version: header_version.or(version.flatten()),
        };
        let mut draft = draft;
        if kind == DraftKind::Replace {
            // A PUT replaces the product: descriptive fields it leaves out are cleared.
            draft.long_description.get_or_insert(None);
            draft.compare_price.get_or_insert(None);
            draft.seo_title.get_or_insert(None);
            draft.seo_description.get_or_insert(None);
            draft.images.get_or_insert_with(Vec::new);
            draft.specifications.get_or_insert_with(BTreeMap::new);
            draft.tags.get_or_insert_with(Vec::new);
        }
        if kind == DraftKind::Patch && draft.is_empty() {
            return Err(ApiError::invalid_field("body", "must change at least one field"));
        }
        Ok(draft)
    }

    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.slug.is_none()
            && self.description.is_none()
            && self.long_description.is_none()
            && self.price.is_none()
            && self.compare_price.is_none()
            && self.currency.is_none()
            && self.category.is_none()
            && self.brand.is_none()
            && self.sku.is_none()
            && self.images.is_none()
            && self.specifications.is_none()
            && self.tags.is_none()
            && self.status.is_none()
            && self.is_featured.is_none()
            && self.low_stock_threshold.is_none()
            && self.seo_title.is_none()
            && self.seo_description.is_none()
            && self.variants.is_none()
    }
}

/// Rules that span fields, checked on the merged product.
fn check_product(content: &ProductContent, variants: &[VariantInput]) -> Result<(), ApiError> {
    let mut issues = Vec::new();
    if content.compare_price.is_some_and(|compare| compare <= content.price) {
        issues.push(FieldIssue::new("comparePrice", "must be greater than price"));
    }
    let mut skus = BTreeSet::from([content.sku.clone()]);
    let mut option_sets = BTreeSet::new();
    for (index, variant) in variants.iter().enumerate() {
        if !skus.insert(variant.sku.clone()) {
            issues.push(FieldIssue::new(
                format!("variants[{index}].sku"),
                "repeats another SKU of this product",
            ));
        }
        if !option_sets.insert(variant.options.clone()) {
            issues.push(FieldIssue::new(
                format!("variants[{index}].options"),
                "repeats another variant's options",
            ));
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(issues, Vec::new()))
    }
}

/// The search terms of a product in its category.
pub fn terms_of(content: &ProductContent, tree: &CategoryTree) -> BTreeMap<String, u8> {
    product_terms(&Searchable {
        name: &content.name,
        brand: &content.brand,
        categories: tree.names(&content.category_path),
        tags: &content.tags,
        description: &content.description,
    })
}

/// The 409 (or 400) for a product transaction cancelled by one of its conditions.
fn product_write_error(error: TxError<ProductWrite>, product: &ProductContent) -> ApiError {
    let failed = match &error {
        TxError::Refused(failed) => failed.iter().find(|write| **write != ProductWrite::Other).cloned(),
        TxError::Store(_) => None,
    };
    match failed {
        Some(ProductWrite::SlugTaken) => ApiError::already_exists("A product with this slug already exists")
            .with_details(serde_json::json!([{"field": "slug", "message": format!("{} is taken", product.slug)}])),
        Some(ProductWrite::SkuTaken(sku)) => {
            let field = if sku == product.sku {
                "sku".to_owned()
            } else {
                "variants".to_owned()
            };
            ApiError::already_exists(format!("SKU {sku} is already used by another product"))
                .with_details(serde_json::json!([{"field": field, "message": format!("{sku} is taken")}]))
        }
        Some(ProductWrite::CategoryGone) => ApiError::invalid_field("categoryId", "no such category"),
        Some(ProductWrite::Product) => ApiError::stale_version(),
        _ => error.into(),
    }
}

impl Catalog {
    /// A product for a customer (ACTIVE, in a visible category) or an admin (any).
    /// One GetItem by id, or one Query by slug; the category tree comes from the cache.
    pub async fn product_view(&self, reference: &str, caller: Option<&Caller>) -> Result<ProductView, ApiError> {
        let (product, tree) = futures::try_join!(self.find_product(reference), self.tree())?;
        let admin = caller.is_some_and(Caller::is_admin);
        let product = product
            .filter(|p| admin || (p.status == ProductStatus::Active && tree.is_visible(&p.category_path)))
            .ok_or_else(|| ApiError::not_found("Product"))?;
        Ok(ProductView::new(&product, &tree))
    }

    async fn find_product(&self, reference: &str) -> Result<Option<ProductRecord>, ApiError> {
        if let Ok(id) = ProductId::parse(reference) {
            return Ok(self.store.product(id).await?);
        }
        match Slug::parse(reference) {
            Ok(slug) => Ok(self.store.product_by_slug(&slug).await?),
            Err(_) => Ok(None),
        }
    }

    /// The product or 404, read consistently (before an edit).
    pub async fn existing_product(&self, reference: &str) -> Result<ProductRecord, ApiError> {
        let product = match ProductId::parse(reference) {
            Ok(id) => self.store.product_consistent(id).await?,
            Err(_) => self.find_product(reference).await?,
        };
        product.ok_or_else(|| ApiError::not_found("Product"))
    }

    /// One transaction (product, slug and SKU markers, category count, opening
    /// stock records), then the search terms.
    #[tracing::instrument(skip_all)]
    pub async fn create_product(&self, caller: &Caller, draft: ProductDraft) -> Result<ProductView, ApiError> {
        caller.require_admin()?;
        let tree = self.tree().await?;
        let reference = draft.category.clone().unwrap_or_default();
        let category = tree
            .find(&reference)
            .ok_or_else(|| ApiError::invalid_field("categoryId", "no such category"))?;
        let name = draft.name.unwrap_or_default();
        let slug = match draft.slug {
            Some(slug) => slug,
            None => Slug::from_name(&name).map_err(|e| ApiError::invalid_field("slug", e.to_string()))?,
        };
        let images = draft.images.unwrap_or_default();
        let mut content = ProductContent {
            name,
            slug,
            description: draft.description.unwrap_or_default(),
            long_description: draft.long_description.flatten(),
            price: draft.price.unwrap_or_default(),
            compare_price: draft.compare_price.flatten(),
            currency: draft.currency.unwrap_or_else(|| "USD".to_owned()),
            category_id: category.category_id,
            category_path: category.path.clone(),
            brand: draft.brand.unwrap_or_default(),
            sku: draft.sku.ok_or_else(|| ApiError::invalid_field("sku", "is required"))?,
            image: images.first().cloned(),
            images,
            specifications: draft.specifications.unwrap_or_default(),
            tags: draft.tags.unwrap_or_default(),
            status: draft.status.unwrap_or(ProductStatus::Draft),
            is_featured: draft.is_featured.unwrap_or(false),
            low_stock_threshold: draft.low_stock_threshold.unwrap_or(10),
            seo_title: draft.seo_title.flatten(),
            seo_description: draft.seo_description.flatten(),
            search_terms: BTreeMap::new(),
        };
        let variant_inputs = draft.variants.unwrap_or_default();
        check_product(&content, &variant_inputs)?;
        if !variant_inputs.is_empty() && draft.stock.is_some_and(|s| s > 0) {
            return Err(ApiError::invalid_field(
                "stock",
                "a product with variants keeps its stock in the variants",
            ));
        }
        content.search_terms = terms_of(&content, &tree);
        let now = Timestamp::now();
        let product_id = ProductId::generate();
        let variants: BTreeMap<String, VariantRecord> = variant_inputs
            .iter()
            .map(|input| {
                let id = VariantId::generate();
                let record = VariantRecord {
                    variant_id: id,
                    sku: input.sku.clone(),
                    options: input.options.clone(),
                    price: input.price,
                    stock: input.stock.unwrap_or(0),
                };
                (id.to_string(), record)
            })
            .collect();
        let stock = draft.stock.unwrap_or(0);
        let opening = |variant_id: Option<VariantId>, delta: i64| StockChangeRecord {
            product_id,
            variant_id,
            delta,
            stock_after: Some(delta),
            reason: "opening stock".to_owned(),
            actor: caller.user_id,
            at: now,
        };
        let mut opening_stock: Vec<StockChangeRecord> = Vec::new();
        if stock > 0 {
            opening_stock.push(opening(None, stock));
        }
        opening_stock.extend(
            variants
                .values()
                .filter(|v| v.stock > 0)
                .map(|v| opening(Some(v.variant_id), v.stock)),
        );
        let record = ProductRecord {
            product_id,
            inventory: stock + variants.values().map(|v| v.stock).sum::<i64>(),
            stock,
            variants,
            rating_total: 0,
            review_count: 0,
            version: 1,
            created_at: now,
            updated_at: now,
            content: content.clone(),
        };
        self.store
            .create_product(&record, &opening_stock)
            .await
            .map_err(|err| product_write_error(err, &content))?;
        self.index_terms(product_id, &BTreeMap::new(), &content.search_terms)
            .await;
        self.forget_tree().await;
        tracing::info!(productId = %product_id, "product created");
        Ok(ProductView::new(&record, &tree))
    }

    /// PUT (every field) or PATCH (some fields): one conditional transaction that
    /// never writes stock, then the search terms, then a consistent read of the result.
    #[tracing::instrument(skip_all)]
    pub async fn update_product(
        &self,
        caller: &Caller,
        reference: &str,
        draft: ProductDraft,
    ) -> Result<ProductView, ApiError> {
        caller.require_admin()?;
        let (previous, tree) = futures::try_join!(self.existing_product(reference), self.tree())?;
        if draft.version.is_some_and(|version| version != previous.version) {
            return Err(ApiError::stale_version());
        }
        let mut content = previous.content.clone();
        if let Some(reference) = &draft.category {
            let category = tree
                .find(reference)
                .ok_or_else(|| ApiError::invalid_field("categoryId", "no such category"))?;
            content.category_id = category.category_id;
            content.category_path = category.path.clone();
        }
        apply_draft(&mut content, &draft);
        let (variants, inputs) = match &draft.variants {
            Some(inputs) => (merge_variants(&previous, inputs)?, inputs.clone()),
            None => (previous.variants.clone(), existing_inputs(&previous)),
        };
        check_product(&content, &inputs)?;
        if previous.variants.is_empty() && !variants.is_empty() && previous.stock > 0 {
            return Err(ApiError::invalid_field(
                "variants",
                format!(
                    "the product still has {} in stock of its own; set it to 0 before adding variants",
                    previous.stock
                ),
            ));
        }
        content.search_terms = terms_of(&content, &tree);
        self.store
            .update_product(&previous, &content, &variants, Timestamp::now())
            .await
            .map_err(|err| product_write_error(err, &content))?;
        self.index_terms(previous.product_id, &previous.search_terms, &content.search_terms)
            .await;
        if content.category_id != previous.category_id {
            self.forget_tree().await;
        }
        let updated = self.existing_product(&previous.product_id.to_string()).await?;
        Ok(ProductView::new(&updated, &tree))
    }

    /// Archives a product (the default), or deletes a DRAFT or ARCHIVED one for good.
    #[tracing::instrument(skip_all)]
    pub async fn delete_product(
        &self,
        caller: &Caller,
        reference: &str,
        permanent: bool,
    ) -> Result<Option<ProductView>, ApiError> {
        caller.require_admin()?;
        let product = self.existing_product(reference).await?;
        if !permanent {
            let draft = ProductDraft {
                status: Some(ProductStatus::Archived),
                ..ProductDraft::default()
            };
            return self
                .update_product(caller, &product.product_id.to_string(), draft)
                .await
                .map(Some);
        }
        if product.status == ProductStatus::Active {
            return Err(ApiError::new(
                ErrorCode::ResourceInUse,
                "An ACTIVE product is archived, not deleted: archive it first",
            ));
        }
        self.store.delete_product(&product).await.map_err(|err| {
            if err.refused(&ProductWrite::Product) {
                ApiError::stale_version()
            } else {
                err.into()
            }
        })?;
        self.index_terms(product.product_id, &product.search_terms, &BTreeMap::new())
            .await;
        self.forget_tree().await;
        tracing::info!(productId = %product.product_id, "product deleted");
        Ok(None)
    }

    /// Brings the search index in line with a product's terms. Search checks every
    /// hit against the product itself, so a failure here only hides the product
    /// from search until its next edit: it is logged, not returned.
    async fn index_terms(&self, product: ProductId, previous: &BTreeMap<String, u8>, current: &BTreeMap<String, u8>) {
        if let Err(err) = self.store.sync_search_terms(product, previous, current).await {
            tracing::error!(productId = %product, error = %crate::http::error_chain(&err), "search index not updated");
        }
    }
}

/// Applies the content fields the draft carries (variants and stock are handled apart).
pub(crate) fn apply_draft(content: &mut ProductContent, draft: &ProductDraft) {
    fn set<T: Clone>(target: &mut T, value: &Option<T>) {
        if let Some(value) = value {
            *target = value.clone();
        }
    }
    set(&mut content.name, &draft.name);
    set(&mut content.slug, &draft.slug);
    set(&mut content.description, &draft.description);
    set(&mut content.long_description, &draft.long_description);
    set(&mut content.price, &draft.price);
    set(&mut content.compare_price, &draft.compare_price);
    set(&mut content.currency, &draft.currency);
    set(&mut content.brand, &draft.brand);
    set(&mut content.sku, &draft.sku);
    if let Some(images) = &draft.images {
        content.image = images.first().cloned();
        content.images = images.clone();
    }
    set(&mut content.specifications, &draft.specifications);
    set(&mut content.tags, &draft.tags);
    set(&mut content.status, &draft.status);
    set(&mut content.is_featured, &draft.is_featured);
    set(&mut content.low_stock_threshold, &draft.low_stock_threshold);
    set(&mut content.seo_title, &draft.seo_title);
    set(&mut content.seo_description, &draft.seo_description);
}

/// The new variant map: known ids keep their stock, new variants start empty,
/// and a variant can only be dropped once its stock is zero.
fn merge_variants(
    previous: &ProductRecord,
    inputs: &[VariantInput],
) -> Result<BTreeMap<String, VariantRecord>, ApiError> {
    let mut merged = BTreeMap::new();
    for (index, input) in inputs.iter().enumerate() {
        let (id, stock) = match input.variant_id {
            Some(id) => {
                let existing = previous.variants.get(&id.to_string()).ok_or_else(|| {
                    ApiError::invalid_field(
                        &format!("variants[{index}].variantId"),
                        "is not a variant of this product",
                    )
                })?;
                (id, existing.stock)
            }
            None => (VariantId::generate(), 0),
        };
        let record = VariantRecord {
            variant_id: id,
            sku: input.sku.clone(),
            options: input.options.clone(),
            price: input.price,
            stock,
        };
        merged.insert(id.to_string(), record);
    }
    for (id, variant) in &previous.variants {
        if !merged.contains_key(id) && variant.stock > 0 {
            return Err(ApiError::invalid_field(
                "variants",
                format!(
                    "variant {} still has {} in stock; set its stock to 0 before removing it",
                    variant.sku, variant.stock
                ),
            ));
        }
    }
    Ok(merged)
}

fn existing_inputs(product: &ProductRecord) -> Vec<VariantInput> {
    product
        .variants
        .values()
        .map(|v| VariantInput {
            variant_id: Some(v.variant_id),
            sku: v.sku.clone(),
            options: v.options.clone(),
            price: v.price,
            stock: None,
        })
        .collect()
}
