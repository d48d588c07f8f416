//! The table's generic operations, used by every entity module: reads, batch
//! reads and writes, queries by key condition, and labelled transactions whose
//! failed conditions come back as the labels the caller gave its items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, KeysAndAttributes, Put, PutRequest, Select, TransactWriteItem, Update,
    WriteRequest,
};
use serde::de::DeserializeOwned;

use super::keys::{self, Index, Key};
use super::{Item, Store, StoreError, from_item, string};

/// Attempts of a batch call while some of its keys or writes stay unprocessed (throttling).
const BATCH_ATTEMPTS: u32 = 8;

/// Attribute names and values of one request's expressions, as the SDK takes them.
type Placeholders = (Option<HashMap<String, String>>, Option<Values>);

type Values = HashMap<String, AttributeValue>;

/// An expression (update, condition or filter) with its placeholders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expr {
    pub text: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// `#placeholder` stands for the attribute `name`.
    pub fn name(mut self, placeholder: impl Into<String>, name: impl Into<String>) -> Self {
        self.names.insert(placeholder.into(), name.into());
        self
    }

    /// `:placeholder` stands for `value`.
    pub fn value(mut self, placeholder: impl Into<String>, value: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// `SET #a = :a, …` for every attribute of `fields`, and `REMOVE` for each
    /// of the `optional` attributes missing from it.
    pub fn set_fields(fields: Item, optional: &[&str]) -> Self {
        let mut expr = Self::default();
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        for name in optional.iter().filter(|name| !fields.contains_key(**name)) {
            expr.names.insert(format!("#{name}"), (*name).to_owned());
            removes.push(format!("#{name}"));
        }
        for (name, value) in fields {
            expr.names.insert(format!("#{name}"), name.clone());
            expr.values.insert(format!(":{name}"), value);
            sets.push(format!("#{name} = :{name}"));
        }
        sets.sort();
        expr.text = format!("SET {}", sets.join(", "));
        expr.remove(removes)
    }

    /// Appends `SET` clauses (`a = :b` forms) to an expression that starts with `SET`.
    pub fn and_set(mut self, clause: impl AsRef<str>) -> Self {
        let (sets, removes) = match self.text.split_once(" REMOVE ") {
            Some((sets, removes)) => (sets.to_owned(), Some(removes.to_owned())),
            None => (self.text.clone(), None),
        };
        self.text = match removes {
            Some(removes) => format!("{sets}, {} REMOVE {removes}", clause.as_ref()),
            None => format!("{sets}, {}", clause.as_ref()),
        };
        self
    }

    /// Appends attributes to remove.
    pub fn remove(mut self, attributes: impl IntoIterator<Item = String>) -> Self {
        let attributes: Vec<String> = attributes.into_iter().collect();
        if !attributes.is_empty() {
            let joined = attributes.join(", ");
            if self.text.contains(" REMOVE ") {
                self.text = format!("{}, {joined}", self.text);
            } else {
                self.text = format!("{} REMOVE {joined}", self.text);
            }
        }
        self
    }

    /// Both conditions.
    pub fn and(mut self, other: Expr) -> Self {
        self.text = format!("({}) AND ({})", self.text, other.text);
        self.names.extend(other.names);
        self.values.extend(other.values);
        self
    }

    /// The item must not exist yet.
    pub fn absent() -> Self {
        Self::new("attribute_not_exists(PK)")
    }

    /// The item must exist.
    pub fn present() -> Self {
        Self::new("attribute_exists(PK)")
    }

    /// An optional condition as the SDK's builders take it: text, names, values.
    fn parts(condition: Option<Expr>) -> (Option<String>, Option<HashMap<String, String>>, Option<Values>) {
        match condition {
            Some(condition) => {
                let (names, values) = condition.merged(None);
                (Some(condition.text), names, values)
            }
            None => (None, None, None),
        }
    }

    /// This expression's and `other`'s placeholders together (`other`'s text is not used).
    fn merged(&self, other: Option<&Expr>) -> Placeholders {
        let mut names = self.names.clone();
        let mut values = self.values.clone();
        if let Some(other) = other {
            names.extend(other.names.clone());
            values.extend(other.values.clone());
        }
        (
            (!names.is_empty()).then_some(names),
            (!values.is_empty()).then_some(values),
        )
    }
}

/// What part of a partition a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    All,
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    /// Strictly before.
    Before(String),
}

/// A query of one partition of the table or of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    index: Option<Index>,
    partition: String,
    range: SortRange,
    forward: bool,
    consistent: bool,
    projection: Option<String>,
}

impl Query {
    /// A partition of the table itself.
    pub fn table(partition: impl Into<String>) -> Self {
        Self {
            index: None,
            partition: partition.into(),
            range: SortRange::All,
            forward: true,
            consistent: false,
            projection: None,
        }
    }

    /// A partition of `index`.
    pub fn index(index: Index, partition: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            ..Self::table(partition)
        }
    }

    pub fn range(mut self, range: SortRange) -> Self {
        self.range = range;
        self
    }

    pub fn begins_with(self, prefix: impl Into<String>) -> Self {
        self.range(SortRange::BeginsWith(prefix.into()))
    }

    pub fn between(self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.range(SortRange::Between(from.into(), to.into()))
    }

    pub fn before(self, bound: impl Into<String>) -> Self {
        self.range(SortRange::Before(bound.into()))
    }

    /// Highest sort key first.
    pub fn descending(mut self) -> Self {
        self.forward = false;
        self
    }

    /// A strongly consistent read (the table only; indexes cannot).
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// Only the primary key attributes.
    pub fn keys_only(mut self) -> Self {
        self.projection = Some(format!("{}, {}", keys::PK, keys::SK));
        self
    }

    fn builder(&self, store: &Store) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (pk, sk) = match self.index {
            Some(index) => (index.pk(), index.sk()),
            None => (keys::PK, keys::SK),
        };
        let condition = match &self.range {
            SortRange::All => format!("{pk} = :pk"),
            SortRange::BeginsWith(_) => format!("{pk} = :pk AND begins_with({sk}, :from)"),
            SortRange::Between(..) => format!("{pk} = :pk AND {sk} BETWEEN :from AND :to"),
            SortRange::Before(_) => format!("{pk} = :pk AND {sk} < :from"),
        };
        let mut query = store
            .client()
            .query()
            .table_name(store.table())
            .set_index_name(self.index.map(|index| index.name().to_owned()))
            .key_condition_expression(condition)
            .expression_attribute_values(":pk", string(&self.partition))
            .scan_index_forward(self.forward)
            .set_projection_expression(self.projection.clone());
        if self.consistent {
            query = query.consistent_read(true);
        }
        match &self.range {
            SortRange::All => query,
            SortRange::BeginsWith(from) | SortRange::Before(from) => {
                query.expression_attribute_values(":from", string(from))
            }
            SortRange::Between(from, to) => query
                .expression_attribute_values(":from", string(from))
                .expression_attribute_values(":to", string(to)),
        }
    }
}

/// The items of one TransactWriteItems request, each with a label, so that a
/// cancelled transaction says which of them failed their condition.
#[derive(Debug)]
pub struct Transaction<L> {
    table: String,
    items: Vec<TransactWriteItem>,
    labels: Vec<L>,
}

/// Why a labelled transaction did not commit.
#[derive(Debug, thiserror::Error)]
pub enum TxError<L: std::fmt::Debug> {
    /// The conditions of these items were not met; nothing was written.
    #[error("conditions not met: {0:?}")]
    Refused(Vec<L>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<L: std::fmt::Debug + PartialEq> TxError<L> {
    /// True when the item labelled `label` failed its condition.
    pub fn refused(&self, label: &L) -> bool {
        matches!(self, Self::Refused(labels) if labels.contains(label))
    }

    /// True when the only failures are items matching `predicate`.
    pub fn refused_only(&self, predicate: impl Fn(&L) -> bool) -> bool {
        matches!(self, Self::Refused(labels) if !labels.is_empty() && labels.iter().all(predicate))
    }

    /// A concurrent transaction touched the same items: try again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(err) if err.is_transaction_conflict())
    }

    /// The error for a caller that has no use for the labels (a failed
    /// condition is then a bug or a race it does not handle).
    pub fn into_store(self) -> StoreError {
        match self {
            Self::Store(err) => err,
            Self::Refused(_) => StoreError::ConditionFailed,
        }
    }
}

impl<L: std::fmt::Debug> From<serde_dynamo::Error> for TxError<L> {
    fn from(error: serde_dynamo::Error) -> Self {
        Self::Store(error.into())
    }
}

/// A failed condition the caller did not map to an outcome of its own is a
/// bug or a race it does not handle: a 500 (a 503 for throttling and conflicts).
impl<L: std::fmt::Debug + Send + Sync + 'static> From<TxError<L>> for crate::http::ApiError {
    fn from(error: TxError<L>) -> Self {
        match error {
            TxError::Store(err) => err.into(),
            refused @ TxError::Refused(_) => crate::http::ApiError::internal(refused),
        }
    }
}

impl<L: Clone> Transaction<L> {
    pub fn new(store: &Store) -> Self {
        Self {
            table: store.table().to_owned(),
            items: Vec::new(),
            labels: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Writes `item` whole, if `condition` holds.
    pub fn put(&mut self, label: L, item: Item, condition: Option<Expr>) -> &mut Self {
        let (text, names, values) = Expr::parts(condition);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .expect("table and item are set");
        self.push(label, TransactWriteItem::builder().put(put).build())
    }

    /// Applies `update` to the item at `key`, if `condition` holds.
    pub fn update(&mut self, label: L, key: &Key, update: Expr, condition: Option<Expr>) -> &mut Self {
        let (names, values) = update.merged(condition.as_ref());
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key.primary()))
            .update_expression(update.text)
            .set_condition_expression(condition.map(|c| c.text))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .expect("table, key and expression are set");
        self.push(label, TransactWriteItem::builder().update(update).build())
    }

    /// Deletes the item at `key`, if `condition` holds.
    pub fn delete(&mut self, label: L, key: &Key, condition: Option<Expr>) -> &mut Self {
        let (text, names, values) = Expr::parts(condition);
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.primary()))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .expect("table and key are set");
        self.push(label, TransactWriteItem::builder().delete(delete).build())
    }

    fn push(&mut self, label: L, item: TransactWriteItem) -> &mut Self {
        self.items.push(item);
        self.labels.push(label);
        self
    }
}

impl Store {
    /// The item at `key` (a strongly consistent read), if there is one.
    pub async fn read<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key.primary()))
            .consistent_read(true)
            .send()
            .await?;
        output.item.map(from_item).transpose()
    }

    /// Writes `item` whole (PutItem), if `condition` holds.
    pub async fn put(&self, item: Item, condition: Option<Expr>) -> Result<(), StoreError> {
        let (text, names, values) = Expr::parts(condition);
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await?;
        Ok(())
    }

    /// Applies `update` to the item at `key` (UpdateItem), if `condition` holds.
    pub async fn update(&self, key: &Key, update: Expr, condition: Option<Expr>) -> Result<(), StoreError> {
        let (names, values) = update.merged(condition.as_ref());
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key.primary()))
            .update_expression(update.text)
            .set_condition_expression(condition.map(|c| c.text))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await?;
        Ok(())
    }

    /// Deletes the item at `key` (DeleteItem), if `condition` holds.
    pub async fn delete(&self, key: &Key, condition: Option<Expr>) -> Result<(), StoreError> {
        let (text, names, values) = Expr::parts(condition);
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key.primary()))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await?;
        Ok(())
    }

    /// Runs `transaction`; a cancellation by failed conditions names the items.
    pub async fn commit<L: Clone + std::fmt::Debug>(&self, transaction: Transaction<L>) -> Result<(), TxError<L>> {
        if transaction.is_empty() {
            return Ok(());
        }
        let sent = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(transaction.items))
            .send()
            .await;
        match sent.map_err(StoreError::from) {
            Ok(_) => Ok(()),
            Err(StoreError::TransactionCancelled(reasons)) => {
                let failed: Vec<L> = reasons
                    .iter()
                    .zip(&transaction.labels)
                    .filter(|(reason, _)| *reason == "ConditionalCheckFailed")
                    .map(|(_, label)| label.clone())
                    .collect();
                if failed.is_empty() {
                    Err(TxError::Store(StoreError::TransactionCancelled(reasons)))
                } else {
                    Err(TxError::Refused(failed))
                }
            }
            Err(err) => Err(TxError::Store(err)),
        }
    }

    /// Items for `keys` (BatchGetItem, chunks of 100 sent concurrently,
    /// unprocessed keys retried). Keys still unprocessed after the retries fail
    /// the call: an item not read must never be mistaken for an absent one.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        self.batch_read(keys, false).await
    }

    /// [`Self::batch_get`] with strongly consistent reads.
    pub async fn batch_get_consistent(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        self.batch_read(keys, true).await
    }

    async fn batch_read(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>, StoreError> {
        let chunks = keys.chunks(100).map(|chunk| {
            let chunk = chunk.to_vec();
            async move {
                let mut pending = KeysAndAttributes::builder()
                    .set_keys(Some(chunk))
                    .consistent_read(consistent)
                    .build()
                    .expect("keys are set");
                let mut found = Vec::new();
                for attempt in 0..BATCH_ATTEMPTS {
                    let output = self
                        .client()
                        .batch_get_item()
                        .request_items(self.table(), pending.clone())
                        .send()
                        .await?;
                    found.extend(
                        output
                            .responses
                            .and_then(|mut t| t.remove(self.table()))
                            .unwrap_or_default(),
                    );
                    match output.unprocessed_keys.and_then(|mut t| t.remove(self.table())) {
                        Some(rest) if !rest.keys().is_empty() => pending = rest,
                        _ => return Ok::<_, StoreError>(found),
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
                Err(StoreError::Unavailable(Box::new(std::io::Error::other(format!(
                    "{} keys still unprocessed after {BATCH_ATTEMPTS} reads",
                    pending.keys().len()
                )))))
            }
        });
        Ok(futures::future::try_join_all(chunks)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Writes `items` whole (BatchWriteItem).
    pub async fn put_items(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item is set"))
                    .build()
            })
            .collect();
        self.write_batches(requests).await
    }

    /// Deletes `keys` (BatchWriteItem).
    pub async fn delete_keys(&self, keys: &[Key]) -> Result<(), StoreError> {
        let requests = keys
            .iter()
            .map(|key| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key.primary()))
                            .build()
                            .expect("key is set"),
                    )
                    .build()
            })
            .collect();
        self.write_batches(requests).await
    }

    /// Sends `requests` in batches of 25, retrying unprocessed ones with backoff;
    /// writes still unprocessed after the retries fail the call.
    pub async fn write_batches(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0..BATCH_ATTEMPTS {
                let output = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), pending)
                    .send()
                    .await?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut tables| tables.remove(self.table()))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable(Box::new(std::io::Error::other(format!(
                    "{} writes still unprocessed after {BATCH_ATTEMPTS} attempts",
                    pending.len()
                )))));
            }
        }
        Ok(())
    }

    /// Every item `query` finds, following pagination.
    pub async fn query_all(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = query.builder(self).set_exclusive_start_key(start).send().await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every record `query` finds.
    pub async fn query_records<T: DeserializeOwned>(&self, query: &Query) -> Result<Vec<T>, StoreError> {
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// At most `limit` items `query` finds first (one request).
    pub async fn query_first(&self, query: &Query, limit: i32) -> Result<Vec<Item>, StoreError> {
        let output = query.builder(self).limit(limit).send().await?;
        Ok(output.items.unwrap_or_default())
    }

    /// Primary keys of the items `query` finds.
    pub async fn query_keys(&self, query: &Query) -> Result<Vec<Key>, StoreError> {
        let items = self.query_all(&query.clone().keys_only()).await?;
        Ok(items.iter().map(keys::key_of).collect())
    }

    /// One page (1-based) of what `query` finds, and how many it finds in all.
    /// The count and the page are read concurrently: one round trip of latency.
    /// A page deep in a large partition reads every item before it.
    pub async fn query_page(&self, query: &Query, page: u32, limit: u32) -> Result<(Vec<Item>, u64), StoreError> {
        let count = async {
            let mut total = 0u64;
            let mut start = None;
            loop {
                let output = query
                    .builder(self)
                    .select(Select::Count)
                    .set_projection_expression(None)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                total += u64::try_from(output.count).unwrap_or(0);
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => return Ok::<_, StoreError>(total),
                }
            }
        };
        let items = async {
            let skip = u64::from(page.saturating_sub(1)) * u64::from(limit);
            let wanted = skip + u64::from(limit);
            let mut seen = 0u64;
            let mut kept = Vec::new();
            let mut start = None;
            while seen < wanted {
                let batch = i32::try_from((wanted - seen).min(1000)).unwrap_or(1000);
                let output = query
                    .builder(self)
                    .limit(batch)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                for item in output.items.unwrap_or_default() {
                    if seen >= skip && seen < wanted {
                        kept.push(item);
                    }
                    seen += 1;
                }
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
            Ok::<_, StoreError>(kept)
        };
        let (total, items) = futures::try_join!(count, items)?;
        Ok((items, total))
    }

    /// [`Self::query_page`] as records.
    pub async fn query_page_records<T: DeserializeOwned>(
        &self,
        query: &Query,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<T>, u64), StoreError> {
        let (items, total) = self.query_page(query, page, limit).await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, total))
    }
}
