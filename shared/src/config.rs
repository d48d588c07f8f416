//! Typed configuration, read once per cold start from environment variables
//! (the names are those of `template.yaml`).

use std::fmt;

/// Names a missing or malformed variable so a failed cold start says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Endpoint overrides that point the AWS SDK and Stripe at local emulators.
/// All are `None` in AWS.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub dynamodb: Option<String>,
    pub sqs: Option<String>,
    pub secrets_manager: Option<String>,
    pub stripe: Option<String>,
    pub s3: Option<String>,
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("dynamodb", &self.dynamodb)
            .field("sqs", &self.sqs)
            .field("secrets_manager", &self.secrets_manager)
            .field("stripe", &self.stripe)
            .field("s3", &self.s3)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
    /// `starttls` (default), `tls` or `none` (the local sink).
    pub security: String,
    /// Where links in mails point (password reset, orders).
    pub storefront_url: String,
    pub shop_name: String,
    /// Operations alerts (low stock) go here.
    pub alert_email: String,
}

/// Identifiers of the secrets in Secrets Manager (their values are fetched lazily, see [`crate::secrets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretIds {
    pub jwt_access: String,
    pub jwt_refresh: String,
    pub stripe: String,
    pub smtp: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub inventory: String,
    pub fulfillment: String,
    pub notifications: String,
}

/// Catalog behaviour that operators tune without a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSettings {
    pub price_buckets: Vec<crate::catalog::search::PriceBucket>,
    pub category_cache: std::time::Duration,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            price_buckets: crate::catalog::search::parse_price_buckets(Self::DEFAULT_BUCKETS).unwrap_or_default(),
            category_cache: std::time::Duration::from_secs(60),
        }
    }
}

impl CatalogSettings {
    pub const DEFAULT_BUCKETS: &'static str = "0-25,25-50,50-100,100-250,250-500,500-";
}

/// Money and time rules of carts, checkout and reservations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommerceSettings {
    pub pricing: crate::domain::PricingRules,
    pub currency: String,
    /// How long reserved stock waits for payment.
    pub reservation_ttl: std::time::Duration,
    /// After this long without a reservation, the sweeper sends the reservation message again.
    pub redrive_after: std::time::Duration,
    pub delivery_days: i64,
    pub guest_cart_ttl: std::time::Duration,
    pub customer_cart_ttl: std::time::Duration,
    /// How long a warm function reuses the shipping zones and tax rates it read.
    pub rules_cache: std::time::Duration,
}

impl Default for CommerceSettings {
    fn default() -> Self {
        Self {
            pricing: crate::domain::PricingRules::default(),
            currency: "USD".to_owned(),
            reservation_ttl: std::time::Duration::from_secs(15 * 60),
            redrive_after: std::time::Duration::from_secs(2 * 60),
            delivery_days: 5,
            guest_cart_ttl: std::time::Duration::from_secs(7 * 24 * 3600),
            customer_cart_ttl: std::time::Duration::from_secs(30 * 24 * 3600),
            rules_cache: std::time::Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub secrets: SecretIds,
    pub queues: QueueUrls,
    pub smtp: SmtpSettings,
    pub endpoints: Endpoints,
    pub stage: String,
    pub catalog: CatalogSettings,
    pub commerce: CommerceSettings,
    pub imports: ImportSettings,
    /// Whether a cold start opens the table's connection and fetches the
    /// function's secrets before the first request (`WARM_UP_AT_INIT`, default true).
    pub warm_up: bool,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            bucket: None,
            queue_url: None,
            run_budget: std::time::Duration::from_secs(600),
        }
    }
}

/// Where catalog import files wait (S3) and the queue of the importer. Only
/// `admin-api` and `catalog-importer` use them; elsewhere they may be unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSettings {
    pub bucket: Option<String>,
    pub queue_url: Option<String>,
    /// How long one importer run applies products before it hands the rest
    /// of the file to a continuation message (well inside the function's timeout).
    pub run_budget: std::time::Duration,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so the local runner can supply the
    /// values it resolved from the template without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let optional = |name: &'static str| lookup(name).filter(|value| !value.trim().is_empty());
        let smtp_port = required("SMTP_PORT")?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            secrets: SecretIds {
                jwt_access: required("JWT_ACCESS_SECRET_ID")?,
                jwt_refresh: required("JWT_REFRESH_SECRET_ID")?,
                stripe: required("STRIPE_SECRET_ID")?,
                smtp: required("SMTP_SECRET_ID")?,
            },
            queues: QueueUrls {
                inventory: required("INVENTORY_QUEUE_URL")?,
                fulfillment: required("FULFILLMENT_QUEUE_URL")?,
                notifications: required("NOTIFICATIONS_QUEUE_URL")?,
            },
            smtp: SmtpSettings {
                host: required("SMTP_HOST")?,
                port: smtp_port.parse().map_err(|_| ConfigError::Invalid {
                    name: "SMTP_PORT",
                    reason: format!("{smtp_port:?} is not a port number"),
                })?,
                from: required("MAIL_FROM")?,
                security: optional("SMTP_SECURITY").unwrap_or_else(|| "starttls".to_owned()),
                storefront_url: optional("STOREFRONT_URL").unwrap_or_else(|| "http://localhost:3000".to_owned()),
                shop_name: optional("SHOP_NAME").unwrap_or_else(|| "Shop".to_owned()),
                alert_email: optional("ALERT_EMAIL").unwrap_or_else(|| "operations@example.com".to_owned()),
            },
            endpoints: Endpoints {
                dynamodb: optional("DYNAMODB_ENDPOINT"),
                sqs: optional("SQS_ENDPOINT"),
                secrets_manager: optional("SECRETSMANAGER_ENDPOINT"),
                stripe: optional("STRIPE_API_BASE"),
                s3: optional("S3_ENDPOINT"),
            },
            warm_up: !optional("WARM_UP_AT_INIT").is_some_and(|v| v.trim().eq_ignore_ascii_case("false")),
            imports: ImportSettings {
                bucket: optional("IMPORTS_BUCKET"),
                queue_url: optional("IMPORTS_QUEUE_URL"),
                run_budget: match optional("IMPORT_RUN_SECONDS") {
                    Some(text) => {
                        std::time::Duration::from_secs(text.trim().parse().map_err(|_| ConfigError::Invalid {
                            name: "IMPORT_RUN_SECONDS",
                            reason: format!("{text:?} is not a number of seconds"),
                        })?)
                    }
                    None => ImportSettings::default().run_budget,
                },
            },
            stage: optional("STAGE").unwrap_or_else(|| "dev".to_owned()),
            commerce: commerce(&optional)?,
            catalog: CatalogSettings {
                price_buckets: match optional("PRICE_FACET_BUCKETS") {
                    Some(text) => {
                        crate::catalog::search::parse_price_buckets(&text).map_err(|reason| ConfigError::Invalid {
                            name: "PRICE_FACET_BUCKETS",
                            reason,
                        })?
                    }
                    None => CatalogSettings::default().price_buckets,
                },
                category_cache: match optional("CATEGORY_CACHE_SECONDS") {
                    Some(text) => {
                        std::time::Duration::from_secs(text.trim().parse().map_err(|_| ConfigError::Invalid {
                            name: "CATEGORY_CACHE_SECONDS",
                            reason: format!("{text:?} is not a number of seconds"),
                        })?)
                    }
                    None => CatalogSettings::default().category_cache,
                },
            },
        })
    }
}

/// Reads the commerce settings; every one has a default.
fn commerce(optional: &impl Fn(&'static str) -> Option<String>) -> Result<CommerceSettings, ConfigError> {
    let defaults = CommerceSettings::default();
    let money = |name: &'static str, default: Option<crate::domain::Money>| match optional(name) {
        None => Ok(default),
        Some(text) if text.trim().eq_ignore_ascii_case("none") => Ok(None),
        Some(text) => crate::domain::Money::parse(&text)
            .map(Some)
            .map_err(|e| ConfigError::Invalid {
                name,
                reason: format!("{text:?} {e}"),
            }),
    };
    let number = |name: &'static str, default: u64| match optional(name) {
        None => Ok(default),
        Some(text) => text.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("{text:?} is not a whole number"),
        }),
    };
    let minutes = |name: &'static str, default: std::time::Duration| {
        number(name, default.as_secs() / 60).map(|m| std::time::Duration::from_secs(m * 60))
    };
    Ok(CommerceSettings {
        pricing: crate::domain::PricingRules {
            tax_bps: u32::try_from(number("TAX_RATE_BPS", u64::from(defaults.pricing.tax_bps))?).unwrap_or(u32::MAX),
            shipping_fee: money("SHIPPING_FEE", Some(defaults.pricing.shipping_fee))?.unwrap_or_default(),
            free_shipping_over: money("FREE_SHIPPING_THRESHOLD", defaults.pricing.free_shipping_over)?,
        },
        currency: optional("CURRENCY")
            .map(|c| c.trim().to_uppercase())
            .unwrap_or(defaults.currency),
        reservation_ttl: minutes("RESERVATION_MINUTES", defaults.reservation_ttl)?,
        redrive_after: minutes("PENDING_REDRIVE_MINUTES", defaults.redrive_after)?,
        delivery_days: i64::try_from(number("DELIVERY_DAYS", 5)?).unwrap_or(5),
        guest_cart_ttl: defaults.guest_cart_ttl,
        customer_cart_ttl: defaults.customer_cart_ttl,
        rules_cache: std::time::Duration::from_secs(number(
            "PRICING_RULES_CACHE_SECONDS",
            defaults.rules_cache.as_secs(),
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("TABLE_NAME", "shop"),
            ("JWT_ACCESS_SECRET_ID", "a"),
            ("JWT_REFRESH_SECRET_ID", "r"),
            ("STRIPE_SECRET_ID", "s"),
            ("SMTP_SECRET_ID", "m"),
            ("INVENTORY_QUEUE_URL", "q1"),
            ("FULFILLMENT_QUEUE_URL", "q2"),
            ("NOTIFICATIONS_QUEUE_URL", "q3"),
            ("SMTP_HOST", "localhost"),
            ("SMTP_PORT", "2525"),
            ("MAIL_FROM", "shop@example.com"),
        ])
    }

    #[test]
    fn a_missing_variable_is_named() {
        let mut env = full();
        env.remove("NOTIFICATIONS_QUEUE_URL");
        let err = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap_err();
        assert_eq!(err.to_string(), "missing environment variable NOTIFICATIONS_QUEUE_URL");
    }

    #[test]
    fn a_bad_port_is_named() {
        let mut env = full();
        env.insert("SMTP_PORT", "smtp");
        let err = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap_err();
        assert!(err.to_string().contains("SMTP_PORT"));
    }

    #[test]
    fn bad_price_buckets_are_named() {
        let mut env = full();
        env.insert("PRICE_FACET_BUCKETS", "cheap");
        let err = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap_err();
        assert!(err.to_string().contains("PRICE_FACET_BUCKETS"), "{err}");
    }

    #[test]
    fn commerce_settings_default_and_name_bad_values() {
        let mut env = full();
        let config = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(config.commerce.pricing.tax_bps, 800);
        assert_eq!(config.commerce.rules_cache, std::time::Duration::from_secs(60));
        env.insert("SHIPPING_FEE", "ten");
        let err = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap_err();
        assert!(err.to_string().contains("SHIPPING_FEE"), "{err}");
    }

    #[test]
    fn endpoint_overrides_are_optional() {
        let env = full();
        let config = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(config.endpoints, Endpoints::default());
        assert_eq!(config.smtp.port, 2525);
    }
}
