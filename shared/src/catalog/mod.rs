//! The catalog service: what `catalog-api` does behind its thin handlers.

pub mod categories;
pub mod listing;
pub mod products;
pub mod reviews;
pub mod search;
pub mod stock;
pub mod views;
pub mod wishlist;

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::RwLock;

use crate::config::CatalogSettings;
use crate::http::ApiError;
use crate::store::Store;
pub use categories::CategoryTree;

/// Everything the catalog service needs; built once per cold start.
#[derive(Debug)]
pub struct Catalog {
    pub store: Store,
    pub settings: CatalogSettings,
    /// The category tree as last read, reused by a warm function for
    /// `settings.category_cache` (the application cache level, serverless style).
    tree: RwLock<Option<(Instant, Arc<CategoryTree>)>>,
}

impl Catalog {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(Store::from_config(config, clients), config.catalog.clone())
    }

    pub fn new(store: Store, settings: CatalogSettings) -> Self {
        Self {
            store,
            settings,
            tree: RwLock::new(None),
        }
    }

    /// The category tree, from the cache when it is fresh (otherwise one Query).
    pub async fn tree(&self) -> Result<Arc<CategoryTree>, ApiError> {
        if let Some((read_at, tree)) = self.tree.read().await.as_ref()
            && read_at.elapsed() < self.settings.category_cache
        {
            return Ok(tree.clone());
        }
        let tree = Arc::new(CategoryTree::new(self.store.categories().await?));
        *self.tree.write().await = Some((Instant::now(), tree.clone()));
        Ok(tree)
    }

    /// Forgets the cached tree after this function changed categories or their counts.
    pub async fn forget_tree(&self) {
        *self.tree.write().await = None;
    }
}
