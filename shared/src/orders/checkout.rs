//! `POST /api/v1/orders`: the cart becomes an order in one transaction.
//!
//! Round trips: (1) the cart, the idempotency record and the saved addresses,
//! concurrently (and the shipping zones and tax rates, when the cache has
//! none); (2) the cart's products and coupon; (3) the transaction that
//! writes the order and its idempotency record, removes the cart, counts the
//! coupon and puts the reservation request and the "order received" mail in
//! the outbox.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Orders;
use super::lifecycle::{self, Effect};
use super::views::OrderView;
use crate::auth::Caller;
use crate::cart::price_cart;
use crate::domain::{
    AddressId, AddressInput, Destination, OrderId, OrderStatus, PaymentStatus, ReservationStatus, ShippingMethodId,
    Timestamp,
};
use crate::http::form_value::text;
use crate::http::{ApiError, ErrorCode, Form, Incoming};
use crate::shipping::{DestinationRules, Quote, Refusal, Shipment, Tax};
use crate::store::cart::{CartOwner, CartRecord};
use crate::store::coupons::CouponRecord;
use crate::store::orders::{
    AppliedTaxRecord, IdempotencyRecord, OrderLine, OrderRecord, OrderWrite, PaymentMethod, ShippingChoiceRecord,
    TimelineEntry, Totals,
};
use crate::store::users::AddressRecord;

/// An address sent inline, or one saved in the address book.
#[derive(Debug, Clone)]
pub enum AddressChoice {
    Inline(AddressInput),
    Saved(AddressId),
}

#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub shipping: AddressChoice,
    /// The shipping address when not given.
    pub billing: Option<AddressChoice>,
    pub payment_method: PaymentMethod,
    /// The shipping method chosen; without one the cheapest for the address.
    pub shipping_method: Option<ShippingMethodId>,
    pub idempotency_key: Option<String>,
    /// A digest of the body: the same key with another body is refused.
    pub request_hash: String,
}

const PAYMENT_TYPES: [&str; 3] = ["credit_card", "debit_card", "card"];
/// Idempotency records outlive any client retry.
const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;
/// Attempts of the checkout transaction when it conflicts with a concurrent one (a popular coupon).
const CONFLICT_ATTEMPTS: u32 = 10;

fn address_choice(form: &mut Form, inline: &str, saved: &str) -> Option<Option<AddressChoice>> {
    let id = form.optional(saved, |v| AddressId::parse(&text(v)?).map_err(|e| e.to_string()));
    let address = form.optional(inline, |v| {
        if !v.is_object() {
            return Err("must be an address object {street, city, state, zipCode, country}".to_owned());
        }
        let mut nested = Form::from_body(v.to_string().as_bytes()).map_err(|e| e.message)?;
        nested.only(&["street", "city", "state", "zipCode", "country"]);
        let address = AddressInput::read(&mut nested);
        if nested.is_valid() {
            address.ok_or_else(|| "is incomplete".to_owned())
        } else {
            let details = nested.into_error().details.unwrap_or_default();
            let fields: Vec<String> = details
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| Some(format!("{} {}", d["field"].as_str()?, d["message"].as_str()?)))
                .collect();
            Err(fields.join("; "))
        }
    });
    match (address?, id?) {
        (Some(address), None) => Some(Some(AddressChoice::Inline(address))),
        (None, Some(id)) => Some(Some(AddressChoice::Saved(id))),
        (None, None) => Some(None),
        // Both forms were refused before parsing; the saved id would win.
        (Some(_), Some(id)) => Some(Some(AddressChoice::Saved(id))),
    }
}

impl CheckoutRequest {
    pub fn parse(request: &Incoming) -> Result<Self, ApiError> {
        let body = request.body();
        let mut form = Form::from_body(body)?;
        form.only(&[
            "shippingAddress",
            "shippingAddressId",
            "billingAddress",
            "billingAddressId",
            "paymentMethod",
            "shippingMethodId",
        ]);
        let both = |a: &str, b: &str, form: &Form| form.has(a) && form.has(b);
        for (inline, saved) in [
            ("shippingAddress", "shippingAddressId"),
            ("billingAddress", "billingAddressId"),
        ] {
            if both(inline, saved, &form) {
                return Err(ApiError::invalid_field(
                    inline,
                    format!("send {inline} or {saved}, not both"),
                ));
            }
        }
        let shipping = address_choice(&mut form, "shippingAddress", "shippingAddressId");
        let billing = address_choice(&mut form, "billingAddress", "billingAddressId");
        let payment_method = form.optional("paymentMethod", |v| {
            let object = v
                .as_object()
                .ok_or("must be an object such as {\"type\": \"credit_card\"}")?;
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("credit_card")
                .trim()
                .to_lowercase();
            if !PAYMENT_TYPES.contains(&kind.as_str()) {
                return Err("type must be one of credit_card, debit_card, card");
            }
            let token = object
                .get("token")
                .and_then(Value::as_str)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            if token.as_ref().is_some_and(|t| t.len() > 200) {
                return Err("token is too long");
            }
            Ok(PaymentMethod { kind, token })
        });
        let shipping_method = form.optional("shippingMethodId", |v| {
            ShippingMethodId::parse(&text(v)?).map_err(|e| e.to_string())
        });
        let idempotency_key = request.idempotency_key()?;
        let (Some(shipping), Some(billing), Some(payment_method), Some(shipping_method)) =
            (shipping, billing, payment_method, shipping_method)
        else {
            return Err(form.into_error());
        };
        let Some(shipping) = shipping else {
            return Err(ApiError::validation(
                Vec::new(),
                vec![crate::http::FieldIssue::new(
                    "shippingAddress",
                    "is required (or shippingAddressId)",
                )],
            ));
        };
        form.finish()?;
        let canonical = serde_json::from_slice::<Value>(body)
            .map(|v| v.to_string())
            .unwrap_or_default();
        Ok(Self {
            shipping,
            billing,
            payment_method: payment_method.unwrap_or(PaymentMethod {
                kind: "credit_card".into(),
                token: None,
            }),
            shipping_method,
            idempotency_key,
            request_hash: Sha256::digest(canonical.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        })
    }
}

/// What a checkout reads first, in one round trip.
struct Loaded {
    cart: CartRecord,
    replay: Option<IdempotencyRecord>,
    book: Option<Vec<AddressRecord>>,
    rules: Arc<DestinationRules>,
}

impl Orders {
    /// The order an earlier request with the same key created, or 409 when the body differs.
    async fn replay(&self, record: &IdempotencyRecord, request: &CheckoutRequest) -> Result<OrderView, ApiError> {
        if record.request_hash != request.request_hash {
            return Err(
                ApiError::already_exists("This Idempotency-Key was used for a different request").with_details(
                    serde_json::json!([{"field": "Idempotency-Key", "message": "reused with another body"}]),
                ),
            );
        }
        let order = self.store.order(record.order_id).await?.ok_or_else(super::not_found)?;
        Ok(OrderView::from(&order))
    }

    /// The earlier request with the same key, if one committed since this one looked.
    async fn committed_replay(
        &self,
        caller: &Caller,
        request: &CheckoutRequest,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, ApiError> {
        match &request.idempotency_key {
            Some(key) => Ok(self.store.idempotency(caller.user_id, key, now.unix()).await?),
            None => Ok(None),
        }
    }

    /// Creates an order from the caller's cart. Returns the order and whether it
    /// is new (false: an idempotent replay of an earlier request).
    #[tracing::instrument(skip_all, fields(userId = %caller.user_id))]
    pub async fn checkout(&self, caller: &Caller, request: CheckoutRequest) -> Result<(OrderView, bool), ApiError> {
        let now = Timestamp::now();
        let owner = CartOwner::User(caller.user_id);
        let loaded = self.load(caller, &owner, &request, now).await?;
        if let Some(record) = loaded.replay {
            return Ok((self.replay(&record, &request).await?, false));
        }
        let (shipping_address, billing_address) = resolve_addresses(&request, loaded.book.as_deref())?;
        if loaded.cart.is_empty() {
            // The same request may have committed (and removed the cart) between the two reads.
            if let Some(record) = self.committed_replay(caller, &request, now).await? {
                return Ok((self.replay(&record, &request).await?, false));
            }
            return Err(ApiError::new(ErrorCode::InvalidCartOperation, "The cart is empty"));
        }
        let offer = loaded
            .rules
            .offer(
                Destination::of_address(&shipping_address).as_ref(),
                request.shipping_method,
                &self.settings.pricing,
            )
            .map_err(|refusal| refused(refusal, &request))?;
        let cart = loaded.cart;
        let ids: Vec<_> = cart.lines.values().map(|l| l.product_id).collect();
        let reads = self
            .store
            .checkout_reads(&ids, cart.coupon_code.as_ref(), caller.user_id)
            .await?;
        let products: HashMap<_, _> = reads.products.into_iter().map(|p| (p.product_id, p)).collect();
        let priced = price_cart(
            &owner,
            &cart,
            &products,
            reads.coupon.as_ref().map(|c| (c, reads.coupon_uses)),
            (&self.settings, &offer),
            now,
        );
        validate(&priced)?;
        let quote = offer.cheapest(priced.summary.subtotal, priced.summary.discount);
        let order = self.order_record(
            caller,
            (&priced, &quote),
            &products,
            (shipping_address, billing_address),
            &request,
            now,
        );
        let coupon = reads.coupon.as_ref().filter(|_| priced.coupon.is_some());
        match self
            .place(caller, &order, &request, (&owner, cart.version), coupon, now)
            .await?
        {
            Some(record) => Ok((self.replay(&record, &request).await?, false)),
            None => {
                tracing::info!(orderId = %order.order_id, total = %order.totals.total, "order placed");
                crate::metrics::count(crate::metrics::Metric::OrdersPlaced)
                    .order(order.order_id)
                    .emit();
                Ok((OrderView::from(&order), true))
            }
        }
    }

    /// The cart, the idempotency record and (when an address is picked from it)
    /// the address book, concurrently.
    async fn load(
        &self,
        caller: &Caller,
        owner: &CartOwner,
        request: &CheckoutRequest,
        now: Timestamp,
    ) -> Result<Loaded, ApiError> {
        let needs_book = matches!(request.shipping, AddressChoice::Saved(_))
            || matches!(request.billing, Some(AddressChoice::Saved(_)));
        let (cart, replay, book, rules) = futures::try_join!(
            async { Ok::<_, ApiError>(self.store.cart(owner, now).await?) },
            self.committed_replay(caller, request, now),
            async {
                if needs_book {
                    Ok(self.store.user_with_addresses(caller.user_id).await?.map(|(_, a)| a))
                } else {
                    Ok(None)
                }
            },
            self.rules.current(),
        )?;
        Ok(Loaded {
            cart,
            replay,
            book,
            rules,
        })
    }

    /// The new order, priced: pending, its stock not yet held.
    fn order_record(
        &self,
        caller: &Caller,
        (priced, quote): (&crate::cart::CartView, &Quote<'_>),
        products: &HashMap<crate::domain::ProductId, crate::store::products::ProductRecord>,
        (shipping_address, billing_address): (AddressInput, AddressInput),
        request: &CheckoutRequest,
        now: Timestamp,
    ) -> OrderRecord {
        OrderRecord {
            order_id: OrderId::generate(),
            user_id: caller.user_id,
            email: caller.email.clone(),
            status: OrderStatus::Pending,
            reservation: ReservationStatus::Pending,
            reservation_expires_at: None,
            payment_status: PaymentStatus::Unpaid,
            lines: priced
                .items
                .iter()
                .map(|item| OrderLine {
                    product_id: item.product_id,
                    variant_id: item.variant_id,
                    sku: crate::domain::Sku::parse(&item.sku)
                        .unwrap_or_else(|_| products[&item.product_id].sku.clone()),
                    name: item.name.clone(),
                    options: item.options.clone(),
                    price: item.price,
                    quantity: item.quantity,
                    subtotal: item.subtotal,
                    image: item.image.clone(),
                })
                .collect(),
            totals: Totals {
                subtotal: priced.summary.subtotal,
                discount: priced.summary.discount,
                tax: priced.summary.tax,
                shipping: priced.summary.shipping,
                total: priced.summary.total,
            },
            currency: self.settings.currency.clone(),
            coupon_code: priced.coupon.as_ref().map(|c| c.code.clone()),
            shipping_address,
            billing_address,
            shipping_method: match quote.shipment {
                Shipment::Method { zone, method } => Some(ShippingChoiceRecord {
                    method_id: method.method_id,
                    name: method.name.clone(),
                    zone_id: zone.zone_id,
                    price: quote.summary.shipping,
                    min_days: method.min_days,
                    max_days: method.max_days,
                }),
                Shipment::Flat(_) => None,
            },
            tax: match quote.tax {
                Tax::Rate(rate) => Some(AppliedTaxRecord {
                    rate_id: Some(rate.rate_id),
                    name: Some(rate.name.clone()),
                    rate_bps: rate.rate_bps,
                    applies_to_shipping: rate.applies_to_shipping,
                    amount: quote.summary.tax,
                }),
                Tax::Exempt => Some(AppliedTaxRecord {
                    rate_id: None,
                    name: None,
                    rate_bps: 0,
                    applies_to_shipping: false,
                    amount: quote.summary.tax,
                }),
                Tax::Flat(_) => None,
            },
            payment_method: request.payment_method.clone(),
            tracking: None,
            timeline: vec![TimelineEntry {
                status: OrderStatus::Pending,
                timestamp: now,
                note: None,
            }],
            cancel_reason: None,
            payment: None,
            estimated_delivery: now.plus_seconds(delivery_days(quote, self.settings.delivery_days) * 24 * 3600),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Writes the order (retrying transaction conflicts, such as a popular
    /// coupon's). `Some` is the record of the same request placed first.
    async fn place(
        &self,
        caller: &Caller,
        order: &OrderRecord,
        request: &CheckoutRequest,
        cart: (&CartOwner, u64),
        coupon: Option<&CouponRecord>,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, ApiError> {
        let idempotency = request.idempotency_key.as_deref().map(|key| {
            (
                key,
                IdempotencyRecord {
                    request_hash: request.request_hash.clone(),
                    order_id: order.order_id,
                    expires_at: now.unix() + IDEMPOTENCY_TTL_SECS,
                },
            )
        });
        let outbox: Vec<_> = lifecycle::placed(order)
            .into_iter()
            .filter_map(|effect| match effect {
                Effect::Send(message) => Some(message.into_outbox(now)),
                _ => None,
            })
            .collect();
        let mut attempt = 0;
        loop {
            let placed = self
                .store
                .place_order(order, idempotency.as_ref().map(|(k, r)| (*k, r)), cart, coupon, &outbox)
                .await;
            let Err(error) = placed else { return Ok(None) };
            if error.refused(&OrderWrite::Idempotency) {
                // The same request raced this one and won: answer with its order.
                return self
                    .committed_replay(caller, request, now)
                    .await?
                    .map(Some)
                    .ok_or_else(|| ApiError::internal("an idempotency record refused the order but cannot be read"));
            }
            if error.refused(&OrderWrite::Cart) {
                if let Some(record) = self.committed_replay(caller, request, now).await? {
                    return Ok(Some(record));
                }
                return Err(ApiError::new(
                    ErrorCode::StaleVersion,
                    "The cart changed while checking out; review it and try again",
                ));
            }
            if error.refused(&OrderWrite::Coupon) {
                return Err(ApiError::new(
                    ErrorCode::InvalidCartOperation,
                    "The coupon has been used up; remove it and try again",
                ));
            }
            if error.refused(&OrderWrite::CouponUse) {
                return Err(ApiError::new(
                    ErrorCode::InvalidCartOperation,
                    "You have already used this coupon as often as allowed",
                ));
            }
            if error.is_conflict() && attempt < CONFLICT_ATTEMPTS {
                attempt += 1;
                crate::metrics::count(crate::metrics::Metric::CheckoutConflictsRetried).emit();
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            return Err(error.into_store().into());
        }
    }
}

/// The shipping and billing addresses, inline or from the address book.
fn resolve_addresses(
    request: &CheckoutRequest,
    book: Option<&[AddressRecord]>,
) -> Result<(AddressInput, AddressInput), ApiError> {
    let resolve = |choice: &AddressChoice, field: &str| -> Result<AddressInput, ApiError> {
        match choice {
            AddressChoice::Inline(address) => Ok(address.clone()),
            AddressChoice::Saved(id) => book
                .into_iter()
                .flatten()
                .find(|a| a.address_id == *id)
                .map(AddressRecord::fields)
                .ok_or_else(|| ApiError::invalid_field(field, "is not one of your saved addresses")),
        }
    };
    let shipping = resolve(&request.shipping, "shippingAddressId")?;
    let billing = match &request.billing {
        Some(choice) => resolve(choice, "billingAddressId")?,
        None => shipping.clone(),
    };
    Ok((shipping, billing))
}

/// Days until delivery at the latest: the method's estimate, else the configured one.
fn delivery_days(quote: &Quote<'_>, configured: i64) -> i64 {
    match quote.shipment {
        Shipment::Method { method, .. } => i64::from(method.max_days),
        Shipment::Flat(_) => configured,
    }
}

/// The 400 for an order that cannot ship as asked, naming the field at fault.
fn refused(refusal: Refusal, request: &CheckoutRequest) -> ApiError {
    let address = match request.shipping {
        AddressChoice::Inline(_) => "shippingAddress",
        AddressChoice::Saved(_) => "shippingAddressId",
    };
    match refusal {
        Refusal::UnknownCountry => ApiError::invalid_field(
            address,
            "country must be an ISO 3166-1 country code such as US or USA to find its shipping and tax",
        ),
        Refusal::NotServed => ApiError::invalid_field(address, "is not a destination the shop ships to"),
        Refusal::MethodNotOffered => ApiError::invalid_field(
            "shippingMethodId",
            "is not a shipping method for this address (see GET /api/v1/cart/shipping-options)",
        ),
        Refusal::NoMethods => ApiError::invalid_field(
            "shippingMethodId",
            "cannot be chosen: the shop charges one flat shipping fee",
        ),
    }
}

/// Every line can be sold in the quantity asked, and the coupon applies.
fn validate(priced: &crate::cart::CartView) -> Result<(), ApiError> {
    let unavailable: Vec<String> = priced
        .items
        .iter()
        .filter(|i| !i.available)
        .map(|i| i.item_id.to_string())
        .collect();
    if !unavailable.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidCartOperation,
            "Some items are no longer sold; remove them from the cart",
        )
        .with_details(serde_json::json!(
            unavailable
                .iter()
                .map(|id| serde_json::json!({"field": "items", "message": id}))
                .collect::<Vec<_>>()
        )));
    }
    if let Some(short) = priced.items.iter().find(|i| i64::from(i.quantity) > i.inventory) {
        return Err(ApiError::new(
            ErrorCode::InsufficientInventory,
            format!("Only {} of {} available", short.inventory, short.name),
        ));
    }
    if let Some(problem) = priced.coupon.as_ref().and_then(|c| c.problem.clone()) {
        return Err(ApiError::new(
            ErrorCode::InvalidCartOperation,
            format!("The coupon {problem}; remove it or try another"),
        ));
    }
    Ok(())
}

/// Jittered exponential backoff for transaction conflicts: 10 ms, 20 ms, … up to ~1 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 10u64 << attempt.min(7);
    let jitter = u64::from(rand::random::<u16>()) % base.max(1);
    Duration::from_millis(base / 2 + jitter)
}
