//! `shop-local seed`: the demo catalog and two accounts, loaded through the
//! same service functions the API uses. Anything that already exists (same slug,
//! same email) is left as it is, so seeding twice changes nothing.

use std::collections::BTreeMap;

use futures::StreamExt;
use shop::auth::Caller;
use shop::catalog::Catalog;
use shop::catalog::categories::CategoryInput;
use shop::catalog::products::{ProductDraft, VariantInput};
use shop::domain::{Email, Money, Password, PersonName, ProductStatus, Role, Sku, Slug};
use shop::store::Store;
use shop::users::NewUser;

use crate::provision::BoxError;
use crate::seed_data::{SeedProduct, SeedStatus, demo_catalog};

pub const ADMIN_EMAIL: &str = "admin@shop.local";
pub const ADMIN_PASSWORD: &str = "Admin-Pass-123!";
pub const CUSTOMER_EMAIL: &str = "jane@shop.local";
pub const CUSTOMER_PASSWORD: &str = "Customer-Pass-123!";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub categories_created: usize,
    pub products_created: usize,
    pub products_present: usize,
    /// Search words put back into the vocabulary when products were already
    /// present (a table loaded before typo-tolerant search had none).
    pub vocabulary_words: usize,
}

fn account(email: &str, password: &str, first: &str, last: &str) -> Result<NewUser, BoxError> {
    Ok(NewUser {
        email: Email::parse(email)?,
        password: Password::parse(password).map_err(|e| e.to_string())?,
        first_name: PersonName::parse(first)?,
        last_name: PersonName::parse(last)?,
        phone_number: None,
    })
}

/// Creates the demo accounts (the admin is created or promoted) and returns the admin as a caller.
async fn accounts(store: &Store) -> Result<Caller, BoxError> {
    let (admin_id, _) = shop::users::bootstrap_admin(store, account(ADMIN_EMAIL, ADMIN_PASSWORD, "Ada", "Admin")?)
        .await
        .map_err(|e| e.to_string())?;
    let customer = account(CUSTOMER_EMAIL, CUSTOMER_PASSWORD, "Jane", "Doe")?;
    if store.credentials(&customer.email).await?.is_none() {
        let hash = shop::auth::hash_password(&customer.password)
            .await
            .map_err(|e| e.to_string())?;
        shop::users::create_account(store, &customer, Role::Customer, hash)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(Caller {
        user_id: admin_id,
        email: Email::parse(ADMIN_EMAIL)?,
        role: Role::Admin,
    })
}

fn draft(product: &SeedProduct) -> Result<ProductDraft, BoxError> {
    let variants = product
        .variants
        .iter()
        .map(|variant| {
            Ok(VariantInput {
                variant_id: None,
                sku: Sku::parse(&variant.sku)?,
                options: variant.options.iter().cloned().collect::<BTreeMap<_, _>>(),
                price: variant.price_cents.map(Money::from_cents),
                stock: Some(i64::from(variant.stock)),
            })
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    Ok(ProductDraft {
        name: Some(product.name.clone()),
        slug: Some(Slug::parse(&product.slug)?),
        description: Some(product.description.clone()),
        long_description: Some(Some(product.long_description.clone())),
        price: Some(Money::from_cents(product.price_cents)),
        compare_price: Some(product.compare_price_cents.map(Money::from_cents)),
        currency: Some("USD".to_owned()),
        category: Some(product.category.clone()),
        brand: Some(product.brand.clone()),
        sku: Some(Sku::parse(&product.sku)?),
        images: Some(product.images.clone()),
        specifications: Some(product.specifications.iter().cloned().collect()),
        tags: Some(product.tags.clone()),
        status: Some(match product.status {
            SeedStatus::Draft => ProductStatus::Draft,
            SeedStatus::Active => ProductStatus::Active,
            SeedStatus::Archived => ProductStatus::Archived,
        }),
        is_featured: Some(product.featured),
        low_stock_threshold: Some(i64::from(product.low_stock_threshold)),
        seo_title: Some(None),
        seo_description: Some(None),
        stock: Some(i64::from(product.stock)),
        variants: Some(variants),
        version: None,
    })
}

/// Loads the demo catalog into `catalog`'s table.
pub async fn seed(catalog: &Catalog) -> Result<SeedReport, BoxError> {
    let admin = accounts(&catalog.store).await?;
    let demo = demo_catalog();
    let mut report = SeedReport::default();
    for category in &demo.categories {
        if catalog
            .tree()
            .await
            .map_err(|e| e.to_string())?
            .find(&category.slug)
            .is_some()
        {
            continue;
        }
        let input = CategoryInput {
            name: Some(category.name.clone()),
            slug: Some(Slug::parse(&category.slug)?),
            description: Some(Some(category.description.clone())),
            image: None,
            parent: category.parent.clone(),
            is_active: Some(true),
            version: None,
        };
        catalog
            .create_category(&admin, input)
            .await
            .map_err(|e| format!("category {}: {e}", category.slug))?;
        report.categories_created += 1;
    }
    let results: Vec<Result<bool, BoxError>> = futures::stream::iter(&demo.products)
        .map(|product| {
            let admin = &admin;
            async move {
                let slug = Slug::parse(&product.slug)?;
                if catalog.store.product_by_slug(&slug).await?.is_some() {
                    return Ok(false);
                }
                catalog
                    .create_product(admin, draft(product)?)
                    .await
                    .map_err(|e| format!("product {}: {e}", product.slug))?;
                Ok(true)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for result in results {
        if result? {
            report.products_created += 1;
        } else {
            report.products_present += 1;
        }
    }
    if report.products_present > 0 {
        report.vocabulary_words = catalog.store.rebuild_search_vocabulary().await?;
    }
    Ok(report)
}
