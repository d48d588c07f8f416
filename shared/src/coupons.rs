//! Coupon administration. Usage is counted by checkouts, atomically, never here.

use serde::Serialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::domain::{CouponCode, Money, Timestamp};
use crate::http::form_value::{boolean, text, unsigned};
use crate::http::{ApiError, FieldIssue, Form};
use crate::pagination::{PageRequest, Pagination};
use crate::store::Store;
use crate::store::coupons::{CouponRecord, DiscountKind};

/// Coupon terms as sent; PUT replaces them, keeping the code and usage.
#[derive(Debug, Clone)]
pub struct CouponInput {
    pub code: Option<CouponCode>,
    pub kind: DiscountKind,
    pub value: Value,
    pub min_subtotal: Option<Money>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// `None` on an update keeps the coupon's current flag.
    pub is_active: Option<bool>,
    pub version: Option<u64>,
}

fn money(value: &Value) -> Result<Money, String> {
    let number = value.as_number().ok_or("must be an amount such as 10.00")?;
    Money::try_from(number.clone()).map_err(|e| e.to_string())
}

fn instant(value: &Value) -> Result<Timestamp, String> {
    Timestamp::parse(&text(value)?).map_err(|_| "must be a date-time such as 2026-12-01T00:00:00Z".to_owned())
}

fn limit(value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .filter(|n| (1..=1_000_000_000).contains(n))
        .ok_or_else(|| "must be a whole number from 1".to_owned())
}

impl CouponInput {
    pub fn parse(body: &[u8], creating: bool) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&[
            "code",
            "type",
            "value",
            "minSubtotal",
            "validFrom",
            "validUntil",
            "usageLimit",
            "perCustomerLimit",
            "isActive",
            "version",
        ]);
        let code = if creating {
            form.required("code", |v| CouponCode::parse(&text(v)?).map_err(|e| e.to_string()))
                .map(Some)
        } else {
            form.reject("code", "cannot be changed");
            Some(None)
        };
        let kind = form.required("type", |v| match text(v)?.trim().to_uppercase().as_str() {
            "PERCENTAGE" => Ok(DiscountKind::Percentage),
            "FIXED" => Ok(DiscountKind::Fixed),
            _ => Err("must be PERCENTAGE or FIXED".to_owned()),
        });
        let value = form.required("value", |v| Ok::<_, String>(v.clone()));
        let min_subtotal = form.optional("minSubtotal", money);
        let valid_from = form.optional("validFrom", instant);
        let valid_until = form.optional("validUntil", instant);
        let usage_limit = form.optional("usageLimit", limit);
        let per_customer_limit = form.optional("perCustomerLimit", limit);
        let is_active = form.optional("isActive", boolean);
        let version = form.optional("version", |v| unsigned(v).map_err(str::to_owned));
        form.finish()?;
        let (Some(code), Some(kind), Some(value), Some(min_subtotal), Some(valid_from), Some(valid_until)) =
            (code, kind, value, min_subtotal, valid_from, valid_until)
        else {
            return Err(ApiError::invalid_field("body", "is incomplete"));
        };
        let (Some(usage_limit), Some(per_customer_limit), Some(is_active), Some(version)) =
            (usage_limit, per_customer_limit, is_active, version)
        else {
            return Err(ApiError::invalid_field("body", "is incomplete"));
        };
        let mut issues = Vec::new();
        match kind {
            DiscountKind::Percentage if !value.as_i64().is_some_and(|p| (1..=100).contains(&p)) => {
                issues.push(FieldIssue::new("value", "must be a whole percentage from 1 to 100"));
            }
            DiscountKind::Fixed if money(&value).map(|m| m.cents() <= 0).unwrap_or(true) => {
                issues.push(FieldIssue::new("value", "must be an amount greater than 0"));
            }
            _ => {}
        }
        if let (Some(from), Some(until)) = (valid_from, valid_until)
            && from >= until
        {
            issues.push(FieldIssue::new("validUntil", "must be after validFrom"));
        }
        if !issues.is_empty() {
            return Err(ApiError::validation(issues, Vec::new()));
        }
        Ok(Self {
            code,
            kind,
            value,
            min_subtotal,
            valid_from,
            valid_until,
            usage_limit,
            per_customer_limit,
            is_active,
            version,
        })
    }

    fn stored_value(&self) -> i64 {
        match self.kind {
            DiscountKind::Percentage => self.value.as_i64().unwrap_or(0),
            DiscountKind::Fixed => money(&self.value).map(Money::cents).unwrap_or(0),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponView {
    pub code: CouponCode,
    #[serde(rename = "type")]
    pub kind: DiscountKind,
    /// A percentage for PERCENTAGE, an amount for FIXED.
    pub value: Value,
    pub min_subtotal: Option<Money>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub used_count: i64,
    pub is_active: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&CouponRecord> for CouponView {
    fn from(coupon: &CouponRecord) -> Self {
        let value = match coupon.kind {
            DiscountKind::Percentage => Value::from(coupon.value),
            DiscountKind::Fixed => serde_json::to_value(Money::from_cents(coupon.value)).unwrap_or(Value::Null),
        };
        Self {
            code: coupon.code.clone(),
            kind: coupon.kind,
            value,
            min_subtotal: coupon.min_subtotal,
            valid_from: coupon.valid_from,
            valid_until: coupon.valid_until,
            usage_limit: coupon.usage_limit,
            per_customer_limit: coupon.per_customer_limit,
            used_count: coupon.used_count,
            is_active: coupon.is_active,
            version: coupon.version,
            created_at: coupon.created_at,
            updated_at: coupon.updated_at,
        }
    }
}

/// Coupon administration over the store.
#[derive(Debug)]
pub struct Coupons {
    pub store: Store,
}

impl Coupons {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::from_config(config, clients),
        }
    }

    pub async fn create(&self, caller: &Caller, input: CouponInput) -> Result<CouponView, ApiError> {
        caller.require_admin()?;
        let now = Timestamp::now();
        let code = input
            .code
            .clone()
            .ok_or_else(|| ApiError::invalid_field("code", "is required"))?;
        let record = CouponRecord {
            code,
            kind: input.kind,
            value: input.stored_value(),
            min_subtotal: input.min_subtotal,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            usage_limit: input.usage_limit,
            per_customer_limit: input.per_customer_limit,
            used_count: 0,
            is_active: input.is_active.unwrap_or(true),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.create_coupon(&record).await.map_err(|err| match err {
            crate::store::StoreError::ConditionFailed => {
                ApiError::already_exists("A coupon with this code already exists")
                    .with_details(serde_json::json!([{"field": "code", "message": "is taken"}]))
            }
            other => other.into(),
        })?;
        Ok(CouponView::from(&record))
    }

    pub async fn get(&self, caller: &Caller, code: &CouponCode) -> Result<CouponView, ApiError> {
        caller.require_admin()?;
        let coupon = self
            .store
            .coupon(code)
            .await?
            .ok_or_else(|| ApiError::not_found("Coupon"))?;
        Ok(CouponView::from(&coupon))
    }

    pub async fn list(&self, caller: &Caller, page: PageRequest) -> Result<(Vec<CouponView>, Pagination), ApiError> {
        caller.require_admin()?;
        let (coupons, total) = self.store.coupons(page.page, page.limit).await?;
        Ok((
            coupons.iter().map(CouponView::from).collect(),
            Pagination::new(page, total),
        ))
    }

    /// Replaces the terms of a coupon still at the version sent (or the current one).
    pub async fn update(&self, caller: &Caller, code: &CouponCode, input: CouponInput) -> Result<CouponView, ApiError> {
        caller.require_admin()?;
        let current = self
            .store
            .coupon(code)
            .await?
            .ok_or_else(|| ApiError::not_found("Coupon"))?;
        let version = input.version.unwrap_or(current.version);
        let record = CouponRecord {
            kind: input.kind,
            value: input.stored_value(),
            min_subtotal: input.min_subtotal,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            usage_limit: input.usage_limit,
            per_customer_limit: input.per_customer_limit,
            is_active: input.is_active.unwrap_or(current.is_active),
            version: version + 1,
            updated_at: Timestamp::now(),
            ..current
        };
        self.store
            .update_coupon(&record, version)
            .await
            .map_err(|err| match err {
                crate::store::StoreError::ConditionFailed => ApiError::stale_version(),
                other => other.into(),
            })?;
        Ok(CouponView::from(
            &self
                .store
                .coupon(code)
                .await?
                .ok_or_else(|| ApiError::not_found("Coupon"))?,
        ))
    }

    pub async fn delete(&self, caller: &Caller, code: &CouponCode) -> Result<(), ApiError> {
        caller.require_admin()?;
        self.store.delete_coupon(code).await.map_err(|err| match err {
            crate::store::StoreError::ConditionFailed => ApiError::not_found("Coupon"),
            other => other.into(),
        })
    }
}
