//! payoutPayout as a Rust user following the AWS SDK's guide would write it: the benchmark's
//! Rust peer (bench/README.md). The same checks in the same order as functions/payout-payout
//! (2001, -1001, 2003, -1014, -1012, 2002), the same conditional `UpdateItem` on the same item
//! (`Ledger::pay_out`'s update and PAYABLE condition, ALL_OLD on failure: -1026 or -1012), the
//! same envelope. What differs is only how it is built: `aws_config::load_defaults`, the SDK's
//! default features, the default release profile.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use lambda_http::{Body, Error, Request, Response, run, service_fn};
use serde_json::{Value, json};

const UPDATE: &str = "SET #paidAt = :now, #paidBy = :via, #payTime = :payTime, \
    #payTimeUtc = :payTimeUtc, #paidChannel = :channel, #paidRequestId = :requestId, \
    #paidToken = :token, #updatedAt = :now ADD #finals :paidSet REMOVE #ttl";
const PAYABLE: &str = "attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) \
    AND #expiresAt > :nowEpoch \
    AND (#queueStatus = :QUEUED OR (#queueStatus = :PENDING AND attribute_exists(#uploadedAt)))";

struct Config {
    table: String,
    user: String,
    keys: Vec<String>,
    prefix: String,
}

fn envelope(code: &str, description: &str) -> Response<Body> {
    let now = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let body = json!({
        "responseTime": format!("{}.{:04}", now.format("%Y-%m-%d %H:%M:%S"), now.timestamp_subsec_micros() / 100),
        "responseCode": code,
        "responseDescription": description,
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .unwrap()
}

fn text(fields: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn handler(
    client: &aws_sdk_dynamodb::Client,
    config: &Config,
    request: Request,
) -> Result<Response<Body>, Error> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(request.body().as_ref()) else {
        return Ok(envelope("2001", "The body is not a JSON object"));
    };
    let user_ok = text(&fields, "userName").as_deref() == Some(config.user.as_str());
    let key = text(&fields, "authentication").unwrap_or_default();
    if !user_ok || !config.keys.iter().any(|k| *k == key) {
        return Ok(envelope("-1001", "Verification error"));
    }
    if text(&fields, "action").as_deref() != Some("payoutPayout") {
        return Ok(envelope("2003", "action must be payoutPayout"));
    }
    let Some(number) = text(&fields, "controlNumber") else {
        return Ok(envelope("2002", "controlNumber is required"));
    };
    let Some(digits) = number.strip_prefix(config.prefix.as_str()) else {
        return Ok(envelope("-1014", "Prefix of Control number is incorrect."));
    };
    if !(8..=10).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(envelope("-1012", "Control number invalid or expired"));
    }
    let Some(channel) = text(&fields, "withdrawChannel").and_then(|c| c.parse::<u32>().ok()) else {
        return Ok(envelope(
            "2002",
            "withdrawChannel must be an integer from 1 to 99999",
        ));
    };
    let Some(pay_time) = text(&fields, "payTime") else {
        return Ok(envelope("2002", "payTime is required"));
    };
    let Ok(local) = chrono::NaiveDateTime::parse_from_str(&pay_time, "%Y-%m-%d %H:%M:%S") else {
        return Ok(envelope("2002", "payTime must be yyyy-MM-dd HH:mm:ss"));
    };
    let pay_time_utc = (local - chrono::Duration::hours(8)).and_utc().to_rfc3339();
    let now = chrono::Utc::now();
    let names: HashMap<String, String> = [
        "paidAt",
        "paidBy",
        "payTime",
        "payTimeUtc",
        "paidChannel",
        "paidRequestId",
        "paidToken",
        "updatedAt",
        "finals",
        "ttl",
        "closedAs",
        "expiresAt",
        "queueStatus",
        "uploadedAt",
    ]
    .iter()
    .map(|n| (format!("#{n}"), (*n).to_owned()))
    .collect();
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let result = client
        .update_item()
        .table_name(&config.table)
        .key("pk", s(&format!("PAYOUT#{number}")))
        .key("sk", s("PAYOUT"))
        .update_expression(UPDATE)
        .condition_expression(PAYABLE)
        .set_expression_attribute_names(Some(names))
        .expression_attribute_values(":now", s(&now.to_rfc3339()))
        .expression_attribute_values(":nowEpoch", AttributeValue::N(now.timestamp().to_string()))
        .expression_attribute_values(":via", s("payoutPayout"))
        .expression_attribute_values(":payTime", s(&pay_time))
        .expression_attribute_values(":payTimeUtc", s(&pay_time_utc))
        .expression_attribute_values(":channel", AttributeValue::N(channel.to_string()))
        .expression_attribute_values(":requestId", s("peer"))
        .expression_attribute_values(":token", s(&format!("{:032x}", rand::random::<u128>())))
        .expression_attribute_values(":paidSet", AttributeValue::Ss(vec!["PAID".to_owned()]))
        .expression_attribute_values(":QUEUED", s("QUEUED"))
        .expression_attribute_values(":PENDING", s("PENDING"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    Ok(match result {
        Ok(_) => envelope("1000", "Success"),
        Err(e) => match e.as_service_error() {
            Some(failed) if failed.is_conditional_check_failed_exception() => {
                let paid = match failed {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(f) => {
                        f.item().is_some_and(|i| i.contains_key("paidAt"))
                    }
                    _ => false,
                };
                if paid {
                    envelope("-1026", "Transactions has been paid")
                } else {
                    envelope("-1012", "Control number invalid or expired")
                }
            }
            _ => envelope("-1009", "Unpredictable exception occurs"),
        },
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let config = Config {
        table: env("TABLE_NAME")?,
        user: env("SKYPAY_USERNAME")?,
        keys: env("SKYPAY_AUTH_KEYS")?
            .split(',')
            .map(|k| k.trim().to_owned())
            .collect(),
        prefix: env("CONTROL_NUMBER_PREFIX")?,
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    run(service_fn(|request| handler(&client, &config, request))).await
}
