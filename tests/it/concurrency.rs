//! "Paid once" and "collected once" under concurrency: many identical calls at the same time.

use serde_json::json;
use skypay::Action;
use skypay::ledger::{ContractStatus, PayoutLookup, PayoutStatus};
use support::*;

const CALLS: usize = 256;

async fn race(
    t: &std::sync::Arc<TestGateway>,
    action: Action,
    bodies: Vec<serde_json::Value>,
) -> Vec<String> {
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let t = t.clone();
            tokio::spawn(async move { t.call(action, &body).await.response_code })
        })
        .collect();
    let mut codes = Vec::new();
    for h in handles {
        codes.push(h.await.unwrap());
    }
    codes
}

fn count(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_payout_payouts_pay_once() {
    let t = std::sync::Arc::new(TestGateway::start().await);
    let cn = number(500);
    t.register_payout(PayoutSpec::pickup(&cn)).await;
    let body = payout_payout(&cn, json!({}));
    let codes = race(&t, Action::PayoutPayout, vec![body; CALLS]).await;
    assert_eq!(count(&codes, "1000"), 1, "{codes:?}");
    assert_eq!(count(&codes, "-1026"), CALLS - 1, "{codes:?}");
    match t.ledger().payout(&cn).await.unwrap() {
        Some(PayoutLookup::Payout(v)) => assert_eq!(v.status, PayoutStatus::Paid),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_collections_collect_once() {
    let t = std::sync::Arc::new(TestGateway::start().await);
    let cn = number(501);
    t.register_contract(&cn, "100000").await;
    let body = collection_collect(&cn, "R-SAME", "250.00", json!({}));
    let codes = race(&t, Action::CollectionCollect, vec![body; CALLS]).await;
    assert_eq!(count(&codes, "1000"), 1, "{codes:?}");
    assert_eq!(count(&codes, "-1015"), CALLS - 1, "{codes:?}");
    let c = t.ledger().contract(&cn).await.unwrap().unwrap();
    assert_eq!(c.collected_total, dec("250.00"));
    assert_eq!(c.receipts.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_collections_stop_exactly_at_the_amount_due() {
    let t = std::sync::Arc::new(TestGateway::start().await);
    let cn = number(502);
    t.register_contract(&cn, "100.00").await;
    // 64 different receipts of 10.00 against 100.00 due: ten are accepted, the rest are -1026.
    let bodies = (0..64)
        .map(|i| collection_collect(&cn, &format!("R-{i}"), "10.00", json!({})))
        .collect();
    let codes = race(&t, Action::CollectionCollect, bodies).await;
    assert_eq!(count(&codes, "1000"), 10, "{codes:?}");
    assert_eq!(count(&codes, "-1026"), 54, "{codes:?}");
    let c = t.ledger().contract(&cn).await.unwrap().unwrap();
    assert_eq!(c.collected_total, dec("100.00"));
    assert_eq!(c.status, ContractStatus::Settled);
    assert_eq!(c.receipts.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_callbacks_are_stored_once() {
    let t = std::sync::Arc::new(TestGateway::start().await);
    let cn = number(503);
    t.register_payout(PayoutSpec::pushed(&cn)).await;
    let body = payout_queue_payout(&cn, 2, "2024-03-02 10:00:00", json!({}));
    let codes = race(&t, Action::PayoutQueuePayout, vec![body; 64]).await;
    assert_eq!(count(&codes, "1000"), 64);
    match t.ledger().payout(&cn).await.unwrap() {
        Some(PayoutLookup::Payout(v)) => {
            assert_eq!(v.events.len(), 1);
            assert_eq!(v.status, PayoutStatus::Paid);
        }
        other => panic!("{other:?}"),
    }
}

/// SPEC 13.4: the same notification many times at once, and a conflicting repeat among them:
/// every call answers 1000, the notification is stored once and the conflict once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_finance_notifications_are_stored_once() {
    let t = std::sync::Arc::new(TestGateway::start().await);
    let mut bodies = vec![finance_notification("D-RACE", json!({"amount": 100})); CALLS];
    bodies.extend(vec![
        finance_notification("D-RACE", json!({"amount": 200}));
        16
    ]);
    let codes = race(&t, Action::FinanceNotification, bodies).await;
    assert_eq!(count(&codes, "1000"), CALLS + 16, "{codes:?}");
    let day = chrono::NaiveDate::from_ymd_opt(2023, 6, 18).unwrap();
    let listed = t.ledger().finance_day(day).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        listed.iter().filter(|n| n.conflict).count(),
        1,
        "{listed:?}"
    );
}
