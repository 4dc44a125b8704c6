//! Masking of personal data for logs (SPEC section 11): phones, names and account numbers never
//! reach a log in full.

/// A value that holds personal data: Debug never shows it, whatever it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Private<T>(pub T);

impl<T> std::fmt::Debug for Private<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<private>")
    }
}

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
