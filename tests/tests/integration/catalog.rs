use serde_json::json;
use shop_local::HttpCall;
use shop_tests::{TestApp, email};

#[tokio::test]
async fn a_product_is_read_by_id_or_slug_in_one_round_trip() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let audio = app.category(&admin, "Electronics", None).await;
    let headphones = app.category(&admin, "Headphones", Some(&audio)).await;
    let created = app
        .product(
            &admin,
            &headphones,
            json!({"name": "TechBrand Wireless Headphones", "sku": "WH-001", "price": 99.99, "stock": 50,
                   "specifications": {"color": "Black", "weight": "250g"}, "longDescription": "Detailed product description..."}),
        )
        .await;
    let id = created["productId"].as_str().unwrap().to_owned();
    app.list_categories().await.expect_status(200);
    app.reset_calls();

    let by_id = app.get_product(&id).await;
    assert_eq!(app.calls(), ["GetItem"]);
    let by_slug = app.get_product("techbrand-wireless-headphones").await;
    assert_eq!(app.calls(), ["Query"]);

    by_id.expect_status(200);
    by_slug.expect_status(200);
    let product = by_id.data();
    assert_eq!(by_slug.data()["productId"], id.as_str());
    assert_eq!(product["name"], "TechBrand Wireless Headphones");
    assert_eq!(product["price"], json!(99.99));
    assert_eq!(product["currency"], "USD");
    assert_eq!(product["category"], "Electronics");
    assert_eq!(product["subcategory"], "Headphones");
    assert_eq!(product["sku"], "WH-001");
    assert_eq!(product["inventory"], 50);
    assert_eq!(product["specifications"]["weight"], "250g");
    assert_eq!(product["rating"], json!(0.0));
    assert_eq!(product["reviewCount"], 0);
    assert!(product["createdAt"].is_string() && product["updatedAt"].is_string());
}

#[tokio::test]
async fn sku_and_slug_conflicts_are_409_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Gadgets", None).await;
    app.product(
        &admin,
        &category,
        json!({"name": "First", "slug": "first", "sku": "DUP-1",
        "variants": [{"sku": "DUP-1-S", "options": {"Size": "S"}, "stock": 1}], "stock": 0}),
    )
    .await;

    let same_sku = app
        .create_product(&admin, shop_tests::product_body(&category, json!({"sku": "dup-1"})))
        .await;
    let same_slug = app
        .create_product(&admin, shop_tests::product_body(&category, json!({"slug": "first"})))
        .await;
    let same_variant_sku = app
        .create_product(
            &admin,
            shop_tests::product_body(
                &category,
                json!({"stock": 0,
            "variants": [{"sku": "DUP-1-S", "options": {"Size": "M"}}]}),
            ),
        )
        .await;

    for (response, field) in [
        (&same_sku, "sku"),
        (&same_slug, "slug"),
        (&same_variant_sku, "variants"),
    ] {
        response.expect_status(409);
        assert_eq!(response.code(), "RES_002");
        assert_eq!(response.bad_fields(), [field]);
    }
    let list = app.list_products("").await;
    assert_eq!(list.data()["pagination"]["totalItems"], 1, "nothing half-written");
}

#[tokio::test]
async fn a_customer_cannot_create_or_change_the_catalog() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let customer = app.customer(&email("customer")).await;
    let category = app.category(&admin, "Toys", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let id = product["productId"].as_str().unwrap();

    let attempts = [
        app.create_product(&customer, shop_tests::product_body(&category, json!({})))
            .await,
        app.replace_product(&customer, id, shop_tests::product_body(&category, json!({})))
            .await,
        app.update_product(&customer, id, json!({"price": 0.01})).await,
        app.archive_product(&customer, id).await,
        app.adjust_stock(&customer, id, json!({"set": 0, "reason": "mine"}))
            .await,
        app.create_category(&customer, json!({"name": "Mine"})).await,
        app.delete_category(&customer, &category).await,
    ];

    for response in attempts {
        response.expect_status(403);
        assert_eq!(response.code(), "AUTH_004");
    }
    let anonymous = app
        .call(HttpCall::new("POST", "/api/v1/products").json(&shop_tests::product_body(&category, json!({}))))
        .await;
    anonymous.expect_status(401);
    let unchanged = app.get_product(id).await;
    assert_eq!(unchanged.data()["price"], json!(19.99));
}

#[tokio::test]
async fn draft_and_archived_products_are_invisible_to_customers() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let customer = app.customer(&email("customer")).await;
    let category = app.category(&admin, "Books", None).await;
    let draft = app
        .product(&admin, &category, json!({"status": "DRAFT", "slug": "secret-draft"}))
        .await;
    let active = app.product(&admin, &category, json!({})).await;
    let draft_id = draft["productId"].as_str().unwrap();

    app.get_product(draft_id).await.expect_status(404);
    app.get_product_as(&customer, "secret-draft").await.expect_status(404);
    let list = app.list_products("").await;
    let ids: Vec<_> = list.data()["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["productId"].clone())
        .collect();
    assert_eq!(ids, [active["productId"].clone()]);
    let asked = app.list_products_as(&customer, "status=DRAFT").await;
    asked.expect_status(403);

    let as_admin = app.get_product_as(&admin, draft_id).await;
    as_admin.expect_status(200);
    assert_eq!(as_admin.header("cache-control"), Some("private, no-store"));
    let drafts = app.list_products_as(&admin, "status=DRAFT").await;
    assert_eq!(drafts.data()["pagination"]["totalItems"], 1);

    let archived = app.archive_product(&admin, active["productId"].as_str().unwrap()).await;
    archived.expect_status(200);
    assert_eq!(archived.data()["status"], "ARCHIVED");
    let list = app.list_products("").await;
    assert_eq!(list.data()["pagination"]["totalItems"], 0);
}

#[tokio::test]
async fn stock_never_goes_below_zero_under_concurrent_adjustments() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Flash Sale", None).await;
    let product = app.product(&admin, &category, json!({"stock": 10})).await;
    let id = product["productId"].as_str().unwrap();

    let attempts =
        (0..25).map(|_| app.adjust_stock(&admin, id, json!({"adjust": -1, "reason": "sold at the counter"})));
    let responses = futures::future::join_all(attempts).await;

    let succeeded: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
    let refused: Vec<_> = responses.iter().filter(|r| r.status != 200).collect();
    assert_eq!(succeeded.len(), 10);
    assert!(
        succeeded
            .iter()
            .all(|r| r.data()["variantId"].is_null() && r.data().get("variantId").is_some()),
        "a product's own stock level names variantId null: {}",
        succeeded[0].body
    );
    assert!(
        refused.iter().all(|r| r.status == 400 && r.code() == "BUS_001"),
        "{:?}",
        refused.first().map(|r| &r.body)
    );
    let detail = app.get_product(id).await;
    assert_eq!(detail.data()["inventory"], 0);
    assert_eq!(detail.data()["inStock"], false);
    let history = app.stock_history(&admin, id).await;
    let changes = history.data()["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 11, "opening stock and ten sales, every change recorded");
    assert_eq!(changes.iter().map(|c| c["delta"].as_i64().unwrap()).sum::<i64>(), 0);
    assert!(changes.iter().all(|c| c["actor"] == admin.user_id.as_str()));
}

#[tokio::test]
async fn stock_is_set_or_adjusted_per_variant_and_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Jackets", None).await;
    let product = app
        .product(
            &admin,
            &category,
            json!({"stock": 0, "variants": [
            {"sku": "JK-S", "options": {"Size": "S"}, "stock": 3},
            {"sku": "JK-M", "options": {"Size": "M"}, "stock": 4, "price": 129.99}]}),
        )
        .await;
    let id = product["productId"].as_str().unwrap();
    let medium = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "JK-M")
        .unwrap();
    assert_eq!(medium["price"], json!(129.99));
    assert_eq!(product["inventory"], 7);

    let without_variant = app
        .adjust_stock(&admin, id, json!({"adjust": 5, "reason": "restock"}))
        .await;
    without_variant.expect_status(400);
    assert_eq!(without_variant.bad_fields(), ["variantId"]);
    let set = app
        .adjust_stock(
            &admin,
            id,
            json!({"variantId": medium["variantId"], "set": 10, "reason": "stock count"}),
        )
        .await;
    set.expect_status(200);
    assert_eq!(
        (set.data()["stock"].as_i64(), set.data()["inventory"].as_i64()),
        (Some(10), Some(13))
    );
    let both = app
        .adjust_stock(&admin, id, json!({"set": 1, "adjust": 1, "reason": "x"}))
        .await;
    both.expect_status(400);
    let no_reason = app
        .adjust_stock(&admin, id, json!({"variantId": medium["variantId"], "adjust": 1}))
        .await;
    assert_eq!(no_reason.bad_fields(), ["reason"]);

    let history = app.stock_history(&admin, id).await;
    let latest = &history.data()["changes"][0];
    assert_eq!(
        (latest["delta"].as_i64(), latest["stockAfter"].as_i64()),
        (Some(6), Some(10))
    );
    assert_eq!(latest["reason"], "stock count");
}

#[tokio::test]
async fn a_matching_etag_gets_304_and_reads_are_cacheable() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Garden", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let id = product["productId"].as_str().unwrap();
    let path = format!("/api/v1/products/{id}");

    for (target, max_age) in [
        (path.as_str(), 300),
        ("/api/v1/products", 60),
        ("/api/v1/categories", 600),
    ] {
        let first = app.call(HttpCall::new("GET", target)).await;
        first.expect_status(200);
        let etag = first.header("etag").unwrap().to_owned();
        assert_eq!(
            first.header("cache-control"),
            Some(format!("public, max-age={max_age}").as_str())
        );
        let again = app
            .call(HttpCall::new("GET", target).header("if-none-match", &etag))
            .await;
        assert_eq!(again.status, 304, "{target}");
        assert!(again.body.is_null());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let stale = app
            .call(HttpCall::new("GET", target).header("if-none-match", "W/\"something-else\""))
            .await;
        stale.expect_status(200);
    }

    let before = app.get_product(id).await.header("etag").unwrap().to_owned();
    app.update_product(&admin, id, json!({"price": 24.99}))
        .await
        .expect_status(200);
    let after = app
        .call(HttpCall::new("GET", &path).header("if-none-match", &before))
        .await;
    after.expect_status(200);
    assert_eq!(after.data()["price"], json!(24.99));
}

#[tokio::test]
async fn categories_form_a_tree_and_a_category_lists_its_subtree() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let electronics = app.category(&admin, "Electronics", None).await;
    let audio = app.category(&admin, "Audio", Some(&electronics)).await;
    let headphones = app.category(&admin, "Headphones", Some(&audio)).await;
    let kitchen = app.category(&admin, "Kitchen", None).await;
    app.product(&admin, &headphones, json!({"name": "Deep Headphones"}))
        .await;
    app.product(&admin, &audio, json!({"name": "Audio Cable"})).await;
    app.product(&admin, &kitchen, json!({"name": "Pan"})).await;

    let tree = app.list_categories().await;
    tree.expect_status(200);
    let roots = tree.data()["categories"].as_array().unwrap();
    assert_eq!(
        roots.iter().map(|c| c["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Electronics", "Kitchen"]
    );
    assert_eq!(roots[0]["children"][0]["children"][0]["slug"], "headphones");
    assert_eq!(roots[0]["children"][0]["children"][0]["level"], 3);

    let page = app.get_category("electronics", "limit=1").await;
    page.expect_status(200);
    assert_eq!(page.data()["category"]["name"], "Electronics");
    assert_eq!(
        page.data()["pagination"]["totalItems"],
        2,
        "products of subcategories included"
    );
    assert_eq!(page.data()["products"].as_array().unwrap().len(), 1);

    let duplicate = app
        .create_category(&admin, json!({"name": "Audio again", "slug": "audio"}))
        .await;
    duplicate.expect_status(409);
    assert_eq!(duplicate.bad_fields(), ["slug"]);
    let busy = app.delete_category(&admin, "audio").await;
    busy.expect_status(409);
    assert_eq!(busy.code(), "RES_004");
    assert!(busy.body["error"]["message"].as_str().unwrap().contains("1 product"));
    let parent = app.delete_category(&admin, &electronics).await;
    parent.expect_status(409);

    let empty = app.category(&admin, "Empty Leaf", Some(&kitchen)).await;
    app.delete_category(&admin, &empty).await.expect_status(200);
    app.get_category("empty-leaf", "").await.expect_status(404);
    let renamed = app
        .send_as(
            "PUT",
            "/api/v1/categories/kitchen",
            &admin,
            json!({"name": "Kitchen & Dining", "isActive": false}),
        )
        .await;
    renamed.expect_status(200);
    let hidden = app.list_products("category=kitchen").await;
    hidden.expect_status(400);
    assert_eq!(hidden.bad_fields(), ["category"]);
}

#[tokio::test]
async fn listing_filters_sorts_and_paginates_as_documented() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Outdoor", None).await;
    let other = app.category(&admin, "Indoor", None).await;
    for (name, price, brand, stock, featured) in [
        ("Alpha Tent", 199.0, "NorthPeak", 5, true),
        ("Beta Stove", 49.5, "NorthPeak", 0, false),
        ("Gamma Lamp", 25.0, "Lumen", 3, false),
    ] {
        app.product(
            &admin,
            &category,
            json!({"name": name, "price": price, "brand": brand, "stock": stock, "isFeatured": featured}),
        )
        .await;
    }
    app.product(
        &admin,
        &other,
        json!({"name": "Delta Chair", "price": 80.0, "brand": "Lumen"}),
    )
    .await;
    app.reset_calls();

    let all = app.list_products("sortBy=price&sortOrder=asc&limit=3").await;
    let calls = app.calls();
    assert!(calls.iter().all(|c| c == "Query") && calls.len() <= 5, "{calls:?}");
    let names = |r: &shop_tests::TestResponse| {
        r.data()["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&all), ["Gamma Lamp", "Beta Stove", "Delta Chair"]);
    assert_eq!(
        all.data()["pagination"],
        json!({"currentPage": 1, "totalPages": 2, "totalItems": 4, "itemsPerPage": 3, "hasNextPage": true, "hasPreviousPage": false})
    );

    let filtered = app
        .list_products("category=outdoor&minPrice=30&maxPrice=250&brand=northpeak")
        .await;
    assert_eq!(names(&filtered).len(), 2);
    let in_stock = app.list_products("category=outdoor&inStock=true&sortBy=name").await;
    assert_eq!(names(&in_stock), ["Alpha Tent", "Gamma Lamp"]);
    let featured = app.list_products("featured=true").await;
    assert_eq!(names(&featured), ["Alpha Tent"]);
    let facets = &all.data()["facets"];
    assert_eq!(
        facets["brands"],
        json!([{"brand": "Lumen", "count": 2}, {"brand": "NorthPeak", "count": 2}])
    );

    let bad = app
        .list_products("minPrice=abc&sortBy=colour&sortOrder=up&limit=0")
        .await;
    bad.expect_status(400);
    let mut fields = bad.bad_fields();
    fields.sort();
    assert_eq!(fields, ["limit", "minPrice", "sortBy", "sortOrder"]);
}

#[tokio::test]
async fn editing_a_product_is_optimistic_and_moves_its_markers() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Mugs", None).await;
    let product = app
        .product(
            &admin,
            &category,
            json!({"slug": "blue-mug", "sku": "MUG-1", "stock": 7}),
        )
        .await;
    let id = product["productId"].as_str().unwrap();

    let renamed = app
        .update_product(&admin, id, json!({"slug": "navy-mug", "sku": "MUG-NAVY", "version": 1}))
        .await;
    renamed.expect_status(200);
    assert_eq!(
        (renamed.data()["version"].as_u64(), renamed.data()["inventory"].as_i64()),
        (Some(2), Some(7))
    );
    let stale = app
        .update_product(&admin, id, json!({"name": "Late", "version": 1}))
        .await;
    stale.expect_status(409);
    assert_eq!(stale.code(), "RES_003");

    app.product(&admin, &category, json!({"slug": "blue-mug", "sku": "MUG-1"}))
        .await;
    app.get_product("navy-mug").await.expect_status(200);
    app.get_product("blue-mug").await.expect_status(200);

    let replaced = app
        .replace_product(
            &admin,
            id,
            shop_tests::product_body(
                &category,
                json!({"name": "Navy Mug", "slug": "navy-mug", "sku": "MUG-NAVY", "stock": null}),
            ),
        )
        .await;
    replaced.expect_status(200);
    assert_eq!(replaced.data()["inventory"], 7, "a content edit never changes stock");
    let with_stock = app.update_product(&admin, id, json!({"stock": 100})).await;
    with_stock.expect_status(400);
    assert_eq!(with_stock.bad_fields(), ["stock"]);
    let compare = app.update_product(&admin, id, json!({"comparePrice": 1.00})).await;
    assert_eq!(compare.bad_fields(), ["comparePrice"]);
}

#[tokio::test]
async fn a_variant_with_stock_cannot_be_dropped_and_active_products_are_archived_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Shirts", None).await;
    let product = app
        .product(
            &admin,
            &category,
            json!({"stock": 0, "sku": "SHIRT", "variants": [
            {"sku": "SHIRT-S", "options": {"Size": "S"}, "stock": 2},
            {"sku": "SHIRT-M", "options": {"Size": "M"}}]}),
        )
        .await;
    let id = product["productId"].as_str().unwrap();
    let small = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "SHIRT-S")
        .unwrap()["variantId"]
        .clone();
    let medium = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "SHIRT-M")
        .unwrap()["variantId"]
        .clone();

    let dropping = app
        .update_product(
            &admin,
            id,
            json!({"variants": [{"variantId": medium, "sku": "SHIRT-M", "options": {"Size": "M"}}]}),
        )
        .await;
    dropping.expect_status(400);
    assert_eq!(dropping.bad_fields(), ["variants"]);
    let kept = app
        .update_product(
            &admin,
            id,
            json!({"variants": [
            {"variantId": small, "sku": "SHIRT-S", "options": {"Size": "S"}},
            {"sku": "SHIRT-L", "options": {"Size": "L"}, "price": 24.5}]}),
        )
        .await;
    kept.expect_status(200);
    let skus: Vec<_> = kept.data()["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(skus, ["SHIRT-L", "SHIRT-S"]);
    assert_eq!(kept.data()["inventory"], 2);

    let gone = app.delete_product_permanently(&admin, id).await;
    gone.expect_status(409);
    app.archive_product(&admin, id).await.expect_status(200);
    app.delete_product_permanently(&admin, id).await.expect_status(200);
    app.get_product_as(&admin, id).await.expect_status(404);
    app.product(&admin, &category, json!({"sku": "SHIRT-M"})).await;
}

#[tokio::test]
async fn each_catalog_endpoint_stays_within_its_round_trip_budget() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let category = app.category(&admin, "Budget", None).await;
    let product = app.product(&admin, &category, json!({"name": "Budget Blender"})).await;
    let id = product["productId"].as_str().unwrap().to_owned();
    let sorted = |mut calls: Vec<String>| {
        calls.sort();
        calls
    };
    // The category tree and the search vocabulary are cached per warm
    // function; measure with them warm.
    let warm = || async {
        app.list_categories().await;
        app.search(json!({"query": "warm"})).await;
        app.reset_calls();
    };

    app.reset_calls();
    app.list_categories().await.expect_status(200);
    assert_eq!(app.calls(), ["Query"], "categories, cold");
    app.list_categories().await.expect_status(200);
    assert!(
        app.calls().is_empty(),
        "categories, warm: served from the function's cache"
    );

    let budgets: Vec<(&str, HttpCall, Vec<&str>)> = vec![
        (
            "list (4 shards, concurrent)",
            HttpCall::new("GET", "/api/v1/products"),
            vec!["Query"; 4],
        ),
        (
            "detail",
            HttpCall::new("GET", &format!("/api/v1/products/{id}")),
            vec!["GetItem"],
        ),
        (
            "search (terms, then candidates)",
            HttpCall::new("POST", "/api/v1/products/search").json(&json!({"query": "blender"})),
            vec!["BatchGetItem", "Query"],
        ),
        (
            "search with a typo (the word and its correction concurrently, then candidates)",
            HttpCall::new("POST", "/api/v1/products/search").json(&json!({"query": "blendr"})),
            vec!["BatchGetItem", "Query", "Query"],
        ),
        (
            "stock (read, transaction, read)",
            HttpCall::new("PATCH", &format!("/api/v1/products/{id}/stock"))
                .header("authorization", &admin.bearer())
                .json(&json!({"adjust": 1, "reason": "count"})),
            vec!["GetItem", "GetItem", "TransactWriteItems"],
        ),
        (
            "edit (read, transaction, search terms, read)",
            HttpCall::new("PATCH", &format!("/api/v1/products/{id}"))
                .header("authorization", &admin.bearer())
                .json(&json!({"price": 21.5})),
            vec!["BatchWriteItem", "GetItem", "GetItem", "TransactWriteItems"],
        ),
        (
            "review (context, transaction)",
            HttpCall::new("POST", &format!("/api/v1/products/{id}/reviews"))
                .header("authorization", &jane.bearer())
                .json(&json!({"rating": 4, "content": "Smooth"})),
            vec!["BatchGetItem", "TransactWriteItems"],
        ),
        (
            "reviews (count and page, concurrent)",
            HttpCall::new("GET", &format!("/api/v1/products/{id}/reviews")),
            vec!["GetItem", "Query", "Query"],
        ),
        (
            "wishlist add (product and list concurrent, then put)",
            HttpCall::new("POST", "/api/v1/users/wishlist")
                .header("authorization", &jane.bearer())
                .json(&json!({"productId": id})),
            vec!["GetItem", "PutItem", "Query"],
        ),
        (
            "wishlist (entries, then products)",
            HttpCall::new("GET", "/api/v1/users/wishlist").header("authorization", &jane.bearer()),
            vec!["BatchGetItem", "Query"],
        ),
    ];
    for (name, call, expected) in budgets {
        warm().await;
        let response = app.call(call).await;
        assert!(response.status < 300, "{name}: {}", response.body);
        assert_eq!(sorted(app.calls()), expected, "{name}");
    }

    warm().await;
    let created = app
        .create_product(&admin, shop_tests::product_body(&category, json!({})))
        .await;
    created.expect_status(201);
    assert_eq!(
        sorted(app.calls()),
        ["BatchWriteItem", "TransactWriteItems"],
        "create (transaction, search terms)"
    );
}

#[tokio::test]
async fn product_bodies_name_unknown_fields_and_put_replaces_the_descriptive_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Cameras", None).await;

    let typo = app
        .create_product(&admin, shop_tests::product_body(&category, json!({"colour": "red"})))
        .await;
    typo.expect_status(400);
    assert_eq!(typo.bad_fields(), ["colour"]);
    let documented_shape = app
        .product(
            &admin,
            &category,
            json!({"stock": null, "inventory": 50, "comparePrice": 29.99, "tags": ["dslr"]}),
        )
        .await;
    assert_eq!(
        documented_shape["inventory"], 50,
        "the documented `inventory` is the opening stock"
    );
    let id = documented_shape["productId"].as_str().unwrap();

    let replaced = app
        .replace_product(
            &admin,
            id,
            shop_tests::product_body(
                &category,
                json!({"sku": documented_shape["sku"], "stock": null, "name": "Replaced"}),
            ),
        )
        .await;
    replaced.expect_status(200);
    assert!(
        replaced.data()["comparePrice"].is_null(),
        "a PUT clears what it leaves out"
    );
    assert_eq!(replaced.data()["tags"], json!([]));
    assert_eq!(replaced.data()["inventory"], 50);

    let ceiling = app
        .adjust_stock(&admin, id, json!({"adjust": 999_990, "reason": "too many"}))
        .await;
    ceiling.expect_status(400);
    assert_eq!(ceiling.bad_fields(), ["adjust"]);
    let search = app
        .search(json!({"query": "x", "filters": {"minPrice": "cheap", "colour": "red"}, "limit": 0}))
        .await;
    search.expect_status(400);
    let mut fields = search.bad_fields();
    fields.sort();
    assert_eq!(fields, ["filters.colour", "filters.minPrice", "limit"]);
    let reviews = app.list_reviews("prod_01JD0000000000000000000000", "").await;
    reviews.expect_status(404);
}
