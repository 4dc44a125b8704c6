//! The suite's log lines: captured per test, or all of them into `SKYPAY_TEST_LOG_FILE` (CI
//! checks no secret reaches one); and the EMF shape every metric line must have.

use serde_json::Value;

/// With `SKYPAY_TEST_LOG_FILE` set, every log line of the whole suite is written there as
/// the functions write it (`skypay::telemetry`'s JSON lines), so CI can check that no key and no full phone number ever reached a log. Without it
/// the lines go nowhere, but a global subscriber at INFO is installed all the same: tracing's
/// global level hint then never filters INFO out, which a test that captures its own lines
/// (`logs.rs`, with a scoped subscriber) relies on when other tests run beside it.
pub fn capture_logs() {
    use std::sync::OnceLock;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let file = std::env::var_os("SKYPAY_TEST_LOG_FILE").and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
        let writer: Box<dyn std::io::Write + Send> = match file {
            Some(file) => Box::new(file),
            None => Box::new(std::io::sink()),
        };
        use tracing_subscriber::prelude::*;
        let _ = tracing_subscriber::registry()
            .with(skypay::telemetry::layer(std::sync::Mutex::new(writer)))
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .try_init();
    });
}

/// Log lines captured as the functions write them (`skypay::telemetry`'s JSON lines), for a
/// test that reads its own lines.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Captures this thread's lines (at INFO) until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        use tracing_subscriber::prelude::*;
        let subscriber = tracing_subscriber::registry()
            .with(skypay::telemetry::layer(self.clone()))
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        tracing::subscriber::set_default(subscriber)
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Every line, parsed (each must be one JSON object).
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.bytes())
            .expect("UTF-8 lines")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("every line is JSON"))
            .collect()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// A line CloudWatch turns into metrics: `_aws` names the namespace, the dimension sets and the
/// metrics; every dimension named is a string member of the line, every metric a number member,
/// and the timestamp is epoch milliseconds.
pub fn assert_valid_emf(line: &Value) {
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].is_i64(), "{line}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics");
    assert_eq!(directives.len(), 1, "{line}");
    let directive = &directives[0];
    assert_eq!(directive["Namespace"], "SkyPayGateway");
    let sets = directive["Dimensions"].as_array().expect("Dimensions");
    assert!(!sets.is_empty());
    for set in sets {
        for dimension in set.as_array().expect("a dimension set") {
            let name = dimension.as_str().expect("a dimension name");
            assert!(
                line[name].is_string(),
                "dimension {name} is not a member: {line}"
            );
        }
    }
    let metrics = directive["Metrics"].as_array().expect("Metrics");
    assert!(!metrics.is_empty());
    for metric in metrics {
        let name = metric["Name"].as_str().expect("a metric name");
        assert!(
            line[name].is_number(),
            "metric {name} is not a number: {line}"
        );
        assert!(
            ["Count", "Microseconds", "Milliseconds", "None"]
                .contains(&metric["Unit"].as_str().unwrap()),
            "{metric}"
        );
    }
}
