//! The category tree: read whole (it is small), cached, and edited by admins.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use super::Catalog;
use crate::auth::Caller;
use crate::domain::{CategoryId, Slug, Timestamp};
use crate::http::form_value::{boolean, bounded_text, text, unsigned};
use crate::http::{ApiError, ErrorCode, Form};
use crate::store::categories::{CategoryRecord, CategoryWrite};

/// Deeper trees are refused: storefront navigation stops being usable.
pub const MAX_DEPTH: usize = 5;

#[derive(Debug, Default)]
pub struct CategoryTree {
    by_id: HashMap<CategoryId, CategoryRecord>,
    children: HashMap<Option<CategoryId>, Vec<CategoryId>>,
}

impl CategoryTree {
    pub fn new(categories: Vec<CategoryRecord>) -> Self {
        let mut tree = Self::default();
        for category in categories {
            tree.children
                .entry(category.parent_id)
                .or_default()
                .push(category.category_id);
            tree.by_id.insert(category.category_id, category);
        }
        for children in tree.children.values_mut() {
            children.sort_by(|a, b| tree.by_id[a].name.cmp(&tree.by_id[b].name));
        }
        tree
    }

    pub fn get(&self, id: CategoryId) -> Option<&CategoryRecord> {
        self.by_id.get(&id)
    }

    /// A category by id, slug or (case-insensitive) name; a name shared by two
    /// categories finds neither (slugs are the unique handle).
    pub fn find(&self, reference: &str) -> Option<&CategoryRecord> {
        let reference = reference.trim();
        if let Ok(id) = CategoryId::parse(reference) {
            return self.by_id.get(&id);
        }
        if let Some(category) = self.by_id.values().find(|c| c.slug.as_str() == reference) {
            return Some(category);
        }
        let mut named = self.by_id.values().filter(|c| c.name.eq_ignore_ascii_case(reference));
        match (named.next(), named.next()) {
            (Some(category), None) => Some(category),
            _ => None,
        }
    }

    /// Names along a path of ids (unknown ids are skipped).
    pub fn names(&self, path: &[CategoryId]) -> Vec<&str> {
        path.iter()
            .filter_map(|id| self.by_id.get(id))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// True when every category on the path exists and is active.
    pub fn is_visible(&self, path: &[CategoryId]) -> bool {
        path.iter().all(|id| self.by_id.get(id).is_some_and(|c| c.is_active))
    }

    /// The category and all its descendants.
    pub fn subtree(&self, root: CategoryId) -> BTreeSet<CategoryId> {
        let mut found = BTreeSet::new();
        let mut pending = vec![root];
        while let Some(id) = pending.pop() {
            if found.insert(id) {
                pending.extend(self.children.get(&Some(id)).into_iter().flatten().copied());
            }
        }
        found
    }

    fn node(&self, id: CategoryId, include_inactive: bool) -> Option<CategoryNode> {
        let category = self.by_id.get(&id).filter(|c| include_inactive || c.is_active)?;
        let children = self
            .children
            .get(&Some(id))
            .into_iter()
            .flatten()
            .filter_map(|c| self.node(*c, include_inactive))
            .collect();
        Some(CategoryNode {
            category: CategoryView::new(category),
            children,
        })
    }

    /// The roots with their descendants, by name; inactive branches only for admins.
    pub fn nodes(&self, include_inactive: bool) -> Vec<CategoryNode> {
        self.children
            .get(&None)
            .into_iter()
            .flatten()
            .filter_map(|id| self.node(*id, include_inactive))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryView {
    pub category_id: CategoryId,
    pub name: String,
    pub slug: Slug,
    pub description: Option<String>,
    pub image: Option<String>,
    pub parent_id: Option<CategoryId>,
    pub level: usize,
    pub is_active: bool,
    /// Products filed directly under this category.
    pub product_count: i64,
    pub version: u64,
}

impl CategoryView {
    pub fn new(category: &CategoryRecord) -> Self {
        Self {
            category_id: category.category_id,
            name: category.name.clone(),
            slug: category.slug.clone(),
            description: category.description.clone(),
            image: category.image.clone(),
            parent_id: category.parent_id,
            level: category.path.len(),
            is_active: category.is_active,
            product_count: category.product_count,
            version: category.version,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CategoryNode {
    #[serde(flatten)]
    pub category: CategoryView,
    pub children: Vec<CategoryNode>,
}

/// An image address a storefront can put in HTML as it is: an absolute
/// http(s) URL with a host, of at most 500 characters, written only with the
/// characters URLs are made of (RFC 3986, quotes excepted), without credentials.
pub(crate) fn url(value: &Value) -> Result<String, String> {
    const PROBLEM: &str = "must be an absolute http(s) URL of at most 500 URL characters";
    let raw = bounded_text(500)(value)?;
    let url_characters = raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&()*+,;=%".contains(c));
    if !url_characters {
        return Err(PROBLEM.to_owned());
    }
    let parsed = url::Url::parse(&raw).map_err(|_| PROBLEM.to_owned())?;
    let host_is_sound = match parsed.host() {
        Some(url::Host::Domain(domain)) => domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')),
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
        None => false,
    };
    let web = matches!(parsed.scheme(), "http" | "https");
    if web && host_is_sound && parsed.username().is_empty() && parsed.password().is_none() {
        Ok(raw)
    } else {
        Err(PROBLEM.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::url;
    use serde_json::json;

    #[test]
    fn only_plain_web_addresses_are_image_urls() {
        for good in [
            "https://cdn.example.com/products/prod_001_1.jpg",
            "http://images.example.org/a/b.png?w=400&h=300",
            "https://127.0.0.1:8443/x.webp",
            "https://cdn.example.com/caf%C3%A9.jpg",
        ] {
            assert_eq!(url(&json!(good)).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "https://\"><script>alert(1)</script>",
            "https://.ñ",
            "https://./x.jpg",
            "https://a..b/x.jpg",
            "javascript:alert(1)",
            "ftp://example.com/x.jpg",
            "//example.com/x.jpg",
            "/images/x.jpg",
            "https://user:secret@example.com/x.jpg",
            "https://example.com/it's.jpg",
            "https://example.com/a b.jpg",
            "https://",
        ] {
            assert!(url(&json!(bad)).is_err(), "{bad}");
        }
        assert!(url(&json!(format!("https://example.com/{}", "a".repeat(481)))).is_err());
    }
}

/// A category to create or the fields to change.
#[derive(Debug, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub slug: Option<Slug>,
    pub description: Option<Option<String>>,
    pub image: Option<Option<String>>,
    pub parent: Option<String>,
    pub is_active: Option<bool>,
    pub version: Option<u64>,
}

impl CategoryInput {
    pub fn parse(body: &[u8], creating: bool) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&[
            "name",
            "slug",
            "description",
            "image",
            "parentId",
            "isActive",
            "version",
        ]);
        let name = if creating {
            form.required("name", bounded_text(100)).map(Some)
        } else {
            form.optional("name", bounded_text(100))
        };
        let slug = form.optional("slug", |v| Slug::parse(&text(v)?).map_err(|e| e.to_string()));
        let description = optional_clearable(&mut form, "description", bounded_text(1000));
        let image = optional_clearable(&mut form, "image", url);
        let parent = form.optional("parentId", |v| text(v).map(|s| s.trim().to_owned()));
        if !creating {
            form.reject("parentId", "cannot be changed: categories are not moved");
        }
        let is_active = form.optional("isActive", boolean);
        let version = form.optional("version", |v| unsigned(v).map_err(str::to_owned));
        let (Some(name), Some(slug), Some(description), Some(image), Some(parent), Some(is_active), Some(version)) =
            (name, slug, description, image, parent, is_active, version)
        else {
            return Err(form.into_error());
        };
        form.finish()?;
        Ok(Self {
            name,
            slug,
            description,
            image,
            parent,
            is_active,
            version,
        })
    }
}

/// An optional field that `null` clears: `Some(Some(v))` set, `Some(None)` clear, `None` untouched.
pub(crate) fn optional_clearable<T>(
    form: &mut Form,
    name: &str,
    parse: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<Option<Option<T>>> {
    if form.is_null(name) {
        Some(Some(None))
    } else {
        form.optional(name, parse).map(|v| v.map(Some))
    }
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ResourceInUse, message)
}

impl Catalog {
    pub async fn category_tree(&self, caller: Option<&Caller>) -> Result<Vec<CategoryNode>, ApiError> {
        Ok(self.tree().await?.nodes(caller.is_some_and(Caller::is_admin)))
    }

    /// One category by id or slug; inactive ones are hidden from customers.
    pub async fn category(&self, reference: &str, caller: Option<&Caller>) -> Result<CategoryNode, ApiError> {
        let tree = self.tree().await?;
        let admin = caller.is_some_and(Caller::is_admin);
        let category = tree
            .find(reference)
            .filter(|c| admin || tree.is_visible(&c.path))
            .ok_or_else(|| ApiError::not_found("Category"))?;
        tree.node(category.category_id, admin)
            .ok_or_else(|| ApiError::not_found("Category"))
    }

    /// The category as stored now: found in the tree, then read consistently (the
    /// tree comes from an index that may lag a moment behind writes).
    async fn current_category(&self, reference: &str) -> Result<CategoryRecord, ApiError> {
        let tree = self.tree().await?;
        let id = tree
            .find(reference)
            .map(|c| c.category_id)
            .ok_or_else(|| ApiError::not_found("Category"))?;
        self.store
            .category(id)
            .await?
            .ok_or_else(|| ApiError::not_found("Category"))
    }

    /// One transaction: the category, its slug marker and the parent's child count.
    #[tracing::instrument(skip_all)]
    pub async fn create_category(&self, caller: &Caller, input: CategoryInput) -> Result<CategoryView, ApiError> {
        caller.require_admin()?;
        let name = input.name.unwrap_or_default();
        let slug = match input.slug {
            Some(slug) => slug,
            None => Slug::from_name(&name).map_err(|e| ApiError::invalid_field("slug", e.to_string()))?,
        };
        let tree = self.tree().await?;
        let parent = match &input.parent {
            Some(reference) => Some(
                tree.find(reference)
                    .ok_or_else(|| ApiError::invalid_field("parentId", "no such category"))?,
            ),
            None => None,
        };
        if parent.is_some_and(|p| p.path.len() >= MAX_DEPTH) {
            return Err(ApiError::invalid_field(
                "parentId",
                format!("categories nest at most {MAX_DEPTH} levels"),
            ));
        }
        let now = Timestamp::now();
        let category_id = CategoryId::generate();
        let mut path = parent.map(|p| p.path.clone()).unwrap_or_default();
        path.push(category_id);
        let record = CategoryRecord {
            category_id,
            name,
            slug,
            description: input.description.flatten(),
            image: input.image.flatten(),
            parent_id: parent.map(|p| p.category_id),
            path,
            is_active: input.is_active.unwrap_or(true),
            product_count: 0,
            child_count: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.create_category(&record).await.map_err(|err| {
            if err.refused(&CategoryWrite::SlugTaken) {
                slug_taken()
            } else if err.refused(&CategoryWrite::ParentGone) {
                ApiError::invalid_field("parentId", "no such category")
            } else {
                err.into()
            }
        })?;
        self.forget_tree().await;
        Ok(CategoryView::new(&record))
    }

    /// Renames, re-slugs, describes or (de)activates a category (never moves it).
    #[tracing::instrument(skip_all)]
    pub async fn update_category(
        &self,
        caller: &Caller,
        reference: &str,
        input: CategoryInput,
    ) -> Result<CategoryView, ApiError> {
        caller.require_admin()?;
        let current = self.current_category(reference).await?;
        let expected = input.version.unwrap_or(current.version);
        if expected != current.version {
            return Err(ApiError::stale_version());
        }
        let updated = CategoryRecord {
            name: input.name.unwrap_or_else(|| current.name.clone()),
            slug: input.slug.unwrap_or_else(|| current.slug.clone()),
            description: input.description.unwrap_or_else(|| current.description.clone()),
            image: input.image.unwrap_or_else(|| current.image.clone()),
            is_active: input.is_active.unwrap_or(current.is_active),
            version: current.version + 1,
            updated_at: Timestamp::now(),
            ..current.clone()
        };
        self.store
            .update_category(&updated, &current.slug, expected)
            .await
            .map_err(|err| {
                if err.refused(&CategoryWrite::Category) {
                    ApiError::stale_version()
                } else if err.refused(&CategoryWrite::SlugTaken) {
                    slug_taken()
                } else {
                    err.into()
                }
            })?;
        self.forget_tree().await;
        Ok(CategoryView::new(&updated))
    }

    /// Deletes an empty category; one that still has products or children is refused (409).
    #[tracing::instrument(skip_all)]
    pub async fn delete_category(&self, caller: &Caller, reference: &str) -> Result<(), ApiError> {
        caller.require_admin()?;
        let category = &self.current_category(reference).await?;
        let in_use = |category: &CategoryRecord| {
            conflict(format!(
                "Category {} still has {} product(s) and {} subcategories; move or delete them first",
                category.slug, category.product_count, category.child_count
            ))
        };
        if category.product_count > 0 || category.child_count > 0 {
            return Err(in_use(category));
        }
        self.store.delete_category(category).await.map_err(|err| {
            if err.refused(&CategoryWrite::Category) {
                in_use(category)
            } else {
                err.into()
            }
        })?;
        self.forget_tree().await;
        Ok(())
    }
}

fn slug_taken() -> ApiError {
    ApiError::already_exists("A category with this slug already exists")
        .with_details(serde_json::json!([{"field": "slug", "message": "is taken"}]))
}
