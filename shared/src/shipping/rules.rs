//! Which shipping and which tax an order gets from the shop's zones and rates:
//! pure, no I/O.
//!
//! - A zone serves a destination when it lists the country and either lists
//!   the destination's region or names no region of that country. Zones that
//!   list the region beat zones that serve the whole country; a zone with no
//!   active method does not count. The methods offered are the active
//!   methods of the best-matching zones.
//! - The tax rate is the one of the destination's region, else the one of its
//!   country, else none (0). A shop with no rates at all charges the
//!   configured flat rate, and a shop with no zones the flat fee: with neither,
//!   totals are exactly the configured ones.

use std::cmp::Ordering;

use crate::domain::{Destination, Money, PricingRules, ShippingCharge, ShippingMethodId, Summary, TaxCharge, Terms};
use crate::store::shipping::{ShippingMethodRecord, ShippingZoneRecord, TaxRateRecord};

/// Every shipping zone and tax rate of the shop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationRules {
    pub zones: Vec<ShippingZoneRecord>,
    pub rates: Vec<TaxRateRecord>,
}

/// How closely a zone or a rate matches a destination (closer is greater).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    Country,
    Region,
}

fn zone_match(zone: &ShippingZoneRecord, destination: &Destination) -> Option<Match> {
    if !zone.countries.contains(&destination.country) {
        return None;
    }
    let narrowed = zone
        .regions
        .iter()
        .any(|region| region.country() == destination.country);
    match &destination.region {
        Some(region) if zone.regions.contains(region) => Some(Match::Region),
        _ if !narrowed => Some(Match::Country),
        _ => None,
    }
}

fn rate_match(rate: &TaxRateRecord, destination: &Destination) -> Option<Match> {
    if rate.country != destination.country {
        return None;
    }
    match (&rate.region, &destination.region) {
        (None, _) => Some(Match::Country),
        (Some(rate), Some(wanted)) if rate == wanted => Some(Match::Region),
        _ => None,
    }
}

fn active_methods(zone: &ShippingZoneRecord) -> impl Iterator<Item = &ShippingMethodRecord> {
    zone.methods.iter().filter(|method| method.active)
}

/// One way an order can ship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shipment<'a> {
    /// The configured flat fee: the shop has no zones.
    Flat(ShippingCharge),
    Method {
        zone: &'a ShippingZoneRecord,
        method: &'a ShippingMethodRecord,
    },
}

impl Shipment<'_> {
    pub fn charge(&self) -> ShippingCharge {
        match self {
            Self::Flat(charge) => *charge,
            Self::Method { method, .. } => ShippingCharge {
                fee: method.price,
                free_from: method.free_above,
            },
        }
    }

    /// Ties between equal prices go to the faster method, then by name.
    fn tie_break(&self) -> (u32, &str, String) {
        match self {
            Self::Flat(_) => (0, "", String::new()),
            Self::Method { method, .. } => (method.max_days, method.name.as_str(), method.method_id.to_string()),
        }
    }
}

/// The tax an order owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tax<'a> {
    /// The configured flat rate: the shop has no tax rates.
    Flat(TaxCharge),
    Rate(&'a TaxRateRecord),
    /// The shop has rates, but none for this destination (or it is not known yet).
    Exempt,
}

impl Tax<'_> {
    pub fn charge(&self) -> TaxCharge {
        match self {
            Self::Flat(charge) => *charge,
            Self::Rate(rate) => TaxCharge {
                bps: rate.rate_bps,
                on_shipping: rate.applies_to_shipping,
            },
            Self::Exempt => TaxCharge::NONE,
        }
    }
}

/// Why an order cannot ship as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The shop has zones or rates, and the address's country is not an ISO code.
    UnknownCountry,
    /// No zone serves the destination with an active method.
    NotServed,
    /// The method asked for does not serve the destination, is inactive or does not exist.
    MethodNotOffered,
    /// A method was asked for, but the shop has no zones: it charges its flat fee.
    NoMethods,
}

/// The shipments an order may take (at least one) and the tax it owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer<'a> {
    first: Shipment<'a>,
    others: Vec<Shipment<'a>>,
    pub tax: Tax<'a>,
}

/// One shipment priced for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote<'a> {
    pub shipment: Shipment<'a>,
    pub tax: Tax<'a>,
    pub summary: Summary,
}

impl Quote<'_> {
    /// Cheapest first, then fastest.
    fn order(&self, other: &Self) -> Ordering {
        (self.summary.shipping, self.shipment.tie_break()).cmp(&(other.summary.shipping, other.shipment.tie_break()))
    }
}

impl<'a> Offer<'a> {
    fn new(shipments: Vec<Shipment<'a>>, tax: Tax<'a>) -> Option<Self> {
        let mut shipments = shipments.into_iter();
        let first = shipments.next()?;
        Some(Self {
            first,
            others: shipments.collect(),
            tax,
        })
    }

    fn quote(&self, shipment: Shipment<'a>, subtotal: Money, discount: Money) -> Quote<'a> {
        let terms = Terms {
            shipping: shipment.charge(),
            tax: self.tax.charge(),
        };
        Quote {
            shipment,
            tax: self.tax,
            summary: terms.summarize(subtotal, discount),
        }
    }

    /// Every shipment priced for `subtotal` less `discount`, cheapest first (then fastest).
    pub fn quotes(&self, subtotal: Money, discount: Money) -> Vec<Quote<'a>> {
        let mut quotes: Vec<Quote<'a>> = std::iter::once(self.first)
            .chain(self.others.iter().copied())
            .map(|shipment| self.quote(shipment, subtotal, discount))
            .collect();
        quotes.sort_by(Quote::order);
        quotes
    }

    /// The shipment checkout takes when none is asked for: the cheapest for this order.
    pub fn cheapest(&self, subtotal: Money, discount: Money) -> Quote<'a> {
        self.others
            .iter()
            .map(|shipment| self.quote(*shipment, subtotal, discount))
            .fold(self.quote(self.first, subtotal, discount), |best, quote| {
                if quote.order(&best).is_lt() { quote } else { best }
            })
    }
}

impl DestinationRules {
    pub fn new(zones: Vec<ShippingZoneRecord>, rates: Vec<TaxRateRecord>) -> Self {
        Self { zones, rates }
    }

    /// What an order to `destination` may ship by (only `method` when one is
    /// asked for) and the tax it owes. `destination` is `None` when the
    /// address's country is not a code.
    pub fn offer(
        &self,
        destination: Option<&Destination>,
        method: Option<ShippingMethodId>,
        flat: &PricingRules,
    ) -> Result<Offer<'_>, Refusal> {
        if destination.is_none() && !(self.zones.is_empty() && self.rates.is_empty()) {
            return Err(Refusal::UnknownCountry);
        }
        let shipments = match destination {
            _ if self.zones.is_empty() => {
                if method.is_some() {
                    return Err(Refusal::NoMethods);
                }
                vec![Shipment::Flat(flat.flat().shipping)]
            }
            None => return Err(Refusal::UnknownCountry),
            Some(destination) => {
                let served = self.shipments_to(destination);
                if served.is_empty() {
                    return Err(Refusal::NotServed);
                }
                match method {
                    None => served,
                    Some(wanted) => served
                        .into_iter()
                        .filter(|shipment| matches!(shipment, Shipment::Method { method, .. } if method.method_id == wanted))
                        .collect(),
                }
            }
        };
        Offer::new(shipments, self.tax_for(destination, flat)).ok_or(Refusal::MethodNotOffered)
    }

    /// Before the destination is known (the cart's own summary): the cheapest
    /// active method of any zone (the flat fee without zones), and no tax when
    /// the shop has rates (they depend on the destination).
    pub fn estimate(&self, flat: &PricingRules) -> Offer<'_> {
        let methods: Vec<Shipment<'_>> = self
            .zones
            .iter()
            .flat_map(|zone| active_methods(zone).map(move |method| Shipment::Method { zone, method }))
            .collect();
        let tax = if self.rates.is_empty() {
            Tax::Flat(flat.flat().tax)
        } else {
            Tax::Exempt
        };
        let fallback = Shipment::Flat(flat.flat().shipping);
        Offer::new(methods, tax).unwrap_or(Offer {
            first: fallback,
            others: Vec::new(),
            tax,
        })
    }

    /// The active methods of the zones that serve `destination` most closely.
    fn shipments_to(&self, destination: &Destination) -> Vec<Shipment<'_>> {
        let serving: Vec<(Match, &ShippingZoneRecord)> = self
            .zones
            .iter()
            .filter(|zone| active_methods(zone).next().is_some())
            .filter_map(|zone| zone_match(zone, destination).map(|closeness| (closeness, zone)))
            .collect();
        let Some(best) = serving.iter().map(|(closeness, _)| *closeness).max() else {
            return Vec::new();
        };
        serving
            .into_iter()
            .filter(|(closeness, _)| *closeness == best)
            .flat_map(|(_, zone)| active_methods(zone).map(move |method| Shipment::Method { zone, method }))
            .collect()
    }

    /// The rate of the destination's region, else of its country, else none;
    /// the flat rate when the shop has no rates.
    fn tax_for(&self, destination: Option<&Destination>, flat: &PricingRules) -> Tax<'_> {
        if self.rates.is_empty() {
            return Tax::Flat(flat.flat().tax);
        }
        destination
            .and_then(|destination| {
                self.rates
                    .iter()
                    .filter_map(|rate| rate_match(rate, destination).map(|closeness| (closeness, rate)))
                    .max_by_key(|(closeness, _)| *closeness)
            })
            .map_or(Tax::Exempt, |(_, rate)| Tax::Rate(rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CountryCode, RegionCode, TaxRateId, Timestamp, ZoneId};

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn method(name: &str, price: &str, free_above: Option<&str>, max_days: u32, active: bool) -> ShippingMethodRecord {
        ShippingMethodRecord {
            method_id: ShippingMethodId::generate(),
            name: name.into(),
            price: money(price),
            free_above: free_above.map(money),
            min_days: 1,
            max_days,
            active,
        }
    }

    fn zone(countries: &[&str], regions: &[&str], methods: Vec<ShippingMethodRecord>) -> ShippingZoneRecord {
        ShippingZoneRecord {
            zone_id: ZoneId::generate(),
            name: countries.join("+"),
            countries: countries.iter().map(|c| CountryCode::parse(c).unwrap()).collect(),
            regions: regions.iter().map(|r| RegionCode::parse(r).unwrap()).collect(),
            methods,
            version: 1,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    fn rate(name: &str, country: &str, region: Option<&str>, bps: u32, on_shipping: bool) -> TaxRateRecord {
        TaxRateRecord {
            rate_id: TaxRateId::generate(),
            name: name.into(),
            country: CountryCode::parse(country).unwrap(),
            region: region.map(|r| RegionCode::parse(r).unwrap()),
            rate_bps: bps,
            applies_to_shipping: on_shipping,
            version: 1,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    fn to(country: &str, region: Option<&str>) -> Destination {
        let country = CountryCode::parse(country).unwrap();
        Destination {
            country,
            region: region.map(|r| RegionCode::parse_within(country, r).unwrap()),
        }
    }

    fn names(quotes: &[Quote<'_>]) -> Vec<String> {
        quotes
            .iter()
            .map(|quote| match quote.shipment {
                Shipment::Method { method, .. } => method.name.clone(),
                Shipment::Flat(_) => "flat".into(),
            })
            .collect()
    }

    #[test]
    fn without_zones_or_rates_the_flat_terms_apply_everywhere() {
        let rules = DestinationRules::default();
        let flat = PricingRules::default();
        for destination in [Some(to("US", Some("NY"))), None] {
            let offer = rules.offer(destination.as_ref(), None, &flat).unwrap();
            let quote = offer.cheapest(money("199.98"), Money::ZERO);
            assert_eq!(quote.summary, flat.summarize(money("199.98"), Money::ZERO));
        }
        assert_eq!(
            rules.estimate(&flat).cheapest(money("10.00"), Money::ZERO).summary,
            flat.summarize(money("10.00"), Money::ZERO)
        );
        assert_eq!(
            rules.offer(None, Some(ShippingMethodId::generate()), &flat),
            Err(Refusal::NoMethods)
        );
    }

    #[test]
    fn zones_listing_the_region_beat_zones_serving_the_whole_country() {
        let rules = DestinationRules::new(
            vec![
                zone(&["US"], &[], vec![method("Ground", "5.99", None, 7, true)]),
                zone(
                    &["US"],
                    &["US-HI", "US-AK"],
                    vec![method("Island air", "24.00", None, 3, true)],
                ),
                zone(&["CA", "US"], &["US-NY"], vec![method("Metro", "3.00", None, 2, true)]),
            ],
            Vec::new(),
        );
        let flat = PricingRules::default();
        let quotes = |destination: Destination| {
            names(
                &rules
                    .offer(Some(&destination), None, &flat)
                    .unwrap()
                    .quotes(money("20.00"), Money::ZERO),
            )
        };
        assert_eq!(quotes(to("US", Some("HI"))), ["Island air"]);
        assert_eq!(quotes(to("US", Some("TX"))), ["Ground"]);
        assert_eq!(quotes(to("US", None)), ["Ground"]);
        assert_eq!(quotes(to("US", Some("NY"))), ["Metro"]);
        assert_eq!(
            quotes(to("CA", Some("ON"))),
            ["Metro"],
            "the zone names no region of CA"
        );
        assert_eq!(rules.offer(Some(&to("DE", None)), None, &flat), Err(Refusal::NotServed));
        assert_eq!(rules.offer(None, None, &flat), Err(Refusal::UnknownCountry));
    }

    #[test]
    fn inactive_methods_are_never_offered_and_a_zone_without_one_does_not_count() {
        let express = method("Express", "15.00", None, 2, false);
        let express_id = express.method_id;
        let rules = DestinationRules::new(
            vec![
                zone(&["US"], &[], vec![method("Ground", "5.99", None, 7, true), express]),
                zone(&["US"], &["US-NY"], vec![method("Courier", "9.00", None, 1, false)]),
            ],
            Vec::new(),
        );
        let flat = PricingRules::default();
        let ny = to("US", Some("NY"));
        let offer = rules.offer(Some(&ny), None, &flat).unwrap();
        assert_eq!(names(&offer.quotes(money("20.00"), Money::ZERO)), ["Ground"]);
        assert_eq!(
            rules.offer(Some(&ny), Some(express_id), &flat),
            Err(Refusal::MethodNotOffered)
        );
        assert_eq!(
            rules.offer(Some(&ny), Some(ShippingMethodId::generate()), &flat),
            Err(Refusal::MethodNotOffered)
        );
    }

    #[test]
    fn the_cheapest_method_for_the_cart_is_the_default_and_free_above_counts() {
        let standard = method("Standard", "4.99", Some("50.00"), 5, true);
        let express = method("Express", "12.00", None, 2, true);
        let courier = method("Courier", "4.99", None, 3, true);
        let rules = DestinationRules::new(vec![zone(&["US"], &[], vec![standard, express, courier])], Vec::new());
        let flat = PricingRules::default();
        let us = to("US", None);
        let offer = rules.offer(Some(&us), None, &flat).unwrap();
        assert_eq!(
            names(&offer.quotes(money("20.00"), Money::ZERO)),
            ["Courier", "Standard", "Express"],
            "equal prices: the faster first"
        );
        let free = offer.cheapest(money("60.00"), Money::ZERO);
        assert_eq!(names(&[free]), ["Standard"]);
        assert_eq!(free.summary.shipping, Money::ZERO);
        let discounted = offer.cheapest(money("60.00"), money("15.00"));
        assert_eq!(
            discounted.summary.shipping,
            money("4.99"),
            "the threshold is on the discounted subtotal"
        );
    }

    #[test]
    fn the_region_rate_beats_the_country_rate_and_no_match_is_no_tax() {
        let rules = DestinationRules::new(
            Vec::new(),
            vec![
                rate("US", "US", None, 500, false),
                rate("NY sales tax", "US", Some("US-NY"), 888, true),
            ],
        );
        let flat = PricingRules::default();
        let tax = |destination: Option<Destination>| {
            let offer = rules.offer(destination.as_ref(), None, &flat);
            offer.map(|offer| offer.cheapest(money("100.00"), Money::ZERO).summary.tax)
        };
        assert_eq!(tax(Some(to("US", Some("NY")))), Ok(money("9.76")), "8.88 % of 110.00");
        assert_eq!(tax(Some(to("US", Some("NJ")))), Ok(money("5.00")));
        assert_eq!(tax(Some(to("US", None))), Ok(money("5.00")));
        assert_eq!(tax(Some(to("DE", None))), Ok(Money::ZERO));
        assert_eq!(tax(None), Err(Refusal::UnknownCountry));
        let estimate = rules.estimate(&flat).cheapest(money("100.00"), Money::ZERO);
        assert_eq!(
            (estimate.summary.tax, estimate.summary.shipping),
            (Money::ZERO, money("10.00"))
        );
    }

    #[test]
    fn the_estimate_quotes_the_cheapest_method_anywhere() {
        let rules = DestinationRules::new(
            vec![
                zone(&["US"], &[], vec![method("Ground", "5.99", None, 7, true)]),
                zone(
                    &["DE"],
                    &[],
                    vec![
                        method("DHL", "3.50", None, 4, true),
                        method("Off", "0.00", None, 9, false),
                    ],
                ),
            ],
            Vec::new(),
        );
        let flat = PricingRules::default();
        let estimate = rules.estimate(&flat).cheapest(money("199.98"), Money::ZERO);
        assert_eq!(
            (estimate.summary.shipping, estimate.summary.tax),
            (money("3.50"), money("15.99"))
        );
    }
}
