//! Logging: JSON lines through `tracing` (SPEC section 11). The level comes from `RUST_LOG`
//! (default `info`). The AWS SDK's own error lines are silenced: every failure that matters is
//! logged by us, once, in the call's own line (a missing table at start is not one).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=error,\
aws_smithy_runtime_api=error,aws_sdk_dynamodb=error,hyper=warn,dynoxide=error";

/// Installs the JSON subscriber once. Calling it again is harmless. `RUST_LOG` takes
/// `level` or `target=level` directives (no regular expressions: the filter stays small).
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .or_else(|| DEFAULT_FILTER.parse::<Targets>().ok())
        .unwrap_or_default();
    let layer = fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}
