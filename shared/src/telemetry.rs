//! Logging: JSON lines through `tracing` (SPEC section 11). The level comes from `RUST_LOG`
//! (default `info`). The AWS SDK's own error lines are silenced: every failure that matters is
//! logged by us, once, in the call's own line (a missing table at start is not one).
//!
//! The lines are tracing-subscriber's `fmt` layer with one event format of ours, [`JsonLine`]:
//! the event's fields flattened into one JSON object beside `timestamp`, `level` and
//! `message`, as the `json` format writes them. An event that names a metric set in its `_emf`
//! field (`crate::metrics::MetricSet`) is also a CloudWatch Embedded Metric Format document: the
//! formatter writes its `_aws` member from the set, for the set's metrics the event carries,
//! and writes those metrics as JSON numbers (a decimal from its exact text). That is how one
//! line per call is also its metrics, with no second line and no API call, and how every metric
//! line of every function is written: by this one formatter.

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

use crate::metrics::{self, MetricSet};

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
        let now = chrono::Utc::now();
        let mut members = Fields::default();
        members.0.insert(
            "timestamp".to_owned(),
            Value::String(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        members.0.insert(
            "level".to_owned(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        event.record(&mut members);
        let mut exact = Vec::new();
        if let Some(set) = members.1 {
            exact = members.metric_values(set);
            let present = |name: &str| {
                members.0.get(name).is_some_and(Value::is_number)
                    || exact.iter().any(|(n, _)| n == name)
            };
            let aws = serde_json::to_value(metrics::metadata(set, present, now))
                .map_err(|_| fmt::Error)?;
            members.0.insert("_aws".to_owned(), aws);
        }
        let mut text = Vec::new();
        let mut out = serde_json::Serializer::new(&mut text);
        let mut map = out
            .serialize_map(Some(members.0.len() + exact.len()))
            .map_err(|_| fmt::Error)?;
        for (name, value) in &members.0 {
            map.serialize_entry(name, value).map_err(|_| fmt::Error)?;
        }
        for (name, raw) in &exact {
            map.serialize_entry(name, raw).map_err(|_| fmt::Error)?;
        }
        SerializeMap::end(map).map_err(|_| fmt::Error)?;
        let text = String::from_utf8(text).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// An event's members, and the metric set it names.
#[derive(Default)]
struct Fields(Map<String, Value>, Option<&'static MetricSet>);

impl Fields {
    /// The set's metrics that arrived as decimal text (an amount, recorded with `%`): taken out
    /// of the members, to be written as JSON numbers from that exact text.
    fn metric_values(&mut self, set: &MetricSet) -> Vec<(String, Box<RawValue>)> {
        let mut exact = Vec::new();
        for (name, _) in set.metrics {
            let Some(Value::String(text)) = self.0.get(*name) else {
                continue;
            };
            if text.parse::<rust_decimal::Decimal>().is_err() {
                continue;
            }
            if let Ok(raw) = RawValue::from_string(text.clone()) {
                self.0.remove(*name);
                exact.push(((*name).to_owned(), raw));
            }
        }
        exact
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == metrics::EMF_FIELD {
            self.1 = metrics::set(value);
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
