//! Search terms and ranking. A product's terms come from its name, brand,
//! category names, tags and description, each word weighted by the strongest
//! field it appears in (name ×3, brand ×2, category and tags ×1.5, description ×1,
//! stored as tenths). A query term matches a product term that starts with it;
//! an exact word scores fully, a prefix 70 %. A query word that no product word
//! starts with is corrected: it stands for the nearest product words one edit
//! away (five letters or more) or two (nine or more), which score below any
//! exact or prefix match.

use std::collections::{BTreeMap, BTreeSet};

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

/// The most corrections one query word may stand for.
const MAX_CORRECTIONS: usize = 3;

/// How far a query word may be from a product word and still find it: one
/// edit (insert, delete, substitute or swap two neighbours) from five letters,
/// two from nine; shorter words must be typed right.
pub fn allowed_edits(word: &str) -> usize {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// A product word a query word stands for, and how many edits away it is (0: the word as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub term: String,
    pub edits: usize,
}

/// One word of a query and the product words it may match: itself (by
/// prefix), and when no word of `vocabulary` starts with it, its nearest
/// product words within [`allowed_edits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    pub word: String,
    pub alternatives: Vec<Alternative>,
}

impl QueryWord {
    /// The word as typed, matched by prefix only.
    pub fn exact(word: &str) -> Self {
        Self {
            word: word.to_owned(),
            alternatives: vec![Alternative {
                term: word.to_owned(),
                edits: 0,
            }],
        }
    }

    /// The word, with its corrections when `vocabulary` has no word starting with it.
    pub fn new(word: &str, vocabulary: &Vocabulary) -> Self {
        let mut query_word = Self::exact(word);
        if !vocabulary.has_prefix(word) {
            query_word.alternatives.extend(vocabulary.corrections(word));
        }
        query_word
    }

    /// The corrections this word stands for (alternatives other than itself).
    pub fn corrections(&self) -> impl Iterator<Item = &Alternative> {
        self.alternatives.iter().filter(|a| a.edits > 0)
    }

    /// Keeps the alternatives `found` says matched something.
    pub fn retain(&mut self, found: impl Fn(&str) -> bool) {
        self.alternatives.retain(|a| found(&a.term));
    }
}

/// Every word the index holds, sorted (for prefix checks) and split into
/// characters (for edit distances), built once per cache load.
#[derive(Debug, Default)]
pub struct Vocabulary {
    words: BTreeSet<String>,
    spelled: Vec<(String, Vec<char>)>,
}

impl Vocabulary {
    pub fn new(words: BTreeSet<String>) -> Self {
        let spelled = words.iter().map(|w| (w.clone(), w.chars().collect())).collect();
        Self { words, spelled }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// True when some word starts with `prefix` (or is it).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.words
            .range(prefix.to_owned()..)
            .next()
            .is_some_and(|word| word.starts_with(prefix))
    }

    /// The words nearest to `word` within its allowed edits, nearest first
    /// (ties by word), at most [`MAX_CORRECTIONS`].
    pub fn corrections(&self, word: &str) -> Vec<Alternative> {
        let allowed = allowed_edits(word);
        if allowed == 0 {
            return Vec::new();
        }
        let typed: Vec<char> = word.chars().collect();
        let mut near: Vec<Alternative> = self
            .spelled
            .iter()
            .filter_map(|(candidate, letters)| {
                let edits = edits_within(&typed, letters, allowed)?;
                (edits > 0).then(|| Alternative {
                    term: candidate.clone(),
                    edits,
                })
            })
            .collect();
        near.sort_by(|a, b| a.edits.cmp(&b.edits).then_with(|| a.term.cmp(&b.term)));
        if let Some(nearest) = near.first().map(|a| a.edits) {
            near.retain(|a| a.edits == nearest);
        }
        near.truncate(MAX_CORRECTIONS);
        near
    }
}

/// The optimal-string-alignment distance between `a` and `b` (insertions,
/// deletions, substitutions and swaps of neighbours), or `None` as soon as it
/// must exceed `limit`. Rows live on the stack: words are at most
/// [`MAX_TERM_LEN`] characters.
fn edits_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    const ROW: usize = MAX_TERM_LEN + 1;
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > limit || n > MAX_TERM_LEN || m > MAX_TERM_LEN {
        return None;
    }
    let mut before = [0usize; ROW];
    let mut previous: [usize; ROW] = std::array::from_fn(|j| j);
    let mut current = [0usize; ROW];
    for i in 1..=n {
        current[0] = i;
        let mut row_min = i;
        for j in 1..=m {
            let substitution = previous[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut cost = substitution.min(previous[j] + 1).min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cost = cost.min(before[j - 2] + 1);
            }
            current[j] = cost;
            row_min = row_min.min(cost);
        }
        if row_min > limit {
            return None;
        }
        before = previous;
        previous = current;
    }
    (previous[m] <= limit).then_some(previous[m])
}

/// What a match is worth beside an exact one: a prefix 70 %, a word one edit
/// away 50 %, two edits 35 % (a prefix of a corrected word counts both).
fn exactness(candidate: &str, alternative: &Alternative) -> f64 {
    let prefix = if candidate == alternative.term { 1.0 } else { 0.7 };
    let corrected = match alternative.edits {
        0 => 1.0,
        1 => 0.5,
        _ => 0.35,
    };
    prefix * corrected
}

/// The relevance of a product to every query word, or `None` when a word
/// matches none of its terms (all words must match).
pub fn score(product_terms: &BTreeMap<String, u8>, query: &[QueryWord]) -> Option<f64> {
    let mut total = 0.0;
    for word in query {
        let best = word
            .alternatives
            .iter()
            .flat_map(|alternative| {
                product_terms
                    .range(alternative.term.clone()..)
                    .take_while(|(candidate, _)| candidate.starts_with(alternative.term.as_str()))
                    .map(move |(candidate, weight)| f64::from(*weight) / 10.0 * exactness(candidate, alternative))
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

    fn exact(query: &str) -> Vec<QueryWord> {
        query_terms(query).iter().map(|w| QueryWord::exact(w)).collect()
    }

    fn vocabulary(words: &[&str]) -> Vocabulary {
        Vocabulary::new(words.iter().map(|w| (*w).to_owned()).collect())
    }

    #[test]
    fn every_query_term_must_match_and_prefixes_score_less() {
        let terms = headphones();
        assert_eq!(score(&terms, &exact("wireless")), Some(3.0));
        let prefix = score(&terms, &exact("wire")).unwrap();
        assert!((prefix - 2.1).abs() < 1e-9);
        assert_eq!(score(&terms, &exact("wireless speaker")), None);
        assert_eq!(score(&terms, &exact("noise audio")), Some(2.5));
    }

    #[test]
    fn words_one_or_two_edits_away_are_corrections_by_length() {
        let known = vocabulary(&["headphones", "speaker", "cable", "wireless", "case"]);
        let nearest = |word: &str| -> Vec<(String, usize)> {
            known.corrections(word).into_iter().map(|a| (a.term, a.edits)).collect()
        };
        // Insert, delete, substitute and swap, each one edit.
        assert_eq!(nearest("headphnes"), [("headphones".to_owned(), 1)]);
        assert_eq!(nearest("speakker"), [("speaker".to_owned(), 1)]);
        assert_eq!(nearest("spezker"), [("speaker".to_owned(), 1)]);
        assert_eq!(nearest("spaeker"), [("speaker".to_owned(), 1)]);
        // Two edits only from nine letters; four letters must be typed right.
        assert_eq!(nearest("hedphnes"), Vec::<(String, usize)>::new());
        assert_eq!(nearest("haedphnes"), [("headphones".to_owned(), 2)]);
        assert_eq!(nearest("cabel"), [("cable".to_owned(), 1)]);
        assert_eq!(nearest("caes"), Vec::<(String, usize)>::new());
        assert_eq!(allowed_edits("four"), 0);
        assert_eq!(allowed_edits("eightxx"), 1);
        assert_eq!(allowed_edits("ninexxxxx"), 2);
    }

    #[test]
    fn the_bounded_distance_agrees_with_the_textbook_one() {
        let spelled = |w: &str| w.chars().collect::<Vec<char>>();
        let pairs = [
            ("kitten", "sitting", 3),
            ("ca", "abc", 3),
            ("headphnes", "headphones", 1),
            ("haedphnes", "headphones", 2),
            ("café", "cafe", 1),
            ("abcd", "abdc", 1),
            ("same", "same", 0),
        ];
        for (a, b, distance) in pairs {
            for limit in 0..4 {
                let expected = (distance <= limit).then_some(distance);
                assert_eq!(
                    edits_within(&spelled(a), &spelled(b), limit),
                    expected,
                    "{a} {b} {limit}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Against strsim's unbounded distance, on short words over a small
        /// alphabet (so that near words are common).
        #[test]
        fn the_bounded_distance_is_the_distance_when_within_the_limit(
            a in "[abcé]{0,8}",
            b in "[abcé]{0,8}",
            limit in 0usize..4,
        ) {
            let spelled = |w: &str| w.chars().collect::<Vec<char>>();
            let distance = strsim::osa_distance(&a, &b);
            let expected = (distance <= limit).then_some(distance);
            proptest::prop_assert_eq!(edits_within(&spelled(&a), &spelled(&b), limit), expected);
        }
    }

    #[test]
    fn only_the_nearest_corrections_are_kept() {
        let known = vocabulary(&["bottle", "battle", "bottles", "brittle"]);
        let near: Vec<String> = known.corrections("bittle").into_iter().map(|a| a.term).collect();
        assert_eq!(near, ["battle", "bottle", "brittle"]);
        let one = QueryWord::new("bottl", &known);
        assert_eq!(
            one.corrections().count(),
            0,
            "a prefix of a known word is not corrected"
        );
    }

    #[test]
    fn a_corrected_word_scores_below_an_exact_or_prefix_match() {
        let terms = headphones();
        let known = Vocabulary::new(terms.keys().cloned().collect());
        let corrected = score(&terms, &[QueryWord::new("wirelss", &known)]).unwrap();
        let prefix = score(&terms, &exact("wire")).unwrap();
        assert!(corrected < prefix, "{corrected} < {prefix}");
        assert!((corrected - 1.5).abs() < 1e-9);
        assert_eq!(
            score(&terms, &exact("wirelss")),
            None,
            "without the correction nothing matches"
        );
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
        let query = exact("wireless");
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
