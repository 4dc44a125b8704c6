//! partner-api's retry for a PENDING payout (SPEC 13.5): the instruction goes on the payout
//! queue, where payout-queue pushes it again with the guarantees and the dead-letter queue of
//! any instruction sent there (the canonical instruction carries its control number, so the
//! redelivery finds the same payout: `PayoutQueue::submit`).

use skypay::ConfigError;

/// `PAYOUT_QUEUE_URL`: the queue payout-queue reads.
pub const PAYOUT_QUEUE_URL: &str = "PAYOUT_QUEUE_URL";
/// The SDK's own variable for an SQS elsewhere (tests).
pub const AWS_ENDPOINT_URL_SQS: &str = "AWS_ENDPOINT_URL_SQS";

#[derive(Clone, Debug)]
pub struct SqsRetry {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsRetry {
    /// From the environment (Lambda's credentials, `PAYOUT_QUEUE_URL`); a missing variable is
    /// named.
    pub fn from_env() -> Result<SqsRetry, ConfigError> {
        let queue_url = std::env::var(PAYOUT_QUEUE_URL)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing {
                name: PAYOUT_QUEUE_URL,
            })?;
        let sdk = skypay::aws::dynamo::sdk_config_from_env(AWS_ENDPOINT_URL_SQS)?;
        Ok(SqsRetry {
            client: aws_sdk_sqs::Client::new(&sdk),
            queue_url,
        })
    }
}

impl SqsRetry {
    /// Puts the instruction on the payout queue.
    pub(crate) async fn enqueue(&self, instruction: &str) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(instruction)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
    }
}
