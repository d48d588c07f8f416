//! Every key of the single table, built in one place.
//!
//! Generic key attributes `PK`/`SK`, overloaded indexes `GSI1`…`GSI3`
//! (`GSInPK`/`GSInSK`, projection ALL), TTL attribute `expiresAt` (epoch seconds;
//! reads ignore expired items because deletion lags).
//!
//! | entity / access pattern            | PK                              | SK                | index keys                                  | operation |
//! |------------------------------------|---------------------------------|-------------------|---------------------------------------------|-----------|
//! | user profile                       | `USER#<userId>`                 | `PROFILE`         | GSI1: `USERS` / `<userId>` (admin list, newest first) | GetItem |
//! | user's addresses                   | `USER#<userId>`                 | `ADDR#<addressId>`|                                             | Query     |
//! | profile + addresses in one read    | `USER#<userId>`                 | between `ADDR#` and `PROFILE` |                                 | Query     |
//! | login credentials by email         | `EMAIL#<email>`                 | `CREDENTIALS`     |                                             | GetItem (also the email uniqueness marker) |
//! | refresh-token session (family)     | `USER#<userId>`                 | `SESSION#<sessionId>` |                                         | UpdateItem (rotate), Query (revoke all) |
//! | login throttle per email / per IP  | `THROTTLE#LOGIN#EMAIL#<email>` / `THROTTLE#LOGIN#IP#<ip>` | `THROTTLE` |                | BatchGetItem, UpdateItem |
//! | password-reset token               | `RESET#<sha256(token)>`         | `RESET`           |                                             | GetItem, TransactWrite (single use) |
//! | all users (admin)                  | GSI1 `USERS`                    | GSI1SK `<userId>` |                                             | Query (ULIDs sort by creation) |
//! | category                           | `CATEGORY#<categoryId>`         | `CATEGORY`        | GSI1: `CATEGORIES` / `<categoryId>`         | Query GSI1 (the whole tree) |
//! | category slug marker               | `CATEGORY_SLUG#<slug>`          | `MARKER`          |                                             | TransactWrite |
//! | product                            | `PRODUCT#<productId>`           | `PRODUCT`         | GSI1: `PRODUCT_SLUG#<slug>` / `PRODUCT`; CatalogIndex: `CATALOG#<status>#<shard>` / `<productId>` | GetItem, Query GSI1, Query CatalogIndex |
//! | product slug / SKU markers         | `PRODUCT_SLUG#<slug>` / `SKU#<SKU>` | `MARKER`      |                                             | TransactWrite |
//! | stock change (inventory transaction) | `PRODUCT#<productId>`         | `STOCK#<ulid>`    |                                             | TransactWrite, Query |
//! | search term → product              | `TERM#<first 2 letters>`        | `<term>#<productId>` |                                          | Query `begins_with` (prefix match) |
//! | review                             | `PRODUCT#<productId>`           | `REVIEW#<reviewId>` | GSI1: `REVIEWS#<productId>` / `<reviewId>` and GSI2: `REVIEWS#<productId>` / `<stars>#<reviewId>` when approved; GSI3: `REVIEWS#PENDING` / `<reviewId>` while pending | GetItem, Query GSI1/GSI2/GSI3 |
//! | one review per customer            | `PRODUCT#<productId>`           | `REVIEWER#<userId>` |                                           | TransactWrite |
//! | purchase (verified-review proof)   | `USER#<userId>`                 | `PURCHASE#<productId>` |                                        | GetItem (written by the orders work) |
//! | wishlist entry                     | `USER#<userId>`                 | `WISH#<productId>` |                                            | Query, PutItem, DeleteItem |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::ids::SessionId;
use crate::domain::{AddressId, CategoryId, Email, ProductId, ProductStatus, ReviewId, Slug, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";
pub const GSI3: &str = "GSI3";
pub const TTL: &str = "expiresAt";

pub const PROFILE: &str = "PROFILE";
pub const ADDRESS_PREFIX: &str = "ADDR#";
pub const SESSION_PREFIX: &str = "SESSION#";
pub const ALL_USERS: &str = "USERS";

/// A primary key plus the index keys an item carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
    pub indexes: Vec<(&'static str, String)>,
}

/// The string attribute `name` of `item`, empty when absent: tells apart the
/// items a batch read returns.
pub fn text_of(item: &super::Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            indexes: Vec::new(),
        }
    }

    /// Adds `GSIn` keys (`n` is 1-based; 4 is the catalog index).
    pub fn with_index(mut self, index: u8, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        let (pk_name, sk_name) = match index {
            1 => ("GSI1PK", "GSI1SK"),
            2 => ("GSI2PK", "GSI2SK"),
            3 => ("GSI3PK", "GSI3SK"),
            _ => ("GSI4PK", "GSI4SK"),
        };
        self.indexes.push((pk_name, pk.into()));
        self.indexes.push((sk_name, sk.into()));
        self
    }

    /// The primary key alone, for GetItem/UpdateItem/DeleteItem.
    pub fn primary(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    pub fn write_into(&self, item: &mut HashMap<String, AttributeValue>) {
        item.extend(self.primary());
        for (name, value) in &self.indexes {
            item.insert((*name).to_owned(), AttributeValue::S(value.clone()));
        }
    }
}

pub fn user_partition(user: UserId) -> String {
    format!("USER#{user}")
}

pub fn user_profile(user: UserId) -> Key {
    Key::new(user_partition(user), PROFILE).with_index(1, ALL_USERS, user.to_string())
}

pub fn address(user: UserId, address: AddressId) -> Key {
    Key::new(user_partition(user), format!("{ADDRESS_PREFIX}{address}"))
}

pub fn credentials(email: &Email) -> Key {
    Key::new(format!("EMAIL#{email}"), "CREDENTIALS")
}

pub fn session(user: UserId, session: SessionId) -> Key {
    Key::new(user_partition(user), format!("{SESSION_PREFIX}{session}"))
}

pub fn login_throttle_by_email(email: &Email) -> Key {
    Key::new(format!("THROTTLE#LOGIN#EMAIL#{email}"), "THROTTLE")
}

pub fn login_throttle_by_ip(ip: &str) -> Key {
    Key::new(format!("THROTTLE#LOGIN#IP#{ip}"), "THROTTLE")
}

pub fn password_reset(token_digest: &str) -> Key {
    Key::new(format!("RESET#{token_digest}"), "RESET")
}

pub const MARKER: &str = "MARKER";
pub const ALL_CATEGORIES: &str = "CATEGORIES";
pub const STOCK_PREFIX: &str = "STOCK#";
pub const WISH_PREFIX: &str = "WISH#";
pub const CATALOG_INDEX: &str = "CatalogIndex";
/// Catalog index partitions per status: cards spread over this many keys so no
/// single index partition takes every product write.
pub const CATALOG_SHARDS: u8 = 4;

pub fn category(id: CategoryId) -> Key {
    Key::new(format!("CATEGORY#{id}"), "CATEGORY").with_index(1, ALL_CATEGORIES, id.to_string())
}

pub fn category_slug(slug: &Slug) -> Key {
    Key::new(format!("CATEGORY_SLUG#{slug}"), MARKER)
}

pub fn product_partition(id: ProductId) -> String {
    format!("PRODUCT#{id}")
}

pub fn product_slug_index(slug: &Slug) -> String {
    format!("PRODUCT_SLUG#{slug}")
}

/// The catalog-index shard of a product: spread by the id's random part.
pub fn catalog_shard(id: ProductId) -> u8 {
    id.to_string().bytes().last().map_or(0, |b| b % CATALOG_SHARDS)
}

pub fn catalog_partition(status: ProductStatus, shard: u8) -> String {
    format!("CATALOG#{}#{shard}", status.as_str())
}

pub fn product(id: ProductId, slug: &Slug, status: ProductStatus) -> Key {
    Key::new(product_partition(id), "PRODUCT")
        .with_index(1, product_slug_index(slug), "PRODUCT")
        .with_index(4, catalog_partition(status, catalog_shard(id)), id.to_string())
}

/// The product's primary key alone (reads and updates that do not move index keys).
pub fn product_key(id: ProductId) -> Key {
    Key::new(product_partition(id), "PRODUCT")
}

pub fn product_slug_marker(slug: &Slug) -> Key {
    Key::new(format!("PRODUCT_SLUG#{slug}"), MARKER)
}

pub fn sku_marker(sku: &crate::domain::Sku) -> Key {
    Key::new(format!("SKU#{sku}"), MARKER)
}

pub fn stock_change(product: ProductId) -> Key {
    Key::new(
        product_partition(product),
        format!("{STOCK_PREFIX}{}", ulid::Ulid::new()),
    )
}

pub fn search_term(term: &str, product: ProductId) -> Key {
    let bucket: String = term.chars().take(2).collect();
    Key::new(format!("TERM#{bucket}"), format!("{term}#{product}"))
}

pub fn review(product: ProductId, review: ReviewId) -> Key {
    Key::new(product_partition(product), format!("REVIEW#{review}"))
}

pub fn reviewer_marker(product: ProductId, user: UserId) -> Key {
    Key::new(product_partition(product), format!("REVIEWER#{user}"))
}

pub fn approved_reviews(product: ProductId) -> String {
    format!("REVIEWS#{product}")
}

pub const PENDING_REVIEWS: &str = "REVIEWS#PENDING";

pub fn purchase(user: UserId, product: ProductId) -> Key {
    Key::new(user_partition(user), format!("PURCHASE#{product}"))
}

pub fn wishlist_entry(user: UserId, product: ProductId) -> Key {
    Key::new(user_partition(user), format!("{WISH_PREFIX}{product}"))
}
