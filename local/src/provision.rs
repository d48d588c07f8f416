//! Creates what the template declares on the local emulators, and resolves each
//! function's environment against what was created.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use rand::Rng;
use rand::distr::Alphanumeric;
use shop::Config;
use shop::aws::AwsClients;
use shop::config::Endpoints;

use crate::template::{FunctionDef, Intrinsic, KeyDef, ProjectionDef, SecretValue, Template};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What was created for one template, under one name prefix.
#[derive(Debug, Clone)]
pub struct Stack {
    pub template: Template,
    pub prefix: String,
    pub table_name: String,
    /// Logical id → queue URL.
    pub queue_urls: BTreeMap<String, String>,
    /// Logical id → secret name.
    pub secret_ids: BTreeMap<String, String>,
    /// Logical id → bucket name.
    pub bucket_names: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
    pub endpoints: Endpoints,
}

/// Local values for template parameters: SMTP goes to the sink, Stripe to the fake.
pub fn local_parameters(template: &Template) -> BTreeMap<String, String> {
    let mut parameters = template.parameters.clone();
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    parameters.insert("Stage".into(), "local".into());
    parameters.insert("SmtpHost".into(), env("SMTP_HOST", "127.0.0.1"));
    parameters.insert("SmtpPort".into(), env("SMTP_PORT", "2525"));
    parameters.insert("StripeSecretKey".into(), env("STRIPE_SECRET_KEY", "sk_test_local"));
    parameters.insert(
        "StripeWebhookSecret".into(),
        env("STRIPE_WEBHOOK_SECRET", "whsec_local"),
    );
    parameters.insert("LogLevel".into(), env("RUST_LOG", "info"));
    parameters.insert("SmtpSecurity".into(), "none".into());
    parameters.insert("StorefrontUrl".into(), env("STOREFRONT_URL", "http://127.0.0.1:3000"));
    parameters.insert("AlertEmail".into(), "operations@shop.local".into());
    parameters.insert("MailFrom".into(), "shop@shop.local".into());
    if let Ok(origins) = std::env::var("ALLOWED_ORIGINS") {
        parameters.insert("AllowedOrigins".into(), origins);
    }
    parameters
}

/// An S3 bucket name: lower case, at most 63 characters.
fn bucket_name(prefix: &str, logical_id: &str) -> String {
    let name: String = format!("{prefix}-{logical_id}")
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    name.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// A client of the table's stream (DynamoDB Local serves it on its own port).
pub async fn streams_client(endpoints: &Endpoints) -> aws_sdk_dynamodbstreams::Client {
    let shared = aws_config::load_from_env().await;
    let mut config = aws_sdk_dynamodbstreams::config::Builder::from(&shared).interceptor(crate::streams::EmptyMaps);
    if let Some(url) = &endpoints.dynamodb {
        config = config.endpoint_url(url);
    }
    aws_sdk_dynamodbstreams::Client::from_conf(config.build())
}

/// Endpoint overrides from the environment written by `scripts/stack.sh`.
pub fn endpoints_from_env() -> Endpoints {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Endpoints {
        dynamodb: read("DYNAMODB_ENDPOINT"),
        sqs: read("SQS_ENDPOINT"),
        secrets_manager: read("SECRETSMANAGER_ENDPOINT"),
        stripe: read("STRIPE_API_BASE"),
        s3: read("S3_ENDPOINT"),
    }
}

fn projection(definition: &ProjectionDef) -> Projection {
    match definition {
        ProjectionDef::All => Projection::builder().projection_type(ProjectionType::All).build(),
        ProjectionDef::KeysOnly => Projection::builder().projection_type(ProjectionType::KeysOnly).build(),
        ProjectionDef::Include(names) => Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(names.clone()))
            .build(),
    }
}

fn key_elements(key: &KeyDef) -> Vec<KeySchemaElement> {
    let mut elements = vec![
        KeySchemaElement::builder()
            .attribute_name(&key.hash)
            .key_type(KeyType::Hash)
            .build()
            .expect("set"),
    ];
    if let Some(range) = &key.range {
        elements.push(
            KeySchemaElement::builder()
                .attribute_name(range)
                .key_type(KeyType::Range)
                .build()
                .expect("set"),
        );
    }
    elements
}

impl Stack {
    /// Creates the table, queues and secrets (keeping any that already exist).
    pub async fn provision(
        template: Template,
        clients: &AwsClients,
        prefix: &str,
        parameters: BTreeMap<String, String>,
        endpoints: Endpoints,
    ) -> Result<Self, BoxError> {
        let table_name = format!("{prefix}-{}", template.table.logical_id);
        create_table(clients, &template, &table_name).await?;
        let mut queue_urls = BTreeMap::new();
        let mut arns = BTreeMap::new();
        // Dead-letter queues first: the main queues' redrive policies name them.
        let mut ordered: Vec<_> = template.queues.iter().collect();
        ordered.sort_by_key(|queue| queue.redrive.is_some());
        for queue in ordered {
            let mut request = clients
                .sqs()
                .create_queue()
                .queue_name(format!("{prefix}-{}", queue.logical_id));
            if let Some(timeout) = queue.visibility_timeout {
                request = request.attributes(QueueAttributeName::VisibilityTimeout, timeout.to_string());
            }
            if let Some((dlq, max)) = &queue.redrive {
                let arn = arns
                    .get(dlq)
                    .ok_or_else(|| format!("{} names unknown DLQ {dlq}", queue.logical_id))?;
                let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max.to_string() });
                request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
            }
            let url = request.send().await?.queue_url.ok_or("CreateQueue returned no URL")?;
            let attributes = clients
                .sqs()
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await?;
            let arn = attributes
                .attributes
                .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
                .ok_or("queue has no ARN")?;
            arns.insert(queue.logical_id.clone(), arn);
            queue_urls.insert(queue.logical_id.clone(), url);
        }
        let mut stack = Self {
            template,
            prefix: prefix.to_owned(),
            table_name,
            queue_urls,
            secret_ids: BTreeMap::new(),
            bucket_names: BTreeMap::new(),
            parameters,
            endpoints,
        };
        for secret in stack.template.secrets.clone() {
            let name = format!("{prefix}/{}", secret.logical_id);
            let value = match &secret.value {
                SecretValue::Generated { length } => rand::rng()
                    .sample_iter(&Alphanumeric)
                    .take(*length)
                    .map(char::from)
                    .collect(),
                SecretValue::Template(value) => stack.resolve(value)?,
            };
            let created = clients
                .secrets()
                .create_secret()
                .name(&name)
                .secret_string(value)
                .send()
                .await;
            if let Err(err) = created {
                let exists = err.as_service_error().is_some_and(|e| e.is_resource_exists_exception());
                if !exists {
                    return Err(err.into());
                }
            }
            stack.secret_ids.insert(secret.logical_id.clone(), name);
        }
        let s3 = clients.s3();
        for bucket in stack.template.buckets.clone() {
            let name = bucket_name(prefix, &bucket);
            let created = s3.create_bucket().bucket(&name).send().await;
            if let Err(err) = created {
                let exists = err
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists());
                if !exists {
                    return Err(err.into());
                }
            }
            stack.bucket_names.insert(bucket, name);
        }
        Ok(stack)
    }

    /// The physical value a `!Ref`, `!Sub` or literal stands for here.
    pub fn resolve(&self, value: &Intrinsic) -> Result<String, BoxError> {
        match value {
            Intrinsic::Literal(text) => Ok(text.clone()),
            Intrinsic::Ref(name) => self.reference(name),
            Intrinsic::GetAtt(name) => Err(format!("!GetAtt {name} is not supported in environment values").into()),
            Intrinsic::Sub(text) => {
                let mut out = String::new();
                let mut rest = text.as_str();
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    let end = rest[start..].find('}').ok_or("unterminated ${ in !Sub")? + start;
                    out.push_str(&self.reference(&rest[start + 2..end])?);
                    rest = &rest[end + 1..];
                }
                out.push_str(rest);
                Ok(out)
            }
        }
    }

    fn reference(&self, name: &str) -> Result<String, BoxError> {
        if name == self.template.table.logical_id {
            return Ok(self.table_name.clone());
        }
        if let Some(url) = self.queue_urls.get(name) {
            return Ok(url.clone());
        }
        if let Some(id) = self.secret_ids.get(name) {
            return Ok(id.clone());
        }
        if let Some(bucket) = self.bucket_names.get(name) {
            return Ok(bucket.clone());
        }
        if let Some(value) = self.parameters.get(name) {
            return Ok(value.clone());
        }
        match name {
            "AWS::Region" => Ok("us-east-1".into()),
            "AWS::AccountId" => Ok("000000000000".into()),
            "AWS::StackName" => Ok(self.prefix.clone()),
            _ => Err(format!("cannot resolve !Ref {name} locally").into()),
        }
    }

    /// The environment the function gets in AWS, resolved against this stack.
    pub fn environment(&self, function: &FunctionDef) -> Result<BTreeMap<String, String>, BoxError> {
        function
            .environment
            .iter()
            .map(|(name, value)| Ok((name.clone(), self.resolve(value)?)))
            .collect()
    }

    /// The function's typed config, from [`Self::local_environment`].
    pub fn config(&self, function: &FunctionDef) -> Result<Config, BoxError> {
        let env = self.local_environment(function)?;
        Ok(Config::from_lookup(|name| env.get(name).cloned())?)
    }

    /// The function's environment plus the endpoint overrides of the emulators.
    pub fn local_environment(&self, function: &FunctionDef) -> Result<BTreeMap<String, String>, BoxError> {
        let mut env = self.environment(function)?;
        let overrides = [
            ("DYNAMODB_ENDPOINT", &self.endpoints.dynamodb),
            ("SQS_ENDPOINT", &self.endpoints.sqs),
            ("SECRETSMANAGER_ENDPOINT", &self.endpoints.secrets_manager),
            ("STRIPE_API_BASE", &self.endpoints.stripe),
            ("S3_ENDPOINT", &self.endpoints.s3),
        ];
        for (name, value) in overrides {
            if let Some(value) = value {
                env.insert(name.to_owned(), value.clone());
            }
        }
        Ok(env)
    }

    pub fn function(&self, binary: &str) -> Option<&FunctionDef> {
        self.template
            .functions
            .iter()
            .find(|function| function.binary == binary)
    }

    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        self.queue_urls.get(logical_id).map(String::as_str)
    }
}

async fn enable_stream(clients: &AwsClients, name: &str, stream: Option<StreamSpecification>) -> Result<(), BoxError> {
    let Some(stream) = stream else { return Ok(()) };
    let described = clients.dynamodb().describe_table().table_name(name).send().await?;
    let enabled = described
        .table
        .and_then(|t| t.stream_specification)
        .is_some_and(|s| s.stream_enabled);
    if !enabled {
        clients
            .dynamodb()
            .update_table()
            .table_name(name)
            .stream_specification(stream)
            .send()
            .await?;
    }
    Ok(())
}

async fn create_table(clients: &AwsClients, template: &Template, name: &str) -> Result<(), BoxError> {
    let table = &template.table;
    let mut request = clients
        .dynamodb()
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_elements(&table.key)));
    for (attribute, kind) in &table.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()?,
        );
    }
    for index in &table.indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_elements(&index.key)))
                .projection(projection(&index.projection))
                .build()?,
        );
    }
    let stream = table.stream_view.as_deref().map(|view| {
        StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::from(view))
            .build()
    });
    let stream = stream.transpose()?;
    match request.set_stream_specification(stream.clone()).send().await {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
            // A table made by an earlier version of the template may lack the stream.
            return enable_stream(clients, name, stream).await;
        }
        Err(err) => return Err(err.into()),
    }
    if let Some(attribute) = &table.ttl_attribute {
        clients
            .dynamodb()
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}
