//! A payout instruction from the loan system: payoutQueue's field names and rules (SPEC 7),
//! its canonical form (a re-post is compared with it by value), and SkyPay's request body.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::outbound::api;
use crate::protocol::mask::{AccountNo, Name, Phone, Private};
use crate::protocol::rules::{self, Amount, ControlNumber, NumberError, PayoutChannel};
use crate::protocol::time::{self, SkyPayTime};
use crate::protocol::wire::{FieldError, Fields};

/// A validated payout instruction: payoutQueue's own field names and rules. Its personal data
/// is held in masked types, so Debug shows a name, a phone and an account number masked and the
/// identity fields not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Required (SPEC 14.1): the loan system owns the number, so a retry of the same
    /// instruction is the same payout. The gateway never draws one.
    pub control_number: ControlNumber,
    pub name: Name,
    /// Normalised to `0XXXXXXXXXX`.
    pub phone: Phone,
    pub amount: Amount,
    pub channel: PayoutChannel,
    pub account_no: Option<AccountNo>,
    pub bank_no: Private<Option<String>>,
    pub identification_id: Private<Option<String>>,
    pub identification_type_id: Private<Option<String>>,
    pub id_type: Private<Option<String>>,
    pub idcard_pic_type: Private<Option<String>>,
    pub idcard_pic_url: Private<Option<String>>,
    pub birthday: Private<Option<String>>,
    pub birth_place: Private<Option<String>>,
    pub location: Private<Option<String>>,
    pub province_id: Option<u32>,
    pub city_id: Option<u32>,
    /// The loan's repayment contract (SPEC 13.2): stored, shown by payoutInquiry, never pushed.
    pub contract_number: Option<ControlNumber>,
    pub expires_at: Option<SkyPayTime>,
}

/// A field counts as carried when it holds anything but `null` or `""`.
fn present(fields: &Fields, name: &'static str) -> bool {
    !matches!(fields.text(name), Ok(None))
}

const BANK_ONLY: [&str; 5] = [
    "bankNo",
    "identificationTypeId",
    "birthPlace",
    "provinceId",
    "cityId",
];
const WALLET_ONLY: [&str; 3] = ["idType", "idcardPicType", "idcardPicUrl"];

impl Instruction {
    /// Validates an instruction (a JSON object with payoutQueue's field names).
    pub fn parse(
        fields: &Fields,
        prefix: &rules::Prefix,
        now: DateTime<Utc>,
    ) -> Result<Instruction, FieldError> {
        let number = |field: &'static str| -> Result<Option<ControlNumber>, FieldError> {
            match fields.text(field)? {
                None => Ok(None),
                Some(text) => ControlNumber::parse(&text, prefix).map(Some).map_err(|e| {
                    FieldError::new(
                        field,
                        match e {
                            NumberError::Prefix => {
                                format!("must start with our prefix {}", prefix.as_str())
                            }
                            NumberError::Format => rules::number_rule(prefix),
                        },
                    )
                }),
            }
        };
        let control_number = number("controlNumber")?.ok_or_else(|| {
            FieldError::new(
                "controlNumber",
                "is required: the loan system names every payout, so that a retry is the same \
                 payout (SPEC 14.1)",
            )
        })?;
        let code = fields.required_integer("withdrawChannel", 1, 99_999)?;
        let channel = PayoutChannel::from_code(code).ok_or_else(|| {
            FieldError::new("withdrawChannel", "must be one of 1, 5, 6, 8, 9, 15")
        })?;
        let name = fields.required_text("name", 50)?;
        rules::valid_payout_name(&name).map_err(|rule| FieldError::new("name", rule))?;
        let phone_text = fields.required_text("phone", 50)?;
        let phone = rules::normalise_phone(&phone_text)
            .ok_or_else(|| FieldError::new("phone", "must be 11 digits starting with 08 or 09"))?;
        let amount = fields.required_amount("amount")?;

        let optional = |field: &'static str, max: usize| -> Result<Option<String>, FieldError> {
            match fields.text(field)? {
                None => Ok(None),
                Some(t) if rules::within_length(&t, 1, max) => Ok(Some(t)),
                Some(_) => Err(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                )),
            }
        };
        let mut account_no = optional("accountNo", 50)?;
        let bank_no = optional("bankNo", 50)?;
        match channel {
            PayoutChannel::Bank => {
                match &bank_no {
                    Some(b) if b.chars().count() == 3 => {}
                    Some(_) => {
                        return Err(FieldError::new(
                            "bankNo",
                            "must be the 3-character bank code",
                        ));
                    }
                    None => {
                        return Err(FieldError::new(
                            "bankNo",
                            "is required for bank payouts (channel 5)",
                        ));
                    }
                }
                if account_no.is_none() {
                    return Err(FieldError::new(
                        "accountNo",
                        "is required for bank payouts (channel 5)",
                    ));
                }
                if let Some(field) = WALLET_ONLY.iter().find(|f| present(fields, f)) {
                    return Err(FieldError::new(field, "is for e-wallet payouts only"));
                }
            }
            PayoutChannel::EWallet(_) => {
                let Some(account) = account_no.as_deref() else {
                    return Err(FieldError::new(
                        "accountNo",
                        "is required for e-wallet payouts",
                    ));
                };
                account_no = Some(rules::normalise_phone(account).ok_or_else(|| {
                    FieldError::new(
                        "accountNo",
                        "must be the wallet's mobile number (08/09 and 11 digits)",
                    )
                })?);
                if let Some(field) = BANK_ONLY.iter().find(|f| present(fields, f)) {
                    return Err(FieldError::new(field, "is for bank payouts only"));
                }
            }
            PayoutChannel::ShopPickup(_) => {}
        }
        let birthday = match fields.text("birthday")? {
            None => None,
            Some(b) => {
                time::parse_date(&b).ok_or_else(|| {
                    FieldError::new("birthday", "must be a real date written yyyy-MM-dd")
                })?;
                Some(b)
            }
        };
        let expires_at = fields.time("expiresAt")?;
        if let Some(t) = &expires_at {
            // SPEC 12.3: a past expiry is only for shop pickups, which can then never be paid.
            if t.utc <= now && channel.is_pushed() {
                return Err(FieldError::new(
                    "expiresAt",
                    "is in the past; only shop pickups (1, 9) accept that",
                ));
            }
        }
        Ok(Instruction {
            control_number,
            name: Name::from(name),
            phone: Phone::from(phone),
            amount,
            channel,
            account_no: account_no.map(AccountNo::from),
            bank_no: Private(bank_no),
            identification_id: Private(optional("identificationId", 50)?),
            identification_type_id: Private(optional("identificationTypeId", 3)?),
            id_type: Private(optional("idType", 50)?),
            idcard_pic_type: Private(optional("idcardPicType", 50)?),
            idcard_pic_url: Private(optional("idcardPicUrl", 500)?),
            birthday: Private(birthday),
            birth_place: Private(optional("birthPlace", 250)?),
            location: Private(optional("location", 500)?),
            province_id: fields.integer("provinceId", 1, 99_999)?,
            city_id: fields.integer("cityId", 1, 99_999)?,
            contract_number: number("contractNumber")?,
            expires_at,
        })
    }

    /// The instruction as payoutQueue's fields (SPEC 12.7): `amount` a string with two decimals,
    /// `withdrawChannel` a JSON integer, everything else strings. Sorted keys: this is also the
    /// canonical form a re-post is compared with.
    fn fields(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                map.insert(k.to_owned(), Value::String(v));
            }
        };
        put(
            "controlNumber",
            Some(self.control_number.as_str().to_owned()),
        );
        put("name", Some(self.name.as_str().to_owned()));
        put("phone", Some(self.phone.as_str().to_owned()));
        put("amount", Some(self.amount.two_decimals()));
        put(
            "accountNo",
            self.account_no.as_ref().map(|a| a.as_str().to_owned()),
        );
        put("bankNo", self.bank_no.0.clone());
        put("identificationId", self.identification_id.0.clone());
        put(
            "identificationTypeId",
            self.identification_type_id.0.clone(),
        );
        put("idType", self.id_type.0.clone());
        put("idcardPicType", self.idcard_pic_type.0.clone());
        put("idcardPicUrl", self.idcard_pic_url.0.clone());
        put("birthday", self.birthday.0.clone());
        put("birthPlace", self.birth_place.0.clone());
        put("location", self.location.0.clone());
        put("provinceId", self.province_id.map(|p| p.to_string()));
        put("cityId", self.city_id.map(|c| c.to_string()));
        put(
            "contractNumber",
            self.contract_number.as_ref().map(|c| c.as_str().to_owned()),
        );
        put(
            "expiresAt",
            self.expires_at.as_ref().map(|t| t.text.clone()),
        );
        map.insert("withdrawChannel".to_owned(), json!(self.channel.code()));
        map
    }

    /// The canonical form stored with the payout; re-posts are compared with it by value.
    pub fn canonical(&self) -> String {
        Value::Object(self.fields()).to_string()
    }

    /// The body we POST to SkyPay.
    pub(super) fn payout_queue_body(&self, config: &Config, sender: &str) -> Value {
        let mut fields = self.fields();
        // Ours, not payoutQueue's.
        fields.remove("expiresAt");
        fields.remove("contractNumber");
        let mut map = api::request(config, api::PAYOUT_QUEUE);
        map.extend(fields);
        map.insert("sender".to_owned(), json!(sender));
        Value::Object(map)
    }
}
