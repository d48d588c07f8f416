//! Reads `template.yaml`: the one description of routes, queues, the table,
//! secrets and function environment that both AWS and the local runner use.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("template.yaml is not valid YAML: {0}")]
    Parse(#[from] serde_norway::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
}

fn shape(message: impl Into<String>) -> TemplateError {
    TemplateError::Shape(message.into())
}

/// A value of the template, with CloudFormation's short tags made explicit.
#[derive(Debug, Clone, PartialEq)]
pub enum Intrinsic {
    Literal(String),
    Ref(String),
    GetAtt(String),
    Sub(String),
}

impl Intrinsic {
    fn read(value: &Value) -> Result<Self, TemplateError> {
        match value {
            Value::String(text) => Ok(Self::Literal(text.clone())),
            Value::Number(number) => Ok(Self::Literal(number.to_string())),
            Value::Bool(flag) => Ok(Self::Literal(flag.to_string())),
            Value::Tagged(tagged) => {
                let inner = tagged
                    .value
                    .as_str()
                    .ok_or_else(|| shape(format!("unsupported {} argument", tagged.tag)))?;
                match tagged.tag.to_string().trim_start_matches('!') {
                    "Ref" => Ok(Self::Ref(inner.to_owned())),
                    "GetAtt" => Ok(Self::GetAtt(inner.to_owned())),
                    "Sub" => Ok(Self::Sub(inner.to_owned())),
                    other => Err(shape(format!("unsupported intrinsic !{other}"))),
                }
            }
            Value::Mapping(map) => {
                let (key, inner) = map.iter().next().ok_or_else(|| shape("empty intrinsic mapping"))?;
                let inner = inner
                    .as_str()
                    .ok_or_else(|| shape("unsupported intrinsic argument"))?
                    .to_owned();
                match key.as_str() {
                    Some("Ref") => Ok(Self::Ref(inner)),
                    Some("Fn::GetAtt") => Ok(Self::GetAtt(inner)),
                    Some("Fn::Sub") => Ok(Self::Sub(inner)),
                    _ => Err(shape("unsupported intrinsic mapping")),
                }
            }
            _ => Err(shape("unsupported value")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HttpRoute {
    pub method: String,
    pub path: String,
}

impl HttpRoute {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqsTrigger {
    pub queue: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
}

/// A DynamoDB stream event source: the table's stream, read in batches.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTrigger {
    pub batch_size: u32,
    /// `TRIM_HORIZON` or `LATEST`.
    pub starting_position: String,
    /// Attempts of a failed batch before it goes to the on-failure destination.
    pub maximum_retry_attempts: u32,
    /// The queue (logical id) that failed batches are reported to.
    pub on_failure: Option<String>,
    /// Event filter patterns (JSON): only matching records reach the function.
    pub filters: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleTrigger {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub logical_id: String,
    /// The binary (and package) name, e.g. `users-api`.
    pub binary: String,
    pub routes: Vec<HttpRoute>,
    pub queues: Vec<SqsTrigger>,
    pub schedules: Vec<ScheduleTrigger>,
    pub streams: Vec<StreamTrigger>,
    pub environment: BTreeMap<String, Intrinsic>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyDef {
    pub hash: String,
    pub range: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProjectionDef {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: String,
    pub key: KeyDef,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub logical_id: String,
    pub attributes: Vec<(String, String)>,
    pub key: KeyDef,
    pub indexes: Vec<IndexDef>,
    pub ttl_attribute: Option<String>,
    /// `NEW_IMAGE`, `NEW_AND_OLD_IMAGES`, … when the table has a stream.
    pub stream_view: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueDef {
    pub logical_id: String,
    pub visibility_timeout: Option<u32>,
    /// Dead-letter queue logical id and maxReceiveCount.
    pub redrive: Option<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretValue {
    Generated { length: usize },
    Template(Intrinsic),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretDef {
    pub logical_id: String,
    pub value: SecretValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parameters: BTreeMap<String, String>,
    pub table: TableDef,
    pub queues: Vec<QueueDef>,
    pub secrets: Vec<SecretDef>,
    /// Logical ids of the S3 buckets.
    pub buckets: Vec<String>,
    pub functions: Vec<FunctionDef>,
    pub cors: Cors,
}

/// The HTTP API's `CorsConfiguration`: API Gateway answers preflights and
/// adds the CORS headers itself, for the allowed origins only.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cors {
    /// The origins, literal or from a template parameter (a comma-delimited list).
    pub allow_origins: Option<Intrinsic>,
    pub allow_headers: Vec<String>,
    pub allow_methods: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
}

impl Cors {
    fn read(cors: &Value) -> Result<Self, TemplateError> {
        let list = |key: &str| -> Vec<String> {
            get(cors, key)
                .and_then(Value::as_sequence)
                .map(|items| items.iter().filter_map(|h| h.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let allow_origins = match get(cors, "AllowOrigins") {
            Some(Value::Sequence(items)) => Some(Intrinsic::Literal(
                items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
            )),
            Some(other) => Some(Intrinsic::read(other)?),
            None => None,
        };
        Ok(Self {
            allow_origins,
            allow_headers: list("AllowHeaders"),
            allow_methods: list("AllowMethods"),
            expose_headers: list("ExposeHeaders"),
            max_age: text(cors, "MaxAge").and_then(|v| v.parse().ok()),
        })
    }
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping().and_then(|map| map.get(key))
}

fn text(value: &Value, key: &str) -> Option<String> {
    get(value, key).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn key_schema(value: &Value) -> Result<KeyDef, TemplateError> {
    let entries = get(value, "KeySchema")
        .and_then(Value::as_sequence)
        .ok_or_else(|| shape("KeySchema missing"))?;
    let mut hash = None;
    let mut range = None;
    for entry in entries {
        let name = text(entry, "AttributeName").ok_or_else(|| shape("KeySchema entry without AttributeName"))?;
        match text(entry, "KeyType").as_deref() {
            Some("HASH") => hash = Some(name),
            Some("RANGE") => range = Some(name),
            _ => return Err(shape("KeySchema entry without KeyType")),
        }
    }
    Ok(KeyDef {
        hash: hash.ok_or_else(|| shape("KeySchema has no HASH key"))?,
        range,
    })
}

/// The logical id in `!GetAtt Name.Arn`.
fn get_att_resource(value: &Value) -> Option<String> {
    match Intrinsic::read(value).ok()? {
        Intrinsic::GetAtt(target) | Intrinsic::Ref(target) => target.split('.').next().map(str::to_owned),
        _ => None,
    }
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let root: Value = serde_norway::from_str(source)?;
        let mut parameters = BTreeMap::new();
        if let Some(map) = get(&root, "Parameters").and_then(Value::as_mapping) {
            for (name, definition) in map {
                if let Some(name) = name.as_str() {
                    parameters.insert(name.to_owned(), text(definition, "Default").unwrap_or_default());
                }
            }
        }
        let mut global_env = BTreeMap::new();
        if let Some(vars) = get(&root, "Globals")
            .and_then(|g| get(g, "Function"))
            .and_then(|f| get(f, "Environment"))
            .and_then(|e| get(e, "Variables"))
            .and_then(Value::as_mapping)
        {
            for (name, value) in vars {
                if let Some(name) = name.as_str() {
                    global_env.insert(name.to_owned(), Intrinsic::read(value)?);
                }
            }
        }
        let resources = get(&root, "Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| shape("no Resources"))?;
        let mut table = None;
        let mut queues = Vec::new();
        let mut secrets = Vec::new();
        let mut buckets = Vec::new();
        let mut functions = Vec::new();
        let mut cors = Cors::default();
        for (id, resource) in resources {
            let Some(id) = id.as_str() else { continue };
            let properties = get(resource, "Properties").cloned().unwrap_or(Value::Null);
            match text(resource, "Type").as_deref() {
                Some("AWS::DynamoDB::Table") => table = Some(Self::table(id, &properties)?),
                Some("AWS::SQS::Queue") => queues.push(QueueDef {
                    logical_id: id.to_owned(),
                    visibility_timeout: text(&properties, "VisibilityTimeout").and_then(|v| v.parse().ok()),
                    redrive: get(&properties, "RedrivePolicy").and_then(|policy| {
                        let dlq = get_att_resource(get(policy, "deadLetterTargetArn")?)?;
                        let max = text(policy, "maxReceiveCount")?.parse().ok()?;
                        Some((dlq, max))
                    }),
                }),
                Some("AWS::SecretsManager::Secret") => {
                    let value = if let Some(generate) = get(&properties, "GenerateSecretString") {
                        SecretValue::Generated {
                            length: text(generate, "PasswordLength")
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(32),
                        }
                    } else {
                        let value = get(&properties, "SecretString")
                            .ok_or_else(|| shape(format!("{id} has no secret value")))?;
                        SecretValue::Template(Intrinsic::read(value)?)
                    };
                    secrets.push(SecretDef {
                        logical_id: id.to_owned(),
                        value,
                    });
                }
                Some("AWS::S3::Bucket") => buckets.push(id.to_owned()),
                Some("AWS::Serverless::HttpApi") => {
                    if let Some(configuration) = get(&properties, "CorsConfiguration") {
                        cors = Cors::read(configuration)?;
                    }
                }
                Some("AWS::Serverless::Function") => {
                    functions.push(Self::function(id, resource, &properties, &global_env)?)
                }
                _ => {}
            }
        }
        let table = table.ok_or_else(|| shape("no AWS::DynamoDB::Table"))?;
        Ok(Self {
            parameters,
            table,
            queues,
            secrets,
            buckets,
            functions,
            cors,
        })
    }

    fn table(id: &str, properties: &Value) -> Result<TableDef, TemplateError> {
        let attributes = get(properties, "AttributeDefinitions")
            .and_then(Value::as_sequence)
            .ok_or_else(|| shape("table without AttributeDefinitions"))?
            .iter()
            .filter_map(|a| Some((text(a, "AttributeName")?, text(a, "AttributeType")?)))
            .collect();
        let mut indexes = Vec::new();
        for index in get(properties, "GlobalSecondaryIndexes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let projection = get(index, "Projection");
            let projection = match projection.and_then(|p| text(p, "ProjectionType")).as_deref() {
                Some("KEYS_ONLY") => ProjectionDef::KeysOnly,
                Some("INCLUDE") => ProjectionDef::Include(
                    projection
                        .and_then(|p| get(p, "NonKeyAttributes"))
                        .and_then(Value::as_sequence)
                        .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default(),
                ),
                _ => ProjectionDef::All,
            };
            indexes.push(IndexDef {
                name: text(index, "IndexName").ok_or_else(|| shape("index without IndexName"))?,
                key: key_schema(index)?,
                projection,
            });
        }
        let ttl_attribute = get(properties, "TimeToLiveSpecification")
            .filter(|ttl| get(ttl, "Enabled").and_then(Value::as_bool).unwrap_or(false))
            .and_then(|ttl| text(ttl, "AttributeName"));
        Ok(TableDef {
            logical_id: id.to_owned(),
            attributes,
            key: key_schema(properties)?,
            indexes,
            ttl_attribute,
            stream_view: get(properties, "StreamSpecification").and_then(|s| text(s, "StreamViewType")),
        })
    }

    fn function(
        id: &str,
        resource: &Value,
        properties: &Value,
        global_env: &BTreeMap<String, Intrinsic>,
    ) -> Result<FunctionDef, TemplateError> {
        let binary = get(resource, "Metadata")
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|b| text(b, "Binary"))
            .ok_or_else(|| shape(format!("{id} has no Metadata.BuildProperties.Binary")))?;
        let mut environment = global_env.clone();
        if let Some(vars) = get(properties, "Environment")
            .and_then(|e| get(e, "Variables"))
            .and_then(Value::as_mapping)
        {
            for (name, value) in vars {
                if let Some(name) = name.as_str() {
                    environment.insert(name.to_owned(), Intrinsic::read(value)?);
                }
            }
        }
        let mut function = FunctionDef {
            logical_id: id.to_owned(),
            binary,
            routes: Vec::new(),
            queues: Vec::new(),
            schedules: Vec::new(),
            streams: Vec::new(),
            environment,
        };
        for (name, event) in get(properties, "Events")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default().to_owned();
            let props = get(event, "Properties").cloned().unwrap_or(Value::Null);
            match text(event, "Type").as_deref() {
                Some("HttpApi") => function.routes.push(HttpRoute {
                    method: text(&props, "Method")
                        .ok_or_else(|| shape(format!("{id}.{name} has no Method")))?
                        .to_uppercase(),
                    path: text(&props, "Path").ok_or_else(|| shape(format!("{id}.{name} has no Path")))?,
                }),
                Some("SQS") => function.queues.push(SqsTrigger {
                    queue: get(&props, "Queue")
                        .and_then(get_att_resource)
                        .ok_or_else(|| shape(format!("{id}.{name} has no Queue")))?,
                    batch_size: text(&props, "BatchSize").and_then(|v| v.parse().ok()).unwrap_or(10),
                    report_batch_item_failures: get(&props, "FunctionResponseTypes")
                        .and_then(Value::as_sequence)
                        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures"))),
                }),
                Some("DynamoDB") => function.streams.push(StreamTrigger {
                    batch_size: text(&props, "BatchSize").and_then(|v| v.parse().ok()).unwrap_or(100),
                    starting_position: text(&props, "StartingPosition").unwrap_or_else(|| "LATEST".into()),
                    maximum_retry_attempts: text(&props, "MaximumRetryAttempts")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(10),
                    on_failure: get(&props, "DestinationConfig")
                        .and_then(|d| get(d, "OnFailure"))
                        .and_then(|f| get(f, "Destination"))
                        .and_then(get_att_resource),
                    filters: get(&props, "FilterCriteria")
                        .and_then(|c| get(c, "Filters"))
                        .and_then(Value::as_sequence)
                        .into_iter()
                        .flatten()
                        .filter_map(|filter| text(filter, "Pattern"))
                        .map(|pattern| {
                            serde_json::from_str(&pattern)
                                .map_err(|e| shape(format!("{id}.{name} has an unreadable filter pattern: {e}")))
                        })
                        .collect::<Result<_, _>>()?,
                }),
                Some("Schedule") | Some("ScheduleV2") => function.schedules.push(ScheduleTrigger {
                    name,
                    expression: text(&props, "Schedule")
                        .or_else(|| text(&props, "ScheduleExpression"))
                        .ok_or_else(|| shape(format!("{id} schedule has no expression")))?,
                }),
                _ => {}
            }
        }
        Ok(function)
    }

    /// The template next to the workspace root, wherever the runner is started from.
    pub fn default_path() -> std::path::PathBuf {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        here.parent().unwrap_or(here).join("template.yaml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_template_is_understood() {
        let template = Template::load(&Template::default_path()).unwrap();
        assert_eq!(template.table.key.hash, "PK");
        assert!(template.table.indexes.iter().any(|index| index.name == "GSI1"));
        let catalog = template
            .table
            .indexes
            .iter()
            .find(|index| index.name == "CatalogIndex")
            .unwrap();
        assert!(
            matches!(&catalog.projection, ProjectionDef::Include(names) if names.contains(&"inventory".to_owned()))
        );
        assert_eq!(template.table.ttl_attribute.as_deref(), Some("expiresAt"));
        let users = template.functions.iter().find(|f| f.binary == "users-api").unwrap();
        assert!(users.routes.iter().any(|r| r.key() == "POST /api/v1/users/register"));
        assert_eq!(
            users.environment.get("TABLE_NAME"),
            Some(&Intrinsic::Ref("ShopTable".into()))
        );
        let notifications = template
            .queues
            .iter()
            .find(|q| q.logical_id == "NotificationsQueue")
            .unwrap();
        assert_eq!(notifications.redrive, Some(("NotificationsDLQ".into(), 5)));
    }

    #[test]
    fn openapi_documents_exactly_the_template_routes() {
        let root = Template::default_path();
        let spec: Value =
            serde_norway::from_str(&std::fs::read_to_string(root.with_file_name("openapi.yaml")).unwrap()).unwrap();
        let mut documented: Vec<String> = get(&spec, "paths")
            .and_then(Value::as_mapping)
            .unwrap()
            .iter()
            .flat_map(|(path, operations)| {
                let path = path.as_str().unwrap().to_owned();
                operations
                    .as_mapping()
                    .unwrap()
                    .keys()
                    .filter_map(Value::as_str)
                    .filter(|method| ["get", "post", "put", "patch", "delete"].contains(method))
                    .map(move |method| format!("{} {path}", method.to_uppercase()))
            })
            .collect();
        let template = Template::load(&root).unwrap();
        let mut routed: Vec<String> = template
            .functions
            .iter()
            .flat_map(|f| f.routes.iter().map(HttpRoute::key))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
    }
}
