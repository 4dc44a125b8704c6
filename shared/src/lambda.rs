//! The Lambda adapters: API Gateway (HTTP API) requests in, the gateway's reply out (every
//! SkyPay function's `main.rs` hands its requests here), and payout-queue's SQS batches.

use std::convert::Infallible;
use std::net::IpAddr;

use lambda_http::http::StatusCode;
use lambda_http::http::header::{CONTENT_TYPE, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::actions::Action;
use crate::actions::payout_queue::PayoutQueue;
use crate::gateway::{Call, Gateway};

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

/// The SQS Lambda: one instruction per message; only the messages that must be tried again are
/// reported as failures (partial batch response). Invalid and conflicting instructions are
/// failed too, so that after the retry limit they land in the dead-letter queue for a person to
/// see, instead of vanishing.
pub async fn handle_sqs(
    queue: &PayoutQueue,
    event: lambda_runtime::LambdaEvent<aws_lambda_events::sqs::SqsEvent>,
) -> Result<aws_lambda_events::sqs::SqsBatchResponse, std::convert::Infallible> {
    let mut response = aws_lambda_events::sqs::SqsBatchResponse::default();
    let mut tasks = tokio::task::JoinSet::new();
    // Which message each task holds: a message not reported as failed is deleted by SQS, so a
    // task that dies must still report its message.
    let mut held = std::collections::HashMap::new();
    for record in event.payload.records {
        let queue = queue.clone();
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let task = tasks.spawn({
            let id = id.clone();
            async move {
                let retry = queue.process_message(&id, body.as_bytes()).await;
                (id, retry)
            }
        });
        held.insert(task.id(), id);
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((id, true)) => response.add_failure(id),
            Ok((_, false)) => {}
            Err(e) => {
                tracing::error!(error = %e, "a payout-queue task failed; its message is retried");
                if let Some(id) = held.remove(&e.id()) {
                    response.add_failure(id);
                }
            }
        }
    }
    Ok(response)
}
