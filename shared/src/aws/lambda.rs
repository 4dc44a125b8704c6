//! The Lambda adapters: API Gateway (HTTP API) requests in, the gateway's reply out (every
//! SkyPay function's `main.rs` hands its requests here), and payout-queue's SQS batches.

use std::convert::Infallible;
use std::net::IpAddr;

use lambda_http::http::StatusCode;
use lambda_http::http::header::{CONTENT_TYPE, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::inbound::gateway::{Call, Gateway};
use crate::protocol::action::Action;

/// The caller's address as API Gateway saw it.
pub fn source_ip(request: &Request) -> Option<IpAddr> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.parse().ok()),
        _ => None,
    }
}

/// The Lambda invocation id, else API Gateway's request id.
pub fn request_id(request: &Request) -> String {
    let invocation = request
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty());
    let api = || match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    };
    invocation
        .or_else(api)
        .unwrap_or_else(crate::ledger::random_token)
}

/// Handles one API Gateway request for `action`. Infallible: every outcome is an HTTP reply.
pub async fn respond(
    gateway: &Gateway,
    action: Action,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let request_id = request_id(&request);
    let body: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    let call = Call {
        body,
        source_ip: source_ip(&request),
        request_id: &request_id,
    };
    let reply = gateway.handle(action, call).await;
    let mut response = Response::new(Body::Text(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    Ok(response)
}

/// An SQS Lambda's batch, one message per task: `process` takes a message's id and body and
/// says whether it must be tried again; only those are reported as failures (partial batch
/// response), so SQS deletes the rest. A task that dies still reports its message.
pub async fn handle_sqs<F, Fut>(
    event: lambda_runtime::LambdaEvent<aws_lambda_events::sqs::SqsEvent>,
    process: F,
) -> Result<aws_lambda_events::sqs::SqsBatchResponse, Infallible>
where
    F: Fn(String, String) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let mut response = aws_lambda_events::sqs::SqsBatchResponse::default();
    let mut tasks = tokio::task::JoinSet::new();
    // Which message each task holds: a message not reported as failed is deleted by SQS.
    let mut held = std::collections::HashMap::new();
    for record in event.payload.records {
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let work = process(id.clone(), body);
        let task = tasks.spawn({
            let id = id.clone();
            async move { (id, work.await) }
        });
        held.insert(task.id(), id);
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((id, true)) => response.add_failure(id),
            Ok((_, false)) => {}
            Err(e) => {
                tracing::error!(error = %e, "an SQS message's task failed; the message is retried");
                if let Some(id) = held.remove(&e.id()) {
                    response.add_failure(id);
                }
            }
        }
    }
    Ok(response)
}

/// The IAM principals partner-api answers (SPEC 14.5): `PARTNER_API_CALLER_ARNS`, the stack's
/// `PartnerApiCallerArns`. The HTTP API's IAM authorizer proves who signed a request; this says
/// whether that principal may move money. A request without the authorizer's identity (a
/// direct Lambda invoke, which skips the API) is nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Callers(Vec<String>);

impl Callers {
    pub const VARIABLE: &'static str = "PARTNER_API_CALLER_ARNS";

    /// Comma-separated ARNs: roles (`arn:aws:iam::ACCOUNT:role/[path/]NAME`) or users. Empty
    /// entries are dropped; an empty list lets nobody in.
    pub fn parse(text: &str) -> Callers {
        Callers(
            text.split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(principal_of)
                .collect(),
        )
    }

    /// From the environment; unset stops the process at start with the variable's name.
    pub fn from_env() -> Result<Callers, crate::config::ConfigError> {
        std::env::var(Callers::VARIABLE)
            .map(|text| Callers::parse(&text))
            .map_err(|_| crate::config::ConfigError::Missing {
                name: Callers::VARIABLE,
            })
    }

    /// Whether the request's signer is one of the callers.
    pub fn allow(&self, context: Option<&RequestContext>) -> bool {
        caller_arn(context).is_some_and(|arn| {
            let principal = principal_of(arn);
            self.0.contains(&principal)
        })
    }
}

/// The signer's ARN, as the HTTP API's IAM authorizer reports it (`authorizer.iam.userArn`).
pub fn caller_arn(context: Option<&RequestContext>) -> Option<&str> {
    match context {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|a| a.iam.as_ref())
            .and_then(|iam| iam.user_arn.as_deref())
            .filter(|arn| !arn.is_empty()),
        _ => None,
    }
}

/// One form for a principal: a role session (`arn:aws:sts::A:assumed-role/NAME/SESSION`) and a
/// role (`arn:aws:iam::A:role/PATH/NAME`) are both `arn:aws:iam::A:role/NAME` (a session's ARN
/// carries no path); anything else as given.
fn principal_of(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, _, account, resource] = parts[..] else {
        return arn.to_owned();
    };
    let role = match (service, resource.split_once('/')) {
        ("sts", Some(("assumed-role", rest))) => rest.split('/').next(),
        ("iam", Some(("role", rest))) => rest.rsplit('/').next(),
        _ => None,
    };
    match role {
        Some(name) if !name.is_empty() => {
            format!("{prefix}:{partition}:iam::{account}:role/{name}")
        }
        _ => arn.to_owned(),
    }
}

#[cfg(test)]
mod callers_tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerIamDescription,
        ApiGatewayV2httpRequestContext,
    };

    fn signed_by(arn: &str) -> RequestContext {
        let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
        iam.user_arn = Some(arn.to_owned());
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.iam = Some(iam);
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.authorizer = Some(authorizer);
        RequestContext::ApiGatewayV2(context)
    }

    #[test]
    fn a_role_and_its_sessions_are_one_principal_and_nobody_else_is() {
        let callers = Callers::parse(
            " arn:aws:iam::123456789012:role/ops/loan-system , ,arn:aws:iam::123456789012:user/alice",
        );
        for (arn, allowed) in [
            (
                "arn:aws:sts::123456789012:assumed-role/loan-system/session-1",
                true,
            ),
            ("arn:aws:iam::123456789012:role/loan-system", true),
            ("arn:aws:iam::123456789012:user/alice", true),
            (
                "arn:aws:sts::123456789012:assumed-role/loan-system-2/s",
                false,
            ),
            (
                "arn:aws:sts::999999999999:assumed-role/loan-system/s",
                false,
            ),
            ("arn:aws:iam::123456789012:user/bob", false),
            ("", false),
            ("not an arn", false),
        ] {
            assert_eq!(callers.allow(Some(&signed_by(arn))), allowed, "{arn}");
        }
        assert!(!callers.allow(None), "a direct invoke is nobody");
        let unsigned = RequestContext::ApiGatewayV2(ApiGatewayV2httpRequestContext::default());
        assert!(!callers.allow(Some(&unsigned)));
        assert!(!Callers::parse("").allow(Some(&signed_by(
            "arn:aws:iam::123456789012:role/loan-system"
        ))));
    }
}
