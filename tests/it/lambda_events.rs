//! The full Lambda handler: API Gateway (HTTP API) events in, HTTP responses out. The events in
//! `events/` are the ones `sam local invoke -e` uses.

use lambda_http::Body;
use serde_json::json;
use skypay::Action;
use skypay::aws::lambda;
use support::*;

fn event_file(name: &str) -> String {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn invoke(t: &TestGateway, action: Action, event: &str) -> (u16, String, String) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway v2 event");
    let response = lambda::respond(&t.gateway, action, request).await.unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        other => panic!("unexpected body {other:?}"),
    };
    (response.status().as_u16(), content_type, body)
}

async fn code_of(t: &TestGateway, action: Action, event: &str) -> String {
    let (status, content_type, body) = invoke(t, action, event).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    parse_envelope(&body).response_code
}

#[tokio::test]
async fn the_payout_payout_event_pays_once() {
    let t = TestGateway::start().await;
    t.register_payout(PayoutSpec::pickup("SKY0112345678")).await;
    let event = event_file("payout-payout");
    assert_eq!(code_of(&t, Action::PayoutPayout, &event).await, "1000");
    assert_eq!(code_of(&t, Action::PayoutPayout, &event).await, "-1026");
}

#[tokio::test]
async fn the_collection_collect_event_collects_once() {
    let t = TestGateway::start().await;
    t.register_contract("SKY0187654321", "10000").await;
    let event = event_file("collection-collect");
    assert_eq!(code_of(&t, Action::CollectionCollect, &event).await, "1000");
    assert_eq!(
        code_of(&t, Action::CollectionCollect, &event).await,
        "-1015"
    );
}

#[tokio::test]
async fn the_payout_queue_payout_event_is_acknowledged_and_applied() {
    let t = TestGateway::start().await;
    t.register_payout(PayoutSpec::pushed("SKY01123456789"))
        .await;
    let event = event_file("payout-queue-payout");
    assert_eq!(code_of(&t, Action::PayoutQueuePayout, &event).await, "1000");
    assert_eq!(code_of(&t, Action::PayoutQueuePayout, &event).await, "1000");
    match t.ledger().payout("SKY01123456789").await.unwrap() {
        Some(skypay::ledger::PayoutLookup::Payout(v)) => {
            assert_eq!(v.status, skypay::ledger::PayoutStatus::Uploaded);
            assert_eq!(v.events.len(), 1);
            assert_eq!(v.reference_number.as_deref(), Some("MLA001041380755361119"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn base64_bodies_and_any_content_type_are_accepted() {
    let t = TestGateway::start().await;
    let cn = number(300);
    t.register_payout(PayoutSpec::pickup(&cn)).await;
    let body = payout_payout(&cn, json!({})).to_string();
    let event = api_gateway_event("payoutPayout", &body, true, "203.0.113.10")
        .replace("application/json", "text/plain");
    assert_eq!(code_of(&t, Action::PayoutPayout, &event).await, "1000");
    // No content type at all, and a plain body.
    let mut event: serde_json::Value = serde_json::from_str(&api_gateway_event(
        "payoutPayout",
        &body,
        false,
        "203.0.113.10",
    ))
    .unwrap();
    event["headers"]
        .as_object_mut()
        .unwrap()
        .remove("content-type");
    assert_eq!(
        code_of(&t, Action::PayoutPayout, &event.to_string()).await,
        "-1026"
    );
}

#[tokio::test]
async fn base64_garbage_is_2001() {
    let t = TestGateway::start().await;
    let event = api_gateway_event("payoutPayout", "\u{1}\u{2}not json", true, "203.0.113.10");
    assert_eq!(code_of(&t, Action::PayoutPayout, &event).await, "2001");
}

#[tokio::test]
async fn the_source_ip_comes_from_the_request_context() {
    let t = TestGateway::start_with(&[("ALLOWED_SOURCE_CIDRS", "203.0.113.0/24")]).await;
    let body = payout_payout(&number(1), json!({})).to_string();
    let inside = api_gateway_event("payoutPayout", &body, false, "203.0.113.200");
    let outside = api_gateway_event("payoutPayout", &body, false, "192.0.2.1");
    assert_eq!(code_of(&t, Action::PayoutPayout, &inside).await, "-1012");
    let (status, _, body) = invoke(&t, Action::PayoutPayout, &outside).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
}

#[tokio::test]
async fn the_payout_inquiry_event_predicts_the_payout_payout_event() {
    let t = TestGateway::start().await;
    t.register_payout(PayoutSpec::pickup("SKY0112345678")).await;
    let inquiry = event_file("payout-inquiry");
    let (status, _, body) = invoke(&t, Action::PayoutInquiry, &inquiry).await;
    assert_eq!(status, 200);
    let (envelope, extra) = parse_reply(&body);
    assert_eq!(envelope.response_code, "1000");
    assert_eq!(extra.len(), 14, "{body}");
    let payout = event_file("payout-payout");
    assert_eq!(code_of(&t, Action::PayoutPayout, &payout).await, "1000");
    assert_eq!(code_of(&t, Action::PayoutInquiry, &inquiry).await, "-1026");
}

/// SkyPay's collectionInquiry sample: `collectionIcnquiry`, the number as `controlNumber`, a
/// 13-digit phone.
#[tokio::test]
async fn the_collection_inquiry_sample_is_answered_with_the_payer() {
    let t = TestGateway::start().await;
    t.register_contract_with(
        "SKY0187654321",
        "5000",
        Some(("Cruz,Juan", "Manila", "09171234567")),
    )
    .await;
    let (status, _, body) = invoke(
        &t,
        Action::CollectionInquiry,
        &event_file("collection-inquiry"),
    )
    .await;
    assert_eq!(status, 200);
    let (envelope, extra) = parse_reply(&body);
    assert_eq!(envelope.response_code, "1000");
    assert_eq!(
        extra,
        [
            ("amount", "3900.00"),
            ("payerName", "Cruz,Juan"),
            ("payerAddress", "Manila"),
            ("payerPhone", "09171234567")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[tokio::test]
async fn the_finance_notification_sample_is_stored() {
    let t = TestGateway::start().await;
    let event = event_file("finance-notification");
    assert_eq!(
        code_of(&t, Action::FinanceNotification, &event).await,
        "1000"
    );
    assert_eq!(
        code_of(&t, Action::FinanceNotification, &event).await,
        "1000"
    );
    let day = chrono::NaiveDate::from_ymd_opt(2023, 6, 18).unwrap();
    let listed = t.ledger().finance_day(day).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].amount, Some(dec("12000000.00")));
}

/// SPEC 13.1: SkyPay's samples encrypted by an independent implementation (openssl;
/// events/encrypted/make.sh) are read under `required`, and every answer goes back encrypted
/// as `text/plain`.
#[tokio::test]
async fn skypays_samples_encrypted_by_openssl_are_answered_encrypted() {
    let t = TestGateway::start_with(&[
        ("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret"),
        ("SKYPAY_ENCRYPTION", "required"),
    ])
    .await;
    t.register_payout(PayoutSpec::pickup("SKY0112345678")).await;
    t.register_contract("SKY0187654321", "10000").await;
    t.register_payout(PayoutSpec::pushed("SKY01123456789"))
        .await;
    let key = skypay::protocol::crypto::derive_key(b"SkyPay-Partner-Secret");
    let rows = [
        (Action::PayoutInquiry, "payout-inquiry", "1000"),
        (Action::PayoutPayout, "payout-payout", "1000"),
        (Action::PayoutInquiry, "payout-inquiry", "-1026"),
        (Action::CollectionInquiry, "collection-inquiry", "1000"),
        (Action::CollectionCollect, "collection-collect", "1000"),
        (Action::PayoutQueuePayout, "payout-queue-payout", "1000"),
        (Action::FinanceNotification, "finance-notification", "1000"),
    ];
    for (action, name, code) in rows {
        let event = event_file(&format!("encrypted/{name}"));
        let (status, content_type, body) = invoke(&t, action, &event).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "text/plain"),
            "{name}"
        );
        let plain = skypay::protocol::crypto::decrypt(&key, &body).expect("an encrypted reply");
        let (envelope, _) = parse_reply(std::str::from_utf8(&plain).unwrap());
        assert_eq!(envelope.response_code, code, "{name}");
    }
    // The same samples in clear are refused under `required`: 2001, answered in clear (SPEC
    // 14.7: their sender cannot read AES).
    let (_, content_type, body) =
        invoke(&t, Action::PayoutInquiry, &event_file("payout-inquiry")).await;
    assert_eq!(content_type, "application/json");
    assert_eq!(parse_envelope(&body).response_code, "2001");
}

/// SPEC 14.5: partner-api answers only the principals in `PARTNER_API_CALLER_ARNS`. The HTTP
/// API's IAM authorizer proves who signed; an unknown signer, and a request without that
/// identity (a direct Lambda invoke skips the API), are 403 `{"error"}` and change nothing.
#[tokio::test]
async fn partner_api_answers_only_its_named_callers() {
    use tower::ServiceExt;
    let t = TestGateway::start().await;
    let state = skypay_admin::AdminState::new(
        t.gateway.config().clone(),
        t.ledger().clone(),
        None,
        skypay_admin::BODY_TIMEOUT,
    )
    .unwrap();
    let callers = skypay::aws::lambda::Callers::parse("arn:aws:iam::123456789012:role/loan-system");
    let app = skypay_admin::only_for(skypay_admin::router(state), callers);
    let sample: serde_json::Value =
        serde_json::from_str(&event_file("partner-api-register-payout")).unwrap();
    let with_caller = |arn: Option<&str>| {
        let mut event = sample.clone();
        match arn {
            Some(arn) => {
                event["requestContext"]["authorizer"]["iam"]["userArn"] = serde_json::json!(arn)
            }
            None => {
                event["requestContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorizer");
            }
        }
        lambda_http::request::from_str(&event.to_string()).unwrap()
    };
    let before = t.snapshot().await;
    for arn in [
        None,
        Some("arn:aws:sts::123456789012:assumed-role/someone-else/s"),
        Some("arn:aws:sts::999999999999:assumed-role/loan-system/s"),
    ] {
        let response = app.clone().oneshot(with_caller(arn)).await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{arn:?}");
        let body = axum::body::to_bytes(axum::body::Body::new(response.into_body()), 65_536)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    assert_eq!(t.snapshot().await, before, "nothing registered");
    let response = app
        .clone()
        .oneshot(with_caller(Some(
            "arn:aws:sts::123456789012:assumed-role/loan-system/loan-system",
        )))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}
