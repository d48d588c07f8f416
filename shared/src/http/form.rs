use serde_json::{Map, Value};

use super::{ApiError, FieldIssue};

/// A JSON object body read field by field: each parser's failure is collected,
/// so one response names every bad or missing field.
#[derive(Debug)]
pub struct Form {
    fields: Map<String, Value>,
    invalid: Vec<FieldIssue>,
    missing: Vec<FieldIssue>,
}

impl Form {
    /// Parses a JSON object; an empty body counts as `{}` so missing fields are named.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        let fields = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(fields)) => fields,
                Ok(_) => return Err(ApiError::invalid_field("body", "must be a JSON object")),
                Err(err) => {
                    return Err(ApiError::invalid_field("body", format!("is not valid JSON: {err}")));
                }
            }
        };
        Ok(Self {
            fields,
            invalid: Vec::new(),
            missing: Vec::new(),
        })
    }

    /// A JSON object nested in a body (an entry of a list), read like a body;
    /// `None` when `value` is not an object.
    pub fn from_value(value: &Value) -> Option<Self> {
        value.as_object().map(|fields| Self {
            fields: fields.clone(),
            invalid: Vec::new(),
            missing: Vec::new(),
        })
    }

    /// Records a problem of `field` that no single parser sees (a rule across fields).
    pub fn issue(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.invalid.push(FieldIssue::new(field, message));
    }

    /// Takes over the problems of a nested form, naming its fields under
    /// `prefix` (`methods[0]` makes `methods[0].price`).
    pub fn absorb(&mut self, prefix: &str, nested: Form) {
        let rename = |issue: FieldIssue| FieldIssue::new(format!("{prefix}.{}", issue.field), issue.message);
        self.invalid.extend(nested.invalid.into_iter().map(rename));
        self.missing.extend(nested.missing.into_iter().map(rename));
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|value| !value.is_null())
    }

    /// Records every field not in `known`: a misspelt or foreign field is an
    /// error, not silently ignored.
    pub fn only(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .fields
            .keys()
            .filter(|name| !known.contains(&name.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            self.invalid.push(FieldIssue::new(name, "is not a known field"));
        }
    }

    /// True when the field is sent as an explicit `null` (a request to clear it).
    pub fn is_null(&self, name: &str) -> bool {
        matches!(self.fields.get(name), Some(Value::Null))
    }

    /// A required field, parsed by `parse`; `None` when missing or invalid (recorded).
    pub fn required<T, E: std::fmt::Display>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, E>,
    ) -> Option<T> {
        let outcome = match self.fields.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(parse(value).map_err(|err| err.to_string())),
        };
        match outcome {
            None => {
                self.missing.push(FieldIssue::new(name, "is required"));
                None
            }
            Some(result) => self.record(name, result),
        }
    }

    /// An optional field: `Some(None)` when absent or null, `None` when invalid (recorded).
    pub fn optional<T, E: std::fmt::Display>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => {
                let result = parse(value).map_err(|err| err.to_string());
                self.record(name, result).map(Some)
            }
        }
    }

    /// Records a field that must not be sent (an explicit `null` asks for nothing and passes).
    pub fn reject(&mut self, name: &str, message: &str) {
        if self.has(name) {
            self.invalid.push(FieldIssue::new(name, message));
        }
    }

    fn record<T>(&mut self, name: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.invalid.push(FieldIssue::new(name, message));
                None
            }
        }
    }

    pub fn is_valid(&self) -> bool {
        self.invalid.is_empty() && self.missing.is_empty()
    }

    /// `Ok` when every field read so far was valid, else the 400 naming them all.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.is_valid() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.invalid, self.missing)
    }
}

/// Field parsers for plain JSON values.
pub mod value {
    use serde_json::Value;

    pub fn text(value: &Value) -> Result<String, &'static str> {
        value.as_str().map(str::to_owned).ok_or("must be a string")
    }

    pub fn boolean(value: &Value) -> Result<bool, &'static str> {
        value.as_bool().ok_or("must be true or false")
    }

    pub fn unsigned(value: &Value) -> Result<u64, &'static str> {
        value.as_u64().ok_or("must be a non-negative integer")
    }

    /// Trimmed text of 1 to `max` characters without control characters.
    pub fn bounded_text(max: usize) -> impl Fn(&Value) -> Result<String, String> {
        move |value| {
            let raw = text(value).map_err(str::to_owned)?;
            let trimmed = raw.trim();
            let length = trimmed.chars().count();
            if length == 0 || length > max || trimmed.chars().any(char::is_control) {
                Err(format!("must be 1 to {max} characters"))
            } else {
                Ok(trimmed.to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named() {
        let mut form = Form::from_body(br#"{"a": 1, "c": "x"}"#).unwrap();
        assert!(form.required("a", value::text).is_none());
        assert!(form.required("b", value::text).is_none());
        assert_eq!(form.optional("c", value::text), Some(Some("x".to_owned())));
        let err = form.into_error();
        assert_eq!(err.code.as_str(), "VAL_001");
        let details = err.details.unwrap().to_string();
        assert!(details.contains("\"a\"") && details.contains("\"b\""), "{details}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let mut form = Form::from_body(br#"{"name": "x", "colour": "red"}"#).unwrap();
        form.only(&["name"]);
        assert_eq!(form.into_error().details.unwrap()[0]["field"], "colour");
    }

    #[test]
    fn only_missing_fields_is_val_002() {
        let mut form = Form::from_body(b"").unwrap();
        let _ = form.required("email", value::text);
        assert_eq!(form.into_error().code.as_str(), "VAL_002");
    }

    #[test]
    fn nested_problems_are_named_under_their_entry() {
        let mut form = Form::from_body(br#"{"methods": [{"price": "x"}]}"#).unwrap();
        let mut nested = Form::from_value(&serde_json::json!({"price": "x"})).unwrap();
        assert!(nested.required("price", value::unsigned).is_none());
        assert!(nested.required("name", value::text).is_none());
        form.absorb("methods[0]", nested);
        let details = form.into_error().details.unwrap();
        let fields: Vec<&str> = details
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["field"].as_str())
            .collect();
        assert_eq!(fields, ["methods[0].name", "methods[0].price"]);
        assert!(Form::from_value(&serde_json::json!([1])).is_none());
    }

    #[test]
    fn a_non_object_body_is_rejected() {
        assert!(Form::from_body(b"[1]").is_err());
        assert!(Form::from_body(b"{").is_err());
    }
}
