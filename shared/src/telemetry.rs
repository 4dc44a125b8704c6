//! Logging: JSON lines through `tracing` (SPEC section 11). The level comes from `RUST_LOG`
//! (default `info`). The AWS SDK's own error lines are silenced: every failure that matters is
//! logged by us, once, in the call's own line (a missing table at start is not one).
//!
//! The lines are tracing-subscriber's `fmt` layer with one event format of ours, [`JsonLine`]:
//! the event's fields flattened into one JSON object beside `timestamp`, `level` and
//! `message`, as the `json` format writes them, except that a field named `_aws` holding JSON
//! text is written as that JSON. That is how one line per call is also a CloudWatch Embedded
//! Metric Format document (`crate::metrics::metadata`), with no second line and no API call.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=error,\
aws_smithy_runtime_api=error,aws_sdk_dynamodb=error,hyper=warn,dynoxide=error";

/// The field whose JSON text becomes the line's `_aws` member (EMF metadata).
pub const EMF_FIELD: &str = "_aws";

/// Installs the JSON subscriber once. Calling it again is harmless. `RUST_LOG` takes
/// `level` or `target=level` directives (no regular expressions: the filter stays small).
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .or_else(|| DEFAULT_FILTER.parse::<Targets>().ok())
        .unwrap_or_default();
    let _ = tracing_subscriber::registry()
        .with(layer(std::io::stdout))
        .with(filter)
        .try_init();
}

/// The JSON-lines layer, writing to `writer` (stdout in the functions; tests capture it).
pub fn layer<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .event_format(JsonLine)
        .with_writer(writer)
}

/// One event as one JSON object (see the module's documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut members = Fields(Map::new());
        members.0.insert(
            "timestamp".to_owned(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        members.0.insert(
            "level".to_owned(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        event.record(&mut members);
        let text = serde_json::to_string(&members.0).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

struct Fields(Map<String, Value>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == EMF_FIELD
            && let Ok(object @ Value::Object(_)) = serde_json::from_str::<Value>(value)
        {
            self.put(field, object);
            return;
        }
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}
