//! The endpoints SkyPay calls, by name. A leaf module: the code table, the error map and the
//! actions all depend on it, and it depends on nothing.

/// One endpoint SkyPay calls (SPEC sections 4-6 and 13.2-13.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    PayoutInquiry,
    PayoutPayout,
    CollectionInquiry,
    CollectionCollect,
    PayoutQueuePayout,
    FinanceNotification,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::PayoutInquiry,
        Action::PayoutPayout,
        Action::CollectionInquiry,
        Action::CollectionCollect,
        Action::PayoutQueuePayout,
        Action::FinanceNotification,
    ];

    /// The `action` value and the route name, as SkyPay's pages spell them.
    pub fn name(self) -> &'static str {
        match self {
            Action::PayoutInquiry => "payoutInquiry",
            Action::PayoutPayout => "payoutPayout",
            Action::CollectionInquiry => "collectionInquiry",
            Action::CollectionCollect => "collectionCollect",
            Action::PayoutQueuePayout => "payoutQueuePayout",
            Action::FinanceNotification => "financeNotification",
        }
    }

    /// Whether a body's `action` value is this endpoint's. SkyPay's collectionInquiry sample
    /// spells it `collectionIcnquiry`; both are accepted there (SPEC 13.3), nowhere else.
    pub fn accepts(self, value: &str) -> bool {
        value == self.name() || (self == Action::CollectionInquiry && value == "collectionIcnquiry")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_accepts_its_own_name_only() {
        for action in Action::ALL {
            for other in Action::ALL {
                assert_eq!(action.accepts(other.name()), action == other);
            }
        }
        assert!(Action::CollectionInquiry.accepts("collectionIcnquiry"));
        assert!(!Action::CollectionCollect.accepts("collectionIcnquiry"));
        assert!(!Action::PayoutPayout.accepts("PayoutPayout"));
    }
}
