//! Faults between the gateway and DynamoDB (a controllable proxy on loopback): every SkyPay
//! call answers -1009 in bounded time, nothing is half written, the next call after the fault
//! clears succeeds, and an answer lost after DynamoDB applied a write never becomes a second
//! 1000.
//!
//! The time bound below is a liveness check of the SDK timeouts (`skypay::aws::dynamo`), generous
//! enough to never fail on a slow machine: a missing timeout would hang for ever.

use std::time::Duration;

use serde_json::{Value, json};
use skypay::ledger::{PayoutLookup, PayoutStatus};
use skypay::{Action, Gateway, Ledger};
use support::proxy::{Fault, Proxy};
use support::*;

/// Well under the functions' 10 s timeout; the SDK gives up after 3 s.
const BOUND: Duration = Duration::from_secs(8);

struct Rig {
    direct: TestGateway,
    proxy: Proxy,
    via_proxy: Gateway,
}

impl Rig {
    async fn start() -> Rig {
        let direct = TestGateway::start().await;
        let proxy = Proxy::start(&direct.backend.endpoint).await;
        let mut config = config_with(&[]);
        config.table_name = direct.backend.table.clone();
        let ledger = Ledger::new(
            skypay::aws::dynamo::client_for_endpoint(&proxy.url),
            direct.backend.table.as_str(),
        );
        Rig {
            via_proxy: Gateway::new(config, ledger),
            direct,
            proxy,
        }
    }

    async fn call(&self, action: Action, body: &Value) -> String {
        let body = body.to_string();
        let call = self.via_proxy.handle(
            action,
            skypay::Call {
                body: body.as_bytes(),
                source_ip: None,
                request_id: "fault",
            },
        );
        let reply = tokio::time::timeout(BOUND, call)
            .await
            .unwrap_or_else(|_| panic!("{action:?} did not answer within {BOUND:?}"));
        parse_reply(&reply.body).0.response_code
    }

    async fn payout_status(&self, cn: &str) -> PayoutStatus {
        match self.direct.ledger().payout(cn).await.unwrap() {
            Some(PayoutLookup::Payout(v)) => v.status,
            other => panic!("{other:?}"),
        }
    }
}

/// One call of each endpoint, each on its own fresh number (the inquiries on a payout and a
/// contract of their own, so that the order of the concurrent calls does not matter).
fn calls(n: u64) -> [(Action, Value); 6] {
    [
        (Action::PayoutPayout, payout_payout(&number(n), json!({}))),
        (
            Action::CollectionCollect,
            collection_collect(&number(n + 1), "R-1", "100.00", json!({})),
        ),
        (
            Action::PayoutQueuePayout,
            payout_queue_payout(&number(n + 2), 2, "2024-01-01 10:00:00", json!({})),
        ),
        (
            Action::PayoutInquiry,
            payout_inquiry(&number(n + 3), json!({})),
        ),
        (
            Action::CollectionInquiry,
            collection_inquiry(&number(n + 4), "100.00", json!({})),
        ),
        (
            Action::FinanceNotification,
            finance_notification(&format!("F-{n}"), json!({})),
        ),
    ]
}

async fn every_call_fails_cleanly_then_recovers(fault: Fault, n: u64) {
    let rig = Rig::start().await;
    rig.direct
        .register_payout(PayoutSpec::pickup(&number(n)))
        .await;
    rig.direct.register_contract(&number(n + 1), "1000").await;
    rig.direct
        .register_payout(PayoutSpec::pushed(&number(n + 2)))
        .await;
    rig.direct
        .register_payout(PayoutSpec::pickup(&number(n + 3)))
        .await;
    rig.direct.register_contract(&number(n + 4), "1000").await;

    rig.proxy.set_fault(fault);
    let results = futures_join(&rig, calls(n)).await;
    assert_eq!(results, ["-1009"; 6], "{fault:?}");

    // Nothing was half written.
    assert_eq!(
        rig.payout_status(&number(n)).await,
        PayoutStatus::Queued,
        "{fault:?}"
    );
    let contract = rig
        .direct
        .ledger()
        .contract(&number(n + 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contract.collected_total, dec("0.00"), "{fault:?}");
    assert!(contract.receipts.is_empty(), "{fault:?}");
    assert_eq!(
        rig.payout_status(&number(n + 2)).await,
        PayoutStatus::Pending,
        "{fault:?}"
    );
    // A -1009 finance notification was not stored (SPEC 13.4: -1009 only when nothing was).
    let day = chrono::NaiveDate::from_ymd_opt(2023, 6, 18).unwrap();
    assert!(
        rig.direct
            .ledger()
            .finance_day(day)
            .await
            .unwrap()
            .is_empty(),
        "{fault:?}"
    );

    // The fault clears: the same calls succeed.
    rig.proxy.set_fault(Fault::None);
    let results = futures_join(&rig, calls(n)).await;
    assert_eq!(results, ["1000"; 6], "{fault:?}");
    assert_eq!(rig.payout_status(&number(n + 2)).await, PayoutStatus::Paid);
    assert_eq!(
        rig.direct.ledger().finance_day(day).await.unwrap().len(),
        1,
        "{fault:?}"
    );
}

/// The six calls at once.
async fn futures_join(rig: &Rig, calls: [(Action, Value); 6]) -> [String; 6] {
    let [(a1, b1), (a2, b2), (a3, b3), (a4, b4), (a5, b5), (a6, b6)] = calls;
    let (r1, r2, r3, r4, r5, r6) = tokio::join!(
        rig.call(a1, &b1),
        rig.call(a2, &b2),
        rig.call(a3, &b3),
        rig.call(a4, &b4),
        rig.call(a5, &b5),
        rig.call(a6, &b6)
    );
    [r1, r2, r3, r4, r5, r6]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_dynamodb() {
    every_call_fails_cleanly_then_recovers(Fault::Stall, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_dynamodb() {
    every_call_fails_cleanly_then_recovers(Fault::Slow(Duration::from_secs(5)), 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_dynamodb() {
    every_call_fails_cleanly_then_recovers(Fault::Throttle, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_answering_500() {
    every_call_fails_cleanly_then_recovers(Fault::ServerError, 40).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection() {
    let rig = Rig::start().await;
    // Nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let ledger = Ledger::new(
        skypay::aws::dynamo::client_for_endpoint(&format!("http://{closed}")),
        "skypay-ledger",
    );
    let refused = Rig {
        via_proxy: Gateway::new(config_with(&[]), ledger),
        ..rig
    };
    let results = futures_join(&refused, calls(50)).await;
    assert_eq!(results, ["-1009"; 6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_applied_but_unanswered_is_never_paid_twice() {
    let rig = Rig::start().await;
    let cn = number(60);
    rig.direct.register_payout(PayoutSpec::pickup(&cn)).await;
    rig.proxy.set_fault(Fault::LoseAnswer);
    // DynamoDB applied it, we never heard: the cashier must not be told it went through.
    assert_eq!(
        rig.call(Action::PayoutPayout, &payout_payout(&cn, json!({})))
            .await,
        "-1009"
    );
    assert_eq!(rig.payout_status(&cn).await, PayoutStatus::Paid);
    rig.proxy.set_fault(Fault::None);
    // SkyPay retries: -1026, never a second 1000.
    assert_eq!(
        rig.call(Action::PayoutPayout, &payout_payout(&cn, json!({})))
            .await,
        "-1026"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_retry_recognises_its_own_applied_write() {
    let rig = Rig::start().await;
    let cn = number(70);
    rig.direct.register_payout(PayoutSpec::pickup(&cn)).await;
    rig.direct.register_contract(&number(71), "1000").await;
    // The first attempt is applied and its answer lost; the SDK retries within the same call,
    // meets its own write, and the call is the one that paid.
    rig.proxy.set_fault(Fault::LoseNextAnswer);
    assert_eq!(
        rig.call(Action::PayoutPayout, &payout_payout(&cn, json!({})))
            .await,
        "1000"
    );
    rig.proxy.set_fault(Fault::LoseNextAnswer);
    let collect = collection_collect(&number(71), "R-9", "250.00", json!({}));
    assert_eq!(rig.call(Action::CollectionCollect, &collect).await, "1000");
    let contract = rig
        .direct
        .ledger()
        .contract(&number(71))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contract.collected_total, dec("250.00"), "added once");
    assert_eq!(contract.receipts.len(), 1);
    // And SkyPay's own retries are duplicates.
    assert_eq!(
        rig.call(Action::PayoutPayout, &payout_payout(&cn, json!({})))
            .await,
        "-1026"
    );
    assert_eq!(rig.call(Action::CollectionCollect, &collect).await, "-1015");
    // A finance notification whose answer was lost is stored once.
    rig.proxy.set_fault(Fault::LoseNextAnswer);
    let notice = finance_notification("D-LOST", json!({}));
    assert_eq!(rig.call(Action::FinanceNotification, &notice).await, "1000");
    let day = chrono::NaiveDate::from_ymd_opt(2023, 6, 18).unwrap();
    let listed = rig.direct.ledger().finance_day(day).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!listed[0].conflict);
}

#[tokio::test]
async fn the_proxy_counts_one_request_per_call() {
    let rig = Rig::start().await;
    let cn = number(80);
    rig.direct.register_payout(PayoutSpec::pickup(&cn)).await;
    rig.direct.register_contract(&number(81), "100").await;
    rig.proxy.reset();
    for (action, body) in [
        (Action::PayoutPayout, payout_payout(&cn, json!({}))),
        (Action::PayoutPayout, payout_payout(&cn, json!({}))),
        (Action::PayoutPayout, payout_payout(&number(89), json!({}))),
        (
            Action::CollectionCollect,
            collection_collect(&number(81), "A", "100", json!({})),
        ),
        (
            Action::CollectionCollect,
            collection_collect(&number(81), "A", "100", json!({})),
        ),
        (
            Action::CollectionCollect,
            collection_collect(&number(81), "B", "1", json!({})),
        ),
        (
            Action::PayoutQueuePayout,
            payout_queue_payout(&cn, 1, "2024-01-01 00:00:00", json!({})),
        ),
        (
            Action::PayoutQueuePayout,
            payout_queue_payout(&cn, 1, "2024-01-01 00:00:00", json!({})),
        ),
        (
            Action::PayoutQueuePayout,
            payout_queue_payout(&cn, 6, "2024-01-01 00:00:00", json!({})),
        ),
        (Action::PayoutInquiry, payout_inquiry(&cn, json!({}))),
        (
            Action::PayoutInquiry,
            payout_inquiry(&number(89), json!({})),
        ),
        (
            Action::CollectionInquiry,
            collection_inquiry(&number(81), "1", json!({})),
        ),
        (
            Action::CollectionInquiry,
            collection_inquiry(&number(88), "1", json!({})),
        ),
        (
            Action::FinanceNotification,
            finance_notification("C-1", json!({})),
        ),
        (
            Action::FinanceNotification,
            finance_notification("C-1", json!({})),
        ),
    ] {
        let before = rig.proxy.total();
        rig.call(action, &body).await;
        assert_eq!(rig.proxy.total() - before, 1, "{action:?} {body}");
    }
    // The inquiries read and never write (SPEC 13.2, 13.3): one GetItem each.
    assert_eq!(rig.proxy.counts().get("GetItem"), Some(&4));
    // Refusals before the ledger cost nothing.
    let before = rig.proxy.total();
    rig.call(
        Action::PayoutPayout,
        &payout_payout(&cn, json!({"authentication": "x"})),
    )
    .await;
    rig.call(
        Action::CollectionCollect,
        &collection_collect("SKY0299999999", "C", "1", json!({})),
    )
    .await;
    rig.call(
        Action::PayoutInquiry,
        &payout_inquiry("SKY0299999999", json!({})),
    )
    .await;
    rig.call(
        Action::CollectionInquiry,
        &collection_inquiry("SKY0299999999", "1", json!({})),
    )
    .await;
    rig.call(
        Action::FinanceNotification,
        &finance_notification("C-2", json!({"action": "x"})),
    )
    .await;
    assert_eq!(rig.proxy.total(), before);
}
