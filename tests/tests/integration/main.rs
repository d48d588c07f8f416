//! Integration tests against the local emulators (`make test` starts them).

#![allow(clippy::unwrap_used)]

mod auth;
mod cart;
mod catalog;
mod edges;
mod events;
mod faults;
mod imports;
mod lifecycle;
mod local_runner;
mod operations;
mod orders;
mod payments;
mod reviews;
mod search;
mod shipping;
mod soak;
mod users;
