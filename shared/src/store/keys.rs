//! Every key of the single table, built in one place.
//!
//! Generic key attributes `PK`/`SK`, overloaded indexes ([`Index`]), TTL
//! attribute `expiresAt` (epoch seconds; reads ignore expired items because
//! deletion lags). No other module spells a key prefix or an index attribute.
//!
//! The access patterns (checked against `docs/data-model.md` by a test, so the
//! two cannot drift):
//!
//! | entity / access pattern | PK | SK | index keys | operation |
//! |---|---|---|---|---|
//! | user profile | `USER#<userId>` | `PROFILE` | GSI1: `USERS` / `<userId>` | Query (with addresses), TransactWrite |
//! | user's addresses | `USER#<userId>` | `ADDR#<addressId>` | | Query |
//! | profile + addresses in one read | `USER#<userId>` | `BETWEEN 'ADDR#' AND 'PROFILE'` | | Query (consistent) |
//! | login credentials by email (also the email uniqueness marker) | `EMAIL#<email>` | `CREDENTIALS` | | BatchGetItem (login), GetItem |
//! | refresh-token session (one token family) | `USER#<userId>` | `SESSION#<sessionId>` | | PutItem (login), conditional UpdateItem (rotate), DeleteItem (logout), Query + BatchWrite (revoke all) |
//! | failed-login window per email | `THROTTLE#LOGIN#EMAIL#<email>` | `THROTTLE` | | BatchGetItem, conditional UpdateItem/PutItem |
//! | failed-login window per source IP | `THROTTLE#LOGIN#IP#<ip>` | `THROTTLE` | | BatchGetItem, conditional UpdateItem/PutItem |
//! | password-reset token (only its SHA-256 is stored) | `RESET#<sha256>` | `RESET` | | GetItem, TransactWrite (delete if unexpired + set password) |
//! | all users, newest first (admin) | GSI1 `USERS` | GSI1SK `<userId>` (ULIDs sort by creation time) | | Query (newest first) + count Query |
//! | category | `CATEGORY#<categoryId>` | `CATEGORY` | GSI1: `CATEGORIES` / `<categoryId>` | Query GSI1 (the whole tree, cached per warm function) |
//! | category slug marker | `CATEGORY_SLUG#<slug>` | `MARKER` | | TransactWrite |
//! | product (variants embedded as a map by variant id) | `PRODUCT#<productId>` | `PRODUCT` | GSI1: `PRODUCT_SLUG#<slug>` / `PRODUCT`; CatalogIndex: `CATALOG#<status>#<shard>` / `<productId>` | GetItem, Query GSI1 (by slug), Query CatalogIndex (cards) |
//! | product slug / SKU markers | `PRODUCT_SLUG#<slug>`, `SKU#<SKU>` | `MARKER` | | TransactWrite |
//! | stock change (inventory transaction) | `PRODUCT#<productId>` | `STOCK#<ulid>` | | TransactWrite (with the stock update), Query (history) |
//! | search term | `TERM#<first two letters>` | `<word>#<productId>` | | Query `begins_with` (prefix match) |
//! | search vocabulary (every word ever indexed) | `SEARCH#VOCABULARY` | `<word>` | | Query (the whole vocabulary, cached per warm function); written in the batch that indexes a new word |
//! | review | `PRODUCT#<productId>` | `REVIEW#<reviewId>` | approved: GSI1 `REVIEWS#<productId>` / `<reviewId>`, GSI2 `REVIEWS#<productId>` / `<stars>#<reviewId>`; pending: GSI3 `REVIEWS#PENDING` / `<reviewId>` | GetItem, Query |
//! | one review per customer | `PRODUCT#<productId>` | `REVIEWER#<userId>` | | TransactWrite |
//! | purchase (makes a review verified) | `USER#<userId>` | `PURCHASE#<productId>` | | BatchGetItem; written in the transaction that commits an order's stock |
//! | wishlist entry | `USER#<userId>` | `WISH#<productId>` | | Query, PutItem (`attribute_not_exists`), DeleteItem |
//! | cart (lines in a map, one TTL) | `CART#USER#<userId>` or `CART#GUEST#<sha256(token)>` | `CART` | | GetItem, conditional PutItem (version), Delete in the checkout transaction |
//! | order (lines, totals, addresses, payment, timeline embedded) | `ORDER#<orderId>` | `ORDER` | GSI1 `USER#<userId>#ORDERS` / `<orderId>`; GSI2 `ORDERS#<status>` / `<orderId>`; GSI3 `RESERVATIONS#RESERVED` / `<expiresAt>#<orderId>` while unpaid stock is held | GetItem, Query, PutItem conditioned on `version` in every transaction that changes it |
//! | idempotency record | `IDEMPOTENCY#<userId>#<key>` | `IDEMPOTENCY` | | GetItem, Put in the checkout transaction (TTL 24 h) |
//! | coupon | `COUPON#<CODE>` | `COUPON` | GSI1 `COUPONS` / `<CODE>` | GetItem, conditional `ADD usedCount` in the checkout transaction |
//! | a customer's uses of a coupon | `COUPON#<CODE>` | `USER#<userId>` | | BatchGetItem, conditional `ADD count` in the checkout transaction |
//! | payment lookup (PaymentIntent → order) | `PAYMENT#<intentId>` | `PAYMENT` | | Put in the transaction that attaches the payment; GetItem for confirm, refund and webhooks |
//! | shipping zone (its methods embedded) | `PRICING#RULES` | `ZONE#<zoneId>` | | Query of the partition (every zone and tax rate, cached per warm function), Query `begins_with` + count (admin list), GetItem, conditional PutItem/DeleteItem |
//! | tax rate | `PRICING#RULES` | `TAX#<rateId>` | | Query of the partition (with the zones), Query `begins_with` + count (admin list), GetItem, TransactWrite (with its destination marker) |
//! | one tax rate per destination (marker) | `TAX_DESTINATION#<country>` or `TAX_DESTINATION#<country>-<region>` | `MARKER` | | TransactWrite |
//! | outbox message (a queue message of a committed change) | `OUTBOX#<messageId>` | `OUTBOX` | GSI3 `OUTBOX#PENDING` / `<createdAt>#<messageId>` until delivered | Put in the transaction of the change; read from the table's stream; DeleteItem once sent; Query GSI3 (re-drive) |
//! | notification: the delivery claim, then the record | `NOTIFICATION#<messageId>` | `NOTIFICATION` | customer mail only: GSI1 `USER#<userId>#NOTIFICATIONS` / `<claimedAt>#<messageId>` | conditional PutItem (claim), GetItem, PutItem, Query GSI1 + count Query (history) |
//! | notification settings | `USER#<userId>` | `SETTINGS#NOTIFICATIONS` | | GetItem (consistent), PutItem |
//! | a day's orders (daily report) | GSI2 `ORDERS#<status>` | GSI2SK `BETWEEN` the order ids of the day's first and the next day's first millisecond | | one Query per status, concurrently |
//! | daily report (one per UTC day) | `REPORT#DAILY` | `<YYYY-MM-DD>` | | PutItem (a rerun replaces it), GetItem |
//! | catalog import (counts, checkpoint, lease) | `IMPORT#<importId>` | `IMPORT` | GSI1 `IMPORTS` / `<importId>` | PutItem, GetItem (consistent), conditional UpdateItem (claim, checkpoint, finish), Query GSI1 + count Query (newest first) |
//! | a row an import refused | `IMPORT#<importId>` | `ERROR#<row>` (zero-padded) | | BatchWrite per chunk of products, Query + count Query (report pages) |
//! | ACTIVE products for low-stock alerts | CatalogIndex `CATALOG#ACTIVE#<shard>` | | | Query of the 4 shards, concurrently |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::ids::SessionId;
use crate::domain::{
    AddressId, CategoryId, CountryCode, CouponCode, Email, ImportId, OrderId, OrderStatus, ProductId, ProductStatus,
    RegionCode, ReviewId, Slug, TaxRateId, UserId, ZoneId,
};

pub const PK: &str = "PK";
/// The key a cold start reads to open the table's connection: nothing is ever stored at it.
pub const WARM_UP: &str = "WARMUP";
pub const SK: &str = "SK";
pub const TTL: &str = "expiresAt";

/// The table's global secondary indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
    /// Product cards only (an INCLUDE projection).
    Catalog,
}

impl Index {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gsi1 => "GSI1",
            Self::Gsi2 => "GSI2",
            Self::Gsi3 => "GSI3",
            Self::Catalog => "CatalogIndex",
        }
    }

    /// The partition-key attribute of the index.
    pub fn pk(self) -> &'static str {
        match self {
            Self::Gsi1 => "GSI1PK",
            Self::Gsi2 => "GSI2PK",
            Self::Gsi3 => "GSI3PK",
            Self::Catalog => "GSI4PK",
        }
    }

    /// The sort-key attribute of the index.
    pub fn sk(self) -> &'static str {
        match self {
            Self::Gsi1 => "GSI1SK",
            Self::Gsi2 => "GSI2SK",
            Self::Gsi3 => "GSI3SK",
            Self::Catalog => "GSI4SK",
        }
    }
}

/// A primary key plus the index keys an item carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
    pub indexes: Vec<(Index, String, String)>,
}

/// The string attribute `name` of `item`, empty when absent: tells apart the
/// items a batch read returns.
pub fn text_of(item: &super::Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// The primary key of a stored item.
pub fn key_of(item: &super::Item) -> Key {
    Key::new(text_of(item, PK), text_of(item, SK))
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            indexes: Vec::new(),
        }
    }

    pub fn with_index(mut self, index: Index, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.indexes.push((index, pk.into(), sk.into()));
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
        for (index, pk, sk) in &self.indexes {
            item.insert(index.pk().to_owned(), AttributeValue::S(pk.clone()));
            item.insert(index.sk().to_owned(), AttributeValue::S(sk.clone()));
        }
    }

    /// True when `item` is this key's item.
    pub fn matches(&self, item: &super::Item) -> bool {
        text_of(item, PK) == self.pk && text_of(item, SK) == self.sk
    }
}

// ---- users ----

pub const PROFILE: &str = "PROFILE";
pub const ADDRESS_PREFIX: &str = "ADDR#";
pub const SESSION_PREFIX: &str = "SESSION#";
pub const ALL_USERS: &str = "USERS";

pub fn user_partition(user: UserId) -> String {
    format!("USER#{user}")
}

pub fn user_profile(user: UserId) -> Key {
    Key::new(user_partition(user), PROFILE).with_index(Index::Gsi1, ALL_USERS, user.to_string())
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

// ---- catalog ----

pub const MARKER: &str = "MARKER";
pub const ALL_CATEGORIES: &str = "CATEGORIES";
pub const STOCK_PREFIX: &str = "STOCK#";
pub const WISH_PREFIX: &str = "WISH#";
pub const PRODUCT_PREFIX: &str = "PRODUCT#";
/// Catalog index partitions per status: cards spread over this many keys so no
/// single index partition takes every product write.
pub const CATALOG_SHARDS: u8 = 4;

pub fn category(id: CategoryId) -> Key {
    category_key(id).with_index(Index::Gsi1, ALL_CATEGORIES, id.to_string())
}

/// A category's primary key alone.
pub fn category_key(id: CategoryId) -> Key {
    Key::new(format!("CATEGORY#{id}"), "CATEGORY")
}

pub fn category_slug(slug: &Slug) -> Key {
    Key::new(format!("CATEGORY_SLUG#{slug}"), MARKER)
}

pub fn product_partition(id: ProductId) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

pub fn product_slug_index(slug: &Slug) -> String {
    format!("PRODUCT_SLUG#{slug}")
}

/// The sort key every product carries on GSI1 (under its slug).
pub const PRODUCT_SK: &str = "PRODUCT";

/// The catalog-index shard of a product: spread by the id's random part.
pub fn catalog_shard(id: ProductId) -> u8 {
    id.to_string().bytes().last().map_or(0, |b| b % CATALOG_SHARDS)
}

pub fn catalog_partition(status: ProductStatus, shard: u8) -> String {
    format!("CATALOG#{}#{shard}", status.as_str())
}

pub fn product(id: ProductId, slug: &Slug, status: ProductStatus) -> Key {
    Key::new(product_partition(id), PRODUCT_SK)
        .with_index(Index::Gsi1, product_slug_index(slug), PRODUCT_SK)
        .with_index(
            Index::Catalog,
            catalog_partition(status, catalog_shard(id)),
            id.to_string(),
        )
}

/// The product's primary key alone (reads and updates that do not move index keys).
pub fn product_key(id: ProductId) -> Key {
    Key::new(product_partition(id), PRODUCT_SK)
}

pub fn product_slug_marker(slug: &Slug) -> Key {
    Key::new(product_slug_index(slug), MARKER)
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

/// The partition of the search terms that start with `term`'s first two letters.
pub fn search_term_partition(term: &str) -> String {
    let bucket: String = term.chars().take(2).collect();
    format!("TERM#{bucket}")
}

pub fn search_term(term: &str, product: ProductId) -> Key {
    Key::new(search_term_partition(term), format!("{term}#{product}"))
}

pub const SEARCH_VOCABULARY: &str = "SEARCH#VOCABULARY";

pub fn search_vocabulary_word(term: &str) -> Key {
    Key::new(SEARCH_VOCABULARY, term)
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

// ---- carts, orders, coupons, payments ----

pub fn user_cart(user: UserId) -> Key {
    Key::new(format!("CART#USER#{user}"), "CART")
}

pub fn guest_cart(token_digest: &str) -> Key {
    Key::new(format!("CART#GUEST#{token_digest}"), "CART")
}

pub fn order_partition(id: OrderId) -> String {
    format!("ORDER#{id}")
}

/// The order's primary key alone.
pub fn order_key(id: OrderId) -> Key {
    Key::new(order_partition(id), "ORDER")
}

/// A customer's orders on GSI1.
pub fn customer_orders(user: UserId) -> String {
    format!("USER#{user}#ORDERS")
}

/// Orders of one status on GSI2.
pub fn orders_with_status(status: OrderStatus) -> String {
    format!("ORDERS#{}", status.as_str())
}

/// Unpaid held reservations on GSI3, by expiry: what the sweeper expires.
pub const HELD_RESERVATIONS: &str = "RESERVATIONS#RESERVED";

/// An epoch second as a sort key that orders as a number does.
pub fn epoch_sort_key(seconds: i64) -> String {
    format!("{seconds:012}")
}

/// The order's keys for its state: always listed for its customer and by
/// status; on the sweeper's index while unpaid stock is held.
pub fn order(id: OrderId, user: UserId, status: OrderStatus, held_until: Option<i64>) -> Key {
    let key = order_key(id)
        .with_index(Index::Gsi1, customer_orders(user), id.to_string())
        .with_index(Index::Gsi2, orders_with_status(status), id.to_string());
    match held_until {
        Some(expires) => key.with_index(
            Index::Gsi3,
            HELD_RESERVATIONS,
            format!("{}#{id}", epoch_sort_key(expires)),
        ),
        None => key,
    }
}

pub fn idempotency(user: UserId, key: &str) -> Key {
    Key::new(format!("IDEMPOTENCY#{user}#{key}"), "IDEMPOTENCY")
}

pub const ALL_COUPONS: &str = "COUPONS";

pub fn coupon(code: &CouponCode) -> Key {
    coupon_key(code).with_index(Index::Gsi1, ALL_COUPONS, code.to_string())
}

/// A coupon's primary key alone.
pub fn coupon_key(code: &CouponCode) -> Key {
    Key::new(format!("COUPON#{code}"), "COUPON")
}

pub fn coupon_use(code: &CouponCode, user: UserId) -> Key {
    Key::new(format!("COUPON#{code}"), format!("USER#{user}"))
}

pub fn payment_lookup(intent: &str) -> Key {
    Key::new(format!("PAYMENT#{intent}"), "PAYMENT")
}

// ---- shipping zones and tax rates ----

/// Every shipping zone and tax rate: one partition, read whole.
pub const PRICING_RULES: &str = "PRICING#RULES";
pub const ZONE_PREFIX: &str = "ZONE#";
pub const TAX_RATE_PREFIX: &str = "TAX#";

pub fn shipping_zone(id: ZoneId) -> Key {
    Key::new(PRICING_RULES, format!("{ZONE_PREFIX}{id}"))
}

pub fn tax_rate(id: TaxRateId) -> Key {
    Key::new(PRICING_RULES, format!("{TAX_RATE_PREFIX}{id}"))
}

/// The marker that keeps one tax rate per country, and one per region.
pub fn tax_destination(country: CountryCode, region: Option<&RegionCode>) -> Key {
    match region {
        Some(region) => Key::new(format!("TAX_DESTINATION#{region}"), MARKER),
        None => Key::new(format!("TAX_DESTINATION#{country}"), MARKER),
    }
}

// ---- catalog imports ----

pub const ALL_IMPORTS: &str = "IMPORTS";
pub const IMPORT_SK: &str = "IMPORT";
pub const IMPORT_ERROR_PREFIX: &str = "ERROR#";

pub fn import_partition(id: ImportId) -> String {
    format!("IMPORT#{id}")
}

pub fn import(id: ImportId) -> Key {
    Key::new(import_partition(id), IMPORT_SK).with_index(Index::Gsi1, ALL_IMPORTS, id.to_string())
}

pub fn import_key(id: ImportId) -> Key {
    Key::new(import_partition(id), IMPORT_SK)
}

pub fn import_error(id: ImportId, row: u64) -> Key {
    Key::new(import_partition(id), format!("{IMPORT_ERROR_PREFIX}{row:010}"))
}

// ---- outbox, notifications, reports ----

pub const OUTBOX_PREFIX: &str = "OUTBOX#";
/// Outbox messages not yet sent, oldest first, on GSI3.
pub const PENDING_OUTBOX: &str = "OUTBOX#PENDING";

pub fn outbox(message_id: &str, created_at_millis: i64) -> Key {
    Key::new(format!("{OUTBOX_PREFIX}{message_id}"), "OUTBOX").with_index(
        Index::Gsi3,
        PENDING_OUTBOX,
        format!("{created_at_millis:015}#{message_id}"),
    )
}

/// The outbox message's primary key alone.
pub fn outbox_key(message_id: &str) -> Key {
    Key::new(format!("{OUTBOX_PREFIX}{message_id}"), "OUTBOX")
}

/// Sort keys of pending outbox messages created before `millis`.
pub fn outbox_before(millis: i64) -> String {
    format!("{millis:015}")
}

pub fn notification_key(message_id: &str) -> Key {
    Key::new(format!("NOTIFICATION#{message_id}"), "NOTIFICATION")
}

pub fn customer_notifications(user: UserId) -> String {
    format!("USER#{user}#NOTIFICATIONS")
}

/// A notification's keys: customer mail is also listed in the customer's history.
pub fn notification(message_id: &str, user: Option<UserId>, claimed_at: &str) -> Key {
    let key = notification_key(message_id);
    match user {
        Some(user) => key.with_index(
            Index::Gsi1,
            customer_notifications(user),
            format!("{claimed_at}#{message_id}"),
        ),
        None => key,
    }
}

pub fn notification_settings(user: UserId) -> Key {
    Key::new(user_partition(user), "SETTINGS#NOTIFICATIONS")
}

pub fn daily_report(date: &str) -> Key {
    Key::new("REPORT#DAILY", date.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of a Markdown table, each line stripped of `prefix`.
    fn rows(text: &str, prefix: &str) -> Vec<String> {
        text.lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
            .filter(|line| line.starts_with('|') && !line.starts_with("|---") && !line.starts_with("| entity"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_data_model_document_lists_the_access_patterns_of_this_module() {
        let module = rows(include_str!("keys.rs"), "//! ");
        let document = include_str!("../../../docs/data-model.md");
        let section = document
            .split("## Access patterns")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").find(|block| block.trim_start().starts_with('|')))
            .expect("docs/data-model.md has an access-pattern table");
        assert!(!module.is_empty());
        assert_eq!(
            rows(section, ""),
            module,
            "docs/data-model.md and store/keys.rs must list the same access patterns"
        );
    }

    #[test]
    fn keys_follow_the_documented_patterns() {
        let order = OrderId::generate();
        let user = UserId::generate();
        let key = super::order(order, user, OrderStatus::Pending, Some(1_700_000_000));
        assert_eq!(key.pk, format!("ORDER#{order}"));
        let mut item = HashMap::new();
        key.write_into(&mut item);
        assert_eq!(text_of(&item, "GSI1PK"), format!("USER#{user}#ORDERS"));
        assert_eq!(text_of(&item, "GSI2PK"), "ORDERS#pending");
        assert_eq!(text_of(&item, "GSI3SK"), format!("001700000000#{order}"));
        let outbox = super::outbox("01ABC", 5);
        assert_eq!(outbox.indexes[0].2, "000000000000005#01ABC");
        assert!(outbox.indexes[0].2 < format!("{}#", outbox_before(6)));
    }
}
