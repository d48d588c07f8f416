//! `orders-api`: checkout (`Idempotency-Key` honoured), the customer's orders,
//! cancellation, and the admin status changes and order list.

use serde_json::json;
use shop::Config;
use shop::auth::Tokens;
use shop::aws::AwsClients;
use shop::domain::{OrderId, OrderStatus, Timestamp};
use shop::http::form_value::bounded_text;
use shop::http::{ApiError, ApiResult, Form, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::orders::{CheckoutRequest, OrderView, Orders, StatusChange};
use shop::pagination::PageRequest;

#[derive(Debug)]
pub struct App {
    orders: Orders,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            orders: Orders::from_config(config, clients),
            tokens: Tokens::from_config(config, clients),
        }
    }

    pub fn orders(&self) -> &Orders {
        &self.orders
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
        "POST /api/v1/orders" => checkout(app, request).await,
        "GET /api/v1/orders" => list_orders(app, request).await,
        "GET /api/v1/orders/{orderId}" => get_order(app, request).await,
        "POST /api/v1/orders/{orderId}/cancel" => cancel_order(app, request).await,
        "PATCH /api/v1/orders/{orderId}/status" => change_status(app, request).await,
        "GET /api/v1/admin/orders" => admin_orders(app, request).await,
        _ => Err(request.unknown_route()),
    }
}

fn order_id(request: &Incoming) -> Result<OrderId, ApiError> {
    OrderId::parse(request.path_param("orderId")?).map_err(|_| ApiError::not_found("Order"))
}

fn status_filter(request: &Incoming) -> Result<Option<OrderStatus>, ApiError> {
    request
        .query("status")
        .map(|s| OrderStatus::parse(s).map_err(|message| ApiError::invalid_field("status", message)))
        .transpose()
}

async fn checkout(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let input = CheckoutRequest::parse(request)?;
    let (order, created) = app.orders.checkout(&caller, input).await?;
    let reply = Reply::created(order).message("Order created successfully");
    Ok(if created {
        reply
    } else {
        reply.header("idempotent-replayed", "true")
    })
}

async fn list_orders(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let page = PageRequest::from_query(request, 10)?;
    let status = status_filter(request)?;
    let (orders, pagination) = app.orders.customer_orders(&caller, status, page).await?;
    Ok(Reply::ok(json!({ "orders": orders, "pagination": pagination })))
}

async fn get_order(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let order = app.orders.order_for(&caller, order_id(request)?).await?;
    Ok(Reply::ok(OrderView::from(&order)).header("cache-control", "private, no-store"))
}

async fn cancel_order(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    let mut form = Form::from_body(request.body())?;
    form.only(&["reason"]);
    let reason = form.optional("reason", bounded_text(200));
    form.finish()?;
    let order = app.orders.cancel(&caller, order_id(request)?, reason.flatten()).await?;
    Ok(Reply::ok(order).message("Order cancelled"))
}

async fn change_status(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let change = StatusChange::parse(request.body())?;
    let order = app.orders.change_status(&caller, order_id(request)?, change).await?;
    Ok(Reply::ok(order).message("Order status updated"))
}

/// ADMIN: `?status=…` (required) and optional `from`/`to` dates (`2026-11-01`).
async fn admin_orders(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let page = PageRequest::from_query(request, 20)?;
    let status = status_filter(request)?
        .ok_or_else(|| ApiError::validation(Vec::new(), vec![shop::http::FieldIssue::new("status", "is required")]))?;
    let date = |name: &str, default: Timestamp, end_of_day: bool| -> Result<Timestamp, ApiError> {
        match request.query(name) {
            None => Ok(default),
            Some(text) => {
                let suffix = if end_of_day { "T23:59:59Z" } else { "T00:00:00Z" };
                Timestamp::parse(&format!("{}{suffix}", text.trim()))
                    .map_err(|_| ApiError::invalid_field(name, "must be a date such as 2026-11-01"))
            }
        }
    };
    let from = date("from", Timestamp::from_unix(0), false)?;
    let to = date("to", Timestamp::now(), true)?;
    if from > to {
        return Err(ApiError::invalid_field("from", "must not be after to"));
    }
    let (orders, pagination) = app.orders.orders_by_status(&caller, status, (from, to), page).await?;
    Ok(Reply::ok(json!({ "orders": orders, "pagination": pagination })))
}
