//! SPEC section 4: payoutPayout, row by row.

use chrono::Duration;
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

async fn event(t: &TestGateway, control_number: &str, pay_type: u32) {
    let body = payout_queue_payout(control_number, pay_type, "2019-02-18 10:00:00", json!({}));
    assert_eq!(
        t.call(Action::PayoutQueuePayout, &body).await.response_code,
        "1000"
    );
}

#[tokio::test]
async fn section_4_table() {
    let t = TestGateway::start().await;
    let queued = number(1);
    let uploaded = number(2);
    let pending = number(3);
    let cancelled = number(4);
    let failed = number(5);
    let rejected = number(6);
    let expired = number(7);
    let paid = number(8);
    t.register_payout(PayoutSpec::pickup(&queued)).await;
    // A shop pickup SkyPay reports uploaded: still payable at a counter. (A pushed payout is
    // never: SPEC 14.2, tests/it/money_safety.rs.)
    t.register_payout(PayoutSpec::pickup(&uploaded)).await;
    event(&t, &uploaded, 1).await;
    t.register_payout(PayoutSpec::pushed(&pending)).await;
    t.register_payout(PayoutSpec::pushed(&cancelled)).await;
    event(&t, &cancelled, 3).await;
    t.register_payout(PayoutSpec::pushed(&failed)).await;
    event(&t, &failed, 4).await;
    t.register_payout(PayoutSpec {
        status: PayoutStatus::Rejected,
        ..PayoutSpec::pushed(&rejected)
    })
    .await;
    t.register_payout(PayoutSpec {
        expires_in: Duration::hours(-1),
        ..PayoutSpec::pickup(&expired)
    })
    .await;
    t.register_payout(PayoutSpec::pickup(&paid)).await;
    let first = t
        .call(Action::PayoutPayout, &payout_payout(&paid, json!({})))
        .await;
    assert_eq!(first.response_code, "1000");

    // (situation, controlNumber, code, description)
    let rows = [
        (
            "first 5 chars are not our prefix",
            "SKY0212345678".to_owned(),
            "-1014",
            "Prefix of Control number is incorrect.",
        ),
        (
            "lowercase prefix",
            "sky0112345678".to_owned(),
            "-1014",
            "Prefix of Control number is incorrect.",
        ),
        (
            "rest is 7 digits",
            "SKY011234567".to_owned(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "length 16",
            "SKY0112345678901".to_owned(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "rest not digits",
            "SKY01ABCDEFGH".to_owned(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "no such payout",
            number(99),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "PENDING",
            pending.clone(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "CANCELLED",
            cancelled.clone(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "FAILED",
            failed.clone(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "REJECTED",
            rejected.clone(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "past expiresAt",
            expired.clone(),
            "-1012",
            "Control number invalid or expired",
        ),
        (
            "already PAID",
            paid.clone(),
            "-1026",
            "Transactions has been paid (paid 2019-02-18 14:59:33 on channel 1)",
        ),
        ("QUEUED and valid", queued.clone(), "1000", "Success"),
        ("UPLOADED and valid", uploaded.clone(), "1000", "Success"),
    ];
    for (situation, control_number, code, description) in rows {
        let reply = t
            .call(
                Action::PayoutPayout,
                &payout_payout(&control_number, json!({})),
            )
            .await;
        assert_eq!(reply.response_code, code, "{situation}");
        assert_eq!(reply.response_description, description, "{situation}");
    }

    // What the rows did to the ledger: only the payable ones changed.
    assert_eq!(view(&t, &queued).await.status, PayoutStatus::Paid);
    assert_eq!(view(&t, &uploaded).await.status, PayoutStatus::Paid);
    assert_eq!(view(&t, &pending).await.status, PayoutStatus::Pending);
    assert_eq!(view(&t, &cancelled).await.status, PayoutStatus::Cancelled);
    assert_eq!(view(&t, &failed).await.status, PayoutStatus::Failed);
    assert_eq!(view(&t, &rejected).await.status, PayoutStatus::Rejected);
    assert_eq!(view(&t, &expired).await.status, PayoutStatus::Queued);
    assert!(t.ledger().payout(&number(99)).await.unwrap().is_none());
}

#[tokio::test]
async fn a_byte_identical_repeat_is_already_paid() {
    let t = TestGateway::start().await;
    let cn = number(42);
    t.register_payout(PayoutSpec::pickup(&cn)).await;
    let body = payout_payout(
        &cn,
        json!({"withdrawChannel": 9, "payTime": "2024-05-01 09:30:00"}),
    );
    assert_eq!(
        t.call(Action::PayoutPayout, &body).await.response_code,
        "1000"
    );
    let again = t.call(Action::PayoutPayout, &body).await;
    assert_eq!(again.response_code, "-1026");
    assert_eq!(
        again.response_description,
        "Transactions has been paid (paid 2024-05-01 09:30:00 on channel 9)"
    );
    let paid = view(&t, &cn).await;
    assert_eq!(paid.status, PayoutStatus::Paid);
    assert_eq!(paid.pay_time.as_deref(), Some("2024-05-01 09:30:00"));
    assert_eq!(paid.paid_channel, Some(9));
    assert!(!paid.anomaly);
}

#[tokio::test]
async fn field_rules_refuse_with_2002_and_change_nothing() {
    let t = TestGateway::start().await;
    let cn = number(7);
    t.register_payout(PayoutSpec::pickup(&cn)).await;
    let rows = [
        (
            json!({"withdrawChannel": null}),
            "withdrawChannel is required",
        ),
        (
            json!({"withdrawChannel": "0"}),
            "withdrawChannel must be an integer from 1 to 99999",
        ),
        (
            json!({"withdrawChannel": 100000}),
            "withdrawChannel must be an integer from 1 to 99999",
        ),
        (
            json!({"withdrawChannel": 1.0}),
            "withdrawChannel must be an integer from 1 to 99999",
        ),
        (
            json!({"withdrawChannel": "one"}),
            "withdrawChannel must be an integer from 1 to 99999",
        ),
        (
            json!({"withdrawChannel": true}),
            "withdrawChannel must be an integer from 1 to 99999",
        ),
        (json!({"payTime": null}), "payTime is required"),
        (json!({"payTime": ""}), "payTime is required"),
        (
            json!({"payTime": "2019-02-30 10:00:00"}),
            "payTime must be a real time written yyyy-MM-dd HH:mm:ss",
        ),
        (
            json!({"payTime": "2019-02-18T14:59:33"}),
            "payTime must be a real time written yyyy-MM-dd HH:mm:ss",
        ),
        (json!({"controlNumber": null}), "controlNumber is required"),
        (
            json!({"controlNumber": ["SKY0112345678"]}),
            "controlNumber must be a string",
        ),
    ];
    for (change, description) in rows {
        let reply = t
            .call(Action::PayoutPayout, &payout_payout(&cn, change.clone()))
            .await;
        assert_eq!(reply.response_code, "2002", "{change}");
        assert_eq!(reply.response_description, description, "{change}");
    }
    assert_eq!(view(&t, &cn).await.status, PayoutStatus::Queued);
}

#[tokio::test]
async fn numbers_as_strings_or_numbers_are_the_same_call() {
    let t = TestGateway::start().await;
    for (i, channel) in [json!("1"), json!(1), json!("00001")]
        .into_iter()
        .enumerate()
    {
        let cn = number(100 + i as u64);
        t.register_payout(PayoutSpec::pickup(&cn)).await;
        let reply = t
            .call(
                Action::PayoutPayout,
                &payout_payout(&cn, json!({"withdrawChannel": channel})),
            )
            .await;
        assert_eq!(reply.response_code, "1000", "{channel}");
        assert_eq!(view(&t, &cn).await.paid_channel, Some(1));
    }
}
