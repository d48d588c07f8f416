//! `admin-api`: coupons and promotions, shipping zones and tax rates, and the
//! daily sales report (ADMIN only).

use serde_json::json;
use shop::Config;
use shop::auth::{Caller, Tokens};
use shop::aws::AwsClients;
use shop::coupons::{CouponInput, Coupons};
use shop::domain::{CouponCode, TaxRateId, ZoneId};
use shop::http::{ApiError, ApiResult, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::pagination::PageRequest;
use shop::reports::Reports;
use shop::shipping::{ShippingAdmin, TaxRateInput, ZoneInput};

#[derive(Debug)]
pub struct App {
    coupons: Coupons,
    shipping: ShippingAdmin,
    reports: Reports,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            coupons: Coupons::from_config(config, clients),
            shipping: ShippingAdmin::from_config(config, clients),
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
    if let Some(reply) = shipping_route(app, &caller, request).await? {
        return Ok(reply);
    }
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

/// The shipping zone and tax rate routes; `None` for any other route.
async fn shipping_route(app: &App, caller: &Caller, request: &Incoming) -> Result<Option<Reply>, ApiError> {
    let zone = || ZoneId::parse(request.path_param("zoneId")?).map_err(|_| ApiError::not_found("Shipping zone"));
    let rate = || TaxRateId::parse(request.path_param("rateId")?).map_err(|_| ApiError::not_found("Tax rate"));
    let reply = match request.route_key.as_str() {
        "GET /api/v1/admin/shipping-zones" => {
            let page = PageRequest::from_query(request, 20)?;
            let (zones, pagination) = app.shipping.zones(caller, page).await?;
            Reply::ok(json!({ "zones": zones, "pagination": pagination }))
        }
        "POST /api/v1/admin/shipping-zones" => {
            let input = ZoneInput::parse(request.body(), true)?;
            Reply::created(app.shipping.create_zone(caller, input).await?).message("Shipping zone created")
        }
        "GET /api/v1/admin/shipping-zones/{zoneId}" => Reply::ok(app.shipping.zone(caller, zone()?).await?),
        "PUT /api/v1/admin/shipping-zones/{zoneId}" => {
            let input = ZoneInput::parse(request.body(), false)?;
            Reply::ok(app.shipping.replace_zone(caller, zone()?, input).await?).message("Shipping zone updated")
        }
        "DELETE /api/v1/admin/shipping-zones/{zoneId}" => {
            app.shipping.delete_zone(caller, zone()?).await?;
            Reply::ok(json!(null)).message("Shipping zone deleted")
        }
        "GET /api/v1/admin/tax-rates" => {
            let page = PageRequest::from_query(request, 20)?;
            let (rates, pagination) = app.shipping.tax_rates(caller, page).await?;
            Reply::ok(json!({ "taxRates": rates, "pagination": pagination }))
        }
        "POST /api/v1/admin/tax-rates" => {
            let input = TaxRateInput::parse(request.body())?;
            Reply::created(app.shipping.create_tax_rate(caller, input).await?).message("Tax rate created")
        }
        "GET /api/v1/admin/tax-rates/{rateId}" => Reply::ok(app.shipping.tax_rate(caller, rate()?).await?),
        "PUT /api/v1/admin/tax-rates/{rateId}" => {
            let input = TaxRateInput::parse(request.body())?;
            Reply::ok(app.shipping.replace_tax_rate(caller, rate()?, input).await?).message("Tax rate updated")
        }
        "DELETE /api/v1/admin/tax-rates/{rateId}" => {
            app.shipping.delete_tax_rate(caller, rate()?).await?;
            Reply::ok(json!(null)).message("Tax rate deleted")
        }
        _ => return Ok(None),
    };
    Ok(Some(reply))
}
