//! ledger-events' mapping: stream records to domain events, per record, on the records of
//! `events/ledger-events.json` (a payout paid, a receipt recorded). EventBridge is measured
//! by bench/run.sh; this is the part of an invocation that is ours alone.
//!
//!     cargo bench -p ledger-events --bench mapping
//!
//! Results: `target/criterion/ledger_events_mapping/new/estimates.json` (nanoseconds per
//! record; records per second = 1e9 / that).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const EVENT: &str = include_str!("../../../events/ledger-events.json");

fn mapping(c: &mut Criterion) {
    let event: aws_lambda_events::dynamodb::Event = match serde_json::from_str(EVENT) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("events/ledger-events.json: {e}");
            std::process::exit(1);
        }
    };
    let records = event.records;
    let produced: usize = records
        .iter()
        .map(|r| ledger_events::events_of(r).len())
        .sum();
    if produced != 2 {
        eprintln!("the sample records give {produced} events, not 2");
        std::process::exit(1);
    }
    let mut group = c.benchmark_group("ledger_events");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("mapping", |b| {
        b.iter(|| {
            for record in &records {
                black_box(ledger_events::events_of(black_box(record)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, mapping);
criterion_main!(benches);
