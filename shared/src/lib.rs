//! The SkyPay partner gateway: everything the Lambda functions and the local server share.
//!
//! The crate is split the hexagonal way:
//!
//! - the **domain**: [`wire`] (the JSON protocol and the response envelope), [`rules`] (the
//!   SPEC's field rules), [`auth`], [`codes`] and [`error`] (the one map from a rejection to a
//!   response code), and one module per SkyPay action under [`actions`];
//! - the **store**: [`ledger`], the DynamoDB ledger whose conditional writes make "paid once"
//!   and "collected once" hold;
//! - the **entrypoints**: [`gateway`] (one call in, one envelope out, one log line) and
//!   [`lambda`] (the API Gateway adapter every function's `main.rs` uses).
//!
//! The contract is `SPEC.md` in the steering folder; section numbers in comments refer to it.

pub mod action;
pub mod actions;
pub mod admin;
pub mod auth;
pub mod codes;
pub mod config;
pub mod crypto;
pub mod dynamo;
pub mod error;
pub mod gateway;
pub mod lambda;
pub mod ledger;
pub mod mask;
pub mod metrics;
pub mod reconcile;
pub mod rules;
pub mod skypay_api;
pub mod skypay_client;
pub mod telemetry;
pub mod time;
pub mod wire;

pub use action::Action;
pub use codes::ResponseCode;
pub use config::{Config, ConfigError};
pub use error::Rejection;
pub use gateway::{Admission, Admitted, Call, Gateway, Reply};
pub use ledger::Ledger;
