//! Every file in `events/` is a fixture: it parses as an API Gateway event and
//! gets the documented status from its function.

use serde_json::Value;
use shop_tests::{TestApp, email};

/// `(file, event)` for every users-api event.
const USERS_API_EVENTS: [(&str, &str); 15] = [
    (
        "users-api-register.json",
        include_str!("../../../events/users-api-register.json"),
    ),
    (
        "users-api-login.json",
        include_str!("../../../events/users-api-login.json"),
    ),
    (
        "users-api-get-profile.json",
        include_str!("../../../events/users-api-get-profile.json"),
    ),
    (
        "users-api-me.json",
        include_str!("../../../events/users-api-me.json"),
    ),
    (
        "users-api-update-profile.json",
        include_str!("../../../events/users-api-update-profile.json"),
    ),
    (
        "users-api-create-address.json",
        include_str!("../../../events/users-api-create-address.json"),
    ),
    (
        "users-api-list-addresses.json",
        include_str!("../../../events/users-api-list-addresses.json"),
    ),
    (
        "users-api-update-address.json",
        include_str!("../../../events/users-api-update-address.json"),
    ),
    (
        "users-api-delete-address.json",
        include_str!("../../../events/users-api-delete-address.json"),
    ),
    (
        "users-api-get-user.json",
        include_str!("../../../events/users-api-get-user.json"),
    ),
    (
        "users-api-list-users.json",
        include_str!("../../../events/users-api-list-users.json"),
    ),
    (
        "users-api-refresh.json",
        include_str!("../../../events/users-api-refresh.json"),
    ),
    (
        "users-api-logout.json",
        include_str!("../../../events/users-api-logout.json"),
    ),
    (
        "users-api-request-password-reset.json",
        include_str!("../../../events/users-api-request-password-reset.json"),
    ),
    (
        "users-api-confirm-password-reset.json",
        include_str!("../../../events/users-api-confirm-password-reset.json"),
    ),
];

const SAMPLE_ADDRESS_ID: &str = "addr_01JD0000000000000000000000";
const SAMPLE_USER_ID: &str = "usr_01JD0000000000000000000000";

#[test]
fn every_event_file_is_covered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut covered: Vec<String> = USERS_API_EVENTS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    covered.sort();
    assert_eq!(on_disk, covered, "each file in events/ needs a test");
}

/// Fills the event's placeholders and invokes users-api with it.
async fn invoke(app: &TestApp, name: &str, substitutions: &[(&str, &str)]) -> (u16, Value) {
    let (_, raw) = USERS_API_EVENTS
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap();
    let mut text = (*raw).to_owned();
    for (placeholder, value) in substitutions {
        text = text.replace(placeholder, value);
    }
    let request = lambda_http::request::from_str(&text)
        .unwrap_or_else(|err| panic!("{name} is not an API Gateway event: {err}"));
    let response = users_api::handle(app.gateway.functions.users_api(), request)
        .await
        .unwrap();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap();
    (response.status().as_u16(), body)
}

#[tokio::test]
async fn each_users_api_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };

    expect(
        "register",
        invoke(&app, "users-api-register.json", &[]).await,
        201,
    );
    let login = expect(
        "login",
        invoke(&app, "users-api-login.json", &[]).await,
        200,
    );
    let access = login["data"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = login["data"]["refreshToken"].as_str().unwrap().to_owned();
    let user_id = login["data"]["user"]["userId"].as_str().unwrap().to_owned();
    let as_jane = [("ACCESS_TOKEN", access.as_str())];

    expect(
        "get-profile",
        invoke(&app, "users-api-get-profile.json", &as_jane).await,
        200,
    );
    expect("me", invoke(&app, "users-api-me.json", &as_jane).await, 200);
    expect(
        "update-profile",
        invoke(&app, "users-api-update-profile.json", &as_jane).await,
        200,
    );
    let created = expect(
        "create-address",
        invoke(&app, "users-api-create-address.json", &as_jane).await,
        201,
    );
    let address_id = created["data"]["addressId"].as_str().unwrap().to_owned();
    expect(
        "list-addresses",
        invoke(&app, "users-api-list-addresses.json", &as_jane).await,
        200,
    );
    let with_address = [
        ("ACCESS_TOKEN", access.as_str()),
        (SAMPLE_ADDRESS_ID, address_id.as_str()),
    ];
    expect(
        "update-address",
        invoke(&app, "users-api-update-address.json", &with_address).await,
        200,
    );
    expect(
        "delete-address",
        invoke(&app, "users-api-delete-address.json", &with_address).await,
        200,
    );
    let own_id = [
        ("ACCESS_TOKEN", access.as_str()),
        (SAMPLE_USER_ID, user_id.as_str()),
    ];
    expect(
        "get-user",
        invoke(&app, "users-api-get-user.json", &own_id).await,
        200,
    );
    expect(
        "list-users as a customer",
        invoke(&app, "users-api-list-users.json", &as_jane).await,
        403,
    );
    let admin = app.admin(&email("admin")).await;
    expect(
        "list-users",
        invoke(
            &app,
            "users-api-list-users.json",
            &[("ACCESS_TOKEN", admin.access_token.as_str())],
        )
        .await,
        200,
    );

    let rotated = expect(
        "refresh",
        invoke(
            &app,
            "users-api-refresh.json",
            &[("REFRESH_TOKEN", refresh.as_str())],
        )
        .await,
        200,
    );
    let rotated = rotated["data"]["refreshToken"].as_str().unwrap().to_owned();
    expect(
        "logout",
        invoke(
            &app,
            "users-api-logout.json",
            &[("REFRESH_TOKEN", rotated.as_str())],
        )
        .await,
        200,
    );

    app.drain_queue("NotificationsQueue").await;
    expect(
        "request-password-reset",
        invoke(&app, "users-api-request-password-reset.json", &[]).await,
        202,
    );
    let reset = app.drain_queue("NotificationsQueue").await;
    let token = reset[0]["token"].as_str().unwrap();
    expect(
        "confirm-password-reset",
        invoke(
            &app,
            "users-api-confirm-password-reset.json",
            &[("RESET_TOKEN", token)],
        )
        .await,
        200,
    );
}
