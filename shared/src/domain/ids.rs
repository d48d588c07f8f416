//! Prefixed, sortable identifiers: `usr_01J…` over a ULID.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an id of the form {prefix}_<26-character ULID>")]
pub struct InvalidId {
    prefix: &'static str,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ulid::Ulid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                Self(ulid::Ulid::new())
            }

            /// Accepts only the canonical spelling (upper-case Crockford base32), so
            /// one id never has two spellings.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                text.strip_prefix(concat!($prefix, "_"))
                    .filter(|rest| rest.len() == 26)
                    .and_then(|rest| ulid::Ulid::from_string(rest).ok().filter(|id| id.to_string() == rest))
                    .map(Self)
                    .ok_or(InvalidId { prefix: $prefix })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "_{}"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// A customer, admin or seller account.
    UserId,
    "usr"
);
prefixed_id!(
    /// A saved postal address of a user.
    AddressId,
    "addr"
);
prefixed_id!(
    /// A refresh-token family: every token rotated from one login.
    SessionId,
    "ses"
);
prefixed_id!(
    /// A product of the catalog.
    ProductId,
    "prod"
);
prefixed_id!(
    /// One sellable variant of a product (a size, a colour).
    VariantId,
    "var"
);
prefixed_id!(
    /// A node of the category tree.
    CategoryId,
    "cat"
);
prefixed_id!(
    /// A customer's review of a product.
    ReviewId,
    "rev"
);
prefixed_id!(
    /// An order.
    OrderId,
    "ord"
);
prefixed_id!(
    /// A line of a cart.
    CartItemId,
    "item"
);
prefixed_id!(
    /// A shipping zone: the destinations a set of shipping methods serves.
    ZoneId,
    "zone"
);
prefixed_id!(
    /// A shipping method of a zone (standard, express, …).
    ShippingMethodId,
    "ship"
);
prefixed_id!(
    /// A tax rate for a country or region.
    TaxRateId,
    "tax"
);
prefixed_id!(
    /// A catalog import: one CSV file and what became of its rows.
    ImportId,
    "imp"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = UserId::generate();
        let text = id.to_string();
        assert!(text.starts_with("usr_"));
        assert_eq!(text.len(), 30);
        assert_eq!(UserId::parse(&text), Ok(id));
    }

    #[test]
    fn a_foreign_prefix_is_rejected() {
        let text = AddressId::generate().to_string();
        assert!(UserId::parse(&text).is_err());
        assert!(UserId::parse("usr_").is_err());
        assert!(UserId::parse("usr_1234567890").is_err());
        let canonical = UserId::generate().to_string();
        assert!(UserId::parse(&canonical.to_lowercase()).is_err());
        assert!(
            UserId::parse("usr_8ZZZZZZZZZZZZZZZZZZZZZZZZZ").is_err(),
            "overflowing ids are not canonical"
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".*") {
            let _ = UserId::parse(&text);
        }
    }
}
