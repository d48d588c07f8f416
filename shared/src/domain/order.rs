//! Orders: status, reservation and payment states, and the legal moves between them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The order's status as customers see it (lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Confirmed,
        Self::Processing,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Processing => "processing",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or("must be one of pending, confirmed, processing, shipped, delivered, cancelled, refunded")
    }

    /// The moves an admin may make (payment moves pending → confirmed; refunds → refunded).
    pub fn can_become(self, next: Self) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed | Cancelled)
                | (Confirmed, Processing | Cancelled)
                | (Processing, Shipped | Cancelled)
                | (Shipped, Delivered)
                | (Confirmed | Processing | Shipped | Delivered, Refunded)
        )
    }

    /// A customer may cancel until the order ships.
    pub fn customer_can_cancel(self) -> bool {
        matches!(self, Self::Pending | Self::Confirmed | Self::Processing)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled | Self::Refunded)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stock held for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReservationStatus {
    /// Not yet attempted (the message is on its way).
    Pending,
    /// Stock is held until `reservationExpiresAt`.
    Reserved,
    /// Paid: the held stock is sold.
    Committed,
    /// Given back (cancelled or expired).
    Released,
    /// Some line was short: nothing was held.
    Failed,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Reserved => "RESERVED",
            Self::Committed => "COMMITTED",
            Self::Released => "RELEASED",
            Self::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Unpaid,
    Paid,
    Failed,
    PartiallyRefunded,
    Refunded,
}

/// How many of one item: 1 to 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to 99")]
pub struct InvalidQuantity;

impl Quantity {
    pub const MAX: u32 = 99;

    pub fn new(count: u32) -> Result<Self, InvalidQuantity> {
        if (1..=Self::MAX).contains(&count) {
            Ok(Self(count))
        } else {
            Err(InvalidQuantity)
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = InvalidQuantity;
    fn try_from(count: u32) -> Result<Self, Self::Error> {
        Self::new(count)
    }
}

impl From<Quantity> for u32 {
    fn from(quantity: Quantity) -> Self {
        quantity.0
    }
}

/// A coupon code: upper-cased letters, digits, `-` and `_`, 3–32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 3 to 32 letters, digits, '-' or '_' (e.g. SAVE10)")]
pub struct InvalidCouponCode;

impl CouponCode {
    pub fn parse(text: &str) -> Result<Self, InvalidCouponCode> {
        let code = text.trim().to_uppercase();
        let valid =
            (3..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid { Ok(Self(code)) } else { Err(InvalidCouponCode) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CouponCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CouponCode {
    type Error = InvalidCouponCode;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<CouponCode> for String {
    fn from(code: CouponCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_legal_status_moves_are_allowed() {
        use OrderStatus::*;
        assert!(Pending.can_become(Confirmed));
        assert!(Processing.can_become(Shipped));
        assert!(Shipped.can_become(Delivered));
        assert!(!Pending.can_become(Shipped));
        assert!(!Shipped.can_become(Cancelled));
        assert!(!Delivered.can_become(Pending));
        assert!(!Cancelled.can_become(Confirmed));
        assert!(Processing.customer_can_cancel() && !Shipped.customer_can_cancel());
    }

    #[test]
    fn statuses_read_in_any_case() {
        assert_eq!(OrderStatus::parse("SHIPPED"), Ok(OrderStatus::Shipped));
        assert!(OrderStatus::parse("lost").is_err());
        assert_eq!(serde_json::to_value(OrderStatus::Pending).unwrap(), "pending");
    }

    #[test]
    fn quantities_and_codes_are_bounded() {
        assert!(Quantity::new(0).is_err() && Quantity::new(100).is_err() && Quantity::new(99).is_ok());
        assert_eq!(CouponCode::parse(" save10 ").unwrap().as_str(), "SAVE10");
        assert!(CouponCode::parse("no spaces").is_err() && CouponCode::parse("AB").is_err());
    }
}
