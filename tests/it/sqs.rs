//! The payout-queue Lambda's SQS handler: partial batch failures, and a redelivered message
//! that finds the payout it created instead of creating a second one.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use skypay::actions::payout_queue::PayoutQueue;
use skypay_sim::{Fault, Sim};
use support::*;

fn message(id: &str, body: &serde_json::Value) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.body = Some(body.to_string());
    m
}

fn batch(messages: Vec<SqsMessage>) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    event.records = messages;
    LambdaEvent::new(event, Context::default())
}

async fn queue(skypay: &Sim) -> (PayoutQueue, Backend) {
    let backend = Backend::start().await;
    let ledger = backend.ledger().await;
    let mut config = config_with(&[
        ("SKYPAY_API_URL", skypay.url.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_API_TIMEOUT_SECONDS", "1"),
    ]);
    config.table_name = backend.table.clone();
    (PayoutQueue::new(config, ledger).unwrap(), backend)
}

fn wallet() -> serde_json::Value {
    json!({"name": "Cruz,Juan", "phone": "09171234567", "amount": "500.00", "withdrawChannel": 8, "accountNo": "09171234567"})
}

#[tokio::test]
async fn only_the_messages_to_retry_are_reported() {
    let skypay = skypay_sim(&[]).await;
    let (q, _backend) = queue(&skypay).await;
    let mut ok = wallet();
    ok["controlNumber"] = json!(number(1));
    let mut transient = wallet();
    transient["controlNumber"] = json!(number(2));
    let invalid = json!({"name": "no comma", "amount": "5"});
    // A good instruction and an invalid one in one batch: only the invalid one is failed (it
    // will reach the dead-letter queue after the retry limit).
    let first = batch(vec![message("m-ok", &ok), message("m-invalid", &invalid)]);
    let response = skypay::lambda::handle_sqs(&q, first).await.unwrap();
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["m-invalid".to_owned()]);

    skypay.script([Fault::Code("-9999".to_owned())]);
    let second = batch(vec![message("m-transient", &transient)]);
    let response = skypay::lambda::handle_sqs(&q, second).await.unwrap();
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["m-transient".to_owned()]);

    // SQS delivers it again; SkyPay is back: acknowledged, and the payout is QUEUED.
    let again = batch(vec![message("m-transient", &transient)]);
    let response = skypay::lambda::handle_sqs(&q, again).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    match q.ledger().payout(&number(2)).await.unwrap() {
        Some(skypay::ledger::PayoutLookup::Payout(v)) => {
            assert_eq!(v.status, skypay::ledger::PayoutStatus::Queued);
            assert_eq!(v.push_attempts, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_redelivered_message_without_a_control_number_makes_one_payout() {
    let skypay = skypay_sim(&[]).await;
    let (q, _backend) = queue(&skypay).await;
    skypay.script([Fault::Http(500)]);
    let first = skypay::lambda::handle_sqs(&q, batch(vec![message("msg-7", &wallet())]))
        .await
        .unwrap();
    assert_eq!(first.batch_item_failures.len(), 1);
    let second = skypay::lambda::handle_sqs(&q, batch(vec![message("msg-7", &wallet())]))
        .await
        .unwrap();
    assert!(second.batch_item_failures.is_empty());
    // A third delivery (our acknowledgement was lost): nothing new is pushed.
    let third = skypay::lambda::handle_sqs(&q, batch(vec![message("msg-7", &wallet())]))
        .await
        .unwrap();
    assert!(third.batch_item_failures.is_empty());
    let sent = skypay.received();
    assert_eq!(
        sent.len(),
        2,
        "pushed twice (the failed attempt and the retry), never a third time"
    );
    assert_eq!(
        sent[0]["controlNumber"], sent[1]["controlNumber"],
        "the same payout both times"
    );
}

#[tokio::test]
async fn a_poison_message_fails_on_every_delivery_so_sqs_moves_it_to_the_dead_letter_queue() {
    let skypay = skypay_sim(&[]).await;
    let (q, _backend) = queue(&skypay).await;
    // A registered payout, and an instruction that conflicts with it (same number, other
    // amount): it can never succeed, and must never be pushed.
    let mut first = wallet();
    first["controlNumber"] = json!(number(40));
    assert!(
        skypay::lambda::handle_sqs(&q, batch(vec![message("good", &first)]))
            .await
            .unwrap()
            .batch_item_failures
            .is_empty()
    );
    let mut conflicting = first.clone();
    conflicting["amount"] = json!("999.00");
    let garbage = json!("not an instruction");
    for delivery in 1..=3 {
        let response = skypay::lambda::handle_sqs(
            &q,
            batch(vec![
                message("conflict", &conflicting),
                message("garbage", &garbage),
            ]),
        )
        .await
        .unwrap();
        let mut failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        failed.sort();
        assert_eq!(
            failed,
            vec!["conflict".to_owned(), "garbage".to_owned()],
            "delivery {delivery}"
        );
    }
    assert_eq!(
        skypay.received().len(),
        1,
        "only the good instruction was ever pushed"
    );
}

/// SPEC section 11's budget for payout-queue: a pushed payout is a write, the push and an
/// update, with nothing read back; a shop pickup is one write. Counted by a proxy in front of
/// the test's DynamoDB.
#[tokio::test]
async fn a_pushed_payout_is_one_write_the_push_and_one_update() {
    let skypay = skypay_sim(&[]).await;
    let backend = Backend::start().await;
    let proxy = support::proxy::Proxy::start(&backend.endpoint).await;
    let mut config = config_with(&[
        ("SKYPAY_API_URL", skypay.url.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
    ]);
    config.table_name = backend.table.clone();
    backend.ledger().await; // the table, created directly (not counted)
    let ledger = skypay::Ledger::new(
        skypay::dynamo::client_for_endpoint(&proxy.url),
        backend.table.as_str(),
    );
    let q = PayoutQueue::new(config, ledger).unwrap();

    let mut pushed = wallet();
    pushed["controlNumber"] = json!(number(30));
    let response = skypay::lambda::handle_sqs(&q, batch(vec![message("m-push", &pushed)]))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(skypay.received().len(), 1);
    assert_eq!(
        proxy.counts(),
        [("PutItem".to_owned(), 1), ("UpdateItem".to_owned(), 1)].into()
    );

    proxy.reset();
    let pickup = json!({"controlNumber": number(31), "name": "Cruz,Juan", "phone": "09171234567", "amount": "500.00", "withdrawChannel": 1});
    let response = skypay::lambda::handle_sqs(&q, batch(vec![message("m-pickup", &pickup)]))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(proxy.counts(), [("PutItem".to_owned(), 1)].into());
    assert_eq!(skypay.received().len(), 1, "a shop pickup is not pushed");
}
