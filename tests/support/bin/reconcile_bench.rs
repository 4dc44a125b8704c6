//! `reconcile-bench`: one payout-reconcile run over N open pushed payouts (default 10,000) on
//! the embedded DynamoDB, against skypay-sim on loopback, through the counting proxy. Prints
//! one JSON object: wall time, DynamoDB requests by operation, SkyPay calls by action, and what
//! the run did; then the same for a second run 30 minutes later, when nothing has changed.
//!
//!     cargo run --release -p skypay-tests --bin reconcile-bench -- [--payouts 10000]
//!
//! The payouts are written by the ledger's own writes (registration and push outcome, as
//! payout-queue leaves a pushed payout); SkyPay's side says 10% of them were paid and 5%
//! uploaded, the rest still pending.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::json;
use skypay::Ledger;
use skypay::config::SkyPayApi;
use skypay::ledger::{NewPayout, PayoutStatus, PushOutcome, WriteContext};
use skypay::outbound::reconcile::Reconciler;
use skypay::protocol::rules::{Amount, ControlNumber, PayoutChannel};
use skypay_sim::{Sim, SimConfig, SimPayout, SimStatus};
use support::proxy::Proxy;
use support::{Dynoxide, ManualClock, config_with};

#[tokio::main]
async fn main() {
    let mut payouts: u64 = 10_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--payouts", Some(v)) => payouts = v.parse().expect("--payouts N"),
            _ => {
                eprintln!("usage: reconcile-bench [--payouts N]");
                std::process::exit(2);
            }
        }
    }
    let server = Dynoxide::start().await;
    let mut config = config_with(&[("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret")]);
    let direct = Ledger::new(
        skypay::aws::dynamo::client_for_endpoint_with(&server.endpoint, support::PATIENT),
        config.table_name.as_str(),
    );
    direct
        .ensure_table(skypay::ledger::schema::Stream::Off)
        .await
        .expect("table");
    let sim = Sim::start(
        "127.0.0.1:0".parse().expect("address"),
        SimConfig::new(config.clone()),
    )
    .await
    .expect("skypay-sim");
    config.skypay_api = Some(SkyPayApi {
        url: sim.url.clone(),
        timeout: Duration::from_secs(10),
    });
    config.sender = Some("Lender App".to_owned());

    eprintln!("reconcile-bench: writing {payouts} open pushed payouts");
    let seeding = Instant::now();
    let numbers: Vec<String> = (0..payouts)
        .map(|i| format!("{}{:010}", config.prefix.as_str(), 5_000_000 + i))
        .collect();
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for n in numbers.clone() {
        let ledger = direct.clone();
        let prefix = config.prefix.clone();
        let slots = slots.clone();
        tasks.spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore");
            let number = ControlNumber::parse(&n, &prefix).expect("number");
            let ctx = WriteContext::new("seed");
            let payout = NewPayout {
                control_number: number.clone(),
                amount: Amount::new(Decimal::new(250_000, 2)).expect("amount"),
                channel: PayoutChannel::from_code(6).expect("GCash"),
                expires_at: Utc::now() + chrono::Duration::days(7),
                instruction: skypay::protocol::mask::Private(
                    json!({"controlNumber": n, "name": "Cruz,Juan",
                        "phone": "09171234567", "amount": "2500.00", "withdrawChannel": 6,
                        "accountNo": "09171234567"})
                    .to_string(),
                ),
                status: PayoutStatus::Pending,
                lease_seconds: Some(30),
            };
            ledger.create_payout(&payout, &ctx).await.expect("create");
            let queued = PushOutcome::Queued {
                code: "1000".to_owned(),
                description: "Success".to_owned(),
            };
            let record = ledger
                .finish_push(&number, &queued, &ctx)
                .await
                .expect("push outcome");
            assert!(
                record.recorded(),
                "{number}: the push outcome was not recorded"
            );
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("seed task");
    }
    sim.with_state(|s| {
        for (i, n) in numbers.iter().enumerate() {
            let status = match i % 20 {
                0 | 1 => SimStatus::Completed,
                2 => SimStatus::Uploaded,
                _ => SimStatus::Pending,
            };
            s.payouts.insert(
                n.clone(),
                SimPayout {
                    control_number: n.clone(),
                    amount: Decimal::new(250_000, 2),
                    withdraw_channel: 6,
                    phone: "09171234567".to_owned(),
                    status,
                    transaction_date: Utc::now(),
                    pay_time: (status == SimStatus::Completed).then(Utc::now),
                    cancel_time: None,
                    reference_no: String::new(),
                },
            );
        }
    });
    eprintln!(
        "reconcile-bench: seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let proxy = Proxy::start(&server.endpoint).await;
    let ledger = Ledger::new(
        skypay::aws::dynamo::client_for_endpoint_with(&proxy.url, support::PATIENT),
        config.table_name.as_str(),
    );
    let clock = ManualClock::at(Utc::now() + chrono::Duration::seconds(301));
    let reconciler = Reconciler::new(config, ledger, clock.clone()).expect("reconciler");
    let mut runs = Vec::new();
    for label in ["first run", "30 minutes later"] {
        proxy.reset();
        let calls_before = sim.with_state(|s| s.calls.clone());
        let started = Instant::now();
        let run = reconciler.run_payouts("bench").await.expect("run");
        let wall = started.elapsed();
        let calls: serde_json::Map<String, serde_json::Value> = sim.with_state(|s| {
            s.calls
                .iter()
                .map(|(action, n)| {
                    let before = calls_before.get(action).copied().unwrap_or(0);
                    (action.clone(), json!(n - before))
                })
                .filter(|(_, n)| n.as_u64() != Some(0))
                .collect()
        });
        eprintln!(
            "reconcile-bench: {label}: {:.2} s, DynamoDB {:?}, SkyPay {calls:?}",
            wall.as_secs_f64(),
            proxy.counts()
        );
        runs.push(json!({
            "label": label,
            "wallSeconds": wall.as_secs_f64(),
            "dynamodb": proxy.counts(),
            "dynamodbTotal": proxy.total(),
            "skypay": calls,
            "run": run,
        }));
        clock.advance(chrono::Duration::minutes(30));
    }
    println!("{}", json!({"payouts": payouts, "runs": runs}));
}
