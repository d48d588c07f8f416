//! Payments with Stripe: a PaymentIntent per order, server-side confirmation,
//! refunds, and the signed webhook that moves orders along. What each Stripe
//! answer or event does to the order is the lifecycle's decision, written
//! conditioned on the order's version, so the confirm call and the webhook can
//! race, repeat or arrive out of order without a second effect.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::{CreateRefund, ListRefund};
use tokio::sync::OnceCell;

use crate::auth::Caller;
use crate::domain::{Money, OrderId, PaymentStatus, Timestamp};
use crate::http::form_value::text;
use crate::http::{ApiError, ErrorCode, Form};
use crate::orders::lifecycle::{self, Event, Refusal};
use crate::orders::{ApplyError, Orders};
use crate::secrets::{CachedSecret, Secret};
use crate::store::orders::{OrderRecord, PaymentRecord, RefundRecord};

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
            secrets: clients.secrets().clone(),
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
        lifecycle::payable(&order, now).map_err(not_payable)?;
        let keys = self.keys().await?;
        if let Some(existing) = &order.payment {
            // Asked again: the intent the order already has (Stripe forgets idempotency keys after a day).
            let intent = stripe_call(RetrievePaymentIntent::new(existing.intent_id.as_str()).send(&keys.client))
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
        let intent = stripe_call(
            CreatePaymentIntent::new(order.totals.total.cents(), currency)
                .metadata(metadata)
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&keys.client),
        )
        .await
        .map_err(|e| stripe_error(&e))?;
        let mut payment = PaymentRecord::started(
            intent.id.as_str(),
            Money::from_cents(intent.amount),
            order.currency.clone(),
            now,
        );
        payment.status = intent.status.to_string();
        let currency = order.currency.clone();
        let event = Event::PaymentStarted { payment };
        self.orders
            .apply_to(order, |_| event.clone())
            .await
            .map_err(|err| match err {
                ApplyError::Refused {
                    refusal: Refusal::OtherPayment,
                    ..
                } => ApiError::already_exists("This order already has another payment"),
                ApplyError::Refused { refusal, .. } => not_payable(refusal),
                other => other.into(),
            })?;
        Ok(PaymentView {
            payment_id: intent.id.to_string(),
            order_id,
            amount: Money::from_cents(intent.amount),
            currency,
            status: intent.status.to_string(),
            client_secret: intent.client_secret,
        })
    }

    async fn order_of_intent(&self, caller: &Caller, intent: &str) -> Result<OrderRecord, ApiError> {
        // Stripe's ids are short and plain: anything else names no payment
        // (and must not become a key DynamoDB refuses).
        let plausible = intent.len() <= 255 && intent.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plausible {
            return Err(ApiError::not_found("Payment"));
        }
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
        lifecycle::payable(&order, Timestamp::now()).map_err(not_payable)?;
        let keys = self.keys().await?;
        let confirmed = stripe_call(
            ConfirmPaymentIntent::new(intent)
                .payment_method(payment_method)
                .send(&keys.client),
        )
        .await;
        match confirmed {
            Ok(paid) => {
                let status = paid.status.to_string();
                if status == "succeeded" {
                    let event = Event::PaymentSucceeded {
                        intent_id: intent.to_owned(),
                        amount_received: Money::from_cents(paid.amount_received),
                        stripe_event: None,
                    };
                    self.orders.apply_to(order.clone(), |_| event.clone()).await?;
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
                    let event = Event::PaymentFailed {
                        intent_id: intent.to_owned(),
                        reason: api_error.message.clone(),
                        stripe_event: None,
                    };
                    self.orders.apply_to(order, |_| event.clone()).await?;
                }
                Err(api_error)
            }
        }
    }

    /// ADMIN refunds all or part of a paid order. With an `Idempotency-Key`,
    /// the same request sent again is the same Stripe refund, recorded once.
    #[tracing::instrument(skip_all, fields(intent = %intent))]
    pub async fn refund(
        &self,
        caller: &Caller,
        intent: &str,
        amount: Option<Money>,
        idempotency_key: Option<&str>,
    ) -> Result<PaymentView, ApiError> {
        caller.require_admin()?;
        let order = self.order_of_intent(caller, intent).await?;
        if order.captured() == Money::ZERO {
            return Err(ApiError::new(
                ErrorCode::PaymentFailed,
                "Only a paid order can be refunded",
            ));
        }
        let due = lifecycle::refund_due(&order, None);
        if due == Money::ZERO {
            return Err(ApiError::new(
                ErrorCode::PaymentFailed,
                "This payment has been refunded in full",
            ));
        }
        let amount = amount.unwrap_or(due);
        if amount > due {
            return Err(ApiError::invalid_field(
                "amount",
                format!("at most {due} can still be refunded"),
            ));
        }
        let applied = self
            .refund_amount(&order, amount, "requested_by_admin", idempotency_key)
            .await?;
        let order = applied.order();
        let payment = order
            .payment
            .clone()
            .ok_or_else(|| ApiError::internal("a refunded order has no payment"))?;
        Ok(PaymentView {
            payment_id: intent.to_owned(),
            order_id: order.order_id,
            amount: payment.amount,
            currency: payment.currency,
            status: match order.payment_status {
                PaymentStatus::Refunded => "refunded",
                PaymentStatus::PartiallyRefunded => "partially_refunded",
                _ => "succeeded",
            }
            .to_owned(),
            client_secret: None,
        })
    }

    /// Refunds `amount` of the order's payment at Stripe and records the refund.
    /// The Stripe idempotency key is the caller's key when it sent one;
    /// otherwise the refund asked again from the same state (a retry, or a race
    /// with another request) is the same Stripe refund. Either way it is
    /// recorded once.
    async fn refund_amount(
        &self,
        order: &OrderRecord,
        amount: Money,
        reason: &str,
        idempotency_key: Option<&str>,
    ) -> Result<crate::orders::Applied, ApiError> {
        let keys = self.keys().await?;
        let intent = order
            .payment
            .as_ref()
            .map(|p| p.intent_id.clone())
            .ok_or_else(|| ApiError::internal("a paid order has no payment"))?;
        let key = match idempotency_key {
            Some(key) => format!("refund-{intent}-key-{}", digest(key)),
            None => format!("refund-{intent}-{}-{}", order.refunded().cents(), amount.cents()),
        };
        let key = IdempotencyKey::new(key).map_err(|e| ApiError::internal(e.to_string()))?;
        let refund = stripe_call(
            CreateRefund::new()
                .payment_intent(intent.as_str())
                .amount(amount.cents())
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&keys.client),
        )
        .await
        .map_err(|e| stripe_error(&e))?;
        tracing::info!(refund = %refund.id, amount = %amount, reason, "refund created");
        let event = Event::Refunded {
            intent_id: intent,
            captured: None,
            refunds: vec![refund_record(&refund)],
            stripe_event: None,
        };
        Ok(self.orders.apply_to(order.clone(), |_| event.clone()).await?)
    }

    /// The order-fulfillment consumer's refund of money an order cannot use
    /// (`amount`, or all that is left). Refunds made at Stripe that the order
    /// has not heard of yet (the Dashboard's, their webhook still on its way)
    /// are recorded first, so what is refunded is what is really left.
    pub async fn refund_unfulfillable(
        &self,
        order_id: OrderId,
        reason: &str,
        amount: Option<Money>,
    ) -> Result<bool, ApiError> {
        let Some(order) = self.orders.store.order(order_id).await? else {
            return Ok(false);
        };
        let Some(intent) = order.payment.as_ref().map(|p| p.intent_id.clone()) else {
            return Ok(false);
        };
        if lifecycle::refund_due(&order, amount) == Money::ZERO {
            return Ok(false);
        }
        let keys = self.keys().await?;
        let known = Event::Refunded {
            intent_id: intent.clone(),
            captured: None,
            refunds: stripe_refunds(&keys.client, &intent).await?,
            stripe_event: None,
        };
        let order = self.orders.apply_to(order, |_| known.clone()).await?.order().clone();
        let due = lifecycle::refund_due(&order, amount);
        if due == Money::ZERO {
            return Ok(false);
        }
        self.refund_amount(&order, due, reason, None).await?;
        Ok(true)
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
            "payment_intent.succeeded" | "payment_intent.payment_failed" => object["id"].as_str(),
            "charge.refunded" | "refund.updated" | "charge.refund.updated" => object["payment_intent"].as_str(),
            _ => None,
        };
        let Some(intent) = intent else { return Ok("ignored") };
        let Some(lookup) = self.orders.store.payment_lookup(intent).await? else {
            tracing::warn!(event = id, intent, "webhook for an unknown payment");
            return Ok("ignored");
        };
        let stripe_event = Some(id.to_owned());
        let event = match kind {
            "payment_intent.succeeded" => Event::PaymentSucceeded {
                intent_id: intent.to_owned(),
                amount_received: Money::from_cents(object["amount_received"].as_i64().unwrap_or(0)),
                stripe_event,
            },
            "payment_intent.payment_failed" => Event::PaymentFailed {
                intent_id: intent.to_owned(),
                reason: object["last_payment_error"]["message"]
                    .as_str()
                    .unwrap_or("The payment failed")
                    .to_owned(),
                stripe_event,
            },
            "charge.refunded" => Event::Refunded {
                intent_id: intent.to_owned(),
                captured: object["amount_captured"].as_i64().map(Money::from_cents),
                refunds: self.charge_refunds(&keys.client, intent, object).await?,
                stripe_event,
            },
            _ => Event::Refunded {
                intent_id: intent.to_owned(),
                captured: None,
                refunds: refund_from_json(object).into_iter().collect(),
                stripe_event,
            },
        };
        let outcome = match self.orders.apply(lookup.order_id, |_| event.clone()).await {
            Ok(applied) if applied.changed() => "applied",
            Ok(_) => "unchanged",
            Err(ApplyError::NotFound) => "ignored",
            Err(ApplyError::Refused { refusal, .. }) => {
                tracing::warn!(event = id, kind, %refusal, "webhook refused by the order's state");
                "unchanged"
            }
            Err(err) => return Err(err.into()),
        };
        tracing::info!(event = id, kind, orderId = %lookup.order_id, outcome, "webhook handled");
        Ok(outcome)
    }

    /// Every refund of a refunded charge: from the event when it lists them
    /// (older API versions), otherwise read from Stripe.
    async fn charge_refunds(
        &self,
        client: &Client,
        intent: &str,
        charge: &Value,
    ) -> Result<Vec<RefundRecord>, ApiError> {
        if let Some(listed) = charge["refunds"]["data"].as_array()
            && charge["refunds"]["has_more"].as_bool() != Some(true)
        {
            return Ok(listed.iter().filter_map(refund_from_json).collect());
        }
        stripe_refunds(client, intent).await
    }
}

/// Every refund of a PaymentIntent, as Stripe has them now.
async fn stripe_refunds(client: &Client, intent: &str) -> Result<Vec<RefundRecord>, ApiError> {
    let refunds = stripe_call(ListRefund::new().payment_intent(intent).limit(100).send(client))
        .await
        .map_err(|e| stripe_error(&e))?;
    Ok(refunds.data.iter().map(refund_record).collect())
}

/// A short hex digest of a client's idempotency key (Stripe keys stay short and plain).
fn digest(key: &str) -> String {
    <Sha256 as sha2::Digest>::digest(key.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A Stripe refund as the order keeps it.
fn refund_record(refund: &stripe_shared::Refund) -> RefundRecord {
    RefundRecord {
        refund_id: refund.id.to_string(),
        amount: Money::from_cents(refund.amount),
        status: refund.status.clone().unwrap_or_else(|| "succeeded".to_owned()),
        created_at: Timestamp::from_unix(refund.created),
    }
}

/// A refund object of a webhook payload.
fn refund_from_json(refund: &Value) -> Option<RefundRecord> {
    Some(RefundRecord {
        refund_id: refund["id"].as_str()?.to_owned(),
        amount: Money::from_cents(refund["amount"].as_i64()?),
        status: refund["status"].as_str().unwrap_or("succeeded").to_owned(),
        created_at: Timestamp::from_unix(refund["created"].as_i64().unwrap_or(0)),
    })
}

/// 400 BUS_003 for an order that cannot be paid now.
fn not_payable(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::NotPayable { status, reservation } => ApiError::new(
            ErrorCode::PaymentFailed,
            format!(
                "This order cannot be paid now (it is {status}, stock {})",
                reservation.to_lowercase()
            ),
        ),
        other => ApiError::new(ErrorCode::PaymentFailed, other.to_string()),
    }
}

/// A call to Stripe, timed and counted into the metrics.
async fn stripe_call<T, E>(call: impl std::future::Future<Output = Result<T, E>>) -> Result<T, E> {
    let started = std::time::Instant::now();
    let answer = call.await;
    crate::metrics::duration(crate::metrics::Metric::StripeLatency, started.elapsed())
        .and(
            crate::metrics::Metric::StripeErrors,
            f64::from(u8::from(answer.is_err())),
        )
        .emit();
    answer
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
