use std::fmt;

/// A password meeting the policy (the README's "Passwords"): 8–128 characters with an upper-case
/// letter, a lower-case letter, a digit and a special character. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 8 to 128 characters with an upper-case letter, a lower-case letter, a number and a special character")]
pub struct WeakPassword;

impl Password {
    pub fn parse(text: &str) -> Result<Self, WeakPassword> {
        let length = text.chars().count();
        let strong = (8..=128).contains(&length)
            && text.chars().any(char::is_uppercase)
            && text.chars().any(char::is_lowercase)
            && text.chars().any(|c| c.is_ascii_digit())
            && text.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace());
        if strong {
            Ok(Self(text.to_owned()))
        } else {
            Err(WeakPassword)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_documented_example_is_accepted() {
        assert!(Password::parse("SecurePass123!").is_ok());
    }

    #[test]
    fn each_rule_is_enforced() {
        for weak in [
            "Sh0rt!",
            "alllower123!",
            "ALLUPPER123!",
            "NoDigits!!",
            "NoSpecial123",
            &format!("Aa1!{}", "x".repeat(125)),
        ] {
            assert!(Password::parse(weak).is_err(), "{weak:?} was accepted");
        }
    }

    #[test]
    fn a_password_never_prints() {
        assert_eq!(
            format!("{:?}", Password::parse("SecurePass123!").unwrap()),
            "Password(***)"
        );
    }

    proptest! {
        #[test]
        fn any_password_with_every_class_passes(core in "[a-z]{6,20}") {
            let text = format!("A{core}9#");
            prop_assert!(Password::parse(&text).is_ok());
        }
    }
}
