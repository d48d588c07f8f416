//! Daily reports: one item per UTC day holding the report as one JSON document
//! (amounts as decimals, as the API shows them).

use super::keys;
use super::{Item, Store, StoreError, string};

impl Store {
    /// Stores the report of `date` (a rerun replaces it) together with `also`
    /// (its outbox messages), in one batch.
    pub async fn save_report(&self, date: &str, document: String, also: Vec<Item>) -> Result<(), StoreError> {
        let mut item = Item::new();
        keys::daily_report(date).write_into(&mut item);
        item.insert("report".into(), string(document));
        self.put_items(std::iter::once(item).chain(also).collect()).await
    }

    /// The stored report document of `date`, if any (one GetItem).
    pub async fn report_document(&self, date: &str) -> Result<Option<String>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(keys::daily_report(date).primary()))
            .send()
            .await?;
        Ok(output
            .item
            .and_then(|item| item.get("report").and_then(|v| v.as_s().ok()).cloned()))
    }
}
