//! Response shapes (`ShippingZone`, `TaxRate`, `ShippingOptions` in openapi.yaml).

use serde::Serialize;

use super::rules::{Offer, Quote, Shipment, Tax};
use crate::domain::{
    CountryCode, Destination, Money, RegionCode, ShippingMethodId, Summary, TaxRateId, Timestamp, ZoneId,
};
use crate::store::shipping::{ShippingMethodRecord, ShippingZoneRecord, TaxRateRecord};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodView {
    pub method_id: ShippingMethodId,
    pub name: String,
    pub price: Money,
    pub free_above: Option<Money>,
    pub min_days: u32,
    pub max_days: u32,
    pub active: bool,
}

impl From<&ShippingMethodRecord> for MethodView {
    fn from(method: &ShippingMethodRecord) -> Self {
        Self {
            method_id: method.method_id,
            name: method.name.clone(),
            price: method.price,
            free_above: method.free_above,
            min_days: method.min_days,
            max_days: method.max_days,
            active: method.active,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneView {
    pub zone_id: ZoneId,
    pub name: String,
    pub countries: Vec<CountryCode>,
    pub regions: Vec<RegionCode>,
    pub methods: Vec<MethodView>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&ShippingZoneRecord> for ZoneView {
    fn from(zone: &ShippingZoneRecord) -> Self {
        Self {
            zone_id: zone.zone_id,
            name: zone.name.clone(),
            countries: zone.countries.clone(),
            regions: zone.regions.clone(),
            methods: zone.methods.iter().map(MethodView::from).collect(),
            version: zone.version,
            created_at: zone.created_at,
            updated_at: zone.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRateView {
    pub rate_id: TaxRateId,
    pub name: String,
    pub country: CountryCode,
    pub region: Option<RegionCode>,
    pub rate_bps: u32,
    pub applies_to_shipping: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&TaxRateRecord> for TaxRateView {
    fn from(rate: &TaxRateRecord) -> Self {
        Self {
            rate_id: rate.rate_id,
            name: rate.name.clone(),
            country: rate.country,
            region: rate.region.clone(),
            rate_bps: rate.rate_bps,
            applies_to_shipping: rate.applies_to_shipping,
            version: rate.version,
            created_at: rate.created_at,
            updated_at: rate.updated_at,
        }
    }
}

/// The configured tax rate a destination pays.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedTaxView {
    pub rate_id: TaxRateId,
    pub name: String,
    pub rate_bps: u32,
    pub applies_to_shipping: bool,
}

/// One shipping method for a destination, priced for the cart.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOptionView {
    pub method_id: ShippingMethodId,
    pub name: String,
    pub zone_id: ZoneId,
    /// What shipping this cart by the method costs (0.00 from `freeAbove` on).
    pub price: Money,
    pub free_above: Option<Money>,
    pub min_days: u32,
    pub max_days: u32,
    /// The cart's totals with this method.
    pub summary: Summary,
}

/// How a cart can ship to a destination.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOptionsView {
    pub country: CountryCode,
    pub region: Option<RegionCode>,
    /// False when no zone serves the destination: checkout refuses it.
    pub shippable: bool,
    /// Cheapest first; empty when the shop has no zones (it charges its flat fee) or does not ship here.
    pub options: Vec<ShippingOptionView>,
    /// The totals checkout charges when no method is chosen (the cheapest); absent when not shippable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// The configured tax rate of the destination; absent when none applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<AppliedTaxView>,
    pub currency: String,
}

impl ShippingOptionsView {
    /// The options of `offer` (`None`: the destination is not served) for a
    /// cart of `subtotal` less `discount`.
    pub fn new(
        destination: Destination,
        offer: Option<&Offer<'_>>,
        (subtotal, discount): (Money, Money),
        currency: &str,
    ) -> Self {
        let quotes = offer.map(|offer| offer.quotes(subtotal, discount)).unwrap_or_default();
        let options = quotes.iter().filter_map(option_view).collect();
        let tax = offer.and_then(|offer| match offer.tax {
            Tax::Rate(rate) => Some(AppliedTaxView {
                rate_id: rate.rate_id,
                name: rate.name.clone(),
                rate_bps: rate.rate_bps,
                applies_to_shipping: rate.applies_to_shipping,
            }),
            Tax::Flat(_) | Tax::Exempt => None,
        });
        Self {
            country: destination.country,
            region: destination.region,
            shippable: offer.is_some(),
            options,
            summary: quotes.first().map(|cheapest| cheapest.summary),
            tax,
            currency: currency.to_owned(),
        }
    }
}

fn option_view(quote: &Quote<'_>) -> Option<ShippingOptionView> {
    let Shipment::Method { zone, method } = quote.shipment else {
        return None;
    };
    Some(ShippingOptionView {
        method_id: method.method_id,
        name: method.name.clone(),
        zone_id: zone.zone_id,
        price: quote.summary.shipping,
        free_above: method.free_above,
        min_days: method.min_days,
        max_days: method.max_days,
        summary: quote.summary,
    })
}
