//! AWS clients, built once per cold start with the optional endpoint overrides
//! that point them at local emulators.

use crate::config::Endpoints;

#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl AwsClients {
    pub async fn new(endpoints: &Endpoints) -> Self {
        let shared = aws_config::load_from_env().await;
        Self::from_shared(&shared, endpoints)
    }

    pub fn from_shared(shared: &aws_config::SdkConfig, endpoints: &Endpoints) -> Self {
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(shared);
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
        }
    }
}
