//! The catalog service: what `catalog-api` does behind its thin handlers.

pub mod categories;
pub mod import;
pub mod listing;
pub mod products;
pub mod reviews;
pub mod search;
pub mod sheet;
pub mod stock;
pub mod views;
pub mod wishlist;

use std::sync::Arc;

use crate::cache::Cached;
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
    tree: Cached<CategoryTree>,
    /// Every indexed search word, for correcting typos; cached like the tree.
    vocabulary: Cached<search::Vocabulary>,
}

impl Catalog {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(Store::from_config(config, clients), config.catalog.clone())
    }

    pub fn new(store: Store, settings: CatalogSettings) -> Self {
        Self {
            store,
            settings,
            tree: Cached::new(),
            vocabulary: Cached::new(),
        }
    }

    /// The category tree, from the cache when it is fresh (otherwise one Query).
    pub async fn tree(&self) -> Result<Arc<CategoryTree>, ApiError> {
        let load = async { Ok(CategoryTree::new(self.store.categories().await?)) };
        self.tree.get_or_load(self.settings.category_cache, load).await
    }

    /// Forgets the cached tree after this function changed categories or their counts.
    pub async fn forget_tree(&self) {
        self.tree.forget().await;
    }

    /// Every indexed search word, from the cache when it is fresh (otherwise one Query).
    pub async fn vocabulary(&self) -> Result<Arc<search::Vocabulary>, ApiError> {
        let load = async { Ok(search::Vocabulary::new(self.store.search_vocabulary().await?)) };
        self.vocabulary.get_or_load(self.settings.category_cache, load).await
    }
}
