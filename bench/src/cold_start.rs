//! Part 1, `shop-bench cold-start`: init time, first and warm invocation,
//! peak memory and init instruction count of every function's release
//! binary, each beside a hello-world of its kind measured in the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::BoxError;
use crate::callgrind;
use crate::emulators::Environments;
use crate::fixtures::{self, Fixture, Kind};
use crate::measure::{self, Sample, Subject};
use crate::report::{Table, figure, times};
use crate::stats::{median, millis, percentile, ratio};
use crate::workspace::{self, FunctionDef, HELLO_HTTP, HELLO_RUNTIME, Workspace};

/// The section of `docs/performance.md` this part owns.
pub const SECTION: &str = "cold-start";

#[derive(Debug, Clone)]
pub struct Options {
    /// Cold starts per binary.
    pub runs: usize,
    /// The functions to measure; all of the template's when `None`.
    pub only: Option<Vec<String>>,
    /// Count init instructions under callgrind (one run per binary).
    pub callgrind: bool,
    /// Build the release binaries first (a no-op when they are fresh).
    pub build: bool,
}

/// Measures, and returns the Markdown of the section.
pub async fn run(options: &Options) -> Result<String, BoxError> {
    let workspace = Workspace::locate()?;
    let functions = workspace.functions()?;
    let selected = workspace::select(functions.clone(), options.only.as_deref())?;
    // First: it fails at once when no emulators are reachable.
    let environments = Environments::provision().await?;
    if options.build {
        workspace.build_functions(&functions)?;
        workspace.build_baselines()?;
    }
    let subjects = subjects(&workspace, &selected, &environments)?;
    if subjects.iter().any(|s| s.fixture.needs_demo_data) {
        environments.seed().await?;
    }
    let logs = fresh_logs(&workspace, &subjects)?;
    let samples = sample_rounds(&subjects, options.runs, &logs).await?;
    let instructions = if options.callgrind {
        count_instructions(&workspace, &subjects, &logs).await?
    } else {
        vec![None; subjects.len()]
    };
    Ok(render(&subjects, &samples, &instructions, options))
}

/// The baselines first, then the functions in the template's order.
fn subjects(
    workspace: &Workspace,
    functions: &[FunctionDef],
    environments: &Environments,
) -> Result<Vec<Subject>, BoxError> {
    let events_dir = workspace.root.join("events");
    let mut subjects = Vec::new();
    for function in functions {
        let fixture = Fixture::for_function(&events_dir, &function.name)?;
        subjects.push(Subject {
            function: function.clone(),
            binary: existing(workspace.release_binary(&function.name))?,
            fixture,
            own_env: environments.environment(&function.name)?,
            baseline: false,
        });
    }
    let baselines = [
        (HELLO_HTTP, fixtures::HELLO_HTTP_FIXTURE),
        (HELLO_RUNTIME, fixtures::HELLO_RUNTIME_FIXTURE),
    ];
    for (index, (name, file)) in baselines.into_iter().enumerate() {
        let fixture = Fixture::load(&events_dir, file, false)?;
        // The same memory setting as the functions it is compared with.
        let memory_mb = subjects
            .iter()
            .find(|s| s.kind() == fixture.kind)
            .map_or(128, |s| s.function.memory_mb);
        let function = FunctionDef {
            name: name.to_owned(),
            memory_mb,
        };
        subjects.insert(
            index,
            Subject {
                function,
                binary: existing(workspace.release_binary(name))?,
                fixture,
                own_env: BTreeMap::new(),
                baseline: true,
            },
        );
    }
    Ok(subjects)
}

fn existing(binary: PathBuf) -> Result<PathBuf, BoxError> {
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("{} is missing: build it (drop --no-build)", binary.display()).into())
    }
}

/// One log per binary, emptied for this run, so a failure can be read there.
fn fresh_logs(workspace: &Workspace, subjects: &[Subject]) -> Result<PathBuf, BoxError> {
    let logs = workspace.scratch("logs")?;
    for subject in subjects {
        let _ = std::fs::remove_file(log_path(&logs, subject));
    }
    Ok(logs)
}

fn log_path(logs: &Path, subject: &Subject) -> PathBuf {
    logs.join(format!("{}.log", subject.name()))
}

/// `runs` rounds of one cold start per binary. Interleaved, each round
/// starting one binary later, so that a noisy minute on the shared machine
/// spreads over all of them rather than landing on one.
async fn sample_rounds(subjects: &[Subject], runs: usize, logs: &Path) -> Result<Vec<Vec<Sample>>, BoxError> {
    let mut samples = vec![Vec::with_capacity(runs); subjects.len()];
    for round in 0..runs {
        let started = Instant::now();
        for offset in 0..subjects.len() {
            let index = (round + offset) % subjects.len();
            let subject = &subjects[index];
            let sample = measure::cold_start(subject, &log_path(logs, subject))
                .await
                .map_err(|e| format!("{}: {e}", subject.name()))?;
            samples[index].push(sample);
        }
        eprintln!(
            "shop-bench: cold-start round {}/{runs} took {:.1}s",
            round + 1,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(samples)
}

/// One callgrind run per binary; the output files stay for `callgrind_annotate`.
async fn count_instructions(
    workspace: &Workspace,
    subjects: &[Subject],
    logs: &Path,
) -> Result<Vec<Option<u64>>, BoxError> {
    if !callgrind::available() {
        return Err("valgrind is not installed (apt-get install valgrind), or pass --no-callgrind".into());
    }
    let out_dir = workspace.scratch("callgrind")?;
    let mut counts = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let started = Instant::now();
        let out_file = out_dir.join(format!("callgrind.out.{}", subject.name()));
        let count = callgrind::init_instructions(subject, &out_file, &log_path(logs, subject))
            .await
            .map_err(|e| format!("{} under callgrind: {e}", subject.name()))?;
        eprintln!(
            "shop-bench: callgrind {}: {count} instructions ({:.1}s)",
            subject.name(),
            started.elapsed().as_secs_f64()
        );
        counts.push(Some(count));
    }
    Ok(counts)
}

/// The figures of one binary, in milliseconds and MiB.
struct Figures {
    init: Vec<f64>,
    first: Vec<f64>,
    warm: Vec<f64>,
    peak_rss_mib: Vec<f64>,
    answers: String,
}

impl Figures {
    fn of(samples: &[Sample]) -> Self {
        let mut answers: Vec<String> = samples
            .iter()
            .map(|s| {
                if s.first_answer == s.warm_answer {
                    s.first_answer.clone()
                } else {
                    format!("{} → {}", s.first_answer, s.warm_answer)
                }
            })
            .collect();
        answers.dedup();
        Self {
            init: samples.iter().map(|s| millis(s.init)).collect(),
            first: samples.iter().map(|s| millis(s.first)).collect(),
            warm: samples.iter().map(|s| millis(s.warm)).collect(),
            peak_rss_mib: samples.iter().map(|s| s.peak_rss_kib as f64 / 1024.0).collect(),
            answers: answers.join(", "),
        }
    }
}

fn render(subjects: &[Subject], samples: &[Vec<Sample>], instructions: &[Option<u64>], options: &Options) -> String {
    let figures: Vec<Figures> = samples.iter().map(|s| Figures::of(s)).collect();
    let baseline_of = |kind: Kind| subjects.iter().position(|s| s.baseline && s.kind() == kind);
    let mut table = Table::new(&[
        "binary",
        "kind",
        "event",
        "answer",
        "init p50 ms",
        "init p90 ms",
        "init ÷ hello",
        "1st inv p50 ms",
        "1st inv p90 ms",
        "warm p50 ms",
        "1st ÷ warm",
        "VmHWM MiB",
        "init Minstr",
        "instr ÷ hello",
    ]);
    for (index, subject) in subjects.iter().enumerate() {
        let own = &figures[index];
        let base = baseline_of(subject.kind());
        let base_init = base.and_then(|b| median(&figures[b].init));
        let base_instructions = base.and_then(|b| instructions[b]).map(|n| n as f64);
        let own_instructions = instructions[index].map(|n| n as f64);
        table.row(vec![
            subject.name().to_owned(),
            subject.kind().label().to_owned(),
            subject.fixture.label().to_owned(),
            own.answers.clone(),
            figure(median(&own.init), 2),
            figure(percentile(&own.init, 0.9), 2),
            times(ratio(median(&own.init), base_init)),
            figure(median(&own.first), 2),
            figure(percentile(&own.first, 0.9), 2),
            figure(median(&own.warm), 2),
            times(ratio(median(&own.first), median(&own.warm))),
            figure(median(&own.peak_rss_mib), 1),
            figure(own_instructions.map(|n| n / 1e6), 1),
            times(ratio(own_instructions, base_instructions)),
        ]);
    }
    let mut out = table.render(4);
    out.push('\n');
    out.push_str(&legend(options));
    out
}

fn legend(options: &Options) -> String {
    let instructions = if options.callgrind {
        "- **init Minstr**: millions of instructions (callgrind `Ir`, all threads) from exec to the first \
         `GET /next`, one run under `valgrind --tool=callgrind` ended by SIGTERM there; the output files stay \
         in `$CARGO_TARGET_DIR/shop-bench/callgrind/` for `callgrind_annotate` (the release binaries are \
         stripped: build with `CARGO_PROFILE_RELEASE_STRIP=false` for names).\n"
    } else {
        "- **init Minstr**: not counted in this run (callgrind is off: `--smoke` without `--callgrind`, or \
         `--no-callgrind`).\n"
    };
    format!(
        "{runs} cold start(s) per binary, interleaved round-robin; each process is spawned with the \
         Lambda environment against the bench's own Runtime API stub on loopback, invoked twice with the \
         same event, then killed.\n\n\
         - **init**: spawn → first `GET /runtime/invocation/next`.\n\
         - **1st inv** / **warm**: event handed out → response posted, for the first and the second \
         invocation of the same process; **1st ÷ warm** compares their medians. The AWS services are the \
         local emulators over plain HTTP on loopback: the first invocation's connection set-up costs far \
         less here than TLS to a real endpoint.\n\
         - **÷ hello**: against the hello-world of the same kind (`hello-http`: `lambda_http` answering 200; \
         `hello-runtime`: `lambda_runtime` echoing the event), same profile, same run.\n\
         - **answer**: the HTTP status or the event result of the invocations (fixtures keep their \
         placeholder credentials, hence the 401s).\n\
         - **VmHWM**: peak RSS read from `/proc/PID/status` after the second invocation (median).\n\
         - p50 is the median, p90 the nearest-rank 90th percentile.\n\
         {instructions}",
        runs = options.runs
    )
}
