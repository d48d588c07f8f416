//! Catalog import and export: what `admin-api` and `catalog-importer` do.
//!
//! A small file posted to the API is applied at once; a large one, or one put
//! at a presigned S3 URL, becomes a job on the imports queue. The importer
//! claims the job with a lease, applies the file's products in chunks and
//! saves a checkpoint after each, so a redelivered or continued message
//! resumes where the last run stopped and a file applied twice changes
//! nothing the second time.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::aws::AwsClients;
use crate::catalog::Catalog;
use crate::catalog::import::{LineError, Outcome};
use crate::catalog::sheet::{self, RowIssue, Sheet};
use crate::domain::{ImportId, ProductStatus, Role, Sku, Timestamp};
use crate::http::{ApiError, ErrorCode};
use crate::pagination::{PageRequest, Pagination};
use crate::store::imports::{ImportRecord, ImportStatus};

/// Files with at most this many products are applied within the request.
pub const INLINE_PRODUCTS: usize = 100;
/// The largest file accepted (inline bodies are bounded by API Gateway first).
pub const MAX_FILE_BYTES: i64 = 50 * 1024 * 1024;
/// Products applied between two checkpoints.
const CHUNK: usize = 25;
/// How long an importer run holds a job before another may take it over.
const LEASE: Duration = Duration::from_secs(15 * 60);
/// How long an upload URL stays valid.
const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
/// The first page of refused rows, shown with a new import.
const FIRST_ERRORS: PageRequest = PageRequest { page: 1, limit: 20 };
/// Products per export page: the default and the most.
pub const EXPORT_PAGE: usize = 1000;
pub const EXPORT_MAX_PAGE: usize = 5000;

/// The importer's queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportMessage {
    pub import_id: ImportId,
}

/// An import as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportView {
    pub import_id: ImportId,
    pub status: ImportStatus,
    pub filename: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub rows_total: Option<u64>,
    pub rows_done: u64,
    pub products_total: Option<u64>,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub failure: Option<RowIssue>,
}

impl From<&ImportRecord> for ImportView {
    fn from(record: &ImportRecord) -> Self {
        Self {
            import_id: record.import_id,
            status: record.status,
            filename: record.filename.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            finished_at: record.finished_at,
            rows_total: record.rows_total,
            rows_done: record.rows_done,
            products_total: record.products_total,
            created: record.created,
            updated: record.updated,
            unchanged: record.unchanged,
            failed: record.failed,
            failure: record.failure.clone(),
        }
    }
}

/// An import with a page of the rows it refused.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub import: ImportView,
    pub errors: Vec<RowIssue>,
    pub pagination: Pagination,
}

/// Where to put the file of a new import.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    pub import: ImportView,
    pub upload_url: String,
    pub upload_method: &'static str,
    pub upload_expires_at: Timestamp,
}

/// A page of the catalog as CSV, and where the next one starts.
#[derive(Debug)]
pub struct ExportPage {
    pub csv: Vec<u8>,
    pub products: usize,
    pub next_cursor: Option<String>,
}

#[derive(Debug)]
pub struct Imports {
    catalog: Catalog,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    bucket: Option<String>,
    queue_url: Option<String>,
    /// How long one importer run goes on before it hands the rest of the file
    /// to a continuation message.
    pub run_budget: Duration,
}

impl Imports {
    pub fn from_config(config: &crate::Config, clients: &AwsClients) -> Self {
        Self {
            catalog: Catalog::from_config(config, clients),
            s3: clients.s3(),
            sqs: clients.sqs().clone(),
            bucket: config.imports.bucket.clone(),
            queue_url: config.imports.queue_url.clone(),
            run_budget: config.imports.run_budget,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn bucket(&self) -> Result<&str, ApiError> {
        self.bucket
            .as_deref()
            .ok_or_else(|| ApiError::internal("IMPORTS_BUCKET is not set"))
    }

    fn queue_url(&self) -> Result<&str, ApiError> {
        self.queue_url
            .as_deref()
            .ok_or_else(|| ApiError::internal("IMPORTS_QUEUE_URL is not set"))
    }

    fn new_record(caller: &Caller, filename: Option<String>, status: ImportStatus) -> ImportRecord {
        let now = Timestamp::now();
        let import_id = ImportId::generate();
        ImportRecord {
            import_id,
            status,
            filename,
            object_key: Some(format!("imports/{import_id}.csv")),
            created_by: caller.user_id,
            created_by_email: caller.email.clone(),
            created_at: now,
            updated_at: now,
            finished_at: None,
            rows_total: None,
            products_total: None,
            rows_done: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            next_product: 0,
            failure: None,
            lease_owner: None,
            lease_until: 0,
            revision: 1,
        }
    }

    /// A file posted to the API: applied now when it is small (the finished
    /// report, `true`), otherwise stored and queued (`false`).
    #[tracing::instrument(skip_all)]
    pub async fn import_file(
        &self,
        caller: &Caller,
        filename: Option<String>,
        body: &[u8],
    ) -> Result<(ImportReport, bool), ApiError> {
        caller.require_admin()?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid_field("body", "must be a CSV file with a header row"));
        }
        let sheet = sheet::read(body).map_err(|issue| file_error(&issue))?;
        if sheet.groups.is_empty() {
            return Err(ApiError::invalid_field("body", "the file has a header but no rows"));
        }
        if sheet.groups.len() > INLINE_PRODUCTS {
            let mut record = Self::new_record(caller, filename, ImportStatus::Queued);
            self.s3
                .put_object()
                .bucket(self.bucket()?)
                .key(record.object_key.as_deref().unwrap_or_default())
                .content_type("text/csv")
                .body(body.to_vec().into())
                .send()
                .await
                .map_err(ApiError::unavailable)?;
            record.rows_total = Some(sheet.rows);
            record.products_total = Some(sheet.groups.len() as u64);
            self.catalog.store.put_import(&record, None).await?;
            self.enqueue(record.import_id).await?;
            tracing::info!(importId = %record.import_id, products = sheet.groups.len(), "import queued");
            return Ok((self.report_of(&record, FIRST_ERRORS).await?, false));
        }
        let mut record = Self::new_record(caller, filename, ImportStatus::Running);
        record.object_key = None;
        record.rows_total = Some(sheet.rows);
        record.products_total = Some(sheet.groups.len() as u64);
        let owner = lease_owner();
        record.lease_owner = Some(owner.clone());
        record.lease_until = lease_end();
        self.catalog.store.put_import(&record, None).await?;
        let record = match self.apply(record.clone(), &sheet, &owner, None).await {
            Ok(record) => record,
            Err(error) => {
                // The products before the failure are applied; posting the
                // file again applies the rest and leaves those unchanged.
                let latest = self.catalog.store.import(record.import_id).await.ok().flatten();
                if let Some(latest) = latest {
                    let failure = RowIssue::new(
                        1,
                        None,
                        format!(
                            "stopped after {} of {} products ({}): post the file again",
                            latest.next_product,
                            sheet.groups.len(),
                            error.message
                        ),
                    );
                    if let Err(err) = self.fail(latest, failure, &owner).await {
                        tracing::error!(error = %err.message, "import not marked failed");
                    }
                }
                return Err(error);
            }
        };
        Ok((self.report_of(&record, FIRST_ERRORS).await?, true))
    }

    /// A new import waiting for its file at a presigned S3 URL (PUT), then
    /// [`Self::submit`] queues it.
    pub async fn start_upload(&self, caller: &Caller, filename: Option<String>) -> Result<UploadTicket, ApiError> {
        caller.require_admin()?;
        let record = Self::new_record(caller, filename, ImportStatus::AwaitingUpload);
        let presigning =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(UPLOAD_URL_TTL).map_err(ApiError::internal)?;
        let request = self
            .s3
            .put_object()
            .bucket(self.bucket()?)
            .key(record.object_key.as_deref().unwrap_or_default())
            .content_type("text/csv")
            .presigned(presigning)
            .await
            .map_err(ApiError::internal)?;
        self.catalog.store.put_import(&record, None).await?;
        Ok(UploadTicket {
            import: ImportView::from(&record),
            upload_url: request.uri().to_owned(),
            upload_method: "PUT",
            upload_expires_at: record.created_at.plus_seconds(UPLOAD_URL_TTL.as_secs() as i64),
        })
    }

    /// Queues an uploaded file (again, for a queued import whose message was lost).
    #[tracing::instrument(skip_all)]
    pub async fn submit(&self, caller: &Caller, id: ImportId) -> Result<ImportView, ApiError> {
        caller.require_admin()?;
        let mut record = self.record(id).await?;
        match record.status {
            ImportStatus::AwaitingUpload => {
                let head = self
                    .s3
                    .head_object()
                    .bucket(self.bucket()?)
                    .key(record.object_key.as_deref().unwrap_or_default())
                    .send()
                    .await;
                let size = match head {
                    Ok(head) => head.content_length.unwrap_or(0),
                    Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                        return Err(ApiError::new(
                            ErrorCode::InvalidInput,
                            "Nothing was uploaded yet: PUT the file at the upload URL first",
                        )
                        .with_details(serde_json::json!([{"field": "file", "message": "not uploaded"}])));
                    }
                    Err(err) => return Err(ApiError::unavailable(err)),
                };
                if size > MAX_FILE_BYTES {
                    return Err(ApiError::invalid_field(
                        "file",
                        format!("is {size} bytes; the most is {MAX_FILE_BYTES}"),
                    ));
                }
                let expected = record.revision;
                record.status = ImportStatus::Queued;
                record.updated_at = Timestamp::now();
                record.revision += 1;
                if !self.catalog.store.put_import(&record, Some(expected)).await? {
                    return Err(ApiError::stale_version());
                }
            }
            ImportStatus::Queued => {}
            ImportStatus::Running | ImportStatus::Completed | ImportStatus::Failed => {
                return Ok(ImportView::from(&record));
            }
        }
        self.enqueue(id).await?;
        Ok(ImportView::from(&record))
    }

    async fn enqueue(&self, import_id: ImportId) -> Result<(), ApiError> {
        let body = serde_json::to_string(&ImportMessage { import_id }).map_err(ApiError::internal)?;
        self.sqs
            .send_message()
            .queue_url(self.queue_url()?)
            .message_body(body)
            .send()
            .await
            .map_err(ApiError::unavailable)?;
        Ok(())
    }

    async fn record(&self, id: ImportId) -> Result<ImportRecord, ApiError> {
        self.catalog
            .store
            .import(id)
            .await?
            .ok_or_else(|| ApiError::not_found("Import"))
    }

    /// The import and a page of the rows it refused.
    pub async fn report(&self, caller: &Caller, id: ImportId, page: PageRequest) -> Result<ImportReport, ApiError> {
        caller.require_admin()?;
        let record = self.record(id).await?;
        self.report_of(&record, page).await
    }

    async fn report_of(&self, record: &ImportRecord, page: PageRequest) -> Result<ImportReport, ApiError> {
        let (errors, total) = self
            .catalog
            .store
            .import_errors(record.import_id, page.page, page.limit)
            .await?;
        Ok(ImportReport {
            import: ImportView::from(record),
            errors,
            pagination: Pagination::new(page, total),
        })
    }

    /// Every import, newest first.
    pub async fn list(&self, caller: &Caller, page: PageRequest) -> Result<(Vec<ImportView>, Pagination), ApiError> {
        caller.require_admin()?;
        let (records, total) = self.catalog.store.imports(page.page, page.limit).await?;
        Ok((
            records.iter().map(ImportView::from).collect(),
            Pagination::new(page, total),
        ))
    }

    /// The importer: claims the job, reads the file and applies what is left of it.
    #[tracing::instrument(skip_all, fields(importId = %message.import_id))]
    pub async fn run(&self, message: &ImportMessage) -> Result<(), ApiError> {
        let Some(mut record) = self.catalog.store.import(message.import_id).await? else {
            tracing::warn!("no such import: message dropped");
            return Ok(());
        };
        match record.status {
            ImportStatus::Queued | ImportStatus::Running => {}
            ImportStatus::AwaitingUpload | ImportStatus::Completed | ImportStatus::Failed => {
                tracing::info!(status = ?record.status, "nothing to do for this import");
                return Ok(());
            }
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if record.lease_owner.is_some() && record.lease_until > now {
            // Another run holds it: this message comes back after its visibility timeout.
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "another importer run holds this import",
            ));
        }
        let owner = lease_owner();
        let expected = record.revision;
        record.status = ImportStatus::Running;
        record.lease_owner = Some(owner.clone());
        record.lease_until = lease_end();
        record.revision += 1;
        record.updated_at = Timestamp::now();
        if !self.catalog.store.put_import(&record, Some(expected)).await? {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "another importer run claimed this import",
            ));
        }
        let object = self
            .s3
            .get_object()
            .bucket(self.bucket()?)
            .key(record.object_key.as_deref().unwrap_or_default())
            .send()
            .await;
        let bytes = match object {
            Ok(object) => object.body.collect().await.map_err(ApiError::unavailable)?.into_bytes(),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                let failure = RowIssue::new(1, None, "the import's file is gone from the bucket");
                self.fail(record, failure, &owner).await?;
                return Ok(());
            }
            Err(err) => return Err(ApiError::unavailable(err)),
        };
        let sheet = match sheet::read(&bytes) {
            Ok(sheet) => sheet,
            Err(issue) => {
                self.fail(record, issue, &owner).await?;
                return Ok(());
            }
        };
        record.rows_total = Some(sheet.rows);
        record.products_total = Some(sheet.groups.len() as u64);
        let deadline = Instant::now() + self.run_budget;
        let record = self.apply(record, &sheet, &owner, Some(deadline)).await?;
        if !record.status.is_finished() {
            self.enqueue(record.import_id).await?;
            tracing::info!(next = record.next_product, "import continues in a new run");
        }
        Ok(())
    }

    async fn fail(&self, mut record: ImportRecord, failure: RowIssue, owner: &str) -> Result<(), ApiError> {
        tracing::info!(reason = %failure.reason, "import file refused");
        record.status = ImportStatus::Failed;
        record.failure = Some(failure);
        self.save(&mut record, owner, true).await
    }

    /// Applies the products from the checkpoint on, saving a checkpoint after
    /// each chunk; stops at `deadline` (the record then says where).
    async fn apply(
        &self,
        mut record: ImportRecord,
        sheet: &Sheet,
        owner: &str,
        deadline: Option<Instant>,
    ) -> Result<ImportRecord, ApiError> {
        let caller = Caller {
            user_id: record.created_by,
            email: record.created_by_email.clone(),
            role: Role::Admin,
        };
        let reason = format!("import {}", record.import_id);
        let start = usize::try_from(record.next_product).unwrap_or(usize::MAX);
        let groups = sheet.groups.get(start..).unwrap_or_default();
        for chunk in groups.chunks(CHUNK) {
            let mut issues = Vec::new();
            let mut retry = None;
            for group in chunk {
                let outcome = match &group.line {
                    Err(refused) => Err(LineError::Refused(refused.clone())),
                    Ok(line) => self.catalog.import_product(&caller, line, &reason).await,
                };
                match outcome {
                    Ok(Outcome::Created) => record.created += 1,
                    Ok(Outcome::Updated) => record.updated += 1,
                    Ok(Outcome::Unchanged) => record.unchanged += 1,
                    Err(LineError::Refused(refused)) => {
                        record.failed += 1;
                        issues.extend(refused);
                    }
                    Err(LineError::Raced) => {
                        retry = Some(ApiError::new(
                            ErrorCode::Unavailable,
                            "a SKU changed hands during the import",
                        ));
                        break;
                    }
                    Err(LineError::Retry(error)) => {
                        retry = Some(error);
                        break;
                    }
                }
                record.rows_done += group.rows;
                record.next_product += 1;
            }
            self.catalog.store.put_import_errors(record.import_id, &issues).await?;
            if let Some(error) = retry {
                // What is done stays done; the product that failed is tried again.
                self.save(&mut record, owner, false).await?;
                return Err(error);
            }
            let done = record.next_product as usize >= sheet.groups.len();
            if done {
                record.status = ImportStatus::Completed;
            }
            self.save(&mut record, owner, done).await?;
            if done {
                tracing::info!(
                    created = record.created,
                    updated = record.updated,
                    unchanged = record.unchanged,
                    failed = record.failed,
                    "import completed"
                );
                return Ok(record);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                // Hand over: release the lease so the continuation may claim it.
                record.lease_owner = None;
                record.lease_until = 0;
                self.save(&mut record, owner, false).await?;
                return Ok(record);
            }
        }
        if record.next_product as usize >= sheet.groups.len() && !record.status.is_finished() {
            record.status = ImportStatus::Completed;
            self.save(&mut record, owner, true).await?;
        }
        Ok(record)
    }

    /// Writes the record if this run still holds it; `finished` releases it.
    async fn save(&self, record: &mut ImportRecord, owner: &str, finished: bool) -> Result<(), ApiError> {
        let expected = record.revision;
        record.revision += 1;
        record.updated_at = Timestamp::now();
        if finished {
            record.finished_at = Some(record.updated_at);
            record.lease_owner = None;
            record.lease_until = 0;
        } else if record.lease_owner.is_some() {
            record.lease_until = lease_end();
        }
        if self.catalog.store.put_import(record, Some(expected)).await? {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Unavailable,
                format!("importer run {owner} lost its lease on the import"),
            ))
        }
    }

    /// One page of the catalog (every status) as CSV, by SKU, after `cursor`.
    #[tracing::instrument(skip_all)]
    pub async fn export(&self, caller: &Caller, limit: usize, cursor: Option<&str>) -> Result<ExportPage, ApiError> {
        caller.require_admin()?;
        let statuses = [ProductStatus::Draft, ProductStatus::Active, ProductStatus::Archived];
        let (cards, tree) = futures::try_join!(
            async { Ok::<_, ApiError>(self.catalog.store.catalog_cards(&statuses).await?) },
            self.catalog.tree()
        )?;
        let mut skus: Vec<(Sku, crate::domain::ProductId)> =
            cards.into_iter().map(|card| (card.sku, card.product_id)).collect();
        skus.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let after = cursor.map(str::trim).unwrap_or_default();
        let remaining: Vec<_> = skus.into_iter().filter(|(sku, _)| sku.as_str() > after).collect();
        let page: Vec<_> = remaining.iter().take(limit).collect();
        let next_cursor = (remaining.len() > limit)
            .then(|| page.last().map(|(sku, _)| sku.to_string()))
            .flatten();
        let ids: Vec<_> = page.iter().map(|(_, id)| *id).collect();
        let mut products = self.catalog.store.products(&ids).await?;
        products.sort_by(|a, b| a.sku.as_str().cmp(b.sku.as_str()));
        let csv = sheet::write(&products, &tree).map_err(ApiError::internal)?;
        Ok(ExportPage {
            csv,
            products: products.len(),
            next_cursor,
        })
    }
}

/// A file that cannot be read as a whole: a 400 naming the column (or the body).
fn file_error(issue: &RowIssue) -> ApiError {
    let field = issue.column.clone().unwrap_or_else(|| "body".to_owned());
    ApiError::invalid_field(&field, format!("row {}: {}", issue.row, issue.reason))
}

fn lease_owner() -> String {
    ulid::Ulid::new().to_string()
}

fn lease_end() -> i64 {
    (time::OffsetDateTime::now_utc() + LEASE).unix_timestamp()
}
