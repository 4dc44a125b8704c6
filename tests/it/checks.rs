//! SPEC section 2: the wire format, authentication and the order of checks, on every endpoint.

use serde_json::{Value, json};
use skypay::Action;
use support::*;

/// A valid body for each endpoint (the ledger has nothing for these numbers).
fn valid(action: Action) -> Value {
    match action {
        Action::PayoutPayout => payout_payout(&number(1), json!({})),
        Action::CollectionCollect => collection_collect(&number(1), "R-1", "10.00", json!({})),
        Action::PayoutQueuePayout => {
            payout_queue_payout(&number(1), 1, "2024-01-01 10:00:00", json!({}))
        }
        Action::PayoutInquiry => payout_inquiry(&number(1), json!({})),
        Action::CollectionInquiry => collection_inquiry(&number(1), "10.00", json!({})),
        Action::FinanceNotification => finance_notification("D-20231204-001", json!({})),
    }
}

fn with(mut body: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

#[tokio::test]
async fn authentication_table_on_every_endpoint() {
    let t = TestGateway::start().await;
    // (userName, authentication) -> accepted?
    let rows = [
        (json!({}), true),
        (json!({"authentication": NEW_KEY}), true),
        (
            json!({"authentication": "30AC21B2-9EAA-4503-B0F0-7BE5C277ED7"}),
            false,
        ),
        (
            json!({"authentication": "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75 "}),
            false,
        ),
        (
            json!({"authentication": "30ac21b2-9eaa-4503-b0f0-7be5c277ed75"}),
            false,
        ),
        (json!({"authentication": format!("{KEY}{KEY}")}), false),
        (json!({"authentication": null}), false),
        (json!({"authentication": ""}), false),
        (json!({"authentication": 12345}), false),
        (json!({"userName": "Other@skypay"}), false),
        (json!({"userName": null}), false),
        (json!({"userName": {"$ne": ""}}), false),
        (json!({"userName": null, "authentication": null}), false),
    ];
    for action in Action::ALL {
        for (changes, accepted) in &rows {
            let reply = t.call(action, &with(valid(action), changes.clone())).await;
            if *accepted {
                assert_ne!(reply.response_code, "-1001", "{action:?} {changes}");
            } else {
                assert_eq!(reply.response_code, "-1001", "{action:?} {changes}");
                let expected = if action == Action::CollectionCollect {
                    "Verification failed"
                } else {
                    "Verification error"
                };
                assert_eq!(reply.response_description, expected);
            }
        }
    }
}

#[tokio::test]
async fn order_of_checks_parse_then_auth_then_action_then_fields() {
    let t = TestGateway::start().await;
    for action in Action::ALL {
        // 1. Parse beats everything.
        assert_eq!(
            t.call_raw(action, b"{\"authentication\": \"wrong\"")
                .await
                .response_code,
            "2001"
        );
        // 2. Authentication beats a wrong action and bad fields.
        let body = with(
            valid(action),
            json!({"authentication": "wrong", "action": "other", "controlNumber": 5}),
        );
        assert_eq!(t.call(action, &body).await.response_code, "-1001");
        // 3. The action beats bad fields.
        let body = with(
            valid(action),
            json!({"action": "somethingElse", "controlNumber": "x"}),
        );
        let reply = t.call(action, &body).await;
        assert_eq!(reply.response_code, "2003", "{action:?}");
        assert_eq!(
            reply.response_description,
            format!("action must be {} on this endpoint", action.name())
        );
        let body = with(valid(action), json!({"action": null}));
        assert_eq!(t.call(action, &body).await.response_code, "2003");
    }
    // Another endpoint's action is a wrong action.
    let body = valid(Action::CollectionCollect);
    assert_eq!(
        t.call(Action::PayoutPayout, &body).await.response_code,
        "2003"
    );
}

#[tokio::test]
async fn bodies_that_are_not_one_json_object_are_2001() {
    let t = TestGateway::start().await;
    let duplicate = format!(
        r#"{{"userName":"{USER}","userName":"{USER}","action":"payoutPayout","authentication":"{KEY}"}}"#
    );
    let big = format!(
        r#"{{"userName":"{USER}","pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"   ".to_vec(),
        b"[]".to_vec(),
        b"\"payoutPayout\"".to_vec(),
        b"null".to_vec(),
        b"{\"amount\": NaN}".to_vec(),
        b"userName=AppName%40skypay&action=payoutPayout".to_vec(),
        vec![0xff, 0xfe, b'{', b'}'],
        duplicate.into_bytes(),
        big.into_bytes(),
        deep.into_bytes(),
        b"eyJ1c2VyTmFtZSI6IkFwcE5hbWVAc2t5cGF5In0=".to_vec(),
    ];
    for action in Action::ALL {
        for body in &bodies {
            let reply = t.call_raw(action, body).await;
            assert_eq!(
                reply.response_code,
                "2001",
                "{}",
                String::from_utf8_lossy(&body[..body.len().min(60)])
            );
            assert!(reply.response_description.starts_with("The body"));
        }
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_a_byte_order_mark_is_tolerated() {
    let t = TestGateway::start().await;
    let cn = number(77);
    t.register_payout(PayoutSpec::pickup(&cn)).await;
    let body = payout_payout(
        &cn,
        json!({"cashierId": "C-17", "extra": {"nested": [1, 2]}}),
    );
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(body.to_string().as_bytes());
    assert_eq!(
        t.call_raw(Action::PayoutPayout, &bytes).await.response_code,
        "1000"
    );
}

#[tokio::test]
async fn response_time_is_manila_time_with_four_fraction_digits() {
    let t = TestGateway::start().await;
    let before = chrono::Utc::now();
    let reply = t
        .call(Action::PayoutPayout, &valid(Action::PayoutPayout))
        .await;
    let after = chrono::Utc::now();
    let time = &reply.response_time;
    assert_eq!(time.len(), "2018-06-18 17:52:10.5211".len(), "{time}");
    let parsed = chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    let as_utc = parsed.and_utc() - chrono::Duration::hours(8);
    assert!(
        as_utc >= before - chrono::Duration::milliseconds(1) && as_utc <= after,
        "{time}"
    );
}

#[tokio::test]
async fn a_source_outside_the_allowed_ranges_gets_403_without_an_envelope() {
    let t = TestGateway::start_with(&[("ALLOWED_SOURCE_CIDRS", "198.51.100.0/24")]).await;
    let body = valid(Action::PayoutPayout).to_string();
    let call = |ip: &str| skypay::Call {
        body: body.as_bytes(),
        source_ip: Some(ip.parse().unwrap()),
        request_id: "cidr",
    };
    let refused = t
        .gateway
        .handle(Action::PayoutPayout, call("203.0.113.10"))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, r#"{"message":"Forbidden"}"#);
    let allowed = t
        .gateway
        .handle(Action::PayoutPayout, call("198.51.100.7"))
        .await;
    assert_eq!(allowed.status, 200);
    assert_eq!(parse_envelope(&allowed.body).response_code, "-1012");
}

/// SPEC 14.4: during SkyPay's "CC Change Key" rotation either key may arrive. With two keys
/// configured, a body under the old key and one under the new are both read, each answered
/// under the key that opened it (before: `OLD,NEW` was one literal key and both got 2001).
#[tokio::test]
async fn a_body_under_the_old_or_the_new_aes_key_is_read_and_answered_under_it() {
    let t = TestGateway::start_with(&[
        ("SKYPAY_ENCRYPTION_KEY", "old-aes-secret,new-aes-secret"),
        ("SKYPAY_ENCRYPTION", "required"),
    ])
    .await;
    t.register_payout(PayoutSpec::pickup("SKY0112345678")).await;
    let body = payout_inquiry("SKY0112345678", json!({})).to_string();
    for secret in ["old-aes-secret", "new-aes-secret"] {
        let key = skypay::protocol::crypto::derive_key(secret.as_bytes());
        let sealed = skypay::protocol::crypto::encrypt(&key, body.as_bytes());
        let reply = t.handle(Action::PayoutInquiry, sealed.as_bytes()).await;
        assert_eq!(reply.content_type, "text/plain", "{secret}");
        let plain = skypay::protocol::crypto::decrypt(&key, &reply.body)
            .unwrap_or_else(|| panic!("the reply to a body under {secret} is under {secret}"));
        let (envelope, _) = parse_reply(std::str::from_utf8(&plain).unwrap());
        assert_eq!(envelope.response_code, "1000", "{secret}");
    }
    // A third key opens nothing: the one 2001 text, under the first key.
    let other = skypay::protocol::crypto::derive_key(b"someone-else");
    let sealed = skypay::protocol::crypto::encrypt(&other, body.as_bytes());
    let reply = t.handle(Action::PayoutInquiry, sealed.as_bytes()).await;
    let first = skypay::protocol::crypto::derive_key(b"old-aes-secret");
    let plain =
        skypay::protocol::crypto::decrypt(&first, &reply.body).expect("under the first key");
    let envelope = parse_envelope(std::str::from_utf8(&plain).unwrap());
    assert_eq!(
        (
            envelope.response_code.as_str(),
            envelope.response_description.as_str()
        ),
        ("2001", "The body cannot be decrypted")
    );
}

/// The body of `crypto.rs`'s openssl vector: seed 002's sample for SKY0112345678, encrypted with
/// the key `SkyPay-Partner-Secret` by `openssl enc -aes-128-ecb`.
const OPENSSL_PAYOUT: &str = "2ssT1WRwnmQVfTxhXjGw76tncKvhua233XxET0RyNdUIEG+MKVBPasIAAgWu0wnCZa6Y/hONMlViIaOvbQ2BX6ru4H3RsKCAQop4nkO+IKk3QNio9Jj5RjlUp22+peRqWU2xffihowB+99XG9aWt8bpMbIYlXYIKHWCeUA7TJ2qAfFsyKyXCFIWSiBwQ271qS1Ph4guqfz+01NxXCuYc2cAkPFm99lDjWHkRR8B4cf9zM6nf9Okb3z+e/vvDZcFxC/KjK05A+mwRCRx7alnTJA==";

#[tokio::test]
async fn the_aes_layer_decrypts_openssl_bodies_and_answers_in_kind() {
    let t = TestGateway::start_with(&[("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret")]).await;
    t.register_payout(PayoutSpec::pickup("SKY0112345678")).await;
    let call = |body: &'static [u8]| skypay::Call {
        body,
        source_ip: None,
        request_id: "aes",
    };
    let reply = t
        .gateway
        .handle(Action::PayoutPayout, call(OPENSSL_PAYOUT.as_bytes()))
        .await;
    assert_eq!(reply.content_type, "text/plain");
    let key = skypay::protocol::crypto::derive_key(b"SkyPay-Partner-Secret");
    let plain = skypay::protocol::crypto::decrypt(&key, &reply.body).expect("an encrypted reply");
    let envelope = parse_envelope(std::str::from_utf8(&plain).unwrap());
    assert_eq!(envelope.response_code, "1000");
    // Plain JSON still works in auto mode; garbage that is not JSON cannot be decrypted: 2001.
    let plain_reply = t
        .call(
            Action::PayoutPayout,
            &payout_payout("SKY0112345678", json!({})),
        )
        .await;
    assert_eq!(plain_reply.response_code, "-1026");
    // SPEC 13.1: what was taken as ciphertext and cannot be decrypted is 2001, answered
    // encrypted.
    let reply = t
        .gateway
        .handle(Action::PayoutPayout, call(b"bm90IGEgY2lwaGVydGV4dA=="))
        .await;
    assert_eq!(reply.content_type, "text/plain");
    let plain = skypay::protocol::crypto::decrypt(&key, &reply.body).expect("an encrypted reply");
    assert_eq!(
        parse_envelope(std::str::from_utf8(&plain).unwrap()).response_code,
        "2001"
    );

    // Required mode refuses plain JSON (2001), answered in clear (SPEC 14.7: a body that
    // begins with `{` was sent by someone who cannot read AES); anything else is answered
    // encrypted, a body it cannot open included, with the one 2001 text (SPEC 14.4).
    let strict = TestGateway::start_with(&[
        ("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret"),
        ("SKYPAY_ENCRYPTION", "required"),
    ])
    .await;
    let body = payout_payout("SKY0112345678", json!({})).to_string();
    let reply = strict
        .gateway
        .handle(
            Action::PayoutPayout,
            skypay::Call {
                body: body.as_bytes(),
                source_ip: None,
                request_id: "aes",
            },
        )
        .await;
    assert_eq!(reply.content_type, "application/json");
    let envelope = parse_envelope(&reply.body);
    assert_eq!(envelope.response_code, "2001");
    assert_eq!(envelope.response_description, "The body must be encrypted");
    let reply = strict
        .gateway
        .handle(Action::PayoutPayout, call(b"bm90IGEgY2lwaGVydGV4dA=="))
        .await;
    assert_eq!(reply.content_type, "text/plain");
    let plain = skypay::protocol::crypto::decrypt(&key, &reply.body).unwrap();
    let envelope = parse_envelope(std::str::from_utf8(&plain).unwrap());
    assert_eq!(envelope.response_code, "2001");
    assert_eq!(
        envelope.response_description,
        "The body cannot be decrypted"
    );
}
