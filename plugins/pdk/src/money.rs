//! Money and basis-point arithmetic, in integers only.
//!
//! Amounts are `i64` minor units; rates are basis points (1/100 of a
//! percent). Products are computed in `i128`, so no intermediate overflows,
//! and rounded **half away from zero** to whole minor units: 1 234.5 cents
//! becomes 1 235, and -1 234.5 becomes -1 235. A result that does not fit
//! in an `i64` is an error, never a wrapped number.

use crate::types::{Money, PolicyError};
use std::fmt;

/// Seconds in a day, for protection periods and expiry checks.
pub const DAY: i64 = 86_400;

/// Basis points in 100 %.
pub const FULL_BPS: u32 = 10_000;

/// `amount * bps / 10_000`, rounded half away from zero.
///
/// ```
/// use pactum_pdk::money::apply_bps;
/// assert_eq!(apply_bps(12_000_000, 1_500), Some(1_800_000)); // 15 % of $120,000.00
/// assert_eq!(apply_bps(5, 1_000), Some(1)); // 0.5 cent rounds up
/// assert_eq!(apply_bps(-5, 1_000), Some(-1)); // and away from zero
/// ```
pub fn apply_bps(amount: i64, bps: u32) -> Option<i64> {
    mul_div_round(amount, i128::from(bps), i128::from(FULL_BPS))
}

/// `amount * numerator / denominator`, rounded half away from zero; `None`
/// when the denominator is zero or the result does not fit.
pub fn mul_div_round(amount: i64, numerator: i128, denominator: i128) -> Option<i64> {
    if denominator == 0 {
        return None;
    }
    let product = i128::from(amount).checked_mul(numerator)?;
    let (q, r) = (product / denominator, product % denominator);
    // Round half away from zero: compare twice the remainder with the divisor.
    let rounded = if 2 * r.abs() >= denominator.abs() {
        if (product < 0) != (denominator < 0) { q - 1 } else { q + 1 }
    } else {
        q
    };
    i64::try_from(rounded).ok()
}

impl Money {
    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: &str) -> Money {
        Money { amount, currency: currency.to_string() }
    }

    /// Zero in `currency`.
    pub fn zero(currency: &str) -> Money {
        Money::new(0, currency)
    }

    /// This amount times `bps` basis points, rounded half away from zero.
    pub fn times_bps(&self, bps: u32) -> Result<Money, PolicyError> {
        apply_bps(self.amount, bps)
            .map(|amount| Money { amount, currency: self.currency.clone() })
            .ok_or_else(|| PolicyError::new("overflow", format!("{self} × {bps} bp overflows")))
    }

    /// The sum of two amounts of the same currency.
    pub fn checked_add(&self, other: &Money) -> Result<Money, PolicyError> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|amount| Money { amount, currency: self.currency.clone() })
            .ok_or_else(|| PolicyError::new("overflow", format!("{self} + {other} overflows")))
    }

    /// The difference of two amounts of the same currency.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, PolicyError> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|amount| Money { amount, currency: self.currency.clone() })
            .ok_or_else(|| PolicyError::new("overflow", format!("{self} - {other} overflows")))
    }

    /// The smaller of two amounts of the same currency.
    pub fn min(&self, other: &Money) -> Result<Money, PolicyError> {
        self.same_currency(other)?;
        Ok(if self.amount <= other.amount { self.clone() } else { other.clone() })
    }

    /// The negated amount (for clawbacks).
    pub fn negated(&self) -> Money {
        Money { amount: -self.amount, currency: self.currency.clone() }
    }

    fn same_currency(&self, other: &Money) -> Result<(), PolicyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(PolicyError::new(
                "currency-mismatch",
                format!("cannot combine {} and {}", self.currency, other.currency),
            ))
        }
    }
}

/// Formats as `USD 18,000.00` for amounts whose currency has two decimals
/// (every currency the default program uses; zero-decimal currencies such as
/// JPY print their minor units the same way with a `.00` suffix removed).
impl Money {
    /// Appends the amount as [`Display`](fmt::Display) prints it
    /// (`USD 18,000.00`), without the formatting machinery: explanations
    /// print several amounts per decision.
    pub fn push_to(&self, out: &mut String) {
        let mut buf = [0u8; 32];
        let digits = self.digits(&mut buf);
        if self.amount < 0 {
            out.push('-');
        }
        out.push_str(&self.currency);
        out.push(' ');
        out.push_str(digits);
    }

    /// The unsigned amount with group separators and the currency's minor
    /// digits, written right to left into `buf` (u64::MAX: 20 digits, 6
    /// separators, the point and 3 decimals).
    fn digits<'b>(&self, buf: &'b mut [u8; 32]) -> &'b str {
        let decimals = minor_unit_digits(&self.currency);
        let abs = self.amount.unsigned_abs();
        let scale = 10u64.pow(decimals);
        let (mut major, mut minor) = (abs / scale, abs % scale);
        let mut at = buf.len();
        let mut put = |b: u8| {
            at -= 1;
            buf[at] = b;
        };
        if decimals > 0 {
            for _ in 0..decimals {
                put(b'0' + (minor % 10) as u8);
                minor /= 10;
            }
            put(b'.');
        }
        let mut count = 0;
        loop {
            if count > 0 && count % 3 == 0 {
                put(b',');
            }
            put(b'0' + (major % 10) as u8);
            major /= 10;
            count += 1;
            if major == 0 {
                break;
            }
        }
        core::str::from_utf8(&buf[at..]).expect("ASCII digits")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        if self.amount < 0 {
            f.write_str("-")?;
        }
        f.write_str(&self.currency)?;
        f.write_str(" ")?;
        f.write_str(self.digits(&mut buf))
    }
}

/// Appends `value` in decimal, without the formatting machinery.
pub fn push_uint(out: &mut String, mut value: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.push_str(core::str::from_utf8(&buf[at..]).expect("ASCII digits"));
}

/// Appends basis points as a percentage with two decimals: 1500 → `15.00`.
pub fn push_bps_percent(out: &mut String, bps: u32) {
    push_uint(out, u64::from(bps / 100));
    out.push('.');
    out.push(char::from(b'0' + (bps % 100 / 10) as u8));
    out.push(char::from(b'0' + (bps % 10) as u8));
}

/// ISO 4217 minor-unit digits for the currencies that differ from two.
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" | "XAF" | "XOF" | "UGX" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}

impl PolicyError {
    /// A policy error with a machine-readable `code` and a message.
    pub fn new(code: &str, message: impl Into<String>) -> PolicyError {
        PolicyError { code: code.to_string(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(apply_bps(12_000_000, 1_500), Some(1_800_000));
        assert_eq!(apply_bps(15, 1_000), Some(2)); // 1.5 -> 2
        assert_eq!(apply_bps(14, 1_000), Some(1)); // 1.4 -> 1
        assert_eq!(apply_bps(-15, 1_000), Some(-2));
        assert_eq!(apply_bps(-14, 1_000), Some(-1));
        assert_eq!(mul_div_round(10, 1, 3), Some(3));
        assert_eq!(mul_div_round(10, 2, 3), Some(7));
        assert_eq!(mul_div_round(10, 1, 0), None);
    }

    #[test]
    fn never_wraps() {
        assert_eq!(apply_bps(i64::MAX, 20_000), None);
        assert_eq!(apply_bps(i64::MAX, 10_000), Some(i64::MAX));
        assert!(Money::new(i64::MAX, "USD").checked_add(&Money::new(1, "USD")).is_err());
    }

    #[test]
    fn refuses_mixed_currencies() {
        let err = Money::new(1, "USD").checked_add(&Money::new(1, "EUR")).unwrap_err();
        assert_eq!(err.code, "currency-mismatch");
    }

    #[test]
    fn displays_with_grouping() {
        assert_eq!(Money::new(1_800_000, "USD").to_string(), "USD 18,000.00");
        assert_eq!(Money::new(-5, "EUR").to_string(), "-EUR 0.05");
        assert_eq!(Money::new(1_000_000, "JPY").to_string(), "JPY 1,000,000");
        assert_eq!(Money::new(99, "USD").to_string(), "USD 0.99");
        assert_eq!(Money::new(1_234_567, "KWD").to_string(), "KWD 1,234.567");
        assert_eq!(Money::new(0, "USD").to_string(), "USD 0.00");
        assert_eq!(Money::new(i64::MIN, "USD").to_string(), "-USD 92,233,720,368,547,758.08");
        let mut out = String::new();
        Money::new(-1_800_000, "USD").push_to(&mut out);
        out.push(' ');
        push_bps_percent(&mut out, 1_505);
        out.push(' ');
        push_uint(&mut out, 0);
        assert_eq!(out, "-USD 18,000.00 15.05 0");
    }
}
