//! SPEC 13.2: payoutInquiry, row by row, and the rule that its code predicts payoutPayout's.

use chrono::Duration;
use serde_json::{Value, json};
use skypay::Action;
use skypay::ledger::PayoutStatus;
use support::*;

/// The keys a 1000 carries after the envelope's three, in order (SPEC 13.2).
const DETAIL_KEYS: [&str; 14] = [
    "controlNumber",
    "referenceNo",
    "sender",
    "senderAddress",
    "name",
    "birthday",
    "identificationId",
    "idType",
    "phone",
    "idcardPicType",
    "idcardPicUrl",
    "contractNumber",
    "location",
    "amount",
];

async fn event(t: &TestGateway, control_number: &str, pay_type: u32, extra: Value) {
    callback(t, false, control_number, pay_type, extra).await;
}

async fn callback(t: &TestGateway, encrypted: bool, number: &str, pay_type: u32, extra: Value) {
    let body = payout_queue_payout(number, pay_type, "2019-02-18 10:00:00", extra);
    let code = sealed_call(t, encrypted, Action::PayoutQueuePayout, body).await;
    assert_eq!(code, "1000");
}

/// Every payout state of SPEC 4 and 12.13, each under its own number, registered the way the
/// loan system and SkyPay's callbacks (in clear or encrypted) leave it. Returns (state,
/// controlNumber).
async fn every_state(t: &TestGateway, encrypted: bool) -> Vec<(&'static str, String)> {
    let states = vec![
        ("unknown", number(99)),
        ("malformed", "SKY0112345".to_owned()),
        ("wrong prefix", "SKY0212345678".to_owned()),
        ("PENDING", number(1)),
        ("QUEUED", number(2)),
        ("UPLOADED", number(3)),
        ("PAID", number(4)),
        ("CANCELLED", number(5)),
        ("FAILED", number(6)),
        ("REJECTED", number(7)),
        ("expired", number(8)),
        ("ORPHAN", number(9)),
    ];
    t.register_payout(PayoutSpec::pushed(&number(1))).await;
    t.register_payout(PayoutSpec::pickup(&number(2))).await;
    // A shop pickup SkyPay reports uploaded (a pushed one is never payable at a counter,
    // SPEC 14.2: tests/it/money_safety.rs).
    t.register_payout(PayoutSpec::pickup(&number(3))).await;
    callback(t, encrypted, &number(3), 1, json!({})).await;
    t.register_payout(PayoutSpec::pickup(&number(4))).await;
    let paid = sealed_call(
        t,
        encrypted,
        Action::PayoutPayout,
        payout_payout(&number(4), json!({})),
    )
    .await;
    assert_eq!(paid, "1000");
    t.register_payout(PayoutSpec::pushed(&number(5))).await;
    callback(t, encrypted, &number(5), 3, json!({})).await;
    t.register_payout(PayoutSpec::pushed(&number(6))).await;
    callback(t, encrypted, &number(6), 4, json!({})).await;
    t.register_payout(PayoutSpec {
        status: PayoutStatus::Rejected,
        ..PayoutSpec::pushed(&number(7))
    })
    .await;
    t.register_payout(PayoutSpec {
        expires_in: Duration::hours(-1),
        ..PayoutSpec::pickup(&number(8))
    })
    .await;
    // Orphan callbacks, a "paid" one among them, for a number we never registered.
    callback(t, encrypted, &number(9), 1, json!({})).await;
    callback(t, encrypted, &number(9), 2, json!({})).await;
    states
}

#[tokio::test]
async fn section_13_2_table() {
    let t = TestGateway::start().await;
    let states = every_state(&t, false).await;
    // (state, code, description)
    let rows = [
        (
            "wrong prefix",
            "-1014",
            "Prefix of Control number is incorrect.",
        ),
        ("malformed", "-1012", "Control number invalid or expired"),
        ("unknown", "-1012", "Control number invalid or expired"),
        ("PENDING", "-1012", "Control number invalid or expired"),
        ("CANCELLED", "-1012", "Control number invalid or expired"),
        ("FAILED", "-1012", "Control number invalid or expired"),
        ("REJECTED", "-1012", "Control number invalid or expired"),
        ("expired", "-1012", "Control number invalid or expired"),
        ("ORPHAN", "-1012", "Control number invalid or expired"),
        (
            "PAID",
            "-1026",
            "Transactions has been paid (paid 2019-02-18 14:59:33 on channel 1)",
        ),
        ("QUEUED", "1000", "Success"),
        ("UPLOADED", "1000", "Success"),
    ];
    let before = t.snapshot().await;
    for (state, code, description) in rows {
        let number = &states.iter().find(|(s, _)| *s == state).unwrap().1;
        let (reply, extra) = t
            .call_reply(Action::PayoutInquiry, &payout_inquiry(number, json!({})))
            .await;
        assert_eq!(reply.response_code, code, "{state}");
        assert_eq!(reply.response_description, description, "{state}");
        if code == "1000" {
            let keys: Vec<&str> = extra.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, DETAIL_KEYS, "{state}: every key, in order");
        } else {
            assert!(extra.is_empty(), "{state}: a refusal is the bare envelope");
        }
    }
    // The inquiry writes nothing.
    assert_eq!(t.snapshot().await, before);
}

/// A 1000 means that a payoutPayout arriving at that moment would be paid: in every state,
/// the inquiry's code is the payment's, and only where it said 1000 is the payout paid.
#[tokio::test]
async fn the_inquiry_predicts_the_payment_in_every_state() {
    for encrypted in [false, true] {
        let t = if encrypted {
            TestGateway::start_with(&[
                ("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret"),
                ("SKYPAY_ENCRYPTION", "required"),
            ])
            .await
        } else {
            TestGateway::start().await
        };
        let states = every_state(&t, encrypted).await;
        for (state, number) in &states {
            let inquiry = sealed_call(
                &t,
                encrypted,
                Action::PayoutInquiry,
                payout_inquiry(number, json!({})),
            )
            .await;
            let payment = sealed_call(
                &t,
                encrypted,
                Action::PayoutPayout,
                payout_payout(number, json!({})),
            )
            .await;
            assert_eq!(inquiry, payment, "{state} (encrypted: {encrypted})");
            // And once paid, the inquiry says so.
            let again = sealed_call(
                &t,
                encrypted,
                Action::PayoutInquiry,
                payout_inquiry(number, json!({})),
            )
            .await;
            if payment == "1000" {
                assert_eq!(again, "-1026", "{state}");
            } else {
                assert_eq!(again, inquiry, "{state}: a refusal changed nothing");
            }
        }
    }
}

/// A call, in clear or encrypted; returns the responseCode (the reply decrypted as needed).
async fn sealed_call(t: &TestGateway, encrypted: bool, action: Action, body: Value) -> String {
    if !encrypted {
        return t.call_reply(action, &body).await.0.response_code;
    }
    let key = skypay::protocol::crypto::derive_key(b"SkyPay-Partner-Secret");
    let reply = t
        .handle(
            action,
            skypay::protocol::crypto::encrypt(&key, body.to_string().as_bytes()).as_bytes(),
        )
        .await;
    assert_eq!(reply.content_type, "text/plain");
    let plain = skypay::protocol::crypto::decrypt(&key, &reply.body).expect("an encrypted reply");
    parse_reply(std::str::from_utf8(&plain).unwrap())
        .0
        .response_code
}

/// The details come from the instruction (SPEC 13.2), the sender from the configuration, the
/// reference from the callbacks; every value a string, `""` when unknown.
#[tokio::test]
async fn a_1000_carries_the_instruction_the_sender_and_the_reference() {
    let t = TestGateway::start_with(&[
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_SENDER_ADDRESS", "1740 Mabini St,Malate,Manila"),
    ])
    .await;
    let full = number(11);
    t.register_instruction(&json!({
        "controlNumber": full,
        "name": "Cruz,Juan,Santos",
        "phone": "+639171234567",
        "amount": "3900.5",
        "withdrawChannel": 9,
        "birthday": "1991-10-02",
        "identificationId": "123456789011",
        "idType": "SSS",
        "idcardPicType": "png",
        "idcardPicUrl": "https://lender.example/id/11.png",
        "contractNumber": number(12),
        "location": "Quezon City",
    }))
    .await;
    let (reply, extra) = t
        .call_reply(Action::PayoutInquiry, &payout_inquiry(&full, json!({})))
        .await;
    assert_eq!(reply.response_code, "1000");
    let expected: Vec<(String, String)> = [
        ("controlNumber", full.as_str()),
        ("referenceNo", ""),
        ("sender", "Lender App"),
        ("senderAddress", "1740 Mabini St,Malate,Manila"),
        ("name", "Cruz,Juan,Santos"),
        ("birthday", "1991-10-02"),
        ("identificationId", "123456789011"),
        ("idType", "SSS"),
        ("phone", "09171234567"),
        ("idcardPicType", "png"),
        ("idcardPicUrl", "https://lender.example/id/11.png"),
        ("contractNumber", number(12).as_str()),
        ("location", "Quezon City"),
        ("amount", "3900.50"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(extra, expected);

    // A bare instruction and no sender configured: every key still there, `""`.
    let bare = TestGateway::start().await;
    let cn = number(13);
    bare.register_instruction(&json!({
        "controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567", "amount": "100",
        "withdrawChannel": 1
    }))
    .await;
    let (_, extra) = bare
        .call_reply(Action::PayoutInquiry, &payout_inquiry(&cn, json!({})))
        .await;
    let empty: Vec<&str> = extra
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        empty,
        [
            "referenceNo",
            "sender",
            "senderAddress",
            "birthday",
            "identificationId",
            "idType",
            "idcardPicType",
            "idcardPicUrl",
            "contractNumber",
            "location"
        ]
    );

    // The referenceNumber an upload (payType 1) carried, then an amendment's (payType 5).
    let pushed = number(14);
    t.register_payout(PayoutSpec::pickup(&pushed)).await;
    event(&t, &pushed, 1, json!({"referenceNumber": "MLA001"})).await;
    let reference = |extra: &[(String, String)]| {
        extra
            .iter()
            .find(|(k, _)| k == "referenceNo")
            .map(|(_, v)| v.clone())
    };
    let (_, extra) = t
        .call_reply(Action::PayoutInquiry, &payout_inquiry(&pushed, json!({})))
        .await;
    assert_eq!(reference(&extra).as_deref(), Some("MLA001"));
    let amended = payout_queue_payout(
        &pushed,
        5,
        "2019-02-18 12:00:00",
        json!({"referenceNumber": "MLA002"}),
    );
    t.call(Action::PayoutQueuePayout, &amended).await;
    let (_, extra) = t
        .call_reply(Action::PayoutInquiry, &payout_inquiry(&pushed, json!({})))
        .await;
    assert_eq!(reference(&extra).as_deref(), Some("MLA002"));
}

/// The field rules before the ledger: the same as payoutPayout's control number.
#[tokio::test]
async fn refusals_before_the_ledger() {
    let t = TestGateway::start().await;
    let rows = [
        (json!({"controlNumber": null}), "2002"),
        (json!({"controlNumber": true}), "2002"),
        (json!({"controlNumber": 12345678901_u64}), "-1014"),
        (json!({"controlNumber": "SKY01123456789012"}), "-1012"),
        (json!({"action": "payoutPayout"}), "2003"),
        (json!({"authentication": "wrong"}), "-1001"),
    ];
    for (change, code) in rows {
        let reply = t
            .call(
                Action::PayoutInquiry,
                &payout_inquiry(&number(1), change.clone()),
            )
            .await;
        assert_eq!(reply.response_code, code, "{change}");
    }
}
