//! One reading of a conditional write's answer, for every writer of the ledger: written, or
//! refused by its condition (with the item as it was, when the request asked for
//! `ReturnValuesOnConditionCheckFailure=ALL_OLD`), or a DynamoDB failure; and, for a cancelled
//! transaction, which of its items' conditions failed.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::CancellationReason;

use super::LedgerError;
use super::item::Attributes;

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
