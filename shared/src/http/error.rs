use http::StatusCode;
use serde::Serialize;

/// The error codes of the API (the README's error table and openapi.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    #[serde(rename = "AUTH_001")]
    InvalidCredentials,
    #[serde(rename = "AUTH_002")]
    TokenExpired,
    #[serde(rename = "AUTH_003")]
    InvalidToken,
    #[serde(rename = "AUTH_004")]
    Forbidden,
    #[serde(rename = "VAL_001")]
    InvalidInput,
    #[serde(rename = "VAL_002")]
    MissingField,
    #[serde(rename = "RES_001")]
    NotFound,
    #[serde(rename = "RES_002")]
    AlreadyExists,
    /// A write based on a stale version (optimistic concurrency).
    #[serde(rename = "RES_003")]
    StaleVersion,
    /// The resource is still referenced (a category with products or children).
    #[serde(rename = "RES_004")]
    ResourceInUse,
    #[serde(rename = "BUS_001")]
    InsufficientInventory,
    #[serde(rename = "BUS_002")]
    InvalidCartOperation,
    #[serde(rename = "BUS_003")]
    PaymentFailed,
    /// Too many attempts: the caller must wait (`Retry-After`).
    #[serde(rename = "RATE_001")]
    RateLimited,
    #[serde(rename = "SYS_001")]
    Internal,
    #[serde(rename = "SYS_002")]
    Unavailable,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidCredentials | Self::TokenExpired | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::InvalidInput
            | Self::MissingField
            | Self::InsufficientInventory
            | Self::InvalidCartOperation
            | Self::PaymentFailed => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AlreadyExists | Self::StaleVersion | Self::ResourceInUse => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "AUTH_001",
            Self::TokenExpired => "AUTH_002",
            Self::InvalidToken => "AUTH_003",
            Self::Forbidden => "AUTH_004",
            Self::InvalidInput => "VAL_001",
            Self::MissingField => "VAL_002",
            Self::NotFound => "RES_001",
            Self::AlreadyExists => "RES_002",
            Self::StaleVersion => "RES_003",
            Self::ResourceInUse => "RES_004",
            Self::InsufficientInventory => "BUS_001",
            Self::InvalidCartOperation => "BUS_002",
            Self::PaymentFailed => "BUS_003",
            Self::RateLimited => "RATE_001",
            Self::Internal => "SYS_001",
            Self::Unavailable => "SYS_002",
        }
    }
}

/// One bad field of a request, as listed in `error.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The error every handler returns. Only this type knows HTTP status and error code;
/// internal causes are logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// Seconds the client should wait (429).
    pub retry_after: Option<u64>,
    /// The cause of a 5xx, logged with the request id.
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            cause: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn invalid_credentials() -> Self {
        Self::new(ErrorCode::InvalidCredentials, "Invalid email or password")
    }

    pub fn token_expired() -> Self {
        Self::new(ErrorCode::TokenExpired, "Token has expired")
    }

    pub fn invalid_token() -> Self {
        Self::new(ErrorCode::InvalidToken, "Invalid token")
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "Insufficient permissions")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::AlreadyExists, message)
    }

    pub fn stale_version() -> Self {
        Self::new(
            ErrorCode::StaleVersion,
            "The resource was changed by another request; reload it and try again",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(ErrorCode::RateLimited, "Too many attempts, please try again later")
        }
    }

    /// One field is wrong; `details` names it.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldIssue::new(field, message)], Vec::new())
    }

    /// A 400 naming every bad field; VAL_002 when the only problems are missing fields.
    pub fn validation(invalid: Vec<FieldIssue>, missing: Vec<FieldIssue>) -> Self {
        let (code, message) = if invalid.is_empty() {
            (ErrorCode::MissingField, "Missing required field")
        } else {
            (ErrorCode::InvalidInput, "Validation failed")
        };
        let issues: Vec<FieldIssue> = missing.into_iter().chain(invalid).collect();
        Self::new(code, message).with_details(serde_json::json!(issues))
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(ErrorCode::Internal, "An unexpected error occurred")
        }
    }

    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(
                ErrorCode::Unavailable,
                "The service is temporarily unavailable, please retry",
            )
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}
