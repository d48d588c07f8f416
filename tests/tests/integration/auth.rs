use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use shop::domain::{Email, Role, UserId};
use shop_local::HttpCall;
use shop_tests::{PASSWORD, TestApp, email};

#[tokio::test]
async fn login_returns_tokens_and_the_user_in_two_round_trips() {
    let app = TestApp::spawn().await;
    let address = email("login");
    app.register(&address).await.expect_status(201);
    app.reset_calls();

    let response = app.login(&address.to_uppercase(), PASSWORD).await;

    response.expect_status(200);
    assert_eq!(app.calls(), ["BatchGetItem", "PutItem"]);
    let data = response.data();
    assert_eq!(data["expiresIn"], 3600);
    assert_eq!(data["user"]["email"], address.as_str());
    assert_eq!(data["user"]["firstName"], "Jane");
    let claims = data["accessToken"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["role"], "CUSTOMER");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert!(data["refreshToken"].as_str().unwrap().len() > 20);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    let address = email("known");
    app.register(&address).await.expect_status(201);

    let wrong = app.login(&address, "WrongPass123!").await;
    let unknown = app.login(&email("nobody"), PASSWORD).await;

    wrong.expect_status(401);
    unknown.expect_status(401);
    assert_eq!(wrong.code(), "AUTH_001");
    assert_eq!(wrong.body["error"]["message"], unknown.body["error"]["message"]);
}

#[tokio::test]
async fn five_failed_logins_lock_the_email_until_the_window_passes() {
    let app = TestApp::spawn().await;
    let address = email("locked");
    app.register(&address).await.expect_status(201);
    for attempt in 0..5 {
        let ip = format!("10.0.0.{attempt}");
        let response = app
            .call(
                HttpCall::new("POST", "/api/v1/users/login")
                    .from_ip(&ip)
                    .json(&json!({"email": address, "password": "Wrong1!x"})),
            )
            .await;
        response.expect_status(401);
    }

    let blocked = app
        .call(
            HttpCall::new("POST", "/api/v1/users/login")
                .from_ip("10.0.0.99")
                .json(&json!({"email": address, "password": PASSWORD})),
        )
        .await;

    blocked.expect_status(429);
    assert_eq!(blocked.code(), "RATE_001");
    let retry_after: i64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "Retry-After {retry_after}");
    let other = email("other");
    app.register(&other).await.expect_status(201);
    app.call(
        HttpCall::new("POST", "/api/v1/users/login")
            .from_ip("10.0.0.99")
            .json(&json!({"email": other, "password": PASSWORD})),
    )
    .await
    .expect_status(200);
}

#[tokio::test]
async fn five_failed_logins_from_one_ip_throttle_that_ip() {
    let app = TestApp::spawn().await;
    let victim = email("victim");
    app.register(&victim).await.expect_status(201);
    for _ in 0..5 {
        let response = app
            .call(
                HttpCall::new("POST", "/api/v1/users/login")
                    .from_ip("192.0.2.7")
                    .json(&json!({"email": email("guess"), "password": PASSWORD})),
            )
            .await;
        response.expect_status(401);
    }

    let blocked = app
        .call(
            HttpCall::new("POST", "/api/v1/users/login")
                .from_ip("192.0.2.7")
                .json(&json!({"email": victim, "password": PASSWORD})),
        )
        .await;

    blocked.expect_status(429);
    app.call(
        HttpCall::new("POST", "/api/v1/users/login")
            .from_ip("192.0.2.8")
            .json(&json!({"email": victim, "password": PASSWORD})),
    )
    .await
    .expect_status(200);
}

#[tokio::test]
async fn concurrent_failed_logins_are_all_counted() {
    let app = TestApp::spawn().await;
    let address = email("race");
    app.register(&address).await.expect_status(201);
    let attempts = (0..5).map(|n| {
        let call = HttpCall::new("POST", "/api/v1/users/login")
            .from_ip(&format!("10.9.0.{n}"))
            .json(&json!({"email": address, "password": "Wrong1!x"}));
        app.call(call)
    });
    for response in futures::future::join_all(attempts).await {
        response.expect_status(401);
    }

    let blocked = app.login(&address, PASSWORD).await;

    blocked.expect_status(429);
}

#[tokio::test]
async fn a_missing_or_malformed_token_is_auth_003() {
    let app = TestApp::spawn().await;

    let missing = app.call(HttpCall::new("GET", "/api/v1/users/profile")).await;
    let garbage = app
        .call(HttpCall::new("GET", "/api/v1/users/profile").header("authorization", "Bearer not.a.jwt"))
        .await;
    let scheme = app
        .call(HttpCall::new("GET", "/api/v1/users/profile").header("authorization", "Basic dXNlcjpwYXNz"))
        .await;

    for response in [missing, garbage, scheme] {
        response.expect_status(401);
        assert_eq!(response.code(), "AUTH_003");
    }
}

#[tokio::test]
async fn an_expired_token_is_auth_002() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("expired")).await;
    let keys = app.token_keys().await;
    let two_hours_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 7200;
    let expired = keys
        .issue_access(
            UserId::parse(&jane.user_id).unwrap(),
            &Email::parse(&jane.email).unwrap(),
            Role::Customer,
            two_hours_ago,
        )
        .unwrap();

    let response = app
        .call(HttpCall::new("GET", "/api/v1/users/profile").header("authorization", &format!("Bearer {expired}")))
        .await;

    response.expect_status(401);
    assert_eq!(response.code(), "AUTH_002");
}

#[tokio::test]
async fn tampered_unsigned_and_foreign_algorithm_tokens_are_auth_003() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("tamper")).await;
    let parts: Vec<&str> = jane.access_token.split('.').collect();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let promoted = URL_SAFE_NO_PAD.encode(claims.replace("CUSTOMER", "ADMIN"));
    let tampered = format!("{}.{promoted}.{}", parts[0], parts[2]);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{promoted}.");
    let hs512 = {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512","typ":"JWT"}"#);
        format!("{header}.{}.{}", parts[1], parts[2])
    };

    for token in [tampered, unsigned, hs512, jane.refresh_token.clone()] {
        let response = app
            .call(HttpCall::new("GET", "/api/v1/users").header("authorization", &format!("Bearer {token}")))
            .await;
        response.expect_status(401);
        assert_eq!(response.code(), "AUTH_003", "token {token}");
    }
}

#[tokio::test]
async fn refreshing_rotates_and_reusing_a_rotated_token_revokes_the_session() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("rotate")).await;
    app.reset_calls();

    let first = app.refresh(&jane.refresh_token).await;
    first.expect_status(200);
    assert_eq!(app.calls(), ["UpdateItem"]);
    let rotated = first.data()["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(rotated, jane.refresh_token);
    let access = first.data()["accessToken"].as_str().unwrap();
    app.call(HttpCall::new("GET", "/api/v1/users/profile").header("authorization", &format!("Bearer {access}")))
        .await
        .expect_status(200);

    let replay = app.refresh(&jane.refresh_token).await;
    replay.expect_status(401);
    assert_eq!(replay.code(), "AUTH_003");

    let after = app.refresh(&rotated).await;
    after.expect_status(401);
    let other_device = app.session(&jane.email).await;
    app.refresh(&other_device.refresh_token).await.expect_status(200);
}

#[tokio::test]
async fn logging_out_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("logout")).await;

    app.post("/api/v1/users/logout", json!({"refreshToken": jane.refresh_token}))
        .await
        .expect_status(200);

    let refresh = app.refresh(&jane.refresh_token).await;
    refresh.expect_status(401);
    let missing = app.post("/api/v1/users/logout", json!({})).await;
    missing.expect_status(400);
    assert_eq!(missing.bad_fields(), ["refreshToken"]);
}

#[tokio::test]
async fn a_password_reset_is_single_use_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    let jane = app.customer(&email("reset")).await;
    app.drain_queue("NotificationsQueue").await;

    let requested = app.request_password_reset(&jane.email).await;
    requested.expect_status(202);
    let messages = app.drain_queue("NotificationsQueue").await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["type"], "password_reset");
    let token = messages[0]["token"].as_str().unwrap().to_owned();

    let weak = app.confirm_password_reset(&token, "weak").await;
    weak.expect_status(400);
    assert_eq!(weak.bad_fields(), ["newPassword"]);
    app.confirm_password_reset(&token, "BrandNew456#")
        .await
        .expect_status(200);

    let again = app.confirm_password_reset(&token, "Another789$").await;
    again.expect_status(400);
    assert_eq!(again.bad_fields(), ["token"]);
    app.login(&jane.email, PASSWORD).await.expect_status(401);
    app.login(&jane.email, "BrandNew456#").await.expect_status(200);
    app.refresh(&jane.refresh_token).await.expect_status(401);
}

#[tokio::test]
async fn a_reset_for_an_unknown_email_looks_the_same_and_sends_nothing() {
    let app = TestApp::spawn().await;

    let response = app.request_password_reset(&email("ghost")).await;

    response.expect_status(202);
    assert!(app.drain_queue("NotificationsQueue").await.is_empty());
    let forged = app.confirm_password_reset("forged", "BrandNew456#").await;
    forged.expect_status(400);
}

#[tokio::test]
async fn a_database_outage_is_a_503_that_leaks_nothing() {
    let app = TestApp::spawn().await;
    let mut endpoints = app.stack.endpoints.clone();
    // A port nothing listens on: every DynamoDB call fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    endpoints.dynamodb = Some(format!("http://{closed}"));
    let shared = aws_config::load_from_env().await;
    let clients = shop::aws::AwsClients::from_shared(&shared, &endpoints);
    let config = app.stack.config(app.stack.function("users-api").unwrap()).unwrap();
    let broken = users_api::App::new(&config, &clients);
    let call = HttpCall::new("POST", "/api/v1/users/register")
        .json(&json!({"email": email("down"), "password": PASSWORD, "firstName": "A", "lastName": "B"}));
    let matched = app.gateway.router.find(&call.method, &call.path).unwrap();
    let request = shop_local::gateway::to_request(&shop_local::gateway::event(&call, &matched, "req-outage")).unwrap();

    let response = shop::lambda::handle_http(&broken, request).await.unwrap();

    assert_eq!(response.status(), 503);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(body["error"]["code"], "SYS_002");
    assert_eq!(body["error"]["requestId"], "req-outage");
    let text = body.to_string();
    assert!(!text.contains("127.0.0.1") && !text.contains("dispatch"), "{text}");
}
