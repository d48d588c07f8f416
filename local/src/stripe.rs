//! The local Stripe (localstripe) calls back to the API: its webhooks are
//! registered the way a Stripe dashboard endpoint would be.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::gateway::percent_encode;
use crate::provision::BoxError;

/// The events payments-api acts on.
pub const WEBHOOK_EVENTS: [&str; 3] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
];

/// Registers (or replaces) the webhook `id` of the fake Stripe at `api_base` to
/// post `WEBHOOK_EVENTS` to `url`, signed with `secret`.
pub async fn register_webhook(api_base: &str, id: &str, url: &str, secret: &str) -> Result<(), BoxError> {
    let address = api_base
        .trim_end_matches('/')
        .strip_prefix("http://")
        .ok_or("the Stripe endpoint must be http:// locally")?;
    let mut form = format!("url={}&secret={}", percent_encode(url), percent_encode(secret));
    for event in WEBHOOK_EVENTS {
        form.push_str(&format!("&{}={}", percent_encode("events[]"), percent_encode(event)));
    }
    let request = format!(
        "POST /_config/webhooks/{id} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{form}",
        form.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split(' ').nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(())
    } else {
        Err(format!(
            "registering the webhook failed: {}",
            response.lines().next().unwrap_or("")
        )
        .into())
    }
}
