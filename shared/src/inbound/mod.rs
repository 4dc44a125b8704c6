//! SkyPay calls us: the [`gateway`] (one call in, one envelope out, one log line), the one map
//! from a [`Rejection`] to a code ([`error`]), and one module per endpoint. Each endpoint has the
//! same shape:
//!
//! - `parse` is the action's field checks, in the SPEC's order: pure, no I/O; it returns the
//!   admitted request or the [`Rejection`];
//! - `apply` makes the action's one ledger call and returns what was [`Accepted`]: the extra
//!   members its 1000 carries (none for most), which the gateway renders after the envelope's
//!   three.
//!
//! The gateway does what every action shares: decoding, authentication, the `action` check,
//! the one map from a rejection to a code, the envelope and the log line.

pub mod collection_collect;
pub mod collection_inquiry;
pub mod error;
pub mod finance_notification;
pub mod gateway;
pub mod payout_inquiry;
pub mod payout_payout;
pub mod payout_queue_payout;

use crate::config::Config;
use crate::inbound::error::Rejection;
use crate::ledger::{Ledger, WriteContext};
use crate::protocol::action::Action;
use crate::protocol::wire::Fields;

/// What an accepted call answers besides `1000 Success`: extra members, in order, all strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    pub extra: Vec<(&'static str, String)>,
    /// What the ledger did, in a word (`paid`, `collected`, `recorded`, `duplicate`, ...): the
    /// call line's `outcome`, never empty on an accepted call.
    pub outcome: &'static str,
}

impl Accepted {
    /// The bare envelope, and what the ledger did.
    pub fn plain(outcome: &'static str) -> Accepted {
        Accepted {
            extra: Vec::new(),
            outcome,
        }
    }
}

/// A call that passed its field checks: what `apply` takes to the ledger.
#[derive(Debug)]
pub enum Request {
    PayoutInquiry(payout_inquiry::PayoutInquiry),
    PayoutPayout(payout_payout::PayoutPayout),
    CollectionInquiry(collection_inquiry::CollectionInquiry),
    CollectionCollect(collection_collect::CollectionCollect),
    PayoutQueuePayout(payout_queue_payout::PayoutQueuePayout),
    /// Boxed: a notification keeps every field as sent, several times the others' size.
    FinanceNotification(Box<finance_notification::FinanceNotification>),
}

impl Request {
    /// The action's field checks (pure): the admitted request, or why it is refused.
    pub fn parse(
        action: Action,
        fields: &Fields,
        config: &Config,
        log: &mut CallLog,
    ) -> Result<Request, Rejection> {
        let prefix = &config.prefix;
        Ok(match action {
            Action::PayoutInquiry => {
                Request::PayoutInquiry(payout_inquiry::PayoutInquiry::parse(fields, prefix)?)
            }
            Action::PayoutPayout => {
                Request::PayoutPayout(payout_payout::PayoutPayout::parse(fields, prefix)?)
            }
            Action::CollectionInquiry => Request::CollectionInquiry(
                collection_inquiry::CollectionInquiry::parse(fields, prefix, log)?,
            ),
            Action::CollectionCollect => Request::CollectionCollect(
                collection_collect::CollectionCollect::parse(fields, prefix, log)?,
            ),
            Action::PayoutQueuePayout => Request::PayoutQueuePayout(
                payout_queue_payout::PayoutQueuePayout::parse(fields, prefix),
            ),
            Action::FinanceNotification => Request::FinanceNotification(Box::new(
                finance_notification::FinanceNotification::parse(fields),
            )),
        })
    }

    /// The action's ledger call.
    pub async fn apply(
        &self,
        ledger: &Ledger,
        config: &Config,
        ctx: &WriteContext,
        log: &mut CallLog,
    ) -> Result<Accepted, Rejection> {
        match self {
            Request::PayoutInquiry(r) => r.apply(ledger, config, ctx).await,
            Request::PayoutPayout(r) => r.apply(ledger, ctx).await,
            Request::CollectionInquiry(r) => r.apply(ledger, log).await,
            Request::CollectionCollect(r) => r.apply(ledger, ctx, log).await,
            Request::PayoutQueuePayout(r) => r.apply(ledger, ctx, log).await,
            Request::FinanceNotification(r) => r.apply(ledger, ctx, log).await,
        }
    }
}

/// What an action adds to its call's one log line. Values here are safe to log: numbers are
/// not personal data, and phones are masked before they are added.
#[derive(Debug, Default)]
pub struct CallLog {
    /// The control or contract number as sent (shortened).
    pub subject: Option<String>,
    /// Anything accepted but worth a look (a malformed phone, an orphan event, ...).
    pub warnings: Vec<String>,
}

impl CallLog {
    pub fn subject(&mut self, text: &str) {
        let mut short: String = text.chars().take(40).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        self.subject = Some(short);
    }
}

/// The contract number of a collection call: `contractNumber`, or `controlNumber` as SkyPay's
/// own samples send it; not two different ones (SPEC 12.6). `None` when neither is present.
pub(crate) fn contract_number_text(
    fields: &Fields,
) -> Result<Option<String>, crate::protocol::wire::FieldError> {
    match (
        fields.text("contractNumber")?,
        fields.text("controlNumber")?,
    ) {
        (Some(a), Some(b)) if a != b => Err(crate::protocol::wire::FieldError::new(
            "contractNumber",
            "and controlNumber are both present and differ",
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

/// The phone a collection call carries: informational (SPEC section 3), so whatever was sent is
/// recorded, and a malformed one is flagged in the log rather than refused. Missing is 2002.
/// Returns the phone as sent and its normal form when it is a valid mobile number.
pub(crate) fn informational_phone(
    fields: &Fields,
    log: &mut CallLog,
) -> Result<(String, Option<String>), crate::protocol::wire::FieldError> {
    let phone = fields
        .informational("phone")
        .ok_or(crate::protocol::wire::FieldError::missing("phone"))?;
    let normalised = crate::protocol::rules::normalise_phone(&phone);
    if normalised.is_none() {
        log.warnings.push(format!(
            "phone {} is not a valid mobile number; recorded as sent",
            crate::protocol::mask::phone(&phone)
        ));
    }
    Ok((phone, normalised))
}
