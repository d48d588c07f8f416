//! Search terms and ranking. A product's terms come from its name, brand,
//! category names, tags and description, each word weighted by the strongest
//! field it appears in (name ×3, brand ×2, category and tags ×1.5, description ×1,
//! stored as tenths). A query term matches a product term that starts with it;
//! an exact word scores fully, a prefix 70 %.

use std::collections::BTreeMap;

pub const NAME_WEIGHT: u8 = 30;
pub const BRAND_WEIGHT: u8 = 20;
pub const CATEGORY_WEIGHT: u8 = 15;
pub const TAG_WEIGHT: u8 = 15;
pub const DESCRIPTION_WEIGHT: u8 = 10;

/// Shorter terms are not indexed: two letters are the least a prefix query needs.
pub const MIN_TERM_LEN: usize = 2;
const MAX_TERM_LEN: usize = 30;
/// Queries are cut to this many terms (each term is one index query).
pub const MAX_QUERY_TERMS: usize = 6;
const STOP_WORDS: [&str; 12] = [
    "a", "an", "and", "the", "of", "for", "with", "in", "on", "to", "or", "by",
];

/// Lower-cased words of `text`, split on anything that is not a letter or digit.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= MIN_TERM_LEN && !STOP_WORDS.contains(&word.as_str()))
        .map(|word| word.chars().take(MAX_TERM_LEN).collect())
}

/// The text of a product, field by field, as search sees it.
#[derive(Debug, Default)]
pub struct Searchable<'a> {
    pub name: &'a str,
    pub brand: &'a str,
    pub categories: Vec<&'a str>,
    pub tags: &'a [String],
    pub description: &'a str,
}

/// Every term of a product with the weight of the strongest field holding it.
pub fn product_terms(product: &Searchable<'_>) -> BTreeMap<String, u8> {
    let mut terms = BTreeMap::new();
    let mut add = |text: &str, weight: u8| {
        for word in words(text) {
            let entry = terms.entry(word).or_insert(weight);
            *entry = (*entry).max(weight);
        }
    };
    add(product.name, NAME_WEIGHT);
    add(product.brand, BRAND_WEIGHT);
    for category in &product.categories {
        add(category, CATEGORY_WEIGHT);
    }
    for tag in product.tags {
        add(tag, TAG_WEIGHT);
    }
    add(product.description, DESCRIPTION_WEIGHT);
    terms
}

/// The distinct terms of a query, at most [`MAX_QUERY_TERMS`].
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in words(query) {
        if !terms.contains(&word) {
            terms.push(word);
        }
    }
    terms.truncate(MAX_QUERY_TERMS);
    terms
}

/// The relevance of a product to every query term, or `None` when a term matches
/// none of its terms (all terms must match).
pub fn score(product_terms: &BTreeMap<String, u8>, query: &[String]) -> Option<f64> {
    let mut total = 0.0;
    for term in query {
        let best = product_terms
            .range(term.clone()..)
            .take_while(|(candidate, _)| candidate.starts_with(term.as_str()))
            .map(|(candidate, weight)| {
                let exactness = if candidate == term { 1.0 } else { 0.7 };
                f64::from(*weight) / 10.0 * exactness
            })
            .fold(None, |best: Option<f64>, value| {
                Some(best.map_or(value, |b| b.max(value)))
            })?;
        total += best;
    }
    Some(total)
}

/// A price facet bucket in minor units: `[from, to)`, `to` open-ended when `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBucket {
    pub from: i64,
    pub to: Option<i64>,
}

impl PriceBucket {
    pub fn contains(&self, cents: i64) -> bool {
        cents >= self.from && self.to.is_none_or(|to| cents < to)
    }
}

/// Parses `"0-25,25-50,50-"` (currency units) into buckets.
pub fn parse_price_buckets(text: &str) -> Result<Vec<PriceBucket>, String> {
    let units = |s: &str| -> Result<i64, String> {
        s.trim()
            .parse::<i64>()
            .map(|n| n * 100)
            .map_err(|_| format!("{s:?} is not a whole amount"))
    };
    text.split(',')
        .map(|range| {
            let (from, to) = range
                .split_once('-')
                .ok_or_else(|| format!("{range:?} is not from-to"))?;
            let to = if to.trim().is_empty() { None } else { Some(units(to)?) };
            Ok(PriceBucket { from: units(from)?, to })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headphones() -> BTreeMap<String, u8> {
        product_terms(&Searchable {
            name: "TechBrand Wireless Headphones",
            brand: "TechBrand",
            categories: vec!["Electronics", "Audio", "Headphones"],
            tags: &["bluetooth".to_owned()],
            description: "High-quality wireless headphones with noise cancellation",
        })
    }

    #[test]
    fn each_term_keeps_its_strongest_field() {
        let terms = headphones();
        assert_eq!(terms["wireless"], NAME_WEIGHT);
        assert_eq!(terms["techbrand"], NAME_WEIGHT);
        assert_eq!(terms["audio"], CATEGORY_WEIGHT);
        assert_eq!(terms["bluetooth"], TAG_WEIGHT);
        assert_eq!(terms["noise"], DESCRIPTION_WEIGHT);
        assert!(!terms.contains_key("with"), "stop words are not indexed");
    }

    #[test]
    fn every_query_term_must_match_and_prefixes_score_less() {
        let terms = headphones();
        assert_eq!(score(&terms, &query_terms("wireless")), Some(3.0));
        let prefix = score(&terms, &query_terms("wire")).unwrap();
        assert!((prefix - 2.1).abs() < 1e-9);
        assert_eq!(score(&terms, &query_terms("wireless speaker")), None);
        assert_eq!(score(&terms, &query_terms("noise audio")), Some(2.5));
    }

    #[test]
    fn name_matches_outrank_description_matches() {
        let in_name = product_terms(&Searchable {
            name: "Wireless Mouse",
            ..Searchable::default()
        });
        let in_description = product_terms(&Searchable {
            name: "Mouse",
            description: "wireless",
            ..Searchable::default()
        });
        let query = query_terms("wireless");
        assert!(score(&in_name, &query) > score(&in_description, &query));
    }

    #[test]
    fn price_buckets_parse_and_match() {
        let buckets = parse_price_buckets("0-25,25-50,50-").unwrap();
        assert_eq!(buckets[2], PriceBucket { from: 5000, to: None });
        assert!(buckets[0].contains(2499) && !buckets[0].contains(2500));
        assert!(parse_price_buckets("abc").is_err());
    }
}
