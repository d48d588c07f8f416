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
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("dynamodb", &self.dynamodb)
            .field("sqs", &self.sqs)
            .field("secrets_manager", &self.secrets_manager)
            .field("stripe", &self.stripe)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub secrets: SecretIds,
    pub queues: QueueUrls,
    pub smtp: SmtpSettings,
    pub endpoints: Endpoints,
    pub stage: String,
    pub catalog: CatalogSettings,
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
            },
            endpoints: Endpoints {
                dynamodb: optional("DYNAMODB_ENDPOINT"),
                sqs: optional("SQS_ENDPOINT"),
                secrets_manager: optional("SECRETSMANAGER_ENDPOINT"),
                stripe: optional("STRIPE_API_BASE"),
            },
            stage: optional("STAGE").unwrap_or_else(|| "dev".to_owned()),
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
    fn endpoint_overrides_are_optional() {
        let env = full();
        let config = Config::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(config.endpoints, Endpoints::default());
        assert_eq!(config.smtp.port, 2525);
    }
}
