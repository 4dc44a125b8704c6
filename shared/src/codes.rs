//! SkyPay's response codes (the seeds' code tables) and ours (SPEC section 2, 2xxx).

use crate::actions::Action;

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
    /// -1015
    AlreadyCollected,
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
        ResponseCode::AlreadyCollected,
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
            ResponseCode::AlreadyCollected => "-1015",
            ResponseCode::InsufficientBalance => "-1016",
            ResponseCode::InvalidAccountNumber => "-1022",
            ResponseCode::AlreadyPaid => "-1026",
            ResponseCode::BodyInvalid => "2001",
            ResponseCode::FieldInvalid => "2002",
            ResponseCode::ActionMismatch => "2003",
            ResponseCode::ContractNumberPrefix => "2004",
        }
    }

    /// The seed's own wording for a seed code, as each endpoint's page words it (SPEC 12.10);
    /// `None` for our own codes, whose descriptions say precisely what was wrong.
    pub fn seed_description(self, action: Action) -> Option<&'static str> {
        let collection = action == Action::CollectionCollect;
        Some(match self {
            ResponseCode::Success => "Success",
            ResponseCode::VerificationError if collection => "Verification failed",
            ResponseCode::VerificationError => "Verification error",
            ResponseCode::Unpredictable if collection => "An Unpredictable exception occurs",
            ResponseCode::Unpredictable => "Unpredictable exception occurs",
            ResponseCode::ControlNumberInvalid => "Control number invalid or expired",
            ResponseCode::ControlNumberPrefix => "Prefix of Control number is incorrect.",
            ResponseCode::AlreadyCollected => "The transaction has been collected",
            ResponseCode::InsufficientBalance => "Insufficient balance",
            ResponseCode::InvalidAccountNumber => "Invalid Accountnumber",
            ResponseCode::AlreadyPaid => "Transactions has been paid",
            ResponseCode::BodyInvalid
            | ResponseCode::FieldInvalid
            | ResponseCode::ActionMismatch
            | ResponseCode::ContractNumberPrefix => return None,
        })
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

    #[test]
    fn each_endpoint_uses_its_own_seed_wording() {
        assert_eq!(
            ResponseCode::VerificationError.seed_description(Action::PayoutPayout),
            Some("Verification error")
        );
        assert_eq!(
            ResponseCode::VerificationError.seed_description(Action::CollectionCollect),
            Some("Verification failed")
        );
        assert_eq!(
            ResponseCode::Unpredictable.seed_description(Action::CollectionCollect),
            Some("An Unpredictable exception occurs")
        );
    }
}
