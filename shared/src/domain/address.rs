use serde::{Deserialize, Serialize};

use super::AddressId;
use crate::http::Form;
use crate::http::form_value::bounded_text;

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

impl AddressInput {
    /// Reads every postal field (state optional) from `form`, recording each problem.
    pub fn read(form: &mut Form) -> Option<Self> {
        let [street, city, state, zip, country] = FIELDS;
        let street = form.required(street.0, bounded_text(street.1));
        let city = form.required(city.0, bounded_text(city.1));
        let state = form.optional(state.0, bounded_text(state.1));
        let zip_code = form.required(zip.0, bounded_text(zip.1));
        let country = form.required(country.0, bounded_text(country.1));
        Some(Self {
            street: street?,
            city: city?,
            state: state?,
            zip_code: zip_code?,
            country: country?,
        })
    }

    /// Reads the postal fields present in `form` (a partial update; `state: null`
    /// clears the state), recording each problem.
    pub fn read_patch(form: &mut Form) -> Option<AddressPatch> {
        let [street, city, state, zip, country] = FIELDS;
        let street = form.optional(street.0, bounded_text(street.1));
        let city = form.optional(city.0, bounded_text(city.1));
        let state = if form.is_null(state.0) {
            Some(Some(None))
        } else {
            form.optional(state.0, bounded_text(state.1)).map(|s| s.map(Some))
        };
        let zip_code = form.optional(zip.0, bounded_text(zip.1));
        let country = form.optional(country.0, bounded_text(country.1));
        Some(AddressPatch {
            street: street?,
            city: city?,
            state: state?,
            zip_code: zip_code?,
            country: country?,
        })
    }
}

/// Postal fields to change; `None` keeps a field, `state: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPatch {
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<Option<String>>,
    pub zip_code: Option<String>,
    pub country: Option<String>,
}

impl AddressPatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn apply(&self, fields: AddressInput) -> AddressInput {
        AddressInput {
            street: self.street.clone().unwrap_or(fields.street),
            city: self.city.clone().unwrap_or(fields.city),
            state: self.state.clone().unwrap_or(fields.state),
            zip_code: self.zip_code.clone().unwrap_or(fields.zip_code),
            country: self.country.clone().unwrap_or(fields.country),
        }
    }
}
