//! Starting a function process the way Lambda does, and looking at it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::BoxError;
use crate::workspace::FunctionDef;

/// What to start: a program (the function, or valgrind wrapping it), its
/// environment, and the file its output goes to.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub log: PathBuf,
}

impl Launch {
    /// Starts the process with exactly `env` (nothing inherited from the bench,
    /// as in Lambda), its stdout and stderr appended to `log`.
    pub fn spawn(&self) -> Result<Child, BoxError> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.program.display()))?;
        Ok(child)
    }
}

/// The environment Lambda gives a `provided.al2023` function, pointed at the
/// Runtime API stub, plus the function's own (`own`), which wins on a clash.
pub fn lambda_environment(
    function: &FunctionDef,
    runtime_api: &str,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let name = function.name.as_str();
    let fixed = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", function.memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]shopbench".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_REGION", inherited("AWS_REGION", "us-east-1")),
        ("AWS_DEFAULT_REGION", inherited("AWS_REGION", "us-east-1")),
        ("AWS_ACCESS_KEY_ID", inherited("AWS_ACCESS_KEY_ID", "test")),
        ("AWS_SECRET_ACCESS_KEY", inherited("AWS_SECRET_ACCESS_KEY", "test")),
        ("AWS_SESSION_TOKEN", inherited("AWS_SESSION_TOKEN", "test")),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
    ];
    let mut env: BTreeMap<String, String> = fixed.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// The bench's own value of `name`, else `default`. The credentials and the
/// region must be those `shop-local` provisioned with: DynamoDB Local keeps one
/// database per access key and region, so other ones would find no table.
fn inherited(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// The peak resident set size of a live process, in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Result<u64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_hwm(&status).ok_or_else(|| format!("/proc/{pid}/status has no VmHWM").into())
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Sends `signal` (e.g. `TERM`) with kill(1): the workspace forbids the unsafe
/// code a direct `kill(2)` would need.
pub fn send_signal(pid: u32, signal: &str) -> Result<(), BoxError> {
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()?;
    if !status.success() {
        return Err(format!("kill -s {signal} {pid} failed").into());
    }
    Ok(())
}

/// The last lines of a log, to explain a failure.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_kib() {
        let status = "Name:\tcatalog-api\nVmPeak:\t  123456 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   19000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(20480));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn the_function_environment_wins_over_the_defaults() {
        let function = FunctionDef {
            name: "users-api".into(),
            memory_mb: 256,
        };
        let own = BTreeMap::from([("AWS_REGION".to_owned(), "eu-west-1".to_owned())]);
        let env = lambda_environment(&function, "127.0.0.1:9001", &own);
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert_eq!(env["AWS_REGION"], "eu-west-1");
    }
}
