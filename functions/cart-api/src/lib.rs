//! `cart-api`: the shopping cart of a customer (bearer token) or a guest
//! (`X-Cart-Token`), with current prices, a coupon and the summary.

use serde::Serialize;
use shop::Config;
use shop::auth::Tokens;
use shop::aws::AwsClients;
use shop::cart::{
    CartView, Carts, NewItem, guest_owner, new_guest_token, parse_coupon_code, parse_destination, parse_quantity,
};
use shop::domain::CartItemId;
use shop::http::{ApiError, ApiResult, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::store::cart::CartOwner;

const CART_TOKEN: &str = "x-cart-token";

#[derive(Debug)]
pub struct App {
    carts: Carts,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            carts: Carts::from_config(config, clients),
            tokens: Tokens::from_config(config, clients),
        }
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
        "GET /api/v1/cart" => get_cart(app, request).await,
        "DELETE /api/v1/cart" => clear_cart(app, request).await,
        "POST /api/v1/cart/items" => add_item(app, request).await,
        "PUT /api/v1/cart/items/{itemId}" => update_item(app, request).await,
        "DELETE /api/v1/cart/items/{itemId}" => remove_item(app, request).await,
        "POST /api/v1/cart/coupon" => apply_coupon(app, request).await,
        "DELETE /api/v1/cart/coupon" => remove_coupon(app, request).await,
        "POST /api/v1/cart/merge" => merge(app, request).await,
        "GET /api/v1/cart/shipping-options" => shipping_options(app, request).await,
        _ => Err(request.unknown_route()),
    }
}

/// The cart a request is about: the customer's (bearer token) or a guest's
/// (`X-Cart-Token`). `create` starts a guest cart when there is neither.
async fn owner(app: &App, request: &Incoming, create: bool) -> Result<(CartOwner, Option<String>), ApiError> {
    if let Some(caller) = app.tokens.authenticate_optional(request).await? {
        return Ok((CartOwner::User(caller.user_id), None));
    }
    match request.header(CART_TOKEN).map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => Ok((guest_owner(valid_token(token)?), None)),
        None if create => {
            let (token, owner) = new_guest_token();
            Ok((owner, Some(token)))
        }
        // No cart yet: an empty one, under a token nobody holds.
        None => Ok((new_guest_token().1, None)),
    }
}

/// Only tokens this API issued (43 URL-safe base64 characters) name a guest cart.
fn valid_token(token: &str) -> Result<&str, ApiError> {
    let issued = token.len() == 43 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if issued {
        Ok(token)
    } else {
        Err(ApiError::invalid_field(
            "X-Cart-Token",
            "is not a cart token issued by this API",
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithToken {
    #[serde(flatten)]
    cart: CartView,
    /// A new guest cart's token: send it back as `X-Cart-Token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cart_token: Option<String>,
}

fn reply(cart: CartView, token: Option<String>, created: bool) -> Reply {
    let header = token.clone();
    let reply = if created {
        Reply::created(WithToken {
            cart,
            cart_token: token,
        })
    } else {
        Reply::ok(WithToken {
            cart,
            cart_token: token,
        })
    };
    match header {
        Some(token) => reply.header(CART_TOKEN, &token),
        None => reply,
    }
}

fn item_id(request: &Incoming) -> Result<CartItemId, ApiError> {
    CartItemId::parse(request.path_param("itemId")?).map_err(|_| ApiError::not_found("Cart item"))
}

async fn get_cart(app: &App, request: &Incoming) -> ApiResult {
    let (owner, _) = owner(app, request, false).await?;
    Ok(reply(app.carts.cart(&owner).await?, None, false).header("cache-control", "private, no-store"))
}

async fn shipping_options(app: &App, request: &Incoming) -> ApiResult {
    let destination = parse_destination(request)?;
    let (owner, _) = owner(app, request, false).await?;
    let options = app.carts.shipping_options(&owner, destination).await?;
    Ok(Reply::ok(options).header("cache-control", "private, no-store"))
}

async fn clear_cart(app: &App, request: &Incoming) -> ApiResult {
    let (owner, _) = owner(app, request, false).await?;
    Ok(reply(app.carts.clear(&owner).await?, None, false).message("Cart cleared"))
}

async fn add_item(app: &App, request: &Incoming) -> ApiResult {
    let item = NewItem::parse(request.body())?;
    let (owner, token) = owner(app, request, true).await?;
    let cart = app.carts.add_item(&owner, item).await?;
    Ok(reply(cart, token, true).message("Item added to cart successfully"))
}

async fn update_item(app: &App, request: &Incoming) -> ApiResult {
    let item = item_id(request)?;
    let quantity = parse_quantity(request.body())?;
    let (owner, _) = owner(app, request, false).await?;
    Ok(
        reply(app.carts.set_quantity(&owner, item, quantity).await?, None, false)
            .message("Cart item updated successfully"),
    )
}

async fn remove_item(app: &App, request: &Incoming) -> ApiResult {
    let item = item_id(request)?;
    let (owner, _) = owner(app, request, false).await?;
    Ok(reply(app.carts.remove_item(&owner, item).await?, None, false).message("Item removed from cart successfully"))
}

/// A coupon goes on an existing cart: a customer's, or a guest's with its token.
async fn existing_owner(app: &App, request: &Incoming) -> Result<CartOwner, ApiError> {
    if app.tokens.authenticate_optional(request).await?.is_none() && request.header(CART_TOKEN).is_none() {
        return Err(ApiError::new(
            shop::http::ErrorCode::InvalidCartOperation,
            "There is no cart: add an item first",
        ));
    }
    Ok(owner(app, request, false).await?.0)
}

async fn apply_coupon(app: &App, request: &Incoming) -> ApiResult {
    let code = parse_coupon_code(request.body())?;
    let owner = existing_owner(app, request).await?;
    Ok(reply(app.carts.apply_coupon(&owner, code).await?, None, false).message("Coupon applied"))
}

async fn remove_coupon(app: &App, request: &Incoming) -> ApiResult {
    let owner = existing_owner(app, request).await?;
    Ok(reply(app.carts.remove_coupon(&owner).await?, None, false).message("Coupon removed"))
}

/// After login: the guest cart of `X-Cart-Token` moves into the customer's.
async fn merge(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let token = request
        .header(CART_TOKEN)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::validation(
                Vec::new(),
                vec![shop::http::FieldIssue::new("X-Cart-Token", "is required")],
            )
        })?;
    let cart = app
        .carts
        .merge(&CartOwner::User(caller.user_id), &guest_owner(valid_token(token)?))
        .await?;
    Ok(reply(cart, None, false).message("Guest cart merged"))
}
