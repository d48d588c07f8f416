//! `shop-local`: the whole stack on one machine. It reads `template.yaml`,
//! provisions the table, queues and secrets on the local emulators, and serves
//! every HTTP route by calling the function handlers in-process with the same
//! API Gateway events AWS would send.

#![cfg_attr(test, allow(clippy::unwrap_used))]
// Stripe's nested types need a deeper trait search when futures are checked for Send.
#![recursion_limit = "512"]

pub mod body;
pub mod functions;
pub mod gateway;
pub mod logs;
pub mod provision;
pub mod queues;
pub mod routes;
pub mod schedules;
pub mod seed;
pub mod seed_data;
pub mod server;
pub mod streams;
pub mod stripe;
pub mod template;
pub mod workers;

pub use functions::Functions;
pub use gateway::HttpCall;
pub use provision::Stack;
pub use routes::Router;
pub use server::Gateway;
pub use template::Template;
