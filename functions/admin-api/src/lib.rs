//! `admin-api`: coupons and promotions, and the daily sales report (ADMIN only).

use serde_json::json;
use shop::Config;
use shop::auth::Tokens;
use shop::aws::AwsClients;
use shop::coupons::{CouponInput, Coupons};
use shop::domain::CouponCode;
use shop::http::{ApiError, ApiResult, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::pagination::PageRequest;
use shop::reports::Reports;

#[derive(Debug)]
pub struct App {
    coupons: Coupons,
    reports: Reports,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            coupons: Coupons::from_config(config, clients),
            reports: Reports::from_config(config, clients),
            tokens: Tokens::from_config(config, clients),
        }
    }
}

impl Api for App {
    fn route<'a>(&'a self, request: &'a Incoming) -> BoxFuture<'a, ApiResult> {
        Box::pin(route(self, request))
    }
}

async fn route(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let code = || CouponCode::parse(request.path_param("code")?).map_err(|_| ApiError::not_found("Coupon"));
    match request.route_key.as_str() {
        "GET /api/v1/admin/coupons" => {
            let page = PageRequest::from_query(request, 20)?;
            let (coupons, pagination) = app.coupons.list(&caller, page).await?;
            Ok(Reply::ok(json!({ "coupons": coupons, "pagination": pagination })))
        }
        "POST /api/v1/admin/coupons" => {
            let input = CouponInput::parse(request.body(), true)?;
            Ok(Reply::created(app.coupons.create(&caller, input).await?).message("Coupon created"))
        }
        "GET /api/v1/admin/coupons/{code}" => Ok(Reply::ok(app.coupons.get(&caller, &code()?).await?)),
        "PUT /api/v1/admin/coupons/{code}" => {
            let input = CouponInput::parse(request.body(), false)?;
            Ok(Reply::ok(app.coupons.update(&caller, &code()?, input).await?).message("Coupon updated"))
        }
        "GET /api/v1/admin/analytics/daily" => {
            let date = request.query("date").ok_or_else(|| {
                ApiError::validation(
                    Vec::new(),
                    vec![shop::http::FieldIssue::new("date", "is required (YYYY-MM-DD)")],
                )
            })?;
            Ok(Reply::ok(app.reports.report(&caller, date).await?).header("cache-control", "private, no-store"))
        }
        "DELETE /api/v1/admin/coupons/{code}" => {
            app.coupons.delete(&caller, &code()?).await?;
            Ok(Reply::ok(json!(null)).message("Coupon deleted"))
        }
        _ => Err(request.unknown_route()),
    }
}
