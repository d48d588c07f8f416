//! AWS clients, built once per cold start with the optional endpoint overrides
//! that point them at local emulators.

use std::sync::{Arc, OnceLock};

use crate::config::Endpoints;

/// The AWS clients of a function, each built the first time it is used: a
/// function pays only for the clients it needs (building one parses its
/// service's endpoint rules).
#[derive(Clone, Debug)]
pub struct AwsClients {
    dynamodb: Arc<OnceLock<aws_sdk_dynamodb::Client>>,
    sqs: Arc<OnceLock<aws_sdk_sqs::Client>>,
    secrets: Arc<OnceLock<aws_sdk_secretsmanager::Client>>,
    /// What the clients are built from (timeouts included).
    pub shared: aws_config::SdkConfig,
    pub endpoints: Endpoints,
}

/// The roots AWS endpoints chain to (Amazon Trust Services: Amazon Root CA
/// 1–4 and the Starfield roots that cross-sign them).
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The HTTPS client every AWS client of the function shares. It trusts the
/// Amazon roots built into the binary instead of the system's store: reading
/// and parsing the system's few hundred certificates was most of a cold
/// start's work. `TLS_ROOTS=native` goes back to the system's store (an
/// endpoint behind a private CA, say).
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let native = std::env::var("TLS_ROOTS").is_ok_and(|roots| roots.eq_ignore_ascii_case("native"));
    let trust = if native {
        TrustStore::default()
    } else {
        TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES)
    };
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store without client certificates is valid");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

impl AwsClients {
    /// The shared configuration from the environment. In Lambda (and
    /// locally) the credentials and region are environment variables: they
    /// are read as such, without building the rest of the default chain.
    pub async fn new(endpoints: &Endpoints) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
            loader =
                loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
        }
        if let Some(region) = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")) {
            loader = loader.region(aws_config::Region::new(region));
        }
        Self::from_shared(&loader.load().await, endpoints)
    }

    pub fn from_shared(shared: &aws_config::SdkConfig, endpoints: &Endpoints) -> Self {
        Self {
            dynamodb: Arc::default(),
            sqs: Arc::default(),
            secrets: Arc::default(),
            shared: shared.to_builder().timeout_config(timeouts()).build(),
            endpoints: endpoints.clone(),
        }
    }

    /// Clients built elsewhere (with interceptors of their own, say).
    pub fn with_clients(
        dynamodb: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        secrets: aws_sdk_secretsmanager::Client,
        template: &Self,
    ) -> Self {
        Self {
            dynamodb: Arc::new(OnceLock::from(dynamodb)),
            sqs: Arc::new(OnceLock::from(sqs)),
            secrets: Arc::new(OnceLock::from(secrets)),
            shared: template.shared.clone(),
            endpoints: template.endpoints.clone(),
        }
    }

    /// These clients with `dynamodb` as the DynamoDB client.
    pub fn with_dynamodb(mut self, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        self.dynamodb = Arc::new(OnceLock::from(dynamodb));
        self
    }

    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamodb.get_or_init(|| {
            let mut config =
                aws_sdk_dynamodb::config::Builder::from(&self.shared).interceptor(crate::metrics::RoundTripCounter);
            if let Some(url) = &self.endpoints.dynamodb {
                config = config.endpoint_url(url);
            }
            aws_sdk_dynamodb::Client::from_conf(config.build())
        })
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.get_or_init(|| {
            let mut config = aws_sdk_sqs::config::Builder::from(&self.shared);
            if let Some(url) = &self.endpoints.sqs {
                config = config.endpoint_url(url);
            }
            aws_sdk_sqs::Client::from_conf(config.build())
        })
    }

    pub fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets.get_or_init(|| {
            let mut config = aws_sdk_secretsmanager::config::Builder::from(&self.shared);
            if let Some(url) = &self.endpoints.secrets_manager {
                config = config.endpoint_url(url);
            }
            aws_sdk_secretsmanager::Client::from_conf(config.build())
        })
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
