//! SPEC section 6 and decision 12.4: status callbacks for pushed payouts.

use itertools::Itertools;
use serde_json::{Value, json};
use skypay::Action;
use skypay::ledger::{Payout, PayoutLookup, PayoutStatus};
use support::*;

async fn view(t: &TestGateway, control_number: &str) -> Payout {
    match t.ledger().payout(control_number).await.unwrap() {
        Some(PayoutLookup::Payout(view)) => *view,
        other => panic!("no payout {control_number}: {other:?}"),
    }
}

async fn notify(t: &TestGateway, body: &Value) {
    let reply = t.call(Action::PayoutQueuePayout, body).await;
    assert_eq!(reply.response_code, "1000", "{body}");
    assert_eq!(reply.response_description, "Success");
}

/// The event of each payType, with the fields SkyPay sends for it.
fn event_of(control_number: &str, pay_type: u32) -> Value {
    let deal_time = format!("2024-03-0{pay_type} 10:00:00");
    let extra = match pay_type {
        1 => json!({"referenceNumber": "MLA001041380755361119"}),
        4 => json!({"failDescription": "Account closed"}),
        5 => json!({"referenceNumber": "MLA00AMENDED0000000001"}),
        6 => json!({"failDescription": "Amendment refused"}),
        _ => json!({}),
    };
    payout_queue_payout(control_number, pay_type, &deal_time, extra)
}

#[tokio::test]
async fn status_moves_forward_and_payout_payout_sees_it() {
    let t = TestGateway::start().await;
    let cn = number(20);
    t.register_payout(PayoutSpec::pushed(&cn)).await;
    assert_eq!(view(&t, &cn).await.status, PayoutStatus::Pending);
    notify(&t, &event_of(&cn, 1)).await;
    let uploaded = view(&t, &cn).await;
    assert_eq!(uploaded.status, PayoutStatus::Uploaded);
    assert_eq!(
        uploaded.reference_number.as_deref(),
        Some("MLA001041380755361119")
    );
    notify(&t, &event_of(&cn, 2)).await;
    assert_eq!(view(&t, &cn).await.status, PayoutStatus::Paid);
    // Paid through the callback: a counter's payoutPayout is refused, -1012 as for every
    // pushed payout (SPEC 14.2), and a shop pickup paid by a callback answers -1026.
    let reply = t
        .call(Action::PayoutPayout, &payout_payout(&cn, json!({})))
        .await;
    assert_eq!(reply.response_code, "-1012");
    let pickup = number(22);
    t.register_payout(PayoutSpec::pickup(&pickup)).await;
    notify(&t, &event_of(&pickup, 2)).await;
    let reply = t
        .call(Action::PayoutPayout, &payout_payout(&pickup, json!({})))
        .await;
    assert_eq!(reply.response_code, "-1026");
}

#[tokio::test]
async fn each_event_is_stored_once_and_a_duplicate_still_answers_1000() {
    let t = TestGateway::start().await;
    let cn = number(21);
    t.register_payout(PayoutSpec::pushed(&cn)).await;
    for _ in 0..3 {
        notify(&t, &event_of(&cn, 1)).await;
    }
    // Same payType, another dealTime: another event.
    notify(
        &t,
        &payout_queue_payout(&cn, 1, "2024-03-01 10:00:01", json!({})),
    )
    .await;
    let v = view(&t, &cn).await;
    assert_eq!(v.events.len(), 2);
    assert!(v.events.iter().all(|e| e.applied));
}

#[tokio::test]
async fn cancelled_and_failed_are_final_and_the_first_wins() {
    let t = TestGateway::start().await;
    let (a, b) = (number(22), number(23));
    for cn in [&a, &b] {
        t.register_payout(PayoutSpec::pushed(cn)).await;
    }
    notify(&t, &event_of(&a, 3)).await;
    notify(&t, &event_of(&a, 4)).await;
    notify(&t, &event_of(&b, 4)).await;
    notify(&t, &event_of(&b, 3)).await;
    notify(&t, &event_of(&b, 1)).await;
    let (va, vb) = (view(&t, &a).await, view(&t, &b).await);
    assert_eq!((va.status, va.anomaly), (PayoutStatus::Cancelled, true));
    assert_eq!((vb.status, vb.anomaly), (PayoutStatus::Failed, true));
    assert_eq!(vb.fail_description.as_deref(), Some("Account closed"));
}

#[tokio::test]
async fn paid_overrides_a_closing_and_is_flagged_in_either_order() {
    let t = TestGateway::start().await;
    let (a, b) = (number(24), number(25));
    for cn in [&a, &b] {
        t.register_payout(PayoutSpec::pushed(cn)).await;
    }
    notify(&t, &event_of(&a, 3)).await;
    notify(&t, &event_of(&a, 2)).await;
    notify(&t, &event_of(&b, 2)).await;
    notify(&t, &event_of(&b, 3)).await;
    for cn in [&a, &b] {
        let v = view(&t, cn).await;
        assert_eq!((v.status, v.anomaly), (PayoutStatus::Paid, true), "{cn}");
    }
}

#[tokio::test]
async fn amended_success_stores_the_new_reference_and_6_is_recorded_only() {
    let t = TestGateway::start().await;
    let cn = number(26);
    t.register_payout(PayoutSpec::pushed(&cn)).await;
    notify(&t, &event_of(&cn, 5)).await;
    notify(&t, &event_of(&cn, 1)).await;
    notify(&t, &event_of(&cn, 6)).await;
    let v = view(&t, &cn).await;
    assert_eq!(
        v.reference_number.as_deref(),
        Some("MLA00AMENDED0000000001")
    );
    assert_eq!(v.status, PayoutStatus::Uploaded);
    let six = v.events.iter().find(|e| e.pay_type == "6").unwrap();
    assert!(!six.applied);
}

#[tokio::test]
async fn malformed_and_orphan_events_are_stored_with_the_reason_and_answered_1000() {
    let t = TestGateway::start().await;
    let cn = number(27);
    t.register_payout(PayoutSpec::pushed(&cn)).await;
    // Unknown payType: stored, not applied.
    notify(
        &t,
        &payout_queue_payout(&cn, 9, "2024-03-01 10:00:00", json!({})),
    )
    .await;
    // Unparseable dealTime: still applied (SPEC 12.4).
    notify(&t, &payout_queue_payout(&cn, 1, "03/01/2024", json!({}))).await;
    let v = view(&t, &cn).await;
    assert_eq!(v.status, PayoutStatus::Uploaded);
    let nine = v.events.iter().find(|e| e.pay_type == "9").unwrap();
    assert!(!nine.applied);
    assert_eq!(nine.issues, vec!["payType must be an integer from 1 to 6"]);
    let odd_time = v
        .events
        .iter()
        .find(|e| e.deal_time == "03/01/2024")
        .unwrap();
    assert!(odd_time.applied);
    assert_eq!(
        odd_time.issues,
        vec!["dealTime must be a real time written yyyy-MM-dd HH:mm:ss"]
    );

    // An unknown control number: an orphan event.
    let orphan = number(28);
    notify(&t, &event_of(&orphan, 2)).await;
    match t.ledger().payout(&orphan).await.unwrap() {
        Some(PayoutLookup::Orphan(events)) => assert_eq!(events.len(), 1),
        other => panic!("expected an orphan: {other:?}"),
    }
    // The seed's own sample (another partner's prefix) and an event with no number at all.
    notify(
        &t,
        &payout_queue_payout("SK99123456789", 1, "2018-08-07 11:58:33", json!({})),
    )
    .await;
    notify(
        &t,
        &payout_queue_payout("", 1, "2018-08-07 11:58:33", json!({"controlNumber": null})),
    )
    .await;
    match t.ledger().payout("SK99123456789").await.unwrap() {
        Some(PayoutLookup::Orphan(events)) => {
            assert_eq!(
                events[0].issues,
                vec!["controlNumber does not carry our prefix"]
            );
        }
        other => panic!("expected the stored event: {other:?}"),
    }
}

#[tokio::test]
async fn refusals_before_the_notification_rule() {
    let t = TestGateway::start().await;
    let cn = number(29);
    t.register_payout(PayoutSpec::pushed(&cn)).await;
    let wrong_key = payout_queue_payout(
        &cn,
        1,
        "2024-03-01 10:00:00",
        json!({"authentication": "nope"}),
    );
    assert_eq!(
        t.call(Action::PayoutQueuePayout, &wrong_key)
            .await
            .response_code,
        "-1001"
    );
    let wrong_action = payout_queue_payout(
        &cn,
        1,
        "2024-03-01 10:00:00",
        json!({"action": "payoutPayout"}),
    );
    assert_eq!(
        t.call(Action::PayoutQueuePayout, &wrong_action)
            .await
            .response_code,
        "2003"
    );
    assert_eq!(
        t.call_raw(Action::PayoutQueuePayout, b"payType=1")
            .await
            .response_code,
        "2001"
    );
    assert!(view(&t, &cn).await.events.is_empty());
}

/// The final state a set of callbacks leaves, whatever order they come in.
#[derive(Debug, PartialEq, Eq)]
struct Final {
    status: PayoutStatus,
    anomaly: bool,
    reference_number: Option<String>,
    fail_description: Option<String>,
    events: usize,
}

async fn final_state(t: &TestGateway, cn: &str) -> Final {
    let v = view(t, cn).await;
    Final {
        status: v.status,
        anomaly: v.anomaly,
        reference_number: v.reference_number,
        fail_description: v.fail_description,
        events: v.events.len(),
    }
}

/// Every permutation of `pay_types`, each with one event delivered twice (at a rotating place),
/// on a payout of its own; all end in `expected`. The permutations run side by side.
async fn every_order_ends_in(pay_types: &[u32], expected: Final) {
    let t = std::sync::Arc::new(TestGateway::start().await);
    let all = pay_types.iter().copied().permutations(pay_types.len());
    // moto_server copies every table on each transaction and its memory grows with the
    // table: there, an even sample of about 30 orders (every order on the embedded run).
    let stride = if external_backend() {
        (1..=pay_types.len()).product::<usize>().div_ceil(30)
    } else {
        1
    };
    let orders: Vec<Vec<u32>> = all.step_by(stride).collect();
    // A few at a time. moto_server restores a copy of the whole table when any transaction is
    // cancelled, losing concurrent writes (docs/decisions.md): one at a time there.
    let parallel = if external_backend() { 1 } else { 4 };
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(parallel));
    let runs: Vec<_> = orders
        .into_iter()
        .enumerate()
        .map(|(i, order)| {
            let t = t.clone();
            let slots = slots.clone();
            tokio::spawn(async move {
                let _slot = slots.acquire().await.unwrap();
                let cn = number(1_000_000 + i as u64);
                t.register_payout(PayoutSpec::pushed(&cn)).await;
                let mut deliveries = order.clone();
                let repeat = order[i % order.len()];
                deliveries.insert((i * 7) % (deliveries.len() + 1), repeat);
                for pay_type in deliveries {
                    notify(&t, &event_of(&cn, pay_type)).await;
                }
                (order, final_state(&t, &cn).await)
            })
        })
        .collect();
    for run in runs {
        let (order, state) = run.await.unwrap();
        assert_eq!(state, expected, "order {order:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_permutation_of_pay_types_1_to_6_ends_in_the_same_state() {
    every_order_ends_in(
        &[1, 2, 3, 4, 5, 6],
        Final {
            status: PayoutStatus::Paid,
            anomaly: true,
            reference_number: Some("MLA00AMENDED0000000001".into()),
            fail_description: Some("Account closed".into()),
            events: 6,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_permutation_without_a_payment_ends_in_the_same_state() {
    every_order_ends_in(
        &[1, 3, 5, 6],
        Final {
            status: PayoutStatus::Cancelled,
            anomaly: false,
            reference_number: Some("MLA00AMENDED0000000001".into()),
            fail_description: None,
            events: 4,
        },
    )
    .await;
    every_order_ends_in(
        &[1, 4, 5],
        Final {
            status: PayoutStatus::Failed,
            anomaly: false,
            reference_number: Some("MLA00AMENDED0000000001".into()),
            fail_description: Some("Account closed".into()),
            events: 3,
        },
    )
    .await;
}
