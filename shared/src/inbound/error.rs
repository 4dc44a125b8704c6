//! The one error type of a SkyPay call, and the one place it becomes a response code.
//!
//! Every action returns `Result<Accepted, Rejection>`; [`Rejection::response`] is the only
//! code that chooses a response code and description for a failure. Internal detail (a DynamoDB
//! error, say) is logged by the gateway and never reaches the caller.

use crate::ledger::LedgerError;
use crate::protocol::action::Action;
use crate::protocol::codes::ResponseCode;
use crate::protocol::wire::{BodyError, FieldError};

#[derive(Clone, Debug, thiserror::Error)]
pub enum Rejection {
    /// 2001
    #[error(transparent)]
    Body(#[from] BodyError),
    /// -1001. Says nothing about which part failed.
    #[error("verification failed")]
    Unauthenticated,
    /// 2003
    #[error("action must be {expected}")]
    WrongAction { expected: &'static str },
    /// 2002
    #[error(transparent)]
    Field(#[from] FieldError),
    /// -1014 on payoutPayout (the seed's code).
    #[error("prefix of control number is incorrect")]
    ControlNumberPrefix,
    /// 2004 on collectionCollect, which has no seed code for it.
    #[error("prefix of contract number is incorrect")]
    ContractNumberPrefix { expected: String },
    /// -1015 on collectionInquiry: wrong prefix, malformed, unknown or UNREGISTERED (SPEC 13.3).
    #[error("contract number invalid: {reason}")]
    ContractNumberInvalid { reason: &'static str },
    /// -1012: malformed, unknown, not payable or expired.
    #[error("control number invalid or expired: {reason}")]
    ControlNumberInvalid { reason: &'static str },
    /// -1026 on payoutPayout and payoutInquiry.
    #[error("payout already paid")]
    AlreadyPaid {
        /// When the cashier paid it, Manila time as SkyPay sent it.
        pay_time: Option<String>,
        channel: Option<u32>,
    },
    /// -1015 on collectionCollect.
    #[error("receipt already collected")]
    AlreadyCollected,
    /// -1026 on collectionCollect and collectionInquiry.
    #[error("contract already settled")]
    ContractSettled,
    /// -1009: the ledger failed (endpoint down, throttled, timeout). Nothing was written, or the
    /// write is idempotent and a retry gets the right answer.
    #[error("ledger failure")]
    Ledger(#[from] LedgerError),
}

impl Rejection {
    /// What the log line adds to the reason and the caller never sees: why the AES layer could
    /// not open a body (SPEC 14.4).
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            Rejection::Body(BodyError::Undecryptable(detail)) => Some(detail.0.as_str()),
            Rejection::ControlNumberInvalid { reason } => Some(reason),
            _ => None,
        }
    }

    /// A refusal someone must look at (SPEC 14.2: a pushed payout asked at a counter): logged at
    /// warn and counted in the `anomalies` metric.
    pub fn is_anomaly(&self) -> bool {
        matches!(
            self,
            Rejection::ControlNumberInvalid { reason } if *reason == crate::ledger::PUSHED_AT_COUNTER
        )
    }

    /// The response code and description for this rejection on this endpoint. Descriptions
    /// fit SkyPay's 255-character `responseDescription` column.
    pub fn response(&self, action: Action) -> (ResponseCode, String) {
        let (code, text) = self.untrimmed(action);
        (code, at_most_255(text))
    }

    fn untrimmed(&self, action: Action) -> (ResponseCode, String) {
        let seed = |code: ResponseCode| {
            let text = code.seed_description(action).unwrap_or("");
            (code, text.to_owned())
        };
        match self {
            Rejection::Body(e) => (ResponseCode::BodyInvalid, capitalise(&e.to_string())),
            Rejection::Unauthenticated => seed(ResponseCode::VerificationError),
            Rejection::WrongAction { expected } => (
                ResponseCode::ActionMismatch,
                format!("action must be {expected} on this endpoint"),
            ),
            Rejection::Field(e) => (ResponseCode::FieldInvalid, e.to_string()),
            Rejection::ControlNumberPrefix => seed(ResponseCode::ControlNumberPrefix),
            Rejection::ContractNumberPrefix { expected } => (
                ResponseCode::ContractNumberPrefix,
                format!("Prefix of contract number is incorrect: it must start with {expected}"),
            ),
            Rejection::ControlNumberInvalid { .. } => seed(ResponseCode::ControlNumberInvalid),
            Rejection::AlreadyPaid { pay_time, channel } => {
                let (code, text) = seed(ResponseCode::AlreadyPaid);
                let detail = match (pay_time, channel) {
                    (Some(t), Some(c)) => format!("{text} (paid {t} on channel {c})"),
                    (Some(t), None) => format!("{text} (paid {t})"),
                    (None, Some(c)) => format!("{text} (paid on channel {c})"),
                    (None, None) => text,
                };
                (code, detail)
            }
            Rejection::ContractNumberInvalid { .. } => seed(ResponseCode::CollectionRefused),
            Rejection::AlreadyCollected => seed(ResponseCode::CollectionRefused),
            Rejection::ContractSettled => seed(ResponseCode::AlreadyPaid),
            Rejection::Ledger(_) => seed(ResponseCode::Unpredictable),
        }
    }
}

fn at_most_255(text: String) -> String {
    if text.chars().count() <= 255 {
        text
    } else {
        let mut short: String = text.chars().take(254).collect();
        short.push('…');
        short
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_follows_the_spec_tables() {
        use Action::*;
        let cases: Vec<(Rejection, Action, &str)> = vec![
            (Rejection::Body(BodyError::Empty), PayoutPayout, "2001"),
            (Rejection::Unauthenticated, CollectionCollect, "-1001"),
            (
                Rejection::WrongAction {
                    expected: "payoutPayout",
                },
                PayoutPayout,
                "2003",
            ),
            (
                Rejection::Field(FieldError::missing("payTime")),
                PayoutPayout,
                "2002",
            ),
            (Rejection::ControlNumberPrefix, PayoutPayout, "-1014"),
            (
                Rejection::ContractNumberPrefix {
                    expected: "SKY01".into(),
                },
                CollectionCollect,
                "2004",
            ),
            (
                Rejection::ControlNumberInvalid { reason: "unknown" },
                PayoutPayout,
                "-1012",
            ),
            (
                Rejection::AlreadyPaid {
                    pay_time: None,
                    channel: Some(1),
                },
                PayoutPayout,
                "-1026",
            ),
            (Rejection::AlreadyCollected, CollectionCollect, "-1015"),
            (Rejection::ContractSettled, CollectionCollect, "-1026"),
            (
                Rejection::ContractNumberInvalid { reason: "unknown" },
                CollectionInquiry,
                "-1015",
            ),
            (Rejection::ContractSettled, CollectionInquiry, "-1026"),
            (Rejection::ControlNumberPrefix, PayoutInquiry, "-1014"),
            (
                Rejection::AlreadyPaid {
                    pay_time: None,
                    channel: None,
                },
                PayoutInquiry,
                "-1026",
            ),
        ];
        for (rejection, action, code) in cases {
            assert_eq!(rejection.response(action).0.as_str(), code, "{rejection:?}");
        }
    }

    #[test]
    fn already_paid_says_when_and_where() {
        let (_, text) = Rejection::AlreadyPaid {
            pay_time: Some("2019-02-18 14:59:33".into()),
            channel: Some(1),
        }
        .response(Action::PayoutPayout);
        assert_eq!(
            text,
            "Transactions has been paid (paid 2019-02-18 14:59:33 on channel 1)"
        );
    }

    #[test]
    fn descriptions_fit_the_255_character_column() {
        let long = Rejection::Field(FieldError::new("x", "y".repeat(400)));
        assert_eq!(long.response(Action::PayoutPayout).1.chars().count(), 255);
    }

    #[test]
    fn field_errors_name_the_field_and_rule() {
        let (_, text) = Rejection::Field(FieldError::new("amount", "must be greater than 0"))
            .response(Action::CollectionCollect);
        assert_eq!(text, "amount must be greater than 0");
    }
}
