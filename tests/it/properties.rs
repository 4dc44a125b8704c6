//! Property: whatever body arrives, the gateway never panics, every reply is a valid envelope
//! with a code this endpoint defines, and a refused call writes nothing.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use skypay::Action;
use support::*;
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// One gateway for the whole property run, with a payout, a contract and a pushed payout that
/// valid-looking bodies can hit.
fn gateway() -> &'static TestGateway {
    static GW: OnceLock<TestGateway> = OnceLock::new();
    GW.get_or_init(|| {
        runtime().block_on(async {
            let t = TestGateway::start().await;
            t.register_payout(PayoutSpec::pickup(&number(1))).await;
            t.register_contract(&number(2), "500").await;
            t.register_payout(PayoutSpec::pushed(&number(3))).await;
            t
        })
    })
}

/// Every item in the table, for before/after comparison.
async fn snapshot(t: &TestGateway) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    let mut start = None;
    loop {
        let page = t
            .ledger()
            .client()
            .scan()
            .table_name(t.ledger().table())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let key = format!("{:?}/{:?}", item.get("pk"), item.get("sk"));
            let mut fields: Vec<String> = item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            fields.sort();
            items.insert(key, fields.join(","));
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return items,
        }
    }
}

fn valid_body(action: Action) -> Value {
    match action {
        Action::PayoutPayout => payout_payout(&number(1), json!({})),
        Action::CollectionCollect => collection_collect(&number(2), "R", "10", json!({})),
        Action::PayoutQueuePayout => {
            payout_queue_payout(&number(3), 1, "2024-01-01 00:00:00", json!({}))
        }
        Action::PayoutInquiry => payout_inquiry(&number(1), json!({})),
        Action::CollectionInquiry => collection_inquiry(&number(2), "10", json!({})),
        Action::FinanceNotification => finance_notification("D-1", json!({})),
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "[0-9]{1,12}(\\.[0-9]{1,4})?".prop_map(Value::String),
        "SKY0[0-2][0-9]{6,11}".prop_map(Value::String),
        "20[0-9]{2}-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A valid body with some fields removed or replaced by arbitrary JSON.
fn mutated(action: Action) -> impl Strategy<Value = Vec<u8>> {
    let base = valid_body(action);
    let keys: Vec<String> = base.as_object().unwrap().keys().cloned().collect();
    prop::collection::vec(
        (prop::sample::select(keys), prop::option::of(any_json())),
        0..4,
    )
    .prop_map(move |changes| {
        let mut body = base.clone();
        for (key, value) in changes {
            match value {
                None => {
                    body.as_object_mut().unwrap().remove(&key);
                }
                Some(v) => body[&key] = v,
            }
        }
        body.to_string().into_bytes()
    })
}

fn bodies(action: Action) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mutated(action),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => any_json().prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn check(action: Action, body: &[u8]) -> Result<(), TestCaseError> {
    let t = gateway();
    runtime().block_on(async {
        let before = snapshot(t).await;
        let envelope = t.call_raw(action, body).await;
        let code = envelope.response_code.as_str();
        prop_assert!(
            action
                .codes()
                .before_the_ledger
                .iter()
                .chain(action.codes().from_the_ledger)
                .any(|c| c.as_str() == code),
            "{action:?} answered {code}"
        );
        prop_assert_eq!(envelope.response_time.len(), 24);
        prop_assert!(!envelope.response_description.is_empty());
        // A refused call changes nothing. (payoutQueuePayout stores even malformed events: its
        // 1000 is an acceptance.)
        if code != "1000" {
            prop_assert_eq!(
                snapshot(t).await,
                before,
                "{:?} {} changed the ledger",
                action,
                code
            );
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn payout_payout_always_answers_an_envelope(body in bodies(Action::PayoutPayout)) {
        check(Action::PayoutPayout, &body)?;
    }

    #[test]
    fn collection_collect_always_answers_an_envelope(body in bodies(Action::CollectionCollect)) {
        check(Action::CollectionCollect, &body)?;
    }

    #[test]
    fn payout_queue_payout_always_answers_an_envelope(body in bodies(Action::PayoutQueuePayout)) {
        check(Action::PayoutQueuePayout, &body)?;
    }
}
