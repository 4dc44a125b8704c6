//! Integration tests: one binary, every test against a real DynamoDB API (see `support`).
//! Module names follow the SPEC's sections.

mod cancel;
mod checks;
mod collection_collect;
mod collection_inquiry;
mod concurrency;
mod faults;
mod finance_notification;
mod lambda_events;
mod ledger_events;
mod ledger_failure;
mod local_hardening;
mod local_server;
mod logs;
mod money_safety;
mod payout_inquiry;
mod payout_payout;
mod payout_queue;
mod payout_queue_payout;
mod process;
mod properties;
mod reconcile;
mod simulation;
mod soak;
mod sqs;
mod template;
