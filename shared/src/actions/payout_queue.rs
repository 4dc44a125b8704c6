//! payoutQueue (seed 001; SPEC section 7): we push a bank or e-wallet payout to SkyPay.
//!
//! An instruction from the loan system is validated, recorded PENDING with a conditional write
//! (which also takes the right to push it: a *lease*), pushed to SkyPay, and the outcome
//! recorded: write, push, update. Shop pickups (channels 1 and 9) are only registered, QUEUED.
//! The same code serves the SQS Lambda and the local server's `POST /admin/payouts`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::ledger::{
    CreateOutcome, LeaseOutcome, Ledger, LedgerError, NewPayout, PayoutStatus, PayoutView,
    PushOutcome, PushRecord, WriteContext,
};
use crate::mask;
use crate::rules::{self, Amount, ControlNumber, NumberError, PayoutChannel};
use crate::skypay_api;
use crate::skypay_client::{Answer, ClientError, SkyPayClient};
use crate::time::{self, SkyPayTime};
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

/// A validated payout instruction: payoutQueue's own field names and rules.
#[derive(Clone, PartialEq, Eq)]
pub struct Instruction {
    pub control_number: Option<ControlNumber>,
    pub name: String,
    /// Normalised to `0XXXXXXXXXX`.
    pub phone: String,
    pub amount: Amount,
    pub channel: PayoutChannel,
    pub account_no: Option<String>,
    pub bank_no: Option<String>,
    pub identification_id: Option<String>,
    pub identification_type_id: Option<String>,
    pub id_type: Option<String>,
    pub idcard_pic_type: Option<String>,
    pub idcard_pic_url: Option<String>,
    pub birthday: Option<String>,
    pub birth_place: Option<String>,
    pub location: Option<String>,
    pub province_id: Option<u32>,
    pub city_id: Option<u32>,
    /// The loan's repayment contract (SPEC 13.2): stored, shown by payoutInquiry, never pushed.
    pub contract_number: Option<ControlNumber>,
    pub expires_at: Option<SkyPayTime>,
}

// Instructions carry names, phones and account numbers: Debug masks them.
impl std::fmt::Debug for Instruction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instruction")
            .field("control_number", &self.control_number)
            .field("name", &mask::name(&self.name))
            .field("phone", &mask::phone(&self.phone))
            .field("amount", &self.amount)
            .field("channel", &self.channel)
            .field("account_no", &self.account_no.as_deref().map(mask::account))
            .finish_non_exhaustive()
    }
}

/// A field counts as carried when it holds anything but `null` or `""`.
fn present(fields: &Fields, name: &'static str) -> bool {
    !matches!(fields.text(name), Ok(None))
}

const BANK_ONLY: [&str; 5] = [
    "bankNo",
    "identificationTypeId",
    "birthPlace",
    "provinceId",
    "cityId",
];
const WALLET_ONLY: [&str; 3] = ["idType", "idcardPicType", "idcardPicUrl"];

impl Instruction {
    /// Validates an instruction (a JSON object with payoutQueue's field names).
    pub fn parse(
        fields: &Fields,
        prefix: &rules::Prefix,
        now: DateTime<Utc>,
    ) -> Result<Instruction, FieldError> {
        let number = |field: &'static str| -> Result<Option<ControlNumber>, FieldError> {
            match fields.text(field)? {
                None => Ok(None),
                Some(text) => ControlNumber::parse(&text, prefix).map(Some).map_err(|e| {
                    FieldError::new(
                        field,
                        match e {
                            NumberError::Prefix => {
                                format!("must start with our prefix {}", prefix.as_str())
                            }
                            NumberError::Format => rules::number_rule(prefix),
                        },
                    )
                }),
            }
        };
        let control_number = number("controlNumber")?;
        let code = fields.required_integer("withdrawChannel", 1, 99_999)?;
        let channel = PayoutChannel::from_code(code).ok_or_else(|| {
            FieldError::new("withdrawChannel", "must be one of 1, 5, 6, 8, 9, 15")
        })?;
        let name = fields.required_text("name", 50)?;
        rules::valid_payout_name(&name).map_err(|rule| FieldError::new("name", rule))?;
        let phone_text = fields.required_text("phone", 50)?;
        let phone = rules::normalise_phone(&phone_text)
            .ok_or_else(|| FieldError::new("phone", "must be 11 digits starting with 08 or 09"))?;
        let amount = fields.required_amount("amount")?;

        let optional = |field: &'static str, max: usize| -> Result<Option<String>, FieldError> {
            match fields.text(field)? {
                None => Ok(None),
                Some(t) if rules::within_length(&t, 1, max) => Ok(Some(t)),
                Some(_) => Err(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                )),
            }
        };
        let mut account_no = optional("accountNo", 50)?;
        let bank_no = optional("bankNo", 50)?;
        match channel {
            PayoutChannel::Bank => {
                match &bank_no {
                    Some(b) if b.chars().count() == 3 => {}
                    Some(_) => {
                        return Err(FieldError::new(
                            "bankNo",
                            "must be the 3-character bank code",
                        ));
                    }
                    None => {
                        return Err(FieldError::new(
                            "bankNo",
                            "is required for bank payouts (channel 5)",
                        ));
                    }
                }
                if account_no.is_none() {
                    return Err(FieldError::new(
                        "accountNo",
                        "is required for bank payouts (channel 5)",
                    ));
                }
                if let Some(field) = WALLET_ONLY.iter().find(|f| present(fields, f)) {
                    return Err(FieldError::new(field, "is for e-wallet payouts only"));
                }
            }
            PayoutChannel::EWallet(_) => {
                let Some(account) = account_no.as_deref() else {
                    return Err(FieldError::new(
                        "accountNo",
                        "is required for e-wallet payouts",
                    ));
                };
                account_no = Some(rules::normalise_phone(account).ok_or_else(|| {
                    FieldError::new(
                        "accountNo",
                        "must be the wallet's mobile number (08/09 and 11 digits)",
                    )
                })?);
                if let Some(field) = BANK_ONLY.iter().find(|f| present(fields, f)) {
                    return Err(FieldError::new(field, "is for bank payouts only"));
                }
            }
            PayoutChannel::ShopPickup(_) => {}
        }
        let birthday = match fields.text("birthday")? {
            None => None,
            Some(b) => {
                time::parse_date(&b).ok_or_else(|| {
                    FieldError::new("birthday", "must be a real date written yyyy-MM-dd")
                })?;
                Some(b)
            }
        };
        let expires_at = fields.time("expiresAt")?;
        if let Some(t) = &expires_at {
            // SPEC 12.3: a past expiry is only for shop pickups, which can then never be paid.
            if t.utc <= now && channel.is_pushed() {
                return Err(FieldError::new(
                    "expiresAt",
                    "is in the past; only shop pickups (1, 9) accept that",
                ));
            }
        }
        Ok(Instruction {
            control_number,
            name,
            phone,
            amount,
            channel,
            account_no,
            bank_no,
            identification_id: optional("identificationId", 50)?,
            identification_type_id: optional("identificationTypeId", 3)?,
            id_type: optional("idType", 50)?,
            idcard_pic_type: optional("idcardPicType", 50)?,
            idcard_pic_url: optional("idcardPicUrl", 500)?,
            birthday,
            birth_place: optional("birthPlace", 250)?,
            location: optional("location", 500)?,
            province_id: fields.integer("provinceId", 1, 99_999)?,
            city_id: fields.integer("cityId", 1, 99_999)?,
            contract_number: number("contractNumber")?,
            expires_at,
        })
    }

    /// The instruction as payoutQueue's fields (SPEC 12.7): `amount` a string with two decimals,
    /// `withdrawChannel` a JSON integer, everything else strings. Sorted keys: this is also the
    /// canonical form a re-post is compared with.
    fn fields(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                map.insert(k.to_owned(), Value::String(v));
            }
        };
        put(
            "controlNumber",
            self.control_number.as_ref().map(|c| c.as_str().to_owned()),
        );
        put("name", Some(self.name.clone()));
        put("phone", Some(self.phone.clone()));
        put("amount", Some(self.amount.two_decimals()));
        put("accountNo", self.account_no.clone());
        put("bankNo", self.bank_no.clone());
        put("identificationId", self.identification_id.clone());
        put("identificationTypeId", self.identification_type_id.clone());
        put("idType", self.id_type.clone());
        put("idcardPicType", self.idcard_pic_type.clone());
        put("idcardPicUrl", self.idcard_pic_url.clone());
        put("birthday", self.birthday.clone());
        put("birthPlace", self.birth_place.clone());
        put("location", self.location.clone());
        put("provinceId", self.province_id.map(|p| p.to_string()));
        put("cityId", self.city_id.map(|c| c.to_string()));
        put(
            "contractNumber",
            self.contract_number.as_ref().map(|c| c.as_str().to_owned()),
        );
        put(
            "expiresAt",
            self.expires_at.as_ref().map(|t| t.text.clone()),
        );
        map.insert("withdrawChannel".to_owned(), json!(self.channel.code()));
        map
    }

    /// The canonical form stored with the payout; re-posts are compared with it by value.
    pub fn canonical(&self) -> String {
        Value::Object(self.fields()).to_string()
    }

    /// The body we POST to SkyPay.
    fn payout_queue_body(
        &self,
        control_number: &ControlNumber,
        config: &Config,
        sender: &str,
    ) -> Value {
        let mut fields = self.fields();
        // Ours, not payoutQueue's.
        fields.remove("expiresAt");
        fields.remove("contractNumber");
        let mut map = skypay_api::request(config, skypay_api::PAYOUT_QUEUE);
        map.extend(fields);
        map.insert("controlNumber".to_owned(), json!(control_number.as_str()));
        map.insert("sender".to_owned(), json!(sender));
        Value::Object(map)
    }
}

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
                instruction: canonical.clone(),
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
                CreateOutcome::Exists(Some(existing)) if existing.instruction_text == canonical => {
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
            name = mask::name(&instruction.name),
            phone = mask::phone(&instruction.phone),
            accountNo = instruction
                .account_no
                .as_deref()
                .map(mask::account)
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
