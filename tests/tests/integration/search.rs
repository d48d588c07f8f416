//! Search and facets against the seeded demo catalog. The expectations are
//! computed from the seed data itself, independently of the index.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use shop::catalog::search::{QueryWord, Searchable, product_terms, query_terms, score};
use shop_local::seed_data::{SeedCatalog, SeedProduct, SeedStatus, demo_catalog};
use shop_tests::TestApp;

/// The names from the root down to a leaf category of the seed.
fn category_names(demo: &SeedCatalog, leaf: &str) -> Vec<String> {
    let by_slug: HashMap<&str, _> = demo.categories.iter().map(|c| (c.slug.as_str(), c)).collect();
    let mut names = Vec::new();
    let mut current = by_slug.get(leaf).copied();
    while let Some(category) = current {
        names.insert(0, category.name.clone());
        current = category
            .parent
            .as_deref()
            .and_then(|parent| by_slug.get(parent).copied());
    }
    names
}

fn in_stock(product: &SeedProduct) -> bool {
    product.stock > 0 || product.variants.iter().any(|v| v.stock > 0)
}

/// The seed products a customer search for `query` must return, with their scores.
fn expected_matches<'a>(demo: &'a SeedCatalog, query: &str) -> Vec<(&'a SeedProduct, f64)> {
    let terms: Vec<QueryWord> = query_terms(query).iter().map(|t| QueryWord::exact(t)).collect();
    demo.products
        .iter()
        .filter(|p| p.status == SeedStatus::Active && in_stock(p))
        .filter_map(|p| {
            let names = category_names(demo, &p.category);
            let product = Searchable {
                name: &p.name,
                brand: &p.brand,
                categories: names.iter().map(String::as_str).collect(),
                tags: &p.tags,
                description: &p.description,
            };
            score(&product_terms(&product), &terms).map(|s| (p, s))
        })
        .collect()
}

fn names(response: &Value) -> Vec<String> {
    response["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_ranks_name_matches_first_and_counts_facets_over_every_match() {
    let app = TestApp::spawn().await;
    let report = app.seed().await;
    assert_eq!(report.products_created, 234);
    let demo = demo_catalog();
    let expected = expected_matches(&demo, "wireless");
    assert!(
        expected.len() >= 20,
        "the seed has enough wireless products: {}",
        expected.len()
    );
    app.list_categories().await;
    app.search(json!({"query": "warm"})).await;
    app.reset_calls();

    let response = app.search(json!({"query": "wireless", "limit": 100})).await;

    response.expect_status(200);
    let calls = app.calls();
    assert_eq!(
        calls,
        ["Query", "BatchGetItem"],
        "two round trips: the term index, then the candidates (the vocabulary is cached)"
    );
    let data = response.data();
    assert_eq!(data["pagination"]["totalItems"], expected.len());
    let scores: Vec<f64> = data["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked by score: {scores:?}");
    let name_matches = expected
        .iter()
        .filter(|(p, _)| p.name.to_lowercase().contains("wireless"))
        .count();
    let top: Vec<String> = names(data).into_iter().take(name_matches).collect();
    assert!(
        top.iter().all(|n| n.to_lowercase().contains("wireless")),
        "name matches (×3) come first: {top:?}"
    );
    assert!(
        data["products"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["inStock"] == true && p["status"] == "ACTIVE")
    );

    let mut brands: BTreeMap<String, u64> = BTreeMap::new();
    for (product, _) in &expected {
        *brands.entry(product.brand.clone()).or_default() += 1;
    }
    let facet_brands: BTreeMap<String, u64> = data["facets"]["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["brand"].as_str().unwrap().to_owned(), b["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(facet_brands, brands);
    let electronics = expected
        .iter()
        .filter(|(p, _)| category_names(&demo, &p.category)[0] == "Electronics")
        .count();
    let facet = data["facets"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "electronics")
        .unwrap();
    assert_eq!(facet["count"], electronics);
    let price_total: u64 = data["facets"]["priceRanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        price_total,
        expected.len() as u64,
        "the price buckets cover every match once"
    );
}

#[tokio::test]
async fn prefixes_filters_and_multi_word_queries_narrow_the_search() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let demo = demo_catalog();

    let prefix = app.search(json!({"query": "wirel", "limit": 100})).await;
    let exact = app.search(json!({"query": "wireless", "limit": 100})).await;
    assert_eq!(
        prefix.data()["pagination"]["totalItems"],
        exact.data()["pagination"]["totalItems"]
    );

    let both = app.search(json!({"query": "wireless headphones", "limit": 100})).await;
    let expected = expected_matches(&demo, "wireless headphones");
    assert_eq!(both.data()["pagination"]["totalItems"], expected.len());
    let top = names(both.data())[0].to_lowercase();
    assert!(
        top.contains("wireless") && top.contains("headphones"),
        "both words in the name rank first: {top}"
    );

    let filtered = app
        .search(json!({"query": "wireless", "filters": {"brand": "TechBrand", "maxPrice": 150}, "sort": "price", "sortOrder": "asc"}))
        .await;
    filtered.expect_status(200);
    let prices: Vec<f64> = filtered.data()["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"].as_f64().unwrap())
        .collect();
    assert!(!prices.is_empty() && prices.windows(2).all(|w| w[0] <= w[1]) && prices.iter().all(|p| *p <= 150.0));
    assert!(
        filtered.data()["products"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["brand"] == "TechBrand")
    );

    let via_get = app.list_products("search=wireless&limit=100").await;
    assert_eq!(
        via_get.data()["pagination"]["totalItems"],
        exact.data()["pagination"]["totalItems"]
    );

    let nothing = app.search(json!({"query": "zzzyx"})).await;
    nothing.expect_status(200);
    assert_eq!(nothing.data()["pagination"]["totalItems"], 0);
    let bad = app
        .search(json!({"query": 7, "filters": {"minPrice": "cheap"}, "limit": 500}))
        .await;
    bad.expect_status(400);
}

#[tokio::test]
async fn a_mistyped_word_finds_what_the_right_one_finds_and_says_so() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let demo = demo_catalog();
    let expected = expected_matches(&demo, "wireless headphones");
    assert!(!expected.is_empty());

    let typed = app.search(json!({"query": "wirelss headphnes", "limit": 100})).await;
    typed.expect_status(200);
    assert_eq!(typed.data()["pagination"]["totalItems"], expected.len());
    assert_eq!(
        typed.data()["didYouMean"],
        json!({"query": "wireless headphones", "corrections": [
            {"word": "wirelss", "correctedTo": ["wireless"]},
            {"word": "headphnes", "correctedTo": ["headphones"]}
        ]})
    );
    let right = app.search(json!({"query": "wireless headphones", "limit": 100})).await;
    assert_eq!(
        names(typed.data()),
        names(right.data()),
        "the same products in the same order"
    );
    assert!(right.data().get("didYouMean").is_none(), "nothing to correct");
    let score = |page: &shop_tests::TestResponse| page.data()["products"][0]["score"].as_f64().unwrap();
    assert!(
        score(&typed) < score(&right),
        "a corrected word scores below the exact one"
    );

    // Two letters swapped and one missing, from nine letters; through the listing too.
    let listed = app.list_products("search=haedphnes&limit=100").await;
    listed.expect_status(200);
    assert_eq!(listed.data()["didYouMean"]["query"], "headphones");
    assert_eq!(
        listed.data()["pagination"]["totalItems"],
        expected_matches(&demo, "headphones").len()
    );
    // Short words must be typed right, and a word far from every other finds nothing.
    for unknown in ["mose", "wirlss", "zzzyxqwv"] {
        let none = app.search(json!({"query": unknown})).await;
        none.expect_status(200);
        assert_eq!(none.data()["pagination"]["totalItems"], 0, "{unknown}");
    }
}

#[tokio::test]
async fn seeding_a_catalog_indexed_before_the_vocabulary_puts_the_words_back() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let store = &app.gateway.functions.catalog_api().catalog().store;
    let words = store
        .query_keys(&shop::store::table::Query::table(shop::store::keys::SEARCH_VOCABULARY))
        .await
        .unwrap();
    assert!(
        words.len() > 500,
        "every indexed word is in the vocabulary: {}",
        words.len()
    );
    store.delete_keys(&words).await.unwrap();
    let uncorrected = search_with_cold_caches(&app, "headphnes").await;
    assert_eq!(uncorrected["pagination"]["totalItems"], 0);

    let report = app.seed().await;
    assert_eq!(report.products_created, 0);
    assert_eq!(report.vocabulary_words, words.len());
    let corrected = search_with_cold_caches(&app, "headphnes").await;
    assert!(corrected["pagination"]["totalItems"].as_u64().unwrap() > 0);
}

/// A search through a new gateway: its functions have not cached the vocabulary yet.
async fn search_with_cold_caches(app: &TestApp, query: &str) -> Value {
    let gateway = shop_local::server::Gateway::new(&app.stack, &app.clients).unwrap();
    let call = shop_local::HttpCall::new("POST", "/api/v1/products/search").json(&json!({"query": query}));
    let response = gateway.dispatch(call).await;
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    serde_json::from_slice::<Value>(&body).unwrap()["data"].clone()
}

#[tokio::test]
async fn out_of_stock_and_draft_products_are_found_only_when_asked() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let demo = demo_catalog();
    let sold_out = demo
        .products
        .iter()
        .find(|p| p.status == SeedStatus::Active && !in_stock(p))
        .unwrap();
    let draft = demo.products.iter().find(|p| p.status == SeedStatus::Draft).unwrap();

    let default = app.search(json!({"query": sold_out.name, "limit": 100})).await;
    assert!(!names(default.data()).contains(&sold_out.name));
    let asked = app
        .search(json!({"query": sold_out.name, "filters": {"inStock": false}, "limit": 100}))
        .await;
    assert!(names(asked.data()).contains(&sold_out.name));

    let hidden = app
        .search(json!({"query": draft.name, "filters": {"inStock": false}}))
        .await;
    assert!(!names(hidden.data()).contains(&draft.name));
    let admin = app
        .session_with(shop_local::seed::ADMIN_EMAIL, shop_local::seed::ADMIN_PASSWORD)
        .await;
    let as_admin = app
        .send_as(
            "POST",
            "/api/v1/products/search",
            &admin,
            json!({"query": draft.name, "filters": {"status": "DRAFT", "inStock": false}}),
        )
        .await;
    assert!(names(as_admin.data()).contains(&draft.name));
}

#[tokio::test]
async fn renaming_a_product_updates_the_search_index() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&shop_tests::email("admin")).await;
    let category = app.category(&admin, "Lamps", None).await;
    let product = app.product(&admin, &category, json!({"name": "Quartz Lamp"})).await;
    let id = product["productId"].as_str().unwrap();
    assert_eq!(
        app.search(json!({"query": "quartz"})).await.data()["pagination"]["totalItems"],
        1
    );

    app.update_product(&admin, id, json!({"name": "Basalt Lamp"}))
        .await
        .expect_status(200);

    assert_eq!(
        app.search(json!({"query": "quartz"})).await.data()["pagination"]["totalItems"],
        0
    );
    assert_eq!(
        app.search(json!({"query": "basalt"})).await.data()["pagination"]["totalItems"],
        1
    );
    app.archive_product(&admin, id).await.expect_status(200);
    assert_eq!(
        app.search(json!({"query": "basalt"})).await.data()["pagination"]["totalItems"],
        0
    );
}
