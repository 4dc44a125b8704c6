//! The SkyPay partner gateway: everything the Lambda functions and the local server share.
//!
//! The folders are the layers; each imports only from the ones listed before it:
//!
//! | folder | what it holds |
//! |---|---|
//! | [`protocol`] | SkyPay's protocol, pure: the endpoints by name ([`protocol::action`]), the body and its envelope ([`protocol::wire`]), the SPEC's field rules, the codes, AES ([`protocol::crypto`]), authentication, Manila time, masking |
//! | [`metrics`], [`telemetry`], [`config`] | the EMF metric lines and the log subscriber; the configuration, read and checked once at start |
//! | [`ledger`] | the DynamoDB ledger, whose conditional writes make "paid once" and "collected once" hold |
//! | [`inbound`] | SkyPay calls us: the [`inbound::gateway`] (one call in, one envelope out, one log line), the one map from a rejection to a code ([`inbound::error`]), one module per endpoint |
//! | [`outbound`] | we call SkyPay: every body sent and answer read ([`outbound::api`]), the AES client, the payout push ([`outbound::push`]), the payout and daily runs ([`outbound::reconcile`]) |
//! | [`aws`] | the Lambda adapters (API Gateway, SQS) and the AWS SDK clients built from the environment |
//!
//! The loan system's `/admin` routes are the crate `skypay-admin`, above this one. The contract
//! is `SPEC.md` in the steering folder; section numbers in comments refer to it.

pub mod aws;
pub mod config;
pub mod inbound;
pub mod ledger;
pub mod metrics;
pub mod outbound;
pub mod protocol;
pub mod telemetry;

pub use config::{Config, ConfigError};
pub use inbound::error::Rejection;
pub use inbound::gateway::{Admission, Admitted, Call, Gateway, Reply};
pub use ledger::Ledger;
pub use protocol::action::Action;
pub use protocol::codes::ResponseCode;
