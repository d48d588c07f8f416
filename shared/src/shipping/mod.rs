//! Shipping and tax by destination: the zones and methods an admin sets up,
//! the tax rates by country and region, and which of them an order gets.
//!
//! Zones and rates are few and change rarely, so every function that prices
//! orders reads them all in one Query and keeps them for a while
//! ([`RulesCache`]): a warm cart read or checkout spends no round trip on them.

mod admin;
mod rules;
mod views;

pub use admin::{ShippingAdmin, TaxRateInput, ZoneInput};
pub use rules::{DestinationRules, Offer, Quote, Refusal, Shipment, Tax};
pub use views::{AppliedTaxView, ShippingOptionView, ShippingOptionsView, TaxRateView, ZoneView};

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use crate::cache::Cached;
use crate::http::ApiError;
use crate::store::Store;

/// The cached rules of each table. In AWS a process is one warm function;
/// the local runner serves every function from one process, where an admin's
/// change is then seen at once by carts and checkouts too.
static CACHES: LazyLock<Mutex<HashMap<String, Arc<Cached<DestinationRules>>>>> = LazyLock::new(Default::default);

/// The zones and rates as this process last read them, for `ttl`.
#[derive(Debug, Clone)]
pub struct RulesCache {
    store: Store,
    ttl: Duration,
    rules: Arc<Cached<DestinationRules>>,
}

impl RulesCache {
    pub fn new(store: Store, ttl: Duration) -> Self {
        let rules = CACHES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(store.table().to_owned())
            .or_insert_with(|| Arc::new(Cached::new()))
            .clone();
        Self { store, ttl, rules }
    }

    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(Store::from_config(config, clients), config.commerce.rules_cache)
    }

    /// The zones and rates, from the cache when fresh (otherwise one Query).
    pub async fn current(&self) -> Result<Arc<DestinationRules>, ApiError> {
        let load = async {
            let (zones, rates) = self.store.destination_rules().await?;
            Ok(DestinationRules::new(zones, rates))
        };
        self.rules.get_or_load(self.ttl, load).await
    }

    /// Forgets the cached rules after this process changed them.
    pub async fn forget(&self) {
        self.rules.forget().await;
    }
}
