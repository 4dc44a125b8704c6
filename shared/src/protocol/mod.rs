//! SkyPay's protocol, pure: what a body is, what its fields must be, how it is signed and
//! encrypted, and what each code means. Nothing here does I/O or imports from above it.

pub mod action;
pub mod auth;
pub mod codes;
pub mod crypto;
pub mod mask;
pub mod rules;
pub mod time;
pub mod wire;
