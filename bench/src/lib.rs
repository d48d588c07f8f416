//! `shop-bench`: the project's benchmarks, one module per part, each behind a
//! subcommand of the `shop-bench` binary and owning one section of
//! `docs/performance.md`. Benchmarks print figures; they never assert them.
//!
//! Parts 1 and 2 (`cold_start`, `size`) measure the release binaries as
//! processes; parts 3 to 6 (`latency`, `throughput`, `cost`, `scale`) run the
//! functions in-process behind the local runner's gateway ([`stack`]).

// Stripe's nested types need a deeper trait search when futures are checked for Send.
#![recursion_limit = "512"]

pub mod args;
pub mod callgrind;
pub mod cold_start;
pub mod cost;
pub mod emulators;
pub mod fixtures;
pub mod latency;
pub mod launch;
pub mod measure;
pub mod meter;
pub mod report;
pub mod runtime_api;
pub mod scale;
pub mod shopper;
pub mod size;
pub mod stack;
pub mod stats;
pub mod throughput;
pub mod workspace;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
