//! SPEC 13.6: reconciliation with SkyPay, against skypay-sim on loopback through the real
//! client and the encrypted transport, with a clock the tests move (SkyPay's 300 s and 30 min
//! are tested without sleeping).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use itertools::Itertools;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use skypay::config::SkyPayApi;
use skypay::ledger::{
    EventSource, LeaseOutcome, Ledger, Payout, PayoutLookup, PayoutStatus, PushPolicy, WriteContext,
};
use skypay::outbound::api::StatusAnswer;
use skypay::outbound::push::{PayoutQueue, Submitted};
use skypay::outbound::reconcile::{PayoutRun, Reconciler, status};
use skypay::protocol::rules::ControlNumber;
use skypay::protocol::time::SkyPayTime;
use skypay::{Action, Config};
use skypay_sim::{Fault, Sim, SimCollection, SimConfig, SimPayout, SimStatus};
use support::local::LocalServer;
use support::proxy::{self, Proxy};
use support::*;

/// The AES key text SkyPay and we share (SKYPAY_ENCRYPTION_KEY).
const AES: &str = "SkyPay-Partner-Secret";

struct Rig {
    t: TestGateway,
    sim: Sim,
    config: Config,
    queue: PayoutQueue,
    clock: Arc<ManualClock>,
    reconciler: Reconciler,
    _proxy: Option<Proxy>,
}

impl Rig {
    async fn start() -> Rig {
        Rig::start_with(false).await
    }

    /// With `via_proxy`, the reconciler reaches DynamoDB through the fault proxy (`rig.proxy()`).
    async fn start_with(via_proxy: bool) -> Rig {
        let t = TestGateway::start_with(&[("SKYPAY_ENCRYPTION_KEY", AES)]).await;
        let mut config = config_with(&[("SKYPAY_ENCRYPTION_KEY", AES)]);
        config.table_name = t.backend.table.clone();
        let sim = Sim::start(
            "127.0.0.1:0".parse().unwrap(),
            SimConfig::new(config.clone()),
        )
        .await
        .unwrap();
        config.skypay_api = Some(SkyPayApi {
            url: sim.url.clone(),
            timeout: Duration::from_secs(2),
        });
        config.sender = Some("Lender App".to_owned());
        let (ledger, proxy) = if via_proxy {
            let proxy = Proxy::start(&t.backend.endpoint).await;
            let ledger = Ledger::new(
                skypay::aws::dynamo::client_for_endpoint(&proxy.url),
                t.backend.table.as_str(),
            );
            (ledger, Some(proxy))
        } else {
            (t.ledger().clone(), None)
        };
        let queue = PayoutQueue::new(config.clone(), ledger.clone()).unwrap();
        let clock = ManualClock::at(Utc::now());
        let reconciler = Reconciler::new(config.clone(), ledger, clock.clone()).unwrap();
        Rig {
            t,
            sim,
            config,
            queue,
            clock,
            reconciler,
            _proxy: proxy,
        }
    }

    fn proxy(&self) -> &Proxy {
        self._proxy.as_ref().expect("started via the proxy")
    }

    /// Registers and pushes a GCash payout; its status after the push.
    async fn push(&self, n: &str) -> PayoutStatus {
        let instruction = json!({
            "controlNumber": n,
            "name": "Cruz,Juan",
            "phone": "09171234567",
            "amount": "2500.00",
            "withdrawChannel": 6,
            "accountNo": "09171234567",
        });
        match self
            .queue
            .submit(
                instruction.to_string().as_bytes(),
                PushPolicy::LoanSystem,
                "test",
            )
            .await
            .unwrap()
        {
            Submitted::Created(r) | Submitted::Repushed(r) => r.status,
            Submitted::Existing(v) => v.status,
        }
    }

    /// The clock, `seconds` after now (after the pushes so far).
    fn clock_after(&self, seconds: i64) {
        self.clock
            .set(Utc::now() + chrono::Duration::seconds(seconds));
    }

    async fn run(&self) -> PayoutRun {
        self.reconciler.run_payouts("test").await.unwrap()
    }

    async fn view(&self, n: &str) -> Payout {
        match self.t.ledger().payout(n).await.unwrap() {
            Some(PayoutLookup::Payout(v)) => *v,
            other => panic!("{n}: {other:?}"),
        }
    }

    async fn status(&self, n: &str) -> PayoutStatus {
        self.view(n).await.status
    }

    /// Moves the simulator's payout on, as SkyPay's side would (a completion takes the amount
    /// off the balance).
    fn skypay_says(&self, n: &str, status: SimStatus, with_cancel_time: bool) {
        assert!(self.sim.payout(n).is_some(), "SkyPay holds {n}");
        self.sim.set_status(n, status, Utc::now());
        self.sim.with_state(|s| {
            if let Some(p) = s.payouts.get_mut(n) {
                p.cancel_time = with_cancel_time.then(Utc::now);
            }
        });
    }
}

/// SPEC 13.6's mapping, one payout per row, all answered by one query.
#[tokio::test]
async fn every_status_skypay_answers_is_applied_as_the_spec_maps_it() {
    let rig = Rig::start().await;
    // SkyPay's status (with a cancel time?) -> the payout's status in the ledger.
    let rows = [
        (SimStatus::Pending, false, PayoutStatus::Queued),
        (SimStatus::Completed, false, PayoutStatus::Paid),
        (SimStatus::Uploaded, false, PayoutStatus::Uploaded),
        (SimStatus::Cancelled, true, PayoutStatus::Cancelled),
        (SimStatus::Cancelled, false, PayoutStatus::Queued),
        (SimStatus::Failed, false, PayoutStatus::Failed),
        (SimStatus::InquirySuccess, false, PayoutStatus::Queued),
        (SimStatus::InquiryFailure, false, PayoutStatus::Queued),
    ];
    for (i, (status, cancel_time, _)) in rows.iter().enumerate() {
        let n = number(100 + i as u64);
        assert_eq!(rig.push(&n).await, PayoutStatus::Queued);
        rig.skypay_says(&n, *status, *cancel_time);
    }
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.open, run.due, run.queries), (8, 8, 1), "{run:?}");
    assert_eq!(run.unchanged, 4, "{run:?}");
    for (i, (status, cancel_time, expected)) in rows.iter().enumerate() {
        let n = number(100 + i as u64);
        let view = rig.view(&n).await;
        assert_eq!(
            view.status, *expected,
            "{status:?} (cancel time: {cancel_time})"
        );
        let from_query: Vec<&str> = view
            .events
            .iter()
            .filter(|e| e.source == EventSource::Query.as_str())
            .map(|e| e.pay_type.as_str())
            .collect();
        let expected_events: &[&str] = match expected {
            PayoutStatus::Paid => &["2"],
            PayoutStatus::Uploaded => &["1"],
            PayoutStatus::Cancelled => &["3"],
            PayoutStatus::Failed => &["4"],
            _ => &[],
        };
        assert_eq!(
            from_query, expected_events,
            "{status:?}: recorded as events"
        );
    }
    // Thirty minutes on, the same answers change nothing and write nothing: the upload is
    // known, and the final payouts have left the index.
    rig.clock.advance(chrono::Duration::minutes(30));
    let again = rig.run().await;
    assert_eq!((again.open, again.queries), (5, 1), "{again:?}");
    assert!(again.applied.is_empty(), "{again:?}");
    assert_eq!(again.unchanged, 5);
}

#[tokio::test]
async fn a_hundred_and_twenty_open_payouts_take_three_queries() {
    let rig = Rig::start().await;
    for i in 0..120 {
        assert_eq!(rig.push(&number(1000 + i)).await, PayoutStatus::Queued);
    }
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.open, run.due, run.queries), (120, 120, 3), "{run:?}");
    assert_eq!(rig.sim.calls("payoutQueryStatus"), 3);
    let sizes: Vec<usize> = rig
        .sim
        .received()
        .iter()
        .filter(|body| body["action"] == "payoutQueryStatus")
        .map(|body| body["controlNumbers"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
    // Every request to SkyPay went as ciphertext.
    assert!(rig.sim.content_types().iter().all(|c| c == "text/plain"));
}

/// SkyPay's limits: no query sooner than 300 s after the push, none more often than every
/// 30 minutes per number; a run waits a little for a batch rather than skip it.
#[tokio::test]
async fn skypays_300_seconds_and_30_minutes_hold() {
    let rig = Rig::start().await;
    let n = number(200);
    assert_eq!(rig.push(&n).await, PayoutStatus::Queued);
    let pushed = Utc::now();
    let at = |seconds: i64| pushed + chrono::Duration::seconds(seconds);

    rig.clock.set(at(200));
    let early = rig.run().await;
    assert_eq!(
        (early.open, early.due, early.queries),
        (1, 0, 0),
        "{early:?}"
    );

    rig.clock.set(at(301));
    let first = rig.run().await;
    assert_eq!((first.due, first.queries), (1, 1), "{first:?}");

    // Ten minutes after that query: too soon, and too far off to wait for.
    rig.clock.set(at(301 + 600));
    let soon = rig.run().await;
    assert_eq!((soon.queries, soon.deferred), (0, 1), "{soon:?}");

    // Two minutes short of the 30 minutes: the run waits them out, then asks.
    rig.clock.set(at(301 + 1800 - 120));
    let close = rig.run().await;
    assert_eq!((close.queries, close.waited_seconds), (1, 120), "{close:?}");
    assert_eq!(rig.sim.calls("payoutQueryStatus"), 2);
}

#[tokio::test]
async fn a_push_in_doubt_skypay_does_not_list_twice_30_minutes_apart_is_pushed_again() {
    let rig = Rig::start().await;
    let n = number(300);
    // The push fails on the way (SkyPay down): PENDING and in doubt (SPEC 14.3); SkyPay in
    // fact never had it.
    rig.sim.script([Fault::Http(503)]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert!(rig.sim.payout(&n).is_none());
    assert!(rig.view(&n).await.push_in_doubt);
    // First query, 300 s after the push: not listed. Not pushed yet: once is not enough.
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!(
        (run.queries, run.in_doubt, run.repushed),
        (1, 1, 0),
        "{run:?}"
    );
    assert_eq!(rig.sim.calls("payoutQueue"), 0);
    // Second query, 30 minutes later: still not listed. The doubt is cleared, pushed again.
    rig.clock_after(301 + 31 * 60);
    let run = rig.run().await;
    assert_eq!(
        (run.queries, run.doubts_cleared, run.repushed),
        (1, 1, 1),
        "{run:?}"
    );
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Queued);
    assert!(!view.push_in_doubt);
    assert_eq!(view.push_attempts, 2);
    let held = rig.sim.payout(&n).expect("SkyPay has it now");
    assert_eq!(held.amount, Decimal::new(250_000, 2));
    // A push is a new push: the next query waits 300 s after it, and SkyPay then lists it.
    rig.clock_after(301 + 62 * 60);
    let next = rig.run().await;
    assert_eq!((next.repushed, next.unchanged), (0, 1), "{next:?}");
}

#[tokio::test]
async fn no_second_push_while_another_holds_the_lease() {
    let rig = Rig::start().await;
    let n = number(310);
    // Held (a reason about us): the payout run pushes it again, unless a push is in flight.
    rig.sim.script([Fault::Code("-1016".to_owned())]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    // Another push (the run's own, say) is in flight: it holds the lease.
    let view = rig.view(&n).await;
    let number = ControlNumber::parse(&n, &rig.config.prefix).unwrap();
    let lease = rig
        .t
        .ledger()
        .acquire_push_lease(
            &number,
            &view.instruction,
            3600,
            PushPolicy::PayoutRun,
            &WriteContext::new("other"),
        )
        .await
        .unwrap();
    assert!(matches!(lease, LeaseOutcome::Acquired { .. }));
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.repushed, run.lease_held), (0, 1), "{run:?}");
    assert_eq!(rig.sim.calls("payoutQueue"), 1, "no second push");
    assert_eq!(rig.status(&n).await, PayoutStatus::Pending);
}

/// A callback and a query answer about the same payout reach the same final state in either
/// order (and with either delivered twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_and_query_answers_in_any_order_end_in_the_same_state() {
    let t = TestGateway::start().await;
    // (deliveries: a callback's payType, or Q and SkyPay's status) -> (status, anomaly)
    let cases: [(&[&str], PayoutStatus, bool); 5] = [
        (&["1", "2", "Q1"], PayoutStatus::Paid, false),
        (&["1", "4", "Q4"], PayoutStatus::Failed, false),
        (&["3", "Q1"], PayoutStatus::Paid, true),
        (&["1", "Q2", "Q3"], PayoutStatus::Cancelled, false),
        (&["4", "Q3", "2"], PayoutStatus::Paid, true),
    ];
    let mut serial = 0;
    for (deliveries, status, anomaly) in cases {
        let mut finals = Vec::new();
        for (k, order) in deliveries.iter().permutations(deliveries.len()).enumerate() {
            serial += 1;
            let n = number(400_000 + serial);
            t.register_payout(PayoutSpec::pushed(&n)).await;
            let mut sends = order.clone();
            sends.push(order[k % order.len()]);
            for delivery in sends {
                deliver(&t, &n, delivery).await;
            }
            let v = match t.ledger().payout(&n).await.unwrap() {
                Some(PayoutLookup::Payout(v)) => v,
                other => panic!("{other:?}"),
            };
            assert_eq!((v.status, v.anomaly), (status, anomaly), "{order:?}");
            finals.push((
                v.status,
                v.anomaly,
                v.reference_number,
                v.fail_description,
                v.events.len(),
            ));
        }
        assert!(
            finals.iter().all_equal(),
            "{deliveries:?}: every order ends alike: {finals:?}"
        );
    }
}

async fn deliver(t: &TestGateway, n: &str, delivery: &str) {
    if let Some(status) = delivery.strip_prefix('Q') {
        let status: u32 = status.parse().unwrap();
        let answer = StatusAnswer {
            control_number: n.to_owned(),
            status: Some(status),
            status_desc: None,
            transaction_date: Some("2026-11-30 09:00:00".to_owned()),
            pay_time: (status == 1).then(|| "2026-11-30 10:00:00".to_owned()),
            cancel_time: (status == 3).then(|| "2026-11-30 10:30:00".to_owned()),
            withdraw_channel: Some("GCash".to_owned()),
            reference_no: Some("GC-REF-1".to_owned()),
            trace_no: None,
        };
        let event = status::event_of(&answer).expect("a fact");
        t.ledger()
            .record_event(&event, &WriteContext::new("query"))
            .await
            .unwrap();
        return;
    }
    let pay_type: u32 = delivery.parse().unwrap();
    let extra = match pay_type {
        1 => json!({"referenceNumber": "ML-REF-1"}),
        4 => json!({"failDescription": "Account closed"}),
        _ => json!({}),
    };
    let body = payout_queue_payout(n, pay_type, "2026-11-30 10:00:00", extra);
    assert_eq!(
        t.call(Action::PayoutQueuePayout, &body).await.response_code,
        "1000"
    );
}

/// The day SkyPay's reports and the ledger are compared for, and a time on it (Manila).
fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn on_day(hhmmss: &str) -> DateTime<Utc> {
    SkyPayTime::parse(&format!("2026-11-30 {hhmmss}"))
        .unwrap()
        .utc
}

fn sim_payout(n: &str, amount: i64, paid: bool) -> SimPayout {
    SimPayout {
        control_number: n.to_owned(),
        amount: Decimal::new(amount, 0),
        withdraw_channel: 1,
        phone: "09171234567".to_owned(),
        status: if paid {
            SimStatus::Completed
        } else {
            SimStatus::Uploaded
        },
        transaction_date: on_day("08:00:00"),
        pay_time: paid.then(|| on_day("10:00:00")),
        cancel_time: None,
        reference_no: String::new(),
    }
}

/// Each class of difference, and a day with none.
/// The runs' metric lines go through the one log formatter (so `RUST_LOG` and a capture see
/// them): valid EMF, the balance written as its exact decimal, a failed run at ERROR with
/// `ReconcileFailures` 1, and a metric the line does not carry (no balance read) not named.
#[tokio::test]
async fn the_runs_metric_lines_are_emf_through_the_subscriber() {
    let rig = Rig::start().await;
    let n = number(810);
    rig.push(&n).await;
    rig.skypay_says(&n, SimStatus::Completed, false);
    rig.clock_after(301);
    rig.sim.set_balance(Decimal::new(72_671_805, 2));
    let captured = Captured::default();
    {
        let _guard = captured.install();
        rig.sim.script([Fault::Http(503)]);
        rig.reconciler.run_payouts("test").await.unwrap_err();
        rig.clock.advance(chrono::Duration::minutes(31));
        rig.run().await;
    }
    let text = String::from_utf8(captured.bytes()).unwrap();
    assert!(text.contains(r#""SkyPayBalance":726718.05"#), "{text}");
    let runs: Vec<_> = captured
        .lines()
        .into_iter()
        .filter(|l| l["message"] == "payout reconcile run")
        .collect();
    assert_eq!(runs.len(), 2, "{text}");
    for line in &runs {
        assert_valid_emf(line);
        assert_eq!(line["Service"], "payout-reconcile");
        assert!(line.get("_emf").is_none(), "{line}");
    }
    let (failed, done) = (&runs[0], &runs[1]);
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["ReconcileFailures"], 1);
    let named = |line: &serde_json::Value, metric: &str| {
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["Name"] == metric)
    };
    assert!(!named(failed, "SkyPayBalance"), "{failed}");
    assert_eq!(done["level"], "INFO");
    assert_eq!(done["ReconcileChanges"], 1);
    assert!(named(done, "SkyPayBalance") && named(done, "ReconcileChanges"));
}

#[tokio::test]
async fn the_daily_reports_find_every_class_of_difference() {
    let rig = Rig::start().await;
    let t = &rig.t;
    let pay = |n: String| async move {
        let body = payout_payout(&n, json!({"payTime": "2026-11-30 10:00:00"}));
        assert_eq!(
            t.call(Action::PayoutPayout, &body).await.response_code,
            "1000"
        );
    };
    // Shop pickups of 3,400.00 (PayoutSpec's amount).
    let (same, ours_only, theirs_only, other_amount, unknown) = (
        number(500),
        number(501),
        number(502),
        number(503),
        number(504),
    );
    for n in [&same, &ours_only, &theirs_only, &other_amount] {
        t.register_payout(PayoutSpec::pickup(n)).await;
    }
    pay(same.clone()).await;
    pay(ours_only.clone()).await;
    pay(other_amount.clone()).await;
    rig.sim.with_state(|s| {
        for p in [
            sim_payout(&same, 3400, true),
            sim_payout(&theirs_only, 3400, true),
            sim_payout(&other_amount, 3300, true),
            sim_payout(&unknown, 999, true),
            // Not paid at SkyPay: not in its report, and not paid here either.
            sim_payout(&number(505), 100, false),
        ] {
            s.payouts.insert(p.control_number.clone(), p);
        }
    });
    // Collections: one on both sides, one SkyPay confirmed that we never recorded, one we
    // recorded that SkyPay does not list, one for another amount.
    let collect = |contract: String, receipt: &'static str, amount: &'static str| async move {
        let body = collection_collect(
            &contract,
            receipt,
            amount,
            json!({"collectedTime": "2026-11-30 11:00:00"}),
        );
        assert_eq!(
            t.call(Action::CollectionCollect, &body).await.response_code,
            "1000"
        );
    };
    let (k_same, k_theirs, k_ours, k_amount) = (number(600), number(601), number(602), number(603));
    for k in [&k_same, &k_ours, &k_amount] {
        t.register_contract(k, "10000.00").await;
    }
    collect(k_same.clone(), "R-600", "100.00").await;
    collect(k_ours.clone(), "R-602", "300.00").await;
    collect(k_amount.clone(), "R-603", "400.00").await;
    rig.sim.with_state(|s| {
        for (contract, amount, reference) in [
            (&k_same, 100, "R-600"),
            (&k_theirs, 200, "R-601"),
            (&k_amount, 450, "R-603"),
        ] {
            s.collections.push(SimCollection {
                contract_number: contract.clone(),
                amount: Decimal::new(amount, 0),
                reference_no: reference.to_owned(),
                phone: "09171234567".to_owned(),
                collected_time: on_day("11:00:00"),
            });
        }
    });

    let view = rig.reconciler.run_daily(day(), "test").await.unwrap();
    let mut found: Vec<(String, String, Option<String>)> = view
        .differences
        .iter()
        .map(|d| (d.kind.clone(), d.number.clone(), d.ledger_status.clone()))
        .collect();
    found.sort();
    let mut expected = vec![
        ("amountDiffers".to_owned(), other_amount.clone(), None),
        ("amountDiffers".to_owned(), k_amount.clone(), None),
        ("collectionNotAtSkyPay".to_owned(), k_ours.clone(), None),
        ("collectionNotInLedger".to_owned(), k_theirs.clone(), None),
        (
            "paidAtSkyPayNotInLedger".to_owned(),
            theirs_only.clone(),
            Some("QUEUED".to_owned()),
        ),
        (
            "paidAtSkyPayNotInLedger".to_owned(),
            unknown.clone(),
            Some("UNKNOWN".to_owned()),
        ),
        (
            "paidInLedgerNotAtSkyPay".to_owned(),
            ours_only.clone(),
            None,
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(
        (
            view.skypay_payouts,
            view.ledger_payouts,
            view.skypay_collections,
            view.ledger_collections
        ),
        (4, 3, 3, 3)
    );
    // Read back as the loan system reads it.
    let shown =
        skypay_admin::handlers::get_reconciliation(t.ledger(), Some("2026-11-30"), "test").await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["differences"].as_array().unwrap().len(), 7);
    let other = &shown.body["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == Value::String(other_amount.clone()))
        .unwrap();
    assert_eq!(other["skypayAmount"], "3300.00");
    assert_eq!(other["ledgerAmount"], "3400.00");
    // Another day has none; a day never run is 404.
    let quiet = rig
        .reconciler
        .run_daily(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), "test")
        .await
        .unwrap();
    assert!(quiet.differences.is_empty(), "{quiet:?}");
    let never =
        skypay_admin::handlers::get_reconciliation(t.ledger(), Some("2026-11-01"), "test").await;
    assert_eq!(never.status, 404);
    // SkyPay's pages were all read, 100 rows each at most.
    assert!(
        rig.sim
            .received()
            .iter()
            .filter(|b| b["action"] == "getReportPayout")
            .all(|b| b["pageSize"] == 100 && b["dateType"] == "PayTime")
    );
}

#[tokio::test]
async fn a_report_of_several_pages_is_read_to_the_end() {
    let rig = Rig::start().await;
    rig.sim.with_state(|s| {
        for i in 0..250 {
            let p = sim_payout(&number(700 + i), 10, true);
            s.payouts.insert(p.control_number.clone(), p);
        }
    });
    let view = rig.reconciler.run_daily(day(), "test").await.unwrap();
    assert_eq!(view.skypay_payouts, 250);
    assert_eq!(view.differences.len(), 250, "none of them is in the ledger");
    assert_eq!(rig.sim.calls("getReportPayout"), 3);
}

/// SkyPay down, slow or answering garbage during a run: nothing is changed, the run reports
/// failure, and the next run (30 minutes on) does the work.
#[tokio::test]
async fn skypay_failing_during_a_run_changes_nothing() {
    for fault in [
        Fault::Http(503),
        Fault::Garbage,
        Fault::Stall(Duration::from_secs(3)),
        Fault::Code("-1009".to_owned()),
    ] {
        let rig = Rig::start().await;
        let n = number(800);
        rig.push(&n).await;
        rig.skypay_says(&n, SimStatus::Completed, false);
        rig.clock_after(301);
        rig.sim.script([fault.clone()]);
        let failed = rig.reconciler.run_payouts("test").await.unwrap_err();
        assert_eq!(failed.run.queries, 1, "{fault:?}");
        let view = rig.view(&n).await;
        assert_eq!(view.status, PayoutStatus::Queued, "{fault:?}");
        assert!(view.events.is_empty(), "{fault:?}");
        rig.clock.advance(chrono::Duration::minutes(31));
        let next = rig.run().await;
        assert_eq!(next.applied.get("paid"), Some(&1), "{fault:?}: {next:?}");
        assert_eq!(rig.status(&n).await, PayoutStatus::Paid);
        assert_eq!(next.balance, Some(Decimal::new(99_750_000, 2)));
    }
}

#[tokio::test]
async fn an_answer_listing_only_some_numbers_leaves_the_others_as_they_are() {
    let rig = Rig::start().await;
    let (listed, missing) = (number(810), number(811));
    rig.push(&listed).await;
    rig.push(&missing).await;
    rig.skypay_says(&listed, SimStatus::Failed, false);
    rig.skypay_says(&missing, SimStatus::Completed, false);
    rig.sim.hide(&missing);
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.unlisted, run.repushed), (1, 0), "{run:?}");
    assert_eq!(rig.status(&listed).await, PayoutStatus::Failed);
    assert_eq!(rig.status(&missing).await, PayoutStatus::Queued);
}

/// The token rule of docs/ledger.md: a write DynamoDB applied but whose answer was lost is
/// recognised when the SDK tries it again; nothing is applied twice.
#[tokio::test]
async fn a_lost_answer_to_our_own_write_has_no_double_effect() {
    let rig = Rig::start_with(true).await;
    let n = number(820);
    rig.push(&n).await;
    rig.skypay_says(&n, SimStatus::Completed, false);
    rig.clock_after(301);
    // The gate's write, then the answer's.
    rig.proxy()
        .set_fault(proxy::Fault::LoseNextAnswerOf("UpdateItem"));
    let run = rig.run().await;
    assert_eq!(run.queries, 1, "the run took its own gate: {run:?}");
    let n2 = number(821);
    rig.push(&n2).await;
    rig.skypay_says(&n2, SimStatus::Completed, false);
    rig.clock.advance(chrono::Duration::minutes(31));
    rig.proxy()
        .set_fault(proxy::Fault::LoseNextAnswerOf("TransactWriteItems"));
    let run = rig.run().await;
    assert_eq!(run.applied.get("paid"), Some(&1), "{run:?}");
    let view = rig.view(&n2).await;
    assert_eq!(view.status, PayoutStatus::Paid);
    assert_eq!(view.events.len(), 1, "stored once: {:?}", view.events);
}

#[tokio::test]
async fn one_run_at_a_time() {
    let rig = Rig::start().await;
    rig.push(&number(830)).await;
    rig.clock_after(301);
    // A run that stopped half-way (a crashed function) holds the gate until its time is up.
    let token = skypay::ledger::random_token();
    let now = Utc::now() + chrono::Duration::seconds(301);
    let taken = rig
        .t
        .ledger()
        .take_reconcile_gate(now, now.timestamp() - 300, 900, 1800, &token)
        .await
        .unwrap();
    assert!(matches!(taken, skypay::ledger::Gate::Taken { .. }));
    let blocked = rig.run().await;
    assert!(blocked.busy_until.is_some(), "{blocked:?}");
    assert_eq!(rig.sim.calls("payoutQueryStatus"), 0);
    // After its time, the next run starts, and counts the stopped run as having queried
    // everything it could have, at the latest moment it could have: 30 minutes after that.
    rig.clock.advance(chrono::Duration::seconds(901));
    let deferred = rig.run().await;
    assert_eq!(
        (deferred.queries, deferred.deferred),
        (0, 1),
        "{deferred:?}"
    );
    rig.clock.advance(chrono::Duration::minutes(30));
    let ran = rig.run().await;
    assert_eq!(ran.queries, 1, "{ran:?}");
}

/// The README's walkthrough: `skypay-local --simulate-skypay` takes a GCash payout through
/// PENDING (during the push), QUEUED, UPLOADED and PAID with no SkyPay account, and answers
/// the reconciliation routes.
#[tokio::test]
async fn skypay_local_with_a_simulated_skypay_pays_a_gcash_payout() {
    let server = LocalServer::start_simulated(skypay_local::Simulate {
        delay: Duration::from_millis(200),
        outcome: skypay_sim::Outcome::Paid,
    })
    .await;
    let n = number(900);
    let (status, payout) = server
        .post(
            "/admin/payouts",
            &json!({"controlNumber": n, "name": "Cruz,Juan", "phone": "09171234567",
                    "amount": "2500.00", "withdrawChannel": 6, "accountNo": "09171234567"}),
        )
        .await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "QUEUED");
    let mut seen = vec!["QUEUED".to_owned()];
    for _ in 0..100 {
        let (_, now) = server.get(&format!("/admin/payouts/{n}")).await;
        let status = now["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "PAID" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, ["QUEUED", "UPLOADED", "PAID"]);
    let sent = server.sim().received();
    assert_eq!(sent[0]["action"], "payoutQueue");
    assert!(
        server
            .sim()
            .callbacks()
            .iter()
            .all(|c| c.answer.as_deref() == Ok("1000")),
        "{:?}",
        server.sim().callbacks()
    );
    let (status, run) = server.post_raw("/admin/reconcile", "").await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["balance"], "997500.00");
    let today = Utc::now()
        .with_timezone(&skypay::protocol::time::manila())
        .format("%Y-%m-%d")
        .to_string();
    let (status, daily) = server
        .post_raw(&format!("/admin/reconcile/daily?date={today}"), "")
        .await;
    assert_eq!(status, 200, "{daily}");
    assert_eq!(daily["skypayPayouts"], 1);
    assert_eq!(daily["ledgerPayouts"], 1);
    assert_eq!(daily["differences"], json!([]));
    let (status, _) = server
        .get(&format!("/admin/reconciliation?date={today}"))
        .await;
    assert_eq!(status, 200);
    // The shops' flow, played by the simulator: a pickup, then a repayment.
    let pickup = number(901);
    let (status, _) = server
        .post(
            "/admin/payouts",
            &json!({"controlNumber": pickup, "name": "Cruz,Juan", "phone": "09171234567",
                    "amount": "1000.00", "withdrawChannel": 1}),
        )
        .await;
    assert_eq!(status, 201);
    let player = server.sim().player(&server.base);
    let played = player.payout(&pickup, 1).await.unwrap();
    assert!(played.succeeded(), "{played:?}");
    assert_eq!(played.inquiry.fields["amount"], "1000.00");
    let contract = number(902);
    server
        .post(
            "/admin/contracts",
            &json!({"contractNumber": contract, "amountDue": "5000.00"}),
        )
        .await;
    let collected = player
        .collect(&contract, Decimal::new(150_000, 2), 10)
        .await
        .unwrap();
    assert!(collected.succeeded(), "{collected:?}");
    let (_, daily) = server
        .post_raw(&format!("/admin/reconcile/daily?date={today}"), "")
        .await;
    assert_eq!(daily["skypayPayouts"], 2, "{daily}");
    assert_eq!(daily["skypayCollections"], 1, "{daily}");
    assert_eq!(daily["differences"], json!([]), "{daily}");
    server.stop().await;
}

/// Without SkyPay's address, the reconcile routes say where reconciliation runs.
#[tokio::test]
async fn without_skypay_the_reconcile_routes_are_not_served() {
    let server = LocalServer::start(&[]).await;
    let (status, body) = server.post_raw("/admin/reconcile", "").await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("SKYPAY_API_URL"));
    let (status, _) = server.get("/admin/reconciliation?date=2026-13-01").await;
    assert_eq!(status, 400);
    server.stop().await;
}

/// SPEC 14.3, the review's third double payout: attempt 1 timed out after SkyPay took it. The
/// payout stays PENDING and in doubt; no later push happens (a re-post, an SQS redelivery),
/// so no later refusal can make it REJECTED (before: attempt 2 got -1016, REJECTED, and
/// PayoutRejected told the loan system to issue it again). payoutQueryStatus settles it.
#[tokio::test]
async fn a_push_whose_answer_was_lost_is_settled_by_the_query_never_by_a_later_refusal() {
    let rig = Rig::start().await;
    let n = number(320);
    rig.sim
        .script([Fault::TakeThenStall(Duration::from_secs(3))]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert!(rig.sim.payout(&n).is_some(), "SkyPay took it");
    let view = rig.view(&n).await;
    assert!(view.push_in_doubt, "{view:?}");
    // The loan system retries (SQS redelivery, re-post) and SkyPay would now say -1016: no
    // push is made, so nothing can refuse it.
    rig.sim.script([Fault::Code("-1016".to_owned())]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert!(
        !rig.queue
            .clone()
            .process_message(
                "redelivery".to_owned(),
                rig.view(&n).await.instruction.to_string()
            )
            .await,
        "acknowledged: the payout run takes over"
    );
    assert_eq!(rig.sim.calls("payoutQueue"), 1, "pushed once");
    assert_eq!(rig.sim.unscript(), 1, "the -1016 was never asked for");
    assert_eq!(rig.view(&n).await.push_attempts, 1);
    // The cancel is refused too: SkyPay may have it.
    let cancel =
        skypay_admin::handlers::cancel_payout(rig.t.ledger(), &rig.config, &n, "test").await;
    assert_eq!(cancel.status, 409, "{:?}", cancel.body);
    // The run: SkyPay lists it, so it is QUEUED, the doubt cleared.
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!(run.settled, 1, "{run:?}");
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Queued);
    assert!(!view.push_in_doubt);
}

/// SPEC 14.3: held (-1016, the balance ran out) is about us, not the instruction: PENDING with
/// the code, acknowledged, never pushed again by the loan system, pushed again by the payout
/// run (once per run), and QUEUED once the balance is restored. PushesHeld counts it meanwhile.
#[tokio::test]
async fn a_held_payout_is_pushed_again_by_the_run_after_the_balance_is_restored() {
    let rig = Rig::start().await;
    let n = number(330);
    rig.sim.set_balance(Decimal::new(100_000, 2)); // 1,000.00 < 2,500.00
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    let view = rig.view(&n).await;
    assert_eq!(view.push_held.as_deref(), Some("-1016"), "{view:?}");
    assert!(!view.push_in_doubt);
    // The loan system's retry does not push a held payout.
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert_eq!(rig.sim.calls("payoutQueue"), 1);
    // A run while the balance is still short: pushed again, held again, counted.
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.repushed, run.held), (1, 1), "{run:?}");
    assert_eq!(rig.sim.calls("payoutQueue"), 2);
    // The balance is topped up; the next run pushes it again: QUEUED, no longer held.
    rig.sim.set_balance(Decimal::new(1_000_000, 2));
    rig.clock_after(301 + 31 * 60);
    let run = rig.run().await;
    assert_eq!((run.repushed, run.held), (1, 0), "{run:?}");
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Queued);
    assert_eq!(view.push_held, None);
    assert_eq!(view.push_attempts, 3);
    assert!(rig.sim.payout(&n).is_some());
}

/// A held payout whose validity ran out is not pushed again by the run, though the balance is
/// back: its instruction named no expiresAt, so the payout's own (PAYOUT_VALIDITY_HOURS after
/// registration) is the one that counts, and the loan system may have paid the borrower
/// another way by then. Counted as a refused re-push (alarmed), PENDING for a cancel, which
/// then succeeds (SkyPay never took it). Before, only an instruction's own expiresAt stopped
/// the re-push, and this payout was pushed a week late.
#[tokio::test]
async fn a_held_payout_past_its_validity_is_never_pushed_again() {
    let rig = Rig::start().await;
    let n = number(335);
    rig.sim.set_balance(Decimal::new(100_000, 2));
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    rig.sim.set_balance(Decimal::new(1_000_000, 2));
    rig.clock_after(rig.config.payout_validity.num_seconds() + 301);
    let run = rig.run().await;
    assert_eq!(
        (run.repushed, run.repush_refused, run.held),
        (0, 1, 1),
        "{run:?}"
    );
    assert_eq!(rig.sim.calls("payoutQueue"), 1, "never pushed again");
    assert_eq!(rig.status(&n).await, PayoutStatus::Pending);
    let cancel =
        skypay_admin::handlers::cancel_payout(rig.t.ledger(), &rig.config, &n, "test").await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    assert_eq!(rig.status(&n).await, PayoutStatus::Cancelled);
}

/// SPEC 14.3: a payout SkyPay has reported on is never pushed again, even if a later query
/// does not list it: an error log and an anomaly instead.
#[tokio::test]
async fn a_payout_skypay_reported_on_is_never_pushed_again() {
    let rig = Rig::start().await;
    let n = number(340);
    rig.sim.set_balance(Decimal::new(100_000, 2));
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    // A record-only callback (payType 6) about it arrives: SkyPay has seen the number.
    let body = payout_queue_payout(&n, 6, "2024-03-01 10:00:00", json!({}));
    assert_eq!(
        rig.t
            .call(Action::PayoutQueuePayout, &body)
            .await
            .response_code,
        "1000"
    );
    rig.sim.set_balance(Decimal::new(1_000_000, 2));
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.repushed, run.anomalies), (0, 1), "{run:?}");
    assert_eq!(rig.sim.calls("payoutQueue"), 1, "never pushed again");
    assert_eq!(rig.status(&n).await, PayoutStatus::Pending);
    // Nor cancelled as never taken: SkyPay has seen it.
    let cancel =
        skypay_admin::handlers::cancel_payout(rig.t.ledger(), &rig.config, &n, "test").await;
    assert_eq!(cancel.status, 409, "{:?}", cancel.body);
}

/// -1008 ("already exists") is an earlier attempt's success only if an earlier attempt's outcome
/// was ever unknown; after a held push (SkyPay answered, and did not take it) it means SkyPay
/// holds a payout under our number that we never pushed: in doubt, never QUEUED on its word.
#[tokio::test]
async fn a_1008_without_an_earlier_doubt_is_in_doubt() {
    let rig = Rig::start().await;
    let n = number(345);
    rig.sim.set_balance(Decimal::new(100_000, 2));
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert_eq!(rig.view(&n).await.push_held.as_deref(), Some("-1016"));
    // The run's query first (answered as usual), then its push again: -1008.
    rig.sim.script([
        Fault::Stall(Duration::ZERO),
        Fault::Code("-1008".to_owned()),
    ]);
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!(run.repushed, 1, "{run:?}");
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Pending);
    assert!(view.push_in_doubt, "{view:?}");
}

/// A query's "not listed" counts against a push only if no push happened since the index
/// showed it: the first unlisted mark is conditional on the `lastPushAt` the query was made
/// against.
#[tokio::test]
async fn an_unlisted_answer_never_counts_against_a_later_push() {
    let rig = Rig::start().await;
    let n = number(346);
    rig.sim.script([Fault::Http(503)]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    let seen = rig
        .t
        .ledger()
        .open_pushes(None)
        .await
        .unwrap()
        .payouts
        .into_iter()
        .find(|p| p.control_number == n)
        .expect("in the index");
    let ctx = WriteContext::at("test", Utc::now() + chrono::Duration::seconds(301));
    let stale = skypay::ledger::Settlement::FirstUnlisted {
        last_push_at: seen.last_push_at - 1,
    };
    assert!(
        !rig.t
            .ledger()
            .settle_push(&n, stale, 0, &ctx)
            .await
            .unwrap(),
        "a query older than the last push marks nothing"
    );
    let current = skypay::ledger::Settlement::FirstUnlisted {
        last_push_at: seen.last_push_at,
    };
    assert!(
        rig.t
            .ledger()
            .settle_push(&n, current, 0, &ctx)
            .await
            .unwrap()
    );
}

/// SPEC 14.3: the loan system can withdraw a pushed payout SkyPay never took (held, or never
/// sent): 200 CANCELLED, one conditional write; it is never pushed after, by the run or a
/// retry. A QUEUED one is 409.
#[tokio::test]
async fn a_pending_payout_skypay_never_took_can_be_cancelled_and_is_never_pushed_after() {
    let rig = Rig::start().await;
    let n = number(350);
    rig.sim.set_balance(Decimal::new(100_000, 2));
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    let cancel =
        skypay_admin::handlers::cancel_payout(rig.t.ledger(), &rig.config, &n, "test").await;
    assert_eq!(cancel.status, 200, "{:?}", cancel.body);
    assert_eq!(cancel.body["status"], "CANCELLED");
    rig.sim.set_balance(Decimal::new(1_000_000, 2));
    assert_eq!(rig.push(&n).await, PayoutStatus::Cancelled);
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.open, run.repushed), (0, 0), "{run:?}");
    assert_eq!(
        rig.sim.calls("payoutQueue"),
        1,
        "never pushed after the cancel"
    );

    let queued = number(351);
    assert_eq!(rig.push(&queued).await, PayoutStatus::Queued);
    let cancel =
        skypay_admin::handlers::cancel_payout(rig.t.ledger(), &rig.config, &queued, "test").await;
    assert_eq!(cancel.status, 409, "{:?}", cancel.body);
}

/// The registration's write applied but its answer lost (the SDK retries it and finds the item):
/// the payout is this call's, under its own lease, and is pushed now, once; never left
/// "in flight" until the lease runs out and then in doubt for an hour.
#[tokio::test]
async fn a_lost_answer_to_the_registration_still_pushes_once() {
    let rig = Rig::start_with(true).await;
    let n = number(825);
    rig.proxy()
        .set_fault(proxy::Fault::LoseNextAnswerOf("PutItem"));
    assert_eq!(rig.push(&n).await, PayoutStatus::Queued);
    assert_eq!(rig.sim.calls("payoutQueue"), 1);
    let view = rig.view(&n).await;
    assert_eq!(view.push_attempts, 1, "{view:?}");
    assert!(!view.push_in_doubt);
}

/// Found by the simulation (seed 7 of `scripts/sim.sh`): a push whose answer was lost (SkyPay
/// took it) stayed `pushInDoubt` after SkyPay's callbacks reported on it, and for ever once
/// it was paid: the run never looks at a closed payout again. A callback that moves the payout
/// is SkyPay saying it holds it, as a query listing it is: the doubt goes.
#[tokio::test]
async fn a_callback_settles_a_push_in_doubt() {
    let rig = Rig::start().await;
    let n = number(360);
    rig.sim.script([Fault::TakeThenHttp(504)]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert!(rig.view(&n).await.push_in_doubt);
    deliver(&rig.t, &n, "1").await;
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Uploaded);
    assert!(!view.push_in_doubt, "{view:?}");
    deliver(&rig.t, &n, "2").await;
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Paid);
    assert!(!view.push_in_doubt, "{view:?}");
    assert_eq!(rig.sim.calls("payoutQueue"), 1, "never pushed again");
}

/// Found by the simulation (seed 21): a held payout (-1016) the loan system cancelled stayed
/// `pushHeld` with it. The hold ends with the payout; the refusal stays on record.
#[tokio::test]
async fn a_cancelled_held_payout_is_no_longer_held() {
    let rig = Rig::start().await;
    let n = number(361);
    rig.sim.script([Fault::Code("-1016".to_owned())]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    assert_eq!(rig.view(&n).await.push_held.as_deref(), Some("-1016"));
    let cancel =
        skypay_admin::handlers::cancel_payout(rig.t.ledger(), &rig.config, &n, "test").await;
    assert_eq!(cancel.status, 200, "{:?}", cancel.body);
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Cancelled);
    assert_eq!(view.push_held, None, "{view:?}");
    assert_eq!(view.skypay_code.as_deref(), Some("-1016"));
}

/// Found by the simulation (seed 42): a payout the run pushed again (SkyPay did not list it)
/// was asked about by the next run 10 minutes later, against SkyPay's "no more often than
/// every 30 minutes" per number. Its new push counts as queried when the query that found it
/// unlisted was.
#[tokio::test]
async fn a_payout_the_run_pushed_again_waits_30_minutes_for_its_next_query() {
    let rig = Rig::start().await;
    let n = number(362);
    rig.sim.script([Fault::Code("-1016".to_owned())]);
    assert_eq!(rig.push(&n).await, PayoutStatus::Pending);
    // The run queries it (not listed) and pushes it again: SkyPay takes it now.
    rig.clock_after(301);
    let run = rig.run().await;
    assert_eq!((run.queries, run.repushed), (1, 1), "{run:?}");
    // Ten minutes later the new push is past its 300 s, but the number was asked about ten
    // minutes ago: the run leaves it to a later run.
    rig.clock_after(301 + 600);
    let run = rig.run().await;
    assert_eq!((run.queries, run.deferred), (0, 1), "{run:?}");
    // Thirty minutes after that query it is asked about again, and settled.
    rig.clock_after(301 + 30 * 60 + 1);
    let run = rig.run().await;
    assert_eq!(run.queries, 1, "{run:?}");
    assert_eq!(rig.view(&n).await.status, PayoutStatus::Queued);
}

/// A callback for a payout whose push is still in flight (or died in flight: its lease would
/// count as in doubt once past) takes the lease away with the doubt: SkyPay holds the payout,
/// and the push's own outcome, when it comes, finds its lease gone and records nothing over it.
#[tokio::test]
async fn a_callback_during_a_push_in_flight_ends_its_lease() {
    let rig = Rig::start().await;
    let n = number(363);
    let prefix = skypay::protocol::rules::Prefix::new(PREFIX).unwrap();
    let payout = skypay::ledger::NewPayout {
        control_number: ControlNumber::parse(&n, &prefix).unwrap(),
        amount: skypay::protocol::rules::Amount::parse("2500.00").unwrap(),
        channel: skypay::protocol::rules::PayoutChannel::from_code(6).unwrap(),
        expires_at: Utc::now() + chrono::Duration::hours(168),
        instruction: skypay::protocol::mask::Private(json!({"controlNumber": n}).to_string()),
        status: PayoutStatus::Pending,
        lease_seconds: Some(30),
    };
    rig.t
        .ledger()
        .create_payout(&payout, &WriteContext::new("push"))
        .await
        .unwrap();
    assert!(rig.view(&n).await.lease_until.is_some());
    deliver(&rig.t, &n, "1").await;
    let view = rig.view(&n).await;
    assert_eq!(view.status, PayoutStatus::Uploaded);
    assert_eq!(view.lease_until, None, "{view:?}");
    let an_hour_on = Utc::now().timestamp() + 3600;
    assert!(!view.in_doubt_at(an_hour_on), "{view:?}");
}
