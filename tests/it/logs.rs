//! SPEC section 11: one JSON line per request; the key never logged; phones masked.

use serde_json::{Value, json};
use skypay::Action;
use support::*;

#[tokio::test(flavor = "current_thread")]
async fn one_json_line_per_call_without_secrets_or_full_phones() {
    capture_logs();
    let captured = Captured::default();
    let _guard = captured.install();

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
    let text = String::from_utf8(captured.bytes()).unwrap();
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
    // What the ledger did, on every accepted call's line (paid, collected, recorded).
    let outcomes: Vec<&str> = request_lines
        .iter()
        .filter(|l| l["responseCode"] == "1000")
        .map(|l| l["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(outcomes, ["paid", "collected", "collected", "recorded"]);
    for line in &request_lines {
        assert_eq!(line["requestId"], "test-request");
        assert!(line["latencyUs"].is_u64());
        assert_eq!(line["number"], cn.as_str());
        assert_valid_emf(line);
        assert_eq!(line["calls"], 1);
        assert_eq!(line["ledgerFailures"], 0);
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

/// -1009 is counted as a ledger failure, in the same line.
#[tokio::test(flavor = "current_thread")]
async fn a_ledger_failure_is_counted_in_the_calls_line() {
    capture_logs();
    let captured = Captured::default();
    let _guard = captured.install();
    // A port nothing listens on: connections are refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = skypay::aws::dynamo::client_for_endpoint(&format!("http://{closed}"));
    let gateway = skypay::Gateway::new(
        config_with(&[]),
        skypay::Ledger::new(client, "skypay-ledger"),
    );
    let body = payout_payout(&number(10), json!({})).to_string();
    let reply = gateway
        .handle(
            Action::PayoutPayout,
            skypay::Call {
                body: body.as_bytes(),
                source_ip: None,
                request_id: "down",
            },
        )
        .await;
    assert_eq!(parse_envelope(&reply.body).response_code, "-1009");
    let text = String::from_utf8(captured.bytes()).unwrap();
    let line: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("every line is JSON"))
        .find(|l| l.get("action").is_some())
        .expect("the call's line");
    assert_valid_emf(&line);
    assert_eq!(line["responseCode"], "-1009");
    assert_eq!(line["ledgerFailures"], 1);
    assert_eq!(line["level"], "ERROR");
}

#[test]
fn debug_of_every_request_type_hides_keys_phones_and_names() {
    use skypay::inbound::collection_collect::CollectionCollect;
    use skypay::inbound::payout_payout::PayoutPayout;
    use skypay::inbound::payout_queue_payout::PayoutQueuePayout;
    use skypay::inbound::{Admit, CallLog, Endpoint};
    use skypay::outbound::push::Instruction;
    use skypay::protocol::crypto::Encryption;
    use skypay::protocol::wire::Fields;

    let config = config_with(&[]);
    let prefix = &config.prefix;
    let mut log = CallLog::default();
    let mut cx = Admit {
        config: &config,
        log: &mut log,
    };
    let secrets = [
        KEY,
        NEW_KEY,
        "09270348095",
        "09171234567",
        "Lardizabal",
        "001234567890",
        "Mabini",
    ];
    let mut shown = vec![format!("{config:?}")];

    let decode = |v: &Value| {
        Fields::decode(v.to_string().as_bytes(), &Encryption::Off)
            .0
            .unwrap()
    };
    let pay = decode(&payout_payout(&number(1), json!({})));
    shown.push(format!("{pay:?}"));
    shown.push(format!("{:?}", PayoutPayout::parse(&pay, &mut cx).unwrap()));
    let collect = decode(&collection_collect(
        &number(1),
        "R",
        "5",
        json!({"phone": "09270348095"}),
    ));
    shown.push(format!(
        "{:?}",
        CollectionCollect::parse(&collect, &mut cx).unwrap()
    ));
    let event = decode(&payout_queue_payout(
        &number(1),
        1,
        "2024-01-01 00:00:00",
        json!({}),
    ));
    shown.push(format!(
        "{:?}",
        PayoutQueuePayout::parse(&event, &mut cx).unwrap()
    ));
    let instruction = decode(&json!({
        "controlNumber": number(3), "name": "Lardizabal,Mary", "phone": "09171234567", "amount": "5", "withdrawChannel": 5,
        "bankNo": "BDO", "accountNo": "001234567890"
    }));
    shown.push(format!(
        "{:?}",
        Instruction::parse(&instruction, prefix, chrono::Utc::now()).unwrap()
    ));
    let registration = skypay::ledger::ContractRegistration {
        contract_number: skypay::protocol::rules::ControlNumber::parse(&number(2), prefix).unwrap(),
        amount_due: skypay::protocol::rules::Amount::parse("1").unwrap(),
        name: Some("Lardizabal,Mary".into()),
        address: skypay::protocol::mask::Private(Some("1740 Mabini St,Malate,Manila".into())),
        phone: Some("09171234567".into()),
    };
    shown.push(format!("{registration:?}"));
    // What the ledger is handed to register: the canonical instruction, in full, is private.
    let parsed = Instruction::parse(&instruction, prefix, chrono::Utc::now()).unwrap();
    let new_payout = skypay::ledger::NewPayout {
        control_number: skypay::protocol::rules::ControlNumber::parse(&number(3), prefix).unwrap(),
        amount: parsed.amount,
        channel: parsed.channel,
        expires_at: chrono::Utc::now(),
        instruction: skypay::protocol::mask::Private(parsed.canonical()),
        status: skypay::ledger::PayoutStatus::Pending,
        lease_seconds: Some(30),
    };
    let debug = format!("{new_payout:?}");
    assert!(debug.contains("<private>"), "{debug}");
    shown.push(debug);
    for text in &shown {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} shown by Debug: {text}");
        }
    }
}
