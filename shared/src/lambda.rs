//! The API Gateway (HTTP API) adapter: a `lambda_http` request in, the gateway's reply out.
//! Every function's `main.rs` hands its requests here.

use std::convert::Infallible;
use std::net::IpAddr;

use lambda_http::http::StatusCode;
use lambda_http::http::header::{CONTENT_TYPE, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::actions::Action;
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
