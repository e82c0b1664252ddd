//! Conversion rates for programs in several currencies (issue 16, item
//! 8): the company supplies, per month, how much of the program's currency
//! one unit of each other currency is worth, as a decimal (no float, no
//! rate service). Tiers and program revenue convert the other currencies'
//! deals with the month's rates.

use super::payouts::minor_digits;
use super::scorecards::month;
use super::{Tenant, bad};
use crate::auth::Capability;
use crate::service::{Caller, Service, ServiceError};
use std::collections::BTreeMap;

/// The largest rate: a million units of the program currency for one.
const MAX_RATE_MICROS: i64 = 1_000_000 * 1_000_000;

/// `PUT /v1/program/rates/{period}`.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatesIn {
    /// Per currency, units of the program currency one unit is worth, as a
    /// decimal string with at most 6 decimals: `{"EUR": "1.0842"}`.
    pub rates: BTreeMap<String, String>,
}

/// A month's rates.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Rates {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The program currency the rates are in.
    pub currency: String,
    /// Per currency, units of the program currency one unit is worth, in
    /// millionths (1.0842 is 1084200).
    pub rates_micros: BTreeMap<String, i64>,
}

/// `"1.0842"` as millionths (1084200): digits, at most one point, at most
/// six decimals, above zero and at most a million.
pub fn parse_rate(text: &str) -> Option<i64> {
    let (units, decimals) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if units.is_empty() || units.len() > 7 || decimals.len() > 6 || !digits(units) || !digits(decimals) {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let decimals: i64 = format!("{decimals:0<6}").parse().ok()?;
    let micros = units.checked_mul(1_000_000)?.checked_add(decimals)?;
    (micros > 0 && micros <= MAX_RATE_MICROS).then_some(micros)
}

/// `amount` minor units of `from` in minor units of `to` at `micros`
/// millionths of `to` per unit of `from`, rounded half away from zero;
/// `None` past `i64`.
pub fn convert(amount: i64, from: &str, to: &str, micros: i64) -> Option<i64> {
    let scale_to = 10i128.pow(minor_digits(to));
    let scale_from = 10i128.pow(minor_digits(from));
    let numerator = i128::from(amount) * i128::from(micros) * scale_to;
    let denominator = 1_000_000i128 * scale_from;
    let rounded = (numerator.abs() + denominator / 2) / denominator;
    i64::try_from(if numerator < 0 { -rounded } else { rounded }).ok()
}

impl Service {
    /// Sets `period`'s rates for some of the program's other currencies
    /// (admin); others set before are kept.
    pub async fn set_rates(&self, caller: &Caller, period: &str, new: RatesIn) -> Result<Rates, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        month(period)?;
        let tenant = self.tenant(&caller.tenant)?;
        let mut micros = BTreeMap::new();
        for (currency, text) in &new.rates {
            if currency == &tenant.program.currency || !tenant.program.accepts(currency) {
                return Err(bad(format!(
                    "`rates.{currency}`: this program's other currencies are {}",
                    tenant.program.currencies[1..].join(", ")
                )));
            }
            let rate = parse_rate(text).ok_or_else(|| {
                bad(format!(
                    "`rates.{currency}` {text:?} must be a decimal like \"1.0842\": above 0, at most 6 decimals"
                ))
            })?;
            micros.insert(currency.clone(), rate);
        }
        if micros.is_empty() {
            return Err(bad("`rates` must name at least one currency"));
        }
        self.db.put_rates(&caller.tenant, period, &micros, &caller.key).await?;
        self.rates(caller, period).await
    }

    /// `period`'s rates.
    pub async fn rates(&self, caller: &Caller, period: &str) -> Result<Rates, ServiceError> {
        caller.require(Capability::ReadProgram)?;
        month(period)?;
        let tenant = self.tenant(&caller.tenant)?;
        Ok(Rates {
            period: period.to_string(),
            currency: tenant.program.currency.clone(),
            rates_micros: self.db.rates(&caller.tenant, period).await?,
        })
    }

    /// A converter to the program currency with `period`'s rates: 409
    /// naming the first currency without one.
    pub(crate) async fn converter(
        &self,
        tenant: &Tenant,
        period: &str,
    ) -> Result<impl Fn(&str, i64) -> Result<i64, ServiceError> + use<>, ServiceError> {
        let rates = self.db.rates(&tenant.program.slug, period).await?;
        let to = tenant.program.currency.clone();
        let period = period.to_string();
        Ok(move |from: &str, amount: i64| {
            let micros = rates.get(from).ok_or_else(|| {
                ServiceError::Conflict(format!(
                    "no {from} rate for {period}: deals in {from} are converted to {to} with it \
                     (PUT /v1/program/rates/{period})"
                ))
            })?;
            convert(amount, from, &to, *micros)
                .ok_or_else(|| ServiceError::Internal(format!("{amount} {from} in {to} overflows")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_exact_decimals() {
        assert_eq!(parse_rate("1.0842"), Some(1_084_200));
        assert_eq!(parse_rate("0.000001"), Some(1));
        assert_eq!(parse_rate("150"), Some(150_000_000));
        for bad in ["", "0", "0.0", "1.1234567", "-1", "1e3", "1,08", ".5", "1000001", "NaN"] {
            assert_eq!(parse_rate(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn conversion_rounds_half_away_from_zero_across_minor_units() {
        // EUR 100.00 at 1.0842 USD: USD 108.42.
        assert_eq!(convert(10_000, "EUR", "USD", 1_084_200), Some(10_842));
        // EUR 0.05 at 1.09: 5.45 cents, rounded to 5; EUR 0.15: 16.35 -> 16.
        assert_eq!(convert(5, "EUR", "USD", 1_090_000), Some(5));
        assert_eq!(convert(-15, "EUR", "USD", 1_090_000), Some(-16));
        // JPY (no minor unit) 1,000 at 0.0067 USD: 670 cents.
        assert_eq!(convert(1_000, "JPY", "USD", 6_700), Some(670));
        // USD 1.00 in KWD (3 decimals) at 0.307: 307 fils.
        assert_eq!(convert(100, "USD", "KWD", 307_000), Some(307));
        assert_eq!(convert(i64::MAX, "EUR", "USD", MAX_RATE_MICROS), None);
    }
}
