//! Values read from the table and kept by a warm function for a while (the
//! application cache level, serverless style).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use crate::http::ApiError;

/// A value read from the table, reused while it is younger than a time to live.
#[derive(Debug)]
pub(crate) struct Cached<T> {
    value: RwLock<Option<(Instant, Arc<T>)>>,
    /// Counts [`Cached::forget`]s, so a read that started before one is not kept.
    generation: AtomicU64,
}

impl<T> Cached<T> {
    pub(crate) fn new() -> Self {
        Self {
            value: RwLock::new(None),
            generation: AtomicU64::new(0),
        }
    }

    pub(crate) async fn get_or_load<F>(&self, ttl: Duration, load: F) -> Result<Arc<T>, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        if let Some((read_at, value)) = self.value.read().await.as_ref()
            && read_at.elapsed() < ttl
        {
            return Ok(value.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = Arc::new(load.await?);
        let mut slot = self.value.write().await;
        if self.generation.load(Ordering::Acquire) == generation {
            *slot = Some((Instant::now(), value.clone()));
        }
        Ok(value)
    }

    pub(crate) async fn forget(&self) {
        let mut slot = self.value.write().await;
        self.generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }
}
