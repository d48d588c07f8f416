use serde_json::json;
use shop_local::HttpCall;
use shop_tests::{PASSWORD, TestApp, email};

#[tokio::test]
async fn registering_returns_the_documented_shape_in_one_round_trip() {
    let app = TestApp::spawn().await;
    let address = email("jane");
    app.reset_calls();

    let response = app.register(&address).await;

    response.expect_status(201);
    assert_eq!(app.calls(), ["TransactWriteItems"]);
    assert_eq!(response.body["success"], true);
    assert_eq!(response.body["message"], "User registered successfully");
    let data = response.data();
    assert!(data["userId"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(data["email"], address.as_str());
    assert_eq!(data["firstName"], "Jane");
    assert_eq!(data["lastName"], "Doe");
    assert!(data["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(data.get("password").is_none() && data.get("passwordHash").is_none());
}

#[tokio::test]
async fn registering_queues_a_welcome_notification() {
    let app = TestApp::spawn().await;
    let address = email("welcome");
    app.register(&address).await.expect_status(201);

    let messages = app.drain_queue("NotificationsQueue").await;

    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["type"], "welcome");
    assert_eq!(messages[0]["email"], address.as_str());
}

#[tokio::test]
async fn an_email_is_unique_whatever_its_case() {
    let app = TestApp::spawn().await;
    let address = email("case");
    app.register(&address).await.expect_status(201);

    let again = app.register(&address.to_uppercase()).await;

    again.expect_status(409);
    assert_eq!(again.code(), "RES_002");
}

#[tokio::test]
async fn registration_names_every_bad_field() {
    let app = TestApp::spawn().await;

    let response = app
        .post("/api/v1/users/register", json!({"email": "not-an-email", "password": "weak", "firstName": "", "lastName": "Doe", "phoneNumber": "call me"}))
        .await;

    response.expect_status(400);
    assert_eq!(response.code(), "VAL_001");
    let mut fields = response.bad_fields();
    fields.sort();
    assert_eq!(fields, ["email", "firstName", "password", "phoneNumber"]);
    assert_eq!(response.body["error"]["path"], "/api/v1/users/register");
    assert!(!response.body["error"]["requestId"].as_str().unwrap().is_empty());
    assert!(response.body["error"]["timestamp"].is_string());
}

#[tokio::test]
async fn registration_without_fields_is_val_002_naming_them() {
    let app = TestApp::spawn().await;

    let response = app.post("/api/v1/users/register", json!({})).await;

    response.expect_status(400);
    assert_eq!(response.code(), "VAL_002");
    assert_eq!(response.bad_fields(), ["email", "password", "firstName", "lastName"]);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_naming_the_body() {
    let app = TestApp::spawn().await;

    let response = app
        .call(HttpCall::new("POST", "/api/v1/users/register").body("{not json"))
        .await;

    response.expect_status(400);
    assert_eq!(response.code(), "VAL_001");
    assert_eq!(response.bad_fields(), ["body"]);
}

#[tokio::test]
async fn the_profile_includes_addresses_and_costs_one_round_trip() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("profile")).await;
    app.add_address(&jane, json!({"street": "123 Main St", "city": "New York", "state": "NY", "zipCode": "10001", "country": "USA", "isDefault": true}))
        .await
        .expect_status(201);
    app.reset_calls();

    let profile = app.profile(&jane).await;

    profile.expect_status(200);
    assert_eq!(app.calls(), ["Query"]);
    let data = profile.data();
    assert_eq!(data["userId"], jane.user_id.as_str());
    assert_eq!(data["phoneNumber"], "+1234567890");
    assert_eq!(data["role"], "CUSTOMER");
    assert_eq!(data["addresses"][0]["street"], "123 Main St");
    assert_eq!(data["addresses"][0]["isDefault"], true);
    assert!(data["addresses"][0]["addressId"].as_str().unwrap().starts_with("addr_"));
    assert_eq!(profile.header("etag"), Some("\"1\""));
    let me = app.get_as("/api/v1/auth/me", &jane).await;
    assert_eq!(me.data()["userId"], jane.user_id.as_str());
}

#[tokio::test]
async fn a_stale_profile_update_is_rejected_and_overwrites_nothing() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("stale")).await;

    let first = app
        .update_profile(&jane, json!({"firstName": "Janet", "version": 1}))
        .await;
    first.expect_status(200);
    assert_eq!(first.data()["version"], 2);
    let stale = app
        .update_profile(&jane, json!({"firstName": "Joan", "version": 1}))
        .await;

    stale.expect_status(409);
    assert_eq!(stale.code(), "RES_003");
    let profile = app.profile(&jane).await;
    assert_eq!(profile.data()["firstName"], "Janet");
    assert_eq!(profile.data()["version"], 2);
}

#[tokio::test]
async fn a_profile_update_with_if_match_changes_the_login_name_too() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("ifmatch")).await;

    let updated = app
        .call(
            HttpCall::new("PUT", "/api/v1/users/profile")
                .header("authorization", &jane.bearer())
                .header("if-match", "\"1\"")
                .json(&json!({"lastName": "Smith", "phoneNumber": null})),
        )
        .await;

    updated.expect_status(200);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    assert!(updated.data()["phoneNumber"].is_null());
    let login = app.login(&jane.email, PASSWORD).await;
    assert_eq!(login.data()["user"]["lastName"], "Smith");
}

#[tokio::test]
async fn a_profile_update_needs_a_version_and_a_valid_field() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("noversion")).await;

    let without_version = app.update_profile(&jane, json!({"firstName": "Janet"})).await;
    without_version.expect_status(400);
    assert_eq!(without_version.bad_fields(), ["version"]);

    let bad = app
        .update_profile(&jane, json!({"firstName": "", "email": "x@example.com", "version": 1}))
        .await;
    bad.expect_status(400);
    assert_eq!(bad.code(), "VAL_001");
    let mut fields = bad.bad_fields();
    fields.sort();
    assert_eq!(fields, ["email", "firstName"]);
}

#[tokio::test]
async fn addresses_have_at_most_one_default() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("addr")).await;
    let address = |street: &str, default: bool| json!({"street": street, "city": "Boston", "zipCode": "02101", "country": "USA", "isDefault": default});

    let home = app.add_address(&jane, address("1 Home St", false)).await;
    home.expect_status(201);
    assert_eq!(home.data()["isDefault"], true, "the first address becomes the default");
    let work = app.add_address(&jane, address("2 Work St", true)).await;
    work.expect_status(201);
    assert_eq!(work.data()["isDefault"], true);

    let list = app.list_addresses(&jane, "").await;
    list.expect_status(200);
    let defaults: Vec<_> = list.data()["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isDefault"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["street"], "2 Work St");
    assert_eq!(list.data()["pagination"]["totalItems"], 2);

    let home_id = home.data()["addressId"].as_str().unwrap();
    let moved = app
        .update_address(&jane, home_id, json!({"isDefault": true, "city": "Cambridge"}))
        .await;
    moved.expect_status(200);
    assert_eq!(moved.data()["city"], "Cambridge");
    let profile = app.profile(&jane).await;
    let defaults: Vec<_> = profile.data()["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isDefault"] == true)
        .map(|a| a["addressId"].clone())
        .collect();
    assert_eq!(defaults, [home_id]);

    app.delete_address(&jane, home_id).await.expect_status(200);
    let profile = app.profile(&jane).await;
    let remaining = profile.data()["addresses"].as_array().unwrap().clone();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0]["isDefault"], false);
}

#[tokio::test]
async fn a_stale_address_version_is_409() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("addrv")).await;
    let created = app
        .add_address(
            &jane,
            json!({"street": "1 A St", "city": "X", "zipCode": "1", "country": "US"}),
        )
        .await;
    let id = created.data()["addressId"].as_str().unwrap().to_owned();
    app.update_address(&jane, &id, json!({"street": "2 A St", "version": 1}))
        .await
        .expect_status(200);

    let stale = app
        .update_address(&jane, &id, json!({"street": "3 A St", "version": 1}))
        .await;

    stale.expect_status(409);
    assert_eq!(stale.code(), "RES_003");
}

#[tokio::test]
async fn an_address_needs_its_postal_fields() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("addrbad")).await;

    let response = app
        .add_address(&jane, json!({"street": "", "city": "Boston", "isDefault": "yes"}))
        .await;

    response.expect_status(400);
    let mut fields = response.bad_fields();
    fields.sort();
    assert_eq!(fields, ["country", "isDefault", "street", "zipCode"]);
}

#[tokio::test]
async fn a_customer_cannot_touch_another_customers_address() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("owner")).await;
    let mallory = app.customer(&email("mallory")).await;
    let created = app
        .add_address(
            &jane,
            json!({"street": "1 A St", "city": "X", "zipCode": "1", "country": "US"}),
        )
        .await;
    let address = created.data()["addressId"].as_str().unwrap();

    app.update_address(&mallory, address, json!({"street": "stolen"}))
        .await
        .expect_status(404);
    app.delete_address(&mallory, address).await.expect_status(404);

    let profile = app.profile(&jane).await;
    assert_eq!(profile.data()["addresses"][0]["street"], "1 A St");
}

#[tokio::test]
async fn the_address_book_is_capped() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("cap")).await;
    for n in 0..shop::users::MAX_ADDRESSES {
        app.add_address(
            &jane,
            json!({"street": format!("{n} A St"), "city": "X", "zipCode": "1", "country": "US"}),
        )
        .await
        .expect_status(201);
    }

    let over = app
        .add_address(
            &jane,
            json!({"street": "one more", "city": "X", "zipCode": "1", "country": "US"}),
        )
        .await;

    over.expect_status(400);
    let page = app.list_addresses(&jane, "page=2&limit=15").await;
    assert_eq!(page.data()["addresses"].as_array().unwrap().len(), 5);
    assert_eq!(page.data()["pagination"]["totalItems"], 20);
    assert_eq!(page.data()["pagination"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn a_bad_page_parameter_is_named() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("page")).await;

    let response = app.list_addresses(&jane, "page=0&limit=1000").await;

    response.expect_status(400);
    assert_eq!(response.bad_fields(), ["page", "limit"]);
}

#[tokio::test]
async fn a_customer_cannot_read_another_customers_profile() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("jane")).await;
    let mallory = app.customer(&email("mallory")).await;

    let response = app.get_user(&mallory, &jane.user_id).await;

    response.expect_status(403);
    assert_eq!(response.code(), "AUTH_004");
    assert!(response.body.get("data").is_none());
    let own = app.get_user(&mallory, &mallory.user_id).await;
    own.expect_status(200);
}

#[tokio::test]
async fn only_admins_list_users_newest_first_with_pagination() {
    let app = TestApp::spawn().await;
    let customer = app.customer(&email("c1")).await;
    app.register(&email("c2")).await.expect_status(201);
    app.register(&email("c3")).await.expect_status(201);
    let admin = app.admin(&email("admin")).await;

    let forbidden = app.list_users(&customer, "").await;
    forbidden.expect_status(403);
    assert_eq!(forbidden.code(), "AUTH_004");

    let page = app.list_users(&admin, "page=1&limit=3").await;
    page.expect_status(200);
    let users = page.data()["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0]["role"], "ADMIN", "the newest account comes first");
    assert_eq!(
        page.data()["pagination"],
        json!({"currentPage": 1, "totalPages": 2, "totalItems": 4, "itemsPerPage": 3, "hasNextPage": true, "hasPreviousPage": false})
    );
    let last = app.list_users(&admin, "page=2&limit=3").await;
    assert_eq!(last.data()["users"].as_array().unwrap().len(), 1);
    assert_eq!(last.data()["users"][0]["userId"], customer.user_id.as_str());

    let one = app.get_user(&admin, &customer.user_id).await;
    one.expect_status(200);
    assert_eq!(one.data()["email"], customer.email.as_str());
    let missing = app.get_user(&admin, "usr_01HZZZZZZZZZZZZZZZZZZZZZZZ").await;
    missing.expect_status(404);
    assert_eq!(missing.code(), "RES_001");
}

#[tokio::test]
async fn promoting_an_existing_account_keeps_its_password() {
    let app = TestApp::spawn().await;
    let address = email("promote");
    app.register(&address).await.expect_status(201);

    let admin = app.admin(&address).await;

    let list = app.list_users(&admin, "").await;
    list.expect_status(200);
}

#[tokio::test]
async fn an_address_update_changes_only_the_fields_sent() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("patch")).await;
    let created = app
        .add_address(
            &jane,
            json!({"street": "1 A St", "city": "Albany", "state": "NY", "zipCode": "12207", "country": "USA"}),
        )
        .await;
    let address = created.data()["addressId"].as_str().unwrap();

    let moved = app.update_address(&jane, address, json!({"street": "2 B St"})).await;
    moved.expect_status(200);
    assert_eq!(
        (moved.data()["street"].as_str(), moved.data()["state"].as_str()),
        (Some("2 B St"), Some("NY"))
    );

    let cleared = app.update_address(&jane, address, json!({"state": null})).await;
    cleared.expect_status(200);
    assert!(cleared.data()["state"].is_null());
    assert_eq!(cleared.data()["city"], "Albany");

    let empty = app.update_address(&jane, address, json!({})).await;
    empty.expect_status(400);
    assert_eq!(empty.bad_fields(), ["body"]);
}

#[tokio::test]
async fn ids_have_one_spelling() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("spelling")).await;

    let lower = app
        .get_user(&jane, &jane.user_id.to_lowercase().replacen("USR_", "usr_", 1))
        .await;

    lower.expect_status(404);
}
