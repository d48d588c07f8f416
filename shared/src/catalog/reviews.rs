//! Reviews: one per customer per product, moderated; approved ones count
//! toward the product's rating in the same transaction that approves them.

use serde::Serialize;

use super::Catalog;
use crate::auth::Caller;
use crate::domain::{ProductId, ProductStatus, Rating, ReviewId, ReviewStatus, Timestamp, UserId};
use crate::http::form_value::{bounded_text, unsigned};
use crate::http::{ApiError, Form};
use crate::pagination::{PageRequest, Pagination};
use crate::store::reviews::{ReviewRecord, ReviewWrite};

#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub rating: Option<Rating>,
    pub title: Option<Option<String>>,
    pub content: Option<String>,
}

impl ReviewInput {
    pub fn parse(body: &[u8], creating: bool) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&["rating", "title", "content"]);
        let rating_parser = |v: &serde_json::Value| {
            unsigned(v).map_err(str::to_owned).and_then(|n| {
                u8::try_from(n)
                    .ok()
                    .and_then(|n| Rating::new(n).ok())
                    .ok_or_else(|| "must be a whole number from 1 to 5".to_owned())
            })
        };
        let rating = if creating {
            form.required("rating", rating_parser).map(Some)
        } else {
            form.optional("rating", rating_parser)
        };
        let title = super::categories::optional_clearable(&mut form, "title", bounded_text(150));
        let content = if creating {
            form.required("content", bounded_text(5000)).map(Some)
        } else {
            form.optional("content", bounded_text(5000))
        };
        let (Some(rating), Some(title), Some(content)) = (rating, title, content) else {
            return Err(form.into_error());
        };
        form.finish()?;
        if !creating && rating.is_none() && title.is_none() && content.is_none() {
            return Err(ApiError::invalid_field("body", "must change rating, title or content"));
        }
        Ok(Self { rating, title, content })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    pub review_id: ReviewId,
    pub product_id: ProductId,
    pub user_id: UserId,
    pub author_name: String,
    pub rating: u8,
    pub title: Option<String>,
    pub content: String,
    pub status: ReviewStatus,
    pub is_verified: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&ReviewRecord> for ReviewView {
    fn from(review: &ReviewRecord) -> Self {
        Self {
            review_id: review.review_id,
            product_id: review.product_id,
            user_id: review.user_id,
            author_name: review.author_name.clone(),
            rating: review.rating.stars(),
            title: review.title.clone(),
            content: review.content.clone(),
            status: review.status,
            is_verified: review.is_verified,
            created_at: review.created_at,
            updated_at: review.updated_at,
        }
    }
}

/// What a review adds to its product's rating: (stars, 1) when approved.
fn contribution(review: &ReviewRecord) -> (i64, i64) {
    if review.status == ReviewStatus::Approved {
        (i64::from(review.rating.stars()), 1)
    } else {
        (0, 0)
    }
}

fn difference(before: (i64, i64), after: (i64, i64)) -> (i64, i64) {
    (after.0 - before.0, after.1 - before.1)
}

impl Catalog {
    async fn product_id_of(&self, reference: &str) -> Result<ProductId, ApiError> {
        match ProductId::parse(reference) {
            Ok(id) => Ok(id),
            Err(_) => Ok(self.existing_product(reference).await?.product_id),
        }
    }

    /// Approved reviews of a product customers can see, newest first or highest
    /// rated first. The product, the count and the page are read concurrently.
    pub async fn reviews(
        &self,
        reference: &str,
        highest_first: bool,
        page: PageRequest,
    ) -> Result<(Vec<ReviewView>, Pagination), ApiError> {
        let product = self.product_id_of(reference).await?;
        let visible = async {
            let (product, tree) = futures::try_join!(
                async { Ok::<_, ApiError>(self.store.product(product).await?) },
                self.tree()
            )?;
            Ok::<_, ApiError>(
                product.is_some_and(|p| p.status == ProductStatus::Active && tree.is_visible(&p.category_path)),
            )
        };
        let listed = async {
            Ok::<_, ApiError>(
                self.store
                    .approved_reviews(product, highest_first, page.page, page.limit)
                    .await?,
            )
        };
        let (visible, (reviews, total)) = futures::try_join!(visible, listed)?;
        if !visible {
            return Err(ApiError::not_found("Product"));
        }
        Ok((
            reviews.iter().map(ReviewView::from).collect(),
            Pagination::new(page, total),
        ))
    }

    /// ADMIN: the moderation queue, oldest first.
    pub async fn pending_reviews(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<(Vec<ReviewView>, Pagination), ApiError> {
        caller.require_admin()?;
        let (reviews, total) = self.store.pending_reviews(page.page, page.limit).await?;
        Ok((
            reviews.iter().map(ReviewView::from).collect(),
            Pagination::new(page, total),
        ))
    }

    /// One BatchGetItem (product, purchase record, profile), then one transaction
    /// (the review and the one-per-customer marker: a second review is 409).
    #[tracing::instrument(skip_all)]
    pub async fn create_review(
        &self,
        caller: &Caller,
        reference: &str,
        input: ReviewInput,
    ) -> Result<ReviewView, ApiError> {
        let product_id = self.product_id_of(reference).await?;
        let (product, purchased, profile) = self.store.review_context(product_id, caller.user_id).await?;
        product
            .filter(|p| p.status == ProductStatus::Active)
            .ok_or_else(|| ApiError::not_found("Product"))?;
        let author_name = profile
            .map(|p| {
                format!(
                    "{} {}.",
                    p.first_name.as_str(),
                    p.last_name.as_str().chars().next().unwrap_or(' ')
                )
                .trim()
                .to_owned()
            })
            .unwrap_or_else(|| "Customer".to_owned());
        let now = Timestamp::now();
        let review = ReviewRecord {
            review_id: ReviewId::generate(),
            product_id,
            user_id: caller.user_id,
            author_name,
            rating: input
                .rating
                .ok_or_else(|| ApiError::invalid_field("rating", "is required"))?,
            title: input.title.flatten(),
            content: input.content.unwrap_or_default(),
            status: ReviewStatus::Pending,
            is_verified: purchased,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.create_review(&review).await.map_err(|err| {
            if err.refused(&ReviewWrite::AlreadyReviewed) {
                ApiError::already_exists("You have already reviewed this product; edit your review instead")
            } else {
                err.into()
            }
        })?;
        Ok(ReviewView::from(&review))
    }

    async fn existing_review(&self, reference: &str, review: ReviewId) -> Result<ReviewRecord, ApiError> {
        let product = self.product_id_of(reference).await?;
        self.store
            .review(product, review)
            .await?
            .ok_or_else(|| ApiError::not_found("Review"))
    }

    /// The author edits their review; it goes back to moderation, and an approved
    /// one leaves the product's rating until approved again.
    #[tracing::instrument(skip_all)]
    pub async fn update_review(
        &self,
        caller: &Caller,
        reference: &str,
        review: ReviewId,
        input: ReviewInput,
    ) -> Result<ReviewView, ApiError> {
        let current = self.existing_review(reference, review).await?;
        if current.user_id != caller.user_id {
            return Err(ApiError::not_found("Review"));
        }
        let updated = ReviewRecord {
            rating: input.rating.unwrap_or(current.rating),
            title: input.title.unwrap_or_else(|| current.title.clone()),
            content: input.content.unwrap_or_else(|| current.content.clone()),
            status: ReviewStatus::Pending,
            version: current.version + 1,
            updated_at: Timestamp::now(),
            ..current.clone()
        };
        self.write_review(&current, &updated).await?;
        Ok(ReviewView::from(&updated))
    }

    /// ADMIN approves or rejects; the product's rating and count change in the same transaction.
    #[tracing::instrument(skip_all)]
    pub async fn moderate_review(
        &self,
        caller: &Caller,
        reference: &str,
        review: ReviewId,
        approve: bool,
    ) -> Result<ReviewView, ApiError> {
        caller.require_admin()?;
        let current = self.existing_review(reference, review).await?;
        let status = if approve {
            ReviewStatus::Approved
        } else {
            ReviewStatus::Rejected
        };
        if current.status == status {
            return Ok(ReviewView::from(&current));
        }
        let updated = ReviewRecord {
            status,
            version: current.version + 1,
            updated_at: Timestamp::now(),
            ..current.clone()
        };
        self.write_review(&current, &updated).await?;
        Ok(ReviewView::from(&updated))
    }

    async fn write_review(&self, current: &ReviewRecord, updated: &ReviewRecord) -> Result<(), ApiError> {
        let change = difference(contribution(current), contribution(updated));
        self.store
            .replace_review(current, updated, change)
            .await
            .map_err(|err| {
                if err.refused(&ReviewWrite::Review) {
                    ApiError::stale_version()
                } else {
                    err.into()
                }
            })
    }

    /// The author or an admin deletes a review (and its share of the rating).
    #[tracing::instrument(skip_all)]
    pub async fn delete_review(&self, caller: &Caller, reference: &str, review: ReviewId) -> Result<(), ApiError> {
        let current = self.existing_review(reference, review).await?;
        if current.user_id != caller.user_id && !caller.is_admin() {
            return Err(ApiError::not_found("Review"));
        }
        let change = difference(contribution(&current), (0, 0));
        self.store.delete_review(&current, change).await.map_err(|err| {
            if err.refused(&ReviewWrite::Review) {
                ApiError::stale_version()
            } else {
                err.into()
            }
        })
    }
}
