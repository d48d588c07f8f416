//! Part 6, `shop-bench scale`: the catalog routes as the catalog grows. Tier
//! by tier, products are bulk-loaded into the part's own table (BatchWriteItem:
//! the products as the store writes them, then their search terms through the
//! store), and the listing and two searches are measured: latency through
//! the gateway, and the read units and requests each call costs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use shop::catalog::categories::CategoryTree;
use shop::catalog::products::terms_of;
use shop::domain::{Money, ProductId, ProductStatus, Sku, Slug, Timestamp};
use shop::store::keys;
use shop::store::products::{ProductContent, ProductRecord};
use shop_local::HttpCall;

use crate::BoxError;
use crate::meter::Units;
use crate::report::{Table, figure};
use crate::shopper::Shopper;
use crate::stack::LocalStack;
use crate::stats::{median, millis, percentile};

/// The section of `docs/performance.md` this part owns.
pub const SECTION: &str = "scale";

/// Batch writes in flight while loading.
const LOADERS: usize = 8;

#[derive(Debug, Clone)]
pub struct Options {
    /// Catalog sizes to measure at, ascending.
    pub tiers: Vec<usize>,
    /// Timed calls per route and tier (after one warm-up call).
    pub iterations: usize,
}

const ADJECTIVES: [&str; 30] = [
    "classic", "compact", "deluxe", "rugged", "slim", "smart", "vintage", "modern", "portable", "premium", "quiet",
    "sturdy", "light", "bright", "soft", "silent", "rapid", "cosy", "urban", "alpine", "coastal", "solar", "wooden",
    "steel", "woven", "folding", "electric", "handmade", "organic", "wireless",
];
const NOUNS: [&str; 30] = [
    "lamp",
    "kettle",
    "backpack",
    "jacket",
    "speaker",
    "blender",
    "chair",
    "notebook",
    "blanket",
    "helmet",
    "watch",
    "bottle",
    "camera",
    "tent",
    "scarf",
    "mixer",
    "monitor",
    "keyboard",
    "sofa",
    "boots",
    "toaster",
    "drone",
    "grill",
    "rug",
    "mug",
    "pillow",
    "bicycle",
    "charger",
    "headphones",
    "desk",
];
const COLOURS: [&str; 10] = [
    "black", "white", "grey", "navy", "olive", "red", "teal", "sand", "plum", "amber",
];
const BRANDS: [&str; 12] = [
    "Acme",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
];
const CATEGORIES: [&str; 6] = ["Home", "Outdoor", "Audio", "Kitchen", "Office", "Apparel"];

/// What the catalog routes are measured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Listing,
    NarrowSearch,
    BroadSearch,
}

const ROUTES: [Route; 3] = [Route::Listing, Route::NarrowSearch, Route::BroadSearch];

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Listing => "listing",
            Route::NarrowSearch => "narrow search",
            Route::BroadSearch => "broad search",
        }
    }

    fn call(self) -> HttpCall {
        let search = |query: String| HttpCall::new("POST", "/api/v1/products/search").json(&json!({"query": query}));
        match self {
            Route::Listing => HttpCall::new("GET", "/api/v1/products?limit=20"),
            // Two words that one product in 900 has together.
            Route::NarrowSearch => search(format!("{} {}", ADJECTIVES[0], NOUNS[0])),
            // One word that one product in 30 has.
            Route::BroadSearch => search(NOUNS[0].to_owned()),
        }
    }

    fn request(self) -> String {
        match self {
            Route::Listing => "`GET /products?limit=20`".into(),
            Route::NarrowSearch => format!("`POST /products/search` \"{} {}\"", ADJECTIVES[0], NOUNS[0]),
            Route::BroadSearch => format!("`POST /products/search` \"{}\"", NOUNS[0]),
        }
    }
}

/// One route at one tier.
#[derive(Debug, Clone)]
struct Row {
    products: usize,
    load: Duration,
    route: Route,
    matches: u64,
    requests: usize,
    read_units: f64,
    latencies: Vec<f64>,
    /// The status of a call the API could not serve at this size (a 503 when
    /// reading the catalog outlasts the SDK's operation timeout): where the design stops.
    failed: Option<u16>,
}

/// Measures, and returns the Markdown of the section.
pub async fn run(options: &Options) -> Result<String, BoxError> {
    let stack = LocalStack::provision("scale").await?;
    let measured = measure(&stack, options).await;
    stack.remove().await;
    Ok(render(&measured?, options))
}

async fn measure(stack: &LocalStack, options: &Options) -> Result<Vec<Row>, BoxError> {
    let admin = Shopper::admin(stack).await?;
    for name in CATEGORIES {
        admin.create_category(stack, name).await?;
    }
    let catalog = stack.gateway.functions.catalog_api().catalog();
    catalog.forget_tree().await;
    let tree = catalog.tree().await?;
    let mut loader = Loader::new(stack, &tree)?;
    let mut rows = Vec::new();
    for &tier in &options.tiers {
        let started = Instant::now();
        loader.load_up_to(tier).await?;
        let load = started.elapsed();
        eprintln!(
            "shop-bench: scale: {tier} products loaded in {:.1}s",
            load.as_secs_f64()
        );
        for route in ROUTES {
            rows.push(measure_route(stack, route, tier, load, options.iterations).await?);
        }
    }
    Ok(rows)
}

async fn measure_route(
    stack: &LocalStack,
    route: Route,
    products: usize,
    load: Duration,
    iterations: usize,
) -> Result<Row, BoxError> {
    // The warm-up call, metered: what one call reads.
    stack.dynamodb.take();
    stack.dynamodb.meter_capacity(true);
    let answer = stack.call(route.call()).await;
    stack.dynamodb.meter_capacity(false);
    let requests = stack.dynamodb.take();
    if answer.status >= 500 {
        eprintln!(
            "shop-bench: scale: {} at {products} products answers {}",
            route.label(),
            answer.status
        );
        return Ok(Row {
            products,
            load,
            route,
            matches: 0,
            requests: requests.len(),
            read_units: requests
                .iter()
                .filter_map(|r| r.units)
                .filter(|(kind, _)| *kind == Units::Read)
                .map(|(_, units)| units)
                .sum(),
            latencies: Vec::new(),
            failed: Some(answer.status),
        });
    }
    let answer = answer.expect(200, route.label())?;
    let read_units = requests
        .iter()
        .filter_map(|r| r.units)
        .filter(|(kind, _)| *kind == Units::Read)
        .map(|(_, units)| units)
        .sum();
    let matches = answer.data()["pagination"]["totalItems"].as_u64().unwrap_or(0);
    let mut latencies = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let answer = stack.call(route.call()).await.expect(200, route.label())?;
        latencies.push(millis(answer.elapsed));
    }
    stack.dynamodb.take();
    Ok(Row {
        products,
        load,
        route,
        matches,
        requests: requests.len(),
        read_units,
        latencies,
        failed: None,
    })
}

/// Writes generated products into the table, tier after tier.
struct Loader<'a> {
    stack: &'a LocalStack,
    tree: &'a CategoryTree,
    categories: Vec<shop::domain::CategoryId>,
    loaded: usize,
    /// Words already in the search vocabulary.
    vocabulary: BTreeSet<String>,
    /// Whether the bulk term items were compared with the store's.
    checked: bool,
}

impl<'a> Loader<'a> {
    fn new(stack: &'a LocalStack, tree: &'a CategoryTree) -> Result<Self, BoxError> {
        let categories = CATEGORIES
            .iter()
            .map(|name| tree.find(&name.to_lowercase()).map(|c| c.category_id))
            .collect::<Option<Vec<_>>>()
            .ok_or("the bench's categories are not in the tree")?;
        Ok(Self {
            stack,
            tree,
            categories,
            loaded: 0,
            vocabulary: BTreeSet::new(),
            checked: false,
        })
    }

    /// Adds products until the catalog holds `target`: the products as the
    /// store writes them, 25 to a BatchWriteItem, then their search terms.
    async fn load_up_to(&mut self, target: usize) -> Result<(), BoxError> {
        let store = self.stack.bulk_store();
        let now = Timestamp::now();
        let records = (self.loaded..target)
            .map(|index| self.product(index, now))
            .collect::<Result<Vec<_>, BoxError>>()?;
        let items = records
            .iter()
            .map(|record| shop::store::to_item(&record.key(), record))
            .collect::<Result<Vec<_>, _>>()?;
        write_in_batches(&store, items)
            .await
            .map_err(|e| format!("writing products: {e}"))?;
        // A product that brings words new to the search vocabulary is indexed
        // by the store itself, which adds them to the vocabulary (what it is
        // told the product held before decides which words are new). The
        // others' term items are written in full batches, checked below to be
        // the items the store writes.
        let mut by_store = Vec::new();
        let mut term_items = Vec::new();
        for record in &records {
            let terms = &record.search_terms;
            if terms.keys().all(|word| self.vocabulary.contains(word)) {
                term_items.extend(term_items_of(record));
                continue;
            }
            let known: BTreeMap<String, u8> = terms
                .iter()
                .filter(|(word, _)| self.vocabulary.contains(*word))
                .map(|(word, weight)| (word.clone(), *weight))
                .collect();
            self.vocabulary.extend(terms.keys().cloned());
            by_store.push(Indexing {
                product: record.product_id,
                known,
                terms: terms.clone(),
            });
        }
        futures::stream::iter(
            by_store
                .iter()
                .map(|indexing| store.sync_search_terms(indexing.product, &indexing.known, &indexing.terms)),
        )
        .buffer_unordered(LOADERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("indexing search terms: {e}"))?;
        write_in_batches(&store, term_items)
            .await
            .map_err(|e| format!("writing search terms: {e}"))?;
        if !self.checked {
            check_term_items(&store, &by_store, &records).await?;
            self.checked = true;
        }
        self.loaded = target.max(self.loaded);
        Ok(())
    }

    /// Product `index`: a name from three word lists, one of six categories,
    /// stock to sell, as `create_product` would store it.
    fn product(&self, index: usize, now: Timestamp) -> Result<ProductRecord, BoxError> {
        let adjective = ADJECTIVES[index % ADJECTIVES.len()];
        let noun = NOUNS[(index / ADJECTIVES.len()) % NOUNS.len()];
        let colour = COLOURS[(index / (ADJECTIVES.len() * NOUNS.len())) % COLOURS.len()];
        let category = self.categories[index % self.categories.len()];
        let path = self
            .tree
            .get(category)
            .map(|c| c.path.clone())
            .ok_or("a category left the tree")?;
        let image = format!("https://cdn.example.com/products/bench/{index}.jpg");
        let mut content = ProductContent {
            name: format!("{} {colour} {noun}", capitalised(adjective)),
            slug: Slug::parse(&format!("{adjective}-{colour}-{noun}-{index}"))?,
            // No word of its own: every product has as many search terms as the next.
            description: format!("A {adjective} {noun} by {}.", BRANDS[index % BRANDS.len()]),
            long_description: None,
            price: Money::from_cents(500 + (index as i64 * 7919) % 49_500),
            compare_price: None,
            currency: "USD".into(),
            category_id: category,
            category_path: path,
            brand: BRANDS[index % BRANDS.len()].into(),
            sku: Sku::parse(&format!("SCALE-{index:06}"))?,
            images: vec![image.clone()],
            image: Some(image),
            specifications: BTreeMap::new(),
            tags: Vec::new(),
            status: ProductStatus::Active,
            is_featured: index.is_multiple_of(50),
            low_stock_threshold: 5,
            seo_title: None,
            seo_description: None,
            search_terms: BTreeMap::new(),
        };
        content.search_terms = terms_of(&content, self.tree);
        Ok(ProductRecord {
            product_id: ProductId::generate(),
            content,
            stock: 100,
            variants: BTreeMap::new(),
            inventory: 100,
            rating_total: 0,
            review_count: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }
}

/// A product the store indexes itself: what it is told the product held
/// before (the words already known), and its terms.
struct Indexing {
    product: ProductId,
    known: BTreeMap<String, u8>,
    terms: BTreeMap<String, u8>,
}

/// Writes `items` 25 to a BatchWriteItem, [`LOADERS`] batches at a time.
async fn write_in_batches(store: &shop::store::Store, items: Vec<shop::store::Item>) -> Result<(), BoxError> {
    let chunks: Vec<Vec<_>> = items.chunks(25).map(<[_]>::to_vec).collect();
    futures::stream::iter(chunks.into_iter().map(|chunk| store.put_items(chunk)))
        .buffer_unordered(LOADERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(())
}

/// The search-term items of a product: one per term, keyed as the store keys
/// them, naming the product.
fn term_items_of(record: &ProductRecord) -> Vec<shop::store::Item> {
    record
        .search_terms
        .keys()
        .map(|term| {
            let mut item = keys::search_term(term, record.product_id).primary();
            item.insert("productId".into(), shop::store::string(record.product_id.to_string()));
            item
        })
        .collect()
}

/// Reads back a term item the store wrote and one the loader wrote: if their
/// attributes differ, the store's format moved on and the loader must follow.
async fn check_term_items(
    store: &shop::store::Store,
    by_store: &[Indexing],
    records: &[ProductRecord],
) -> Result<(), BoxError> {
    let bulk = records
        .iter()
        .find(|record| !by_store.iter().any(|indexing| indexing.product == record.product_id));
    let (Some(indexed), Some(bulk)) = (by_store.first(), bulk) else {
        return Ok(());
    };
    let read = |id: ProductId, term: String| async move {
        let key = keys::search_term(&term, id).primary();
        let output = store
            .client()
            .get_item()
            .table_name(store.table())
            .set_key(Some(key))
            .send()
            .await?;
        let names: BTreeSet<String> = output.item.unwrap_or_default().into_keys().collect();
        Ok::<_, BoxError>(names)
    };
    let store_term = indexed.terms.keys().next().cloned().unwrap_or_default();
    let bulk_term = bulk.search_terms.keys().next().cloned().unwrap_or_default();
    let written_by_store = read(indexed.product, store_term).await?;
    let written_here = read(bulk.product_id, bulk_term).await?;
    if written_here.is_empty() {
        return Err("a search term the bulk loader wrote cannot be read back".into());
    }
    if written_by_store != written_here {
        return Err(format!(
            "the store writes search terms with the attributes {written_by_store:?}, the bulk loader with \
             {written_here:?}: bench/src/scale.rs must follow the store"
        )
        .into());
    }
    Ok(())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn render(rows: &[Row], options: &Options) -> String {
    let mut table = Table::new(&[
        "products",
        "route",
        "request",
        "matches",
        "DynamoDB requests",
        "RRU per call",
        "p50 ms",
        "p99 ms",
        "$ per million calls (reads)",
    ]);
    for row in rows {
        table.row(vec![
            row.products.to_string(),
            row.route.label().to_owned(),
            row.route.request(),
            row.matches.to_string(),
            row.requests.to_string(),
            figure(Some(row.read_units), 1),
            match row.failed {
                Some(status) => format!("fails ({status})"),
                None => figure(median(&row.latencies), 1),
            },
            figure(percentile(&row.latencies, 0.99), 1),
            format!("${:.2}", row.read_units * 0.125),
        ]);
    }
    let loads: Vec<String> = rows
        .iter()
        .filter(|row| row.route == Route::Listing)
        .map(|row| format!("{} in {:.1} s", row.products, row.load.as_secs_f64()))
        .collect();
    let growth = listing_growth(rows).map_or_else(String::new, |per_thousand| {
        format!(
            " A listing reads every card of the catalog index, whatever page it shows: \
             **{per_thousand:.1} read units per 1,000 products**, so its cost and time grow \
             with the catalog, not with the page."
        )
    });
    format!(
        "{}\n{iterations} timed call(s) per route and size, after one call that is metered (its read units and \
         requests are the table's figures), through the local runner's in-process gateway (release build). The \
         products are loaded tier by tier into the part's own table with BatchWriteItem, loaded in: {loads}. Each \
         product has one of 30 adjectives, 10 colours and 30 nouns in its name, one of 12 brands and 6 categories, \
         and stock; the narrow search matches one product in 900, the broad one one in 30 (a search shows what is \
         in stock).{growth} The $ column prices the read units alone at $0.125 per million RRU; Lambda time \
         grows with them.\n",
        table.render(3),
        iterations = options.iterations,
        loads = loads.join(", "),
    )
}

/// Read units of a listing per 1,000 products, from the largest tier.
fn listing_growth(rows: &[Row]) -> Option<f64> {
    let largest = rows
        .iter()
        .filter(|row| row.route == Route::Listing && row.products > 0 && row.failed.is_none())
        .max_by_key(|row| row.products)?;
    Some(largest.read_units / largest.products as f64 * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_names() {
        assert_eq!(capitalised("classic"), "Classic");
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn every_combination_of_the_word_lists_is_a_valid_slug_and_sku() {
        for index in [0, 29, 899, 8999, 49_999] {
            let adjective = ADJECTIVES[index % ADJECTIVES.len()];
            let noun = NOUNS[(index / ADJECTIVES.len()) % NOUNS.len()];
            assert!(Slug::parse(&format!("{adjective}-black-{noun}-{index}")).is_ok());
            assert!(Sku::parse(&format!("SCALE-{index:06}")).is_ok());
        }
    }

    #[test]
    fn the_listing_grows_per_thousand_products() {
        let row = |products, read_units| Row {
            products,
            load: Duration::ZERO,
            route: Route::Listing,
            matches: 0,
            requests: 1,
            read_units,
            latencies: Vec::new(),
            failed: None,
        };
        assert_eq!(listing_growth(&[row(1000, 10.0), row(10_000, 80.0)]), Some(8.0));
        assert_eq!(listing_growth(&[]), None);
    }
}
