//! Catalog imports: one record per file (its counts, where the importer got to
//! and who holds it), and one item per refused row.

use serde::{Deserialize, Serialize};

use super::keys::{self, Index};
use super::table::{Expr, Query};
use super::{Store, StoreError, from_item, number, to_item};
use crate::catalog::sheet::RowIssue;
use crate::domain::{Email, ImportId, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportStatus {
    /// Waiting for the file at the upload URL.
    AwaitingUpload,
    /// On the importer's queue.
    Queued,
    Running,
    Completed,
    /// The file itself could not be read (see `failure`); no row was applied.
    Failed,
}

impl ImportStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRecord {
    pub import_id: ImportId,
    pub status: ImportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Where the file is in the imports bucket (inline imports keep none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    pub created_by: UserId,
    pub created_by_email: Email,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Data rows and products of the file, once it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products_total: Option<u64>,
    pub rows_done: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// The first product of the file not yet applied (the checkpoint).
    pub next_product: u64,
    /// Why the file could not be read, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<RowIssue>,
    /// The importer run that holds the record, and until when (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    #[serde(default)]
    pub lease_until: i64,
    /// Bumped by every write; a write is conditioned on the revision it read.
    pub revision: u64,
}

impl Store {
    /// Writes a new import record (`expected` = `None`) or replaces the one at
    /// revision `expected`; the record's own revision must be the next one.
    /// `false` when another write came first.
    pub async fn put_import(&self, record: &ImportRecord, expected: Option<u64>) -> Result<bool, StoreError> {
        let condition = match expected {
            None => Expr::absent(),
            Some(revision) => Expr::new("#revision = :expected")
                .name("#revision", "revision")
                .value(":expected", number(revision)),
        };
        match self
            .put(to_item(&keys::import(record.import_id), record)?, Some(condition))
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => {
                // A retried request whose first attempt was applied fails its
                // condition against its own write: that is a success.
                let stored = self.import(record.import_id).await?;
                Ok(stored.as_ref() == Some(record))
            }
            Err(err) => Err(err),
        }
    }

    pub async fn import(&self, id: ImportId) -> Result<Option<ImportRecord>, StoreError> {
        self.read(&keys::import_key(id)).await
    }

    /// Records the refused rows of a chunk (a rerun writes the same items again).
    pub async fn put_import_errors(&self, id: ImportId, issues: &[RowIssue]) -> Result<(), StoreError> {
        // One item per row: a row's several issues share it.
        let mut by_row: std::collections::BTreeMap<u64, Vec<&RowIssue>> = std::collections::BTreeMap::new();
        for issue in issues {
            by_row.entry(issue.row).or_default().push(issue);
        }
        let items = by_row
            .into_iter()
            .map(|(row, issues)| {
                #[derive(Serialize)]
                struct RowIssues<'a> {
                    issues: Vec<&'a RowIssue>,
                }
                to_item(&keys::import_error(id, row), &RowIssues { issues })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.put_items(items).await
    }

    /// A page of the refused rows, in row order, and how many rows were refused.
    pub async fn import_errors(&self, id: ImportId, page: u32, limit: u32) -> Result<(Vec<RowIssue>, u64), StoreError> {
        #[derive(Deserialize)]
        struct RowIssues {
            issues: Vec<RowIssue>,
        }
        let query = Query::table(keys::import_partition(id)).begins_with(keys::IMPORT_ERROR_PREFIX);
        let (rows, total) = self.query_page_records::<RowIssues>(&query, page, limit).await?;
        Ok((rows.into_iter().flat_map(|r| r.issues).collect(), total))
    }

    /// A page of every import, newest first.
    pub async fn imports(&self, page: u32, limit: u32) -> Result<(Vec<ImportRecord>, u64), StoreError> {
        let query = Query::index(Index::Gsi1, keys::ALL_IMPORTS).descending();
        let (items, total) = self.query_page(&query, page, limit).await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, total))
    }
}
