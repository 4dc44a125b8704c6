//! SPEC section 11: one JSON line per request; the key never logged; phones masked.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use skypay::Action;
use support::*;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_json_line_per_call_without_secrets_or_full_phones() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = TestGateway::start().await;
    let cn = number(9);
    t.register_payout(PayoutSpec::pickup(&cn)).await;
    let calls: Vec<(Action, Value)> = vec![
        (Action::PayoutPayout, payout_payout(&cn, json!({}))),
        (
            Action::PayoutPayout,
            payout_payout(&cn, json!({"authentication": NEW_KEY})),
        ),
        (
            Action::PayoutPayout,
            payout_payout(&cn, json!({"authentication": "a-wrong-key-0000"})),
        ),
        (
            Action::CollectionCollect,
            collection_collect(&cn, "R", "5", json!({"phone": "09270348095"})),
        ),
        (
            Action::CollectionCollect,
            collection_collect(&cn, "S", "5", json!({"phone": "6392210083333"})),
        ),
        (
            Action::PayoutQueuePayout,
            payout_queue_payout(&cn, 9, "bad", json!({})),
        ),
    ];
    for (action, body) in &calls {
        t.call(*action, body).await;
    }
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for secret in [
        KEY,
        NEW_KEY,
        "a-wrong-key-0000",
        "09270348095",
        "6392210083333",
    ] {
        assert!(!text.contains(secret), "{secret} reached the log:\n{text}");
    }
    let request_lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("every line is JSON"))
        .filter(|l| l.get("action").is_some())
        .collect();
    assert_eq!(request_lines.len(), calls.len(), "{text}");
    let codes: Vec<&str> = request_lines
        .iter()
        .map(|l| l["responseCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1000", "-1026", "-1001", "1000", "1000", "1000"]);
    for line in &request_lines {
        assert_eq!(line["requestId"], "test-request");
        assert!(line["latencyUs"].is_u64());
        assert_eq!(line["number"], cn.as_str());
    }
    // The malformed phone is flagged, masked.
    assert!(
        request_lines[4]["warnings"]
            .as_str()
            .unwrap()
            .contains("6392*******33")
    );
    assert_eq!(request_lines[4]["level"], "WARN");
}
