//! `payments-api`: Stripe PaymentIntents for orders, server-side confirmation,
//! admin refunds, and the signed Stripe webhook.

use shop::Config;
use shop::auth::Tokens;
use shop::aws::AwsClients;
use shop::domain::OrderId;
use shop::http::form_value::text;
use shop::http::{ApiError, ApiResult, Form, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::payments::{Payments, parse_payment_method, parse_refund};

#[derive(Debug)]
pub struct App {
    payments: Payments,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            payments: Payments::from_config(config, clients),
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
        "POST /api/v1/payments" => {
            let caller = app.tokens.authenticate(request).await?;
            let mut form = Form::from_body(request.body())?;
            form.only(&["orderId"]);
            let order = form.required("orderId", |v| OrderId::parse(&text(v)?).map_err(|e| e.to_string()));
            form.finish()?;
            let order = order.ok_or_else(|| ApiError::invalid_field("orderId", "is required"))?;
            Ok(Reply::created(app.payments.start(&caller, order).await?).message("Payment created"))
        }
        "POST /api/v1/payments/{paymentId}/confirm" => {
            let caller = app.tokens.authenticate(request).await?;
            let method = parse_payment_method(request.body())?;
            let payment = app
                .payments
                .confirm(&caller, request.path_param("paymentId")?, &method)
                .await?;
            Ok(Reply::ok(payment).message("Payment confirmed"))
        }
        "POST /api/v1/payments/{paymentId}/refund" => {
            let caller = app.tokens.authenticate(request).await?;
            caller.require_admin()?;
            let amount = parse_refund(request.body())?;
            let key = request.idempotency_key()?;
            Ok(Reply::ok(
                app.payments
                    .refund(&caller, request.path_param("paymentId")?, amount, key.as_deref())
                    .await?,
            )
            .message("Refund created"))
        }
        "POST /api/v1/payments/webhook" => {
            let outcome = app
                .payments
                .webhook(request.header("stripe-signature"), request.body())
                .await?;
            Ok(Reply::ok(serde_json::json!({ "received": true, "outcome": outcome })))
        }
        _ => Err(request.unknown_route()),
    }
}
