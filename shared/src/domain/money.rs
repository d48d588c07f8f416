//! Money as integer minor units (cents), never floating point. JSON shows it
//! as a decimal number with two places (`99.99`).

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
#[serde(try_from = "serde_json::Number")]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    #[error("must be an amount with at most two decimal places")]
    Format,
    #[error("must not be negative")]
    Negative,
    #[error("is too large")]
    TooLarge,
}

impl Money {
    pub const ZERO: Self = Self(0);
    /// Larger amounts are refused: no order is worth ten billion.
    const MAX_CENTS: i64 = 1_000_000_000_000;

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses `"99.99"`, `"10"` or `"0.5"` exactly, without going through a float.
    pub fn parse(text: &str) -> Result<Self, InvalidMoney> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err(InvalidMoney::Negative);
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > 2
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(InvalidMoney::Format);
        }
        if whole.len() > 12 {
            return Err(InvalidMoney::TooLarge);
        }
        let whole: i64 = whole.parse().map_err(|_| InvalidMoney::Format)?;
        let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| InvalidMoney::Format)?;
        let cents = whole * 100 + fraction;
        if cents > Self::MAX_CENTS {
            Err(InvalidMoney::TooLarge)
        } else {
            Ok(Self(cents))
        }
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_mul(self, quantity: u32) -> Option<Self> {
        self.0.checked_mul(i64::from(quantity)).map(Self)
    }

    /// `self × basis_points / 10 000`, rounded down to the cent (the tax rule:
    /// 8 % of 199.98 is 15.99).
    pub fn percent_bps_floor(self, basis_points: u32) -> Self {
        Self(self.0 * i64::from(basis_points) / 10_000)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    /// A JSON number with exactly two decimals (`10.00`, not `10.0`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::value::RawValue::from_string(self.to_string()) {
            Ok(raw) => raw.serialize(serializer),
            Err(err) => Err(serde::ser::Error::custom(err)),
        }
    }
}

impl std::ops::Add for Money {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self(self.0 + other.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Self(self.0 - other.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        Self(iter.map(|m| m.0).sum())
    }
}

/// Stored records keep amounts as whole numbers of cents (`#[serde(with = "cents")]`),
/// while the API shows decimals.
pub mod cents {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Money;

    pub fn serialize<S: Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(money.cents())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        i64::deserialize(deserializer).map(Money::from_cents)
    }

    /// The same for an optional amount.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::Money;

        pub fn serialize<S: Serializer>(money: &Option<Money>, serializer: S) -> Result<S::Ok, S::Error> {
            match money {
                Some(money) => serializer.serialize_some(&money.cents()),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Money>, D::Error> {
            Option::<i64>::deserialize(deserializer).map(|cents| cents.map(Money::from_cents))
        }
    }
}

impl TryFrom<serde_json::Number> for Money {
    type Error = InvalidMoney;
    fn try_from(number: serde_json::Number) -> Result<Self, Self::Error> {
        // serde_json prints the shortest text that round-trips, so 99.99 reads back as "99.99".
        Self::parse(&number.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_documented_tax_examples_hold() {
        assert_eq!(
            Money::parse("199.98").unwrap().percent_bps_floor(800),
            Money::from_cents(1599)
        );
        assert_eq!(
            Money::parse("299.97").unwrap().percent_bps_floor(800),
            Money::from_cents(2399)
        );
    }

    #[test]
    fn money_serialises_with_two_decimals() {
        #[derive(Serialize)]
        struct Summary {
            shipping: Money,
            total: Money,
        }
        let json = serde_json::to_string(&Summary {
            shipping: Money::from_cents(1000),
            total: Money::from_cents(22597),
        })
        .unwrap();
        assert_eq!(json, r#"{"shipping":10.00,"total":225.97}"#);
    }

    #[test]
    fn money_reads_json_numbers_exactly() {
        let money: Money = serde_json::from_str("99.99").unwrap();
        assert_eq!(money.cents(), 9999);
        assert!(serde_json::from_str::<Money>("1.999").is_err());
        assert!(serde_json::from_str::<Money>("-1").is_err());
    }

    #[test]
    fn records_keep_whole_cents() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Line {
            #[serde(with = "cents")]
            price: Money,
            #[serde(with = "cents::option", default)]
            compare: Option<Money>,
        }
        let line = Line {
            price: Money::from_cents(1999),
            compare: None,
        };
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(json, r#"{"price":1999,"compare":null}"#);
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), line);
        assert_eq!(
            Money::from_cents(5) + Money::from_cents(7) - Money::from_cents(2),
            Money::from_cents(10)
        );
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(cents in 0i64..1_000_000_000_000) {
            let money = Money::from_cents(cents);
            prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }
    }
}
