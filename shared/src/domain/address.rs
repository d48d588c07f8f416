use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AddressId;
use crate::http::Form;
use crate::http::form_value::text;

/// The postal fields of an address, each trimmed and bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressInput {
    pub street: String,
    pub city: String,
    pub state: Option<String>,
    pub zip_code: String,
    pub country: String,
}

/// A saved address. `is_default` is derived from the owner's profile, which holds
/// the one default address id, so two defaults can never exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub address_id: AddressId,
    #[serde(flatten)]
    pub fields: AddressInput,
    #[serde(default)]
    pub is_default: bool,
}

/// Rules for one postal field: its JSON name and maximum length.
const FIELDS: [(&str, usize); 5] = [
    ("street", 200),
    ("city", 100),
    ("state", 100),
    ("zipCode", 20),
    ("country", 60),
];

fn bounded(max: usize) -> impl Fn(&Value) -> Result<String, String> {
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

impl AddressInput {
    /// Reads every postal field (state optional) from `form`, recording each problem.
    pub fn read(form: &mut Form) -> Option<Self> {
        let [street, city, state, zip, country] = FIELDS;
        let street = form.required(street.0, bounded(street.1));
        let city = form.required(city.0, bounded(city.1));
        let state = form.optional(state.0, bounded(state.1));
        let zip_code = form.required(zip.0, bounded(zip.1));
        let country = form.required(country.0, bounded(country.1));
        Some(Self {
            street: street?,
            city: city?,
            state: state?,
            zip_code: zip_code?,
            country: country?,
        })
    }

    /// Applies the postal fields present in `form` (a partial update), recording each problem.
    pub fn read_changes(&self, form: &mut Form) -> Option<Self> {
        let mut updated = self.clone();
        for (name, max) in FIELDS {
            let Some(value) = form.optional(name, bounded(max)) else {
                continue;
            };
            match (name, value) {
                ("state", state) => updated.state = state,
                (_, None) => {}
                ("street", Some(v)) => updated.street = v,
                ("city", Some(v)) => updated.city = v,
                ("zipCode", Some(v)) => updated.zip_code = v,
                (_, Some(v)) => updated.country = v,
            }
        }
        Some(updated)
    }
}
