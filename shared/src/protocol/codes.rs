//! SkyPay's response codes (the seeds' and v1.37's code tables) and ours (SPEC section 2, 2xxx),
//! with the one per-endpoint table of wordings.

use crate::protocol::action::Action;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseCode {
    /// 1000
    Success,
    /// -1001
    VerificationError,
    /// -1009
    Unpredictable,
    /// -1012
    ControlNumberInvalid,
    /// -1014
    ControlNumberPrefix,
    /// -1015: on collectionCollect the receipt was collected before; on collectionInquiry the
    /// contract number is invalid. One code, two meanings: the wording table tells them apart.
    CollectionRefused,
    /// -1016 (kept in the table, not produced yet: SPEC section 4)
    InsufficientBalance,
    /// -1022 (kept in the table, not produced yet: SPEC section 4)
    InvalidAccountNumber,
    /// -1026
    AlreadyPaid,
    /// 2001: body is not a JSON object (or cannot be decrypted, or is too large)
    BodyInvalid,
    /// 2002: a field is missing or invalid
    FieldInvalid,
    /// 2003: `action` does not match this endpoint
    ActionMismatch,
    /// 2004: prefix of contract number is incorrect
    ContractNumberPrefix,
}

impl ResponseCode {
    pub const ALL: [ResponseCode; 13] = [
        ResponseCode::Success,
        ResponseCode::VerificationError,
        ResponseCode::Unpredictable,
        ResponseCode::ControlNumberInvalid,
        ResponseCode::ControlNumberPrefix,
        ResponseCode::CollectionRefused,
        ResponseCode::InsufficientBalance,
        ResponseCode::InvalidAccountNumber,
        ResponseCode::AlreadyPaid,
        ResponseCode::BodyInvalid,
        ResponseCode::FieldInvalid,
        ResponseCode::ActionMismatch,
        ResponseCode::ContractNumberPrefix,
    ];

    /// The code as it goes on the wire: a JSON string.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseCode::Success => "1000",
            ResponseCode::VerificationError => "-1001",
            ResponseCode::Unpredictable => "-1009",
            ResponseCode::ControlNumberInvalid => "-1012",
            ResponseCode::ControlNumberPrefix => "-1014",
            ResponseCode::CollectionRefused => "-1015",
            ResponseCode::InsufficientBalance => "-1016",
            ResponseCode::InvalidAccountNumber => "-1022",
            ResponseCode::AlreadyPaid => "-1026",
            ResponseCode::BodyInvalid => "2001",
            ResponseCode::FieldInvalid => "2002",
            ResponseCode::ActionMismatch => "2003",
            ResponseCode::ContractNumberPrefix => "2004",
        }
    }

    /// SkyPay's own wording for a SkyPay code, as each endpoint's page words it (SPEC 12.10):
    /// the one table of wordings. `None` for our own codes, whose descriptions say precisely
    /// what was wrong. A line with an endpoint overrides the generic line below it.
    pub fn seed_description(self, action: Action) -> Option<&'static str> {
        use Action::{CollectionCollect, CollectionInquiry};
        use ResponseCode::*;
        Some(match (action, self) {
            (_, Success) => "Success",
            (CollectionCollect, VerificationError) => "Verification failed",
            (_, VerificationError) => "Verification error",
            (CollectionCollect, Unpredictable) => "An Unpredictable exception occurs",
            (_, Unpredictable) => "Unpredictable exception occurs",
            (_, ControlNumberInvalid) => "Control number invalid or expired",
            (_, ControlNumberPrefix) => "Prefix of Control number is incorrect.",
            (CollectionInquiry, CollectionRefused) => "The contract number is invalid.",
            (_, CollectionRefused) => "The transaction has been collected",
            (_, InsufficientBalance) => "Insufficient balance",
            (_, InvalidAccountNumber) => "Invalid Accountnumber",
            (_, AlreadyPaid) => "Transactions has been paid",
            (_, BodyInvalid | FieldInvalid | ActionMismatch | ContractNumberPrefix) => {
                return None;
            }
        })
    }
}

/// The codes an endpoint may answer, from the SPEC's tables (and openapi/skypay.yaml): before
/// the ledger (the body, the credentials, `action`, the fields), and those only the ledger
/// gives. The one list: the fuzz target and the property test read it.
#[derive(Clone, Copy, Debug)]
pub struct EndpointCodes {
    pub before_the_ledger: &'static [ResponseCode],
    pub from_the_ledger: &'static [ResponseCode],
}

impl Action {
    /// What this endpoint may answer.
    pub fn codes(self) -> EndpointCodes {
        use ResponseCode::*;
        let (before_the_ledger, from_the_ledger): (&[ResponseCode], &[ResponseCode]) = match self {
            Action::PayoutInquiry | Action::PayoutPayout => (
                &[
                    BodyInvalid,
                    VerificationError,
                    ActionMismatch,
                    FieldInvalid,
                    ControlNumberInvalid,
                    ControlNumberPrefix,
                ],
                &[Success, Unpredictable, ControlNumberInvalid, AlreadyPaid],
            ),
            Action::CollectionInquiry => (
                &[
                    BodyInvalid,
                    VerificationError,
                    ActionMismatch,
                    FieldInvalid,
                    CollectionRefused,
                ],
                &[Success, Unpredictable, CollectionRefused, AlreadyPaid],
            ),
            Action::CollectionCollect => (
                &[
                    BodyInvalid,
                    VerificationError,
                    ActionMismatch,
                    FieldInvalid,
                    ContractNumberPrefix,
                ],
                &[Success, Unpredictable, CollectionRefused, AlreadyPaid],
            ),
            // Never refused for their fields: a malformed callback is recorded (SPEC 12.4, 13.4).
            Action::PayoutQueuePayout | Action::FinanceNotification => (
                &[BodyInvalid, VerificationError, ActionMismatch],
                &[Success, Unpredictable],
            ),
        };
        EndpointCodes {
            before_the_ledger,
            from_the_ledger,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_codes_are_four_digits_starting_with_2() {
        for code in ResponseCode::ALL {
            let text = code.as_str();
            if code.seed_description(Action::PayoutPayout).is_none() {
                assert!(text.len() == 4 && text.starts_with('2'), "{text}");
            } else {
                assert!(text == "1000" || text.starts_with("-1"), "{text}");
            }
        }
    }

    /// SPEC 12.10 and 13.3: each endpoint words the codes as its own page does.
    #[test]
    fn each_endpoint_uses_its_own_seed_wording() {
        use Action::*;
        use ResponseCode::*;
        let rows = [
            (PayoutPayout, VerificationError, "Verification error"),
            (PayoutInquiry, VerificationError, "Verification error"),
            (CollectionCollect, VerificationError, "Verification failed"),
            (CollectionInquiry, VerificationError, "Verification error"),
            (
                CollectionCollect,
                Unpredictable,
                "An Unpredictable exception occurs",
            ),
            (
                CollectionInquiry,
                Unpredictable,
                "Unpredictable exception occurs",
            ),
            (
                CollectionCollect,
                CollectionRefused,
                "The transaction has been collected",
            ),
            (
                CollectionInquiry,
                CollectionRefused,
                "The contract number is invalid.",
            ),
            (PayoutInquiry, AlreadyPaid, "Transactions has been paid"),
            (FinanceNotification, Success, "Success"),
        ];
        for (action, code, wording) in rows {
            assert_eq!(
                code.seed_description(action),
                Some(wording),
                "{action:?} {code:?}"
            );
        }
    }
}
