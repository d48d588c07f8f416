//! The edges of the contract: what `openapi.yaml` promises about odd but legal
//! input, and what the API must never do with hostile input.

use serde_json::{Value, json};
use shop_local::HttpCall;
use shop_tests::{TestApp, email, product_body};

fn names(response: &shop_tests::TestResponse) -> Vec<String> {
    response.data()["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn newest_sorts_like_created_at_in_listings_and_searches() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Audio", None).await;
    for name in ["Older Speaker", "Newer Speaker"] {
        app.product(&admin, &category, json!({"name": name})).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let listed = app.list_products("sortBy=newest").await;
    listed.expect_status(200);
    assert_eq!(names(&listed), ["Newer Speaker", "Older Speaker"]);
    let ascending = app.list_products("sortBy=newest&sortOrder=asc").await;
    assert_eq!(names(&ascending), ["Older Speaker", "Newer Speaker"]);
    let searched = app.search(json!({"query": "speaker", "sort": "newest"})).await;
    searched.expect_status(200);
    assert_eq!(names(&searched), ["Newer Speaker", "Older Speaker"]);
}

#[tokio::test]
async fn in_stock_false_shows_sold_out_products_beside_the_others() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Audio", None).await;
    app.product(&admin, &category, json!({"name": "Plenty Speaker", "stock": 5}))
        .await;
    app.product(&admin, &category, json!({"name": "Sold Speaker", "stock": 0}))
        .await;

    let mut all = names(&app.list_products("inStock=false&sortBy=name").await);
    all.sort();
    assert_eq!(all, ["Plenty Speaker", "Sold Speaker"]);
    assert_eq!(names(&app.list_products("inStock=true").await), ["Plenty Speaker"]);
    assert_eq!(
        names(&app.search(json!({"query": "speaker"})).await),
        ["Plenty Speaker"]
    );
    let searched = app
        .search(json!({"query": "speaker", "filters": {"inStock": false}, "sort": "name"}))
        .await;
    assert_eq!(names(&searched), ["Plenty Speaker", "Sold Speaker"]);
}

#[tokio::test]
async fn search_errors_name_the_field_as_the_request_spells_it() {
    let app = TestApp::spawn().await;
    let long = "word ".repeat(41);

    let body = app.search(json!({"query": long})).await;
    body.expect_status(400);
    assert_eq!(body.bad_fields(), ["query"]);
    let listing = app
        .list_products(&format!("search={}", shop_local::gateway::percent_encode(&long)))
        .await;
    listing.expect_status(400);
    assert_eq!(listing.bad_fields(), ["search"]);

    let prices = app
        .search(json!({"filters": {"minPrice": 20.00, "maxPrice": 10.00}}))
        .await;
    prices.expect_status(400);
    assert_eq!(prices.bad_fields(), ["filters.minPrice"]);
    let category = app.search(json!({"filters": {"category": "nowhere"}})).await;
    category.expect_status(400);
    assert_eq!(category.bad_fields(), ["filters.category"]);
    let unknown = app.search(json!({"query": "x", "colour": "red"})).await;
    assert_eq!(unknown.bad_fields(), ["colour"]);
}

#[tokio::test]
async fn a_cart_token_is_either_one_this_api_could_issue_or_refused() {
    let app = TestApp::spawn().await;
    let guest_cart = |token: &str| HttpCall::new("GET", "/api/v1/cart").header("x-cart-token", token);

    for forged in [
        "short",
        &"a".repeat(44),
        &format!("{}!", "a".repeat(42)),
        &"x".repeat(10_000),
    ] {
        let refused = app.call(guest_cart(forged)).await;
        refused.expect_status(400);
        assert_eq!(refused.bad_fields(), ["X-Cart-Token"], "{forged:.50}");
    }
    let unknown = app.call(guest_cart(&"A".repeat(43))).await;
    unknown.expect_status(200);
    assert_eq!(unknown.data()["items"], json!([]));
    assert_eq!(unknown.data()["summary"]["total"], json!(0.0));
}

#[tokio::test]
async fn image_urls_must_be_plain_web_addresses() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Audio", None).await;
    let hostile = [
        r#"https://"><script>alert(1)</script>"#,
        "https://.ñ",
        "javascript:alert(1)",
        "https://user:secret@cdn.example.com/a.jpg",
        "https://cdn.example.com/it's.jpg",
    ];
    for image in hostile {
        let product = app
            .create_product(
                &admin,
                product_body(&category, json!({"images": ["https://cdn.example.com/ok.jpg", image]})),
            )
            .await;
        product.expect_status(400);
        assert_eq!(product.bad_fields(), ["images"], "{image}");
        let refused = app
            .create_category(&admin, json!({"name": "Bad Image", "image": image}))
            .await;
        refused.expect_status(400);
        assert_eq!(refused.bad_fields(), ["image"], "{image}");
    }
    let fine = app
        .create_category(
            &admin,
            json!({"name": "Good Image", "image": "https://cdn.example.com/categories/a%20b.jpg?w=400"}),
        )
        .await;
    fine.expect_status(201);
}

/// Every operation of the document with ids too long for a DynamoDB key in
/// its path parameters, then with a long value in each query parameter in
/// turn, as an admin: an answer, never a 5xx.
#[tokio::test]
async fn overlong_ids_and_parameters_are_refused_never_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let document: Value = serde_norway::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap();
    let long = "x".repeat(9_500);
    let mut tried = 0;
    for (template, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let mut parameters = operations["parameters"].as_array().cloned().unwrap_or_default();
            parameters.extend(operation["parameters"].as_array().cloned().unwrap_or_default());
            let parameters: Vec<&Value> = parameters.iter().map(|p| resolve(&document, p)).collect();
            let in_ = |place: &str| -> Vec<String> {
                parameters
                    .iter()
                    .filter(|p| p["in"] == place)
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            };
            let path_with = |value: &str| {
                in_("path").iter().fold(template.clone(), |path, name| {
                    path.replace(&format!("{{{name}}}"), value)
                })
            };
            let mut urls = Vec::new();
            if !in_("path").is_empty() {
                // Each id past DynamoDB's 2,048-byte key limit, all of them
                // within API Gateway's 10,240 bytes of request line and headers.
                urls.push(path_with(&long[..9_000 / in_("path").len()]));
            }
            for name in in_("query") {
                urls.push(format!("{}?{name}={long}", path_with("x")));
            }
            for url in urls {
                let mut call = HttpCall::new(method, &url).header("authorization", &admin.bearer());
                if method != "get" && method != "delete" {
                    call = call.json(&example_body(&document, operation));
                }
                let answer = app.call(call).await;
                assert!(
                    answer.status < 500,
                    "{} {url:.120} answered {}: {}",
                    method.to_uppercase(),
                    answer.status,
                    answer.body
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 45, "every operation was tried ({tried} requests)");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_the_gateways_bare_404() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("GET", "/api/v1/nowhere"),
        ("DELETE", "/api/v1/products"),
        ("PATCH", "/api/v1/cart"),
        ("GET", "/"),
    ] {
        let answer = app.call(HttpCall::new(method, path)).await;
        assert_eq!(
            (answer.status, &answer.body),
            (404, &json!({"message": "Not Found"})),
            "{method} {path}"
        );
    }
}

fn openapi_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")
}

/// The operation's documented example body (so that the request gets past
/// body validation to the lookups), or `{}`.
fn example_body(document: &Value, operation: &Value) -> Value {
    let media = &resolve(document, &operation["requestBody"])["content"]["application/json"];
    let schema = resolve(document, &media["schema"]);
    [
        &media["example"],
        media["examples"]
            .as_object()
            .and_then(|examples| examples.values().next())
            .map_or(&Value::Null, |example| &resolve(document, example)["value"]),
        &schema["example"],
    ]
    .into_iter()
    .find(|example| !example.is_null())
    .cloned()
    .unwrap_or_else(|| json!({}))
}

/// A parameter, following its `$ref` into `components`.
fn resolve<'a>(document: &'a Value, item: &'a Value) -> &'a Value {
    match item["$ref"].as_str() {
        Some(reference) => reference
            .trim_start_matches("#/")
            .split('/')
            .fold(document, |node, key| &node[key]),
        None => item,
    }
}
