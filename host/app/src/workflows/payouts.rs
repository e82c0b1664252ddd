//! Payouts (issue 16, item 5): the steps finance people and partners take
//! on commission lines, and the monthly payout run with its CSV export.
//!
//! A line is `pending` from the moment the commission hook earns it; it is
//! payable once due (NET terms from the close). Until the payout run of
//! its period, during that period's review window, a manager may hold it
//! (then release or void it) or add an adjustment line to it; its partner
//! may dispute it, and a manager resolves the dispute with an adjustment
//! line or without. The run pays each partner's pending lines due before
//! the period's end, per currency, when the balance reaches the program's
//! minimum; the rest is carried to the next run. Every step is one unit of
//! work in the store (`pactum_store::payouts`).

use super::{DAY, MAX_MONEY, MAX_TIME, bad, check_text, check_time, program_integer};
use crate::auth::Capability;
use crate::runtime::types as wit;
use crate::service::{Caller, Service, ServiceError, Tenant, now};
use crate::store::payouts::MAX_LINES_LISTED;
use crate::store::{CommissionLineRow, LineChange, LineStepped, NewPayoutRun, PayoutRow, PayoutRunRow};
use pactum_core::{LineStatus, LineStep};
use serde::{Deserialize, Serialize};

/// Days after a period's end during which its lines can still be held,
/// adjusted and disputed before the payout run may pay them, unless the
/// program sets `payout-review-days`.
pub const DEFAULT_PAYOUT_REVIEW_DAYS: i64 = 5;

/// A person's step on a line: `POST /v1/lines/{id}/{step}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineStepRequest {
    /// Why (1 to 1,000 characters): shown on the statement and kept in
    /// the decision log.
    pub reason: String,
    /// `adjust` (required) and `resolve` (to uphold the dispute): the
    /// adjustment line's amount in the line's currency, minor units,
    /// positive or negative, not zero.
    #[serde(default)]
    pub amount: Option<i64>,
}

/// The lines listed: `GET /v1/lines`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineQuery {
    /// Only lines in this status (`disputed`: the managers' queue).
    #[serde(default)]
    pub status: Option<LineStatus>,
    /// Only this partner's lines (a partner key sees only its own).
    #[serde(default)]
    pub partner_id: Option<String>,
    /// Lines after this id (the last id of the previous page).
    #[serde(default)]
    pub after: Option<i64>,
    /// At most this many (1 to 1,000; default 100).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A payout run to make: `POST /v1/payout-runs`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// The month to pay, `YYYY-MM`: lines due before its end. Its review
    /// window (`payout-review-days` after the end) must have passed.
    pub period: String,
    /// The finance system's reference for the run (1 to 64 letters,
    /// digits, `-`, `_`, `.`); default `<company>-<period>`.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A payout run with its payouts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PayoutRunDetail {
    /// The run.
    pub run: PayoutRunRow,
    /// One per partner and currency paid.
    pub payouts: Vec<PayoutRow>,
}

fn program_money(tenant: &Tenant, name: &str) -> Option<wit::Money> {
    tenant.program.params.iter().find(|p| p.name == name).and_then(|p| match &p.value {
        wit::ParamValue::Money(m) => Some(m.clone()),
        _ => None,
    })
}

impl Service {
    /// One line, if the caller may see it.
    pub async fn line(&self, caller: &Caller, id: i64) -> Result<CommissionLineRow, ServiceError> {
        caller.require(Capability::ReadOwnRecords)?;
        match self.db.line(&caller.tenant, id).await? {
            Some(line) if caller.sees_partner(&line.partner_id) => Ok(line),
            _ => Err(ServiceError::NotFound(format!("no commission line {id}"))),
        }
    }

    /// Lines by status and partner, oldest first: `status=disputed` is
    /// the managers' queue, `status=held` what waits for release.
    pub async fn lines(&self, caller: &Caller, query: LineQuery) -> Result<Vec<CommissionLineRow>, ServiceError> {
        caller.require(Capability::ReadOwnRecords)?;
        let limit = query.limit.unwrap_or(100);
        if !(1..=MAX_LINES_LISTED).contains(&limit) {
            return Err(bad(format!("`limit` must be 1 to {MAX_LINES_LISTED}")));
        }
        let partner = match (&caller.partner, query.partner_id.as_deref()) {
            (Some(own), Some(asked)) if own != asked => {
                return Err(ServiceError::NotFound(format!("no partner `{asked}`")));
            }
            (Some(own), _) => Some(own.as_str()),
            (None, asked) => asked,
        };
        Ok(self.db.lines(&caller.tenant, query.status, partner, query.after.unwrap_or(0), limit).await?)
    }

    /// A person's step on a line: hold, release, void, adjust and resolve
    /// are a manager's; dispute is the line's partner's (or staff's). One
    /// unit of work with its decision-log entry and event; a line that is
    /// not in a status the step moves from is a 409 naming its status.
    pub async fn line_step(
        &self,
        caller: &Caller,
        id: i64,
        step: LineStep,
        request: LineStepRequest,
    ) -> Result<LineStepped, ServiceError> {
        caller.require(if step == LineStep::Dispute { Capability::DisputeLines } else { Capability::ManagePayouts })?;
        let reason = request.reason.trim();
        if reason.is_empty() {
            return Err(bad("`reason` must not be empty"));
        }
        check_text("reason", reason, 1_000)?;
        match (step, request.amount) {
            (LineStep::Adjust, None) => return Err(bad("`amount` is required to adjust a line")),
            (LineStep::Adjust | LineStep::Resolve, Some(amount))
                if amount == 0 || amount.unsigned_abs() > MAX_MONEY as u64 =>
            {
                return Err(bad(format!(
                    "`amount` must be a nonzero number of minor units, at most {MAX_MONEY} either way"
                )));
            }
            (LineStep::Adjust | LineStep::Resolve, _) => {}
            (_, Some(_)) => return Err(bad(format!("`amount` is only for adjust and resolve, not {step}"))),
            (_, None) => {}
        }
        let line = self.line(caller, id).await?;
        if !step.from().contains(&line.status) {
            let from: Vec<&str> = step.from().iter().map(|s| s.as_str()).collect();
            return Err(ServiceError::Conflict(format!(
                "line {id} is {}; to {step} it, it must be {}",
                line.status,
                from.join(" or ")
            )));
        }
        let change = LineChange {
            id,
            step,
            reason,
            adjustment: request.amount,
            actor: &caller.key,
            at: check_time("at", now())?,
        };
        Ok(self.db.line_step(&caller.tenant, &change).await?)
    }

    /// Pays `period`: see [`crate::store::Db::run_payouts`]. Refused
    /// while the period's review window is open, and for a period paid
    /// already (409).
    pub async fn run_payouts(&self, caller: &Caller, new: NewRun) -> Result<PayoutRunRow, ServiceError> {
        caller.require(Capability::ManagePayouts)?;
        let tenant = self.tenant(&caller.tenant)?;
        let (_, period_end) = super::scorecards::month(&new.period)?;
        let reference = match new.reference {
            Some(r) => {
                let ok = !r.is_empty()
                    && r.len() <= 64
                    && r.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if !ok {
                    return Err(bad("`reference` must be 1 to 64 letters, digits, `-`, `_` or `.`"));
                }
                r
            }
            None => format!("{}-{}", caller.tenant, new.period),
        };
        let review_days = program_integer(&tenant, "payout-review-days").unwrap_or(DEFAULT_PAYOUT_REVIEW_DAYS);
        let opens = period_end.saturating_add(review_days.clamp(0, 3_650) * DAY).min(MAX_TIME);
        let at = now();
        if at < opens {
            return Err(ServiceError::Conflict(format!(
                "the review window of {} is open until {} (payout-review-days = {review_days}): lines can still be \
                 held, adjusted and disputed; run the payouts then",
                new.period,
                pactum_pdk::time::format_date(opens)
            )));
        }
        let currency = &tenant.program.currency;
        let minimum = match program_money(&tenant, "payout-minimum") {
            None => 0,
            Some(m) if &m.currency == currency && (0..=MAX_MONEY).contains(&m.amount) => m.amount,
            Some(m) => {
                return Err(ServiceError::Internal(format!(
                    "the program's payout-minimum ({} {}) is not an amount in {currency}",
                    m.amount, m.currency
                )));
            }
        };
        let run = NewPayoutRun {
            period: &new.period,
            period_end,
            reference: &reference,
            minimum,
            minimum_currency: currency,
            actor: &caller.key,
            at,
        };
        Ok(self.db.run_payouts(&caller.tenant, &run).await?)
    }

    /// The company's payout runs, newest first.
    pub async fn payout_runs(&self, caller: &Caller) -> Result<Vec<PayoutRunRow>, ServiceError> {
        caller.require(Capability::ManagePayouts)?;
        Ok(self.db.payout_runs(&caller.tenant).await?)
    }

    /// One payout run and its payouts.
    pub async fn payout_run(&self, caller: &Caller, id: i64) -> Result<PayoutRunDetail, ServiceError> {
        caller.require(Capability::ManagePayouts)?;
        let (run, payouts) = self
            .db
            .payout_run(&caller.tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no payout run {id}")))?;
        Ok(PayoutRunDetail { run, payouts })
    }

    /// A payout run as CSV for the finance system: a header, then one row
    /// per partner and currency.
    pub async fn payout_csv(&self, caller: &Caller, id: i64) -> Result<String, ServiceError> {
        let detail = self.payout_run(caller, id).await?;
        Ok(payout_csv(&detail))
    }
}

/// The CSV of a run: `run_id,period,reference,partner_id,partner_name,
/// currency,amount,amount_minor,lines`, `amount` as a decimal in the
/// currency's unit (ISO 4217 minor digits).
pub fn payout_csv(detail: &PayoutRunDetail) -> String {
    let mut out = String::from("run_id,period,reference,partner_id,partner_name,currency,amount,amount_minor,lines\n");
    for p in &detail.payouts {
        let fields = [
            p.run_id.to_string(),
            detail.run.period.clone(),
            p.reference.clone(),
            p.partner_id.clone(),
            p.partner_name.clone(),
            p.currency.clone(),
            decimal(p.amount, minor_digits(&p.currency)),
            p.amount.to_string(),
            p.lines.to_string(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Digits after the decimal point of a currency's amounts (ISO 4217): 0
/// for the yen and its like, 3 for the dinars, 2 otherwise.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// `amount` minor units as a decimal with `digits` after the point.
pub fn decimal(amount: i64, digits: u32) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let unit = 10u64.pow(digits);
    format!("{sign}{}.{:0width$}", abs / unit, abs % unit, width = digits as usize)
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
/// line break. A field a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@` first) is prefixed with `'`: partner names come from users.
pub(crate) fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_their_currency_unit() {
        assert_eq!(decimal(123_456, 2), "1234.56");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(0, 2), "0.00");
        assert_eq!(decimal(1_000, minor_digits("JPY")), "1000");
        assert_eq!(decimal(1_234, minor_digits("KWD")), "1.234");
        assert_eq!(decimal(i64::MIN, 2), "-92233720368547758.08");
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("Globex"), "Globex");
        assert_eq!(csv_field("Smith, Jones & Co"), "\"Smith, Jones & Co\"");
        assert_eq!(csv_field("The \"Best\" Partner"), "\"The \"\"Best\"\" Partner\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-12.50"), "-12.50", "a negative amount stays a number");
    }
}
