//! Shipping zone and tax rate administration (ADMIN): the inputs, read once at
//! the edge, and the writes, after which this process reads the rules again.

use serde_json::Value;

use super::RulesCache;
use super::views::{TaxRateView, ZoneView};
use crate::auth::Caller;
use crate::domain::{CountryCode, Money, RegionCode, ShippingMethodId, TaxRateId, Timestamp, ZoneId};
use crate::http::form_value::{boolean, bounded_text, text, unsigned};
use crate::http::{ApiError, FieldIssue, Form};
use crate::pagination::{PageRequest, Pagination};
use crate::store::shipping::{ShippingMethodRecord, ShippingZoneRecord, TaxRateRecord, TaxRateWrite};
use crate::store::{Store, StoreError, TxError};

const ZONE_FIELDS: [&str; 5] = ["name", "countries", "regions", "methods", "version"];
const METHOD_FIELDS: [&str; 7] = ["methodId", "name", "price", "freeAbove", "minDays", "maxDays", "active"];
const TAX_RATE_FIELDS: [&str; 6] = ["name", "country", "region", "rateBps", "appliesToShipping", "version"];
const MAX_COUNTRIES: usize = 250;
const MAX_REGIONS: usize = 200;
const MAX_METHODS: usize = 20;
const MAX_DAYS: u64 = 365;
/// 100 %.
const MAX_RATE_BPS: u64 = 10_000;

/// One method of a zone as sent; an existing `methodId` keeps the method's id.
#[derive(Debug, Clone)]
pub struct MethodInput {
    pub method_id: Option<ShippingMethodId>,
    pub name: String,
    pub price: Money,
    pub free_above: Option<Money>,
    pub min_days: u32,
    pub max_days: u32,
    pub active: bool,
}

/// A zone as sent to create one or to replace one (`PUT`).
#[derive(Debug, Clone)]
pub struct ZoneInput {
    pub name: String,
    pub countries: Vec<CountryCode>,
    pub regions: Vec<RegionCode>,
    pub methods: Vec<MethodInput>,
    /// On `PUT`, the version the change is based on.
    pub version: Option<u64>,
}

/// A tax rate as sent to create one or to replace one (`PUT`).
#[derive(Debug, Clone)]
pub struct TaxRateInput {
    pub name: String,
    pub country: CountryCode,
    pub region: Option<RegionCode>,
    pub rate_bps: u32,
    pub applies_to_shipping: bool,
    pub version: Option<u64>,
}

fn amount(value: &Value) -> Result<Money, String> {
    let number = value.as_number().ok_or("must be an amount such as 4.99")?;
    Money::try_from(number.clone()).map_err(|e| e.to_string())
}

fn positive_amount(value: &Value) -> Result<Money, String> {
    let money = amount(value)?;
    if money.cents() > 0 {
        Ok(money)
    } else {
        Err("must be greater than 0".to_owned())
    }
}

fn whole(max: u64) -> impl Fn(&Value) -> Result<u32, String> {
    move |value| {
        value
            .as_u64()
            .filter(|n| *n <= max)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("must be a whole number from 0 to {max}"))
    }
}

/// A JSON list of `min` to `max` entries.
fn list(min: usize, max: usize) -> impl Fn(&Value) -> Result<Vec<Value>, String> {
    move |value| {
        let entries = value.as_array().ok_or("must be a list")?;
        if (min..=max).contains(&entries.len()) {
            Ok(entries.clone())
        } else {
            Err(format!("must have {min} to {max} entries"))
        }
    }
}

/// Parses each entry of a list, naming a bad one `field[index]`; repeats are refused.
fn entries<T: PartialEq + std::fmt::Display>(
    form: &mut Form,
    field: &str,
    values: &[Value],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let mut parsed: Vec<T> = Vec::new();
    for (index, value) in values.iter().enumerate() {
        match text(value).map_err(str::to_owned).and_then(|t| parse(&t)) {
            Ok(entry) if parsed.contains(&entry) => form.issue(format!("{field}[{index}]"), format!("repeats {entry}")),
            Ok(entry) => parsed.push(entry),
            Err(message) => form.issue(format!("{field}[{index}]"), message),
        }
    }
    parsed
}

fn read_method(mut nested: Form, creating: bool) -> (Option<MethodInput>, Form) {
    nested.only(&METHOD_FIELDS);
    let method_id = nested.optional("methodId", |v| {
        ShippingMethodId::parse(&text(v)?).map_err(|e| e.to_string())
    });
    if creating {
        nested.reject("methodId", "is assigned by the server");
    }
    let name = nested.required("name", bounded_text(100));
    let price = nested.required("price", amount);
    let free_above = nested.optional("freeAbove", positive_amount);
    let min_days = nested.required("minDays", whole(MAX_DAYS));
    let max_days = nested.required("maxDays", whole(MAX_DAYS));
    let active = nested.optional("active", |v| boolean(v).map_err(str::to_owned));
    if let (Some(min), Some(max)) = (min_days, max_days)
        && max < min
    {
        nested.issue("maxDays", "must not be less than minDays");
    }
    let method = match (method_id, name, price, free_above, min_days, max_days, active) {
        (Some(method_id), Some(name), Some(price), Some(free_above), Some(min_days), Some(max_days), Some(active))
            if nested.is_valid() =>
        {
            Some(MethodInput {
                method_id,
                name,
                price,
                free_above,
                min_days,
                max_days,
                active: active.unwrap_or(true),
            })
        }
        _ => None,
    };
    (method, nested)
}

impl ZoneInput {
    /// Reads a zone; `creating` refuses method ids (the server assigns them).
    pub fn parse(body: &[u8], creating: bool) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&ZONE_FIELDS);
        let name = form.required("name", bounded_text(100));
        let countries = form.required("countries", list(1, MAX_COUNTRIES));
        let regions = form.optional("regions", list(0, MAX_REGIONS));
        let methods = form.required("methods", list(1, MAX_METHODS));
        let version = form.optional("version", |v| unsigned(v).map_err(str::to_owned));
        let countries = entries(&mut form, "countries", countries.as_deref().unwrap_or_default(), |t| {
            CountryCode::parse(t).map_err(|e| e.to_string())
        });
        let regions = entries(
            &mut form,
            "regions",
            regions.clone().flatten().as_deref().unwrap_or_default(),
            |t| RegionCode::parse(t).map_err(|e| e.to_string()),
        );
        for (index, region) in regions.iter().enumerate() {
            if !countries.contains(&region.country()) {
                form.issue(
                    format!("regions[{index}]"),
                    format!("{region} is not in one of the zone's countries"),
                );
            }
        }
        let mut parsed = Vec::new();
        for (index, value) in methods.as_deref().unwrap_or_default().iter().enumerate() {
            let prefix = format!("methods[{index}]");
            let Some(nested) = Form::from_value(value) else {
                form.issue(prefix, "must be an object");
                continue;
            };
            let (method, nested) = read_method(nested, creating);
            form.absorb(&prefix, nested);
            if let Some(method) = method {
                if method.method_id.is_some() && parsed.iter().any(|m: &MethodInput| m.method_id == method.method_id) {
                    form.issue(format!("{prefix}.methodId"), "repeats another method's id");
                }
                parsed.push(method);
            }
        }
        form.finish()?;
        let (Some(name), Some(version)) = (name, version) else {
            return Err(ApiError::invalid_field("body", "is incomplete"));
        };
        Ok(Self {
            name,
            countries,
            regions,
            methods: parsed,
            version,
        })
    }
}

impl TaxRateInput {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&TAX_RATE_FIELDS);
        let name = form.required("name", bounded_text(100));
        let country = form.required("country", |v| CountryCode::parse(&text(v)?).map_err(|e| e.to_string()));
        let region = form.optional("region", |v| RegionCode::parse(&text(v)?).map_err(|e| e.to_string()));
        let rate_bps = form.required("rateBps", whole(MAX_RATE_BPS));
        let applies_to_shipping = form.optional("appliesToShipping", |v| boolean(v).map_err(str::to_owned));
        let version = form.optional("version", |v| unsigned(v).map_err(str::to_owned));
        if let (Some(country), Some(Some(region))) = (country, &region)
            && region.country() != country
        {
            form.issue("region", format!("must be a region of {country}, written {country}-…"));
        }
        form.finish()?;
        let (Some(name), Some(country), Some(region), Some(rate_bps), Some(applies_to_shipping), Some(version)) =
            (name, country, region, rate_bps, applies_to_shipping, version)
        else {
            return Err(ApiError::invalid_field("body", "is incomplete"));
        };
        Ok(Self {
            name,
            country,
            region,
            rate_bps,
            applies_to_shipping: applies_to_shipping.unwrap_or(false),
            version,
        })
    }
}

/// The 409 for a tax rate whose country or region already has one.
fn destination_taken(rate: &TaxRateRecord) -> ApiError {
    let (field, place) = match &rate.region {
        Some(region) => ("region", region.to_string()),
        None => ("country", rate.country.to_string()),
    };
    ApiError::already_exists(format!("{place} already has a tax rate"))
        .with_details(serde_json::json!([{"field": field, "message": format!("{place} already has a tax rate")}]))
}

/// Zone and tax rate administration.
#[derive(Debug)]
pub struct ShippingAdmin {
    pub store: Store,
    rules: RulesCache,
}

impl ShippingAdmin {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::from_config(config, clients),
            rules: RulesCache::from_config(config, clients),
        }
    }

    pub async fn zones(&self, caller: &Caller, page: PageRequest) -> Result<(Vec<ZoneView>, Pagination), ApiError> {
        caller.require_admin()?;
        let (zones, total) = self.store.shipping_zones(page.page, page.limit).await?;
        Ok((zones.iter().map(ZoneView::from).collect(), Pagination::new(page, total)))
    }

    pub async fn zone(&self, caller: &Caller, id: ZoneId) -> Result<ZoneView, ApiError> {
        caller.require_admin()?;
        let zone = self.store.shipping_zone(id).await?.ok_or_else(zone_not_found)?;
        Ok(ZoneView::from(&zone))
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_zone(&self, caller: &Caller, input: ZoneInput) -> Result<ZoneView, ApiError> {
        caller.require_admin()?;
        let now = Timestamp::now();
        let zone = ShippingZoneRecord {
            zone_id: ZoneId::generate(),
            name: input.name,
            countries: input.countries,
            regions: input.regions,
            methods: input
                .methods
                .into_iter()
                .map(|m| method_record(m, ShippingMethodId::generate()))
                .collect(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.create_shipping_zone(&zone).await?;
        self.rules.forget().await;
        tracing::info!(zoneId = %zone.zone_id, "shipping zone created");
        Ok(ZoneView::from(&zone))
    }

    /// Replaces a zone still at the version sent (or the current one). A
    /// method sent with its `methodId` keeps it; one without gets a new id.
    #[tracing::instrument(skip_all, fields(zoneId = %id))]
    pub async fn replace_zone(&self, caller: &Caller, id: ZoneId, input: ZoneInput) -> Result<ZoneView, ApiError> {
        caller.require_admin()?;
        let current = self.store.shipping_zone(id).await?.ok_or_else(zone_not_found)?;
        let mut issues = Vec::new();
        let mut methods = Vec::new();
        for (index, method) in input.methods.into_iter().enumerate() {
            match method.method_id {
                Some(known) if !current.methods.iter().any(|m| m.method_id == known) => issues.push(FieldIssue::new(
                    format!("methods[{index}].methodId"),
                    "is not a method of this zone",
                )),
                kept => methods.push(method_record(method, kept.unwrap_or_else(ShippingMethodId::generate))),
            }
        }
        if !issues.is_empty() {
            return Err(ApiError::validation(issues, Vec::new()));
        }
        let version = input.version.unwrap_or(current.version);
        let zone = ShippingZoneRecord {
            name: input.name,
            countries: input.countries,
            regions: input.regions,
            methods,
            version: version + 1,
            updated_at: Timestamp::now(),
            ..current
        };
        self.store
            .replace_shipping_zone(&zone, version)
            .await
            .map_err(|err| match err {
                StoreError::ConditionFailed => ApiError::stale_version(),
                other => other.into(),
            })?;
        self.rules.forget().await;
        Ok(ZoneView::from(&zone))
    }

    pub async fn delete_zone(&self, caller: &Caller, id: ZoneId) -> Result<(), ApiError> {
        caller.require_admin()?;
        self.store.delete_shipping_zone(id).await.map_err(|err| match err {
            StoreError::ConditionFailed => zone_not_found(),
            other => other.into(),
        })?;
        self.rules.forget().await;
        Ok(())
    }

    pub async fn tax_rates(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<(Vec<TaxRateView>, Pagination), ApiError> {
        caller.require_admin()?;
        let (rates, total) = self.store.tax_rates(page.page, page.limit).await?;
        Ok((
            rates.iter().map(TaxRateView::from).collect(),
            Pagination::new(page, total),
        ))
    }

    pub async fn tax_rate(&self, caller: &Caller, id: TaxRateId) -> Result<TaxRateView, ApiError> {
        caller.require_admin()?;
        let rate = self.store.tax_rate(id).await?.ok_or_else(rate_not_found)?;
        Ok(TaxRateView::from(&rate))
    }

    /// Creates a rate for a country, or a region, that has none yet (409 otherwise).
    #[tracing::instrument(skip_all)]
    pub async fn create_tax_rate(&self, caller: &Caller, input: TaxRateInput) -> Result<TaxRateView, ApiError> {
        caller.require_admin()?;
        let now = Timestamp::now();
        let rate = TaxRateRecord {
            rate_id: TaxRateId::generate(),
            name: input.name,
            country: input.country,
            region: input.region,
            rate_bps: input.rate_bps,
            applies_to_shipping: input.applies_to_shipping,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        match self.store.create_tax_rate(&rate).await {
            Ok(()) => {}
            Err(error) if error.refused(&TaxRateWrite::DestinationTaken) => return Err(destination_taken(&rate)),
            Err(error) => return Err(error.into()),
        }
        self.rules.forget().await;
        tracing::info!(rateId = %rate.rate_id, "tax rate created");
        Ok(TaxRateView::from(&rate))
    }

    /// Replaces a rate still at the version sent (or the current one).
    #[tracing::instrument(skip_all, fields(rateId = %id))]
    pub async fn replace_tax_rate(
        &self,
        caller: &Caller,
        id: TaxRateId,
        input: TaxRateInput,
    ) -> Result<TaxRateView, ApiError> {
        caller.require_admin()?;
        let current = self.store.tax_rate(id).await?.ok_or_else(rate_not_found)?;
        if input.version.is_some_and(|version| version != current.version) {
            return Err(ApiError::stale_version());
        }
        let rate = TaxRateRecord {
            name: input.name,
            country: input.country,
            region: input.region,
            rate_bps: input.rate_bps,
            applies_to_shipping: input.applies_to_shipping,
            version: current.version + 1,
            updated_at: Timestamp::now(),
            ..current.clone()
        };
        match self.store.replace_tax_rate(&rate, &current).await {
            Ok(()) => {}
            Err(error) if error.refused(&TaxRateWrite::DestinationTaken) => return Err(destination_taken(&rate)),
            Err(TxError::Refused(_)) => return Err(ApiError::stale_version()),
            Err(error) => return Err(error.into()),
        }
        self.rules.forget().await;
        Ok(TaxRateView::from(&rate))
    }

    pub async fn delete_tax_rate(&self, caller: &Caller, id: TaxRateId) -> Result<(), ApiError> {
        caller.require_admin()?;
        let current = self.store.tax_rate(id).await?.ok_or_else(rate_not_found)?;
        match self.store.delete_tax_rate(&current).await {
            Ok(()) => {}
            // Changed or deleted since it was read.
            Err(TxError::Refused(_)) => {
                return Err(match self.store.tax_rate(id).await? {
                    Some(_) => ApiError::stale_version(),
                    None => rate_not_found(),
                });
            }
            Err(error) => return Err(error.into()),
        }
        self.rules.forget().await;
        Ok(())
    }
}

fn method_record(method: MethodInput, method_id: ShippingMethodId) -> ShippingMethodRecord {
    ShippingMethodRecord {
        method_id,
        name: method.name,
        price: method.price,
        free_above: method.free_above,
        min_days: method.min_days,
        max_days: method.max_days,
        active: method.active,
    }
}

fn zone_not_found() -> ApiError {
    ApiError::not_found("Shipping zone")
}

fn rate_not_found() -> ApiError {
    ApiError::not_found("Tax rate")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(error: ApiError) -> Vec<String> {
        error
            .details
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|issue| issue["field"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_zone_names_each_bad_field_down_to_the_method() {
        let body = serde_json::json!({
            "name": "Domestic",
            "countries": ["US", "XX", "us"],
            "regions": ["CA-ON", "US-NY"],
            "methods": [
                {"name": "Standard", "price": 4.99, "minDays": 5, "maxDays": 3},
                {"name": "Express", "price": -1, "minDays": 1, "maxDays": 2, "colour": "red"},
                "fast"
            ],
            "currency": "USD"
        });
        let error = ZoneInput::parse(body.to_string().as_bytes(), true).unwrap_err();
        let mut named = fields(error);
        named.sort();
        assert_eq!(
            named,
            [
                "countries[1]",
                "countries[2]",
                "currency",
                "methods[0].maxDays",
                "methods[1].colour",
                "methods[1].price",
                "methods[2]",
                "regions[0]",
            ]
        );
    }

    #[test]
    fn a_valid_zone_reads_with_defaults() {
        let body = br#"{"name": " Domestic ", "countries": ["us"], "methods": [{"name": "Standard", "price": 0, "minDays": 0, "maxDays": 0}]}"#;
        let zone = ZoneInput::parse(body, true).unwrap();
        assert_eq!(zone.name, "Domestic");
        assert_eq!(zone.countries[0].as_str(), "US");
        assert!(zone.regions.is_empty());
        assert!(zone.methods[0].active);
        assert_eq!(zone.methods[0].price, Money::ZERO);
        let with_id = format!(
            r#"{{"name": "D", "countries": ["US"], "methods": [{{"methodId": "{}", "name": "S", "price": 1, "minDays": 1, "maxDays": 2}}]}}"#,
            ShippingMethodId::generate()
        );
        assert_eq!(
            fields(ZoneInput::parse(with_id.as_bytes(), true).unwrap_err()),
            ["methods[0].methodId"]
        );
        assert!(ZoneInput::parse(with_id.as_bytes(), false).is_ok());
    }

    #[test]
    fn a_tax_rate_region_must_be_in_its_country() {
        let rate =
            TaxRateInput::parse(br#"{"name": "NY sales tax", "country": "us", "region": "us-ny", "rateBps": 888}"#)
                .unwrap();
        assert_eq!(
            (
                rate.country.as_str(),
                rate.region.unwrap().as_str(),
                rate.applies_to_shipping
            ),
            ("US", "US-NY", false)
        );
        let error =
            TaxRateInput::parse(br#"{"name": "x", "country": "US", "region": "CA-ON", "rateBps": 10001}"#).unwrap_err();
        assert_eq!(fields(error), ["rateBps", "region"]);
        let missing = TaxRateInput::parse(b"{}").unwrap_err();
        assert_eq!(missing.code.as_str(), "VAL_002");
        assert_eq!(fields(missing), ["name", "country", "rateBps"]);
    }
}
