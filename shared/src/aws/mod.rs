//! The AWS adapters: API Gateway and SQS events in, the gateway's replies out ([`lambda`]), and
//! the DynamoDB and SDK clients built from the environment ([`dynamo`]).

pub mod dynamo;
pub mod lambda;
