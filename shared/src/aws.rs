//! AWS clients, built once per cold start with the optional endpoint overrides
//! that point them at local emulators.

use crate::config::Endpoints;

#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    /// What the clients were built from, for the clients only some functions build.
    pub shared: aws_config::SdkConfig,
    pub endpoints: Endpoints,
}

impl AwsClients {
    pub async fn new(endpoints: &Endpoints) -> Self {
        let shared = aws_config::load_from_env().await;
        Self::from_shared(&shared, endpoints)
    }

    pub fn from_shared(shared: &aws_config::SdkConfig, endpoints: &Endpoints) -> Self {
        let shared = &shared.to_builder().timeout_config(timeouts()).build();
        let mut dynamodb =
            aws_sdk_dynamodb::config::Builder::from(shared).interceptor(crate::metrics::RoundTripCounter);
        if let Some(url) = &endpoints.dynamodb {
            dynamodb = dynamodb.endpoint_url(url);
        }
        let mut sqs = aws_sdk_sqs::config::Builder::from(shared);
        if let Some(url) = &endpoints.sqs {
            sqs = sqs.endpoint_url(url);
        }
        let mut secrets = aws_sdk_secretsmanager::config::Builder::from(shared);
        if let Some(url) = &endpoints.secrets_manager {
            secrets = secrets.endpoint_url(url);
        }
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets.build()),
            shared: shared.clone(),
            endpoints: endpoints.clone(),
        }
    }

    /// An S3 client (path-style addressing when pointed at an emulator).
    #[cfg(feature = "imports")]
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let mut s3 = aws_sdk_s3::config::Builder::from(&self.shared);
        if let Some(url) = &self.endpoints.s3 {
            s3 = s3.endpoint_url(url).force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(s3.build())
    }
}

/// A service that stops answering (rather than refusing connections) fails a
/// request within the function's time instead of holding it until Lambda's
/// timeout: every attempt is bounded, and so is the whole call with its retries.
pub fn timeouts() -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .operation_attempt_timeout(std::time::Duration::from_secs(4))
        .operation_timeout(std::time::Duration::from_secs(9))
        .build()
}
