//! The payout-queue service: an instruction registered with a conditional write (which also
//! takes the push lease), pushed to SkyPay, and the outcome recorded: write, push, update.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Instruction;
use crate::config::Config;
use crate::ledger::{
    CreateOutcome, LeaseOutcome, Ledger, LedgerError, NewPayout, PayoutStatus, PayoutView,
    PushOutcome, PushRecord, WriteContext,
};
use crate::mask::Private;
use crate::rules::{self, ControlNumber};
use crate::skypay_client::{Answer, ClientError, SkyPayClient};
use crate::wire::{FieldError, Fields};

/// How long one push may hold a payout: three times the SkyPay client's whole timeout, so a
/// push in flight is never taken over, and short enough that a crashed one is retried soon.
fn lease_seconds(config: &Config) -> i64 {
    let timeout = config
        .skypay_api
        .as_ref()
        .map_or(crate::config::DEFAULT_API_TIMEOUT_SECONDS, |api| {
            api.timeout.as_secs()
        });
    i64::try_from(timeout.saturating_mul(3)).unwrap_or(30)
}
/// How many generated control numbers are tried before giving up on collisions.
const NUMBER_ATTEMPTS: u32 = 5;

/// How a control number is chosen when the instruction has none.
#[derive(Clone, Copy, Debug)]
pub enum Numbering<'a> {
    /// Random digits (the local server's admin route).
    Random,
    /// Derived from the SQS message id: a redelivery of the same message finds the payout it
    /// created, instead of creating a second one.
    FromMessage(&'a str),
}

impl Numbering<'_> {
    fn candidate(self, prefix: &rules::Prefix, attempt: u32) -> Option<ControlNumber> {
        let digits: u64 = match self {
            Numbering::Random => rand::random::<u64>() % 10_000_000_000,
            Numbering::FromMessage(id) => {
                let hash = Sha256::digest(format!("{id}:{attempt}").as_bytes());
                let mut bytes = [0u8; 8];
                for (b, h) in bytes.iter_mut().zip(hash.iter()) {
                    *b = *h;
                }
                u64::from_be_bytes(bytes) % 10_000_000_000
            }
        };
        ControlNumber::parse(&format!("{}{digits:010}", prefix.as_str()), prefix).ok()
    }
}

/// What happened to an instruction.
#[derive(Clone, Debug)]
pub enum Submitted {
    /// Registered now (and pushed, for pushed channels): 201.
    Created(Registered),
    /// The same instruction again for a payout still PENDING: pushed again, 200.
    Repushed(Registered),
    /// The same instruction again for a payout that is no longer PENDING: 409 on the admin
    /// route; in Lambda, an SQS redelivery of work already done.
    NotPending(Box<PayoutView>),
}

/// A payout this call registered or pushed, and the status our own conditional writes left it
/// in: known without reading it back, so a pushed payout costs write, push, update and nothing
/// more. The admin route reads the whole payout for its reply.
#[derive(Clone, Debug)]
pub struct Registered {
    pub control_number: ControlNumber,
    pub status: PayoutStatus,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the instruction is not a JSON object: {0}")]
    Body(#[from] crate::wire::BodyError),
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Conflict(String),
    #[error("a push for {0} is in flight")]
    InFlight(String),
    #[error("ledger failure: {0}")]
    Ledger(#[from] LedgerError),
}

/// The payout-queue service: configuration, ledger and SkyPay client, built once.
#[derive(Clone, Debug)]
pub struct PayoutQueue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    ledger: Ledger,
    skypay: Option<(SkyPayClient, String)>,
}

impl PayoutQueue {
    pub fn new(config: Config, ledger: Ledger) -> Result<PayoutQueue, ClientError> {
        let skypay = match (&config.skypay_api, &config.sender) {
            (Some(api), Some(sender)) => Some((
                SkyPayClient::new(&api.url, api.timeout, config.encryption.clone())?,
                sender.clone(),
            )),
            // Config::load refuses an API URL without a sender.
            _ => None,
        };
        Ok(PayoutQueue {
            inner: Arc::new(Inner {
                config,
                ledger,
                skypay,
            }),
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Validates, registers and (for pushed channels) pushes one instruction.
    pub async fn submit(
        &self,
        body: &[u8],
        numbering: Numbering<'_>,
        request_id: &str,
    ) -> Result<Submitted, SubmitError> {
        let config = &self.inner.config;
        let fields = Fields::decode(body, &crate::config::Encryption::Off).0?;
        let ctx = WriteContext::new(request_id);
        let given = Instruction::parse(&fields, &config.prefix, ctx.now)?;
        let expires_at = given
            .expires_at
            .as_ref()
            .map_or(ctx.now + config.payout_validity, |t| t.utc);
        let pushed = given.channel.is_pushed();

        let mut attempt = 0;
        loop {
            attempt += 1;
            let control_number = match (&given.control_number, numbering) {
                (Some(number), _) => number.clone(),
                (None, n) => n.candidate(&config.prefix, attempt).ok_or_else(|| {
                    SubmitError::Conflict("cannot generate a control number".to_owned())
                })?,
            };
            // The instruction as stored carries its number, generated or given: sent again
            // with that number (a retry through the payout queue), it is the same instruction.
            let instruction = Instruction {
                control_number: Some(control_number.clone()),
                ..given.clone()
            };
            let canonical = instruction.canonical();
            let payout = NewPayout {
                control_number: control_number.clone(),
                amount: instruction.amount,
                channel: instruction.channel,
                expires_at,
                instruction: Private(canonical.clone()),
                status: if pushed {
                    PayoutStatus::Pending
                } else {
                    PayoutStatus::Queued
                },
                lease_seconds: pushed.then_some(lease_seconds(config)),
            };
            match self.inner.ledger.create_payout(&payout, &ctx).await? {
                CreateOutcome::Created => {
                    let status = if pushed {
                        self.push(&control_number, &instruction, 1, &ctx).await?
                    } else {
                        PayoutStatus::Queued
                    };
                    return Ok(Submitted::Created(Registered {
                        control_number,
                        status,
                    }));
                }
                CreateOutcome::Exists(Some(existing))
                    if *existing.instruction_text == canonical =>
                {
                    return self
                        .resubmit(&control_number, &instruction, existing, &ctx)
                        .await;
                }
                // Taken by another payout, or by orphan callbacks: a given number is a conflict,
                // a generated one is drawn again.
                CreateOutcome::Exists(_) if given.control_number.is_some() => {
                    return Err(SubmitError::Conflict(format!(
                        "control number {control_number} is already used by a different payout"
                    )));
                }
                CreateOutcome::Exists(_) if attempt < NUMBER_ATTEMPTS => continue,
                CreateOutcome::Exists(_) => {
                    return Err(SubmitError::Conflict(
                        "no free control number after several attempts".to_owned(),
                    ));
                }
            }
        }
    }

    /// The same instruction again: push again if still PENDING and nobody else is pushing.
    async fn resubmit(
        &self,
        control_number: &ControlNumber,
        instruction: &Instruction,
        existing: Box<PayoutView>,
        ctx: &WriteContext,
    ) -> Result<Submitted, SubmitError> {
        if existing.status != PayoutStatus::Pending {
            return Ok(Submitted::NotPending(existing));
        }
        match self
            .inner
            .ledger
            .acquire_push_lease(
                control_number,
                &instruction.canonical(),
                lease_seconds(&self.inner.config),
                ctx,
            )
            .await?
        {
            LeaseOutcome::Acquired { attempts } => {
                let status = self
                    .push(control_number, instruction, attempts, ctx)
                    .await?;
                Ok(Submitted::Repushed(Registered {
                    control_number: control_number.clone(),
                    status,
                }))
            }
            LeaseOutcome::Refused(Some(view)) if view.status != PayoutStatus::Pending => {
                Ok(Submitted::NotPending(view))
            }
            LeaseOutcome::Refused(_) => Err(SubmitError::InFlight(control_number.to_string())),
        }
    }

    /// Pushes to SkyPay (we hold the lease), records the outcome and returns the payout's status.
    async fn push(
        &self,
        control_number: &ControlNumber,
        instruction: &Instruction,
        attempts: u32,
        ctx: &WriteContext,
    ) -> Result<PayoutStatus, SubmitError> {
        let outcome = match &self.inner.skypay {
            None => {
                tracing::warn!(
                    controlNumber = control_number.as_str(),
                    "SKYPAY_API_URL is not set: payout marked QUEUED without a push"
                );
                PushOutcome::Queued {
                    code: String::new(),
                    description: "not pushed: SKYPAY_API_URL is not set".to_owned(),
                }
            }
            Some((client, sender)) => {
                let body =
                    instruction.payout_queue_body(control_number, &self.inner.config, sender);
                let answer = client.post(&body).await;
                classify(answer, attempts)
            }
        };
        let record = self
            .inner
            .ledger
            .finish_push(control_number, &outcome, ctx)
            .await?;
        let (result, code, description) = match &outcome {
            PushOutcome::Queued { code, description } => {
                (PayoutStatus::Queued, code.as_str(), description.as_str())
            }
            PushOutcome::Rejected { code, description } => {
                (PayoutStatus::Rejected, code.as_str(), description.as_str())
            }
            PushOutcome::Transient { description } => {
                (PayoutStatus::Pending, "", description.as_str())
            }
        };
        tracing::info!(
            action = "payoutQueue",
            number = control_number.as_str(),
            attempt = attempts,
            channel = instruction.channel.code(),
            name = instruction.name.masked(),
            phone = instruction.phone.masked(),
            accountNo = instruction
                .account_no
                .as_ref()
                .map(|a| a.masked())
                .unwrap_or_default(),
            skypayCode = code,
            skypayDescription = description,
            result = result.as_str(),
            recorded = record.recorded(),
            requestId = ctx.request_id.as_str(),
            "payout pushed"
        );
        if record == PushRecord::Recorded {
            return Ok(result);
        }
        // The lease ran out during the push and another attempt took over: its record stands,
        // and is what this attempt reports (rare: a push slower than the lease).
        self.inner
            .ledger
            .payout_status(control_number.as_str())
            .await?
            .ok_or_else(|| {
                SubmitError::Ledger(LedgerError::Malformed {
                    key: control_number.to_string(),
                    what: "a payout just written cannot be read back",
                })
            })
    }
}

/// SPEC section 7: what SkyPay's answer means for the payout.
pub fn classify(answer: Answer, attempts: u32) -> PushOutcome {
    match answer {
        Answer::Code { code, description } => match code.as_str() {
            "1000" => PushOutcome::Queued { code, description },
            // "Control number is already exists" after an earlier attempt of ours: that attempt
            // reached SkyPay even though we never read its answer.
            "-1008" if attempts > 1 => PushOutcome::Queued { code, description },
            "-9999" | "-1009" => PushOutcome::Transient {
                description: format!("{code} {description}"),
            },
            _ => PushOutcome::Rejected { code, description },
        },
        Answer::Unreadable { reason } => PushOutcome::Transient {
            description: reason,
        },
    }
}

impl PayoutQueue {
    /// Handles one SQS message; true when it must be delivered again.
    pub async fn process_message(&self, message_id: &str, body: &[u8]) -> bool {
        match self
            .submit(body, Numbering::FromMessage(message_id), message_id)
            .await
        {
            Ok(Submitted::Created(r) | Submitted::Repushed(r)) => r.status == PayoutStatus::Pending,
            Ok(Submitted::NotPending(_)) => false,
            Err(SubmitError::InFlight(n)) => {
                tracing::warn!(
                    messageId = message_id,
                    number = n.as_str(),
                    "push in flight; retry later"
                );
                true
            }
            Err(e @ SubmitError::Ledger(_)) => {
                tracing::error!(messageId = message_id, error = %e, "ledger failure; retry later");
                true
            }
            Err(e) => {
                tracing::error!(
                    messageId = message_id,
                    error = %e,
                    "instruction refused; it will reach the dead-letter queue"
                );
                true
            }
        }
    }
}
