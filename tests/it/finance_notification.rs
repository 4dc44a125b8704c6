//! SPEC 13.4: financeNotification. A notification: 1000 once authenticated, stored once under
//! its key, conflicts kept, malformed ones stored with the reason, listed by Manila day.

use chrono::NaiveDate;
use serde_json::{Value, json};
use skypay::Action;
use skypay_admin::out::FinanceOut;
use support::*;

/// A day's notifications as `GET /admin/finance` lists them.
async fn day(t: &TestGateway, date: &str) -> Vec<FinanceOut> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let listed = t.ledger().finance_day(date).await.unwrap();
    listed.iter().map(FinanceOut::from).collect()
}

async fn notify(t: &TestGateway, body: &Value) {
    let reply = t.call(Action::FinanceNotification, body).await;
    assert_eq!(reply.response_code, "1000", "{body}");
    assert_eq!(reply.response_description, "Success");
}

#[tokio::test]
async fn skypays_sample_is_stored_once() {
    let t = TestGateway::start().await;
    let sample = finance_notification("D-20231204-001", json!({}));
    notify(&t, &sample).await;
    // A repeat, even under the other live key: a no-op that still answers 1000.
    notify(&t, &sample).await;
    notify(
        &t,
        &finance_notification("D-20231204-001", json!({"authentication": NEW_KEY})),
    )
    .await;
    // The same amount written as a string is the same amount.
    notify(
        &t,
        &finance_notification("D-20231204-001", json!({"amount": "12000000.00"})),
    )
    .await;
    let listed = day(&t, "2023-06-18").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let n = &listed[0];
    assert_eq!(n.reference_number.as_deref(), Some("D-20231204-001"));
    assert_eq!(n.statement_type.as_deref(), Some("1"));
    assert_eq!(n.sign_type.as_deref(), Some("recharge"));
    assert_eq!(n.amount.as_deref(), Some("12000000.00"));
    assert_eq!(n.currency.as_deref(), Some("PHP"));
    assert_eq!(n.transction_date.as_deref(), Some("2023-06-18 17:52:10"));
    assert_eq!(
        n.transaction_at.as_deref(),
        Some("2023-06-18T17:52:10.000+08:00")
    );
    assert_eq!(n.account_no.as_deref(), Some("091234567899"));
    assert_eq!(n.source_account_no, None, "\"\" counts as absent");
    assert!(!n.conflict && n.issues.is_empty());
}

/// A transfer notifies both sides under one reference: the key is referenceNumber +
/// statementType + signType.
#[tokio::test]
async fn both_sides_of_a_transfer_are_kept() {
    let t = TestGateway::start().await;
    let transfer = |sign: &str| {
        finance_notification(
            "T-20231204-007",
            json!({"statementType": "3", "signType": sign, "amount": "1200000.00"}),
        )
    };
    notify(&t, &transfer("reduce")).await;
    notify(&t, &transfer("recharge")).await;
    notify(&t, &transfer("reduce")).await;
    let listed = day(&t, "2023-06-18").await;
    let signs: Vec<&str> = listed
        .iter()
        .map(|n| n.sign_type.as_deref().unwrap())
        .collect();
    assert_eq!(signs.len(), 2);
    assert!(signs.contains(&"reduce") && signs.contains(&"recharge"));
}

/// A repeat with a different amount is kept beside the first as a conflict (once, however
/// often it comes), and logged at warn.
#[tokio::test]
async fn a_repeat_with_another_amount_is_kept_as_a_conflict() {
    let t = TestGateway::start().await;
    notify(
        &t,
        &finance_notification("S-20231204-001", json!({"amount": 500})),
    )
    .await;
    let other = finance_notification("S-20231204-001", json!({"amount": 600}));
    notify(&t, &other).await;
    notify(&t, &other).await;
    let listed = day(&t, "2023-06-18").await;
    let amounts: Vec<(&str, bool)> = listed
        .iter()
        .map(|n| (n.amount.as_deref().unwrap(), n.conflict))
        .collect();
    assert_eq!(amounts, [("500.00", false), ("600.00", true)]);
}

/// SPEC 13.4: malformed notifications are stored with the reason, and still answered 1000;
/// one without a usable referenceNumber is keyed by a digest of its body; a `transctionDate`
/// that cannot be read lists it under the day it arrived.
#[tokio::test]
async fn malformed_notifications_are_stored_with_the_reason() {
    let t = TestGateway::start().await;
    let rows = [
        (
            json!({"statementType": "7"}),
            "statementType must be an integer from 1 to 6",
        ),
        (
            json!({"signType": "plus"}),
            "signType must be recharge or reduce",
        ),
        (json!({"amount": "-5"}), "amount must be greater than 0"),
        (json!({"amount": null}), "amount is required"),
        (
            json!({"amount": "1e3"}),
            "amount must be a plain decimal number",
        ),
        // SPEC 14.7: both spellings with different values: flagged, neither taken.
        (
            json!({"amount": "100.00", "Amount": "1000.00"}),
            "amount \"100.00\" and Amount \"1000.00\" differ",
        ),
    ];
    for (i, (change, issue)) in rows.iter().enumerate() {
        let body = finance_notification(&format!("M-{i}"), change.clone());
        notify(&t, &body).await;
        let listed = day(&t, "2023-06-18").await;
        let stored = listed
            .iter()
            .find(|n| n.reference_number.as_deref() == Some(&format!("M-{i}")))
            .unwrap_or_else(|| panic!("{change} not stored: {listed:?}"));
        assert!(
            stored.issues.iter().any(|s| s.starts_with(issue)),
            "{change}: {:?}",
            stored.issues
        );
        if change.get("Amount").is_some() {
            assert_eq!(
                stored.amount, None,
                "never silently one of them: {stored:?}"
            );
        }
    }
    // The same value under both spellings is one amount.
    let same = finance_notification("M-same", json!({"amount": "100", "Amount": 100.00}));
    notify(&t, &same).await;
    let listed = day(&t, "2023-06-18").await;
    let stored = listed
        .iter()
        .find(|n| n.reference_number.as_deref() == Some("M-same"))
        .unwrap();
    assert!(stored.issues.is_empty(), "{:?}", stored.issues);
    // No referenceNumber: stored under a digest, once.
    let anonymous = finance_notification("x", json!({"referenceNumber": null, "amount": 77}));
    notify(&t, &anonymous).await;
    notify(&t, &anonymous).await;
    let listed = day(&t, "2023-06-18").await;
    let found: Vec<&FinanceOut> = listed
        .iter()
        .filter(|n| n.reference_number.is_none())
        .collect();
    assert_eq!(found.len(), 1, "{listed:?}");
    assert!(
        found[0]
            .issues
            .contains(&"referenceNumber is required".to_owned())
    );
    // An unreadable date: listed under the Manila day it arrived.
    let undated = finance_notification("U-1", json!({"transctionDate": "yesterday"}));
    notify(&t, &undated).await;
    let today = skypay::protocol::time::SkyPayTime::from_utc(chrono::Utc::now()).manila_date();
    let listed = t.ledger().finance_day(today).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|n| n.reference_number.as_deref() == Some("U-1")),
        "{listed:?}"
    );
}

/// SkyPay's spellings (SPEC 13.4): `transactionDate`, `Amount`, `Currency` are read too, and a
/// date may carry fractional seconds.
#[tokio::test]
async fn the_other_spellings_and_fractional_seconds_are_read() {
    let t = TestGateway::start().await;
    let body = finance_notification(
        "D-2",
        json!({
            "transctionDate": null, "transactionDate": "2023-12-04 23:59:59.5211",
            "amount": null, "Amount": 250,
            "currency": null, "Currency": "PHP",
        }),
    );
    notify(&t, &body).await;
    let listed = day(&t, "2023-12-04").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].amount.as_deref(), Some("250.00"));
    assert_eq!(listed[0].currency.as_deref(), Some("PHP"));
    assert!(listed[0].issues.is_empty(), "{:?}", listed[0].issues);
}

/// Before the notification rule: credentials and action are still checked.
#[tokio::test]
async fn refusals_before_the_notification_rule() {
    let t = TestGateway::start().await;
    let wrong_key = finance_notification("R-1", json!({"authentication": "nope"}));
    assert_eq!(
        t.call(Action::FinanceNotification, &wrong_key)
            .await
            .response_code,
        "-1001"
    );
    let wrong_action = finance_notification("R-1", json!({"action": "payoutQueuePayout"}));
    assert_eq!(
        t.call(Action::FinanceNotification, &wrong_action)
            .await
            .response_code,
        "2003"
    );
    assert!(day(&t, "2023-06-18").await.is_empty());
}
