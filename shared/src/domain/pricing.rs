//! Cart and order totals: 199.98 → tax 15.99 (8 %, rounded down) + 10.00 shipping = 225.97, as the README shows.

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

impl PricingRules {
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
        let tax = taxable.percent_bps_floor(self.tax_bps);
        let shipping = if self.free_shipping_over.is_some_and(|threshold| taxable >= threshold) {
            Money::ZERO
        } else {
            self.shipping_fee
        };
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
}
