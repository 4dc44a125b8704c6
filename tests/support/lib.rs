//! Test support: a real DynamoDB API for every test, and helpers that speak SkyPay's protocol.
//!
//! By default each test gets its own embedded dynoxide (in memory, served over HTTP on an
//! ephemeral loopback port) and talks to it through the production `aws-sdk-dynamodb` code.
//! With `SKYPAY_TEST_DYNAMODB_ENDPOINT` set (moto_server in CI), every test uses that server
//! instead, with a table of its own.
//!
//! | module | what |
//! |---|---|
//! | `backend` | the DynamoDB API (embedded dynoxide or the external server) and its ledger |
//! | `gateway` | `TestGateway` (the gateway and its ledger as a test drives them), `config_with`, `PayoutSpec` |
//! | `bodies` | SkyPay's request bodies, envelopes and API Gateway events, as the SPEC writes them |
//! | `logs` | the suite's log lines (captured, or all into `SKYPAY_TEST_LOG_FILE`) and the EMF check |
//! | `clock` | a clock moved by hand, skypay-sim on loopback |
//! | `local`, `proxy`, `streams`, `fake_eventbridge` | skypay-local in process, the DynamoDB fault proxy, the stream reader, a fake EventBridge |
//! | `world` | the seeded whole-system simulation: every component, actors and faults from a seed, the money invariants after every step |

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backend;
mod bodies;
mod clock;
pub mod fake_eventbridge;
mod gateway;
pub mod local;
mod logs;
pub mod proxy;
pub mod streams;
pub mod world;

pub use backend::*;
pub use bodies::*;
pub use clock::*;
pub use gateway::*;
pub use logs::*;

/// SkyPay's sample credentials, as the seeds print them.
pub const USER: &str = "AppName@skypay";
pub const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
/// A second live key, as during a rotation.
pub const NEW_KEY: &str = "9F1B7C2E-0D44-4E51-A7B3-2C6E1D0F8A99";
pub const PREFIX: &str = "SKY01";
