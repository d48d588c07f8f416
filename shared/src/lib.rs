//! `shop`: everything the functions share — configuration, AWS clients, the
//! HTTP envelope and errors, authentication, domain types and the single-table store.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod aws;
mod cache;
pub mod cart;
pub mod catalog;
pub mod config;
pub mod consumer;
pub mod coupons;
pub mod domain;
pub mod email;
pub mod http;
#[cfg(feature = "imports")]
pub mod imports;
pub mod lambda;
pub mod logging;
pub mod messages;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod pagination;
#[cfg(feature = "stripe")]
pub mod payments;
pub mod reports;
pub mod secrets;
pub mod shipping;
pub mod store;
pub mod users;

pub use config::Config;
