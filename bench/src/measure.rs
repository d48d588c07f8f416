//! One cold start of one binary: spawned against its own Runtime API stub,
//! invoked twice with the same event, then killed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::process::Child;

use crate::BoxError;
use crate::fixtures::{Fixture, Kind};
use crate::launch::{self, Launch};
use crate::runtime_api::{Call, Recorded, RuntimeApi};
use crate::workspace::FunctionDef;

/// How long a process may take to ask for its first event, natively.
const INIT_LIMIT: Duration = Duration::from_secs(30);
/// How long one invocation may take (the longest function timeout is 60 s).
const INVOCATION_LIMIT: Duration = Duration::from_secs(60);

/// A binary to measure, with what it is started and invoked with.
#[derive(Debug, Clone)]
pub struct Subject {
    pub function: FunctionDef,
    pub binary: PathBuf,
    pub fixture: Fixture,
    /// The function's own environment (empty for the baselines).
    pub own_env: BTreeMap<String, String>,
    /// A hello-world baseline rather than a function of the project.
    pub baseline: bool,
}

impl Subject {
    pub fn name(&self) -> &str {
        &self.function.name
    }

    pub fn kind(&self) -> Kind {
        self.fixture.kind
    }

    /// How to start it against the stub at `runtime_api`, optionally wrapped
    /// (`wrapper` = valgrind and its options).
    pub fn launch(&self, runtime_api: &str, wrapper: Option<(PathBuf, Vec<String>)>, log: &Path) -> Launch {
        let env = launch::lambda_environment(&self.function, runtime_api, &self.own_env);
        let binary = self.binary.display().to_string();
        let (program, args) = match wrapper {
            Some((program, mut args)) => {
                args.push(binary);
                (program, args)
            }
            None => (self.binary.clone(), Vec::new()),
        };
        Launch {
            program,
            args,
            env,
            log: log.to_path_buf(),
        }
    }
}

/// The figures of one cold start.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Spawn → first `GET /next`.
    pub init: Duration,
    /// First event handed out → its response posted.
    pub first: Duration,
    /// The same for the second, warm, invocation of the same event.
    pub warm: Duration,
    /// What the first and the second invocation answered (HTTP status, `ok`, …).
    pub first_answer: String,
    pub warm_answer: String,
    /// `VmHWM` after the second invocation, in KiB.
    pub peak_rss_kib: u64,
}

/// Measures one cold start of `subject`, its output appended to `log`.
pub async fn cold_start(subject: &Subject, log: &Path) -> Result<Sample, BoxError> {
    let event = subject.fixture.event.clone();
    let mut api = RuntimeApi::start(subject.name(), vec![event.clone(), event]).await?;
    let launch = subject.launch(&api.address(), None, log);
    let started = Instant::now();
    let mut child = launch.spawn()?;
    let pid = child.id().ok_or("the process ended at once")?;
    let mut process = Watched::new(&mut api, &mut child, log);

    let first_poll = process.poll(INIT_LIMIT).await?;
    let (first, first_answer) = process.invocation(first_poll, subject.kind()).await?;
    let second_poll = process.poll(INVOCATION_LIMIT).await?;
    let (warm, warm_answer) = process.invocation(second_poll, subject.kind()).await?;
    // Back in its poll loop: the invocation is over, memory included.
    process.idle(INVOCATION_LIMIT).await?;

    let peak_rss_kib = launch::peak_rss_kib(pid)?;
    child.kill().await?;
    Ok(Sample {
        init: first_poll.duration_since(started),
        first,
        warm,
        first_answer,
        warm_answer,
        peak_rss_kib,
    })
}

/// A process and its stub, read together: any call that is not the expected
/// one, the process ending, or a time limit is an error telling which.
pub struct Watched<'a> {
    api: &'a mut RuntimeApi,
    child: &'a mut Child,
    log: &'a Path,
}

impl<'a> Watched<'a> {
    pub fn new(api: &'a mut RuntimeApi, child: &'a mut Child, log: &'a Path) -> Self {
        Self { api, child, log }
    }

    /// Waits for `GET /next` that is handed an event; returns its instant.
    pub async fn poll(&mut self, limit: Duration) -> Result<Instant, BoxError> {
        let recorded = self.call(limit, "GET /next").await?;
        match recorded.call {
            Call::Next { handed_out: Some(_) } => Ok(recorded.at),
            other => Err(self.unexpected("GET /next", &other)),
        }
    }

    /// Waits for `GET /next` that finds no event left (the process is idle).
    pub async fn idle(&mut self, limit: Duration) -> Result<Instant, BoxError> {
        let recorded = self.call(limit, "GET /next").await?;
        match recorded.call {
            Call::Next { handed_out: None } => Ok(recorded.at),
            other => Err(self.unexpected("an idle GET /next", &other)),
        }
    }

    /// Waits for the answer to the invocation handed out at `handed_out`.
    async fn invocation(&mut self, handed_out: Instant, kind: Kind) -> Result<(Duration, String), BoxError> {
        let recorded = self.call(INVOCATION_LIMIT, "the invocation's response").await?;
        let answer = match &recorded.call {
            Call::Response { body, .. } => describe_response(kind, body),
            Call::InvocationError { body, .. } => describe_error(body),
            other => return Err(self.unexpected("the invocation's response", other)),
        };
        Ok((recorded.at.duration_since(handed_out), answer))
    }

    async fn call(&mut self, limit: Duration, waiting_for: &str) -> Result<Recorded, BoxError> {
        let outcome = tokio::time::timeout(limit, async {
            tokio::select! {
                call = self.api.next_call() => call.ok_or_else(|| "the Runtime API stub stopped".to_owned()),
                status = self.child.wait() => Err(format!("the process exited ({})", describe_exit(status))),
            }
        })
        .await;
        let failure = match outcome {
            Ok(Ok(recorded)) => match &recorded.call {
                Call::InitError { body } => format!("init error: {}", String::from_utf8_lossy(body)),
                _ => return Ok(recorded),
            },
            Ok(Err(failure)) => failure,
            Err(_) => format!("no call within {limit:?}"),
        };
        Err(self.failure(&format!("waiting for {waiting_for}: {failure}")))
    }

    fn unexpected(&self, expected: &str, got: &Call) -> BoxError {
        self.failure(&format!("expected {expected}, got {got:?}"))
    }

    fn failure(&self, what: &str) -> BoxError {
        format!(
            "{what}\nlast lines of {}:\n{}",
            self.log.display(),
            launch::log_tail(self.log, 15)
        )
        .into()
    }
}

fn describe_exit(status: std::io::Result<std::process::ExitStatus>) -> String {
    status.map_or_else(|e| e.to_string(), |s| s.to_string())
}

/// An HTTP function's answer is its status code; an event function's is `ok`,
/// with the count of batch items it reported as failed, if any.
fn describe_response(kind: Kind, body: &Bytes) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match kind {
        Kind::Http => json["statusCode"]
            .as_u64()
            .map_or_else(|| "no statusCode".into(), |code| code.to_string()),
        Kind::Event => match json["batchItemFailures"].as_array().map(Vec::len) {
            Some(failed) if failed > 0 => format!("ok, {failed} failed"),
            _ => "ok".into(),
        },
    }
}

/// The start of the error message: the Rust runtime's `errorType` is a type
/// name (`&alloc::boxed::Box<dyn core::error::Error …>`) that tells nothing.
fn describe_error(body: &Bytes) -> String {
    const SHOWN: usize = 60;
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let message = json["errorMessage"].as_str().unwrap_or("(no errorMessage)");
    let mut shown: String = message.chars().take(SHOWN).collect();
    if message.chars().count() > SHOWN {
        shown.push('…');
    }
    format!("error: {shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_described_by_kind() {
        let http = Bytes::from_static(br#"{"statusCode":401,"body":"{}"}"#);
        assert_eq!(describe_response(Kind::Http, &http), "401");
        let batch = Bytes::from_static(br#"{"batchItemFailures":[{"itemIdentifier":"a"}]}"#);
        assert_eq!(describe_response(Kind::Event, &batch), "ok, 1 failed");
        assert_eq!(describe_response(Kind::Event, &Bytes::from_static(b"null")), "ok");
        let error = Bytes::from_static(br#"{"errorType":"&Box<dyn Error>","errorMessage":"no table"}"#);
        assert_eq!(describe_error(&error), "error: no table");
    }
}
