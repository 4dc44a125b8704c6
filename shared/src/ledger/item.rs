//! Reading and writing DynamoDB attribute maps.
//!
//! Numbers go in as exact decimal text and come out as `rust_decimal`; DynamoDB normalises them
//! (`3400.00` comes back as `3400`), so number strings are never compared, only values.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use rust_decimal::Decimal;

pub type Attributes = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn ss(values: &[&str]) -> AttributeValue {
    AttributeValue::Ss(values.iter().map(|v| (*v).to_owned()).collect())
}

/// Read access to one item.
#[derive(Clone, Copy)]
pub struct Item<'a>(pub &'a Attributes);

impl<'a> Item<'a> {
    pub fn s(self, name: &str) -> Option<&'a str> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Some(v.as_str()),
            _ => None,
        }
    }

    pub fn has(self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn decimal(self, name: &str) -> Option<Decimal> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => parse_number(v),
            _ => None,
        }
    }

    pub fn u32(self, name: &str) -> Option<u32> {
        self.decimal(name)
            .and_then(|d| u32::from_str(&d.normalize().to_string()).ok())
    }

    pub fn i64(self, name: &str) -> Option<i64> {
        self.decimal(name)
            .and_then(|d| i64::from_str(&d.normalize().to_string()).ok())
    }

    pub fn bool(self, name: &str) -> Option<bool> {
        match self.0.get(name) {
            Some(AttributeValue::Bool(v)) => Some(*v),
            _ => None,
        }
    }

    pub fn string_set(self, name: &str) -> Vec<&'a str> {
        match self.0.get(name) {
            Some(AttributeValue::Ss(v)) => v.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    pub fn string_list(self, name: &str) -> Vec<&'a str> {
        match self.0.get(name) {
            Some(AttributeValue::L(v)) => v
                .iter()
                .filter_map(|a| match a {
                    AttributeValue::S(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// DynamoDB writes numbers in plain or scientific notation depending on the server.
fn parse_number(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compared_by_value() {
        let mut attrs = Attributes::new();
        attrs.insert("a".into(), AttributeValue::N("3400".into()));
        attrs.insert("b".into(), AttributeValue::N("3.4E+3".into()));
        attrs.insert("c".into(), AttributeValue::N("7.0".into()));
        let item = Item(&attrs);
        assert_eq!(item.decimal("a"), Some(Decimal::new(340000, 2)));
        assert_eq!(item.decimal("b"), item.decimal("a"));
        assert_eq!(item.u32("c"), Some(7));
    }
}
