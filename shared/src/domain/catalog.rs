//! Catalog values: slugs, SKUs, statuses and ratings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A URL slug: lower-case letters, digits and single hyphens, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 100 lower-case letters, digits and single hyphens (e.g. wireless-headphones)")]
pub struct InvalidSlug;

impl Slug {
    pub fn parse(text: &str) -> Result<Self, InvalidSlug> {
        let slug = text.trim();
        let valid = (1..=100).contains(&slug.len())
            && slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !slug.starts_with('-')
            && !slug.ends_with('-')
            && !slug.contains("--");
        if valid {
            Ok(Self(slug.to_owned()))
        } else {
            Err(InvalidSlug)
        }
    }

    /// The slug of a name: `"TechBrand Wireless Headphones!"` → `techbrand-wireless-headphones`.
    pub fn from_name(name: &str) -> Result<Self, InvalidSlug> {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_end_matches('-').chars().take(100).collect();
        Self::parse(slug.trim_end_matches('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidSlug;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

/// A stock-keeping unit: upper-cased, letters, digits, `-`, `_` and `.`, 1–64
/// characters. Unique across products and variants regardless of case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 64 letters, digits, '-', '_' or '.' (e.g. WH-001)")]
pub struct InvalidSku;

impl Sku {
    pub fn parse(text: &str) -> Result<Self, InvalidSku> {
        let sku = text.trim().to_uppercase();
        let valid =
            (1..=64).contains(&sku.len()) && sku.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if valid { Ok(Self(sku)) } else { Err(InvalidSku) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sku {
    type Error = InvalidSku;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> Self {
        sku.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

impl ProductStatus {
    pub const ALL: [Self; 3] = [Self::Draft, Self::Active, Self::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Active => "ACTIVE",
            Self::Archived => "ARCHIVED",
        }
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        match text.trim().to_uppercase().as_str() {
            "DRAFT" => Ok(Self::Draft),
            "ACTIVE" => Ok(Self::Active),
            "ARCHIVED" => Ok(Self::Archived),
            _ => Err("must be DRAFT, ACTIVE or ARCHIVED"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

/// A review rating: a whole number of stars from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to 5")]
pub struct InvalidRating;

impl Rating {
    pub fn new(stars: u8) -> Result<Self, InvalidRating> {
        if (1..=5).contains(&stars) {
            Ok(Self(stars))
        } else {
            Err(InvalidRating)
        }
    }

    pub fn stars(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = InvalidRating;
    fn try_from(stars: u8) -> Result<Self, Self::Error> {
        Self::new(stars)
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> Self {
        rating.0
    }
}

/// The average of `total` stars over `count` reviews, to one decimal (4.5).
pub fn average_rating(total: i64, count: i64) -> f64 {
    if count <= 0 {
        return 0.0;
    }
    ((total as f64 / count as f64) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(
            Slug::from_name("TechBrand Wireless Headphones!").unwrap().as_str(),
            "techbrand-wireless-headphones"
        );
        assert_eq!(Slug::from_name("  Home & Kitchen ").unwrap().as_str(), "home-kitchen");
        assert!(Slug::from_name("!!!").is_err());
        assert!(Slug::parse("Bad Slug").is_err());
        assert!(Slug::parse("double--hyphen").is_err());
    }

    #[test]
    fn skus_are_upper_cased() {
        assert_eq!(Sku::parse(" wh-001 ").unwrap().as_str(), "WH-001");
        assert!(Sku::parse("has space").is_err());
        assert!(Sku::parse("").is_err());
    }

    #[test]
    fn ratings_are_one_to_five_stars() {
        assert!(Rating::new(0).is_err() && Rating::new(6).is_err());
        assert_eq!(average_rating(9, 2), 4.5);
        assert_eq!(average_rating(14, 3), 4.7);
        assert_eq!(average_rating(0, 0), 0.0);
    }

    proptest! {
        #[test]
        fn a_slug_from_any_name_is_valid_or_refused(name in ".{0,150}") {
            if let Ok(slug) = Slug::from_name(&name) {
                prop_assert_eq!(Slug::parse(slug.as_str()).unwrap(), slug);
            }
        }
    }
}
