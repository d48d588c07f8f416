//! The local runner over real HTTP: what `make dev` serves on 127.0.0.1:3000.

use std::sync::Arc;

use serde_json::{Value, json};
use shop_local::Gateway;
use shop_tests::{PASSWORD, TestApp, email};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 exchange; returns status, raw head and JSON body.
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        request.push_str("content-type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&payload);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap()
    };
    (status, head.to_lowercase(), body)
}

#[tokio::test]
async fn the_local_runner_serves_register_login_and_profile_over_http() {
    let app = TestApp::spawn().await;
    let gateway = Arc::new(Gateway::new(&app.stack, &app.clients).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(shop_local::server::serve(gateway, listener, async {
        let _ = stopped.await;
    }));
    let address = email("http");

    let (status, _, _) = http(
        addr,
        "POST",
        "/api/v1/users/register",
        &[],
        Some(&json!({"email": address, "password": PASSWORD, "firstName": "Jane", "lastName": "Doe"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, login) = http(
        addr,
        "POST",
        "/api/v1/users/login",
        &[],
        Some(&json!({"email": address, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200);
    let bearer = format!("Bearer {}", login["data"]["accessToken"].as_str().unwrap());
    let (status, head, profile) = http(
        addr,
        "GET",
        "/api/v1/users/profile",
        &[("authorization", &bearer), ("origin", "http://localhost:3000")],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(profile["data"]["email"], address.as_str());
    assert!(head.contains("x-request-id:"));
    assert!(head.contains("access-control-allow-origin: http://localhost:3000"));
    assert!(head.contains("access-control-expose-headers: etag, x-request-id"));
    // Only the template's AllowedOrigins get CORS headers, as from API Gateway.
    let (status, head, _) = http(
        addr,
        "GET",
        "/api/v1/users/profile",
        &[("authorization", &bearer), ("origin", "https://evil.example")],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(!head.contains("access-control-allow-origin"), "{head}");

    let (status, _, missing) = http(addr, "GET", "/api/v1/nowhere", &[], None).await;
    assert_eq!((status, missing), (404, json!({"message": "Not Found"})));
    let (status, head, _) = http(
        addr,
        "OPTIONS",
        "/api/v1/users/profile",
        &[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "PUT"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(head.contains("access-control-allow-origin: http://localhost:3000"));
    assert!(head.contains("access-control-allow-headers: content-type, authorization"));
    assert!(head.contains("access-control-max-age: 600"));
    let (status, head, _) = http(
        addr,
        "OPTIONS",
        "/api/v1/users/profile",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(!head.contains("access-control-allow"), "{head}");

    // Lambda takes at most 6 MB: a larger request never reaches the function.
    let seven_megabytes = json!({"firstName": "x".repeat(7 * 1024 * 1024)});
    let (status, _, refused) = http(
        addr,
        "PUT",
        "/api/v1/users/profile",
        &[("authorization", &bearer)],
        Some(&seven_megabytes),
    )
    .await;
    assert_eq!((status, refused), (413, json!({"message": "Request Entity Too Large"})));

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
