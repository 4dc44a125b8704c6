//! The DynamoDB client, built once per process with deliberate timeouts and retries.
//!
//! SkyPay waits for our answer while a cashier waits for SkyPay, and a Lambda has a short
//! timeout, so the budget is tight and explicit:
//!
//! | setting | value | why |
//! |---|---|---|
//! | connect timeout | 1 s | DynamoDB in-region connects in milliseconds |
//! | attempt timeout | 1 s | a healthy write answers in ~10 ms; a stalled one is abandoned |
//! | operation timeout | 3 s | all attempts together; the functions' timeout is larger |
//! | attempts | 3 (standard retry, exponential backoff from 50 ms) | rides out throttling blips |
//!
//! Retries are safe: every write is conditional and carries our call's token (see
//! [`crate::ledger::WriteContext`]), and transactions carry a ClientRequestToken.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
pub const MAX_ATTEMPTS: u32 = 3;
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
}

/// The client Lambda uses: region, credentials and any `AWS_ENDPOINT_URL_DYNAMODB` come from
/// the environment.
pub async fn client_from_env() -> Client {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await;
    Client::new(&shared)
}

/// A client for a DynamoDB-compatible server at `endpoint` (the embedded emulator, moto, a
/// DynamoDB Local): dummy credentials, and the region from `AWS_REGION` or a fixed default.
pub fn client_for_endpoint(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(
            std::env::var("AWS_REGION").unwrap_or_else(|_| "ap-southeast-1".to_owned()),
        ))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "skypay-local",
        ))
        .endpoint_url(endpoint)
        .timeout_config(timeouts())
        .retry_config(retries())
        .build();
    Client::from_conf(config)
}
