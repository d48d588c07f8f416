//! The Runtime API stub against the real Lambda runtime crates: the baselines
//! (debug builds here) must start, answer two invocations and go idle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use shop_bench::fixtures::{Fixture, HELLO_HTTP_FIXTURE, HELLO_RUNTIME_FIXTURE};
use shop_bench::measure::{self, Subject};
use shop_bench::workspace::FunctionDef;

fn subject(binary: &str, fixture: &str) -> Subject {
    let events = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events");
    Subject {
        function: FunctionDef {
            name: "hello".into(),
            memory_mb: 128,
        },
        binary: binary.into(),
        fixture: Fixture::load(&events, fixture, false).expect("fixture"),
        own_env: BTreeMap::new(),
        baseline: true,
    }
}

async fn cold_start(subject: &Subject) -> measure::Sample {
    let log = std::env::temp_dir().join(format!("shop-bench-test-{}.log", std::process::id()));
    let sample = measure::cold_start(subject, &log).await;
    let _ = std::fs::remove_file(&log);
    sample.expect("a cold start")
}

#[tokio::test]
async fn hello_http_answers_200_twice() {
    let sample = cold_start(&subject(env!("CARGO_BIN_EXE_hello-http"), HELLO_HTTP_FIXTURE)).await;
    assert_eq!(sample.first_answer, "200");
    assert_eq!(sample.warm_answer, "200");
    assert!(sample.peak_rss_kib > 0);
}

#[tokio::test]
async fn hello_runtime_echoes_twice() {
    let sample = cold_start(&subject(env!("CARGO_BIN_EXE_hello-runtime"), HELLO_RUNTIME_FIXTURE)).await;
    assert_eq!(sample.first_answer, "ok");
    assert_eq!(sample.warm_answer, "ok");
}

/// Slow (valgrind): `cargo test -p shop-bench --test stub -- --ignored`.
#[tokio::test]
#[ignore]
async fn callgrind_writes_totals_when_init_is_over() {
    if !shop_bench::callgrind::available() {
        return;
    }
    let subject = subject(env!("CARGO_BIN_EXE_hello-runtime"), HELLO_RUNTIME_FIXTURE);
    let dir = std::env::temp_dir().join(format!("shop-bench-callgrind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let count = shop_bench::callgrind::init_instructions(&subject, &dir.join("out"), &dir.join("log")).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(count.expect("a count") > 100_000);
}
