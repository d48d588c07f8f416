//! Secrets from Secrets Manager, fetched on first use and cached for the life
//! of the execution environment. Values are wrapped so they never print.

use std::fmt;
use std::sync::Arc;

use tokio::sync::OnceCell;

/// A secret value: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("could not read secret {id}: {source}")]
    Fetch {
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {0} has no string value")]
    Empty(String),
}

/// One secret id and its cached value.
#[derive(Debug)]
pub struct CachedSecret {
    id: String,
    value: OnceCell<Secret>,
}

impl CachedSecret {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            value: OnceCell::new(),
        }
    }

    pub async fn get(&self, client: &aws_sdk_secretsmanager::Client) -> Result<&Secret, SecretError> {
        self.value
            .get_or_try_init(|| async {
                let output = client
                    .get_secret_value()
                    .secret_id(&self.id)
                    .send()
                    .await
                    .map_err(|err| SecretError::Fetch {
                        id: self.id.clone(),
                        source: Box::new(err),
                    })?;
                output
                    .secret_string()
                    .filter(|value| !value.is_empty())
                    .map(Secret::new)
                    .ok_or_else(|| SecretError::Empty(self.id.clone()))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }
}
