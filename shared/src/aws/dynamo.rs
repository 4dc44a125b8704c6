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

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::config::{ConfigError, Source};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
pub const MAX_ATTEMPTS: u32 = 3;
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);

/// The client's time limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
}

impl Timeouts {
    /// What the functions and the local server use (the table above).
    pub const PRODUCTION: Timeouts = Timeouts {
        connect: CONNECT_TIMEOUT,
        attempt: ATTEMPT_TIMEOUT,
        operation: OPERATION_TIMEOUT,
    };

    fn config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
}

/// The roots DynamoDB's certificates chain to: Amazon Trust Services (Amazon Root CA 1-4 and
/// Starfield Services Root CA G2), compiled in. Loading the system's whole trust store instead
/// reads ~150 files at every cold start (measured: +3.6 ms of init).
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../../certs/amazon-trust-services.pem");

/// The one HTTPS client: hyper with rustls on ring, trusting Amazon's roots.
fn https() -> SharedHttpClient {
    let trust = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_TRUST_SERVICES);
    // The roots are compiled in and checked by a test; should they ever fail to load, the
    // system's trust store is the safe fallback.
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

fn client_over(
    http: SharedHttpClient,
    region: String,
    credentials: Credentials,
    endpoint: Option<String>,
    timeouts: Timeouts,
) -> Client {
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(credentials)
        .http_client(http)
        .timeout_config(timeouts.config())
        .retry_config(retries());
    if let Some(url) = endpoint {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}

pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const AWS_ENDPOINT_URL_DYNAMODB: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// The client Lambda uses. Lambda puts the region and the function's credentials in the
/// environment; `AWS_ENDPOINT_URL_DYNAMODB` (the SDK's own variable) points it elsewhere. No
/// credential chain is searched (no profile files, no instance metadata): that is work Lambda
/// never needs at cold start. A missing variable is a configuration error naming it.
pub fn client_from_env() -> Result<Client, ConfigError> {
    client_from(&crate::config::Environment)
}

/// The ledger every function uses: `TABLE_NAME` through [`client_from_env`]'s client.
pub fn ledger_from_env(config: &crate::Config) -> Result<crate::Ledger, ConfigError> {
    Ok(crate::Ledger::new(
        client_from_env()?,
        config.table_name.as_str(),
    ))
}

pub fn client_from(source: &dyn Source) -> Result<Client, ConfigError> {
    let sdk = sdk_config_from(source, AWS_ENDPOINT_URL_DYNAMODB)?;
    Ok(Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk).build(),
    ))
}

/// What every AWS client of ours shares (DynamoDB here; SQS for partner-api, EventBridge for
/// ledger-events): the region and credentials Lambda puts in the environment, the one HTTPS
/// client (rustls on ring, Amazon's roots compiled in), the time limits and retries above.
/// `endpoint_var`, the SDK's own per-service variable (`AWS_ENDPOINT_URL_SQS`, ...), or
/// `AWS_ENDPOINT_URL`, points the service elsewhere. A missing variable is named.
pub fn sdk_config_from(
    source: &dyn Source,
    endpoint_var: &'static str,
) -> Result<aws_types::SdkConfig, ConfigError> {
    let get = |name: &'static str| source.get(name).filter(|v| !v.trim().is_empty());
    let required = |name: &'static str| get(name).ok_or(ConfigError::Missing { name });
    let region = get(AWS_REGION)
        .or_else(|| get("AWS_DEFAULT_REGION"))
        .ok_or(ConfigError::Missing { name: AWS_REGION })?;
    let credentials = Credentials::new(
        required(AWS_ACCESS_KEY_ID)?,
        required(AWS_SECRET_ACCESS_KEY)?,
        get(AWS_SESSION_TOKEN),
        None,
        "lambda-environment",
    );
    let mut sdk = aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .http_client(https())
        .timeout_config(Timeouts::PRODUCTION.config())
        .retry_config(retries());
    if let Some(url) = get(endpoint_var).or_else(|| get("AWS_ENDPOINT_URL")) {
        sdk = sdk.endpoint_url(url);
    }
    Ok(sdk.build())
}

/// [`sdk_config_from`] on the process environment.
pub fn sdk_config_from_env(
    endpoint_var: &'static str,
) -> Result<aws_types::SdkConfig, ConfigError> {
    sdk_config_from(&crate::config::Environment, endpoint_var)
}

/// A client for a DynamoDB-compatible server at `endpoint` (the embedded emulator, moto, a
/// DynamoDB Local): dummy credentials, and the region from `AWS_REGION` or a fixed default.
pub fn client_for_endpoint(endpoint: &str) -> Client {
    client_for_endpoint_with(endpoint, Timeouts::PRODUCTION)
}

/// The same with other time limits (tests that load an emulator on a busy machine).
pub fn client_for_endpoint_with(endpoint: &str, timeouts: Timeouts) -> Client {
    client_for_endpoint_over(https(), endpoint, timeouts)
}

/// A client whose requests go to `http` instead of the network: the local server's embedded
/// ledger, in process. The same SDK, the same ledger code, the same limits.
pub fn client_for_endpoint_over(
    http: SharedHttpClient,
    endpoint: &str,
    timeouts: Timeouts,
) -> Client {
    let region = std::env::var(AWS_REGION).unwrap_or_else(|_| "ap-southeast-1".to_owned());
    let credentials = Credentials::new("local", "local", None, None, "skypay-local");
    client_over(
        http,
        region,
        credentials,
        Some(endpoint.to_owned()),
        timeouts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_load() {
        let trust = tls::TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AMAZON_TRUST_SERVICES);
        assert!(
            tls::TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .is_ok()
        );
        // Each is a well-formed certificate rustls accepts as a root.
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES) {
            roots.add(cert.unwrap()).unwrap();
        }
        assert_eq!(roots.len(), 5);
    }

    #[test]
    fn missing_aws_variables_are_named() {
        let only = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let err = client_from(&only(&[])).unwrap_err();
        assert_eq!(err.to_string(), "AWS_REGION is not set");
        let err = client_from(&only(&[(AWS_REGION, "ap-southeast-1")])).unwrap_err();
        assert_eq!(err.to_string(), "AWS_ACCESS_KEY_ID is not set");
        assert!(
            client_from(&only(&[
                (AWS_REGION, "ap-southeast-1"),
                (AWS_ACCESS_KEY_ID, "id"),
                (AWS_SECRET_ACCESS_KEY, "secret"),
            ]))
            .is_ok()
        );
    }
}
