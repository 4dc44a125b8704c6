//! Warm handler time without DynamoDB: the gateway's own admit step (parse, authenticate,
//! `action`, fields) and its reply (the envelope), for each action SkyPay calls, on the bodies
//! of the API Gateway events in `events/`, in clear and through the AES layer (the encrypted
//! events in `events/encrypted/`, made with openssl).
//!
//! This is the part of a call that is ours alone (the ledger request is measured separately, by
//! `bench/run.sh`); it runs [`skypay::Admission`] itself, as the Lambdas do.
//!
//!     cargo bench -p skypay --bench handler
//!
//! Results: `target/criterion/handler_<action>[_aes]/new/estimates.json` (nanoseconds).

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use skypay::config::{Defaults, Source};
use skypay::inbound::{Accepted, CallLog};
use skypay::{Action, Admission, Config};

/// The test key the encrypted events were made with (events/encrypted/make.sh).
const EVENT_KEY: &str = "SkyPay-Partner-Secret";

/// The request body an API Gateway event carries, from `events/` (or `events/encrypted/`).
fn body_of(folder: &str, action: Action) -> Result<Vec<u8>, String> {
    let name = action.function();
    let path = format!(
        "{}/../events/{folder}{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let event: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    event
        .get("body")
        .and_then(serde_json::Value::as_str)
        .map(|b| b.as_bytes().to_vec())
        .ok_or_else(|| format!("{path} has no body"))
}

/// The local defaults (user `AppName@skypay`, the samples' key, prefix `SKY01`), with the
/// encryption key when asked.
fn admission(encrypted: bool) -> Result<Admission, String> {
    let source = move |name: &str| match name {
        "SKYPAY_ENCRYPTION_KEY" if encrypted => Some(EVENT_KEY.to_owned()),
        _ => None,
    };
    let config =
        Config::load(&source as &dyn Source, Defaults::Local).map_err(|e| e.to_string())?;
    Ok(Admission::new(config))
}

/// One call up to the ledger, then the envelope: what the benchmark times. `None` when the body
/// was refused before the ledger.
fn call(admission: &Admission, action: Action, body: &[u8]) -> Option<String> {
    let mut log = CallLog::default();
    let admitted = admission.admit(action, body, &mut log);
    let request = admitted.request.ok()?;
    black_box(&request);
    let (_, reply) = admission.reply(
        action,
        &Ok(Accepted::plain("paid")),
        admitted.transport,
        Utc::now(),
    );
    Some(reply.body)
}

fn bench_action(c: &mut Criterion, action: Action, encrypted: bool) -> Result<(), String> {
    let admission = admission(encrypted)?;
    let folder = if encrypted { "encrypted/" } else { "" };
    let body = body_of(folder, action)?;
    // The benchmark must time the path that reaches the ledger, not an early refusal.
    if call(&admission, action, &body).is_none() {
        return Err(format!(
            "{}: the sample event is refused before the ledger",
            action.name()
        ));
    }
    let suffix = if encrypted { "_aes" } else { "" };
    c.bench_function(&format!("handler_{}{suffix}", action.name()), |b| {
        b.iter(|| call(&admission, action, black_box(&body)))
    });
    Ok(())
}

fn handler(c: &mut Criterion) {
    for encrypted in [false, true] {
        for action in Action::ALL {
            if let Err(e) = bench_action(c, action, encrypted) {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
}

/// One call's log line, metrics included, written by the subscriber the functions install
/// (to a sink): what the line costs each call.
fn call_line(c: &mut Criterion) {
    use tracing_subscriber::prelude::*;
    let subscriber = tracing_subscriber::registry().with(skypay::telemetry::layer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let call = skypay::Call {
            body: b"{}",
            source_ip: None,
            request_id: "bench-request",
        };
        let mut log = CallLog::default();
        log.subject("SKY0112345678");
        let outcome = Ok(Accepted::plain("paid"));
        c.bench_function("call_line", |b| {
            b.iter(|| {
                skypay::inbound::gateway::log_line(
                    Action::PayoutPayout,
                    call,
                    &log,
                    skypay::ResponseCode::Success,
                    &outcome,
                    std::time::Instant::now(),
                )
            })
        });
    });
}

criterion_group!(benches, handler, call_line);
criterion_main!(benches);
