//! Domain types: values that can only be built valid (parse, don't validate).

pub mod address;
pub mod catalog;
pub mod destination;
pub mod email;
pub mod ids;
pub mod money;
pub mod order;
pub mod password;
pub mod person;
pub mod pricing;
pub mod role;
pub mod timestamp;

pub use address::{Address, AddressInput, AddressPatch};
pub use catalog::{ProductStatus, Rating, ReviewStatus, Sku, Slug};
pub use destination::{CountryCode, Destination, RegionCode};
pub use email::Email;
pub use ids::{
    AddressId, CartItemId, CategoryId, ImportId, OrderId, ProductId, ReviewId, ShippingMethodId, TaxRateId, UserId,
    VariantId, ZoneId,
};
pub use money::Money;
pub use order::{CouponCode, OrderStatus, PaymentStatus, Quantity, ReservationStatus};
pub use password::Password;
pub use person::{PersonName, PhoneNumber};
pub use pricing::{PricingRules, ShippingCharge, Summary, TaxCharge, Terms};
pub use role::Role;
pub use timestamp::Timestamp;
