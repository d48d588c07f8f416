//! Instructions executed during init, counted by callgrind: unlike a time,
//! the count hardly depends on what else the machine is doing, so it can
//! tell apart cold starts the timings cannot.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::BoxError;
use crate::launch;
use crate::measure::{Subject, Watched};
use crate::runtime_api::RuntimeApi;

const VALGRIND: &str = "valgrind";
/// Valgrind runs a binary some 50× slower, and translates its code first.
const INIT_LIMIT: Duration = Duration::from_secs(600);
/// How long callgrind may take to write its totals once told to stop.
const EXIT_LIMIT: Duration = Duration::from_secs(120);

/// Whether valgrind can be run at all.
pub fn available() -> bool {
    std::process::Command::new(VALGRIND)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `subject` under callgrind until its first `GET /next`, then ends it with
/// SIGTERM: valgrind turns the fatal signal into a normal tool exit, so
/// callgrind writes `out_file` with the totals of everything up to then.
/// Returns the number of instructions executed (all threads).
pub async fn init_instructions(subject: &Subject, out_file: &Path, log: &Path) -> Result<u64, BoxError> {
    let _ = std::fs::remove_file(out_file);
    let mut api = RuntimeApi::start(subject.name(), Vec::new()).await?;
    let wrapper = (
        PathBuf::from(VALGRIND),
        vec![
            "--tool=callgrind".to_owned(),
            format!("--callgrind-out-file={}", out_file.display()),
        ],
    );
    let launch = subject.launch(&api.address(), Some(wrapper), log);
    let mut child = launch.spawn()?;
    let pid = child.id().ok_or("valgrind ended at once")?;
    Watched::new(&mut api, &mut child, log).idle(INIT_LIMIT).await?;

    launch::send_signal(pid, "TERM")?;
    match tokio::time::timeout(EXIT_LIMIT, child.wait()).await {
        Ok(status) => drop(status?),
        Err(_) => {
            child.kill().await?;
            return Err(format!("valgrind did not exit within {EXIT_LIMIT:?} of SIGTERM").into());
        }
    }
    let text = std::fs::read_to_string(out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    total_instructions(&text).ok_or_else(|| format!("{} has no summary or totals line", out_file.display()).into())
}

/// The instruction count of a callgrind output file: its `summary:` line, or
/// its `totals:` line (the first event is `Ir` unless told otherwise).
pub fn total_instructions(callgrind_out: &str) -> Option<u64> {
    callgrind_out
        .lines()
        .find_map(|line| line.strip_prefix("summary:").or_else(|| line.strip_prefix("totals:")))
        .and_then(|counts| counts.split_whitespace().next())
        .and_then(|ir| ir.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_come_from_the_summary_line() {
        let text =
            "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=(1) main\n16 3\nsummary: 1234567\ntotals: 1234567\n";
        assert_eq!(total_instructions(text), Some(1_234_567));
        assert_eq!(total_instructions("totals: 42 7\n"), Some(42));
        assert_eq!(total_instructions("events: Ir\n"), None);
    }
}
