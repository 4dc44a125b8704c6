//! The payout-queue Lambda's SQS handler: partial batch failures (only a push that never
//! left is retried), and an instruction sent twice that finds the payout it created instead
//! of creating a second one (SPEC 14.1, 14.3).

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use skypay::outbound::push::PayoutQueue;
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

/// payout-queue's handler, as its main wires it.
async fn sqs(
    q: &PayoutQueue,
    event: LambdaEvent<SqsEvent>,
) -> Result<aws_lambda_events::sqs::SqsBatchResponse, std::convert::Infallible> {
    skypay::aws::lambda::handle_sqs(event, |id, body| q.clone().process_message(id, body)).await
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

fn failures(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    let mut failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failed.sort();
    failed
}

/// A queue on the same ledger whose SkyPay address refuses connections: a push never leaves.
fn unreachable_queue(backend: &Backend) -> PayoutQueue {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/api/payoutQueue", l.local_addr().unwrap())
    };
    let mut config = config_with(&[
        ("SKYPAY_API_URL", closed.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_API_TIMEOUT_SECONDS", "1"),
    ]);
    config.table_name = backend.table.clone();
    let ledger = skypay::Ledger::new(
        skypay::aws::dynamo::client_for_endpoint(&backend.endpoint),
        backend.table.as_str(),
    );
    PayoutQueue::new(config, ledger).unwrap()
}

async fn payout(q: &PayoutQueue, n: &str) -> skypay::ledger::Payout {
    match q.ledger().payout(n).await.unwrap() {
        Some(skypay::ledger::PayoutLookup::Payout(v)) => *v,
        other => panic!("{other:?}"),
    }
}

/// SPEC 14.3: only a message whose push never left (or met a push in flight, or the ledger
/// down) is delivered again. One held or left in doubt is acknowledged (the payout run takes
/// over: no retry storm against SkyPay), and so is an invalid instruction (SPEC 14.1: logged
/// at error and counted; redelivering it cannot make it valid).
#[tokio::test]
async fn only_the_messages_to_retry_are_reported() {
    let skypay = skypay_sim(&[]).await;
    let (q, backend) = queue(&skypay).await;
    let mut ok = wallet();
    ok["controlNumber"] = json!(number(1));
    let invalid = json!({"name": "no comma", "amount": "5"});
    let first = batch(vec![message("m-ok", &ok), message("m-invalid", &invalid)]);
    let response = sqs(&q, first).await.unwrap();
    assert!(failures(&response).is_empty(), "{response:?}");

    // -9999: in doubt. Acknowledged, and a redelivery pushes nothing.
    let mut doubtful = wallet();
    doubtful["controlNumber"] = json!(number(2));
    skypay.script([Fault::Code("-9999".to_owned())]);
    for _ in 0..2 {
        let response = sqs(&q, batch(vec![message("m-doubt", &doubtful)]))
            .await
            .unwrap();
        assert!(failures(&response).is_empty());
    }
    let view = payout(&q, &number(2)).await;
    assert!(view.push_in_doubt && view.push_attempts == 1, "{view:?}");

    // Never sent: delivered again; SkyPay reachable on the redelivery: QUEUED.
    let mut unsent = wallet();
    unsent["controlNumber"] = json!(number(3));
    let unreachable = unreachable_queue(&backend);
    let response = sqs(&unreachable, batch(vec![message("m-unsent", &unsent)]))
        .await
        .unwrap();
    assert_eq!(failures(&response), ["m-unsent"]);
    let again = batch(vec![message("m-unsent", &unsent)]);
    let response = sqs(&q, again).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let view = payout(&q, &number(3)).await;
    assert_eq!(view.status, skypay::ledger::PayoutStatus::Queued);
    assert_eq!(view.push_attempts, 2);
    // Pushed: number(1), number(2) once each, number(3) once (its first attempt never left).
    assert_eq!(skypay.received().len(), 3);
}

/// SPEC 14.1: the payout queue never draws a number. A message without one is acknowledged
/// without a payout; the same instruction sent twice (an SDK retry of SendMessage, a message
/// re-sent from the dead-letter queue: two message ids) is one payout, pushed once.
#[tokio::test]
async fn an_instruction_sent_twice_is_one_payout_and_one_without_a_number_none() {
    let skypay = skypay_sim(&[]).await;
    let (q, _backend) = queue(&skypay).await;
    let response = sqs(&q, batch(vec![message("msg-7", &wallet())]))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert!(skypay.received().is_empty(), "nothing pushed");
    let scan = q
        .ledger()
        .client()
        .scan()
        .table_name(q.ledger().table())
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(scan.count(), 0, "nothing written without a control number");

    let mut named = wallet();
    named["controlNumber"] = json!(number(7));
    for id in ["msg-8", "msg-8-resent-from-the-dlq"] {
        let response = sqs(&q, batch(vec![message(id, &named)])).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(skypay.received().len(), 1, "one push");
    assert_eq!(
        payout(&q, &number(7)).await.status,
        skypay::ledger::PayoutStatus::Queued
    );
}

/// An instruction that can never succeed (a conflicting one for a registered number, one that
/// is not an instruction) is acknowledged on every delivery, logged at error, counted
/// (`InvalidInstructions`, alarmed), and never pushed.
#[tokio::test]
async fn an_invalid_instruction_is_acknowledged_and_never_pushed() {
    let skypay = skypay_sim(&[]).await;
    let (q, _backend) = queue(&skypay).await;
    let mut first = wallet();
    first["controlNumber"] = json!(number(40));
    assert!(
        sqs(&q, batch(vec![message("good", &first)]))
            .await
            .unwrap()
            .batch_item_failures
            .is_empty()
    );
    let mut conflicting = first.clone();
    conflicting["amount"] = json!("999.00");
    let garbage = json!("not an instruction");
    for delivery in 1..=3 {
        let response = sqs(
            &q,
            batch(vec![
                message("conflict", &conflicting),
                message("garbage", &garbage),
            ]),
        )
        .await
        .unwrap();
        assert!(failures(&response).is_empty(), "delivery {delivery}");
    }
    assert_eq!(
        skypay.received().len(),
        1,
        "only the good instruction was ever pushed"
    );
    assert_eq!(
        payout(&q, &number(40)).await.amount,
        rust_decimal::Decimal::new(50000, 2)
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
        skypay::aws::dynamo::client_for_endpoint(&proxy.url),
        backend.table.as_str(),
    );
    let q = PayoutQueue::new(config, ledger).unwrap();

    let mut pushed = wallet();
    pushed["controlNumber"] = json!(number(30));
    let response = sqs(&q, batch(vec![message("m-push", &pushed)]))
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
    let response = sqs(&q, batch(vec![message("m-pickup", &pickup)]))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(proxy.counts(), [("PutItem".to_owned(), 1)].into());
    assert_eq!(skypay.received().len(), 1, "a shop pickup is not pushed");
}
