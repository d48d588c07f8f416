//! Shipping zones and tax rates: a handful of items in one partition, read
//! whole by every function that prices an order (and cached, see
//! [`crate::shipping::RulesCache`]). A tax rate holds a marker of its
//! destination, so a country or region has at most one rate.

use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::table::{Expr, Query, Transaction, TxError};
use super::{Store, StoreError, from_item, marker_item, number, to_item};
use crate::domain::money::cents;
use crate::domain::{CountryCode, Money, RegionCode, ShippingMethodId, TaxRateId, Timestamp, ZoneId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethodRecord {
    pub method_id: ShippingMethodId,
    pub name: String,
    #[serde(with = "cents")]
    pub price: Money,
    /// Free when the discounted subtotal reaches this.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "cents::option")]
    pub free_above: Option<Money>,
    pub min_days: u32,
    pub max_days: u32,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingZoneRecord {
    pub zone_id: ZoneId,
    pub name: String,
    pub countries: Vec<CountryCode>,
    /// Narrows the countries it names to these regions; the others are served whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionCode>,
    pub methods: Vec<ShippingMethodRecord>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRateRecord {
    pub rate_id: TaxRateId,
    pub name: String,
    pub country: CountryCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    pub rate_bps: u32,
    #[serde(default)]
    pub applies_to_shipping: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TaxRateRecord {
    fn destination(&self) -> Key {
        keys::tax_destination(self.country, self.region.as_ref())
    }
}

/// The items of tax-rate transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxRateWrite {
    /// New, or still at the version read.
    Rate,
    /// Another rate has this country or region.
    DestinationTaken,
    OldDestination,
}

/// The condition of a replace or delete: the item exists at `version`.
fn at_version(version: u64) -> Expr {
    Expr::new("attribute_exists(PK) AND #version = :expected")
        .name("#version", "version")
        .value(":expected", number(version))
}

impl Store {
    /// Every zone and every tax rate, in one Query (consistent: an admin's
    /// change is seen as soon as the cache lets it).
    pub async fn destination_rules(&self) -> Result<(Vec<ShippingZoneRecord>, Vec<TaxRateRecord>), StoreError> {
        let items = self.query_all(&Query::table(keys::PRICING_RULES).consistent()).await?;
        let mut zones = Vec::new();
        let mut rates = Vec::new();
        for item in items {
            let sort_key = keys::text_of(&item, keys::SK);
            if sort_key.starts_with(keys::ZONE_PREFIX) {
                zones.push(from_item(item)?);
            } else if sort_key.starts_with(keys::TAX_RATE_PREFIX) {
                rates.push(from_item(item)?);
            }
        }
        Ok((zones, rates))
    }

    /// One page of the zones, oldest first, and how many there are.
    pub async fn shipping_zones(&self, page: u32, limit: u32) -> Result<(Vec<ShippingZoneRecord>, u64), StoreError> {
        let query = Query::table(keys::PRICING_RULES)
            .begins_with(keys::ZONE_PREFIX)
            .consistent();
        self.query_page_records(&query, page, limit).await
    }

    pub async fn shipping_zone(&self, id: ZoneId) -> Result<Option<ShippingZoneRecord>, StoreError> {
        self.read(&keys::shipping_zone(id)).await
    }

    pub async fn create_shipping_zone(&self, zone: &ShippingZoneRecord) -> Result<(), StoreError> {
        self.put(to_item(&keys::shipping_zone(zone.zone_id), zone)?, Some(Expr::absent()))
            .await
    }

    /// Writes the zone whole if it is still at `version`.
    pub async fn replace_shipping_zone(&self, zone: &ShippingZoneRecord, version: u64) -> Result<(), StoreError> {
        self.put(
            to_item(&keys::shipping_zone(zone.zone_id), zone)?,
            Some(at_version(version)),
        )
        .await
    }

    pub async fn delete_shipping_zone(&self, id: ZoneId) -> Result<(), StoreError> {
        self.delete(&keys::shipping_zone(id), Some(Expr::present())).await
    }

    /// One page of the tax rates, oldest first, and how many there are.
    pub async fn tax_rates(&self, page: u32, limit: u32) -> Result<(Vec<TaxRateRecord>, u64), StoreError> {
        let query = Query::table(keys::PRICING_RULES)
            .begins_with(keys::TAX_RATE_PREFIX)
            .consistent();
        self.query_page_records(&query, page, limit).await
    }

    pub async fn tax_rate(&self, id: TaxRateId) -> Result<Option<TaxRateRecord>, StoreError> {
        self.read(&keys::tax_rate(id)).await
    }

    /// The rate and the marker of its destination.
    pub async fn create_tax_rate(&self, rate: &TaxRateRecord) -> Result<(), TxError<TaxRateWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(
            TaxRateWrite::Rate,
            to_item(&keys::tax_rate(rate.rate_id), rate)?,
            Some(Expr::absent()),
        );
        tx.put(
            TaxRateWrite::DestinationTaken,
            marker_item(&rate.destination(), &rate.rate_id.to_string())?,
            Some(Expr::absent()),
        );
        self.commit(tx).await
    }

    /// Writes `rate` whole if `previous` (as read) is still at its version; a
    /// new destination swaps the markers.
    pub async fn replace_tax_rate(
        &self,
        rate: &TaxRateRecord,
        previous: &TaxRateRecord,
    ) -> Result<(), TxError<TaxRateWrite>> {
        let mut tx = Transaction::new(self);
        tx.put(
            TaxRateWrite::Rate,
            to_item(&keys::tax_rate(rate.rate_id), rate)?,
            Some(at_version(previous.version)),
        );
        if rate.destination() != previous.destination() {
            tx.delete(TaxRateWrite::OldDestination, &previous.destination(), None);
            tx.put(
                TaxRateWrite::DestinationTaken,
                marker_item(&rate.destination(), &rate.rate_id.to_string())?,
                Some(Expr::absent()),
            );
        }
        self.commit(tx).await
    }

    /// Deletes the rate, if still at the version read, and its marker.
    pub async fn delete_tax_rate(&self, rate: &TaxRateRecord) -> Result<(), TxError<TaxRateWrite>> {
        let mut tx = Transaction::new(self);
        tx.delete(
            TaxRateWrite::Rate,
            &keys::tax_rate(rate.rate_id),
            Some(at_version(rate.version)),
        );
        tx.delete(TaxRateWrite::OldDestination, &rate.destination(), None);
        self.commit(tx).await
    }
}
