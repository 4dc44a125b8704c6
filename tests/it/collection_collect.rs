//! SPEC section 5: collectionCollect, row by row.

use serde_json::json;
use skypay::Action;
use skypay::ledger::ContractStatus;
use skypay_admin::out::ContractOut;
use support::*;

/// The contract as `GET /admin/contracts/{n}` shows it (amounts as two-decimal text).
async fn contract(t: &TestGateway, number: &str) -> ContractOut {
    let found = t.ledger().contract(number).await.unwrap();
    ContractOut::from(&found.unwrap_or_else(|| panic!("no contract {number}")))
}

async fn collect(t: &TestGateway, body: serde_json::Value) -> (String, String) {
    let reply = t.call(Action::CollectionCollect, &body).await;
    (reply.response_code, reply.response_description)
}

#[tokio::test]
async fn section_5_table() {
    let t = TestGateway::start().await;
    let open = number(10);
    t.register_contract(&open, "1000.00").await;

    // prefix wrong -> 2004
    let (code, text) = collect(
        &t,
        collection_collect("SKY0212345678", "R1", "100", json!({})),
    )
    .await;
    assert_eq!(code, "2004");
    assert_eq!(
        text,
        "Prefix of contract number is incorrect: it must start with SKY01"
    );

    // otherwise -> record the receipt and add the amount: 1000
    let (code, text) = collect(&t, collection_collect(&open, "R1", "400.50", json!({}))).await;
    assert_eq!((code.as_str(), text.as_str()), ("1000", "Success"));

    // same contract + payChannel + receiptNumber -> -1015
    let (code, text) = collect(&t, collection_collect(&open, "R1", "400.50", json!({}))).await;
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("-1015", "The transaction has been collected")
    );

    // the same receipt number on another channel is another receipt
    let (code, _) = collect(
        &t,
        collection_collect(&open, "R1", "99.50", json!({"payChannel": 3})),
    )
    .await;
    assert_eq!(code, "1000");

    // the collection that reaches amountDue is accepted...
    let (code, _) = collect(&t, collection_collect(&open, "R2", "500.00", json!({}))).await;
    assert_eq!(code, "1000");
    let c = contract(&t, &open).await;
    assert_eq!(c.status, ContractStatus::Settled);
    assert_eq!(c.collected_total, "1000.00");
    assert_eq!(c.receipts.len(), 3);

    // ... the next one gets -1026
    let (code, text) = collect(&t, collection_collect(&open, "R3", "1.00", json!({}))).await;
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("-1026", "Transactions has been paid")
    );

    // SPEC 12.5: a duplicate receipt on a settled contract is -1015, not -1026
    let (code, _) = collect(&t, collection_collect(&open, "R2", "500.00", json!({}))).await;
    assert_eq!(code, "-1015");

    // nothing the refusals sent was recorded
    let c = contract(&t, &open).await;
    assert_eq!(c.collected_total, "1000.00");
    assert_eq!(c.receipts.len(), 3);
}

#[tokio::test]
async fn an_unregistered_contract_is_recorded_anyway() {
    let t = TestGateway::start().await;
    let cn = number(11);
    for (receipt, amount) in [("A", "120.25"), ("B", "0.75")] {
        let (code, _) = collect(&t, collection_collect(&cn, receipt, amount, json!({}))).await;
        assert_eq!(code, "1000");
    }
    let c = contract(&t, &cn).await;
    assert_eq!(c.status, ContractStatus::Unregistered);
    assert_eq!(c.collected_total, "121.00");
    assert_eq!(c.amount_due, None);
}

#[tokio::test]
async fn the_seed_sample_sends_control_number_and_an_odd_phone() {
    let t = TestGateway::start().await;
    let cn = number(12);
    t.register_contract(&cn, "5000").await;
    // SkyPay's sample: `controlNumber` for the contract, a 13-digit phone, numbers as strings.
    let body = json!({
        "userName": USER,
        "action": "collectionCollect",
        "authentication": KEY,
        "controlNumber": cn,
        "amount": "3400.00",
        "phone": "6392210083333",
        "receiptNumber": "7100000123",
        "collectedTime": "2019-02-18 15:01:02",
        "payChannel": "1"
    });
    let (code, _) = collect(&t, body).await;
    assert_eq!(code, "1000");
    let c = contract(&t, &cn).await;
    let receipt = &c.receipts[0];
    assert_eq!(receipt.phone.as_str(), "6392210083333");
    assert!(!receipt.phone_valid);
    assert_eq!(receipt.amount, "3400.00");
    assert_eq!(c.status, ContractStatus::Open);
}

#[tokio::test]
async fn plus_63_phones_are_normalised_and_valid() {
    let t = TestGateway::start().await;
    let cn = number(13);
    let (code, _) = collect(
        &t,
        collection_collect(&cn, "P", "1", json!({"phone": "+639270348095"})),
    )
    .await;
    assert_eq!(code, "1000");
    assert!(contract(&t, &cn).await.receipts[0].phone_valid);
}

#[tokio::test]
async fn field_rules_refuse_with_2002_and_record_nothing() {
    let t = TestGateway::start().await;
    let cn = number(14);
    t.register_contract(&cn, "100").await;
    let other = number(15);
    let rows = [
        (
            json!({"contractNumber": "SKY011234"}),
            "contractNumber must be the prefix SKY01 followed by 8-10 digits",
        ),
        (
            json!({"contractNumber": null}),
            "contractNumber is required",
        ),
        (
            json!({"controlNumber": other}),
            "contractNumber and controlNumber are both present and differ",
        ),
        (json!({"amount": "0"}), "amount must be greater than 0"),
        (json!({"amount": -5}), "amount must be greater than 0"),
        (
            json!({"amount": "10.123"}),
            "amount must have at most 2 decimal places",
        ),
        (
            json!({"amount": "100000000.00"}),
            "amount must be at most 99999999.99",
        ),
        (
            json!({"amount": "1,000"}),
            "amount must be a plain decimal number (digits, an optional fraction, no exponent)",
        ),
        // SPEC 12.14: an amount string takes no exponent; a float is not a text field.
        (
            json!({"amount": "1e3"}),
            "amount must be a plain decimal number (digits, an optional fraction, no exponent)",
        ),
        (
            json!({"receiptNumber": 7.5}),
            "receiptNumber must be a string",
        ),
        (json!({"amount": null}), "amount is required"),
        (json!({"phone": null}), "phone is required"),
        (
            json!({"receiptNumber": "x".repeat(51)}),
            "receiptNumber must be at most 50 characters",
        ),
        (json!({"receiptNumber": null}), "receiptNumber is required"),
        (
            json!({"collectedTime": "yesterday"}),
            "collectedTime must be a real time written yyyy-MM-dd HH:mm:ss",
        ),
        (
            json!({"payChannel": 0}),
            "payChannel must be an integer from 1 to 99999",
        ),
        (
            json!({"payChannel": "-3"}),
            "payChannel must be an integer from 1 to 99999",
        ),
    ];
    for (change, description) in rows {
        let (code, text) = collect(&t, collection_collect(&cn, "R", "10", change.clone())).await;
        assert_eq!(code, "2002", "{change}");
        assert_eq!(text, description, "{change}");
    }
    let c = contract(&t, &cn).await;
    assert_eq!(c.collected_total, "0.00");
    assert!(c.receipts.is_empty());
    assert!(t.ledger().contract(&other).await.unwrap().is_none());
}

#[tokio::test]
async fn amounts_are_exact_decimals() {
    let t = TestGateway::start().await;
    let cn = number(16);
    t.register_contract(&cn, "0.30").await;
    // 0.1 + 0.2 is not 0.3 in floating point; in the ledger it is, and it settles the contract.
    let (a, _) = collect(&t, collection_collect(&cn, "a", "0.1", json!({}))).await;
    let (b, _) = collect(
        &t,
        collection_collect(&cn, "b", "0.20", json!({"amount": 0.20})),
    )
    .await;
    assert_eq!((a.as_str(), b.as_str()), ("1000", "1000"));
    let c = contract(&t, &cn).await;
    assert_eq!(c.collected_total, "0.30");
    assert_eq!(c.status, ContractStatus::Settled);
    // 10.100 is judged by value: 10.10.
    let cn2 = number(17);
    let (code, _) = collect(&t, collection_collect(&cn2, "c", "10.100", json!({}))).await;
    assert_eq!(code, "1000");
    assert_eq!(contract(&t, &cn2).await.collected_total, "10.10");
}

#[tokio::test]
async fn a_receipt_number_may_arrive_as_a_json_number() {
    let t = TestGateway::start().await;
    let cn = number(18);
    let body = collection_collect(
        &cn,
        "ignored",
        "5",
        json!({"receiptNumber": 7100000123_u64}),
    );
    let (code, _) = collect(&t, body.clone()).await;
    assert_eq!(code, "1000");
    let (code, _) = collect(&t, collection_collect(&cn, "7100000123", "5", json!({}))).await;
    assert_eq!(
        code, "-1015",
        "the number and the string are the same receipt"
    );
}

#[tokio::test]
async fn overpayment_is_accepted_and_noted() {
    let t = TestGateway::start().await;
    let cn = number(19);
    t.register_contract(&cn, "100").await;
    let (code, _) = collect(&t, collection_collect(&cn, "big", "150", json!({}))).await;
    assert_eq!(code, "1000");
    let c = contract(&t, &cn).await;
    assert_eq!(c.status, ContractStatus::Settled);
    assert_eq!(c.overpaid_by.as_deref(), Some("50.00"));
}
