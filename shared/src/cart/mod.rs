//! Carts for customers and guests: prices always current from the catalog,
//! totals by the pricing rules (`domain::pricing`), a coupon applied to the
//! summary, and the ways a cart can ship to a destination (`shipping`).

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::CommerceSettings;
use crate::domain::{
    CartItemId, CountryCode, CouponCode, Destination, Money, ProductId, ProductStatus, Quantity, RegionCode, Summary,
    Timestamp, VariantId,
};
use crate::http::form_value::text;
use crate::http::{ApiError, ErrorCode, FieldIssue, Form, Incoming};
use crate::shipping::{DestinationRules, Offer, RulesCache, ShippingOptionsView};
use crate::store::cart::{CartLineRecord, CartOwner, CartRecord};
use crate::store::coupons::{CouponRecord, DiscountKind};
use crate::store::products::ProductRecord;
use crate::store::{Store, StoreError};

/// Distinct items a cart may hold.
pub const MAX_LINES: usize = 50;
/// Attempts of a read-modify-write that raced another change of the same cart.
const ATTEMPTS: usize = 4;

/// A new cart token for a guest, and its digest (the only thing stored).
pub fn new_guest_token() -> (String, CartOwner) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let owner = guest_owner(&token);
    (token, owner)
}

pub fn guest_owner(token: &str) -> CartOwner {
    CartOwner::Guest(
        Sha256::digest(token.trim().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub quantity: Quantity,
}

fn quantity(value: &serde_json::Value) -> Result<Quantity, String> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .and_then(|n| Quantity::new(n).ok())
        .ok_or_else(|| "must be a whole number from 1 to 99".to_owned())
}

impl NewItem {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&["productId", "variantId", "quantity"]);
        let product_id = form.required("productId", |v| ProductId::parse(&text(v)?).map_err(|e| e.to_string()));
        let variant_id = form.optional("variantId", |v| VariantId::parse(&text(v)?).map_err(|e| e.to_string()));
        let quantity = form.optional("quantity", quantity);
        form.finish()?;
        let (Some(product_id), Some(variant_id), Some(quantity)) = (product_id, variant_id, quantity) else {
            return Err(ApiError::invalid_field("body", "is incomplete"));
        };
        let quantity =
            quantity.unwrap_or(Quantity::new(1).map_err(|_| ApiError::invalid_field("quantity", "is invalid"))?);
        Ok(Self {
            product_id,
            variant_id,
            quantity,
        })
    }
}

pub fn parse_quantity(body: &[u8]) -> Result<Quantity, ApiError> {
    let mut form = Form::from_body(body)?;
    form.only(&["quantity"]);
    let value = form.required("quantity", quantity);
    form.finish()?;
    value.ok_or_else(|| ApiError::invalid_field("quantity", "is required"))
}

/// The destination of `?country=US&region=NY` (the region may also be written `US-NY`).
pub fn parse_destination(request: &Incoming) -> Result<Destination, ApiError> {
    let country = request
        .query("country")
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| ApiError::validation(Vec::new(), vec![FieldIssue::new("country", "is required")]))?;
    let country = CountryCode::parse(country).map_err(|e| ApiError::invalid_field("country", e.to_string()))?;
    let region = request
        .query("region")
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            RegionCode::parse_within(country, text).map_err(|e| ApiError::invalid_field("region", e.to_string()))
        })
        .transpose()?;
    Ok(Destination { country, region })
}

pub fn parse_coupon_code(body: &[u8]) -> Result<CouponCode, ApiError> {
    let mut form = Form::from_body(body)?;
    form.only(&["code"]);
    let code = form.required("code", |v| CouponCode::parse(&text(v)?).map_err(|e| e.to_string()));
    form.finish()?;
    code.ok_or_else(|| ApiError::invalid_field("code", "is required"))
}

impl CouponRecord {
    /// The discount on `subtotal`, or why the coupon does not apply now.
    pub fn discount(&self, subtotal: Money, now: Timestamp, customer_uses: i64) -> Result<Money, String> {
        if !self.is_active {
            return Err("is not active".into());
        }
        if self.valid_from.is_some_and(|from| now < from) {
            return Err("is not valid yet".into());
        }
        if self.valid_until.is_some_and(|until| now > until) {
            return Err("has expired".into());
        }
        if self.usage_limit.is_some_and(|limit| self.used_count >= limit) {
            return Err("has been used up".into());
        }
        if self.per_customer_limit.is_some_and(|limit| customer_uses >= limit) {
            return Err("has already been used as often as allowed".into());
        }
        if let Some(minimum) = self.min_subtotal
            && subtotal < minimum
        {
            return Err(format!("needs a subtotal of at least {minimum}"));
        }
        Ok(match self.kind {
            DiscountKind::Percentage => subtotal.percent_bps_floor(u32::try_from(self.value * 100).unwrap_or(0)),
            DiscountKind::Fixed => Money::from_cents(self.value.min(subtotal.cents())),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItemView {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub name: String,
    pub sku: String,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
    pub price: Money,
    pub quantity: u32,
    pub subtotal: Money,
    pub image: Option<String>,
    /// False when the product (or variant) is no longer sold; such lines are not in the totals.
    pub available: bool,
    /// Units available now.
    pub inventory: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCoupon {
    pub code: CouponCode,
    pub discount: Money,
    /// Why the coupon gives nothing right now (expired, minimum not met, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    pub cart_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<crate::domain::UserId>,
    pub items: Vec<CartItemView>,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon: Option<AppliedCoupon>,
    pub item_count: u32,
    pub currency: String,
    pub updated_at: Timestamp,
}

/// The unit price and stock of a line's product or variant, if it can be sold.
fn offer(
    product: Option<&ProductRecord>,
    variant: Option<VariantId>,
) -> Option<(Money, i64, String, std::collections::BTreeMap<String, String>)> {
    let product = product.filter(|p| p.status == ProductStatus::Active)?;
    match variant {
        Some(id) => {
            let variant = product.variants.get(&id.to_string())?;
            Some((
                variant.price.unwrap_or(product.price),
                variant.stock,
                variant.sku.to_string(),
                variant.options.clone(),
            ))
        }
        None if product.variants.is_empty() => Some((
            product.price,
            product.stock,
            product.sku.to_string(),
            Default::default(),
        )),
        None => None,
    }
}

/// A cart priced against current products and its coupon, its summary by
/// the cheapest of the `shipping` offered.
pub fn price_cart(
    owner: &CartOwner,
    cart: &CartRecord,
    products: &HashMap<ProductId, ProductRecord>,
    coupon: Option<(&CouponRecord, i64)>,
    (settings, shipping): (&CommerceSettings, &Offer<'_>),
    now: Timestamp,
) -> CartView {
    let mut items = Vec::new();
    let mut subtotal = Money::ZERO;
    for line in cart.lines() {
        let product = products.get(&line.product_id);
        let offer = offer(product, line.variant_id);
        let (price, inventory, sku, options) = offer.clone().unwrap_or_default();
        let line_total = price.checked_mul(line.quantity.get()).unwrap_or_default();
        if offer.is_some() {
            subtotal = subtotal.checked_add(line_total).unwrap_or(subtotal);
        }
        items.push(CartItemView {
            item_id: line.item_id,
            product_id: line.product_id,
            variant_id: line.variant_id,
            name: product.map(|p| p.name.clone()).unwrap_or_default(),
            sku,
            options,
            price,
            quantity: line.quantity.get(),
            subtotal: line_total,
            image: product.and_then(|p| p.image.clone()),
            available: offer.is_some(),
            inventory,
        });
    }
    let applied = match (&cart.coupon_code, coupon) {
        (Some(code), Some((record, uses))) => Some(match record.discount(subtotal, now, uses) {
            Ok(discount) => AppliedCoupon {
                code: code.clone(),
                discount,
                problem: None,
            },
            Err(problem) => AppliedCoupon {
                code: code.clone(),
                discount: Money::ZERO,
                problem: Some(problem),
            },
        }),
        (Some(code), None) => Some(AppliedCoupon {
            code: code.clone(),
            discount: Money::ZERO,
            problem: Some("no longer exists".into()),
        }),
        _ => None,
    };
    let discount = applied.as_ref().map_or(Money::ZERO, |c| c.discount);
    CartView {
        cart_id: owner.cart_id(),
        user_id: owner.user(),
        item_count: items.iter().map(|i| i.quantity).sum(),
        items,
        summary: shipping.cheapest(subtotal, discount).summary,
        coupon: applied,
        currency: settings.currency.clone(),
        updated_at: cart.updated_at,
    }
}

/// What pricing a cart reads besides the cart: its products, its coupon with
/// the customer's uses, and the shipping zones and tax rates.
struct Context {
    products: HashMap<ProductId, ProductRecord>,
    coupon: Option<(CouponRecord, i64)>,
    rules: Arc<DestinationRules>,
}

/// Carts: reads and edits, each a read-modify-write on the one cart item.
#[derive(Debug)]
pub struct Carts {
    pub store: Store,
    pub settings: CommerceSettings,
    rules: RulesCache,
}

impl Carts {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::from_config(config, clients),
            settings: config.commerce.clone(),
            rules: RulesCache::from_config(config, clients),
        }
    }

    fn ttl(&self, owner: &CartOwner) -> i64 {
        let ttl = match owner {
            CartOwner::User(_) => self.settings.customer_cart_ttl,
            CartOwner::Guest(_) => self.settings.guest_cart_ttl,
        };
        i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)
    }

    /// The products of a cart and the coupon `code` (with the customer's uses)
    /// in one BatchGetItem; the zones and rates (cached) alongside.
    async fn context(
        &self,
        owner: &CartOwner,
        cart: &CartRecord,
        extra: &[ProductId],
        code: Option<&CouponCode>,
    ) -> Result<Context, ApiError> {
        let mut ids: Vec<ProductId> = cart
            .lines
            .values()
            .map(|l| l.product_id)
            .chain(extra.iter().copied())
            .collect();
        ids.sort();
        ids.dedup();
        let coupon_user = owner.user().unwrap_or_else(crate::domain::UserId::generate);
        let (reads, rules) = futures::try_join!(
            async { Ok::<_, ApiError>(self.store.checkout_reads(&ids, code, coupon_user).await?) },
            self.rules.current(),
        )?;
        Ok(Context {
            products: reads.products.into_iter().map(|p| (p.product_id, p)).collect(),
            coupon: reads.coupon.map(|c| (c, reads.coupon_uses)),
            rules,
        })
    }

    /// The cart priced before its destination is known (see [`DestinationRules::estimate`]).
    fn view(&self, owner: &CartOwner, cart: &CartRecord, context: &Context) -> CartView {
        price_cart(
            owner,
            cart,
            &context.products,
            context.coupon.as_ref().map(|(c, uses)| (c, *uses)),
            (&self.settings, &context.rules.estimate(&self.settings.pricing)),
            Timestamp::now(),
        )
    }

    /// Two round trips: the cart, then its products and coupon.
    pub async fn cart(&self, owner: &CartOwner) -> Result<CartView, ApiError> {
        let cart = self.store.cart(owner, Timestamp::now()).await?;
        let context = self.context(owner, &cart, &[], cart.coupon_code.as_ref()).await?;
        Ok(self.view(owner, &cart, &context))
    }

    /// The ways the cart can ship to `destination`, each priced for it, in
    /// the cart's two round trips.
    #[tracing::instrument(skip_all, fields(country = %destination.country))]
    pub async fn shipping_options(
        &self,
        owner: &CartOwner,
        destination: Destination,
    ) -> Result<ShippingOptionsView, ApiError> {
        let cart = self.store.cart(owner, Timestamp::now()).await?;
        let context = self.context(owner, &cart, &[], cart.coupon_code.as_ref()).await?;
        let flat = &self.settings.pricing;
        let summary = self.view(owner, &cart, &context).summary;
        let offer = context.rules.offer(Some(&destination), None, flat).ok();
        Ok(ShippingOptionsView::new(
            destination,
            offer.as_ref(),
            (summary.subtotal, summary.discount),
            &self.settings.currency,
        ))
    }

    /// Applies `change` to the cart and saves it if nobody changed it meanwhile,
    /// retrying on a race. `change` sees the products of the cart (and `extra`)
    /// and the coupon `applying` names, or else the cart's own, with the
    /// customer's uses of it; the answer is priced with the coupon the saved cart holds.
    async fn edit(
        &self,
        owner: &CartOwner,
        extra: &[ProductId],
        applying: Option<&CouponCode>,
        change: impl Fn(
            &mut CartRecord,
            &HashMap<ProductId, ProductRecord>,
            Option<&(CouponRecord, i64)>,
        ) -> Result<(), ApiError>,
    ) -> Result<CartView, ApiError> {
        let mut attempted: Option<String> = None;
        for _ in 0..ATTEMPTS {
            let now = Timestamp::now();
            let mut cart = self.store.cart(owner, now).await?;
            if attempted.is_some() && cart.write_id == attempted {
                // The last write landed, but its answer was lost and the SDK's
                // retry found the version already moved: it is done, not to be
                // applied a second time.
                let context = self.context(owner, &cart, &[], cart.coupon_code.as_ref()).await?;
                return Ok(self.view(owner, &cart, &context));
            }
            let code = applying.or(cart.coupon_code.as_ref());
            let mut context = self.context(owner, &cart, extra, code).await?;
            let expected = cart.version;
            change(&mut cart, &context.products, context.coupon.as_ref())?;
            cart.version = expected + 1;
            cart.write_id = Some(ulid::Ulid::new().to_string());
            attempted.clone_from(&cart.write_id);
            cart.updated_at = now;
            cart.expires_at = now.unix() + self.ttl(owner);
            match self.store.save_cart(owner, &cart, expected, now).await {
                Ok(()) => {
                    context.coupon = context
                        .coupon
                        .filter(|(read, _)| Some(&read.code) == cart.coupon_code.as_ref());
                    // A coupon the change brought in (a merged guest cart's) is read now.
                    if cart.coupon_code.is_some() && context.coupon.is_none() {
                        context = self.context(owner, &cart, &[], cart.coupon_code.as_ref()).await?;
                    }
                    return Ok(self.view(owner, &cart, &context));
                }
                Err(StoreError::ConditionFailed) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::stale_version())
    }

    /// Adds an item (or more of it), within 1–99 and the stock available.
    #[tracing::instrument(skip_all)]
    pub async fn add_item(&self, owner: &CartOwner, item: NewItem) -> Result<CartView, ApiError> {
        self.edit(owner, &[item.product_id], None, |cart, products, _| {
            let product = products.get(&item.product_id);
            let (_, stock, _, _) = offer(product, item.variant_id).ok_or_else(|| match product {
                Some(p) if p.status == ProductStatus::Active && item.variant_id.is_none() => {
                    ApiError::invalid_field("variantId", "is required: choose one of this product's variants")
                }
                Some(p) if p.status == ProductStatus::Active => {
                    ApiError::invalid_field("variantId", "is not a variant of this product")
                }
                _ => ApiError::not_found("Product"),
            })?;
            let existing = cart
                .lines
                .values_mut()
                .find(|l| l.product_id == item.product_id && l.variant_id == item.variant_id);
            let wanted = existing.as_ref().map_or(0, |l| l.quantity.get()) + item.quantity.get();
            let quantity = Quantity::new(wanted)
                .map_err(|_| ApiError::invalid_field("quantity", format!("at most {} of one item", Quantity::MAX)))?;
            if i64::from(wanted) > stock {
                return Err(ApiError::new(
                    ErrorCode::InsufficientInventory,
                    format!("Only {stock} available"),
                ));
            }
            match existing {
                Some(line) => line.quantity = quantity,
                None => {
                    if cart.lines.len() >= MAX_LINES {
                        return Err(ApiError::new(
                            ErrorCode::InvalidCartOperation,
                            format!("A cart holds at most {MAX_LINES} items"),
                        ));
                    }
                    let id = CartItemId::generate();
                    cart.lines.insert(
                        id.to_string(),
                        CartLineRecord {
                            item_id: id,
                            product_id: item.product_id,
                            variant_id: item.variant_id,
                            quantity,
                            added_at: Timestamp::now(),
                        },
                    );
                }
            }
            Ok(())
        })
        .await
    }

    /// Sets a line's quantity, within the stock available; a line of another cart is 404.
    #[tracing::instrument(skip_all)]
    pub async fn set_quantity(
        &self,
        owner: &CartOwner,
        item: CartItemId,
        quantity: Quantity,
    ) -> Result<CartView, ApiError> {
        self.edit(owner, &[], None, |cart, products, _| {
            let line = cart
                .lines
                .get_mut(&item.to_string())
                .ok_or_else(|| ApiError::not_found("Cart item"))?;
            let (_, stock, _, _) = offer(products.get(&line.product_id), line.variant_id).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidCartOperation,
                    "This product is no longer sold; remove it from the cart",
                )
            })?;
            if i64::from(quantity.get()) > stock {
                return Err(ApiError::new(
                    ErrorCode::InsufficientInventory,
                    format!("Only {stock} available"),
                ));
            }
            line.quantity = quantity;
            Ok(())
        })
        .await
    }

    pub async fn remove_item(&self, owner: &CartOwner, item: CartItemId) -> Result<CartView, ApiError> {
        self.edit(owner, &[], None, |cart, _, _| {
            cart.lines
                .remove(&item.to_string())
                .map(|_| ())
                .ok_or_else(|| ApiError::not_found("Cart item"))
        })
        .await
    }

    pub async fn clear(&self, owner: &CartOwner) -> Result<CartView, ApiError> {
        self.store.delete_cart(owner).await?;
        let now = Timestamp::now();
        // An empty cart owes nothing, whatever the zones and rates.
        let none = DestinationRules::default();
        Ok(price_cart(
            owner,
            &CartRecord::empty(now),
            &HashMap::new(),
            None,
            (&self.settings, &none.estimate(&self.settings.pricing)),
            now,
        ))
    }

    /// Applies a coupon that is valid for this cart now (400 naming `code` otherwise):
    /// three round trips, the coupon read with the cart's products.
    pub async fn apply_coupon(&self, owner: &CartOwner, code: CouponCode) -> Result<CartView, ApiError> {
        self.edit(owner, &[], Some(&code), |cart, products, coupon| {
            let (coupon, uses) = coupon.ok_or_else(|| ApiError::invalid_field("code", "is not a valid coupon"))?;
            let mut probe = cart.clone();
            probe.coupon_code = None;
            let flat = DestinationRules::default();
            let offer = flat.estimate(&self.settings.pricing);
            let subtotal = price_cart(
                owner,
                &probe,
                products,
                None,
                (&self.settings, &offer),
                Timestamp::now(),
            )
            .summary
            .subtotal;
            coupon
                .discount(subtotal, Timestamp::now(), *uses)
                .map_err(|problem| ApiError::invalid_field("code", problem))?;
            cart.coupon_code = Some(code.clone());
            Ok(())
        })
        .await
    }

    pub async fn remove_coupon(&self, owner: &CartOwner) -> Result<CartView, ApiError> {
        self.edit(owner, &[], None, |cart, _, _| {
            cart.coupon_code = None;
            Ok(())
        })
        .await
    }

    /// Moves a guest cart into the customer's: quantities of the same item are
    /// summed and capped by the stock available (and 99); the guest cart is emptied.
    #[tracing::instrument(skip_all)]
    pub async fn merge(&self, customer: &CartOwner, guest: &CartOwner) -> Result<CartView, ApiError> {
        let guest_cart = self.store.cart(guest, Timestamp::now()).await?;
        if guest_cart.is_empty() && guest_cart.coupon_code.is_none() {
            return self.cart(customer).await;
        }
        let guest_products: Vec<ProductId> = guest_cart.lines.values().map(|l| l.product_id).collect();
        let merged = self
            .edit(customer, &guest_products, None, |cart, products, _| {
                for line in guest_cart.lines() {
                    let Some((_, stock, _, _)) = offer(products.get(&line.product_id), line.variant_id) else {
                        continue;
                    };
                    let cap = u32::try_from(stock.max(0)).unwrap_or(0).min(Quantity::MAX);
                    let mine = cart
                        .lines
                        .values_mut()
                        .find(|l| l.product_id == line.product_id && l.variant_id == line.variant_id);
                    let wanted = mine.as_ref().map_or(0, |l| l.quantity.get()) + line.quantity.get();
                    let Ok(quantity) = Quantity::new(wanted.min(cap)) else {
                        continue;
                    };
                    if let Some(mine) = mine {
                        mine.quantity = quantity.max(mine.quantity);
                    } else if cart.lines.len() < MAX_LINES {
                        cart.lines.insert(
                            line.item_id.to_string(),
                            CartLineRecord {
                                quantity,
                                ..line.clone()
                            },
                        );
                    }
                }
                if cart.coupon_code.is_none() {
                    cart.coupon_code.clone_from(&guest_cart.coupon_code);
                }
                Ok(())
            })
            .await?;
        self.store.delete_cart(guest).await?;
        Ok(merged)
    }
}
