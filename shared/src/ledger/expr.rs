//! Binds expression placeholders. Every attribute name is written `#name` in an expression and
//! every value `:name`; the maps DynamoDB needs are derived from the expressions themselves, so
//! a name can neither be missing (reserved words such as `status` or `ttl` always go through a
//! placeholder) nor be left unused, which DynamoDB refuses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub struct Bound {
    pub names: Option<HashMap<String, String>>,
    pub values: Option<HashMap<String, AttributeValue>>,
}

/// The placeholders `sigil`+identifier that occur in `expressions`.
fn placeholders(expressions: &[&str], sigil: char) -> Vec<String> {
    let mut found = Vec::new();
    for expression in expressions {
        let mut rest = *expression;
        while let Some(at) = rest.find(sigil) {
            let tail = rest.get(at + 1..).unwrap_or("");
            let len = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let ident = tail.get(..len).unwrap_or("");
            if !ident.is_empty() && !found.iter().any(|f: &String| f == ident) {
                found.push(ident.to_owned());
            }
            rest = tail.get(len..).unwrap_or("");
        }
    }
    found
}

/// Names for every `#name` used; the values from `values` that are used (`:name`).
pub fn bind(expressions: &[&str], values: Vec<(&str, AttributeValue)>) -> Bound {
    let names: HashMap<String, String> = placeholders(expressions, '#')
        .into_iter()
        .map(|n| (format!("#{n}"), n))
        .collect();
    let used = placeholders(expressions, ':');
    let values: HashMap<String, AttributeValue> = values
        .into_iter()
        .filter(|(k, _)| used.iter().any(|u| u == k))
        .map(|(k, v)| (format!(":{k}"), v))
        .collect();
    Bound {
        names: (!names.is_empty()).then_some(names),
        values: (!values.is_empty()).then_some(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_only_what_is_used() {
        let bound = bind(
            &[
                "SET #status = :s, #a_b = if_not_exists(#a_b, :t)",
                "attribute_exists(#pk)",
            ],
            vec![
                ("s", AttributeValue::S("x".into())),
                ("t", AttributeValue::S("y".into())),
                ("unused", AttributeValue::S("z".into())),
            ],
        );
        let names = bound.names.unwrap();
        assert_eq!(names.len(), 3);
        assert_eq!(names["#status"], "status");
        assert_eq!(names["#a_b"], "a_b");
        let values = bound.values.unwrap();
        assert_eq!(values.len(), 2);
        assert!(values.contains_key(":s") && values.contains_key(":t"));
    }
}
