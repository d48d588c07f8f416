//! The customer's wishlist (served by catalog-api, which owns the product cards).

use serde::Serialize;

use super::Catalog;
use super::views::ProductCard;
use crate::auth::Caller;
use crate::domain::{ProductId, ProductStatus, Timestamp};
use crate::http::form_value::text;
use crate::http::{ApiError, Form};
use crate::pagination::{PageRequest, Pagination, page_of};
use crate::store::products::CardRecord;
use crate::store::wishlist::WishlistRecord;

/// Saved products per customer.
pub const MAX_WISHLIST: usize = 500;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WishlistEntry {
    pub product_id: ProductId,
    pub added_at: Timestamp,
    /// False when the product was archived or deleted since.
    pub available: bool,
    pub product: Option<ProductCard>,
}

pub fn product_to_add(body: &[u8]) -> Result<ProductId, ApiError> {
    let mut form = Form::from_body(body)?;
    let product = form.required("productId", |v| ProductId::parse(&text(v)?).map_err(|e| e.to_string()));
    product.ok_or_else(|| form.into_error())
}

impl Catalog {
    /// One Query for the entries, then one BatchGetItem for the page's products.
    pub async fn wishlist(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<(Vec<WishlistEntry>, Pagination), ApiError> {
        let mut entries = self.store.wishlist(caller.user_id).await?;
        entries.sort_by(|a, b| {
            b.added_at
                .cmp(&a.added_at)
                .then_with(|| b.product_id.cmp(&a.product_id))
        });
        let (entries, pagination) = page_of(entries, page);
        let ids: Vec<ProductId> = entries.iter().map(|e| e.product_id).collect();
        let (products, tree) = futures::try_join!(
            async { Ok::<_, ApiError>(self.store.products(&ids).await?) },
            self.tree()
        )?;
        let views = entries
            .iter()
            .map(|entry| {
                let product = products
                    .iter()
                    .find(|p| p.product_id == entry.product_id)
                    .filter(|p| p.status == ProductStatus::Active && tree.is_visible(&p.category_path));
                WishlistEntry {
                    product_id: entry.product_id,
                    added_at: entry.added_at,
                    available: product.is_some(),
                    product: product.map(|p| ProductCard::new(&CardRecord::from(p), &tree, None)),
                }
            })
            .collect();
        Ok((views, pagination))
    }

    /// Idempotent: adding a saved product again changes nothing. Returns whether it was new.
    pub async fn add_to_wishlist(&self, caller: &Caller, product_id: ProductId) -> Result<bool, ApiError> {
        let (product, entries, tree) = futures::try_join!(
            async { Ok::<_, ApiError>(self.store.product(product_id).await?) },
            async { Ok::<_, ApiError>(self.store.wishlist(caller.user_id).await?) },
            self.tree(),
        )?;
        product
            .filter(|p| p.status == ProductStatus::Active && tree.is_visible(&p.category_path))
            .ok_or_else(|| ApiError::not_found("Product"))?;
        if entries.len() >= MAX_WISHLIST && !entries.iter().any(|e| e.product_id == product_id) {
            return Err(ApiError::invalid_field(
                "productId",
                format!("a wishlist holds at most {MAX_WISHLIST} products"),
            ));
        }
        let entry = WishlistRecord {
            product_id,
            added_at: Timestamp::now(),
        };
        Ok(self.store.add_to_wishlist(caller.user_id, &entry).await?)
    }

    /// Idempotent: removing a product that is not saved is not an error.
    pub async fn remove_from_wishlist(&self, caller: &Caller, product_id: ProductId) -> Result<(), ApiError> {
        Ok(self.store.remove_from_wishlist(caller.user_id, product_id).await?)
    }
}
