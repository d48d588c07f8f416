use serde::{Deserialize, Serialize};

/// A first or last name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 100 characters")]
pub struct InvalidName;

impl PersonName {
    pub fn parse(text: &str) -> Result<Self, InvalidName> {
        let name = text.trim();
        let length = name.chars().count();
        if (1..=100).contains(&length) && !name.chars().any(char::is_control) {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = InvalidName;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> Self {
        name.0
    }
}

/// A phone number in international form: an optional `+` and 7–15 digits;
/// spaces, dashes, dots and parentheses are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a phone number such as +1234567890 (7 to 15 digits)")]
pub struct InvalidPhone;

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<Self, InvalidPhone> {
        let compact: String = text.chars().filter(|c| !" -.()".contains(*c)).collect();
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        if (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(compact))
        } else {
            Err(InvalidPhone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = InvalidPhone;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PhoneNumber> for String {
    fn from(phone: PhoneNumber) -> Self {
        phone.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Jane ").unwrap().as_str(), "Jane");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
    }

    #[test]
    fn phones_are_compacted() {
        assert_eq!(PhoneNumber::parse("+1 (234) 567-890").unwrap().as_str(), "+1234567890");
        assert!(PhoneNumber::parse("12345").is_err());
        assert!(PhoneNumber::parse("+12345abc890").is_err());
    }

    proptest! {
        #[test]
        fn phone_parsing_never_panics(text in ".{0,40}") {
            let _ = PhoneNumber::parse(&text);
        }
    }
}
