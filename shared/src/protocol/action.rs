//! The endpoints SkyPay calls, by name. A leaf module: the code table, the error map and the
//! actions all depend on it, and it depends on nothing.

/// The endpoints SkyPay calls, one line each: the variant (and the name of its request type in
/// its module), its module under `crate::inbound`, its `action` value and route name as SkyPay's
/// pages spell them, and its Lambda function (the crate under `functions/`). `endpoints!(m)`
/// hands the table to the macro `m`: the [`Action`] enum and its names below, and
/// `inbound::Request` with its modules and both dispatches, are expanded from these lines, so a
/// new endpoint is one line here (and its module).
macro_rules! endpoints {
    ($then:ident) => {
        $then! {
            PayoutInquiry, payout_inquiry, "payoutInquiry", "payout-inquiry";
            PayoutPayout, payout_payout, "payoutPayout", "payout-payout";
            CollectionInquiry, collection_inquiry, "collectionInquiry", "collection-inquiry";
            CollectionCollect, collection_collect, "collectionCollect", "collection-collect";
            PayoutQueuePayout, payout_queue_payout, "payoutQueuePayout", "payout-queue-payout";
            FinanceNotification, finance_notification, "financeNotification", "finance-notification";
        }
    };
}
pub(crate) use endpoints;

macro_rules! action {
    ($($variant:ident, $module:ident, $name:literal, $function:literal;)*) => {
        /// One endpoint SkyPay calls (SPEC sections 4-6 and 13.2-13.4).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: [Action; [$($name),*].len()] = [$(Action::$variant),*];

            /// The `action` value and the route name, as SkyPay's pages spell them.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The endpoint's Lambda function: its crate under `functions/`, its binary.
            pub fn function(self) -> &'static str {
                match self {
                    $(Action::$variant => $function,)*
                }
            }
        }
    };
}
endpoints!(action);

impl Action {
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
