//! SPEC 14.2 and 14.7: what the review's differential tests decided, row by row, on the real
//! stack (dynoxide). 14.1 and 14.3 are in `payout_queue`, `sqs` and `reconcile`, where their
//! rigs are; 14.4 in `checks`.

use serde_json::json;
use skypay::Action;
use skypay::ledger::{Payout, PayoutLookup, PayoutStatus};
use support::*;

async fn view(t: &TestGateway, control_number: &str) -> Payout {
    match t.ledger().payout(control_number).await.unwrap() {
        Some(PayoutLookup::Payout(view)) => *view,
        other => panic!("no payout {control_number}: {other:?}"),
    }
}

async fn callback(
    t: &TestGateway,
    n: &str,
    pay_type: &str,
    deal_time: &str,
    extra: serde_json::Value,
) {
    let mut body = payout_queue_payout(n, 1, deal_time, extra);
    body["payType"] = json!(pay_type);
    assert_eq!(
        t.call(Action::PayoutQueuePayout, &body).await.response_code,
        "1000"
    );
}

/// SPEC 14.2, the review's second double payout: a pushed payout (bank 5, GCash 6, Maya 8,
/// remit store 15) is never paid at a counter, in any state: payoutInquiry and payoutPayout
/// both -1012, nothing changes, and each call is a warn line counted in `anomalies`. Before,
/// an uploaded GCash payout got payoutInquiry 1000 with the borrower's identity, then
/// payoutPayout 1000, `anomaly: false`.
#[tokio::test(flavor = "current_thread")]
async fn a_pushed_payout_is_never_paid_at_a_counter_in_any_state() {
    capture_logs();
    let captured = Captured::default();
    let _guard = captured.install();
    let line_of = |n: &str, action: Action| -> serde_json::Value {
        captured
            .lines()
            .into_iter()
            .rev()
            .find(|l| l["number"] == n && l["action"] == action.name())
            .unwrap_or_else(|| panic!("no call line for {n}"))
    };
    let t = TestGateway::start().await;
    let mut serial = 0;
    for channel in [5, 6, 8, 15] {
        // (state, how it gets there: the callbacks' payTypes; "" for the push's own status)
        for (state, status, pay_types) in [
            ("PENDING", PayoutStatus::Pending, &[][..]),
            ("QUEUED", PayoutStatus::Queued, &[][..]),
            ("UPLOADED", PayoutStatus::Queued, &["1"][..]),
            ("PAID", PayoutStatus::Queued, &["1", "2"][..]),
        ] {
            serial += 1;
            let n = number(900 + serial);
            t.register_payout(PayoutSpec {
                channel,
                status,
                ..PayoutSpec::pickup(&n)
            })
            .await;
            for (i, pay_type) in pay_types.iter().enumerate() {
                callback(
                    &t,
                    &n,
                    pay_type,
                    &format!("2024-03-01 10:00:0{i}"),
                    json!({}),
                )
                .await;
            }
            let before = t.snapshot().await;
            for action in [Action::PayoutInquiry, Action::PayoutPayout] {
                let body = match action {
                    Action::PayoutInquiry => payout_inquiry(&n, json!({})),
                    _ => payout_payout(&n, json!({})),
                };
                let reply = t.call(action, &body).await;
                assert_eq!(
                    (
                        reply.response_code.as_str(),
                        reply.response_description.as_str()
                    ),
                    ("-1012", "Control number invalid or expired"),
                    "channel {channel} {state} {action:?}"
                );
                let line = line_of(&n, action);
                assert_eq!(line["level"], "WARN", "{line}");
                assert_eq!(line["anomalies"], 1, "{line}");
                assert_eq!(line["detail"], skypay::ledger::PUSHED_AT_COUNTER, "{line}");
            }
            assert_eq!(
                t.snapshot().await,
                before,
                "channel {channel} {state}: unchanged"
            );
        }
    }
    // A shop pickup is still paid, and its call line counts no anomaly.
    let pickup = number(990);
    t.register_payout(PayoutSpec::pickup(&pickup)).await;
    let reply = t
        .call(Action::PayoutPayout, &payout_payout(&pickup, json!({})))
        .await;
    assert_eq!(reply.response_code, "1000");
    let line = line_of(&pickup, Action::PayoutPayout);
    assert_eq!(line["anomalies"], 0, "{line}");
}

/// SPEC 14.7 (12.13 as written): after any orphan callback, whatever its payType (6, or a
/// malformed one), the number is reserved: registering it is 409, payoutInquiry and
/// payoutPayout answer -1012. Before, a payType-6 or malformed-payType orphan left the number
/// registrable and payable.
#[tokio::test]
async fn every_orphan_reserves_its_number() {
    let s = support::local::LocalServer::start(&[]).await;
    for (i, pay_type) in ["6", "7", "x", ""].iter().enumerate() {
        let n = number(950 + i as u64);
        let mut body = payout_queue_payout(&n, 1, "2024-03-01 10:00:00", json!({}));
        body["payType"] = json!(pay_type);
        assert_eq!(s.skypay("payoutQueuePayout", &body).await, "1000");
        let (status, answer) = s
            .post(
                "/admin/payouts",
                &json!({"controlNumber": n, "name": "Cruz,Juan", "phone": "09171234567",
                        "amount": "100", "withdrawChannel": 1}),
            )
            .await;
        assert_eq!(status, 409, "payType {pay_type:?}: {answer}");
        let inquiry = payout_inquiry(&n, json!({}));
        assert_eq!(s.skypay("payoutInquiry", &inquiry).await, "-1012");
        let pay = payout_payout(&n, json!({}));
        assert_eq!(s.skypay("payoutPayout", &pay).await, "-1012");
        let (status, orphan) = s.get(&format!("/admin/payouts/{n}")).await;
        assert_eq!((status, orphan["status"].as_str()), (200, Some("ORPHAN")));
    }
}

/// SPEC 14.7: times are real. A date-time at second 60 or in a year outside 1900-9999 is
/// refused wherever SkyPay sends one: payoutPayout's payTime (2002, nothing paid), a
/// callback's dealTime (recorded with an issue, never an instant on the ledger or the bus).
#[tokio::test]
async fn a_time_at_second_60_or_outside_1900_to_9999_is_refused() {
    let t = TestGateway::start().await;
    for (i, time) in [
        "2019-02-18 23:59:60",
        "0000-01-01 00:00:00",
        "1899-12-31 23:59:59",
        "10000-01-01 00:00:00",
    ]
    .iter()
    .enumerate()
    {
        let n = number(960 + i as u64);
        t.register_payout(PayoutSpec::pickup(&n)).await;
        let reply = t
            .call(
                Action::PayoutPayout,
                &payout_payout(&n, json!({"payTime": time})),
            )
            .await;
        assert_eq!(reply.response_code, "2002", "{time}: {reply:?}");
        assert_eq!(view(&t, &n).await.status, PayoutStatus::Queued, "{time}");

        let pushed = number(970 + i as u64);
        t.register_payout(PayoutSpec::pushed(&pushed)).await;
        callback(&t, &pushed, "1", time, json!({})).await;
        let v = view(&t, &pushed).await;
        let event = &v.events[0];
        assert_eq!(event.deal_time_at, None, "{time}: no instant");
        assert!(
            event.issues.iter().any(|i| i.starts_with("dealTime")),
            "{time}: {:?}",
            event.issues
        );
    }
    // The edges are real times.
    let n = number(980);
    t.register_payout(PayoutSpec::pickup(&n)).await;
    let reply = t
        .call(
            Action::PayoutPayout,
            &payout_payout(&n, json!({"payTime": "1900-01-01 00:00:00"})),
        )
        .await;
    assert_eq!(reply.response_code, "1000");
}

/// SPEC 14.7: REJECTED is final like CANCELLED and FAILED: a later payType 1, 3 or 4 leaves it
/// REJECTED with `anomaly`; a payType 2 still makes it PAID, with `anomaly`.
#[tokio::test]
async fn rejected_is_final_and_later_callbacks_are_anomalies() {
    let t = TestGateway::start().await;
    for (i, pay_type, status) in [
        (0, "1", PayoutStatus::Rejected),
        (1, "3", PayoutStatus::Rejected),
        (2, "4", PayoutStatus::Rejected),
        (3, "2", PayoutStatus::Paid),
    ] {
        let n = number(1000 + i);
        t.register_payout(PayoutSpec {
            status: PayoutStatus::Rejected,
            ..PayoutSpec::pushed(&n)
        })
        .await;
        // A rejection as payout-queue records it: REJECTED is one of the final outcomes.
        assert!(!view(&t, &n).await.anomaly);
        callback(&t, &n, pay_type, "2024-03-01 10:00:00", json!({})).await;
        let v = view(&t, &n).await;
        assert_eq!(v.status, status, "payType {pay_type}");
        assert!(v.anomaly, "payType {pay_type}: {v:?}");
    }
}

/// SPEC 14.7: the referenceNumber shown is the newest by dealTime among uploads (payType 1) and
/// amended successes (payType 5), whatever order they came in.
#[tokio::test]
async fn the_newest_reference_number_is_shown() {
    let t = TestGateway::start().await;
    let n = number(1010);
    t.register_payout(PayoutSpec::pushed(&n)).await;
    // Arrival order: the re-issued upload (12:00) before the first (10:00) and an amendment
    // (11:00).
    for (pay_type, time, reference) in [
        ("1", "2024-03-01 12:00:00", "MLA-REISSUED"),
        ("1", "2024-03-01 10:00:00", "MLA-FIRST"),
        ("5", "2024-03-01 11:00:00", "MLA-AMENDED"),
    ] {
        callback(
            &t,
            &n,
            pay_type,
            time,
            json!({"referenceNumber": reference}),
        )
        .await;
    }
    assert_eq!(
        view(&t, &n).await.reference_number.as_deref(),
        Some("MLA-REISSUED")
    );
}

/// SPEC 14.7: a FAILED payout keeps the first non-empty failDescription SkyPay sent.
#[tokio::test]
async fn a_failed_payout_keeps_the_first_non_empty_fail_description() {
    let t = TestGateway::start().await;
    let n = number(1020);
    t.register_payout(PayoutSpec::pushed(&n)).await;
    for (time, description) in [
        ("2024-03-01 10:00:00", ""),
        ("2024-03-01 10:00:01", "Account closed"),
        ("2024-03-01 10:00:02", "Name mismatch"),
    ] {
        callback(&t, &n, "4", time, json!({"failDescription": description})).await;
    }
    let v = view(&t, &n).await;
    assert_eq!(v.status, PayoutStatus::Failed);
    assert_eq!(v.fail_description.as_deref(), Some("Account closed"));
}

/// SPEC 14.5: a callback whose controlNumber cannot be ours (any length outside 13-15, longer
/// than DynamoDB's key limits included) is answered 1000 and stored as an orphan under a
/// bounded key, once; never a -1009 that SkyPay would retry forever.
#[tokio::test]
async fn an_over_long_callback_control_number_is_an_orphan_never_a_1009() {
    let t = TestGateway::start().await;
    for length in [16, 65, 1_025, 2_049, 40_000] {
        let n = format!("SKY01{}", "7".repeat(length - 5));
        for _ in 0..2 {
            let body = payout_queue_payout(&n, 2, "2024-03-01 10:00:00", json!({}));
            let reply = t.call(Action::PayoutQueuePayout, &body).await;
            assert_eq!(reply.response_code, "1000", "{length} characters");
        }
        match t.ledger().payout(&n).await.unwrap() {
            Some(PayoutLookup::Orphan(events)) => assert_eq!(events.len(), 1, "{length}"),
            other => panic!("{length}: {other:?}"),
        }
    }
}
