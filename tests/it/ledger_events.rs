//! SPEC 13.5: the ledger's change events. Real stream records (the embedded emulator's stream,
//! from the same writes SkyPay's calls make) through ledger-events' mapping, then through its
//! handler to a fake EventBridge on loopback with the SDK's own client.

use chrono::Duration;
use serde_json::{Value, json};
use skypay::Action;
use skypay::ledger::PayoutStatus;
use skypay::ledger::changes::DomainEvent;
use support::fake_eventbridge::FakeEventBridge;
use support::*;

/// The gateway on a table with a stream, and the records it has written so far.
struct Rig {
    t: TestGateway,
    seen: usize,
}

impl Rig {
    async fn start() -> Rig {
        Rig {
            t: TestGateway::start_with_stream().await,
            seen: 0,
        }
    }

    fn all_records(&self) -> Vec<Value> {
        let embedded = self.t.backend.embedded().expect("the embedded emulator");
        support::streams::records(&embedded.db, self.t.ledger().table())
    }

    /// The records written since the last call.
    fn new_records(&mut self) -> Vec<Value> {
        let all = self.all_records();
        let fresh = all.get(self.seen..).unwrap_or_default().to_vec();
        self.seen = all.len();
        fresh
    }

    /// The events of the records written since the last call, as (detail-type, detail).
    fn new_events(&mut self) -> Vec<(&'static str, Value)> {
        events_of(&self.new_records())
            .into_iter()
            .map(|e| (e.detail_type, e.detail))
            .collect()
    }
}

fn lambda_event(records: &[Value]) -> aws_lambda_events::dynamodb::Event {
    serde_json::from_value(support::streams::event(records)).expect("a DynamoDB stream event")
}

fn events_of(records: &[Value]) -> Vec<DomainEvent> {
    lambda_event(records)
        .records
        .iter()
        .flat_map(ledger_events::events_of)
        .collect()
}

fn types(events: &[(&'static str, Value)]) -> Vec<&'static str> {
    events.iter().map(|(t, _)| *t).collect()
}

/// Every transition, and no event for a write that changed nothing.
#[tokio::test]
async fn every_transition_gives_its_event_and_nothing_else_does() {
    let mut rig = Rig::start().await;
    let t = &rig.t;

    // Registrations: no event.
    let pickup = number(1);
    t.register_payout(PayoutSpec::pickup(&pickup)).await;
    t.register_payout(PayoutSpec::pushed(&number(2))).await;
    assert!(rig.new_events().is_empty());

    // A cashier pays: PayoutPaid; the retry (-1026) writes nothing.
    let t = &rig.t;
    assert_eq!(
        t.call(Action::PayoutPayout, &payout_payout(&pickup, json!({})))
            .await
            .response_code,
        "1000"
    );
    assert_eq!(
        t.call(Action::PayoutPayout, &payout_payout(&pickup, json!({})))
            .await
            .response_code,
        "-1026"
    );
    let events = rig.new_events();
    assert_eq!(types(&events), ["PayoutPaid"]);
    let paid = &events[0].1;
    assert_eq!(paid["controlNumber"], pickup.as_str());
    assert_eq!(paid["amount"], "3400.00");
    assert_eq!(paid["paidBy"], "payoutPayout");
    assert_eq!(paid["payTime"], "2019-02-18 14:59:33");
    assert_eq!(paid["payTimeAt"], "2019-02-18T14:59:33.000+08:00");

    // A pushed payout: uploaded (no event), paid (PayoutPaid), the paid callback again (no
    // write: no event), a late cancel (PayoutAnomaly, still PAID: no PayoutCancelled).
    let pushed = number(2);
    let callback =
        |pay_type: u32, deal: &str| payout_queue_payout(&pushed, pay_type, deal, json!({}));
    for (pay_type, deal) in [
        (1, "2024-01-01 10:00:00"),
        (2, "2024-01-01 11:00:00"),
        (2, "2024-01-01 11:00:00"),
    ] {
        assert_eq!(
            rig.t
                .call(Action::PayoutQueuePayout, &callback(pay_type, deal))
                .await
                .response_code,
            "1000"
        );
    }
    assert_eq!(types(&rig.new_events()), ["PayoutPaid"]);
    rig.t
        .call(
            Action::PayoutQueuePayout,
            &callback(3, "2024-01-01 12:00:00"),
        )
        .await;
    let events = rig.new_events();
    assert_eq!(types(&events), ["PayoutAnomaly"]);
    assert_eq!(events[0].1["status"], "PAID");

    // Failed, rejected, cancelled by the loan system.
    let failed = number(3);
    rig.t.register_payout(PayoutSpec::pushed(&failed)).await;
    rig.t
        .call(
            Action::PayoutQueuePayout,
            &payout_queue_payout(&failed, 4, "2024-01-01 10:00:00", json!({})),
        )
        .await;
    rig.t
        .register_payout(PayoutSpec {
            status: PayoutStatus::Rejected,
            ..PayoutSpec::pushed(&number(4))
        })
        .await;
    let cancelled = number(5);
    rig.t.register_payout(PayoutSpec::pickup(&cancelled)).await;
    let reply = skypay_admin::handlers::cancel_payout(
        rig.t.ledger(),
        rig.t.gateway.config(),
        &cancelled,
        "test",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = rig.new_events();
    assert_eq!(
        types(&events),
        ["PayoutFailed", "PayoutRejected", "PayoutCancelled"]
    );
    assert_eq!(events[2].1["closedBy"], "partner-api");

    // A contract: two receipts reach the amount due (CollectionReceived twice, then
    // ContractSettled); a repeated receipt (-1015) and one after settling (-1026) write nothing.
    let contract = number(6);
    rig.t.register_contract(&contract, "100").await;
    for (receipt, amount, code) in [
        ("R-1", "60", "1000"),
        ("R-2", "40", "1000"),
        ("R-2", "40", "-1015"),
        ("R-3", "1", "-1026"),
    ] {
        let body = collection_collect(&contract, receipt, amount, json!({}));
        assert_eq!(
            rig.t
                .call(Action::CollectionCollect, &body)
                .await
                .response_code,
            code,
            "{receipt}"
        );
    }
    let events = rig.new_events();
    assert_eq!(
        types(&events),
        [
            "CollectionReceived",
            "CollectionReceived",
            "ContractSettled"
        ]
    );
    assert_eq!(events[0].1["amount"], "60.00");
    assert_eq!(events[1].1["receiptNumber"], "R-2");
    assert_eq!(events[2].1["collectedTotal"], "100.00");

    // Finance: stored (an event), repeated (none), a conflicting repeat (an event, flagged).
    for body in [
        finance_notification("D-1", json!({})),
        finance_notification("D-1", json!({})),
        finance_notification("D-1", json!({"amount": 5})),
    ] {
        rig.t.call(Action::FinanceNotification, &body).await;
    }
    let events = rig.new_events();
    assert_eq!(
        types(&events),
        ["FinanceNotification", "FinanceNotification"]
    );
    assert_eq!(events[0].1["amount"], "12000000.00");
    assert_eq!(events[1].1["conflict"], true);

    // An item of no kind the ledger writes: skipped, never an event or a failure.
    rig.t
        .ledger()
        .client()
        .put_item()
        .table_name(rig.t.ledger().table())
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("OTHER#1".into()),
        )
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("X".into()))
        .send()
        .await
        .unwrap();
    let records = rig.new_records();
    assert_eq!(records.len(), 1);
    assert!(events_of(&records).is_empty());
}

/// Ids are stable (the same record always gives the same id) and distinct, and no event
/// carries a name, a phone or an account number.
#[tokio::test]
async fn ids_are_stable_and_no_event_carries_personal_data() {
    let mut rig = Rig::start().await;
    rig.t
        .register_instruction(
            &json!({"controlNumber": number(7), "name": "Cruz,Juan", "phone": "09171234567",
            "amount": "3400.00", "withdrawChannel": 1, "identificationId": "0111-2222333-4"}),
        )
        .await;
    rig.t
        .call(Action::PayoutPayout, &payout_payout(&number(7), json!({})))
        .await;
    rig.t
        .register_contract_with(
            &number(8),
            "10",
            Some(("Cruz,Juan", "Manila", "09171234567")),
        )
        .await;
    rig.t
        .call(
            Action::CollectionCollect,
            &collection_collect(&number(8), "R", "10", json!({})),
        )
        .await;
    rig.t
        .call(
            Action::FinanceNotification,
            &finance_notification("D-9", json!({})),
        )
        .await;
    let records = rig.new_records();
    let first = events_of(&records);
    let again = events_of(&records);
    assert_eq!(
        first, again,
        "the same records give the same events and ids"
    );
    let ids: std::collections::HashSet<String> = first
        .iter()
        .map(|e| e.detail["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), first.len(), "distinct ids");
    assert_eq!(first.len(), 4, "{first:?}");
    // The ids are hex digests, which may hold "0917" by chance: checked without them.
    let details: Vec<serde_json::Value> = first
        .iter()
        .map(|e| {
            let mut detail = e.detail.clone();
            if let Some(map) = detail.as_object_mut() {
                map.remove("id");
            }
            detail
        })
        .collect();
    let text = serde_json::to_string(&details).unwrap();
    for private in [
        "Cruz",
        "Juan",
        "0917",
        "0927",
        "Manila",
        "0111-2222333-4",
        "091234567899",
        "001234567899",
    ] {
        assert!(!text.contains(private), "{private} in {text}");
    }
}

/// The handler puts the events on the bus in batches of at most 10, retries entries the bus
/// refuses, and, when some still do not go out, reports the first record that has one, so the
/// stream is retried from there.
#[tokio::test]
async fn events_reach_the_bus_in_batches_and_failures_are_reported() {
    let mut rig = Rig::start().await;
    // 25 payouts paid: 25 PayoutPaid events.
    for i in 0..25 {
        let cn = number(100 + i);
        rig.t.register_payout(PayoutSpec::pickup(&cn)).await;
        rig.t
            .call(Action::PayoutPayout, &payout_payout(&cn, json!({})))
            .await;
    }
    let contract = number(200);
    rig.t.register_contract(&contract, "1000").await;
    rig.t
        .call(
            Action::CollectionCollect,
            &collection_collect(&contract, "R-1", "5", json!({})),
        )
        .await;
    let records = rig.new_records();
    let bus = FakeEventBridge::start().await;
    let publisher = ledger_events::Publisher::new(bus.client(), "skypay-ledger");
    let invoke = |records: &[Value]| {
        let event = lambda_event(records);
        let context = lambda_runtime::Context::default();
        ledger_events::handle(&publisher, lambda_runtime::LambdaEvent::new(event, context))
    };

    // A refusal the retries ride out.
    bus.refuse("CollectionReceived", 1);
    let response = invoke(&records).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let accepted = bus.accepted();
    assert_eq!(accepted.len(), 26);
    assert!(
        bus.batches().iter().all(|n| (1..=10).contains(n)),
        "{:?}",
        bus.batches()
    );
    assert_eq!(accepted[0]["Source"], "skypay.ledger");
    assert_eq!(accepted[0]["EventBusName"], "skypay-ledger");
    assert_eq!(accepted[0]["DetailType"], "PayoutPaid");

    // A refusal that outlasts them: the record it came from is reported.
    bus.refuse("CollectionReceived", u32::MAX);
    let response = invoke(&records).await.unwrap();
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    let receipt_record = records
        .iter()
        .find(|r| {
            r["dynamodb"]["Keys"]["sk"]["S"]
                .as_str()
                .is_some_and(|sk| sk.starts_with("RECEIPT#"))
        })
        .expect("the receipt's record");
    assert_eq!(
        failed,
        [receipt_record["dynamodb"]["SequenceNumber"]
            .as_str()
            .map(str::to_owned)]
    );
}

/// Expired or TTL-deleted items (REMOVE records) give no event.
#[tokio::test]
async fn deletions_give_no_event() {
    let mut rig = Rig::start().await;
    let cn = number(300);
    rig.t
        .register_payout(PayoutSpec {
            expires_in: Duration::hours(-1),
            ..PayoutSpec::pickup(&cn)
        })
        .await;
    rig.t
        .ledger()
        .client()
        .delete_item()
        .table_name(rig.t.ledger().table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("PAYOUT#{cn}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("PAYOUT".into()),
        )
        .send()
        .await
        .unwrap();
    let records = rig.new_records();
    assert_eq!(records.len(), 2);
    assert!(events_of(&records).is_empty());
}

/// The function's one line per batch is also its metrics (EMF): the events sent and, among
/// them, the anomalies the PayoutAnomalies alarm reads.
#[tokio::test(flavor = "current_thread")]
async fn the_batch_line_counts_events_and_anomalies_as_metrics() {
    capture_logs();
    let mut rig = Rig::start().await;
    let pushed = number(300);
    rig.t.register_payout(PayoutSpec::pushed(&pushed)).await;
    for (pay_type, deal) in [(2, "2024-01-01 11:00:00"), (3, "2024-01-01 12:00:00")] {
        rig.t
            .call(
                Action::PayoutQueuePayout,
                &payout_queue_payout(&pushed, pay_type, deal, json!({})),
            )
            .await;
    }
    let records = rig.new_records();
    let bus = FakeEventBridge::start().await;
    let publisher = ledger_events::Publisher::new(bus.client(), "skypay-ledger");
    let captured = Captured::default();
    let response = {
        let _guard = captured.install();
        let event = lambda_event(&records);
        let context = lambda_runtime::Context::default();
        ledger_events::handle(&publisher, lambda_runtime::LambdaEvent::new(event, context))
            .await
            .unwrap()
    };
    assert!(response.batch_item_failures.is_empty());
    let lines = captured.lines();
    let line = lines
        .iter()
        .find(|l| l["message"] == "ledger events")
        .expect("the batch line");
    assert_valid_emf(line);
    assert_eq!(line["Service"], "ledger-events");
    assert_eq!(line["events"], 2, "{line}");
    assert_eq!(line["anomalies"], 1, "{line}");
}
