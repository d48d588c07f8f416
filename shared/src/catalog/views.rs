//! Response shapes of the catalog (`ProductSummary` and `Product` in openapi.yaml).

use std::collections::BTreeMap;

use serde::Serialize;

use super::CategoryTree;
use crate::domain::catalog::average_rating;
use crate::domain::{CategoryId, Money, ProductId, ProductStatus, Sku, Slug, Timestamp, VariantId};
use crate::store::products::{CardRecord, ProductRecord, VariantRecord};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRef {
    pub category_id: CategoryId,
    pub name: String,
    pub slug: Slug,
}

/// The category of a product as the API shows it: the root as `category`, the
/// second level as `subcategory` (Electronics / Audio), and the whole path.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub category_id: CategoryId,
    pub category_path: Vec<CategoryRef>,
}

impl Placement {
    pub fn new(tree: &CategoryTree, category_id: CategoryId, path: &[CategoryId]) -> Self {
        let category_path: Vec<CategoryRef> = path
            .iter()
            .filter_map(|id| tree.get(*id))
            .map(|c| CategoryRef {
                category_id: c.category_id,
                name: c.name.clone(),
                slug: c.slug.clone(),
            })
            .collect();
        Self {
            category: category_path.first().map(|c| c.name.clone()),
            subcategory: category_path.get(1).map(|c| c.name.clone()),
            category_id,
            category_path,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantView {
    pub variant_id: VariantId,
    pub sku: Sku,
    pub options: BTreeMap<String, String>,
    pub price: Money,
    pub inventory: i64,
    pub in_stock: bool,
}

impl VariantView {
    fn new(variant: &VariantRecord, product_price: Money) -> Self {
        Self {
            variant_id: variant.variant_id,
            sku: variant.sku.clone(),
            options: variant.options.clone(),
            price: variant.price.unwrap_or(product_price),
            inventory: variant.stock,
            in_stock: variant.stock > 0,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seo {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// A product in full (`Product` in openapi.yaml): slug, comparePrice, variants, tags, status and SEO fields.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub product_id: ProductId,
    pub name: String,
    pub slug: Slug,
    pub description: String,
    pub long_description: Option<String>,
    pub price: Money,
    pub compare_price: Option<Money>,
    pub currency: String,
    #[serde(flatten)]
    pub placement: Placement,
    pub brand: String,
    pub sku: Sku,
    pub inventory: i64,
    pub in_stock: bool,
    pub images: Vec<String>,
    pub specifications: BTreeMap<String, String>,
    pub variants: Vec<VariantView>,
    pub tags: Vec<String>,
    pub rating: f64,
    pub review_count: i64,
    pub status: ProductStatus,
    pub is_featured: bool,
    pub low_stock_threshold: i64,
    pub seo: Seo,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ProductView {
    pub fn new(product: &ProductRecord, tree: &CategoryTree) -> Self {
        let mut variants: Vec<VariantView> = product
            .variants
            .values()
            .map(|variant| VariantView::new(variant, product.price))
            .collect();
        variants.sort_by(|a, b| a.sku.cmp(&b.sku));
        Self {
            product_id: product.product_id,
            name: product.name.clone(),
            slug: product.slug.clone(),
            description: product.description.clone(),
            long_description: product.long_description.clone(),
            price: product.price,
            compare_price: product.compare_price,
            currency: product.currency.clone(),
            placement: Placement::new(tree, product.category_id, &product.category_path),
            brand: product.brand.clone(),
            sku: product.sku.clone(),
            inventory: product.inventory,
            in_stock: product.inventory > 0,
            images: product.images.clone(),
            specifications: product.specifications.clone(),
            variants,
            tags: product.tags.clone(),
            rating: average_rating(product.rating_total, product.review_count),
            review_count: product.review_count,
            status: product.status,
            is_featured: product.is_featured,
            low_stock_threshold: product.low_stock_threshold,
            seo: Seo {
                title: product.seo_title.clone(),
                description: product.seo_description.clone(),
            },
            version: product.version,
            created_at: product.created_at,
            updated_at: product.updated_at,
        }
    }
}

/// A product in a list (`ProductSummary`), with slug, brand, status and, in searches, its score.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductCard {
    pub product_id: ProductId,
    pub name: String,
    pub slug: Slug,
    pub description: String,
    pub price: Money,
    pub compare_price: Option<Money>,
    pub currency: String,
    #[serde(flatten)]
    pub placement: Placement,
    pub brand: String,
    pub sku: Sku,
    pub inventory: i64,
    pub in_stock: bool,
    pub images: Vec<String>,
    pub rating: f64,
    pub review_count: i64,
    pub is_featured: bool,
    pub status: ProductStatus,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

impl ProductCard {
    pub fn new(card: &CardRecord, tree: &CategoryTree, score: Option<f64>) -> Self {
        Self {
            product_id: card.product_id,
            name: card.name.clone(),
            slug: card.slug.clone(),
            description: card.description.clone(),
            price: card.price,
            compare_price: card.compare_price,
            currency: card.currency.clone(),
            placement: Placement::new(tree, card.category_id, &card.category_path),
            brand: card.brand.clone(),
            sku: card.sku.clone(),
            inventory: card.inventory,
            in_stock: card.inventory > 0,
            images: card.image.iter().cloned().collect(),
            rating: average_rating(card.rating_total, card.review_count),
            review_count: card.review_count,
            is_featured: card.is_featured,
            status: card.status,
            created_at: card.created_at,
            score: score.map(|s| (s * 100.0).round() / 100.0),
        }
    }
}
