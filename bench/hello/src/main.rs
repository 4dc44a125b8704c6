//! The cold-start baseline of `bench/run.sh`: the smallest `lambda_http` function, with the same
//! `lambda_http` features, tokio runtime and release profile as the gateway's functions, so that
//! each function's cold start can be reported as a ratio to it.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

async fn hello(_request: Request) -> Result<Response<Body>, Error> {
    let response = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(r#"{"hello":"world"}"#))?;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(hello)).await
}
