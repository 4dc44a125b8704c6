//! One reading of a conditional write's answer, for every writer of the ledger: written, or
//! refused by its condition (with the item as it was, when the request asked for
//! `ReturnValuesOnConditionCheckFailure=ALL_OLD`), or a DynamoDB failure; and, for a cancelled
//! transaction, which of its items' conditions failed.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    CancellationReason, ReturnValue, ReturnValuesOnConditionCheckFailure,
};

use super::expr::Bound;
use super::item::Attributes;
use super::{Ledger, LedgerError};

/// What a conditional write came to.
#[derive(Debug)]
pub(crate) enum Conditional<O> {
    /// The condition held and the write was applied.
    Written(O),
    /// The condition failed: nothing was written. The item as it was, when asked for and
    /// when there was one.
    Refused(Option<Attributes>),
}

/// A service error that may be a failed condition.
pub(crate) trait ConditionFailure {
    /// `Some` when the condition failed, with the old item when DynamoDB sent it.
    fn refused_item(&self) -> Option<Option<&Attributes>>;
}

impl ConditionFailure for UpdateItemError {
    fn refused_item(&self) -> Option<Option<&Attributes>> {
        match self {
            UpdateItemError::ConditionalCheckFailedException(failed) => Some(failed.item()),
            _ => None,
        }
    }
}

impl ConditionFailure for PutItemError {
    fn refused_item(&self) -> Option<Option<&Attributes>> {
        match self {
            PutItemError::ConditionalCheckFailedException(failed) => Some(failed.item()),
            _ => None,
        }
    }
}

/// Reads the answer of one conditional `operation` (`"UpdateItem"`, `"PutItem"`).
pub(crate) fn conditional<O, E, R>(
    operation: &'static str,
    result: Result<O, SdkError<E, R>>,
) -> Result<Conditional<O>, LedgerError>
where
    E: ConditionFailure + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Ok(Conditional::Written(out)),
        Err(e) => match e
            .as_service_error()
            .and_then(ConditionFailure::refused_item)
        {
            Some(old) => Ok(Conditional::Refused(old.cloned())),
            None => Err(LedgerError::dynamo(operation, &e)),
        },
    }
}

/// The reason for item `index` of a cancelled transaction, when its condition failed.
pub(crate) fn failed_condition(
    reasons: &[CancellationReason],
    index: usize,
) -> Option<&CancellationReason> {
    reasons
        .get(index)
        .filter(|r| r.code() == Some("ConditionalCheckFailed"))
}

/// What a conditional `UpdateItem` asks DynamoDB to send back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Returns {
    /// Nothing: whether it was written is all the caller needs.
    Nothing,
    /// On a refusal, the item as it was (to classify why).
    OldOnRefusal,
    /// The item as written, or as it was on a refusal.
    NewOrOld,
}

impl Ledger {
    /// One conditional `UpdateItem` of the item at `key`: `update` applied if `condition` holds,
    /// `bound` carrying both expressions' names and values. Every conditional update of the
    /// ledger goes through here, and its answer through [`conditional`].
    pub(crate) async fn update_if(
        &self,
        key: Attributes,
        condition: &str,
        update: &str,
        bound: Bound,
        returns: Returns,
    ) -> Result<Conditional<UpdateItemOutput>, LedgerError> {
        let mut request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key))
            .condition_expression(condition)
            .update_expression(update)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values);
        if returns != Returns::Nothing {
            request = request.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        if returns == Returns::NewOrOld {
            request = request.return_values(ReturnValue::AllNew);
        }
        conditional("UpdateItem", request.send().await)
    }
}
