//! The payout-queue service: an instruction registered with a conditional write (which also
//! takes the push lease), pushed to SkyPay, and the outcome recorded: write, push, update.

use std::sync::Arc;

use super::Instruction;
use crate::config::Config;
use crate::ledger::{
    CreateOutcome, LeaseOutcome, Ledger, LedgerError, NewPayout, Payout, PayoutStatus, PushOutcome,
    PushPolicy, PushRecord, WriteContext,
};
use crate::metrics;
use crate::outbound::client::{Answer, ClientError, SkyPayClient};
use crate::protocol::mask::Private;
use crate::protocol::rules::ControlNumber;
use crate::protocol::time::{Clock, SystemClock};
use crate::protocol::wire::{FieldError, Fields};

/// How long one push may hold a payout: three times the SkyPay client's whole timeout, so a
/// push in flight is never taken over, and short enough that a crashed one is retried soon.
fn lease_seconds(config: &Config) -> i64 {
    // Whole seconds, rounded up: a timeout under a second (the simulation's) still leases.
    let timeout =
        config
            .skypay_api
            .as_ref()
            .map_or(crate::config::DEFAULT_API_TIMEOUT_SECONDS, |api| {
                api.timeout
                    .as_millis()
                    .div_ceil(1000)
                    .try_into()
                    .unwrap_or(u64::MAX)
            });
    i64::try_from(timeout.saturating_mul(3)).unwrap_or(30)
}
/// What happened to an instruction.
#[derive(Clone, Debug)]
pub enum Submitted {
    /// Registered now (and pushed, for pushed channels): 201.
    Created(Registered),
    /// The same instruction again for a payout still PENDING, neither in doubt nor held:
    /// pushed again, 200.
    Repushed(Registered),
    /// The same instruction again for a payout that is not pushed again (SPEC 14.1: no longer
    /// PENDING, or in doubt, or held): the payout as it stands, 200; in Lambda, an SQS
    /// redelivery of work already done, acknowledged.
    Existing(Box<Payout>),
}

/// A payout this call registered or pushed, and the status our own conditional writes left it
/// in: known without reading it back, so a pushed payout costs write, push, update and nothing
/// more. The admin route reads the whole payout for its reply.
#[derive(Clone, Debug)]
pub struct Registered {
    pub control_number: ControlNumber,
    pub status: PayoutStatus,
    /// A PENDING payout whose push never left (no connection): pushing again is safe, and the
    /// SQS delivery is retried. A payout left in doubt or held is not (SPEC 14.3).
    pub retry: bool,
    /// SkyPay held this push (a reason about us): the payout run pushes it again.
    pub held: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the instruction is not a JSON object: {0}")]
    Body(#[from] crate::protocol::wire::BodyError),
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Conflict(String),
    #[error("a push for {0} is in flight")]
    InFlight(String),
    #[error("ledger failure: {0}")]
    Ledger(#[from] LedgerError),
}

/// The function's name, the metrics' `Service` dimension.
pub const SERVICE: &str = "payout-queue";

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
    /// The time every write of a registration or push is stamped with (`pushedAt`, the lease):
    /// the payout run's clock, so that its 300 s and 30 min rules count from the same clock.
    clock: Arc<dyn Clock>,
}

impl PayoutQueue {
    pub fn new(config: Config, ledger: Ledger) -> Result<PayoutQueue, ClientError> {
        PayoutQueue::with_clock(config, ledger, Arc::new(SystemClock))
    }

    /// The same on another clock (the payout run's; the simulation's).
    pub fn with_clock(
        config: Config,
        ledger: Ledger,
        clock: Arc<dyn Clock>,
    ) -> Result<PayoutQueue, ClientError> {
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
                clock,
            }),
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Validates, registers and (for pushed channels) pushes one instruction. The same number
    /// with the same instruction is the same payout (SPEC 14.1); `policy` says who asks, for a
    /// payout that is PENDING already (SPEC 14.3: only the payout run pushes a held one).
    pub async fn submit(
        &self,
        body: &[u8],
        policy: PushPolicy,
        request_id: &str,
    ) -> Result<Submitted, SubmitError> {
        let config = &self.inner.config;
        let fields = Fields::decode(body, &crate::protocol::crypto::Encryption::Off).0?;
        let ctx = WriteContext::at(request_id, self.inner.clock.now());
        let instruction = Instruction::parse(&fields, &config.prefix, ctx.now)?;
        let expires_at = instruction
            .expires_at
            .as_ref()
            .map_or(ctx.now + config.payout_validity, |t| t.utc);
        let pushed = instruction.channel.is_pushed();
        let control_number = instruction.control_number.clone();
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
            CreateOutcome::Created if pushed => {
                let outcome = self.push(&instruction, 1, false, &ctx).await?;
                Ok(Submitted::Created(outcome))
            }
            CreateOutcome::Created => Ok(Submitted::Created(Registered {
                control_number,
                status: PayoutStatus::Queued,
                retry: false,
                held: false,
            })),
            CreateOutcome::Exists(Some(existing)) if *existing.instruction == canonical => {
                self.resubmit(&instruction, existing, policy, &ctx).await
            }
            // Taken by another payout, or by orphan callbacks (SPEC 12.13).
            CreateOutcome::Exists(_) => Err(SubmitError::Conflict(format!(
                "control number {control_number} is already used by a different payout"
            ))),
        }
    }

    /// The same instruction again: pushed again only if still PENDING, neither in doubt nor
    /// held (for the loan system), never reported on by SkyPay, and nobody else is pushing.
    async fn resubmit(
        &self,
        instruction: &Instruction,
        existing: Box<Payout>,
        policy: PushPolicy,
        ctx: &WriteContext,
    ) -> Result<Submitted, SubmitError> {
        if existing.status != PayoutStatus::Pending {
            return Ok(Submitted::Existing(existing));
        }
        let control_number = &instruction.control_number;
        match self
            .inner
            .ledger
            .acquire_push_lease(
                control_number,
                &instruction.canonical(),
                lease_seconds(&self.inner.config),
                policy,
                ctx,
            )
            .await?
        {
            LeaseOutcome::Acquired {
                attempts,
                earlier_doubt,
            } => {
                let outcome = self.push(instruction, attempts, earlier_doubt, ctx).await?;
                Ok(Submitted::Repushed(outcome))
            }
            // Another push is in flight now: 409 (SPEC 12.8), the delivery retried.
            LeaseOutcome::Refused(Some(view)) if view.leased_at(ctx.now.timestamp()) => {
                Err(SubmitError::InFlight(control_number.to_string()))
            }
            LeaseOutcome::Refused(Some(view)) => Ok(Submitted::Existing(view)),
            LeaseOutcome::Refused(None) => Err(SubmitError::Conflict(format!(
                "control number {control_number} is already used by a different payout"
            ))),
        }
    }

    /// Pushes to SkyPay (we hold the lease), records the outcome and returns what it left.
    async fn push(
        &self,
        instruction: &Instruction,
        attempts: u32,
        earlier_doubt: bool,
        ctx: &WriteContext,
    ) -> Result<Registered, SubmitError> {
        let control_number = &instruction.control_number;
        let outcome = match &self.inner.skypay {
            None => {
                tracing::warn!(
                    controlNumber = control_number.as_str(),
                    "SKYPAY_API_URL is not set: payout marked QUEUED without a push"
                );
                PushOutcome::NoSkyPay {
                    description: "not pushed: SKYPAY_API_URL is not set".to_owned(),
                }
            }
            Some((client, sender)) => {
                let body = instruction.payout_queue_body(&self.inner.config, sender);
                let answer = client.post(&body).await;
                classify(answer, earlier_doubt)
            }
        };
        let record = self
            .inner
            .ledger
            .finish_push(control_number, &outcome, ctx)
            .await?;
        let result = outcome.status();
        let (code, description) = outcome.answer();
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
            class = outcome.class(),
            result = result.as_str(),
            recorded = record.recorded(),
            requestId = ctx.request_id.as_str(),
            "payout pushed"
        );
        if record == PushRecord::Recorded {
            return Ok(Registered {
                control_number: control_number.clone(),
                status: result,
                retry: matches!(outcome, PushOutcome::NotSent { .. }),
                held: matches!(outcome, PushOutcome::Held { .. }),
            });
        }
        // The lease ran out during the push and the payout run settled it, or (a refusal) an
        // attempt is in doubt: what the ledger holds stands, and is what this attempt reports.
        let status = self
            .inner
            .ledger
            .payout_status(control_number.as_str())
            .await?
            .ok_or_else(|| {
                SubmitError::Ledger(LedgerError::Malformed {
                    key: control_number.to_string(),
                    what: "a payout just written cannot be read back",
                })
            })?;
        Ok(Registered {
            control_number: control_number.clone(),
            status,
            retry: false,
            held: false,
        })
    }
}

/// SPEC 14.3: what SkyPay's answer means for the payout; `earlier_doubt`: an earlier attempt's
/// outcome was unknown at some point (it may have reached SkyPay).
///
/// One deviation from the SPEC's table, on the safe side: -1008 ("control number already
/// exists") without an earlier attempt in doubt is *unknown*, not refused. SkyPay then has a
/// payout under our number that this ledger never pushed (a restored table, another deployment
/// on the same prefix): REJECTED would tell the loan system to issue the money again under a
/// new number while SkyPay may pay the old one. payoutQueryStatus settles it.
pub fn classify(answer: Answer, earlier_doubt: bool) -> PushOutcome {
    match answer {
        Answer::Code { code, description } => match code.as_str() {
            "1000" => PushOutcome::Queued { code, description },
            // An earlier attempt of ours reached SkyPay even though we never read its answer.
            "-1008" if earlier_doubt => PushOutcome::Queued { code, description },
            "-1008" | "-9999" | "-1009" => PushOutcome::InDoubt {
                description: format!("{code} {description}"),
            },
            // About us, not the instruction: credentials, balance, limits.
            "-1001" | "-1016" | "-1027" | "-1032" => PushOutcome::Held { code, description },
            _ => PushOutcome::Rejected { code, description },
        },
        Answer::Unreadable { reason } => PushOutcome::InDoubt {
            description: reason,
        },
        Answer::NotSent { reason } => PushOutcome::NotSent {
            description: reason,
        },
    }
}

impl PayoutQueue {
    /// Handles one SQS message; true when it must be delivered again: only when nothing
    /// reached SkyPay (no connection, a ledger failure, a push in flight). A push held or left
    /// in doubt is acknowledged: the ledger holds it and the payout run takes over (SPEC 14.3).
    /// An invalid instruction is acknowledged too, logged at error and counted (SPEC 14.1):
    /// redelivering it cannot make it valid.
    pub async fn process_message(self, message_id: String, body: String) -> bool {
        let message_id = message_id.as_str();
        match self
            .submit(body.as_bytes(), PushPolicy::LoanSystem, message_id)
            .await
        {
            Ok(Submitted::Created(r) | Submitted::Repushed(r)) => r.retry,
            Ok(Submitted::Existing(_)) => false,
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
                    _emf = metrics::PAYOUT_QUEUE.name,
                    Service = SERVICE,
                    InvalidInstructions = 1_u64,
                    messageId = message_id,
                    error = %e,
                    "instruction refused: acknowledged without a payout"
                );
                false
            }
        }
    }
}
