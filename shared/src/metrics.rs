//! CloudWatch metrics without an API call: a log line in Embedded Metric Format (EMF), which
//! CloudWatch Logs turns into metrics as it ingests the function's output.
//!
//! One line is one JSON object: the `_aws` member names the namespace, the dimension set and
//! each metric (with its unit); the dimension values and metric values are members of the same
//! object; any other member is a property, searchable in Logs Insights. Every such line is a
//! `tracing` event naming its [`MetricSet`]; the one log formatter (`crate::telemetry`) writes
//! it, so `RUST_LOG` and the tests' capture see every metric line. Values are written from their
//! exact decimal text (money never passes through a float).

use chrono::{DateTime, Utc};
use serde::Serialize;

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

/// The metrics one kind of line carries: its dimension sets and its metrics, with their
/// units. A line names its set in the field [`EMF_FIELD`] (`_emf = metrics::CALL.name`); its
/// dimension values and metric values are fields of the same event, and the log formatter
/// (`crate::telemetry`) writes the `_aws` member from the set, for the metrics the line has.
#[derive(Debug)]
pub struct MetricSet {
    pub name: &'static str,
    pub dimensions: &'static [&'static [&'static str]],
    pub metrics: &'static [(&'static str, Unit)],
}

/// The field that names a line's [`MetricSet`].
pub const EMF_FIELD: &str = "_emf";

/// The dimension of every set but the calls': which function published it.
const BY_SERVICE: &[&[&str]] = &[&[DIMENSION]];

/// A SkyPay call's one line (the gateway).
pub const CALL: MetricSet = MetricSet {
    name: "call",
    dimensions: &CALL_DIMENSIONS,
    metrics: &CALL_METRICS,
};

/// payout-reconcile's payout run: what it saw and did, and SkyPay's balance.
pub const PAYOUT_RUN: MetricSet = MetricSet {
    name: "payout-run",
    dimensions: BY_SERVICE,
    metrics: &[
        ("OpenPushedPayouts", Unit::Count),
        ("ReconcileQueries", Unit::Count),
        ("ReconcileChanges", Unit::Count),
        ("ReconcileRepushes", Unit::Count),
        ("PushesHeld", Unit::Count),
        ("PushesInDoubt", Unit::Count),
        ("RepushesRefused", Unit::Count),
        ("anomalies", Unit::Count),
        ("ReconcileDeferred", Unit::Count),
        ("ReconcileFailures", Unit::Count),
        ("SkyPayBalance", Unit::None),
    ],
};

/// payout-reconcile's daily run: the differences found, or the run's failure.
pub const DAILY_RUN: MetricSet = MetricSet {
    name: "daily-run",
    dimensions: BY_SERVICE,
    metrics: &[
        ("ReconciliationDifferences", Unit::Count),
        ("ReconcileFailures", Unit::Count),
    ],
};

/// payout-queue: an instruction acknowledged without a payout.
pub const PAYOUT_QUEUE: MetricSet = MetricSet {
    name: "payout-queue",
    dimensions: BY_SERVICE,
    metrics: &[("InvalidInstructions", Unit::Count)],
};

/// ledger-events: the events sent, and the anomalies among them.
pub const LEDGER_EVENTS: MetricSet = MetricSet {
    name: "ledger-events",
    dimensions: BY_SERVICE,
    metrics: &[("events", Unit::Count), ("anomalies", Unit::Count)],
};

/// Every set, by name.
pub const SETS: [&MetricSet; 5] = [
    &CALL,
    &PAYOUT_RUN,
    &DAILY_RUN,
    &PAYOUT_QUEUE,
    &LEDGER_EVENTS,
];

/// The set a line names.
pub fn set(name: &str) -> Option<&'static MetricSet> {
    SETS.into_iter().find(|set| set.name == name)
}

/// The `_aws` member of a line of `set` at `now` that carries the metrics `present` accepts.
pub fn metadata(
    set: &MetricSet,
    present: impl Fn(&str) -> bool,
    now: DateTime<Utc>,
) -> Metadata<'static> {
    Metadata {
        timestamp: now.timestamp_millis(),
        cloud_watch_metrics: [MetricDirective {
            namespace: NAMESPACE,
            dimensions: set.dimensions,
            metrics: set
                .metrics
                .iter()
                .filter(|(name, _)| present(name))
                .map(|(name, unit)| MetricDefinition { name, unit: *unit })
                .collect(),
        }],
    }
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

/// An EMF line's `_aws` member.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata<'a> {
    timestamp: i64,
    cloud_watch_metrics: [MetricDirective<'a>; 1],
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
    fn sets_have_distinct_names_and_metrics_once() {
        for (i, one) in SETS.iter().enumerate() {
            assert_eq!(set(one.name).map(|s| s.name), Some(one.name));
            assert!(SETS[..i].iter().all(|other| other.name != one.name));
            for (j, (name, _)) in one.metrics.iter().enumerate() {
                assert!(
                    one.metrics[..j].iter().all(|(other, _)| other != name),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn metadata_names_only_the_metrics_present() {
        let now = DateTime::from_timestamp(1_764_547_200, 0).unwrap();
        let doc =
            serde_json::to_value(metadata(&PAYOUT_RUN, |m| m == "SkyPayBalance", now)).unwrap();
        assert_eq!(doc["Timestamp"], 1_764_547_200_000_i64);
        let directive = &doc["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], serde_json::json!([["Service"]]));
        assert_eq!(
            directive["Metrics"],
            serde_json::json!([{"Name": "SkyPayBalance", "Unit": "None"}])
        );
    }
}
