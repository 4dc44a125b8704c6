//! payoutQueue (seed 001; SPEC section 7): we push a bank or e-wallet payout to SkyPay.
//!
//! An instruction from the loan system is validated, recorded PENDING with a conditional write
//! (which also takes the right to push it: a *lease*), pushed to SkyPay, and the outcome
//! recorded: write, push, update. Shop pickups (channels 1 and 9) are only registered, QUEUED.
//! The same code serves the SQS Lambda and the local server's `POST /admin/payouts`.
//!
//! `instruction`: what the loan system sends, validated and made canonical, and the body it
//! becomes for SkyPay. `service`: registration, the push under its lease, the outcome. The SQS
//! Lambda runs `PayoutQueue::process_message` under `crate::aws::lambda::handle_sqs`.

mod instruction;
mod service;

pub use instruction::Instruction;
pub use service::{PayoutQueue, Registered, SERVICE, SubmitError, Submitted, classify};
