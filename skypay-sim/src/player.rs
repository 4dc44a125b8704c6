//! The shops' side of SkyPay: a cashier's two calls to the gateway, as SkyPay makes them.
//!
//! - a pickup: `payoutInquiry`, then, when the gateway answers 1000, `payoutPayout`;
//! - a repayment: `collectionInquiry`, then, on 1000, `collectionCollect`.
//!
//! Played from a [`crate::Sim`], what the gateway accepted lands in the simulator's reports, as
//! it would in SkyPay's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use skypay::Action;
use skypay::outbound::client::SkyPayClient;
use skypay::protocol::rules::money;
use skypay::protocol::time::SkyPayTime;

use crate::{Shared, SimCollection, SimPayout, SimStatus, lock};

/// One answer of the gateway: its code, description and other members as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub code: String,
    pub description: String,
    pub fields: BTreeMap<String, String>,
}

/// A flow: the inquiry's answer, and the second call's when the inquiry said 1000.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Played {
    pub inquiry: Answered,
    pub settled: Option<Answered>,
}

impl Played {
    /// Whether both calls were answered 1000.
    pub fn succeeded(&self) -> bool {
        self.inquiry.code == "1000" && self.settled.as_ref().is_some_and(|s| s.code == "1000")
    }
}

/// Plays the shops' flows against a gateway at `base` (`{base}/payoutInquiry`, ...).
#[derive(Clone)]
pub struct Player {
    base: String,
    partner: skypay::Config,
    sim: Option<Arc<Shared>>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player").field("base", &self.base).finish()
    }
}

impl Player {
    pub fn new(base: &str, partner: skypay::Config) -> Player {
        Player {
            base: base.trim_end_matches('/').to_owned(),
            partner,
            sim: None,
        }
    }

    pub(crate) fn recording(mut self, sim: Arc<Shared>) -> Player {
        self.sim = Some(sim);
        self
    }

    async fn call(&self, action: Action, members: Value) -> Result<Answered, String> {
        let mut body = json!({
            "userName": self.partner.username,
            "action": action.name(),
            "authentication": self.partner.auth_keys.current().expose_secret(),
        });
        if let (Some(map), Value::Object(members)) = (body.as_object_mut(), members) {
            map.extend(members);
        }
        let client = SkyPayClient::new(
            &format!("{}/{}", self.base, action.name()),
            Duration::from_secs(10),
            self.partner.encryption.clone(),
        )
        .map_err(|e| e.to_string())?;
        let fields = client
            .call(&body)
            .await
            .map_err(|e| format!("{}: {e}", action.name()))?;
        let text = |name: &'static str| fields.text(name).ok().flatten().unwrap_or_default();
        let value = fields.to_value();
        let members = value
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let shown = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), shown)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Answered {
            code: text("responseCode"),
            description: text("responseDescription"),
            fields: members,
        })
    }

    /// A cashier's pickup: payoutInquiry, then payoutPayout if the inquiry said 1000.
    pub async fn payout(
        &self,
        control_number: &str,
        withdraw_channel: u32,
    ) -> Result<Played, String> {
        let inquiry = self
            .call(
                Action::PayoutInquiry,
                json!({"controlNumber": control_number}),
            )
            .await?;
        if inquiry.code != "1000" {
            return Ok(Played {
                inquiry,
                settled: None,
            });
        }
        let now = Utc::now();
        let settled = self
            .call(
                Action::PayoutPayout,
                json!({
                    "controlNumber": control_number,
                    "withdrawChannel": withdraw_channel.to_string(),
                    "payTime": SkyPayTime::from_utc(now).text,
                }),
            )
            .await?;
        if let (Some(sim), "1000") = (&self.sim, settled.code.as_str()) {
            let amount = inquiry
                .fields
                .get("amount")
                .and_then(|a| a.parse::<Decimal>().ok())
                .unwrap_or_default();
            lock(&sim.state).payouts.insert(
                control_number.to_owned(),
                SimPayout {
                    control_number: control_number.to_owned(),
                    amount,
                    withdraw_channel,
                    phone: inquiry.fields.get("phone").cloned().unwrap_or_default(),
                    status: SimStatus::Completed,
                    transaction_date: now,
                    pay_time: Some(now),
                    cancel_time: None,
                    reference_no: String::new(),
                },
            );
        }
        Ok(Played {
            inquiry,
            settled: Some(settled),
        })
    }

    /// A repayment at a shop: collectionInquiry, then collectionCollect if the inquiry said
    /// 1000, with a new receipt number.
    pub async fn collect(
        &self,
        contract_number: &str,
        amount: Decimal,
        pay_channel: u32,
    ) -> Result<Played, String> {
        let phone = "09171234567";
        let inquiry = self
            .call(
                Action::CollectionInquiry,
                json!({"contractNumber": contract_number, "amount": money(amount), "phone": phone}),
            )
            .await?;
        if inquiry.code != "1000" {
            return Ok(Played {
                inquiry,
                settled: None,
            });
        }
        let receipt = format!("{:012X}", rand::random::<u64>() & 0xFFFF_FFFF_FFFF);
        let now = Utc::now();
        let settled = self
            .call(
                Action::CollectionCollect,
                json!({
                    "contractNumber": contract_number,
                    "amount": money(amount),
                    "phone": phone,
                    "receiptNumber": receipt,
                    "collectedTime": SkyPayTime::from_utc(now).text,
                    "payChannel": pay_channel.to_string(),
                }),
            )
            .await?;
        if let (Some(sim), "1000") = (&self.sim, settled.code.as_str()) {
            lock(&sim.state).collections.push(SimCollection {
                contract_number: contract_number.to_owned(),
                amount,
                reference_no: receipt,
                phone: phone.to_owned(),
                collected_time: now,
            });
        }
        Ok(Played {
            inquiry,
            settled: Some(settled),
        })
    }
}
