//! ledger-events: a batch of the ledger table's stream records in, the loan system's domain
//! events (`skypay::ledger::changes`) on an EventBridge bus out.
//!
//! - Events go out in `PutEvents` calls of at most 10 entries, in record order.
//! - Entries EventBridge refuses are sent again (up to three tries in all); a record whose
//!   events still did not all go out is reported as the batch's first failure
//!   (`ReportBatchItemFailures`), so Lambda retries the stream from there. Events of records
//!   before it are out; those after it go out again, with the same ids (consumers drop
//!   repeats by `id`).
//! - A record of an unknown item type is skipped and logged: it never blocks the stream.

use std::time::Duration;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use lambda_runtime::LambdaEvent;
use skypay::ConfigError;
use skypay::ledger::changes::{self, Change, DomainEvent, Mapped};
use skypay::ledger::item::Attributes;

/// `EVENT_BUS_NAME`: the bus the template creates.
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
/// The SDK's own variable for an EventBridge elsewhere (tests).
pub const AWS_ENDPOINT_URL_EVENTBRIDGE: &str = "AWS_ENDPOINT_URL_EVENTBRIDGE";
/// EventBridge takes at most 10 entries per `PutEvents`.
pub const BATCH: usize = 10;
/// The function's name, the metrics' `Service` dimension.
pub const SERVICE: &str = "ledger-events";
/// Tries per entry, the first included.
const TRIES: u32 = 3;

/// Puts events on the bus.
#[derive(Clone, Debug)]
pub struct Publisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl Publisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Publisher {
        Publisher {
            client,
            bus: bus.into(),
        }
    }

    /// From the environment (Lambda's credentials, `EVENT_BUS_NAME`); a missing variable is
    /// named.
    pub fn from_env() -> Result<Publisher, ConfigError> {
        let bus = std::env::var(EVENT_BUS_NAME)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing {
                name: EVENT_BUS_NAME,
            })?;
        let sdk = skypay::aws::dynamo::sdk_config_from_env(AWS_ENDPOINT_URL_EVENTBRIDGE)?;
        Ok(Publisher::new(aws_sdk_eventbridge::Client::new(&sdk), bus))
    }

    /// Puts `events` (at most [`BATCH`]); returns the indexes of those that did not go out
    /// after every try.
    async fn put(&self, events: &[&DomainEvent]) -> Vec<usize> {
        let mut pending: Vec<usize> = (0..events.len()).collect();
        for attempt in 1..=TRIES {
            if pending.is_empty() {
                break;
            }
            if attempt > 1 {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            let entries: Vec<PutEventsRequestEntry> = pending
                .iter()
                .filter_map(|&i| events.get(i))
                .map(|event| self.entry(event))
                .collect();
            let sent = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await;
            pending = match sent {
                // Entries come back in the order sent; those with an error code failed.
                Ok(out) => pending
                    .iter()
                    .zip(out.entries())
                    .filter(|(_, result)| result.error_code().is_some())
                    .map(|(&i, _)| i)
                    .chain(pending.iter().skip(out.entries().len()).copied())
                    .collect(),
                Err(e) => {
                    tracing::warn!(
                        error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e),
                        attempt,
                        "PutEvents failed"
                    );
                    pending
                }
            };
        }
        pending
    }

    fn entry(&self, event: &DomainEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(changes::SOURCE)
            .detail_type(event.detail_type)
            .detail(event.detail.to_string())
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
                event.time.timestamp(),
            ))
            .build()
    }
}

/// A stream record's images as the ledger reads items.
fn image(item: &serde_dynamo::Item) -> Option<Attributes> {
    if item.is_empty() {
        return None;
    }
    Some(
        item.iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect(),
    )
}

/// The events of one record (none, and a log line, for an unknown item type).
pub fn events_of(record: &EventRecord) -> Vec<DomainEvent> {
    let old = image(&record.change.old_image);
    let new = image(&record.change.new_image);
    let change = Change {
        record_id: &record.event_id,
        old: old.as_ref(),
        new: new.as_ref(),
        at: record.change.approximate_creation_date_time,
    };
    match changes::domain_events(&change) {
        Mapped::Events(events) => events,
        Mapped::Unknown(what) => {
            tracing::warn!(
                eventId = record.event_id.as_str(),
                item = what.as_str(),
                "a stream record of an unknown item type: skipped"
            );
            Vec::new()
        }
    }
}

/// One batch of stream records.
pub async fn handle(
    publisher: &Publisher,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, std::convert::Infallible> {
    let records = &event.payload.records;
    // (record index, event) in record order.
    let all: Vec<(usize, DomainEvent)> = records
        .iter()
        .enumerate()
        .flat_map(|(i, record)| events_of(record).into_iter().map(move |e| (i, e)))
        .collect();
    let mut first_failed: Option<usize> = None;
    for chunk in all.chunks(BATCH) {
        let events: Vec<&DomainEvent> = chunk.iter().map(|(_, e)| e).collect();
        for failed in publisher.put(&events).await {
            if let Some((record, _)) = chunk.get(failed) {
                first_failed = Some(first_failed.map_or(*record, |f| f.min(*record)));
            }
        }
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(record) = first_failed.and_then(|i| records.get(i)) {
        tracing::error!(
            eventId = record.event_id.as_str(),
            "events could not all be put on the bus; the stream is retried from this record"
        );
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = record.change.sequence_number.clone();
        response.batch_item_failures.push(failure);
    }
    // The same line is CloudWatch metrics (EMF): the events sent, and the anomalies among
    // them (a payout both paid and cancelled or failed), which the PayoutAnomalies alarm reads.
    let anomalies = all
        .iter()
        .filter(|(_, e)| e.detail_type == changes::PAYOUT_ANOMALY)
        .count();
    tracing::info!(
        _emf = skypay::metrics::LEDGER_EVENTS.name,
        Service = SERVICE,
        records = records.len(),
        events = all.len(),
        anomalies,
        failed = first_failed.is_some(),
        "ledger events"
    );
    Ok(response)
}
