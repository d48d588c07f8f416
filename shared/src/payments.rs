//! Payments with Stripe: a PaymentIntent per order, server-side confirmation,
//! refunds, and the signed webhook that moves orders along. Every order change
//! is conditional on its status and payment status, so the confirm call and the
//! webhook can race or arrive twice without a second effect.

use std::collections::HashMap;

use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;
use tokio::sync::OnceCell;

use crate::auth::Caller;
use crate::domain::{Money, OrderId, OrderStatus, PaymentStatus, ReservationStatus, Timestamp};
use crate::http::form_value::text;
use crate::http::{ApiError, ErrorCode, Form};
use crate::messages::{FulfillmentAction, FulfillmentMessage, Notification, NotificationMessage, Queue};
use crate::orders::Orders;
use crate::secrets::{CachedSecret, Secret};
use crate::store::orders::{OrderChange, OrderRecord, PaymentRecord, RefundRecord, TimelineEntry};

/// Stripe signs webhooks with a timestamp; older deliveries are refused (replays).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// The Stripe key and webhook secret, read from Secrets Manager on first use.
struct StripeKeys {
    client: Client,
    webhook_secret: Secret,
}

/// Payments; built once per cold start of payments-api or order-fulfillment.
pub struct Payments {
    pub orders: Orders,
    pub fulfillment: Queue,
    secrets: aws_sdk_secretsmanager::Client,
    secret: CachedSecret,
    api_base: Option<String>,
    keys: OnceCell<StripeKeys>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub payment_id: String,
    pub order_id: OrderId,
    pub amount: Money,
    pub currency: String,
    pub status: String,
    /// For the client (Stripe.js) to complete the payment; never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

fn stripe_error(error: &StripeError) -> ApiError {
    match error {
        StripeError::Stripe(details, status) if (400..500).contains(status) => {
            let reason = details
                .message
                .clone()
                .unwrap_or_else(|| "The payment was declined".to_owned());
            ApiError::new(ErrorCode::PaymentFailed, reason).with_details(serde_json::json!({
                "code": details.code.as_ref().map(ToString::to_string),
                "declineCode": details.decline_code,
            }))
        }
        other => ApiError::unavailable(std::io::Error::other(other.to_string())),
    }
}

/// Checks `Stripe-Signature: t=…,v1=…` over the raw body.
pub fn verify_signature(header: Option<&str>, body: &[u8], secret: &str, now: i64) -> Result<(), &'static str> {
    let header = header.ok_or("missing Stripe-Signature")?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value.to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no timestamp in Stripe-Signature")?;
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err("the signature is too old");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad secret")?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    let matches = signatures.iter().any(|candidate| {
        let bytes: Option<Vec<u8>> = (0..candidate.len())
            .step_by(2)
            .map(|i| candidate.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        bytes.is_some_and(|bytes| subtle_eq(&bytes, &expected))
    });
    if matches {
        Ok(())
    } else {
        Err("the signature does not match")
    }
}

/// Constant-time comparison, so response timing reveals nothing about the signature.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn parse_payment_method(body: &[u8]) -> Result<String, ApiError> {
    let mut form = Form::from_body(body)?;
    form.only(&["paymentMethod"]);
    let method = form.required("paymentMethod", |v| {
        let id = text(v)?.trim().to_owned();
        if id.starts_with("pm_") && id.len() <= 100 {
            Ok(id)
        } else {
            Err("must be a Stripe payment method id (pm_…)")
        }
    });
    form.finish()?;
    method.ok_or_else(|| ApiError::invalid_field("paymentMethod", "is required"))
}

/// `{"amount": 12.50}` (a partial refund) or `{}` (the rest).
pub fn parse_refund(body: &[u8]) -> Result<Option<Money>, ApiError> {
    let mut form = Form::from_body(body)?;
    form.only(&["amount"]);
    let amount = form.optional("amount", |v| {
        let number = v.as_number().ok_or("must be an amount such as 12.50")?;
        let money = Money::try_from(number.clone()).map_err(|_| "must be an amount such as 12.50")?;
        if money.cents() > 0 {
            Ok(money)
        } else {
            Err("must be greater than 0")
        }
    });
    form.finish()?;
    Ok(amount.flatten())
}

impl Payments {
    /// The Stripe keys come from the `stripe` secret (`{"secretKey", "webhookSecret"}`)
    /// on first use; `endpoints.stripe` points the client at localstripe.
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            orders: Orders::from_config(config, clients),
            fulfillment: Queue::new(clients.sqs.clone(), &config.queues.fulfillment),
            secrets: clients.secrets.clone(),
            secret: CachedSecret::new(&config.secrets.stripe),
            api_base: config.endpoints.stripe.clone(),
            keys: OnceCell::new(),
        }
    }

    async fn keys(&self) -> Result<&StripeKeys, ApiError> {
        self.keys
            .get_or_try_init(|| async {
                let raw = self.secret.get(&self.secrets).await.map_err(ApiError::unavailable)?;
                let parsed: Value = serde_json::from_str(raw.expose())
                    .map_err(|_| ApiError::internal("the Stripe secret is not JSON"))?;
                let field = |name: &str| {
                    parsed[name]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::internal(format!("the Stripe secret has no {name}")))
                };
                let mut builder = ClientBuilder::new(field("secretKey")?);
                if let Some(base) = &self.api_base {
                    builder = builder.url(base.clone());
                }
                let client = builder.build().map_err(|e| ApiError::internal(e.to_string()))?;
                Ok::<_, ApiError>(StripeKeys {
                    client,
                    webhook_secret: Secret::new(field("webhookSecret")?),
                })
            })
            .await
    }

    /// Creates (or, repeated, returns) the order's PaymentIntent: only for the
    /// caller's pending order whose stock is reserved.
    #[tracing::instrument(skip_all, fields(orderId = %order_id))]
    pub async fn start(&self, caller: &Caller, order_id: OrderId) -> Result<PaymentView, ApiError> {
        let order = self.orders.order_for(caller, order_id).await?;
        let now = Timestamp::now();
        payable(&order, now)?;
        let keys = self.keys().await?;
        if let Some(existing) = &order.payment {
            // Asked again: the intent the order already has (Stripe forgets idempotency keys after a day).
            let intent = RetrievePaymentIntent::new(existing.intent_id.as_str())
                .send(&keys.client)
                .await
                .map_err(|e| stripe_error(&e))?;
            return Ok(PaymentView {
                payment_id: existing.intent_id.clone(),
                order_id,
                amount: Money::from_cents(intent.amount),
                currency: order.currency.clone(),
                status: intent.status.to_string(),
                client_secret: intent.client_secret,
            });
        }
        let currency: stripe_types::Currency = order
            .currency
            .to_lowercase()
            .parse()
            .map_err(|_| ApiError::internal("unknown currency"))?;
        let metadata = HashMap::from([
            ("order_id".to_owned(), order_id.to_string()),
            ("user_id".to_owned(), order.user_id.to_string()),
        ]);
        let key = IdempotencyKey::new(format!("payment-{order_id}")).map_err(|e| ApiError::internal(e.to_string()))?;
        let intent = CreatePaymentIntent::new(order.totals.total, currency)
            .metadata(metadata)
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&keys.client)
            .await
            .map_err(|e| stripe_error(&e))?;
        let record = PaymentRecord {
            intent_id: intent.id.to_string(),
            amount: intent.amount,
            currency: order.currency.clone(),
            status: intent.status.to_string(),
            amount_refunded: 0,
            refunds: Vec::new(),
            last_error: None,
            updated_at: now,
        };
        self.orders.store.attach_payment(&order, &record).await.map_err(|err| {
            if err.failed_condition_at(0) {
                ApiError::already_exists("This order already has another payment")
            } else {
                err.into()
            }
        })?;
        Ok(PaymentView {
            payment_id: record.intent_id,
            order_id,
            amount: Money::from_cents(record.amount),
            currency: record.currency,
            status: record.status,
            client_secret: intent.client_secret,
        })
    }

    async fn order_of_intent(&self, caller: &Caller, intent: &str) -> Result<OrderRecord, ApiError> {
        let lookup = self
            .orders
            .store
            .payment_lookup(intent)
            .await?
            .ok_or_else(|| ApiError::not_found("Payment"))?;
        self.orders
            .order_for(caller, lookup.order_id)
            .await
            .map_err(|_| ApiError::not_found("Payment"))
    }

    /// Confirms the payment server-side with a payment method (test cards). A
    /// decline is 400 BUS_003 with Stripe's reason; the order stays payable.
    #[tracing::instrument(skip_all, fields(intent = %intent))]
    pub async fn confirm(&self, caller: &Caller, intent: &str, payment_method: &str) -> Result<PaymentView, ApiError> {
        let order = self.order_of_intent(caller, intent).await?;
        // No charge for an order whose stock is no longer held (it would only be refunded).
        payable(&order, Timestamp::now())?;
        let keys = self.keys().await?;
        let confirmed = ConfirmPaymentIntent::new(intent)
            .payment_method(payment_method)
            .send(&keys.client)
            .await;
        match confirmed {
            Ok(paid) => {
                let status = paid.status.to_string();
                if status == "succeeded" {
                    self.succeeded(&order, intent, paid.amount_received, None).await?;
                }
                Ok(PaymentView {
                    payment_id: intent.to_owned(),
                    order_id: order.order_id,
                    amount: Money::from_cents(paid.amount),
                    currency: order.currency.clone(),
                    status,
                    client_secret: None,
                })
            }
            Err(error) => {
                let api_error = stripe_error(&error);
                if api_error.code == ErrorCode::PaymentFailed {
                    // The webhook tells the customer; here the order only records the failure.
                    self.failed(&order, intent, &api_error.message, None).await?;
                }
                Err(api_error)
            }
        }
    }

    /// ADMIN refunds all or part of a paid order.
    #[tracing::instrument(skip_all, fields(intent = %intent))]
    pub async fn refund(&self, caller: &Caller, intent: &str, amount: Option<Money>) -> Result<PaymentView, ApiError> {
        caller.require_admin()?;
        let order = self.order_of_intent(caller, intent).await?;
        let payment = order.payment.clone().ok_or_else(|| ApiError::not_found("Payment"))?;
        if !matches!(
            order.payment_status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        ) {
            return Err(ApiError::new(
                ErrorCode::PaymentFailed,
                "Only a paid order can be refunded",
            ));
        }
        let remaining = payment.amount - payment.amount_refunded;
        let amount = amount.map_or(remaining, Money::cents);
        if amount > remaining {
            return Err(ApiError::invalid_field(
                "amount",
                format!("at most {} can still be refunded", Money::from_cents(remaining)),
            ));
        }
        self.refund_amount(&order, intent, amount, "requested_by_admin").await
    }

    async fn refund_amount(
        &self,
        order: &OrderRecord,
        intent: &str,
        amount: i64,
        reason: &str,
    ) -> Result<PaymentView, ApiError> {
        let keys = self.keys().await?;
        let already = order.payment.as_ref().map_or(0, |p| p.amount_refunded);
        // The same refund asked twice (a retry) must not refund twice.
        let key = IdempotencyKey::new(format!("refund-{intent}-{already}-{amount}"))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let refund = CreateRefund::new()
            .payment_intent(intent)
            .amount(amount)
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&keys.client)
            .await
            .map_err(|e| stripe_error(&e))?;
        tracing::info!(refund = %refund.id, amount, reason, "refund created");
        let record = RefundRecord {
            refund_id: refund.id.to_string(),
            amount,
            status: refund.status.clone().unwrap_or_default(),
            created_at: Timestamp::now(),
        };
        self.refunded(order, already + amount, Some(record), None).await?;
        let updated = self
            .orders
            .store
            .order(order.order_id)
            .await?
            .ok_or_else(|| ApiError::not_found("Order"))?;
        let payment = updated
            .payment
            .unwrap_or_else(|| order.payment.clone().unwrap_or_else(|| unreachable_payment(intent)));
        Ok(PaymentView {
            payment_id: intent.to_owned(),
            order_id: order.order_id,
            amount: Money::from_cents(payment.amount),
            currency: payment.currency,
            status: match updated.payment_status {
                PaymentStatus::Refunded => "refunded",
                PaymentStatus::PartiallyRefunded => "partially_refunded",
                _ => "succeeded",
            }
            .to_owned(),
            client_secret: None,
        })
    }

    /// Verifies and applies a Stripe webhook. Bad or missing signatures change nothing.
    #[tracing::instrument(skip_all)]
    pub async fn webhook(&self, signature: Option<&str>, body: &[u8]) -> Result<&'static str, ApiError> {
        let keys = self.keys().await?;
        verify_signature(signature, body, keys.webhook_secret.expose(), Timestamp::now().unix())
            .map_err(|reason| ApiError::invalid_field("Stripe-Signature", reason))?;
        let event: Value =
            serde_json::from_slice(body).map_err(|_| ApiError::invalid_field("body", "is not a Stripe event"))?;
        let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
            return Err(ApiError::invalid_field("body", "is not a Stripe event"));
        };
        let object = &event["data"]["object"];
        let intent = match kind {
            "charge.refunded" => object["payment_intent"].as_str(),
            _ => object["id"].as_str(),
        };
        let Some(intent) = intent else { return Ok("ignored") };
        let Some(lookup) = self.orders.store.payment_lookup(intent).await? else {
            tracing::warn!(event = id, intent, "webhook for an unknown payment");
            return Ok("ignored");
        };
        let Some(order) = self.orders.store.order(lookup.order_id).await? else {
            return Ok("ignored");
        };
        let outcome = match kind {
            "payment_intent.succeeded" => {
                self.succeeded(
                    &order,
                    intent,
                    object["amount_received"].as_i64().unwrap_or(0),
                    Some(id),
                )
                .await?
            }
            "payment_intent.payment_failed" => {
                let reason = object["last_payment_error"]["message"]
                    .as_str()
                    .unwrap_or("The payment failed")
                    .to_owned();
                let changed = self.failed(&order, intent, &reason, Some(id)).await?;
                if changed {
                    let message = NotificationMessage::new(Notification::PaymentFailed {
                        order_id: order.order_id,
                        user_id: order.user_id,
                        email: order.email.clone(),
                        reason,
                    });
                    if let Err(err) = self.orders.notifications.send(&message).await {
                        tracing::error!(error = %crate::http::error_chain(&err), "payment-failed notification not queued");
                    }
                }
                changed
            }
            "charge.refunded" => {
                self.refunded(&order, object["amount_refunded"].as_i64().unwrap_or(0), None, Some(id))
                    .await?
            }
            _ => false,
        };
        tracing::info!(event = id, kind, orderId = %order.order_id, applied = outcome, "webhook handled");
        Ok(if outcome { "applied" } else { "unchanged" })
    }

    /// Runs `change`. A change already made (the same event delivered before) is
    /// [`Step::Done`]`(false)`; an order changed since it was read is [`Step::Raced`].
    /// Stock of products deleted since is left out rather than failing for ever.
    async fn apply(&self, order: &OrderRecord, change: &OrderChange, stock: Option<bool>) -> Result<Step, ApiError> {
        let store = &self.orders.store;
        let marker = change.event_id.is_some();
        let mut result = store.change_order(order, change, stock).await;
        if let (Err(err), Some(take)) = (&result, stock)
            && !err.failed_condition_at(0)
            && !(marker && err.failed_condition_at(1))
            && err.failed_condition_after(usize::from(marker))
        {
            let existing = self.orders.existing_quantities(order).await?;
            result = store.change_order_moving(order, change, Some((take, existing))).await;
        }
        match result {
            Ok(()) => Ok(Step::Done(true)),
            Err(err) if marker && err.failed_condition_at(1) => Ok(Step::Done(false)),
            Err(err) if err.failed_condition_at(0) => Ok(Step::Raced),
            Err(err) => Err(err.into()),
        }
    }

    /// Runs `step` on the order; when another change got there first, reads the
    /// order again and decides anew (a few times, then 503: Stripe retries).
    async fn settle<'a>(
        &'a self,
        order: &OrderRecord,
        step: impl Fn(OrderRecord) -> BoxFuture<'a, Result<Step, ApiError>>,
    ) -> Result<bool, ApiError> {
        let mut order = order.clone();
        for _ in 0..RACE_ATTEMPTS {
            if let Step::Done(applied) = step(order.clone()).await? {
                return Ok(applied);
            }
            order = self
                .orders
                .store
                .order(order.order_id)
                .await?
                .ok_or_else(|| ApiError::not_found("Order"))?;
        }
        Err(ApiError::unavailable(std::io::Error::other(
            "the order kept changing while the payment was applied",
        )))
    }

    async fn succeeded(
        &self,
        order: &OrderRecord,
        intent: &str,
        received: i64,
        event: Option<&str>,
    ) -> Result<bool, ApiError> {
        self.settle(order, |o| {
            Box::pin(async move { self.succeed_once(&o, intent, received, event).await })
        })
        .await
    }

    async fn failed(
        &self,
        order: &OrderRecord,
        intent: &str,
        reason: &str,
        event: Option<&str>,
    ) -> Result<bool, ApiError> {
        self.settle(order, |o| {
            Box::pin(async move { self.fail_once(&o, intent, reason, event).await })
        })
        .await
    }

    async fn refunded(
        &self,
        order: &OrderRecord,
        total_refunded: i64,
        refund: Option<RefundRecord>,
        event: Option<&str>,
    ) -> Result<bool, ApiError> {
        self.settle(order, |o| {
            let refund = refund.clone();
            Box::pin(async move { self.refund_once(&o, total_refunded, refund, event).await })
        })
        .await
    }

    /// The payment succeeded: a pending order is confirmed and sent to fulfilment;
    /// money taken for an order already cancelled goes back.
    async fn succeed_once(
        &self,
        order: &OrderRecord,
        intent: &str,
        received: i64,
        event: Option<&str>,
    ) -> Result<Step, ApiError> {
        if order.payment_status == PaymentStatus::Paid || order.payment_status == PaymentStatus::Refunded {
            return Ok(Step::Done(false));
        }
        let now = Timestamp::now();
        let payment = PaymentRecord {
            status: "succeeded".into(),
            last_error: None,
            updated_at: now,
            ..order.payment.clone().unwrap_or_else(|| unreachable_payment(intent))
        };
        let confirm = order.status == OrderStatus::Pending;
        let change = OrderChange {
            status: if confirm { OrderStatus::Confirmed } else { order.status },
            from_payment: Some(order.payment_status),
            payment_status: Some(PaymentStatus::Paid),
            payment: Some(PaymentRecord {
                amount: received.max(payment.amount),
                ..payment
            }),
            event_id: event.map(str::to_owned),
            entry: confirm.then(|| TimelineEntry {
                status: OrderStatus::Confirmed,
                timestamp: now,
                note: Some("payment received".into()),
            }),
            ..OrderChange::from(order, now)
        };
        if let step @ (Step::Raced | Step::Done(false)) = self.apply(order, &change, None).await? {
            return Ok(step);
        }
        let action = if confirm {
            FulfillmentAction::Fulfill {
                order_id: order.order_id,
            }
        } else {
            FulfillmentAction::Refund {
                order_id: order.order_id,
                reason: "paid_after_cancellation".into(),
            }
        };
        if let Err(err) = self.fulfillment.send(&FulfillmentMessage::new(action)).await {
            tracing::error!(error = %crate::http::error_chain(&err), "fulfillment message not queued");
        }
        if confirm {
            let message = NotificationMessage::new(Notification::OrderStatus {
                order_id: order.order_id,
                user_id: order.user_id,
                email: order.email.clone(),
                status: OrderStatus::Confirmed,
                note: None,
                total: Some(Money::from_cents(order.totals.total)),
                tracking: None,
            });
            if let Err(err) = self.orders.notifications.send(&message).await {
                tracing::error!(error = %crate::http::error_chain(&err), "confirmation notification not queued");
            }
        }
        Ok(Step::Done(true))
    }

    /// A failed attempt: recorded, the order stays payable.
    async fn fail_once(
        &self,
        order: &OrderRecord,
        intent: &str,
        reason: &str,
        event: Option<&str>,
    ) -> Result<Step, ApiError> {
        if order.payment_status == PaymentStatus::Paid || order.status != OrderStatus::Pending {
            return Ok(Step::Done(false));
        }
        let now = Timestamp::now();
        let payment = PaymentRecord {
            status: "requires_payment_method".into(),
            last_error: Some(reason.to_owned()),
            updated_at: now,
            ..order.payment.clone().unwrap_or_else(|| unreachable_payment(intent))
        };
        let change = OrderChange {
            from_payment: Some(order.payment_status),
            payment_status: Some(PaymentStatus::Failed),
            payment: Some(payment),
            event_id: event.map(str::to_owned),
            ..OrderChange::from(order, now)
        };
        self.apply(order, &change, None).await
    }

    /// `total_refunded` of the payment is refunded now: fully → REFUNDED (and the
    /// stock goes back if the order had not shipped), partly → PARTIALLY_REFUNDED.
    async fn refund_once(
        &self,
        order: &OrderRecord,
        total_refunded: i64,
        refund: Option<RefundRecord>,
        event: Option<&str>,
    ) -> Result<Step, ApiError> {
        let Some(payment) = order.payment.clone() else {
            return Ok(Step::Done(false));
        };
        if total_refunded <= payment.amount_refunded && refund.is_none() {
            return Ok(Step::Done(false));
        }
        let now = Timestamp::now();
        let full = total_refunded >= payment.amount;
        let mut refunds = payment.refunds.clone();
        refunds.extend(refund);
        let returns_stock = full && matches!(order.status, OrderStatus::Confirmed | OrderStatus::Processing);
        let holds = matches!(
            order.reservation,
            ReservationStatus::Reserved | ReservationStatus::Committed
        );
        let status = if full && order.status != OrderStatus::Cancelled {
            OrderStatus::Refunded
        } else {
            order.status
        };
        let change = OrderChange {
            status,
            reservation: if returns_stock && holds {
                ReservationStatus::Released
            } else {
                order.reservation
            },
            reservation_expires_at: None,
            from_payment: Some(order.payment_status),
            payment_status: Some(if full {
                PaymentStatus::Refunded
            } else {
                PaymentStatus::PartiallyRefunded
            }),
            payment: Some(PaymentRecord {
                amount_refunded: total_refunded.max(payment.amount_refunded),
                refunds,
                updated_at: now,
                ..payment
            }),
            event_id: event.map(str::to_owned),
            entry: (status != order.status).then(|| TimelineEntry {
                status,
                timestamp: now,
                note: Some("refunded".into()),
            }),
            ..OrderChange::from(order, now)
        };
        let step = self
            .apply(order, &change, (returns_stock && holds).then_some(false))
            .await?;
        if step == Step::Done(true) && status == OrderStatus::Refunded {
            let message = NotificationMessage::new(Notification::OrderStatus {
                order_id: order.order_id,
                user_id: order.user_id,
                email: order.email.clone(),
                status: OrderStatus::Refunded,
                note: None,
                total: Some(Money::from_cents(total_refunded)),
                tracking: None,
            });
            if let Err(err) = self.orders.notifications.send(&message).await {
                tracing::error!(error = %crate::http::error_chain(&err), "refund notification not queued");
            }
        }
        Ok(step)
    }

    /// The order-fulfillment consumer's refund of an order that cannot be fulfilled.
    pub async fn refund_unfulfillable(&self, order_id: OrderId, reason: &str) -> Result<bool, ApiError> {
        let Some(order) = self.orders.store.order(order_id).await? else {
            return Ok(false);
        };
        let Some(payment) = order.payment.clone() else {
            return Ok(false);
        };
        if !matches!(
            order.payment_status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        ) {
            return Ok(false);
        }
        self.refund_amount(
            &order,
            &payment.intent_id,
            payment.amount - payment.amount_refunded,
            reason,
        )
        .await?;
        Ok(true)
    }
}

/// Only a pending, unpaid order whose stock is still held can be paid.
fn payable(order: &OrderRecord, now: Timestamp) -> Result<(), ApiError> {
    let reserved = order.reservation == ReservationStatus::Reserved
        && order.reservation_expires_at.is_some_and(|at| at > now.unix());
    if order.status == OrderStatus::Pending && order.payment_status != PaymentStatus::Paid && reserved {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::PaymentFailed,
        format!(
            "This order cannot be paid now (it is {}, stock {})",
            order.status,
            order.reservation.as_str().to_lowercase()
        ),
    ))
}

/// What one attempt to apply a payment change came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Applied (true) or, already applied or not applicable, left alone (false).
    Done(bool),
    /// The order changed since it was read: read it again and decide anew.
    Raced,
}

/// How often a payment change is re-decided on a fresh read before giving up.
const RACE_ATTEMPTS: usize = 4;

/// The payment record an order has whenever Stripe knows its intent (attached at creation).
fn unreachable_payment(intent: &str) -> PaymentRecord {
    PaymentRecord {
        intent_id: intent.to_owned(),
        amount: 0,
        currency: String::new(),
        status: String::new(),
        amount_refunded: 0,
        refunds: Vec::new(),
        last_error: None,
        updated_at: Timestamp::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("t={t},v1={hex}")
    }

    #[test]
    fn a_valid_signature_passes_and_anything_else_fails() {
        let body = r#"{"id":"evt_1"}"#;
        let header = sign("whsec_test", 1000, body);
        assert!(verify_signature(Some(&header), body.as_bytes(), "whsec_test", 1100).is_ok());
        assert!(verify_signature(Some(&header), body.as_bytes(), "whsec_other", 1100).is_err());
        assert!(verify_signature(Some(&header), br#"{"id":"evt_2"}"#, "whsec_test", 1100).is_err());
        assert!(
            verify_signature(
                Some(&header),
                body.as_bytes(),
                "whsec_test",
                1000 + SIGNATURE_TOLERANCE_SECS + 1
            )
            .is_err()
        );
        assert!(verify_signature(None, body.as_bytes(), "whsec_test", 1100).is_err());
        assert!(verify_signature(Some("t=abc,v1=zz"), body.as_bytes(), "whsec_test", 1100).is_err());
    }
}
