//! Logging: JSON lines through `tracing` (SPEC section 11). The level comes from `RUST_LOG`
//! (default `info`); AWS SDK internals are kept at `warn`.

use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str =
    "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_dynamodb=warn,hyper=warn";

/// Installs the JSON subscriber once. Calling it again is harmless.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
}
