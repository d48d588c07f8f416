//! `catalog-api`: products and their variants, the category tree, search with
//! facets, reviews, the wishlist and stock administration.
//!
//! Reads are public and cacheable (ETag, Cache-Control, 304); admins see every
//! status and get private responses. Each handler parses at the edge, calls one
//! [`shop::catalog::Catalog`] function and maps the result to the envelope.

use serde_json::json;
use shop::Config;
use shop::auth::{Caller, Tokens};
use shop::aws::AwsClients;
use shop::catalog::Catalog;
use shop::catalog::categories::CategoryInput;
use shop::catalog::listing::ListQuery;
use shop::catalog::products::{DraftKind, ProductDraft};
use shop::catalog::reviews::ReviewInput;
use shop::catalog::stock::StockChange;
use shop::catalog::wishlist::product_to_add;
use shop::domain::{ProductId, ReviewId};
use shop::http::{ApiError, ApiResult, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::pagination::PageRequest;

/// How long a CDN may keep catalog reads (seconds).
const LIST_MAX_AGE: u32 = 60;
const DETAIL_MAX_AGE: u32 = 300;
const CATEGORY_MAX_AGE: u32 = 600;

#[derive(Debug)]
pub struct App {
    catalog: Catalog,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            catalog: Catalog::from_config(config, clients),
            tokens: Tokens::from_config(config, clients),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

impl Api for App {
    fn route<'a>(&'a self, request: &'a Incoming) -> BoxFuture<'a, ApiResult> {
        Box::pin(route(self, request))
    }

    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.tokens.warm_up(false))
    }
}

async fn route(app: &App, request: &Incoming) -> ApiResult {
    match request.route_key.as_str() {
        "GET /api/v1/products" => list_products(app, request).await,
        "POST /api/v1/products" => create_product(app, request).await,
        "POST /api/v1/products/search" => search_products(app, request).await,
        "GET /api/v1/products/reviews/pending" => pending_reviews(app, request).await,
        "GET /api/v1/products/{productId}" => get_product(app, request).await,
        "PUT /api/v1/products/{productId}" => update_product(app, request, DraftKind::Replace).await,
        "PATCH /api/v1/products/{productId}" => update_product(app, request, DraftKind::Patch).await,
        "DELETE /api/v1/products/{productId}" => delete_product(app, request).await,
        "PATCH /api/v1/products/{productId}/stock" => change_stock(app, request).await,
        "GET /api/v1/products/{productId}/stock/history" => stock_history(app, request).await,
        "GET /api/v1/products/{productId}/reviews" => list_reviews(app, request).await,
        "POST /api/v1/products/{productId}/reviews" => create_review(app, request).await,
        "PUT /api/v1/products/{productId}/reviews/{reviewId}" => update_review(app, request).await,
        "DELETE /api/v1/products/{productId}/reviews/{reviewId}" => delete_review(app, request).await,
        "POST /api/v1/products/{productId}/reviews/{reviewId}/approve" => moderate_review(app, request, true).await,
        "POST /api/v1/products/{productId}/reviews/{reviewId}/reject" => moderate_review(app, request, false).await,
        "GET /api/v1/categories" => list_categories(app, request).await,
        "POST /api/v1/categories" => create_category(app, request).await,
        "GET /api/v1/categories/{category}" => get_category(app, request).await,
        "PUT /api/v1/categories/{category}" => update_category(app, request).await,
        "DELETE /api/v1/categories/{category}" => delete_category(app, request).await,
        "GET /api/v1/users/wishlist" => get_wishlist(app, request).await,
        "POST /api/v1/users/wishlist" => add_to_wishlist(app, request).await,
        "DELETE /api/v1/users/wishlist/{productId}" => remove_from_wishlist(app, request).await,
        _ => Err(request.unknown_route()),
    }
}

/// The caller if a token is sent (admins see more), or anonymous.
async fn viewer(app: &App, request: &Incoming) -> Result<Option<Caller>, ApiError> {
    app.tokens.authenticate_optional(request).await
}

fn is_admin(caller: &Option<Caller>) -> bool {
    caller.as_ref().is_some_and(Caller::is_admin)
}

async fn list_products(app: &App, request: &Incoming) -> ApiResult {
    let caller = viewer(app, request).await?;
    let query = ListQuery::from_query(request)?;
    let page = app.catalog.list_products(&query, caller.as_ref()).await?;
    Ok(Reply::ok(page).cached(LIST_MAX_AGE, is_admin(&caller)))
}

async fn search_products(app: &App, request: &Incoming) -> ApiResult {
    let caller = viewer(app, request).await?;
    let query = ListQuery::from_search_body(request.body())?;
    Ok(Reply::ok(app.catalog.list_products(&query, caller.as_ref()).await?))
}

async fn get_product(app: &App, request: &Incoming) -> ApiResult {
    let caller = viewer(app, request).await?;
    let product = app
        .catalog
        .product_view(request.path_param("productId")?, caller.as_ref())
        .await?;
    Ok(Reply::ok(product).cached(DETAIL_MAX_AGE, is_admin(&caller)))
}

async fn create_product(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let draft = ProductDraft::parse(request, DraftKind::Create)?;
    let product = app.catalog.create_product(&caller, draft).await?;
    Ok(Reply::created(product).message("Product created successfully"))
}

async fn update_product(app: &App, request: &Incoming, kind: DraftKind) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let draft = ProductDraft::parse(request, kind)?;
    let product = app
        .catalog
        .update_product(&caller, request.path_param("productId")?, draft)
        .await?;
    Ok(Reply::ok(product).message("Product updated successfully"))
}

async fn delete_product(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let permanent = match request.query("permanent") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid_field("permanent", "must be true or false")),
    };
    match app
        .catalog
        .delete_product(&caller, request.path_param("productId")?, permanent)
        .await?
    {
        Some(archived) => Ok(Reply::ok(archived).message("Product archived")),
        None => Ok(Reply::ok(json!(null)).message("Product deleted")),
    }
}

async fn change_stock(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let change = StockChange::parse(request.body())?;
    let level = app
        .catalog
        .change_stock(&caller, request.path_param("productId")?, change)
        .await?;
    Ok(Reply::ok(level).message("Stock updated"))
}

/// The newest changes first; `limit` (1–100, default 50) says how many.
async fn stock_history(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let limit = match request.query("limit") {
        None => 50,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::invalid_field("limit", "must be a whole number from 1 to 100"))?,
    };
    let changes = app
        .catalog
        .stock_history(&caller, request.path_param("productId")?, limit)
        .await?;
    Ok(Reply::ok(json!({ "changes": changes })))
}

fn review_id(request: &Incoming) -> Result<ReviewId, ApiError> {
    ReviewId::parse(request.path_param("reviewId")?).map_err(|_| ApiError::not_found("Review"))
}

async fn list_reviews(app: &App, request: &Incoming) -> ApiResult {
    let page = PageRequest::from_query(request, 10)?;
    let highest_first = match request.query("sort") {
        None | Some("newest") => false,
        Some("highest") => true,
        Some(_) => return Err(ApiError::invalid_field("sort", "must be newest or highest")),
    };
    let (reviews, pagination) = app
        .catalog
        .reviews(request.path_param("productId")?, highest_first, page)
        .await?;
    Ok(Reply::ok(json!({ "reviews": reviews, "pagination": pagination })).cached(LIST_MAX_AGE, false))
}

async fn pending_reviews(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let page = PageRequest::from_query(request, 20)?;
    let (reviews, pagination) = app.catalog.pending_reviews(&caller, page).await?;
    Ok(Reply::ok(json!({ "reviews": reviews, "pagination": pagination })))
}

async fn create_review(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let input = ReviewInput::parse(request.body(), true)?;
    let review = app
        .catalog
        .create_review(&caller, request.path_param("productId")?, input)
        .await?;
    Ok(Reply::created(review).message("Review submitted for moderation"))
}

async fn update_review(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let review = review_id(request)?;
    let input = ReviewInput::parse(request.body(), false)?;
    let review = app
        .catalog
        .update_review(&caller, request.path_param("productId")?, review, input)
        .await?;
    Ok(Reply::ok(review).message("Review updated and sent for moderation"))
}

async fn delete_review(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let review = review_id(request)?;
    app.catalog
        .delete_review(&caller, request.path_param("productId")?, review)
        .await?;
    Ok(Reply::ok(json!(null)).message("Review deleted"))
}

async fn moderate_review(app: &App, request: &Incoming, approve: bool) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let review = review_id(request)?;
    let review = app
        .catalog
        .moderate_review(&caller, request.path_param("productId")?, review, approve)
        .await?;
    Ok(Reply::ok(review).message(if approve { "Review approved" } else { "Review rejected" }))
}

async fn list_categories(app: &App, request: &Incoming) -> ApiResult {
    let caller = viewer(app, request).await?;
    let tree = app.catalog.category_tree(caller.as_ref()).await?;
    Ok(Reply::ok(json!({ "categories": tree })).cached(CATEGORY_MAX_AGE, is_admin(&caller)))
}

/// The category and a page of its products, its subcategories' included.
async fn get_category(app: &App, request: &Incoming) -> ApiResult {
    let caller = viewer(app, request).await?;
    let reference = request.path_param("category")?;
    let category = app.catalog.category(reference, caller.as_ref()).await?;
    let mut query = ListQuery::from_query(request)?;
    query.category = Some(category.category.category_id.to_string());
    let products = app.catalog.list_products(&query, caller.as_ref()).await?;
    Ok(Reply::ok(json!({ "category": category, "products": products.products, "pagination": products.pagination, "facets": products.facets }))
        .cached(LIST_MAX_AGE, is_admin(&caller)))
}

async fn create_category(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let input = CategoryInput::parse(request.body(), true)?;
    Ok(Reply::created(app.catalog.create_category(&caller, input).await?).message("Category created successfully"))
}

async fn update_category(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let input = CategoryInput::parse(request.body(), false)?;
    let category = app
        .catalog
        .update_category(&caller, request.path_param("category")?, input)
        .await?;
    Ok(Reply::ok(category).message("Category updated successfully"))
}

async fn delete_category(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    app.catalog
        .delete_category(&caller, request.path_param("category")?)
        .await?;
    Ok(Reply::ok(json!(null)).message("Category deleted"))
}

async fn get_wishlist(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let page = PageRequest::from_query(request, 20)?;
    let (items, pagination) = app.catalog.wishlist(&caller, page).await?;
    Ok(Reply::ok(json!({ "items": items, "pagination": pagination })))
}

async fn add_to_wishlist(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let product = product_to_add(request.body())?;
    if app.catalog.add_to_wishlist(&caller, product).await? {
        Ok(Reply::created(json!({ "productId": product })).message("Added to wishlist"))
    } else {
        Ok(Reply::ok(json!({ "productId": product })).message("Already in wishlist"))
    }
}

async fn remove_from_wishlist(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let product = ProductId::parse(request.path_param("productId")?).map_err(|_| ApiError::not_found("Product"))?;
    app.catalog.remove_from_wishlist(&caller, product).await?;
    Ok(Reply::ok(json!(null)).message("Removed from wishlist"))
}
