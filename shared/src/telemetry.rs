//! Logging: JSON lines through `tracing` (SPEC section 11). The level comes from `RUST_LOG`
//! (default `info`). The AWS SDK's own error lines are silenced: every failure that matters is
//! logged by us, once, in the call's own line (a missing table at start is not one).

use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=error,aws_smithy_runtime_api=error,aws_sdk_dynamodb=error,hyper=warn";

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
