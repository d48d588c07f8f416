//! `notifications`: renders each notification (text and HTML) and sends it over
//! SMTP once: a redelivered message finds its record and sends nothing.
//! Customers' settings are honoured for non-transactional mail.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::consumer::{self, RecordError};
use shop::domain::Email;
use shop::email::{MailContext, Mailer, SmtpSecurity};
use shop::lambda::{BoxFuture, Handler};
use shop::messages::NotificationMessage;
use shop::notifications::Notifier;
use shop::secrets::CachedSecret;
use shop::store::Store;
use tokio::sync::OnceCell;

pub struct App {
    config: Config,
    store: Store,
    secrets: aws_sdk_secretsmanager::Client,
    smtp_secret: CachedSecret,
    /// Built on first use: the pooled SMTP transport must start inside the runtime.
    notifier: OnceCell<Notifier>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("smtp", &self.config.smtp)
            .finish_non_exhaustive()
    }
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            config: config.clone(),
            store: Store::new(clients.dynamodb().clone(), &config.table_name),
            secrets: clients.secrets().clone(),
            smtp_secret: CachedSecret::new(&config.secrets.smtp),
            notifier: OnceCell::new(),
        }
    }

    async fn notifier(&self) -> Result<&Notifier, Box<dyn std::error::Error + Send + Sync>> {
        self.notifier
            .get_or_try_init(|| async {
                let smtp = &self.config.smtp;
                let secret: serde_json::Value =
                    serde_json::from_str(self.smtp_secret.get(&self.secrets).await?.expose())?;
                let user = secret["username"].as_str().unwrap_or_default().to_owned();
                let password = secret["password"].as_str().unwrap_or_default().to_owned();
                let credentials = (!user.is_empty()).then_some((user, password));
                let security = SmtpSecurity::parse(&smtp.security)?;
                let mailer = Mailer::new(&smtp.host, smtp.port, security, credentials, &smtp.from)?;
                Ok(Notifier {
                    store: self.store.clone(),
                    mailer,
                    context: MailContext {
                        shop_name: smtp.shop_name.clone(),
                        storefront_url: smtp.storefront_url.clone(),
                    },
                    alert_email: Email::parse(&smtp.alert_email)?,
                })
            })
            .await
    }
}

impl Handler<SqsEvent> for App {
    type Output = SqsBatchResponse;

    fn handle(&self, event: LambdaEvent<SqsEvent>) -> BoxFuture<'_, Result<SqsBatchResponse, Error>> {
        Box::pin(async move {
            let notifier = self.notifier().await?;
            consumer::messages(
                event.payload,
                "notification message",
                |message: NotificationMessage| async move {
                    Box::pin(notifier.deliver(&message))
                        .await
                        .map(|_| ())
                        .map_err(RecordError::failed)
                },
            )
            .await
        })
    }

    /// The SMTP secret and transport, ready before the first batch.
    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(err) = self.notifier().await {
                tracing::warn!(error = %err, "warm-up: the mailer is not ready");
            }
        })
    }
}
