//! SPEC 13.3: collectionInquiry, row by row.

use serde_json::json;
use skypay::Action;
use support::*;

const PAYER: (&str, &str, &str) = (
    "Cruz,Juan,Santos",
    "1740 Mabini St,Malate,Manila",
    "09171234567",
);

#[tokio::test]
async fn section_13_3_table() {
    let t = TestGateway::start().await;
    let open = number(1);
    let settled = number(2);
    let unregistered = number(3);
    t.register_contract_with(&open, "5000.00", Some(PAYER))
        .await;
    t.register_contract(&settled, "100").await;
    let full = collection_collect(&settled, "R-1", "100", json!({}));
    assert_eq!(
        t.call(Action::CollectionCollect, &full).await.response_code,
        "1000"
    );
    // Cash taken before the contract was registered: UNREGISTERED.
    let early = collection_collect(&unregistered, "R-2", "10", json!({}));
    assert_eq!(
        t.call(Action::CollectionCollect, &early)
            .await
            .response_code,
        "1000"
    );

    let invalid = "The contract number is invalid.";
    // (situation, body, code, description)
    let rows = [
        (
            "wrong prefix",
            collection_inquiry("SKY0212345678", "10", json!({})),
            "-1015",
            invalid,
        ),
        (
            "malformed",
            collection_inquiry("SKY011234", "10", json!({})),
            "-1015",
            invalid,
        ),
        (
            "unknown",
            collection_inquiry(&number(99), "10", json!({})),
            "-1015",
            invalid,
        ),
        (
            "UNREGISTERED",
            collection_inquiry(&unregistered, "10", json!({})),
            "-1015",
            invalid,
        ),
        (
            "SETTLED",
            collection_inquiry(&settled, "10", json!({})),
            "-1026",
            "Transactions has been paid",
        ),
        (
            "amount missing",
            collection_inquiry(&open, "10", json!({"amount": null})),
            "2002",
            "amount is required",
        ),
        (
            "amount invalid",
            collection_inquiry(&open, "10.001", json!({})),
            "2002",
            "amount must have at most 2 decimal places",
        ),
        (
            "amount with an exponent (SPEC 12.14)",
            collection_inquiry(&open, "1e3", json!({})),
            "2002",
            "amount must be a plain decimal number (digits, an optional fraction, no exponent)",
        ),
        (
            "phone missing",
            collection_inquiry(&open, "10", json!({"phone": null})),
            "2002",
            "phone is required",
        ),
        (
            "the number is checked first",
            collection_inquiry("SKY0212345678", "10", json!({"amount": null})),
            "-1015",
            invalid,
        ),
        (
            "OPEN",
            collection_inquiry(&open, "3900", json!({})),
            "1000",
            "Success",
        ),
    ];
    let before = t.snapshot().await;
    for (situation, body, code, description) in rows {
        let (reply, extra) = t.call_reply(Action::CollectionInquiry, &body).await;
        assert_eq!(reply.response_code, code, "{situation}");
        assert_eq!(reply.response_description, description, "{situation}");
        if code != "1000" {
            assert!(
                extra.is_empty(),
                "{situation}: a refusal is the bare envelope"
            );
        }
    }
    // The inquiry writes nothing.
    assert_eq!(t.snapshot().await, before);
}

/// A 1000 carries the amount asked and the payer SkyPay keeps for the regulator.
#[tokio::test]
async fn a_1000_carries_the_amount_and_the_payer() {
    let t = TestGateway::start().await;
    let cn = number(4);
    t.register_contract_with(&cn, "5000.00", Some(PAYER)).await;
    let (reply, extra) = t
        .call_reply(
            Action::CollectionInquiry,
            &collection_inquiry(&cn, "3900.5", json!({})),
        )
        .await;
    assert_eq!(reply.response_code, "1000");
    let expected: Vec<(String, String)> = [
        ("amount", "3900.50"),
        ("payerName", PAYER.0),
        ("payerAddress", PAYER.1),
        ("payerPhone", PAYER.2),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(extra, expected);

    // Registered without a payer: the keys are there, `""`.
    let bare = number(5);
    t.register_contract(&bare, "100").await;
    let (_, extra) = t
        .call_reply(
            Action::CollectionInquiry,
            &collection_inquiry(&bare, "100", json!({})),
        )
        .await;
    let values: Vec<&str> = extra.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["100.00", "", "", ""]);
}

/// SkyPay's own sample: the action spelled `collectionIcnquiry`, the number sent as
/// `controlNumber`, a 13-digit 63-phone. Accepted; the phone is informational.
#[tokio::test]
async fn skypays_sample_spelling_number_and_phone_are_accepted() {
    let t = TestGateway::start().await;
    let cn = number(6);
    t.register_contract_with(&cn, "5000", Some(PAYER)).await;
    let sample = collection_inquiry(
        &cn,
        "3900.00",
        json!({
            "action": "collectionIcnquiry",
            "contractNumber": null,
            "controlNumber": cn,
            "phone": "6392210083333",
        }),
    );
    assert_eq!(
        t.call_reply(Action::CollectionInquiry, &sample)
            .await
            .0
            .response_code,
        "1000"
    );
    // The misspelling is accepted on this endpoint only (SPEC 13.3).
    let elsewhere = collection_collect(&cn, "R", "1", json!({"action": "collectionIcnquiry"}));
    assert_eq!(
        t.call(Action::CollectionCollect, &elsewhere)
            .await
            .response_code,
        "2003"
    );
    // Both number keys, different values: 2002 (SPEC 12.6).
    let both = collection_inquiry(&cn, "1", json!({"controlNumber": number(7)}));
    assert_eq!(
        t.call(Action::CollectionInquiry, &both).await.response_code,
        "2002"
    );
}

/// More than what is still due is accepted (SPEC 12.9, 13.3): the cashier may take it.
#[tokio::test]
async fn an_amount_above_what_is_due_is_accepted() {
    let t = TestGateway::start().await;
    let cn = number(8);
    t.register_contract(&cn, "100").await;
    let part = collection_collect(&cn, "R-1", "60", json!({}));
    assert_eq!(
        t.call(Action::CollectionCollect, &part).await.response_code,
        "1000"
    );
    let (reply, extra) = t
        .call_reply(
            Action::CollectionInquiry,
            &collection_inquiry(&cn, "50", json!({})),
        )
        .await;
    assert_eq!(reply.response_code, "1000");
    assert_eq!(extra[0], ("amount".to_owned(), "50.00".to_owned()));
}
