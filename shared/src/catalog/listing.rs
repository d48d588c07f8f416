//! Listing and search: filters, sort, facets and page/limit pagination.
//!
//! A plain listing reads the product cards of the catalog index (one round trip:
//! its shards and the category tree are read concurrently). A search first reads
//! the term index for every query term (round trip 1, concurrent), then the
//! candidate products (round trip 2, concurrent batches), and checks every hit
//! against the product's own terms, so the index only has to find candidates.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::search::{self, PriceBucket, QueryWord};
use super::views::ProductCard;
use super::{Catalog, CategoryTree};
use crate::auth::Caller;
use crate::domain::{CategoryId, Money, ProductId, ProductStatus, Slug};
use crate::http::form_value::{boolean, text};
use crate::http::{ApiError, FieldIssue, Form, Incoming};
use crate::pagination::{PageRequest, Pagination};
use crate::store::products::CardRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Relevance,
    Price,
    Name,
    CreatedAt,
    Rating,
}

/// What to list: category, price range, sort, page and limit, plus search, brand, featured, inStock and status.
/// `inStock: true` keeps only products that can be bought; `false` includes sold-out ones.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: PageRequest,
    pub search: Option<String>,
    pub category: Option<String>,
    pub brands: Vec<String>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub featured: Option<bool>,
    pub in_stock: Option<bool>,
    /// Admins only; customers always see ACTIVE products.
    pub statuses: Vec<ProductStatus>,
    pub sort: Option<SortKey>,
    pub descending: Option<bool>,
    /// The filters came in a search body (`filters.*`), not a query string.
    pub filters_in_body: bool,
}

fn sort_key(text: &str) -> Result<SortKey, String> {
    match text.trim() {
        "relevance" => Ok(SortKey::Relevance),
        "price" => Ok(SortKey::Price),
        "name" => Ok(SortKey::Name),
        "createdAt" | "newest" => Ok(SortKey::CreatedAt),
        "rating" => Ok(SortKey::Rating),
        _ => Err("must be one of relevance, price, name, createdAt (or newest), rating".to_owned()),
    }
}

fn sort_order(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "asc" => Ok(false),
        "desc" => Ok(true),
        _ => Err("must be asc or desc".to_owned()),
    }
}

fn price(text: &str) -> Result<Money, String> {
    Money::parse(text).map_err(|e| e.to_string())
}

/// An amount as a JSON number (`49.99`).
fn amount(value: &Value) -> Result<Money, String> {
    let number = value.as_number().ok_or("must be an amount such as 49.99")?;
    Money::try_from(number.clone()).map_err(|e| e.to_string())
}

/// One value or a list of values, blanks dropped.
fn text_list<T>(value: &Value, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let items: Vec<&str> = match value {
        Value::String(text) => text.split(',').collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().ok_or("must be text"))
            .collect::<Result<_, _>>()?,
        _ => return Err("must be text or a list of text".to_owned()),
    };
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect()
}

fn flag(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

impl ListQuery {
    /// From the query string of `GET /api/v1/products` (or a category's page).
    pub fn from_query(request: &Incoming) -> Result<Self, ApiError> {
        let mut issues = Vec::new();
        let page = match PageRequest::from_query(request, 20) {
            Ok(page) => page,
            Err(err) => {
                issues.extend(field_issues(err));
                PageRequest { page: 1, limit: 20 }
            }
        };
        let read = |name: &str| {
            request
                .query(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let min_price = check(&mut issues, "minPrice", read("minPrice").map(|v| price(&v)));
        let max_price = check(&mut issues, "maxPrice", read("maxPrice").map(|v| price(&v)));
        let featured = check(&mut issues, "featured", read("featured").map(|v| flag(&v)));
        let in_stock = check(&mut issues, "inStock", read("inStock").map(|v| flag(&v)));
        let statuses = check(
            &mut issues,
            "status",
            read("status").map(|v| text_list(&Value::String(v), |s| ProductStatus::parse(s).map_err(str::to_owned))),
        );
        let sort = check(&mut issues, "sortBy", read("sortBy").map(|v| sort_key(&v)));
        let descending = check(&mut issues, "sortOrder", read("sortOrder").map(|v| sort_order(&v)));
        let brands = read("brand")
            .map(|b| {
                b.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let query = Self {
            page,
            search: read("search"),
            category: read("category"),
            brands,
            min_price,
            max_price,
            featured,
            in_stock,
            statuses: statuses.unwrap_or_default(),
            sort,
            descending,
            filters_in_body: false,
        };
        query.checked(issues)
    }

    /// From the body of `POST /api/v1/products/search`:
    /// `{query, filters: {category, brand, minPrice, maxPrice, inStock, featured, status}, sort, sortOrder, page, limit}`.
    /// Every bad field is named at once, filters as `filters.<name>`.
    pub fn from_search_body(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&["query", "filters", "sort", "sortOrder", "page", "limit"]);
        let query = form.optional("query", |v| text(v).map(|t| t.trim().to_owned()));
        let sort = form.optional("sort", |v| sort_key(&text(v)?));
        let descending = form.optional("sortOrder", |v| sort_order(&text(v)?));
        let page = form.optional("page", |v| {
            v.as_u64()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or("must be a whole number from 1")
        });
        let limit = form.optional("limit", |v| {
            v.as_u64()
                .filter(|n| (1..=u64::from(PageRequest::MAX_LIMIT)).contains(n))
                .ok_or("must be a whole number from 1 to 100")
        });
        let filters = form.optional("filters", |v| v.as_object().cloned().ok_or("must be an object"));
        let filters = filters.clone().flatten().unwrap_or_default();
        let mut filters_form = Form::from_body(serde_json::to_string(&filters).unwrap_or_default().as_bytes())?;
        filters_form.only(&[
            "category", "brand", "minPrice", "maxPrice", "inStock", "featured", "status",
        ]);
        let category = filters_form.optional("category", |v| text(v).map(|t| t.trim().to_owned()));
        let brands = filters_form.optional("brand", |v| text_list(v, |s| Ok(s.to_owned())));
        let min_price = filters_form.optional("minPrice", amount);
        let max_price = filters_form.optional("maxPrice", amount);
        let in_stock = filters_form.optional("inStock", boolean);
        let featured = filters_form.optional("featured", boolean);
        let statuses = filters_form.optional("status", |v| {
            text_list(v, |s| ProductStatus::parse(s).map_err(str::to_owned))
        });
        let mut issues = if form.is_valid() {
            Vec::new()
        } else {
            field_issues(form.into_error())
        };
        if !filters_form.is_valid() {
            let mut error = filters_form.into_error();
            prefix_fields(&mut error, "filters.");
            issues.extend(field_issues(error));
        }
        if !issues.is_empty() {
            return Err(ApiError::validation(issues, Vec::new()));
        }
        let query = Self {
            page: PageRequest {
                page: page.flatten().map_or(1, |p| u32::try_from(p).unwrap_or(1)),
                limit: limit.flatten().map_or(20, |l| u32::try_from(l).unwrap_or(20)),
            },
            search: query.flatten().filter(|q| !q.is_empty()),
            category: category.flatten(),
            brands: brands.flatten().unwrap_or_default(),
            min_price: min_price.flatten(),
            max_price: max_price.flatten(),
            featured: featured.flatten(),
            in_stock: in_stock.flatten(),
            statuses: statuses.flatten().unwrap_or_default(),
            sort: sort.flatten(),
            descending: descending.flatten(),
            filters_in_body: true,
        };
        query.checked(Vec::new())
    }

    /// The name of a filter in the request: `filters.minPrice` in a search body, `minPrice` in a query string.
    pub fn field(&self, name: &str) -> String {
        if self.filters_in_body && name != "query" {
            format!("filters.{name}")
        } else {
            name.to_owned()
        }
    }

    fn checked(self, mut issues: Vec<FieldIssue>) -> Result<Self, ApiError> {
        if let (Some(min), Some(max)) = (self.min_price, self.max_price)
            && min > max
        {
            issues.push(FieldIssue::new(self.field("minPrice"), "must not be above maxPrice"));
        }
        if let Some(search) = &self.search
            && search.chars().count() > 200
        {
            issues.push(FieldIssue::new(
                if self.filters_in_body { "query" } else { "search" },
                "must be at most 200 characters",
            ));
        }
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ApiError::validation(issues, Vec::new()))
        }
    }
}

/// The parsed value, or `None` with the problem recorded against `name`.
fn check<T>(issues: &mut Vec<FieldIssue>, name: &str, result: Option<Result<T, String>>) -> Option<T> {
    match result {
        Some(Ok(value)) => Some(value),
        Some(Err(message)) => {
            issues.push(FieldIssue::new(name, message));
            None
        }
        None => None,
    }
}

/// The field issues of a validation error.
fn field_issues(error: ApiError) -> Vec<FieldIssue> {
    match error.details {
        Some(Value::Array(details)) => details
            .into_iter()
            .filter_map(|d| Some(FieldIssue::new(d["field"].as_str()?, d["message"].as_str()?)))
            .collect(),
        _ => Vec::new(),
    }
}

fn prefix_fields(error: &mut ApiError, prefix: &str) {
    if let Some(Value::Array(details)) = &mut error.details {
        for detail in details {
            if let Some(field) = detail["field"].as_str() {
                detail["field"] = Value::String(format!("{prefix}{field}"));
            }
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryFacet {
    pub category_id: CategoryId,
    pub name: String,
    pub slug: Slug,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct BrandFacet {
    pub brand: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct PriceFacet {
    pub min: Money,
    pub max: Option<Money>,
    pub count: usize,
}

/// Counts over every match (before pagination). A product counts toward its
/// category and each ancestor, so a tree can show totals at every level.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    pub categories: Vec<CategoryFacet>,
    pub brands: Vec<BrandFacet>,
    pub price_ranges: Vec<PriceFacet>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    pub products: Vec<ProductCard>,
    pub pagination: Pagination,
    pub facets: Facets,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The query as it was understood when some of its words were corrected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<DidYouMean>,
}

/// The words of a search that were corrected, and the query they make.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DidYouMean {
    /// The query with each corrected word replaced by its nearest correction.
    pub query: String,
    pub corrections: Vec<Correction>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Correction {
    /// The word as typed (lower-cased).
    pub word: String,
    /// The indexed words it was taken for, nearest first.
    pub corrected_to: Vec<String>,
}

impl DidYouMean {
    fn of(words: &[QueryWord]) -> Option<Self> {
        let corrections: Vec<Correction> = words
            .iter()
            .filter(|w| w.corrections().next().is_some())
            .map(|w| Correction {
                word: w.word.clone(),
                corrected_to: w.corrections().map(|a| a.term.clone()).collect(),
            })
            .collect();
        if corrections.is_empty() {
            return None;
        }
        let query = words
            .iter()
            .map(|w| w.corrections().next().map_or(w.word.as_str(), |a| a.term.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        Some(Self { query, corrections })
    }
}

fn facets(matches: &[(CardRecord, Option<f64>)], tree: &CategoryTree, buckets: &[PriceBucket]) -> Facets {
    let mut categories: HashMap<CategoryId, usize> = HashMap::new();
    let mut brands: BTreeMap<String, usize> = BTreeMap::new();
    for (card, _) in matches {
        for id in &card.category_path {
            *categories.entry(*id).or_default() += 1;
        }
        *brands.entry(card.brand.clone()).or_default() += 1;
    }
    let mut categories: Vec<CategoryFacet> = categories
        .into_iter()
        .filter_map(|(id, count)| {
            let category = tree.get(id)?;
            Some(CategoryFacet {
                category_id: id,
                name: category.name.clone(),
                slug: category.slug.clone(),
                count,
            })
        })
        .collect();
    categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let mut brands: Vec<BrandFacet> = brands
        .into_iter()
        .map(|(brand, count)| BrandFacet { brand, count })
        .collect();
    brands.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.brand.cmp(&b.brand)));
    let price_ranges = buckets
        .iter()
        .map(|bucket| PriceFacet {
            min: Money::from_cents(bucket.from),
            max: bucket.to.map(Money::from_cents),
            count: matches
                .iter()
                .filter(|(card, _)| bucket.contains(card.price.cents()))
                .count(),
        })
        .collect();
    Facets {
        categories,
        brands,
        price_ranges,
    }
}

impl Catalog {
    /// Lists or searches products for `caller` (anonymous, customer or admin).
    #[tracing::instrument(skip_all)]
    pub async fn list_products(&self, query: &ListQuery, caller: Option<&Caller>) -> Result<ProductPage, ApiError> {
        let admin = caller.is_some_and(Caller::is_admin);
        if !admin && !query.statuses.is_empty() && query.statuses != [ProductStatus::Active] {
            return Err(ApiError::forbidden());
        }
        let statuses = if query.statuses.is_empty() {
            vec![ProductStatus::Active]
        } else {
            query.statuses.clone()
        };
        let terms = query.search.as_deref().map(search::query_terms).unwrap_or_default();
        let searching = query.search.is_some();
        let candidates = async {
            if terms.is_empty() {
                let cards = self.store.catalog_cards(&statuses).await?;
                Ok::<_, ApiError>((cards.into_iter().map(|card| (card, None)).collect::<Vec<_>>(), None))
            } else {
                self.search_candidates(&terms).await
            }
        };
        let ((candidates, did_you_mean), tree) = futures::try_join!(candidates, self.tree())?;
        let category = match &query.category {
            Some(reference) => Some(
                tree.find(reference)
                    .filter(|c| admin || tree.is_visible(&c.path))
                    .map(|c| tree.subtree(c.category_id))
                    .ok_or_else(|| ApiError::invalid_field(&query.field("category"), "no such category"))?,
            ),
            None => None,
        };
        let brands: HashSet<String> = query.brands.iter().map(|b| b.to_lowercase()).collect();
        // A search shows what can be bought unless asked otherwise (`inStock: false`
        // includes sold-out products); a listing shows everything unless `inStock=true`.
        let in_stock = query.in_stock.or(searching.then_some(true));
        let mut matches: Vec<(CardRecord, Option<f64>)> = candidates
            .into_iter()
            .filter(|(card, _)| statuses.contains(&card.status))
            .filter(|(card, _)| admin || tree.is_visible(&card.category_path))
            .filter(|(card, _)| category.as_ref().is_none_or(|ids| ids.contains(&card.category_id)))
            .filter(|(card, _)| brands.is_empty() || brands.contains(&card.brand.to_lowercase()))
            .filter(|(card, _)| query.min_price.is_none_or(|min| card.price >= min))
            .filter(|(card, _)| query.max_price.is_none_or(|max| card.price <= max))
            .filter(|(card, _)| query.featured.is_none_or(|featured| card.is_featured == featured))
            .filter(|(card, _)| in_stock != Some(true) || card.inventory > 0)
            .collect();
        let facets = facets(&matches, &tree, &self.settings.price_buckets);
        let sort = query.sort.unwrap_or(if searching {
            SortKey::Relevance
        } else {
            SortKey::CreatedAt
        });
        let descending = query.descending.unwrap_or(matches!(
            sort,
            SortKey::Relevance | SortKey::CreatedAt | SortKey::Rating
        ));
        sort_matches(&mut matches, sort, descending);
        let pagination = Pagination::new(query.page, matches.len() as u64);
        let skip = (query.page.page as usize - 1).saturating_mul(query.page.limit as usize);
        let products = matches
            .iter()
            .skip(skip)
            .take(query.page.limit as usize)
            .map(|(card, score)| ProductCard::new(card, &tree, *score))
            .collect();
        Ok(ProductPage {
            products,
            pagination,
            facets,
            query: query.search.clone(),
            did_you_mean,
        })
    }

    /// Products matching every query word, with their scores, and the words
    /// that were corrected. Round trip 1: one index query per word and per
    /// correction, concurrently (the vocabulary that suggests corrections is
    /// cached, one Query when it is not); round trip 2: the candidates.
    async fn search_candidates(
        &self,
        terms: &[String],
    ) -> Result<(Vec<(CardRecord, Option<f64>)>, Option<DidYouMean>), ApiError> {
        let vocabulary = self.vocabulary().await?;
        let mut words: Vec<QueryWord> = terms.iter().map(|t| QueryWord::new(t, &vocabulary)).collect();
        let mut lookups: Vec<String> = words
            .iter()
            .flat_map(|w| w.alternatives.iter().map(|a| a.term.clone()))
            .collect();
        lookups.sort_unstable();
        lookups.dedup();
        let found =
            futures::future::try_join_all(lookups.iter().map(|t| self.store.products_with_term_prefix(t))).await?;
        let hits: HashMap<String, HashSet<ProductId>> = lookups
            .into_iter()
            .zip(found)
            .map(|(term, hits)| (term, hits.into_iter().map(|(_, id)| id).collect()))
            .collect();
        let found = |term: &str| hits.get(term).is_some_and(|ids| !ids.is_empty());
        for word in &mut words {
            // A word found as typed (the cached vocabulary may predate it) is not corrected.
            if found(&word.word) {
                *word = QueryWord::exact(&word.word);
            } else {
                word.retain(found);
            }
        }
        let mut sets = words.iter().map(|word| {
            word.alternatives
                .iter()
                .flat_map(|a| hits.get(a.term.as_str()).into_iter().flatten().copied())
                .collect::<HashSet<ProductId>>()
        });
        let Some(mut candidates) = sets.next() else {
            return Ok((Vec::new(), None));
        };
        for set in sets {
            candidates.retain(|id| set.contains(id));
        }
        let ids: Vec<ProductId> = candidates.into_iter().collect();
        let products = self.store.products(&ids).await?;
        let matches = products
            .iter()
            .filter_map(|product| {
                Some((
                    CardRecord::from(product),
                    Some(search::score(&product.search_terms, &words)?),
                ))
            })
            .collect();
        Ok((matches, DidYouMean::of(&words)))
    }
}

fn sort_matches(matches: &mut [(CardRecord, Option<f64>)], sort: SortKey, descending: bool) {
    use std::cmp::Ordering;
    let rating = |card: &CardRecord| crate::domain::catalog::average_rating(card.rating_total, card.review_count);
    matches.sort_by(|(a, score_a), (b, score_b)| {
        let primary = match sort {
            SortKey::Relevance => score_a
                .unwrap_or(0.0)
                .partial_cmp(&score_b.unwrap_or(0.0))
                .unwrap_or(Ordering::Equal),
            SortKey::Price => a.price.cmp(&b.price),
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::CreatedAt => a.product_id.cmp(&b.product_id),
            SortKey::Rating => rating(a).partial_cmp(&rating(b)).unwrap_or(Ordering::Equal),
        };
        let primary = if descending { primary.reverse() } else { primary };
        // Ties: better rated first, then by name, then by id so pages are stable.
        primary
            .then_with(|| rating(b).partial_cmp(&rating(a)).unwrap_or(Ordering::Equal))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.product_id.cmp(&b.product_id))
    });
}
