//! Matches a method and path to a template route as API Gateway does: the route
//! with the most literal segments wins (`/users/profile` before `/users/{userId}`).

use std::collections::HashMap;

use crate::gateway::percent_decode;
use crate::template::{HttpRoute, Template};

#[derive(Debug, Clone)]
pub struct RouteTarget {
    pub route: HttpRoute,
    /// The function binary serving it.
    pub function: String,
}

#[derive(Debug, Clone)]
pub struct Matched {
    pub target: RouteTarget,
    pub path_parameters: HashMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Router {
    targets: Vec<RouteTarget>,
}

impl Router {
    pub fn from_template(template: &Template) -> Self {
        let targets = template
            .functions
            .iter()
            .flat_map(|function| {
                function.routes.iter().map(|route| RouteTarget {
                    route: route.clone(),
                    function: function.binary.clone(),
                })
            })
            .collect();
        Self { targets }
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteTarget> {
        self.targets.iter()
    }

    /// True when some route serves `path` with any method (for CORS preflight and 405s).
    pub fn knows_path(&self, path: &str) -> bool {
        self.targets
            .iter()
            .any(|target| match_path(&target.route.path, path).is_some())
    }

    pub fn find(&self, method: &str, path: &str) -> Option<Matched> {
        self.targets
            .iter()
            .filter(|target| target.route.method.eq_ignore_ascii_case(method) || target.route.method == "ANY")
            .filter_map(|target| {
                let params = match_path(&target.route.path, path)?;
                let literals = target.route.path.split('/').filter(|s| !s.starts_with('{')).count();
                Some((
                    literals,
                    Matched {
                        target: target.clone(),
                        path_parameters: params,
                    },
                ))
            })
            .max_by_key(|(literals, _)| *literals)
            .map(|(_, matched)| matched)
    }
}

fn match_path(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let actual: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if pattern.len() != actual.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (expected, segment) in pattern.iter().zip(&actual) {
        if let Some(name) = expected.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), percent_decode(segment));
        } else if expected != segment {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::from_template(&Template::load(&Template::default_path()).unwrap())
    }

    #[test]
    fn literal_routes_win_over_parameters() {
        let matched = router().find("GET", "/api/v1/users/profile").unwrap();
        assert_eq!(matched.target.route.path, "/api/v1/users/profile");
        let matched = router().find("GET", "/api/v1/users/usr_123").unwrap();
        assert_eq!(matched.target.route.path, "/api/v1/users/{userId}");
        assert_eq!(matched.path_parameters["userId"], "usr_123");
    }

    #[test]
    fn unknown_paths_and_methods_do_not_match() {
        assert!(router().find("GET", "/api/v1/nope").is_none());
        assert!(router().find("DELETE", "/api/v1/users/register").is_none());
        assert!(router().knows_path("/api/v1/users/register"));
    }
}
