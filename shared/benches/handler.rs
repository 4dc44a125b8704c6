//! Warm handler time without DynamoDB: parse -> authenticate -> `action` -> fields -> envelope,
//! for each action SkyPay calls, on the bodies of the API Gateway events in `events/`.
//!
//! This is the part of a call that is ours alone (the ledger request is measured separately, by
//! `bench/run.sh`). It follows the gateway's order of checks through the crate's public API.
//!
//!     cargo bench -p skypay --bench handler
//!
//! Results: `target/criterion/handler_<action>/new/estimates.json` (nanoseconds).

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use skypay::actions::CallLog;
use skypay::actions::collection_collect::CollectionCollect;
use skypay::actions::payout_payout::PayoutPayout;
use skypay::actions::payout_queue_payout::PayoutQueuePayout;
use skypay::auth::Verifier;
use skypay::config::{Defaults, Encryption, Source};
use skypay::rules::Prefix;
use skypay::wire::{Envelope, Fields};
use skypay::{Action, Config};

const PAYOUT_PAYOUT_EVENT: &str = include_str!("../../events/payout-payout.json");
const COLLECTION_COLLECT_EVENT: &str = include_str!("../../events/collection-collect.json");
const PAYOUT_QUEUE_PAYOUT_EVENT: &str = include_str!("../../events/payout-queue-payout.json");

/// What the benchmark needs, built once as a function's init would.
struct Setup {
    verifier: Verifier,
    prefix: Prefix,
}

/// The request body an API Gateway event carries.
fn body_of(event: &str) -> Result<Vec<u8>, String> {
    let event: serde_json::Value = serde_json::from_str(event).map_err(|e| e.to_string())?;
    event
        .get("body")
        .and_then(serde_json::Value::as_str)
        .map(|b| b.as_bytes().to_vec())
        .ok_or_else(|| "the event has no body".to_owned())
}

/// The local defaults: user `AppName@skypay`, the samples' key, prefix `SKY01`, no encryption.
fn setup() -> Result<Setup, String> {
    let source = |_: &str| None::<String>;
    let config =
        Config::load(&source as &dyn Source, Defaults::Local).map_err(|e| e.to_string())?;
    Ok(Setup {
        verifier: Verifier::new(&config),
        prefix: config.prefix.clone(),
    })
}

/// The action-specific field checks, as `Action::run` makes them before the ledger. True when
/// the call would go on to the ledger.
fn validate(action: Action, fields: &Fields, prefix: &Prefix) -> bool {
    match action {
        Action::PayoutPayout => black_box(PayoutPayout::parse(fields, prefix)).is_ok(),
        Action::CollectionCollect => {
            let mut log = CallLog::default();
            black_box(CollectionCollect::parse(fields, prefix, &mut log)).is_ok()
        }
        Action::PayoutQueuePayout => {
            black_box(PayoutQueuePayout::parse(fields, prefix));
            true
        }
    }
}

/// One call up to the ledger, then the envelope: what the benchmark times. `Some(reply)` when
/// every step passed (the body is the success envelope).
fn call(setup: &Setup, action: Action, body: &[u8]) -> Option<(String, &'static str)> {
    let (fields, transport) = Fields::decode(body, &Encryption::Off).ok()?;
    let user = fields.text("userName").ok().flatten();
    let key = fields.text("authentication").ok().flatten();
    if !setup.verifier.verify(user.as_deref(), key.as_deref()) {
        return None;
    }
    if fields.text("action").ok().flatten().as_deref() != Some(action.name()) {
        return None;
    }
    if !validate(action, &fields, &setup.prefix) {
        return None;
    }
    let envelope = Envelope::new(Utc::now(), "1000", "Success");
    Some(envelope.render(transport, &Encryption::Off))
}

fn bench_action(c: &mut Criterion, setup: &Setup, action: Action, event: &str) {
    let body = match body_of(event) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("{}: {e}", action.name());
            std::process::exit(1);
        }
    };
    // The benchmark must time the path that reaches the ledger, not an early refusal.
    if call(setup, action, &body).is_none() {
        eprintln!(
            "{}: the sample event is refused before the ledger",
            action.name()
        );
        std::process::exit(1);
    }
    c.bench_function(&format!("handler_{}", action.name()), |b| {
        b.iter(|| call(setup, action, black_box(&body)))
    });
}

fn handler(c: &mut Criterion) {
    let setup = match setup() {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("configuration: {e}");
            std::process::exit(1);
        }
    };
    bench_action(c, &setup, Action::PayoutPayout, PAYOUT_PAYOUT_EVENT);
    bench_action(
        c,
        &setup,
        Action::CollectionCollect,
        COLLECTION_COLLECT_EVENT,
    );
    bench_action(
        c,
        &setup,
        Action::PayoutQueuePayout,
        PAYOUT_QUEUE_PAYOUT_EVENT,
    );
}

criterion_group!(benches, handler);
criterion_main!(benches);
