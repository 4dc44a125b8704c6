//! SPEC section 2, check 6: a ledger that cannot be reached answers -1009, and nothing is
//! acknowledged that was not recorded.

use serde_json::json;
use skypay::{Action, Gateway, Ledger};
use support::*;

#[tokio::test]
async fn an_unreachable_ledger_answers_1009_on_every_endpoint() {
    // A port nothing listens on: connections are refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = skypay::aws::dynamo::client_for_endpoint(&format!("http://{closed}"));
    let gateway = Gateway::new(config_with(&[]), Ledger::new(client, "skypay-ledger"));
    let bodies = [
        (Action::PayoutPayout, payout_payout(&number(1), json!({}))),
        (
            Action::CollectionCollect,
            collection_collect(&number(1), "R", "1", json!({})),
        ),
        (
            Action::PayoutQueuePayout,
            payout_queue_payout(&number(1), 1, "2024-01-01 00:00:00", json!({})),
        ),
        (Action::PayoutInquiry, payout_inquiry(&number(1), json!({}))),
        (
            Action::CollectionInquiry,
            collection_inquiry(&number(1), "1", json!({})),
        ),
        (
            Action::FinanceNotification,
            finance_notification("D-1", json!({})),
        ),
    ];
    assert_eq!(bodies.len(), Action::ALL.len(), "every endpoint");
    for (action, body) in bodies {
        let body = body.to_string();
        let reply = gateway
            .handle(
                action,
                skypay::Call {
                    body: body.as_bytes(),
                    source_ip: None,
                    request_id: "down",
                },
            )
            .await;
        let envelope = parse_envelope(&reply.body);
        assert_eq!(envelope.response_code, "-1009", "{action:?}");
        let expected = if action == Action::CollectionCollect {
            "An Unpredictable exception occurs"
        } else {
            "Unpredictable exception occurs"
        };
        assert_eq!(envelope.response_description, expected);
    }
}
