//! The single DynamoDB table: keys, item conversion and every access pattern.
//! See [`keys`] for the access-pattern table.

pub mod cart;
pub mod catalog;
pub mod keys;
pub mod notifications;
pub mod orders;
pub mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

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
    /// True when the transaction item at `index` failed its condition.
    pub fn failed_condition_at(&self, index: usize) -> bool {
        matches!(self, Self::TransactionCancelled(reasons) if reasons.get(index).is_some_and(|r| r == "ConditionalCheckFailed"))
    }

    /// True when some item after `index` failed its condition.
    pub fn failed_condition_after(&self, index: usize) -> bool {
        matches!(self, Self::TransactionCancelled(reasons) if reasons.iter().skip(index + 1).any(|r| r == "ConditionalCheckFailed"))
    }

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

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// The item at `key` (a strongly consistent read), if there is one.
    pub async fn read<T: DeserializeOwned>(&self, key: &keys::Key) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.primary()))
            .consistent_read(true)
            .send()
            .await?;
        output.item.map(from_item).transpose()
    }

    /// Runs `items` as one transaction. `labels` name what each item is, in order,
    /// and come back beside any error so the caller can tell which item failed.
    pub async fn transact_labelled<L: Clone>(
        &self,
        items: Result<Vec<aws_sdk_dynamodb::types::TransactWriteItem>, StoreError>,
        labels: &[L],
    ) -> Result<(), (StoreError, Vec<L>)> {
        let items = items.map_err(|err| (err, labels.to_vec()))?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|err| (StoreError::from(err), labels.to_vec()))?;
        Ok(())
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

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

pub fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
