//! One module per SkyPay action. Each parses its fields (in the SPEC's order of checks), then
//! makes its one ledger call; the gateway does what every action shares (decoding,
//! authentication, the `action` check, the envelope and the log line).

pub mod collection_collect;
pub mod payout_payout;
pub mod payout_queue;
pub mod payout_queue_payout;

use crate::error::Rejection;
use crate::ledger::{Ledger, WriteContext};
use crate::rules::Prefix;
use crate::wire::Fields;

/// The endpoints SkyPay calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    PayoutPayout,
    CollectionCollect,
    PayoutQueuePayout,
}

impl Action {
    pub const ALL: [Action; 3] = [
        Action::PayoutPayout,
        Action::CollectionCollect,
        Action::PayoutQueuePayout,
    ];

    /// The `action` value and the route name, as the seeds spell them.
    pub fn name(self) -> &'static str {
        match self {
            Action::PayoutPayout => "payoutPayout",
            Action::CollectionCollect => "collectionCollect",
            Action::PayoutQueuePayout => "payoutQueuePayout",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Runs the action-specific part of a call: field checks, then the ledger.
    pub(crate) async fn run(
        self,
        fields: &Fields,
        prefix: &Prefix,
        ledger: &Ledger,
        ctx: &WriteContext,
        log: &mut CallLog,
    ) -> Result<(), Rejection> {
        match self {
            Action::PayoutPayout => {
                let request = payout_payout::PayoutPayout::parse(fields, prefix)?;
                request.apply(ledger, ctx).await
            }
            Action::CollectionCollect => {
                let request = collection_collect::CollectionCollect::parse(fields, prefix, log)?;
                request.apply(ledger, ctx, log).await
            }
            Action::PayoutQueuePayout => {
                let event = payout_queue_payout::PayoutQueuePayout::parse(fields, prefix);
                event.apply(ledger, ctx, log).await
            }
        }
    }
}

/// What an action adds to its call's one log line. Values here are safe to log: numbers are
/// not personal data, and phones are masked before they are added.
#[derive(Debug, Default)]
pub struct CallLog {
    /// The control or contract number as sent (shortened).
    pub subject: Option<String>,
    /// What the ledger did, in a word (`paid`, `duplicate`, ...).
    pub outcome: Option<&'static str>,
    /// Anything accepted but worth a look (a malformed phone, an orphan event, ...).
    pub warnings: Vec<String>,
}

impl CallLog {
    pub(crate) fn subject(&mut self, text: &str) {
        let mut short: String = text.chars().take(40).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        self.subject = Some(short);
    }
}
