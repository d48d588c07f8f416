//! The single DynamoDB table: keys, item conversion and every access pattern.
//! See [`keys`] for the access-pattern table.

pub mod cart;
pub mod categories;
pub mod coupons;
pub mod imports;
pub mod keys;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod reports;
pub mod reviews;
pub mod shipping;
pub mod stock;
pub mod table;
pub mod users;
pub mod wishlist;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use table::{Expr, Query, Transaction, TxError};

use crate::http::ApiError;
pub use keys::Key;

pub type Item = HashMap<String, AttributeValue>;

/// Why a store call failed. Conditional failures are outcomes the caller maps to
/// domain errors; everything else is infrastructure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a condition of the write was not met")]
    ConditionFailed,
    /// One reason code per item of the transaction (`None`, `ConditionalCheckFailed`, …).
    #[error("transaction cancelled: {0:?}")]
    TransactionCancelled(Vec<String>),
    #[error("DynamoDB is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("DynamoDB request failed")]
    Request(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("stored item does not match its record type")]
    Malformed(#[from] serde_dynamo::Error),
}

impl StoreError {
    /// True when a concurrent transaction touched the same items.
    pub fn is_transaction_conflict(&self) -> bool {
        matches!(self, Self::TransactionCancelled(reasons) if reasons.iter().any(|r| r == "TransactionConflict"))
    }
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        if matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
            return Self::Unavailable(Box::new(error));
        }
        use aws_sdk_dynamodb::Error as E2;
        match aws_sdk_dynamodb::Error::from(error) {
            E2::ConditionalCheckFailedException(_) => Self::ConditionFailed,
            E2::TransactionCanceledException(cancelled) => Self::TransactionCancelled(
                cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().unwrap_or("None").to_owned())
                    .collect(),
            ),
            other @ (E2::ProvisionedThroughputExceededException(_)
            | E2::RequestLimitExceeded(_)
            | E2::ThrottlingException(_)
            | E2::InternalServerError(_)
            | E2::TransactionInProgressException(_)) => Self::Unavailable(Box::new(other)),
            other => Self::Request(Box::new(other)),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => ApiError::unavailable(error),
            StoreError::TransactionCancelled(_) if error.is_transaction_conflict() => ApiError::unavailable(error),
            _ => ApiError::internal(error),
        }
    }
}

/// The table and its client; one per execution environment.
#[derive(Debug, Clone)]
pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table the configuration names.
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(clients.dynamodb().clone(), &config.table_name)
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// `record` serialised with its primary key (and any index keys) added.
pub fn to_item<T: Serialize>(key: &Key, record: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record)?;
    key.write_into(&mut item);
    Ok(item)
}

/// A uniqueness marker (email, slug, SKU, …) owned by `owner`.
pub fn marker_item(key: &Key, owner: &str) -> Result<Item, StoreError> {
    #[derive(Serialize)]
    struct Marker<'a> {
        owner: &'a str,
    }
    to_item(key, &Marker { owner })
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

pub fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
