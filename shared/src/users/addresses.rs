//! The caller's saved addresses. At most one is the default: the profile holds its id.

use super::views::AddressView;
use super::{MAX_ADDRESSES, Users};
use crate::auth::Caller;
use crate::domain::{AddressId, AddressInput, AddressPatch, Timestamp};
use crate::http::form_value::{boolean, unsigned};
use crate::http::{ApiError, ErrorCode, Form};
use crate::pagination::{PageRequest, Pagination, page_of};
use crate::store::users::{AddressRecord, UserWrite};

#[derive(Debug)]
pub struct NewAddress {
    pub fields: AddressInput,
    pub is_default: bool,
}

impl NewAddress {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let fields = AddressInput::read(&mut form);
        let is_default = form.optional("isDefault", boolean);
        let (Some(fields), Some(is_default)) = (fields, is_default) else {
            return Err(form.into_error());
        };
        Ok(Self {
            fields,
            is_default: is_default.unwrap_or(false),
        })
    }
}

/// A partial update of an address, applied to its current state.
#[derive(Debug)]
pub struct AddressChanges {
    pub patch: AddressPatch,
    pub is_default: Option<bool>,
    /// When sent, the update applies only to this version (409 otherwise).
    pub expected_version: Option<u64>,
}

impl AddressChanges {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        let patch = AddressInput::read_patch(&mut form);
        let is_default = form.optional("isDefault", boolean);
        let expected_version = form.optional("version", |v| unsigned(v).map_err(str::to_owned));
        let (Some(patch), Some(is_default), Some(expected_version)) = (patch, is_default, expected_version) else {
            return Err(form.into_error());
        };
        if patch.is_empty() && is_default.is_none() {
            return Err(ApiError::invalid_field(
                "body",
                "must change at least one address field or isDefault",
            ));
        }
        Ok(Self {
            patch,
            is_default,
            expected_version,
        })
    }
}

/// Attempts of a read-then-conditional-write before reporting a conflict.
const ATTEMPTS: usize = 3;

impl Users {
    async fn address_state(&self, caller: &Caller) -> Result<(Option<AddressId>, Vec<AddressRecord>), ApiError> {
        let (profile, addresses) = self
            .store
            .user_with_addresses(caller.user_id)
            .await?
            .ok_or_else(|| ApiError::not_found("User"))?;
        Ok((profile.default_address_id, addresses))
    }

    /// One Query; the list is small (at most [`MAX_ADDRESSES`]) and paginated in memory.
    #[tracing::instrument(skip_all, fields(userId = %caller.user_id))]
    pub async fn addresses(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<(Vec<AddressView>, Pagination), ApiError> {
        let (default, mut addresses) = self.address_state(caller).await?;
        addresses.sort_by_key(|address| address.address_id);
        let views = addresses
            .iter()
            .map(|address| AddressView::new(address, default))
            .collect();
        Ok(page_of(views, page))
    }

    /// One TransactWriteItems: the address and the profile's count (and default).
    #[tracing::instrument(skip_all, fields(userId = %caller.user_id))]
    pub async fn create_address(&self, caller: &Caller, input: NewAddress) -> Result<AddressView, ApiError> {
        let now = Timestamp::now();
        let record = AddressRecord {
            address_id: AddressId::generate(),
            street: input.fields.street,
            city: input.fields.city,
            state: input.fields.state,
            zip_code: input.fields.zip_code,
            country: input.fields.country,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if let Err(err) = self
            .store
            .create_address(caller.user_id, &record, input.is_default, MAX_ADDRESSES)
            .await
        {
            if !err.refused(&UserWrite::Profile) {
                return Err(err.into());
            }
            // The profile refused: either it is gone or the address book is full.
            self.address_state(caller).await?;
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("At most {MAX_ADDRESSES} addresses can be saved"),
            )
            .with_details(
                serde_json::json!([{"field": "addresses", "message": format!("limit of {MAX_ADDRESSES} reached")}]),
            ));
        }
        let (default, _) = self.address_state(caller).await?;
        Ok(AddressView::new(&record, default))
    }

    /// Reads the current state, then one conditional transaction; `version` in the
    /// body, when sent, must match (409 otherwise).
    #[tracing::instrument(skip_all, fields(userId = %caller.user_id))]
    pub async fn update_address(
        &self,
        caller: &Caller,
        address_id: AddressId,
        changes: AddressChanges,
    ) -> Result<AddressView, ApiError> {
        for _ in 0..ATTEMPTS {
            let (default, addresses) = self.address_state(caller).await?;
            let current = addresses
                .into_iter()
                .find(|address| address.address_id == address_id)
                .ok_or_else(|| ApiError::not_found("Address"))?;
            if changes
                .expected_version
                .is_some_and(|version| version != current.version)
            {
                return Err(ApiError::stale_version());
            }
            let currently_default = default == Some(address_id);
            let default_change = changes.is_default.filter(|wanted| *wanted != currently_default);
            let version = current.version;
            let fields = changes.patch.apply(current.fields());
            let updated = AddressRecord {
                version: version + 1,
                updated_at: Timestamp::now(),
                ..current
            }
            .with_fields(fields);
            match self
                .store
                .update_address(caller.user_id, &updated, version, default_change)
                .await
            {
                Ok(()) => {
                    let default = match default_change {
                        Some(true) => Some(address_id),
                        Some(false) => None,
                        None => default,
                    };
                    return Ok(AddressView::new(&updated, default));
                }
                Err(err) if changes.expected_version.is_some() && err.refused(&UserWrite::Address) => {
                    return Err(ApiError::stale_version());
                }
                // A concurrent change: read again and apply the same changes to it.
                Err(err)
                    if err.refused(&UserWrite::Address) || err.refused(&UserWrite::Default) || err.is_conflict() => {}
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::stale_version())
    }

    /// Reads the current state, then one conditional transaction.
    #[tracing::instrument(skip_all, fields(userId = %caller.user_id))]
    pub async fn delete_address(&self, caller: &Caller, address_id: AddressId) -> Result<(), ApiError> {
        for _ in 0..ATTEMPTS {
            let (default, addresses) = self.address_state(caller).await?;
            if !addresses.iter().any(|address| address.address_id == address_id) {
                return Err(ApiError::not_found("Address"));
            }
            match self
                .store
                .delete_address(caller.user_id, address_id, default == Some(address_id))
                .await
            {
                Ok(()) => return Ok(()),
                Err(err) if err.refused(&UserWrite::Address) => {
                    return Err(ApiError::not_found("Address"));
                }
                Err(err) if err.refused(&UserWrite::Default) || err.is_conflict() => {}
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::stale_version())
    }
}
