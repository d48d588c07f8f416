//! `admin-api`: coupons and promotions, shipping zones and tax rates, catalog
//! import and export, and the daily sales report (ADMIN only).

use serde_json::json;
use shop::Config;
use shop::auth::{Caller, Tokens};
use shop::aws::AwsClients;
use shop::coupons::{CouponInput, Coupons};
use shop::domain::{CouponCode, ImportId, TaxRateId, ZoneId};
use shop::http::{ApiError, ApiResult, Incoming, Reply};
use shop::imports::{EXPORT_MAX_PAGE, EXPORT_PAGE, Imports};
use shop::lambda::{Api, BoxFuture};
use shop::pagination::PageRequest;
use shop::reports::Reports;
use shop::shipping::{ShippingAdmin, TaxRateInput, ZoneInput};

#[derive(Debug)]
pub struct App {
    coupons: Coupons,
    shipping: ShippingAdmin,
    imports: Imports,
    reports: Reports,
    tokens: Tokens,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            coupons: Coupons::from_config(config, clients),
            shipping: ShippingAdmin::from_config(config, clients),
            imports: Imports::from_config(config, clients),
            reports: Reports::from_config(config, clients),
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
    let caller = app.tokens.authenticate(request).await?;
    caller.require_admin()?;
    let code = || CouponCode::parse(request.path_param("code")?).map_err(|_| ApiError::not_found("Coupon"));
    if let Some(reply) = shipping_route(app, &caller, request).await? {
        return Ok(reply);
    }
    if let Some(reply) = catalog_file_route(app, &caller, request).await? {
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

/// The catalog import and export routes; `None` for any other route.
async fn catalog_file_route(app: &App, caller: &Caller, request: &Incoming) -> Result<Option<Reply>, ApiError> {
    let import = || ImportId::parse(request.path_param("importId")?).map_err(|_| ApiError::not_found("Import"));
    let reply = match request.route_key.as_str() {
        "POST /api/v1/admin/products/import" => {
            if request
                .header("content-type")
                .is_some_and(|t| t.trim().starts_with("application/json"))
            {
                return Err(ApiError::invalid_field(
                    "body",
                    "send the CSV file itself, with Content-Type: text/csv",
                ));
            }
            let filename = filename(request.query("filename"))?;
            let (report, finished) = app.imports.import_file(caller, filename, request.body()).await?;
            if finished {
                Reply::ok(report).message("Import completed")
            } else {
                Reply::accepted(report).message("Import queued: follow it at /api/v1/admin/imports/{importId}")
            }
        }
        "GET /api/v1/admin/products/export" => {
            let limit = match request.query("limit") {
                None => EXPORT_PAGE,
                Some(text) => text
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=EXPORT_MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_field("limit", format!("must be a whole number from 1 to {EXPORT_MAX_PAGE}"))
                    })?,
            };
            let page = app.imports.export(caller, limit, request.query("cursor")).await?;
            let mut reply = Reply::file(
                "text/csv; charset=utf-8",
                String::from_utf8_lossy(&page.csv).into_owned(),
            )
            .header("cache-control", "private, no-store")
            .header("content-disposition", "attachment; filename=\"products.csv\"")
            .header("x-product-count", &page.products.to_string());
            if let Some(cursor) = &page.next_cursor {
                reply = reply.header("x-next-cursor", cursor);
            }
            reply
        }
        "GET /api/v1/admin/imports" => {
            let page = PageRequest::from_query(request, 20)?;
            let (imports, pagination) = app.imports.list(caller, page).await?;
            Reply::ok(json!({ "imports": imports, "pagination": pagination }))
        }
        "POST /api/v1/admin/imports" => {
            let filename = upload_filename(request.body())?;
            Reply::created(app.imports.start_upload(caller, filename).await?)
                .message("Upload the file at uploadUrl, then POST /api/v1/admin/imports/{importId}/start")
        }
        "GET /api/v1/admin/imports/{importId}" => {
            let page = PageRequest::from_query(request, 50)?;
            Reply::ok(app.imports.report(caller, import()?, page).await?).header("cache-control", "private, no-store")
        }
        "POST /api/v1/admin/imports/{importId}/start" => {
            Reply::accepted(app.imports.submit(caller, import()?).await?).message("Import queued")
        }
        _ => return Ok(None),
    };
    Ok(Some(reply))
}

/// An optional file name: 1 to 200 printable characters.
fn filename(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if name.chars().count() <= 200 && !name.chars().any(char::is_control) => Ok(Some(name.to_owned())),
        Some(_) => Err(ApiError::invalid_field(
            "filename",
            "must be at most 200 printable characters",
        )),
    }
}

/// `{"filename": "…"}` (optional), or an empty body.
fn upload_filename(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut form = shop::http::Form::from_body(body)?;
    form.only(&["filename"]);
    let name = form.optional("filename", shop::http::form_value::text);
    form.finish()?;
    filename(name.flatten().as_deref())
}
