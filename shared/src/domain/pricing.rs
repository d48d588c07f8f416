//! Cart and order totals: 199.98 → tax 15.99 (8 %, rounded down) + 10.00 shipping = 225.97, as the README shows.
//!
//! [`Terms`] turn a subtotal and a discount into a [`Summary`]. The configured
//! [`PricingRules`] are one set of terms (the flat fee and rate); shipping
//! zones and tax rates by destination (`crate::shipping`) make others.

use serde::{Deserialize, Serialize};

use super::Money;

/// Tax and shipping rules (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingRules {
    /// Tax in basis points of the discounted subtotal, rounded down to the cent (800 = 8 %).
    pub tax_bps: u32,
    /// Flat shipping for a non-empty cart.
    pub shipping_fee: Money,
    /// Shipping is free from this discounted subtotal on, when set.
    pub free_shipping_over: Option<Money>,
}

impl Default for PricingRules {
    fn default() -> Self {
        Self {
            tax_bps: 800,
            shipping_fee: Money::from_cents(1000),
            free_shipping_over: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub subtotal: Money,
    pub discount: Money,
    pub tax: Money,
    pub shipping: Money,
    pub total: Money,
}

/// How shipping is charged: a fee, waived from a discounted subtotal on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippingCharge {
    pub fee: Money,
    /// Shipping is free when the discounted subtotal reaches this, when set.
    pub free_from: Option<Money>,
}

/// Tax in basis points of the discounted subtotal (and of shipping when
/// `on_shipping`), rounded down to the cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxCharge {
    pub bps: u32,
    pub on_shipping: bool,
}

impl TaxCharge {
    pub const NONE: Self = Self {
        bps: 0,
        on_shipping: false,
    };
}

/// The shipping and tax that turn a subtotal and a discount into totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub shipping: ShippingCharge,
    pub tax: TaxCharge,
}

impl Terms {
    /// The totals of `subtotal` less `discount` (capped at the subtotal). An
    /// empty subtotal ships nothing and owes nothing.
    pub fn summarize(&self, subtotal: Money, discount: Money) -> Summary {
        if subtotal == Money::ZERO {
            return Summary {
                subtotal,
                discount: Money::ZERO,
                tax: Money::ZERO,
                shipping: Money::ZERO,
                total: Money::ZERO,
            };
        }
        let discount = Money::from_cents(discount.cents().min(subtotal.cents()));
        let taxable = Money::from_cents(subtotal.cents() - discount.cents());
        let shipping = if self.shipping.free_from.is_some_and(|threshold| taxable >= threshold) {
            Money::ZERO
        } else {
            self.shipping.fee
        };
        let tax_base = if self.tax.on_shipping {
            taxable + shipping
        } else {
            taxable
        };
        let tax = tax_base.percent_bps_floor(self.tax.bps);
        let total = Money::from_cents(taxable.cents() + tax.cents() + shipping.cents());
        Summary {
            subtotal,
            discount,
            tax,
            shipping,
            total,
        }
    }
}

impl PricingRules {
    /// The configured flat fee, threshold and rate.
    pub fn flat(&self) -> Terms {
        Terms {
            shipping: ShippingCharge {
                fee: self.shipping_fee,
                free_from: self.free_shipping_over,
            },
            tax: TaxCharge {
                bps: self.tax_bps,
                on_shipping: false,
            },
        }
    }

    pub fn summarize(&self, subtotal: Money, discount: Money) -> Summary {
        self.flat().summarize(subtotal, discount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    #[test]
    fn the_worked_examples_hold() {
        let rules = PricingRules::default();
        let two = rules.summarize(money("199.98"), Money::ZERO);
        assert_eq!(
            (two.tax, two.shipping, two.total),
            (money("15.99"), money("10.00"), money("225.97"))
        );
        let three = rules.summarize(money("299.97"), Money::ZERO);
        assert_eq!(
            (three.tax, three.shipping, three.total),
            (money("23.99"), money("10.00"), money("333.96"))
        );
        let empty = rules.summarize(Money::ZERO, Money::ZERO);
        assert_eq!(empty.total, Money::ZERO);
        assert_eq!(empty.shipping, Money::ZERO);
    }

    #[test]
    fn discounts_reduce_the_taxable_amount_and_never_go_below_zero() {
        let rules = PricingRules {
            free_shipping_over: Some(money("100.00")),
            ..PricingRules::default()
        };
        let discounted = rules.summarize(money("120.00"), money("30.00"));
        assert_eq!(
            (discounted.tax, discounted.shipping, discounted.total),
            (money("7.20"), money("10.00"), money("107.20"))
        );
        let free = rules.summarize(money("150.00"), Money::ZERO);
        assert_eq!(free.shipping, Money::ZERO);
        let capped = rules.summarize(money("5.00"), money("9.00"));
        assert_eq!(capped.discount, money("5.00"));
        assert_eq!(capped.total, money("10.00"));
    }

    fn terms(fee: i64, free_from: Option<i64>, bps: u32, on_shipping: bool) -> Terms {
        Terms {
            shipping: ShippingCharge {
                fee: Money::from_cents(fee),
                free_from: free_from.map(Money::from_cents),
            },
            tax: TaxCharge { bps, on_shipping },
        }
    }

    #[test]
    fn tax_on_shipping_taxes_the_fee_too() {
        let ny = terms(599, Some(5000), 888, true);
        let small = ny.summarize(money("20.00"), Money::ZERO);
        assert_eq!(
            (small.shipping, small.tax, small.total),
            (money("5.99"), money("2.30"), money("28.29")),
            "8.88 % of 25.99, rounded down"
        );
        let free = ny.summarize(money("50.00"), Money::ZERO);
        assert_eq!((free.shipping, free.tax), (Money::ZERO, money("4.44")));
        let untaxed_shipping = terms(599, None, 888, false).summarize(money("20.00"), Money::ZERO);
        assert_eq!(untaxed_shipping.tax, money("1.77"));
    }

    proptest::proptest! {
        #[test]
        fn totals_add_up_and_never_go_negative(
            subtotal in 0i64..10_000_000_000,
            discount in 0i64..10_000_000_000,
            fee in 0i64..100_000,
            free_from in proptest::option::of(0i64..1_000_000),
            bps in 0u32..=10_000,
            on_shipping: bool,
        ) {
            let summary = terms(fee, free_from, bps, on_shipping)
                .summarize(Money::from_cents(subtotal), Money::from_cents(discount));
            for part in [summary.subtotal, summary.discount, summary.tax, summary.shipping, summary.total] {
                proptest::prop_assert!(part >= Money::ZERO);
            }
            proptest::prop_assert!(summary.discount <= summary.subtotal);
            proptest::prop_assert_eq!(
                summary.total,
                summary.subtotal - summary.discount + summary.tax + summary.shipping
            );
        }

        #[test]
        fn tax_grows_with_the_rate_and_with_the_subtotal(
            subtotal in 1i64..10_000_000_000,
            more in 0i64..1_000_000,
            discount in 0i64..1_000_000,
            fee in 0i64..100_000,
            free_from in proptest::option::of(0i64..1_000_000),
            bps in 0u32..10_000,
            higher in 0u32..10_000,
            on_shipping: bool,
        ) {
            let (subtotal, discount) = (Money::from_cents(subtotal), Money::from_cents(discount));
            let base = terms(fee, free_from, bps, on_shipping);
            let raised = terms(fee, free_from, bps.max(higher), on_shipping);
            proptest::prop_assert!(raised.summarize(subtotal, discount).tax >= base.summarize(subtotal, discount).tax);
            let before = base.summarize(subtotal, discount);
            let after = base.summarize(subtotal + Money::from_cents(more), discount);
            // Reaching the free-shipping threshold may drop a taxed fee; otherwise tax only grows.
            if !on_shipping || before.shipping == after.shipping {
                proptest::prop_assert!(after.tax >= before.tax);
            }
            proptest::prop_assert!(after.total >= before.total || after.shipping < before.shipping);
        }
    }
}
