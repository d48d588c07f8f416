use serde_json::json;
use shop::domain::{ProductId, Timestamp, UserId};
use shop::store::Store;
use shop::store::reviews::PurchaseRecord;
use shop_local::HttpCall;
use shop_tests::{TestApp, email};

#[tokio::test]
async fn an_approved_review_counts_toward_the_rating_and_a_second_one_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let joe = app.customer(&email("joe")).await;
    let category = app.category(&admin, "Audio", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let id = product["productId"].as_str().unwrap();
    let reviews = format!("/api/v1/products/{id}/reviews");

    let first = app
        .send_as(
            "POST",
            &reviews,
            &jane,
            json!({"rating": 5, "title": "Great", "content": "Love them"}),
        )
        .await;
    first.expect_status(201);
    assert_eq!(first.data()["status"], "PENDING");
    assert_eq!(first.data()["authorName"], "Jane D.");
    let second = app
        .send_as(
            "POST",
            &reviews,
            &jane,
            json!({"rating": 1, "content": "Changed my mind"}),
        )
        .await;
    second.expect_status(409);
    assert_eq!(second.code(), "RES_002");
    app.send_as("POST", &reviews, &joe, json!({"rating": 4, "content": "Good"}))
        .await
        .expect_status(201);
    let listed = app.call(HttpCall::new("GET", &reviews)).await;
    assert_eq!(
        listed.data()["pagination"]["totalItems"],
        0,
        "pending reviews are not shown"
    );

    let queue = app.get_as("/api/v1/products/reviews/pending", &admin).await;
    queue.expect_status(200);
    assert_eq!(queue.data()["pagination"]["totalItems"], 2);
    app.get_as("/api/v1/products/reviews/pending", &jane)
        .await
        .expect_status(403);
    let review_ids: Vec<String> = queue.data()["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reviewId"].as_str().unwrap().to_owned())
        .collect();
    for review in &review_ids {
        app.send_as("POST", &format!("{reviews}/{review}/approve"), &admin, json!(null))
            .await
            .expect_status(200);
    }
    app.send_as(
        "POST",
        &format!("{reviews}/{}/approve", review_ids[0]),
        &admin,
        json!(null),
    )
    .await
    .expect_status(200);

    let detail = app.call(HttpCall::new("GET", &format!("/api/v1/products/{id}"))).await;
    assert_eq!(
        (detail.data()["rating"].as_f64(), detail.data()["reviewCount"].as_i64()),
        (Some(4.5), Some(2)),
        "approving twice counts once"
    );
    let newest = app.call(HttpCall::new("GET", &reviews)).await;
    assert_eq!(newest.data()["reviews"][0]["rating"], 4);
    let highest = app.call(HttpCall::new("GET", &format!("{reviews}?sort=highest"))).await;
    assert_eq!(highest.data()["reviews"][0]["rating"], 5);

    let jane_review = first.data()["reviewId"].as_str().unwrap();
    app.send_as("POST", &format!("{reviews}/{jane_review}/reject"), &admin, json!(null))
        .await
        .expect_status(200);
    let detail = app.call(HttpCall::new("GET", &format!("/api/v1/products/{id}"))).await;
    assert_eq!(
        (detail.data()["rating"].as_f64(), detail.data()["reviewCount"].as_i64()),
        (Some(4.0), Some(1))
    );
}

#[tokio::test]
async fn editing_an_approved_review_sends_it_back_to_moderation() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let mallory = app.customer(&email("mallory")).await;
    let category = app.category(&admin, "Books", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let reviews = format!("/api/v1/products/{}/reviews", product["productId"].as_str().unwrap());
    let created = app
        .send_as("POST", &reviews, &jane, json!({"rating": 2, "content": "Meh"}))
        .await;
    let review = format!("{reviews}/{}", created.data()["reviewId"].as_str().unwrap());
    app.send_as("POST", &format!("{review}/approve"), &admin, json!(null))
        .await
        .expect_status(200);

    app.send_as("PUT", &review, &mallory, json!({"rating": 1}))
        .await
        .expect_status(404);
    app.send_as("DELETE", &review, &mallory, json!(null))
        .await
        .expect_status(404);
    let edited = app
        .send_as(
            "PUT",
            &review,
            &jane,
            json!({"rating": 3, "content": "Better on second read"}),
        )
        .await;
    edited.expect_status(200);
    assert_eq!(edited.data()["status"], "PENDING");

    let detail = app
        .call(HttpCall::new(
            "GET",
            &format!("/api/v1/products/{}", product["productId"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(
        detail.data()["reviewCount"],
        0,
        "the edited review leaves the rating until approved again"
    );
    let bad = app.send_as("PUT", &review, &jane, json!({"rating": 6})).await;
    bad.expect_status(400);
    assert_eq!(bad.bad_fields(), ["rating"]);
    app.send_as("DELETE", &review, &jane, json!(null))
        .await
        .expect_status(200);
    app.send_as("POST", &reviews, &jane, json!({"rating": 5, "content": "Again"}))
        .await
        .expect_status(201);
}

#[tokio::test]
async fn a_review_of_a_purchased_product_is_verified() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let buyer = app.customer(&email("buyer")).await;
    let browser = app.customer(&email("browser")).await;
    let category = app.category(&admin, "Kitchen", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let product_id = product["productId"].as_str().unwrap();
    let store = Store::new(app.clients.dynamodb.clone(), &app.stack.table_name);
    let purchase = PurchaseRecord {
        user_id: UserId::parse(&buyer.user_id).unwrap(),
        product_id: ProductId::parse(product_id).unwrap(),
        order_id: "ord_01JD0000000000000000000000".to_owned(),
        purchased_at: Timestamp::now(),
    };
    let key = shop::store::keys::purchase(purchase.user_id, purchase.product_id);
    store
        .put_items(vec![shop::store::to_item(&key, &purchase).unwrap()])
        .await
        .unwrap();
    let reviews = format!("/api/v1/products/{product_id}/reviews");

    let verified = app
        .send_as("POST", &reviews, &buyer, json!({"rating": 5, "content": "Bought it"}))
        .await;
    let unverified = app
        .send_as("POST", &reviews, &browser, json!({"rating": 5, "content": "Saw it"}))
        .await;

    assert_eq!(verified.data()["isVerified"], true);
    assert_eq!(unverified.data()["isVerified"], false);
    let anonymous = app
        .call(HttpCall::new("POST", &reviews).json(&json!({"rating": 5, "content": "x"})))
        .await;
    anonymous.expect_status(401);
    let missing = app.send_as("POST", &reviews, &buyer, json!({})).await;
    assert_eq!(missing.code(), "VAL_002");
    assert_eq!(missing.bad_fields(), ["rating", "content"]);
}

#[tokio::test]
async fn the_wishlist_is_idempotent_paginated_and_shows_what_is_no_longer_sold() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let joe = app.customer(&email("joe")).await;
    let category = app.category(&admin, "Toys", None).await;
    let kite = app.product(&admin, &category, json!({"name": "Kite"})).await;
    let yoyo = app.product(&admin, &category, json!({"name": "Yoyo"})).await;
    let draft = app.product(&admin, &category, json!({"status": "DRAFT"})).await;

    let added = app
        .send_as(
            "POST",
            "/api/v1/users/wishlist",
            &jane,
            json!({"productId": kite["productId"]}),
        )
        .await;
    added.expect_status(201);
    let again = app
        .send_as(
            "POST",
            "/api/v1/users/wishlist",
            &jane,
            json!({"productId": kite["productId"]}),
        )
        .await;
    again.expect_status(200);
    app.send_as(
        "POST",
        "/api/v1/users/wishlist",
        &jane,
        json!({"productId": yoyo["productId"]}),
    )
    .await
    .expect_status(201);
    app.send_as(
        "POST",
        "/api/v1/users/wishlist",
        &jane,
        json!({"productId": draft["productId"]}),
    )
    .await
    .expect_status(404);
    let bad = app
        .send_as("POST", "/api/v1/users/wishlist", &jane, json!({"productId": "kite"}))
        .await;
    assert_eq!(bad.bad_fields(), ["productId"]);

    let page = app.get_as("/api/v1/users/wishlist?limit=1", &jane).await;
    page.expect_status(200);
    assert_eq!(page.data()["pagination"]["totalItems"], 2);
    assert_eq!(page.data()["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get_as("/api/v1/users/wishlist", &joe).await.data()["pagination"]["totalItems"],
        0,
        "wishlists are private"
    );

    app.send_as(
        "DELETE",
        &format!("/api/v1/products/{}", yoyo["productId"].as_str().unwrap()),
        &admin,
        json!(null),
    )
    .await
    .expect_status(200);
    let list = app.get_as("/api/v1/users/wishlist", &jane).await;
    let yoyo_entry = list.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productId"] == yoyo["productId"])
        .unwrap()
        .clone();
    assert_eq!(yoyo_entry["available"], false);
    assert!(yoyo_entry["product"].is_null());
    let kite_entry = list.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productId"] == kite["productId"])
        .unwrap()
        .clone();
    assert_eq!(kite_entry["product"]["name"], "Kite");

    let path = format!("/api/v1/users/wishlist/{}", kite["productId"].as_str().unwrap());
    app.send_as("DELETE", &path, &jane, json!(null))
        .await
        .expect_status(200);
    app.send_as("DELETE", &path, &jane, json!(null))
        .await
        .expect_status(200);
    assert_eq!(
        app.get_as("/api/v1/users/wishlist", &jane).await.data()["pagination"]["totalItems"],
        1
    );
    app.call(HttpCall::new("GET", "/api/v1/users/wishlist"))
        .await
        .expect_status(401);
}
