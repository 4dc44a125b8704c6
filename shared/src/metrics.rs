//! CloudWatch metrics without an API call: a log line in Embedded Metric Format (EMF), which
//! CloudWatch Logs turns into metrics as it ingests the function's output.
//!
//! One line is one JSON object: the `_aws` member names the namespace, the dimension set and
//! each metric (with its unit); the dimension values and metric values are members of the same
//! object; any other member is a property, searchable in Logs Insights. Values are written from
//! their exact decimal text (money never passes through a float).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

/// Every metric the gateway publishes is in this namespace.
pub const NAMESPACE: &str = "SkyPayGateway";
/// The one dimension: which function published it (`payout-reconcile`, ...).
pub const DIMENSION: &str = "Service";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Unit {
    Count,
    Milliseconds,
    Microseconds,
    /// A plain number (the balance, in pesos).
    None,
}

/// One EMF document.
#[derive(Clone, Debug)]
pub struct Emf {
    service: &'static str,
    metrics: Vec<(&'static str, Unit, String)>,
    properties: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricDirective<'a> {
    namespace: &'a str,
    dimensions: &'a [&'a [&'a str]],
    metrics: Vec<MetricDefinition<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricDefinition<'a> {
    name: &'a str,
    unit: Unit,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata<'a> {
    timestamp: i64,
    cloud_watch_metrics: [MetricDirective<'a>; 1],
}

impl Emf {
    pub fn new(service: &'static str) -> Emf {
        Emf {
            service,
            metrics: Vec::new(),
            properties: Map::new(),
        }
    }

    pub fn count(mut self, name: &'static str, value: u64) -> Emf {
        self.metrics.push((name, Unit::Count, value.to_string()));
        self
    }

    pub fn milliseconds(mut self, name: &'static str, value: u64) -> Emf {
        self.metrics
            .push((name, Unit::Milliseconds, value.to_string()));
        self
    }

    /// An amount of money, in pesos.
    pub fn amount(mut self, name: &'static str, value: Decimal) -> Emf {
        self.metrics
            .push((name, Unit::None, value.normalize().to_string()));
        self
    }

    /// A member that is not a metric (a message, a request id, counts for the log reader).
    pub fn property(mut self, name: &str, value: impl Into<Value>) -> Emf {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    /// The document as one line.
    pub fn line(&self, now: DateTime<Utc>) -> String {
        let definitions: Vec<(&str, Unit)> = self
            .metrics
            .iter()
            .map(|(name, unit, _)| (*name, *unit))
            .collect();
        // Metric values are written as raw JSON numbers (integers and decimals only); the
        // rest goes through serde_json. The dimension and the metrics win over a property of
        // the same name.
        let mut members: Vec<(String, String)> = vec![
            (
                "_aws".to_owned(),
                metadata(&[&[DIMENSION]], &definitions, now),
            ),
            (
                DIMENSION.to_owned(),
                Value::String(self.service.to_owned()).to_string(),
            ),
        ];
        for (name, _, value) in &self.metrics {
            members.push(((*name).to_owned(), value.clone()));
        }
        for (name, value) in &self.properties {
            if !members.iter().any(|(m, _)| m == name) {
                members.push((name.clone(), value.to_string()));
            }
        }
        let mut text = String::from("{");
        for (i, (name, raw)) in members.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&Value::String(name.clone()).to_string());
            text.push(':');
            text.push_str(raw);
        }
        text.push('}');
        text
    }
}

/// The `_aws` member alone (as JSON text), for a line whose own members carry the dimension
/// values and the metric values: each name in `dimension_sets` and in `metrics` must be a
/// member of the same line. The gateway's one line per call is such a line (its `action`,
/// `responseCode` and `latencyUs` are dimensions and a metric, see [`CALL_DIMENSIONS`]).
pub fn metadata(
    dimension_sets: &[&[&str]],
    metrics: &[(&str, Unit)],
    now: DateTime<Utc>,
) -> String {
    let metadata = Metadata {
        timestamp: now.timestamp_millis(),
        cloud_watch_metrics: [MetricDirective {
            namespace: NAMESPACE,
            dimensions: dimension_sets,
            metrics: metrics
                .iter()
                .map(|(name, unit)| MetricDefinition { name, unit: *unit })
                .collect(),
        }],
    };
    serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".to_owned())
}

/// The `_aws` member of a SkyPay call's line: [`metadata`] for [`CALL_DIMENSIONS`] and
/// [`CALL_METRICS`], with its constant part serialised once per process, so a call pays only
/// for writing its timestamp.
pub fn call_metadata(now: DateTime<Utc>) -> String {
    static DIRECTIVES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let full = metadata(&CALL_DIMENSIONS, &CALL_METRICS, DateTime::UNIX_EPOCH);
        // `{"Timestamp":0,"CloudWatchMetrics":[...]}` -> `[...]`
        full.split_once(r#""CloudWatchMetrics":"#)
            .and_then(|(_, rest)| rest.strip_suffix('}'))
            .unwrap_or("[]")
            .to_owned()
    });
    format!(
        r#"{{"Timestamp":{},"CloudWatchMetrics":{}}}"#,
        now.timestamp_millis(),
        *DIRECTIVES
    )
}

/// The dimensions of the per-call metrics: by endpoint, by endpoint and response code, and
/// over SkyPay's whole API (`api` is always `skypay`: the -1009 rate alarm divides two
/// metrics rather than summing twelve).
pub const CALL_DIMENSIONS: [&[&str]; 3] = [&["action"], &["action", "responseCode"], &["api"]];
/// The value of the `api` dimension.
pub const CALL_API: &str = "skypay";
/// The per-call metrics, members of the call's log line: `calls` (1), `latencyUs`,
/// `ledgerFailures` (1 on a -1009), `authFailures` (1 on a -1001: the `AuthFailures` alarm
/// watches their share, SPEC 14.5) and `anomalies` (1 when a pushed payout was asked at a
/// counter, SPEC 14.2: the `PayoutAnomalies` alarm adds them to ledger-events' own).
pub const CALL_METRICS: [(&str, Unit); 5] = [
    ("calls", Unit::Count),
    ("latencyUs", Unit::Microseconds),
    ("ledgerFailures", Unit::Count),
    ("authFailures", Unit::Count),
    ("anomalies", Unit::Count),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_metadata_is_the_general_one_for_the_call_metrics() {
        for now in [
            DateTime::from_timestamp(1_764_547_200, 123_000_000).unwrap(),
            DateTime::from_timestamp(0, 0).unwrap(),
        ] {
            assert_eq!(
                call_metadata(now),
                metadata(&CALL_DIMENSIONS, &CALL_METRICS, now)
            );
        }
        let parsed: Value = serde_json::from_str(&call_metadata(Utc::now())).unwrap();
        assert_eq!(
            parsed["CloudWatchMetrics"][0]["Metrics"][1]["Name"],
            "latencyUs"
        );
    }

    #[test]
    fn a_line_is_one_valid_emf_document() {
        let line = Emf::new("payout-reconcile")
            .amount("SkyPayBalance", Decimal::new(72_671_800, 2))
            .count("OpenPushedPayouts", 12)
            .property("message", "reconcile run")
            .line(DateTime::from_timestamp(1_764_547_200, 0).unwrap());
        assert!(!line.contains('\n'));
        let doc: Value = serde_json::from_str(&line).unwrap();
        let aws = &doc["_aws"];
        assert_eq!(aws["Timestamp"], 1_764_547_200_000_i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], serde_json::json!([["Service"]]));
        assert_eq!(
            directive["Metrics"],
            serde_json::json!([
                {"Name": "SkyPayBalance", "Unit": "None"},
                {"Name": "OpenPushedPayouts", "Unit": "Count"},
            ])
        );
        // Every dimension and metric named is a member of the root, metrics as numbers.
        assert_eq!(doc["Service"], "payout-reconcile");
        assert!(line.contains(r#""SkyPayBalance":726718"#), "{line}");
        assert!(doc["OpenPushedPayouts"].is_u64());
        assert_eq!(doc["message"], "reconcile run");
    }
}
