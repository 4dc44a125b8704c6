//! We call SkyPay: every body we send and every answer we read ([`api`]), the one AES client
//! ([`client`]), the payout push under its lease ([`push`]), and the runs that reconcile the
//! ledger with SkyPay ([`reconcile`]).

pub mod api;
pub mod client;
pub mod push;
pub mod reconcile;
