//! SkyPay's bodies and envelopes, as the SPEC's tables write them.

use serde_json::{Value, json};
use skypay::protocol::wire::Envelope;

use crate::*;

/// A reply with the members an accepted call adds (SPEC 13.2, 13.3): the envelope's three first,
/// in the sample's order, then the extra members in order, every value a string.
pub fn parse_reply(body: &str) -> (Envelope, Vec<(String, String)>) {
    let Ordered(members) =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not a JSON object ({e}): {body}"));
    let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names.get(..3),
        Some(&["responseTime", "responseCode", "responseDescription"][..]),
        "{body}"
    );
    let envelope: Envelope = serde_json::from_str(body).unwrap();
    let extra = members
        .into_iter()
        .skip(3)
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => panic!("{k} is not a string but {other}: {body}"),
        })
        .collect();
    (envelope, extra)
}

/// A JSON object's members in the order they were written (serde_json's map sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    members.push(entry);
                }
                Ok(Ordered(members))
            }
        }
        d.deserialize_map(Members)
    }
}

pub fn parse_envelope(body: &str) -> Envelope {
    let envelope: Envelope =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not an envelope ({e}): {body}"));
    // Exactly the three members, in the sample's order.
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(body)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 3, "{body}");
    assert!(
        body.starts_with(r#"{"responseTime":""#) && body.contains(r#"","responseCode":""#),
        "members out of order: {body}"
    );
    envelope
}

/// A payoutPayout body with the seed's field values and the given overrides (a `null`
/// override removes the field).
pub fn payout_payout(control_number: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "payoutPayout",
            "authentication": KEY,
            "controlNumber": control_number,
            "withdrawChannel": "1",
            "payTime": "2019-02-18 14:59:33",
        }),
        overrides,
    )
}

/// A payoutInquiry body (SPEC 13.2).
pub fn payout_inquiry(control_number: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "payoutInquiry",
            "authentication": KEY,
            "controlNumber": control_number,
        }),
        overrides,
    )
}

/// A collectionInquiry body (SPEC 13.3), spelled as the SPEC spells the action.
pub fn collection_inquiry(contract_number: &str, amount: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "collectionInquiry",
            "authentication": KEY,
            "contractNumber": contract_number,
            "amount": amount,
            "phone": "09270348095",
        }),
        overrides,
    )
}

/// A financeNotification body with SkyPay's sample values (SPEC 13.4).
pub fn finance_notification(reference_number: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "financeNotification",
            "authentication": KEY,
            "transctionDate": "2023-06-18 17:52:10",
            "companyPrefix": "SKY98",
            "companyName": "SKYPAY",
            "accountNo": "091234567899",
            "sourceAccountNo": "",
            "beneficiaryAccountNo": "001234567899",
            "statementType": "1",
            "signType": "recharge",
            "amount": 12_000_000,
            "currency": "PHP",
            "referenceNumber": reference_number,
        }),
        overrides,
    )
}

pub fn collection_collect(
    contract_number: &str,
    receipt: &str,
    amount: &str,
    overrides: Value,
) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "collectionCollect",
            "authentication": KEY,
            "contractNumber": contract_number,
            "amount": amount,
            "phone": "09270348095",
            "receiptNumber": receipt,
            "collectedTime": "2019-02-18 15:01:02",
            "payChannel": "10",
        }),
        overrides,
    )
}

pub fn payout_queue_payout(
    control_number: &str,
    pay_type: u32,
    deal_time: &str,
    overrides: Value,
) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "payoutQueuePayout",
            "authentication": KEY,
            "controlNumber": control_number,
            "payType": pay_type.to_string(),
            "dealTime": deal_time,
        }),
        overrides,
    )
}

fn with_overrides(mut base: Value, overrides: Value) -> Value {
    if let (Some(map), Value::Object(changes)) = (base.as_object_mut(), overrides) {
        for (k, v) in changes {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
    base
}

/// An API Gateway HTTP API (payload 2.0) event carrying `body`, as API Gateway sends it.
pub fn api_gateway_event(route: &str, body: &str, base64: bool, source_ip: &str) -> String {
    use std::fmt::Write;
    let encoded = if base64 {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        body.to_owned()
    };
    let mut event = String::new();
    write!(
        event,
        "{}",
        json!({
            "version": "2.0",
            "routeKey": format!("POST /{route}"),
            "rawPath": format!("/{route}"),
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": "api.example.com"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "skypayapi",
                "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": {
                    "method": "POST",
                    "path": format!("/{route}"),
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": "SkyPay"
                },
                "requestId": "JKJaXmPLvHcESHA=",
                "routeKey": format!("POST /{route}"),
                "stage": "$default",
                "time": "18/Feb/2019:06:59:33 +0000",
                "timeEpoch": 1_550_473_173_000_i64
            },
            "body": encoded,
            "isBase64Encoded": base64
        })
    )
    .unwrap();
    event
}

/// A control number with our prefix and `n` as its digits.
pub fn number(n: u64) -> String {
    format!("{PREFIX}{n:010}")
}

/// An exact amount, written as the SPEC's tables write it (`"250.00"`).
pub fn dec(text: &str) -> rust_decimal::Decimal {
    text.parse().expect("a decimal")
}
