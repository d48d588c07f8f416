//! Checks responses against `openapi.yaml`, so that a field added or dropped
//! in code fails a test until the document says so.
//!
//! The document is read once. A request is matched to its operation as API
//! Gateway routes it (among the templates with that method, the one with the
//! most literal segments wins); the response is looked up by its status (else
//! `default`), and its body is validated against the documented media type's
//! schema. The OpenAPI 3.0 schemas are turned into JSON Schema 2020-12 first
//! ([`to_json_schema`]): `nullable`, the boolean `exclusiveMinimum`, examples
//! dropped, `allOf` of objects flattened into one object, and every object
//! closed (`additionalProperties: false` unless the document says otherwise),
//! so an undocumented field is an error too. API Gateway's own bare
//! `{"message": "..."}` answers are no operation's and are not checked.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Map, Value, json};

/// The document, at the workspace root.
pub const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");

/// How much of a body a failure message shows.
const BODY_LIMIT: usize = 2_000;

/// How much of a request path a failure message shows.
const PATH_LIMIT: usize = 300;

/// The JSON Schema dialect the converted schemas are written in.
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let text = std::fs::read_to_string(DOCUMENT).unwrap_or_else(|err| panic!("reading {DOCUMENT}: {err}"));
    Contract::parse(&text).unwrap_or_else(|err| panic!("{DOCUMENT}: {err}"))
});

/// A response as the checker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The JSON body, or `None` when the body is empty.
    pub body: Option<&'a Value>,
}

/// Checks a response to `method path` (the path may carry a query string)
/// against `openapi.yaml`. API Gateway's own answers are not checked: a route
/// the document does not describe, and any bare `{"message": "..."}` (an
/// unknown route, a request too large, an integration failure), which the
/// document says is outside the envelope.
pub fn check(method: &str, path: &str, response: Response<'_>) -> Result<(), String> {
    CONTRACT.check(method, path, response)
}

/// An OpenAPI document, ready to check responses.
pub struct Contract {
    document: Value,
    /// Every component schema, converted, as `$defs`.
    defs: Value,
    /// Each path template, split into segments (`None` for a `{param}`).
    templates: Vec<(String, Vec<Option<String>>)>,
    /// Validators built so far, by operation, status and media type.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Contract {
    /// Reads an OpenAPI 3.0 document written in YAML.
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let document: Value = serde_norway::from_str(yaml).map_err(|err| format!("not an OpenAPI document: {err}"))?;
        let empty = Map::new();
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut defs = Map::new();
        for (name, schema) in schemas {
            let mut converted = convert(schema, schemas, 0);
            close(&mut converted);
            defs.insert(name.clone(), converted);
        }
        let templates = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the document has no paths")?
            .keys()
            .map(|template| {
                let segments = segments(template)
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect();
                (template.clone(), segments)
            })
            .collect();
        Ok(Self {
            document,
            defs: Value::Object(defs),
            templates,
            validators: Mutex::default(),
        })
    }

    /// The template and operation that serve `method path`, as API Gateway
    /// routes: among the templates that have the method and match the path
    /// segment by segment, the one with the most literal segments.
    pub fn operation(&self, method: &str, path: &str) -> Option<(&str, &Value)> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let actual: Vec<&str> = segments(path).collect();
        let method = method.to_ascii_lowercase();
        self.templates
            .iter()
            .filter(|(_, expected)| {
                expected.len() == actual.len()
                    && expected
                        .iter()
                        .zip(&actual)
                        .all(|(e, a)| e.as_deref().map_or(!a.is_empty(), |literal| literal == *a))
            })
            .filter_map(|(template, expected)| {
                let operation = self.document["paths"][template].get(&method)?;
                Some((
                    expected.iter().filter(|s| s.is_some()).count(),
                    template.as_str(),
                    operation,
                ))
            })
            .max_by_key(|(literals, _, _)| *literals)
            .map(|(_, template, operation)| (template, operation))
    }

    /// Checks one response; the error names everything that is wrong with it.
    pub fn check(&self, method: &str, path: &str, response: Response<'_>) -> Result<(), String> {
        let Some((template, operation)) = self.operation(method, path) else {
            return Ok(());
        };
        if is_gateway_answer(response.body) {
            return Ok(());
        }
        let method = method.to_ascii_uppercase();
        let failure = |problems: &[String]| {
            let mut message = format!(
                "the response to {method} {} (operation {method} {template}) with status {} does not match openapi.yaml:\n",
                shorten(path, PATH_LIMIT),
                response.status
            );
            for problem in problems {
                let _ = writeln!(message, "  - {problem}");
            }
            let _ = write!(message, "  body: {}", excerpt(response.body));
            message
        };
        let status = response.status.to_string();
        let responses = &operation["responses"];
        let (status_key, documented) = [
            status.clone(),
            format!("{}XX", status.chars().next().unwrap_or('0')),
            "default".to_owned(),
        ]
        .into_iter()
        .find_map(|key| responses.get(&key).map(|r| (key, r)))
        .ok_or_else(|| failure(&[format!("status {status} is not documented for {method} {template}")]))?;
        let documented = self.resolve(documented);
        let content = documented
            .get("content")
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty());
        let Some(content) = content else {
            return match response.body {
                None => Ok(()),
                Some(_) => Err(failure(&[format!(
                    "status {status} of {method} {template} is documented without a body, but one was sent"
                )])),
            };
        };
        let media_type = response
            .content_type
            .and_then(|header| header.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        let documented_types = || content.keys().cloned().collect::<Vec<_>>().join(", ");
        let Some(media_type) = media_type else {
            return Err(failure(&[format!(
                "no Content-Type; documented: {}",
                documented_types()
            )]));
        };
        let Some((media_key, media)) = content.iter().find(|(key, _)| key.eq_ignore_ascii_case(&media_type)) else {
            return Err(failure(&[format!(
                "Content-Type {media_type} is not documented; documented: {}",
                documented_types()
            )]));
        };
        let Some(schema) = media.get("schema") else {
            return Ok(());
        };
        let Some(body) = response.body else {
            return Err(failure(&[format!("the body is empty; documented: {media_key}")]));
        };
        let key = format!("{method} {template} {status_key} {media_key}");
        let validator = self.validator(&key, schema).map_err(|err| failure(&[err]))?;
        let problems: Vec<String> = validator
            .iter_errors(body)
            .map(|error| {
                let at = error.instance_path().to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                format!("at {at}: {error}")
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(failure(&problems))
        }
    }

    /// Follows a `$ref` to `#/components/...` (responses are referenced so).
    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                return node;
            };
            let Some(target) = reference
                .strip_prefix('#')
                .and_then(|pointer| self.document.pointer(pointer))
            else {
                return node;
            };
            node = target;
        }
        node
    }

    /// The validator of one response's schema, built on first use.
    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some(validator) = self.lock().get(key) {
            return Ok(validator.clone());
        }
        let root = self.json_schema(schema);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(&root)
            .map_err(|err| format!("the schema of {key} does not compile: {err}"))?;
        let validator = Arc::new(validator);
        self.lock().insert(key.to_owned(), validator.clone());
        Ok(validator)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<jsonschema::Validator>>> {
        self.validators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A document schema as a standalone JSON Schema 2020-12, every component
    /// schema attached as `$defs`.
    pub fn json_schema(&self, schema: &Value) -> Value {
        let empty = Map::new();
        let schemas = self
            .document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut root = convert(schema, schemas, 0);
        close(&mut root);
        let mut root = match root {
            Value::Object(root) => root,
            other => {
                let mut wrapper = Map::new();
                wrapper.insert("allOf".to_owned(), json!([other]));
                wrapper
            }
        };
        root.insert("$schema".to_owned(), json!(DIALECT));
        root.insert("$defs".to_owned(), self.defs.clone());
        Value::Object(root)
    }
}

/// True for API Gateway's own answer, `{"message": "..."}` and nothing else
/// (an unknown route, a request too large, an integration failure): the
/// document says these do not use the envelope, and they are no operation's.
fn is_gateway_answer(body: Option<&Value>) -> bool {
    body.and_then(Value::as_object)
        .is_some_and(|object| object.len() == 1 && object.get("message").is_some_and(Value::is_string))
}

/// The segments of a path, without the empty one a trailing `/` leaves.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_end_matches('/').split('/')
}

/// The body for a failure message, cut to [`BODY_LIMIT`] characters.
fn excerpt(body: Option<&Value>) -> String {
    match body {
        None => "(empty)".to_owned(),
        Some(body) => shorten(&body.to_string(), BODY_LIMIT),
    }
}

/// `text`, cut to `limit` characters.
fn shorten(text: &str, limit: usize) -> String {
    let length = text.chars().count();
    if length <= limit {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(limit).collect();
        format!("{cut}… ({length} characters in all)")
    }
}

/// Keywords that only describe: a branch of `allOf` made of these alone
/// neither adds nor forbids anything.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// How deep `allOf` branches are followed through `$ref`s when flattening.
const MAX_DEPTH: usize = 32;

/// An OpenAPI 3.0 schema as JSON Schema 2020-12, its objects closed; `$ref`s
/// to `#/components/schemas/X` become `#/$defs/X`.
pub fn to_json_schema(schema: &Value, components: &Map<String, Value>) -> Value {
    let mut converted = convert(schema, components, 0);
    close(&mut converted);
    converted
}

fn convert(schema: &Value, components: &Map<String, Value>, depth: usize) -> Value {
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        let converted = match key.as_str() {
            "example" | "examples" | "nullable" | "discriminator" | "xml" | "externalDocs" => continue,
            extension if extension.starts_with("x-") => continue,
            "$ref" => match value.as_str() {
                Some(reference) => Value::String(match reference.strip_prefix("#/components/schemas/") {
                    Some(name) => format!("#/$defs/{name}"),
                    None => reference.to_owned(),
                }),
                None => value.clone(),
            },
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| (name.clone(), convert(property, components, depth)))
                    .collect(),
            ),
            "items" | "not" | "additionalProperties" if value.is_object() => convert(value, components, depth),
            "allOf" | "oneOf" | "anyOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|branch| convert(branch, components, depth))
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        match out.get(flag) {
            Some(Value::Bool(true)) => match out.remove(bound) {
                Some(bound) => {
                    out.insert(flag.to_owned(), bound);
                }
                None => {
                    out.remove(flag);
                }
            },
            Some(Value::Bool(false)) => {
                out.remove(flag);
            }
            _ => {}
        }
    }
    let mut out = flatten_all_of(out, components, depth);
    if object.get("nullable") == Some(&Value::Bool(true)) {
        out = nullable(out);
    }
    Value::Object(out)
}

/// Lets `null` through a converted schema, as `nullable: true` does.
fn nullable(mut schema: Map<String, Value>) -> Map<String, Value> {
    let add_null = |list: &mut Value| match list {
        Value::Array(items) if !items.contains(&Value::Null) => items.push(Value::Null),
        _ => {}
    };
    if let Some(kind) = schema.get_mut("type") {
        if let Value::String(single) = kind {
            *kind = json!([single.clone(), "null"]);
        } else if let Value::Array(kinds) = kind
            && !kinds.contains(&json!("null"))
        {
            kinds.push(json!("null"));
        }
        if let Some(values) = schema.get_mut("enum") {
            add_null(values);
        }
        return schema;
    }
    if ["$ref", "allOf", "oneOf", "anyOf", "not"]
        .iter()
        .any(|k| schema.contains_key(*k))
    {
        let mut wrapper = Map::new();
        wrapper.insert("anyOf".to_owned(), json!([Value::Object(schema), {"type": "null"}]));
        return wrapper;
    }
    if let Some(values) = schema.get_mut("enum") {
        add_null(values);
    }
    schema
}

/// True when a (converted) schema describes an object.
fn is_object(schema: &Map<String, Value>) -> bool {
    schema.contains_key("properties")
        || match schema.get("type") {
            Some(Value::String(kind)) => kind == "object",
            Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "object"),
            _ => false,
        }
}

fn is_annotation_only(schema: &Map<String, Value>) -> bool {
    schema.keys().all(|k| ANNOTATIONS.contains(&k.as_str()))
}

/// The branch of an `allOf` as an object schema to merge: an inline object,
/// or the component a `$ref` names when that is an object.
fn object_branch(branch: &Value, components: &Map<String, Value>, depth: usize) -> Option<Map<String, Value>> {
    let branch = branch.as_object()?;
    if let Some(reference) = branch.get("$ref").and_then(Value::as_str) {
        if depth >= MAX_DEPTH || branch.keys().any(|k| k != "$ref" && !ANNOTATIONS.contains(&k.as_str())) {
            return None;
        }
        let name = reference.strip_prefix("#/$defs/")?;
        let Value::Object(target) = convert(components.get(name)?, components, depth + 1) else {
            return None;
        };
        return is_object(&target).then_some(target);
    }
    (is_object(branch) || is_annotation_only(branch)).then(|| branch.clone())
}

/// Merges `allOf: [object, object, …]` (inline or `$ref`) and the schema's
/// own keywords into one object schema, so that it can be closed as a whole.
/// Other `allOf`s are left as they are.
fn flatten_all_of(mut schema: Map<String, Value>, components: &Map<String, Value>, depth: usize) -> Map<String, Value> {
    let Some(Value::Array(branches)) = schema.get("allOf") else {
        return schema;
    };
    let Some(parts) = branches
        .iter()
        .map(|branch| object_branch(branch, components, depth))
        .collect::<Option<Vec<_>>>()
    else {
        return schema;
    };
    if !parts.iter().any(is_object) {
        return schema;
    }
    schema.remove("allOf");
    let mut merged = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut kinds: Option<Vec<Value>> = None;
    for part in std::iter::once(schema).chain(parts) {
        for (key, value) in part {
            match key.as_str() {
                "properties" => {
                    for (name, property) in value.as_object().into_iter().flatten() {
                        let combined = match properties.remove(name) {
                            None => property.clone(),
                            Some(earlier) => {
                                let mut both = Map::new();
                                both.insert("allOf".to_owned(), json!([earlier, property]));
                                Value::Object(flatten_all_of(both, components, depth))
                            }
                        };
                        properties.insert(name.clone(), combined);
                    }
                }
                "required" => {
                    for name in value.as_array().into_iter().flatten() {
                        if !required.contains(name) {
                            required.push(name.clone());
                        }
                    }
                }
                "type" => {
                    let these = match value {
                        Value::Array(list) => list,
                        single => vec![single],
                    };
                    kinds = Some(match kinds {
                        None => these,
                        Some(earlier) => earlier.into_iter().filter(|k| these.contains(k)).collect(),
                    });
                }
                // The merged object is closed over every branch's properties instead.
                "additionalProperties" if value == Value::Bool(false) => {}
                _ => {
                    merged.entry(key).or_insert(value);
                }
            }
        }
    }
    if let Some(kinds) = kinds {
        merged.insert(
            "type".to_owned(),
            match kinds.as_slice() {
                [single] => single.clone(),
                _ => Value::Array(kinds),
            },
        );
    }
    if !properties.is_empty() {
        merged.insert("properties".to_owned(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".to_owned(), Value::Array(required));
    }
    merged
}

/// Closes every object schema that lists `properties` and says nothing of
/// `additionalProperties`: an undocumented field is then an error.
fn close(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    if object.contains_key("properties") && !object.contains_key("additionalProperties") {
        object.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" => value.as_object_mut().into_iter().flatten().for_each(|(_, s)| close(s)),
            "items" | "not" | "additionalProperties" => close(value),
            "allOf" | "oneOf" | "anyOf" => value.as_array_mut().into_iter().flatten().for_each(close),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> &'static Contract {
        &CONTRACT
    }

    fn json_response(status: u16, body: &Value) -> Response<'_> {
        Response {
            status,
            content_type: Some("application/json"),
            body: Some(body),
        }
    }

    fn registered() -> Value {
        json!({
            "success": true,
            "data": {
                "userId": "usr_01HQ3K5M8N2P4R6T8V0W2X4Y6Z",
                "email": "jane.doe@example.com",
                "firstName": "Jane",
                "lastName": "Doe",
                "createdAt": "2024-01-15T10:30:00Z"
            },
            "message": "User registered successfully"
        })
    }

    const REGISTER: (&str, &str) = ("POST", "/api/v1/users/register");

    fn check(body: &Value, status: u16) -> Result<(), String> {
        contract().check(REGISTER.0, REGISTER.1, json_response(status, body))
    }

    #[test]
    fn the_documented_answer_passes() {
        check(&registered(), 201).unwrap();
    }

    #[test]
    fn an_undocumented_field_fails() {
        let mut body = registered();
        body["data"]["password"] = json!("hunter2");
        let error = check(&body, 201).unwrap_err();
        assert!(error.contains("at /data"), "{error}");
        assert!(error.contains("password"), "{error}");
        assert!(error.contains("POST /api/v1/users/register"), "{error}");
    }

    #[test]
    fn a_missing_required_field_fails() {
        let mut body = registered();
        body["data"].as_object_mut().unwrap().remove("email");
        let error = check(&body, 201).unwrap_err();
        assert!(error.contains("\"email\" is a required property"), "{error}");
    }

    #[test]
    fn a_wrong_type_or_format_fails() {
        let mut body = registered();
        body["data"]["firstName"] = json!(42);
        let error = check(&body, 201).unwrap_err();
        assert!(error.contains("at /data/firstName"), "{error}");
        let mut body = registered();
        body["data"]["createdAt"] = json!("yesterday");
        let error = check(&body, 201).unwrap_err();
        assert!(error.contains("at /data/createdAt"), "{error}");
    }

    #[test]
    fn an_undocumented_status_fails() {
        let error = check(&registered(), 418).unwrap_err();
        assert!(
            error.contains("status 418 is not documented for POST /api/v1/users/register"),
            "{error}"
        );
    }

    #[test]
    fn errors_are_checked_against_their_response_component() {
        let body = json!({
            "success": false,
            "error": {
                "code": "VAL_001",
                "message": "Validation failed",
                "details": [{"field": "email", "message": "must be a valid email address"}],
                "timestamp": "2024-01-15T10:30:00.123Z",
                "path": "/api/v1/users/register",
                "requestId": "JKJaXmPLvHcESHA="
            }
        });
        check(&body, 400).unwrap();
        let mut wrong = body.clone();
        wrong["error"]["code"] = json!("NOPE");
        assert!(check(&wrong, 400).is_err());
        let text = Response {
            status: 400,
            content_type: Some("text/plain"),
            body: Some(&body),
        };
        let error = contract().check(REGISTER.0, REGISTER.1, text).unwrap_err();
        assert!(error.contains("Content-Type text/plain is not documented"), "{error}");
    }

    #[test]
    fn a_response_without_content_must_have_no_body() {
        let (template, operation) = contract().operation("GET", "/api/v1/products/x").unwrap();
        assert_eq!(template, "/api/v1/products/{productId}");
        assert!(operation["responses"].get("304").is_some());
        let empty = Response {
            status: 304,
            content_type: None,
            body: None,
        };
        contract().check("GET", "/api/v1/products/x?a=b", empty).unwrap();
        let body = json!({"success": true});
        let error = contract()
            .check("GET", "/api/v1/products/x", json_response(304, &body))
            .unwrap_err();
        assert!(error.contains("documented without a body"), "{error}");
    }

    #[test]
    fn the_most_literal_template_wins_and_gateway_answers_are_skipped() {
        let (template, _) = contract().operation("POST", "/api/v1/products/search").unwrap();
        assert_eq!(template, "/api/v1/products/search");
        let (template, _) = contract().operation("GET", "/api/v1/products/search").unwrap();
        assert_eq!(template, "/api/v1/products/{productId}");
        let (template, _) = contract().operation("GET", "/api/v1/users/profile?x=1").unwrap();
        assert_eq!(template, "/api/v1/users/profile");
        assert!(contract().operation("GET", "/api/v1/nowhere").is_none());
        let too_large = json!({"message": "Request Entity Too Large"});
        contract()
            .check("DELETE", "/api/v1/users/addresses/x", json_response(413, &too_large))
            .unwrap();
        let gateway = json!({"message": "Not Found"});
        contract()
            .check("GET", "/api/v1/nowhere", json_response(404, &gateway))
            .unwrap();
    }

    #[test]
    fn every_schema_of_the_document_compiles() {
        let document = &contract().document;
        for (template, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
                    continue;
                };
                for (status, response) in responses {
                    let response = contract().resolve(response);
                    for (media, content) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
                        if let Some(schema) = content.get("schema") {
                            let key = format!("{method} {template} {status} {media}");
                            contract().validator(&key, schema).unwrap();
                        }
                    }
                }
            }
        }
    }

    /// No `allOf` is left whose branches both list properties: such a pair
    /// of closed objects would refuse each other's fields.
    #[test]
    fn no_two_closed_objects_are_left_in_one_all_of() {
        fn walk(schema: &Value, at: &str, found: &mut Vec<String>) {
            match schema {
                Value::Object(object) => {
                    if let Some(Value::Array(branches)) = object.get("allOf") {
                        let closed = branches
                            .iter()
                            .filter(|b| b.get("properties").is_some() || b.get("$ref").is_some())
                            .count();
                        if closed > 1 {
                            found.push(at.to_owned());
                        }
                    }
                    for (key, value) in object {
                        walk(value, &format!("{at}/{key}"), found);
                    }
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{at}/{i}"), found);
                    }
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(&contract().defs, "#/$defs", &mut found);
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn openapi_keywords_are_converted() {
        let components = Map::new();
        let schema = json!({
            "type": "object",
            "properties": {
                "price": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "example": 9.99},
                "state": {"type": "string", "nullable": true, "enum": ["A", "B"]},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "example": {"type": "string"}
            }
        });
        let converted = to_json_schema(&schema, &components);
        assert_eq!(
            converted,
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "price": {"type": "number", "exclusiveMinimum": 0},
                    "state": {"type": ["string", "null"], "enum": ["A", "B", null]},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                    "example": {"type": "string"}
                }
            })
        );
    }
}
