//! Outgoing mail: what each notification says, and the SMTP transport that sends it.

use std::fmt;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::{Email, Money, OrderId, OrderStatus, Timestamp};
use crate::messages::{Notification, TrackingNote};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text, for the local sink only.
    None,
    StartTls,
    /// Implicit TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpSecurity {
    /// Reads `none`, `starttls` or `tls`, in any case.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            _ => Err(format!("{text:?} is not one of none, starttls, tls")),
        }
    }
}

/// Links and names used in the mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContext {
    pub shop_name: String,
    /// Where the shop lives, e.g. `https://shop.example.com`.
    pub storefront_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The subject, plain-text and HTML bodies of a notification. The recipient is decided by the caller.
pub fn render(notification: &Notification, context: &MailContext) -> EmailContent {
    let storefront = context.storefront_url.trim_end_matches('/');
    let draft = match notification {
        Notification::Welcome { first_name, .. } => Draft {
            subject: format!("Welcome to {}", context.shop_name),
            greeting: greeting(Some(first_name.as_str())),
            blocks: vec![
                Block::Para(format!("Welcome to {}! Your account is ready.", context.shop_name)),
                Block::Link {
                    label: "Start shopping".into(),
                    url: storefront.to_owned(),
                },
            ],
        },
        Notification::PasswordReset {
            first_name,
            token,
            expires_at,
            ..
        } => Draft {
            subject: format!("Reset your {} password", context.shop_name),
            greeting: greeting(Some(first_name.as_str())),
            blocks: vec![
                Block::Para("We received a request to reset your password.".into()),
                Block::Link {
                    label: "Choose a new password".into(),
                    url: format!("{storefront}/reset-password?token={}", url_encode(token)),
                },
                Block::Para(format!(
                    "The link expires on {} and can be used once.",
                    human_time(*expires_at)
                )),
                Block::Para("If you did not ask for this, ignore this email: your password stays as it is.".into()),
            ],
        },
        Notification::OrderStatus {
            order_id,
            status,
            note,
            total,
            tracking,
            ..
        } => order_status(*order_id, *status, note.as_deref(), *total, tracking.as_ref()),
        Notification::Refund {
            order_id,
            amount,
            total_refunded,
            full,
            ..
        } => refund(*order_id, *amount, *total_refunded, *full),
        Notification::PaymentFailed { order_id, reason, .. } => Draft {
            subject: format!("Payment failed for order {order_id}"),
            greeting: greeting(None),
            blocks: vec![
                Block::Para(format!("We could not take the payment for your order {order_id}.")),
                Block::Para(format!("Reason: {reason}")),
                Block::Para(
                    "Your items stay reserved for a while, so you can try again with the same or another payment method."
                        .into(),
                ),
            ],
        },
        Notification::LowStock {
            product_id,
            name,
            sku,
            stock,
            threshold,
        } => Draft {
            subject: format!("Low stock: {name} ({sku})"),
            greeting: None,
            blocks: vec![
                Block::Para(format!(
                    "{name} ({sku}) is down to {stock} in stock, at or below its threshold of {threshold}."
                )),
                Block::Facts(vec![
                    ("Product", name.clone()),
                    ("SKU", sku.clone()),
                    ("Product id", product_id.to_string()),
                    ("Stock", stock.to_string()),
                    ("Threshold", threshold.to_string()),
                ]),
            ],
        },
    };
    draft.finish(context, storefront)
}

fn order_status(
    order_id: OrderId,
    status: OrderStatus,
    note: Option<&str>,
    total: Option<Money>,
    tracking: Option<&TrackingNote>,
) -> Draft {
    let mut blocks = Vec::new();
    let subject = match status {
        OrderStatus::Pending => {
            blocks.push(Block::Para(format!("We received your order {order_id}.")));
            if let Some(total) = total {
                blocks.push(Block::Para(format!("Total: {total}")));
            }
            blocks.push(Block::Para(
                "We will let you know as soon as the payment is confirmed.".into(),
            ));
            format!("We received your order {order_id}")
        }
        OrderStatus::Confirmed => {
            blocks.push(Block::Para(format!(
                "Payment confirmed: your order {order_id} is paid and we are getting it ready."
            )));
            if let Some(total) = total {
                blocks.push(Block::Para(format!("Amount paid: {total}")));
            }
            format!("Payment confirmed for order {order_id}")
        }
        OrderStatus::Processing => {
            blocks.push(Block::Para(format!(
                "Your order {order_id} is being prepared for shipping. We will email you when it leaves."
            )));
            format!("Order {order_id} is being prepared")
        }
        OrderStatus::Shipped => {
            blocks.push(Block::Para(format!(
                "Your order {order_id} has shipped and is on its way."
            )));
            if let Some(tracking) = tracking {
                blocks.push(Block::Facts(vec![
                    ("Carrier", tracking.carrier.clone()),
                    ("Tracking number", tracking.tracking_number.clone()),
                ]));
                // Only web links: anything else in an href could run script in some mail clients.
                if let Some(url) = tracking.url.as_deref().map(str::trim).filter(|url| is_web_url(url)) {
                    blocks.push(Block::Link {
                        label: "Track your parcel".into(),
                        url: url.to_owned(),
                    });
                }
            }
            format!("Order {order_id} shipped")
        }
        OrderStatus::Delivered => {
            blocks.push(Block::Para(format!(
                "Your order {order_id} has been delivered. We hope you enjoy it!"
            )));
            format!("Order {order_id} delivered")
        }
        OrderStatus::Cancelled => {
            let sentence = match note.map(str::trim).filter(|note| !note.is_empty()) {
                None => format!("Your order {order_id} has been cancelled."),
                Some("out_of_stock") => {
                    format!("Your order {order_id} has been cancelled because some items were out of stock.")
                }
                Some("reservation_expired") => {
                    format!("Your order {order_id} has been cancelled because payment was not completed in time.")
                }
                Some("cancelled_by_customer") => format!("Your order {order_id} has been cancelled as you asked."),
                Some(other) => format!("Your order {order_id} has been cancelled. Reason: {other}"),
            };
            blocks.push(Block::Para(sentence));
            format!("Order {order_id} cancelled")
        }
        OrderStatus::Refunded => {
            blocks.push(Block::Para(match total {
                Some(total) => format!("Your refund of {total} is on its way."),
                None => "Your refund is on its way.".to_owned(),
            }));
            blocks.push(Block::Para(format!(
                "It is for your order {order_id}; banks can take a few business days to show it."
            )));
            format!("Refund for order {order_id}")
        }
    };
    Draft {
        subject,
        greeting: greeting(None),
        blocks,
    }
}

fn refund(order_id: OrderId, amount: Money, total_refunded: Money, full: bool) -> Draft {
    let mut blocks = vec![Block::Para(format!("Your refund of {amount} is on its way."))];
    if full {
        blocks.push(Block::Para(format!(
            "It is for your order {order_id}, which is now refunded in full ({total_refunded})."
        )));
    } else {
        blocks.push(Block::Para(format!(
            "It is part of the payment for your order {order_id}; {total_refunded} has been refunded so far."
        )));
    }
    blocks.push(Block::Para("Banks can take a few business days to show it.".into()));
    Draft {
        subject: if full {
            format!("Refund for order {order_id}")
        } else {
            format!("Partial refund for order {order_id}")
        },
        greeting: greeting(None),
        blocks,
    }
}

/// One mail before it is written out twice, as text and as HTML, so both always say the same.
struct Draft {
    subject: String,
    greeting: Option<String>,
    blocks: Vec<Block>,
}

enum Block {
    Para(String),
    Link { label: String, url: String },
    Facts(Vec<(&'static str, String)>),
}

impl Draft {
    fn finish(self, context: &MailContext, storefront: &str) -> EmailContent {
        // A line break in a header value would end the header.
        let subject = one_line(&self.subject);
        let mut text = String::new();
        let mut body = String::new();
        if let Some(greeting) = &self.greeting {
            text.push_str(&format!("{greeting}\n\n"));
            body.push_str(&format!("<p>{}</p>\n", escape(greeting)));
        }
        for block in &self.blocks {
            match block {
                Block::Para(para) => {
                    text.push_str(&format!("{para}\n\n"));
                    body.push_str(&format!("<p>{}</p>\n", escape(para)));
                }
                Block::Link { label, url } => {
                    text.push_str(&format!("{label}: {url}\n\n"));
                    body.push_str(&format!(
                        "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#1a56db;\
                         color:#ffffff;text-decoration:none;border-radius:4px;\">{}</a></p>\n\
                         <p style=\"font-size:13px;color:#555555;\">Or open this address: {}</p>\n",
                        escape(url),
                        escape(label),
                        escape(url)
                    ));
                }
                Block::Facts(facts) => {
                    body.push_str("<table role=\"presentation\" cellpadding=\"4\" cellspacing=\"0\">\n");
                    for (label, value) in facts {
                        text.push_str(&format!("{label}: {value}\n"));
                        body.push_str(&format!(
                            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
                            escape(label),
                            escape(value)
                        ));
                    }
                    text.push('\n');
                    body.push_str("</table>\n");
                }
            }
        }
        text.push_str(&format!("-- \n{}\n{storefront}\n", context.shop_name));
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n</head>\n\
             <body style=\"margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;\
             line-height:1.5;color:#222222;\">\n{body}<hr>\n\
             <p style=\"font-size:13px;color:#555555;\"><a href=\"{}\">{}</a></p>\n</body>\n</html>\n",
            escape(&subject),
            escape(storefront),
            escape(&context.shop_name)
        );
        EmailContent { subject, text, html }
    }
}

fn greeting(first_name: Option<&str>) -> Option<String> {
    Some(match first_name.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => format!("Hi {},", one_line(name)),
        None => "Hello,".to_owned(),
    })
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `15 January 2024 at 10:30 UTC`: a reader should not have to decode an ISO timestamp.
fn human_time(at: Timestamp) -> String {
    let format =
        time::macros::format_description!("[day padding:none] [month repr:long] [year] at [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(at.unix())
        .ok()
        .and_then(|at| at.format(format).ok())
        .unwrap_or_else(|| at.to_string())
}

fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && !url.chars().any(char::is_whitespace)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a token survives as one query value.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The sender or recipient is not an address SMTP accepts.
    #[error("invalid mail address: {0}")]
    Address(String),
    /// The transport (TLS settings) or the message could not be put together.
    #[error("could not build the mail")]
    Build(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Connecting, authenticating or handing the message over failed.
    #[error("the SMTP server did not take the mail")]
    Send(#[source] lettre::transport::smtp::Error),
}

/// Sends mail over SMTP; built once per cold start.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    security: SmtpSecurity,
    authenticated: bool,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .field("authenticated", &self.authenticated)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Well under the queue's visibility timeout, so a hung server fails the attempt instead of the whole batch.
    const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

    /// `from` is a mailbox such as `Shop <noreply@shop.example.com>`. Nothing is contacted
    /// until the first send. Call (and drop) it inside the Tokio runtime: the connection pool
    /// runs a task of its own.
    pub fn new(
        host: &str,
        port: u16,
        security: SmtpSecurity,
        credentials: Option<(String, String)>,
        from: &str,
    ) -> Result<Self, MailError> {
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|err| MailError::Address(format!("sender {from:?}: {err}")))?;
        let builder = match security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|err| MailError::Build(err.into()))?,
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|err| MailError::Build(err.into()))?
            }
        };
        // The relay constructors pick the well-known port; the configured one wins.
        let builder = builder.port(port).timeout(Some(Self::COMMAND_TIMEOUT));
        let authenticated = credentials.is_some();
        let builder = match credentials {
            Some((username, password)) => builder.credentials(Credentials::new(username, password)),
            None => builder,
        };
        Ok(Self {
            transport: builder.build(),
            from,
            host: host.to_owned(),
            port,
            security,
            authenticated,
        })
    }

    /// Sends a multipart/alternative (text + HTML) message. `message_id` becomes the Message-ID header
    /// (`<{message_id}@{host-of-from}>`) so a mail sent twice can be recognised downstream.
    pub async fn send(&self, to: &Email, content: &EmailContent, message_id: &str) -> Result<(), MailError> {
        if !is_id_left(message_id) {
            return Err(MailError::Build(
                format!("message id {message_id:?} must be letters, digits and dots").into(),
            ));
        }
        let to: Address = to
            .as_str()
            .parse()
            .map_err(|err| MailError::Address(format!("recipient: {err}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(one_line(&content.subject))
            .message_id(Some(format!("<{message_id}@{}>", self.from.email.domain())))
            .multipart(MultiPart::alternative_plain_html(
                content.text.clone(),
                content.html.clone(),
            ))
            .map_err(|err| MailError::Build(err.into()))?;
        self.transport.send(message).await.map_err(MailError::Send)?;
        Ok(())
    }
}

/// The left part of a Message-ID (RFC 5322 dot-atom-text); anything else would break the header.
fn is_id_left(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && !id.ends_with('.')
        && !id.contains("..")
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProductId, UserId};

    fn context() -> MailContext {
        MailContext {
            shop_name: "Example Shop".into(),
            storefront_url: "https://shop.example.com/".into(),
        }
    }

    fn jane() -> Email {
        Email::parse("jane@example.com").unwrap()
    }

    fn order_mail(status: OrderStatus, note: Option<&str>, tracking: Option<TrackingNote>) -> (OrderId, EmailContent) {
        let order_id = OrderId::generate();
        let notification = Notification::OrderStatus {
            order_id,
            user_id: UserId::generate(),
            email: jane(),
            status,
            note: note.map(str::to_owned),
            total: Some(Money::from_cents(22597)),
            tracking,
        };
        (order_id, render(&notification, &context()))
    }

    fn assert_says(content: &EmailContent, fact: &str) {
        assert!(content.text.contains(fact), "text lacks {fact:?}:\n{}", content.text);
        assert!(
            content.html.contains(&escape(fact)),
            "html lacks {fact:?}:\n{}",
            content.html
        );
    }

    #[test]
    fn welcome_greets_and_links_to_the_storefront() {
        let content = render(
            &Notification::Welcome {
                user_id: UserId::generate(),
                email: jane(),
                first_name: "Jane".into(),
            },
            &context(),
        );
        assert_eq!(content.subject, "Welcome to Example Shop");
        assert_says(&content, "Hi Jane,");
        assert_says(&content, "https://shop.example.com");
        assert!(content.html.contains("href=\"https://shop.example.com\""));
    }

    #[test]
    fn password_reset_carries_an_encoded_one_time_link() {
        let content = render(
            &Notification::PasswordReset {
                user_id: UserId::generate(),
                email: jane(),
                first_name: "Jane".into(),
                token: "a+b/c=d&e f".into(),
                expires_at: Timestamp::from_unix(1_705_314_600),
            },
            &context(),
        );
        let link = "https://shop.example.com/reset-password?token=a%2Bb%2Fc%3Dd%26e%20f";
        assert_says(&content, link);
        assert!(content.html.contains(&format!("href=\"{link}\"")));
        assert_says(&content, "15 January 2024 at 10:30 UTC");
        assert_says(&content, "can be used once");
        assert!(!content.text.contains("a+b/c"), "the raw token leaked");
    }

    #[test]
    fn every_order_status_has_its_own_mail() {
        let (id, pending) = order_mail(OrderStatus::Pending, None, None);
        assert_eq!(pending.subject, format!("We received your order {id}"));
        assert_says(&pending, &format!("We received your order {id}"));
        assert_says(&pending, "225.97");

        let (id, confirmed) = order_mail(OrderStatus::Confirmed, None, None);
        assert_says(&confirmed, "Payment confirmed");
        assert_says(&confirmed, &id.to_string());

        let (id, processing) = order_mail(OrderStatus::Processing, None, None);
        assert_says(&processing, &format!("Your order {id} is being prepared"));

        let (id, delivered) = order_mail(OrderStatus::Delivered, None, None);
        assert_eq!(delivered.subject, format!("Order {id} delivered"));
        assert_says(&delivered, "has been delivered");

        let (id, refunded) = order_mail(OrderStatus::Refunded, None, None);
        assert_says(&refunded, "Your refund of 225.97 is on its way");
        assert_says(&refunded, &id.to_string());
    }

    #[test]
    fn shipped_mail_says_how_to_follow_the_parcel() {
        let tracking = TrackingNote {
            carrier: "UPS".into(),
            tracking_number: "1Z999AA10123456784".into(),
            url: Some("https://track.example.com/?n=1Z999AA10123456784&lang=en".into()),
        };
        let (id, shipped) = order_mail(OrderStatus::Shipped, None, Some(tracking));
        assert_eq!(shipped.subject, format!("Order {id} shipped"));
        assert_says(&shipped, &id.to_string());
        assert_says(&shipped, "UPS");
        assert_says(&shipped, "1Z999AA10123456784");
        assert_says(&shipped, "https://track.example.com/?n=1Z999AA10123456784&lang=en");
        assert!(
            shipped
                .html
                .contains("href=\"https://track.example.com/?n=1Z999AA10123456784&amp;lang=en\"")
        );

        let script_link = TrackingNote {
            carrier: "UPS".into(),
            tracking_number: "1Z".into(),
            url: Some("javascript:alert(1)".into()),
        };
        let (_, shipped) = order_mail(OrderStatus::Shipped, None, Some(script_link));
        assert!(!shipped.html.contains("javascript:"));
        assert!(!shipped.text.contains("javascript:"));
    }

    #[test]
    fn cancellations_give_the_reason_in_words() {
        for (note, words) in [
            ("out_of_stock", "some items were out of stock"),
            ("reservation_expired", "payment was not completed in time"),
            ("cancelled_by_customer", "as you asked"),
            ("Changed my mind", "Reason: Changed my mind"),
        ] {
            let (id, cancelled) = order_mail(OrderStatus::Cancelled, Some(note), None);
            assert_eq!(cancelled.subject, format!("Order {id} cancelled"));
            assert_says(&cancelled, words);
            assert!(!cancelled.text.contains("out_of_stock") && !cancelled.text.contains("reservation_expired"));
        }
    }

    #[test]
    fn interpolated_values_are_escaped_in_html() {
        let (_, cancelled) = order_mail(OrderStatus::Cancelled, Some("<script>alert('x')</script> & more"), None);
        assert!(!cancelled.html.contains("<script>"));
        assert!(
            cancelled
                .html
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more")
        );
        assert!(cancelled.text.contains("<script>alert('x')</script> & more"));

        let welcome = render(
            &Notification::Welcome {
                user_id: UserId::generate(),
                email: jane(),
                first_name: "<b>Jane</b>".into(),
            },
            &MailContext {
                shop_name: "Tom & Jerry's".into(),
                storefront_url: "https://shop.example.com/?a=1&b=2".into(),
            },
        );
        assert!(welcome.html.contains("Hi &lt;b&gt;Jane&lt;/b&gt;,"));
        assert!(welcome.html.contains("<title>Welcome to Tom &amp; Jerry&#39;s</title>"));
        assert!(welcome.html.contains("href=\"https://shop.example.com/?a=1&amp;b=2\""));
        assert_eq!(welcome.subject, "Welcome to Tom & Jerry's");
    }

    #[test]
    fn payment_failure_gives_the_reason_and_the_grace() {
        let order_id = OrderId::generate();
        let content = render(
            &Notification::PaymentFailed {
                order_id,
                user_id: UserId::generate(),
                email: jane(),
                reason: "Your card was declined.".into(),
            },
            &context(),
        );
        assert_eq!(content.subject, format!("Payment failed for order {order_id}"));
        assert_says(&content, &order_id.to_string());
        assert_says(&content, "Your card was declined.");
        assert_says(&content, "stay reserved");
        assert_says(&content, "try again");
    }

    #[test]
    fn low_stock_is_an_operations_alert() {
        let product_id = ProductId::generate();
        let content = render(
            &Notification::LowStock {
                product_id,
                name: "Wireless Headphones\r\nBcc: x@example.com".into(),
                sku: "WH-001".into(),
                stock: 3,
                threshold: 5,
            },
            &context(),
        );
        assert!(content.subject.starts_with("Low stock: Wireless Headphones"));
        assert!(!content.subject.contains(['\r', '\n']));
        for fact in ["WH-001", "Stock: 3", "Threshold: 5", &product_id.to_string()] {
            assert!(content.text.contains(fact), "text lacks {fact:?}");
        }
        assert!(content.html.contains("<th align=\"left\">Threshold</th><td>5</td>"));
    }

    #[test]
    fn security_names_parse_in_any_case() {
        assert_eq!(SmtpSecurity::parse("none"), Ok(SmtpSecurity::None));
        assert_eq!(SmtpSecurity::parse(" STARTTLS "), Ok(SmtpSecurity::StartTls));
        assert_eq!(SmtpSecurity::parse("Tls"), Ok(SmtpSecurity::Tls));
        assert!(SmtpSecurity::parse("ssl").is_err());
        assert!(SmtpSecurity::parse("").is_err());
    }

    #[tokio::test]
    async fn the_mailer_refuses_bad_addresses_and_hides_credentials() {
        let err = Mailer::new("127.0.0.1", 25, SmtpSecurity::None, None, "not an address").unwrap_err();
        assert!(matches!(err, MailError::Address(_)), "{err:?}");

        let mailer = Mailer::new(
            "smtp.example.com",
            587,
            SmtpSecurity::StartTls,
            Some(("user".into(), "hunter2-secret".into())),
            "Example Shop <noreply@shop.example.com>",
        )
        .unwrap();
        let debug = format!("{mailer:?}");
        assert!(debug.contains("smtp.example.com") && debug.contains("authenticated: true"));
        assert!(!debug.contains("hunter2-secret") && !debug.contains("user\""));
    }

    #[test]
    fn message_ids_must_fit_the_header() {
        assert!(is_id_left("01J0000000000000000000000A"));
        assert!(is_id_left("a.b-c"));
        for bad in ["", "a b", "a>b", "a@b", ".a", "a..b", "a\r\nBcc: x"] {
            assert!(!is_id_left(bad), "{bad:?} was accepted");
        }
    }

    /// Needs the SMTP sink: `scripts/with-stack.sh cargo test -p shop --lib email`.
    #[tokio::test]
    async fn a_sent_mail_reaches_the_sink() {
        let Ok(port) = std::env::var("SMTP_PORT") else {
            eprintln!("SMTP_PORT is not set: skipping (run under scripts/with-stack.sh)");
            return;
        };
        let host = std::env::var("SMTP_HOST").unwrap_or_else(|_| "127.0.0.1".into());
        let dir = std::path::PathBuf::from(std::env::var("MAIL_DIR").expect("MAIL_DIR is set with SMTP_PORT"));
        let mailer = Mailer::new(
            &host,
            port.parse().unwrap(),
            SmtpSecurity::None,
            None,
            "Example Shop <noreply@shop.example.com>",
        )
        .unwrap();
        let tracking = TrackingNote {
            carrier: "UPS".into(),
            tracking_number: "1Z999AA10123456784".into(),
            url: Some("https://track.example.com/1Z999AA10123456784".into()),
        };
        let (order_id, content) = order_mail(OrderStatus::Shipped, None, Some(tracking));
        let message_id = ulid::Ulid::new().to_string();

        mailer.send(&jane(), &content, &message_id).await.unwrap();

        let header = format!("Message-ID: <{message_id}@shop.example.com>");
        let stored = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .map(|path| std::fs::read_to_string(path).unwrap())
            .find(|mail| mail.lines().any(|line| line.eq_ignore_ascii_case(&header)))
            .unwrap_or_else(|| panic!("no mail with {header:?} in {}", dir.display()));
        assert!(stored.starts_with("X-Envelope-From: noreply@shop.example.com\r\nX-Envelope-To: jane@example.com\r\n"));
        assert!(stored.contains(&format!("Subject: Order {order_id} shipped")));
        assert!(stored.contains("multipart/alternative"));
        assert!(stored.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(stored.contains("Content-Type: text/html; charset=utf-8"));
    }
}
