//! Masking of personal data for logs (SPEC section 11): phones, names and account numbers never
//! reach a log in full.

/// A value that holds personal data: Debug never shows it, whatever it is. It serialises as
/// the value itself (the loan system reads its own data in full).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Private<T>(pub T);

impl<T> std::fmt::Debug for Private<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<private>")
    }
}

impl<T> std::ops::Deref for Private<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Text that is personal data and has a mask: Debug shows the mask (so a type holding one can
/// derive Debug), serialisation the text.
macro_rules! masked_text {
    ($(#[$doc:meta])* $name:ident, $mask:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The masked form, for a log line.
            pub fn masked(&self) -> String {
                $mask(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_owned())
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.masked())
            }
        }
    };
}

masked_text!(
    /// A phone number: Debug shows `0927*****95`.
    Phone,
    phone
);
masked_text!(
    /// A person's name: Debug shows `C***,J***`.
    Name,
    name
);
masked_text!(
    /// A bank account or e-wallet number: Debug shows `********7890`.
    AccountNo,
    account
);

/// Keeps the first four and last two characters of a phone: `0927*****95`.
pub fn phone(text: &str) -> String {
    keep_ends(text, 4, 2)
}

/// Keeps the last four characters of an account number: `******7890`.
pub fn account(text: &str) -> String {
    keep_ends(text, 0, 4)
}

/// Keeps the first letter of each part of a name: `C***,J***`.
pub fn name(text: &str) -> String {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            match part.chars().next() {
                Some(first) => format!("{first}***"),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn keep_ends(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    // Short values are masked whole: showing both ends would show most of them.
    if n <= head + tail + 2 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_text_shows_its_mask_in_debug_and_itself_when_serialised() {
        let phone = Phone::from("09270348095".to_owned());
        assert_eq!(format!("{phone:?}"), "0927*****95");
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"09270348095\"");
        let name = Name::from("Cruz,Juan".to_owned());
        assert_eq!(format!("{:?}", Some(name)), "Some(C***,J***)");
        let account = AccountNo::from("001234567890".to_owned());
        assert_eq!(format!("{account:?}"), "********7890");
        assert_eq!(account.as_str(), "001234567890");
        let private = Private(Some("1740 Mabini St".to_owned()));
        assert_eq!(
            serde_json::to_string(&private).unwrap(),
            "\"1740 Mabini St\""
        );
    }

    #[test]
    fn private_values_never_reach_debug() {
        let debug = format!("{:?}", Private("Cruz,Juan 09270348095"));
        assert_eq!(debug, "<private>");
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(phone("09270348095"), "0927*****95");
        assert_eq!(phone("6392210083333"), "6392*******33");
        assert_eq!(phone("0927"), "****");
        assert_eq!(account("001234567890"), "********7890");
        assert_eq!(name("Cruz,Juan,Santos"), "C***,J***,S***");
        assert_eq!(name("Lardizabal,Mary Annalou B.,Berja,"), "L***,M***,B***,");
    }
}
