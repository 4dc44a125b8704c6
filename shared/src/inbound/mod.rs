//! SkyPay calls us: the [`gateway`] (one call in, one envelope out, one log line), the one map
//! from a [`Rejection`] to a code ([`error`]), and one module per endpoint. Each endpoint has the
//! same shape:
//!
//! - [`Endpoint::parse`] is the endpoint's field checks, in the SPEC's order: pure, no I/O; it
//!   returns the admitted request or the [`Rejection`];
//! - [`Endpoint::apply`] makes the endpoint's one ledger call and returns what was [`Accepted`]:
//!   the extra members its 1000 carries (none for most), which the gateway renders after the
//!   envelope's three, and the call line's `outcome`.
//!
//! The modules, [`Request`] and its two dispatches are expanded from the one table of
//! endpoints (`crate::protocol::action::endpoints`).
//!
//! The gateway does what every action shares: decoding, authentication, the `action` check,
//! the one map from a rejection to a code, the envelope and the log line.

pub mod error;
pub mod gateway;

use crate::config::Config;
use crate::inbound::error::Rejection;
use crate::ledger::{Ledger, WriteContext};
use crate::protocol::action::{Action, endpoints};
use crate::protocol::rules::Prefix;
use crate::protocol::wire::Fields;

/// The shape every endpoint has.
pub trait Endpoint: Sized {
    /// The field checks (pure): the admitted request, or why it is refused.
    fn parse(fields: &Fields, cx: &mut Admit<'_>) -> Result<Self, Rejection>;
    /// The one ledger call, and what it answers.
    #[allow(async_fn_in_trait)] // dispatched statically, through `Request`: its futures are `Send`
    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection>;
}

/// What an endpoint's field checks see: the configuration and the call's log line.
pub struct Admit<'a> {
    pub config: &'a Config,
    pub log: &'a mut CallLog,
}

impl Admit<'_> {
    /// Our control and contract numbers' prefix.
    pub fn prefix(&self) -> &Prefix {
        &self.config.prefix
    }
}

/// What an endpoint's ledger call sees: the ledger, the configuration, the write's context
/// (the request id, now) and the call's log line.
pub struct Apply<'a> {
    pub ledger: &'a Ledger,
    pub config: &'a Config,
    pub ctx: &'a WriteContext,
    pub log: &'a mut CallLog,
}

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

macro_rules! requests {
    ($($variant:ident, $module:ident, $name:literal, $function:literal;)*) => {
        $(pub mod $module;)*

        /// A call that passed its field checks: what `apply` takes to the ledger. Boxed: a
        /// financeNotification keeps every field as sent, several times the others' size.
        #[derive(Debug)]
        pub enum Request {
            $($variant(Box<$module::$variant>),)*
        }

        impl Request {
            /// The endpoint's field checks.
            pub fn parse(
                action: Action,
                fields: &Fields,
                cx: &mut Admit<'_>,
            ) -> Result<Request, Rejection> {
                Ok(match action {
                    $(Action::$variant => {
                        Request::$variant(Box::new($module::$variant::parse(fields, cx)?))
                    })*
                })
            }

            /// The endpoint's ledger call.
            pub async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
                match self {
                    $(Request::$variant(r) => r.apply(cx).await,)*
                }
            }
        }
    };
}
endpoints!(requests);

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
