//! Page/limit pagination (`Pagination` in openapi.yaml), for every list.

use serde::Serialize;

use crate::http::{ApiError, FieldIssue, Incoming};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 100;

    /// Reads `page` (default 1) and `limit` (default `default_limit`, at most 100);
    /// anything else is a 400 naming the parameter.
    pub fn from_query(request: &Incoming, default_limit: u32) -> Result<Self, ApiError> {
        let mut issues = Vec::new();
        let mut read = |name: &str, default: u32, max: u32| match request.query(name) {
            None => default,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(value) if (1..=max).contains(&value) => value,
                _ => {
                    issues.push(FieldIssue::new(name, format!("must be a whole number from 1 to {max}")));
                    default
                }
            },
        };
        let page = read("page", 1, 1_000_000);
        let limit = read("limit", default_limit, Self::MAX_LIMIT);
        if issues.is_empty() {
            Ok(Self { page, limit })
        } else {
            Err(ApiError::validation(issues, Vec::new()))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub current_page: u32,
    pub total_pages: u64,
    pub total_items: u64,
    pub items_per_page: u32,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl Pagination {
    pub fn new(request: PageRequest, total_items: u64) -> Self {
        let total_pages = total_items.div_ceil(u64::from(request.limit));
        Self {
            current_page: request.page,
            total_pages,
            total_items,
            items_per_page: request.limit,
            has_next_page: u64::from(request.page) < total_pages,
            has_previous_page: request.page > 1,
        }
    }
}

/// One page of an in-memory list (small, bounded collections such as addresses).
pub fn page_of<T>(items: Vec<T>, request: PageRequest) -> (Vec<T>, Pagination) {
    let total = items.len() as u64;
    let skip = (request.page as usize - 1).saturating_mul(request.limit as usize);
    let page = items.into_iter().skip(skip).take(request.limit as usize).collect();
    (page, Pagination::new(request, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_follows_the_contract() {
        let p = Pagination::new(PageRequest { page: 1, limit: 20 }, 200);
        assert_eq!((p.total_pages, p.has_next_page, p.has_previous_page), (10, true, false));
        let p = Pagination::new(PageRequest { page: 10, limit: 20 }, 200);
        assert!(!p.has_next_page && p.has_previous_page);
        let p = Pagination::new(PageRequest { page: 1, limit: 20 }, 0);
        assert_eq!((p.total_pages, p.has_next_page), (0, false));
    }

    #[test]
    fn an_in_memory_page_is_sliced() {
        let (items, p) = page_of((1..=5).collect(), PageRequest { page: 2, limit: 2 });
        assert_eq!(items, vec![3, 4]);
        assert_eq!(p.total_items, 5);
    }
}
