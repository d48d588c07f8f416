//! Integration tests against the local emulators (`make test` starts them).

#![allow(clippy::unwrap_used)]

mod auth;
mod events;
mod local_runner;
mod users;
