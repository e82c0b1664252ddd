//! A partner user's pages (issue 17, item 3): register a deal (with a live
//! "already registered?" check), their registrations, the leads offered to
//! them, their commission statements (CSV, printable) with disputes, and a
//! commission estimator running the live plugin without recording.
//!
//! Every read and step is the application's (`pactum_app`), with the
//! session's [`Caller`]: its partner scoping answers 404 for another
//! partner's record, as the API does.
//!
//! | route | what |
//! |---|---|
//! | `GET /registrations/new`, `POST /registrations` | register a deal; then its page |
//! | `GET /registrations/check?domain=` | an HTML fragment: whether the account has a live registration |
//! | `GET /registrations`, `GET /registrations/{id}` | the partner's registrations, one with its result |
//! | `GET /leads`, `GET /leads/{id}` | leads offered to the partner, one with its forms |
//! | `POST /leads/{id}/accept`, `/decline`, `/report` | answer a lead, report its status |
//! | `GET /commission[/{YYYY-MM}]` | the month's statement; `/csv` and `/print` under it |
//! | `GET /lines/{id}`, `POST /lines/{id}/dispute` | one commission line; dispute it |
//! | `GET /estimate` | the commission estimator (its answer with a query) |
//! | `GET /assets/partner.js` | the registration form's check |

use super::{Form, UserChrome, Visitor, csrf_refused, date, html, message, money, see_other, service_error};
use crate::messages::Messages;
use crate::messages::partner::PartnerMessages;
use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pactum_app::runtime::types::Money;
use pactum_app::service::{Caller, Service, ServiceError, now};
use pactum_app::store::CommissionLineRow;
use pactum_app::users::{Session, same_token};
use pactum_app::workflows::partner_desk::{DealSource, LeadStatus, LineStep};
use pactum_app::workflows::payouts::minor_digits;
use pactum_app::workflows::{
    EstimateRequest, LeadAnswer, LeadReport, LineQuery, LineStepRequest, MAX_MONEY, MAX_TIME, NewRegistration,
    statement_csv,
};
use serde::Deserialize;
use std::sync::Arc;

/// The registration form's script, embedded.
const SCRIPT: &str = include_str!("../assets/partner.js");

/// Longest account name, as the application takes it.
const MAX_NAME: usize = 200;
/// Longest label (industry, country).
const MAX_LABEL: usize = 64;
/// Longest reason or note.
const MAX_REASON: usize = 1_000;
/// Longest amount as typed.
const MAX_AMOUNT_CHARS: usize = 32;
/// Registrations and leads listed.
const LIST_LIMIT: i64 = 200;

/// The partner pages' routes.
pub(super) fn routes() -> Router<Arc<Service>> {
    Router::new()
        .route("/registrations", get(registrations).post(register))
        .route("/registrations/new", get(register_form))
        .route("/registrations/check", get(check_domain))
        .route("/registrations/{id}", get(registration))
        .route("/leads", get(leads))
        .route("/leads/{id}", get(lead))
        .route("/leads/{id}/accept", post(accept_lead))
        .route("/leads/{id}/decline", post(decline_lead))
        .route("/leads/{id}/report", post(report_lead))
        .route("/commission", get(commission_now))
        .route("/commission/{period}", get(commission))
        .route("/commission/{period}/csv", get(commission_csv))
        .route("/commission/{period}/print", get(commission_print))
        .route("/lines/{id}", get(line))
        .route("/lines/{id}/dispute", post(dispute_line))
        .route("/estimate", get(estimate))
        .route("/assets/partner.js", get(script))
}

/// A signed-in partner user: their session and partner.
struct Partner<'a> {
    session: &'a Session,
    partner: &'a str,
}

impl Partner<'_> {
    fn caller(&self) -> &Caller {
        &self.session.caller
    }

    /// Whether a form's token is the session's.
    fn csrf_ok(&self, sent: &str) -> bool {
        !sent.is_empty() && same_token(&self.session.csrf, sent)
    }
}

/// The visitor as a partner user; signed out, to the sign-in page; staff,
/// a 403 saying these pages are a partner's.
/// (The refusal is boxed: a `Response` is large.)
fn partner_of(visitor: &Visitor) -> Result<Partner<'_>, Box<Response>> {
    let Some((_, session)) = &visitor.session else { return Err(Box::new(see_other("/sign-in"))) };
    match session.caller.partner.as_deref() {
        Some(partner) => Ok(Partner { session, partner }),
        None => {
            let t = visitor.t();
            Err(Box::new(message(
                StatusCode::FORBIDDEN,
                t,
                visitor.chrome(),
                t.forbidden_title,
                t.partner_pages.only_partners,
            )))
        }
    }
}

/// Whether `id` could be a record's id (1 to 64 letters, digits, `-`,
/// `_`, as the application makes them): anything else is a 404 without
/// asking.
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A partner user's POST on the record `id`: the user, once the form's
/// CSRF token and the id's shape are checked; else the page to answer.
fn posting_on<'v>(visitor: &'v Visitor, csrf: &str, id: &str) -> Result<Partner<'v>, Box<Response>> {
    let me = partner_of(visitor)?;
    if !me.csrf_ok(csrf) {
        return Err(Box::new(csrf_refused(visitor)));
    }
    if !plausible_id(id) {
        return Err(Box::new(not_found(visitor)));
    }
    Ok(me)
}

/// The 404 page.
fn not_found(visitor: &Visitor) -> Response {
    let t = visitor.t();
    message(StatusCode::NOT_FOUND, t, visitor.chrome(), t.not_found, t.not_found)
}

/// Field errors, each a sentence shown next to its field.
#[derive(Default)]
struct Errors(Vec<(&'static str, String)>);

impl Errors {
    fn add(&mut self, field: &'static str, sentence: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, sentence.into()));
        }
    }

    fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, s)| s.as_str())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why an amount was refused.
#[derive(Debug, PartialEq, Eq)]
enum AmountProblem {
    /// Not a number (or empty, or zero when it must be positive).
    Invalid,
    /// Above [`MAX_MONEY`].
    TooLarge,
}

/// An amount typed in `t`'s language (`45,000.00` or `45.000,00`) as
/// minor units of a currency with `digits` decimals: at most `digits`
/// after the decimal separator, at most [`MAX_MONEY`]; zero only when
/// `zero_ok`.
fn parse_amount(t: &Messages, text: &str, digits: u32, zero_ok: bool) -> Result<i64, AmountProblem> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_AMOUNT_CHARS {
        return Err(AmountProblem::Invalid);
    }
    let (decimal, thousands) = t.separators;
    let plain: String = text.chars().filter(|c| *c != thousands && !c.is_whitespace()).collect();
    let (whole, fraction) = match plain.split_once(decimal) {
        Some((w, f)) => (w, f),
        None => (plain.as_str(), ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || fraction.len() > digits as usize
    {
        return Err(AmountProblem::Invalid);
    }
    let scale = 10i64.pow(digits);
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| AmountProblem::TooLarge)? };
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<width$}", width = digits as usize);
        padded.parse().map_err(|_| AmountProblem::Invalid)?
    };
    let amount = whole.checked_mul(scale).and_then(|w| w.checked_add(fraction)).ok_or(AmountProblem::TooLarge)?;
    if amount > MAX_MONEY {
        return Err(AmountProblem::TooLarge);
    }
    if amount == 0 && !zero_ok {
        return Err(AmountProblem::Invalid);
    }
    Ok(amount)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's
/// days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` as Unix seconds at midnight UTC, in the years 1970 to 9999.
fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let at = days_from_civil(y, m, d) * 86_400;
    // The day exists when it reads back the same.
    (date(at) == text && at <= MAX_TIME).then_some(at)
}

/// A month `YYYY-MM` (1970 to 9999): its first second and the next
/// month's.
fn month_bounds(period: &str) -> Option<(i64, i64)> {
    let (y, m) = period.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let from = days_from_civil(y, m, 1) * 86_400;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((from, days_from_civil(ny, nm, 1) * 86_400))
}

/// The month `at` falls in, `YYYY-MM`.
fn month_of(at: i64) -> String {
    date(at)[..7].to_string()
}

/// A line's state for its partner: the stored status, with a pending line
/// already due shown as payable, and a clawback (or a line clawed back
/// whole) as clawed back.
fn line_state(line: &CommissionLineRow, at: i64) -> &'static str {
    let clawed = line.amount < 0 || (line.clawed_back > 0 && line.clawed_back >= line.amount);
    match line.status.as_str() {
        "pending" | "paid" if clawed => "clawed_back",
        "pending" if line.due_at <= at => "payable",
        other => other,
    }
}

/// A text field's problem: empty when required, too long, or holding
/// control characters (as the application refuses them).
fn text_problem(p: &PartnerMessages, text: &str, max: usize, required: bool) -> Option<String> {
    if required && text.trim().is_empty() {
        Some(p.err_required.to_string())
    } else if text.chars().count() > max || text.chars().any(char::is_control) {
        Some(p.err_too_long.replace("{max}", &max.to_string()))
    } else {
        None
    }
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        SCRIPT,
    )
        .into_response()
}

// ---------------------------------------------------------------------------
// Register a deal

/// The registration form's fields.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct RegisterFields {
    csrf: String,
    account_domain: String,
    account_name: String,
    amount: String,
    currency: String,
    expected_close: String,
    country: String,
    industry: String,
    employees: String,
}

#[derive(Template)]
#[template(path = "partner/register.html")]
struct RegisterPage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    csrf: String,
    form: RegisterFields,
    currencies: Vec<String>,
    errors: Errors,
    form_error: Option<String>,
}

/// The program's currencies, its own first.
fn currencies(service: &Service, caller: &Caller) -> Result<Vec<String>, ServiceError> {
    Ok(service.tenant(&caller.tenant)?.program.currencies.clone())
}

async fn register_form(State(service): State<Arc<Service>>, visitor: Visitor) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let t = visitor.t();
    let currencies = match currencies(&service, me.caller()) {
        Ok(c) => c,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let form = RegisterFields { currency: currencies.first().cloned().unwrap_or_default(), ..Default::default() };
    let page = RegisterPage {
        t,
        p: &t.partner_pages,
        user: visitor.chrome(),
        csrf: me.session.csrf.clone(),
        form,
        currencies,
        errors: Errors::default(),
        form_error: None,
    };
    html(StatusCode::OK, &page)
}

/// The registration, or the field errors found before asking the
/// application.
fn new_registration(
    t: &Messages,
    partner: &str,
    form: &RegisterFields,
    currencies: &[String],
) -> Result<NewRegistration, Errors> {
    let p = &t.partner_pages;
    let mut errors = Errors::default();
    let domain = form.account_domain.trim();
    let domain_ok = domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !domain_ok {
        errors.add("account_domain", p.err_domain);
    }
    if let Some(problem) = text_problem(p, &form.account_name, MAX_NAME, true) {
        errors.add("account_name", problem);
    }
    let currency = form.currency.trim();
    if !currencies.iter().any(|c| c == currency) {
        errors.add("currency", p.err_currency);
    }
    let amount = match parse_amount(t, &form.amount, minor_digits(currency), false) {
        Ok(a) => a,
        Err(AmountProblem::Invalid) => {
            errors.add("amount", p.err_amount);
            0
        }
        Err(AmountProblem::TooLarge) => {
            errors.add("amount", p.err_amount_large);
            0
        }
    };
    let expected_close = if form.expected_close.trim().is_empty() {
        None
    } else {
        let parsed = parse_date(&form.expected_close);
        if parsed.is_none() {
            errors.add("expected_close", p.err_date);
        }
        parsed
    };
    let optional = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    for (field, text) in [("country", &form.country), ("industry", &form.industry)] {
        if let Some(problem) = text_problem(p, text, MAX_LABEL, false) {
            errors.add(field, problem);
        }
    }
    let employees = if form.employees.trim().is_empty() {
        None
    } else {
        let parsed = form.employees.trim().parse::<u32>().ok();
        if parsed.is_none() {
            errors.add("employees", p.err_employees);
        }
        parsed
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewRegistration {
        partner_id: partner.to_string(),
        account_domain: domain.to_string(),
        account_name: form.account_name.trim().to_string(),
        industry: optional(&form.industry),
        employees,
        country: optional(&form.country).map(|c| c.to_ascii_uppercase()),
        amount: Money { amount, currency: currency.to_string() },
        expected_close,
    })
}

/// The field an application refusal names (its message starts with the
/// field in backticks), if it is one of the form's.
fn refused_field(reason: &str) -> Option<&'static str> {
    const FIELDS: [&str; 7] =
        ["account_domain", "account_name", "amount", "expected_close", "country", "industry", "employees"];
    let named = reason.strip_prefix('`')?.split(['`', '.']).next()?;
    FIELDS.into_iter().find(|f| *f == named)
}

async fn register(State(service): State<Arc<Service>>, visitor: Visitor, Form(form): Form<RegisterFields>) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    if !me.csrf_ok(&form.csrf) {
        return csrf_refused(&visitor);
    }
    let t = visitor.t();
    let p = &t.partner_pages;
    let currencies = match currencies(&service, me.caller()) {
        Ok(c) => c,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let again = |errors: Errors, form_error: Option<String>, form: RegisterFields, currencies: Vec<String>| {
        let page = RegisterPage {
            t,
            p,
            user: visitor.chrome(),
            csrf: me.session.csrf.clone(),
            form,
            currencies,
            errors,
            form_error,
        };
        html(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let new = match new_registration(t, me.partner, &form, &currencies) {
        Ok(new) => new,
        Err(errors) => return again(errors, Some(p.form_has_errors.to_string()), form, currencies),
    };
    match service.register_deal(me.caller(), new, now()).await {
        Ok(row) => {
            tracing::info!(registration = %row.id, status = %row.status, "a partner registered a deal in the portal");
            let to = format!("/registrations/{}", row.id);
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
        Err(ServiceError::BadInput(reason)) => {
            let mut errors = Errors::default();
            match refused_field(&reason) {
                Some(field) => {
                    let sentence = match field {
                        "account_domain" => p.err_domain.to_string(),
                        "amount" if reason.contains("currency") => {
                            errors.add("currency", p.err_currency);
                            p.err_currency.to_string()
                        }
                        "amount" => p.err_amount.to_string(),
                        "expected_close" => p.err_date.to_string(),
                        _ => p.err_not_saved.replace("{reason}", &reason),
                    };
                    errors.add(field, sentence);
                    again(errors, Some(p.form_has_errors.to_string()), form, currencies)
                }
                None => again(errors, Some(p.err_not_saved.replace("{reason}", &reason)), form, currencies),
            }
        }
        Err(ServiceError::Conflict(reason)) => message(
            StatusCode::CONFLICT,
            t,
            visitor.chrome(),
            p.register_title,
            p.conflict.replace("{reason}", &reason),
        ),
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

#[derive(Template)]
#[template(path = "partner/check.html")]
struct CheckFragment {
    taken: bool,
    text: String,
}

/// The `domain` of a query string.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DomainQuery {
    domain: String,
}

async fn check_domain(State(service): State<Arc<Service>>, visitor: Visitor, RawQuery(query): RawQuery) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(_) => return StatusCode::FORBIDDEN.into_response(),
    };
    let p = &visitor.t().partner_pages;
    let q: DomainQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    match service.account_registered(me.caller(), &q.domain, now()).await {
        Ok(taken) => {
            let text = if taken { p.check_taken } else { p.check_free }.to_string();
            html(StatusCode::OK, &CheckFragment { taken, text })
        }
        Err(ServiceError::BadInput(_)) => {
            html(StatusCode::UNPROCESSABLE_ENTITY, &CheckFragment { taken: false, text: p.err_domain.to_string() })
        }
        Err(e) => {
            tracing::error!(error = %e, "the registration check failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

// ---------------------------------------------------------------------------
// Registrations

/// A registration as a page shows it.
struct RegistrationView {
    id: String,
    account: String,
    amount: String,
    status_key: String,
    status: String,
    result: String,
    reason: String,
    protected_until: String,
    expected_close: String,
    submitted: String,
}

fn registration_view(t: &Messages, r: pactum_app::store::RegistrationRow) -> RegistrationView {
    let p = &t.partner_pages;
    let key = r.status.as_str();
    let until = r.protected_until.map(date).unwrap_or_default();
    let result = match key {
        "approved" => p.result_approved.replace("{date}", &until),
        "review" => p.result_review.to_string(),
        "rejected" => p.result_rejected.to_string(),
        other => p.result_other.replace("{status}", p.registration_status(other)),
    };
    RegistrationView {
        amount: money(t, r.amount, &r.currency),
        status: p.registration_status(key).to_string(),
        status_key: key.to_string(),
        result,
        protected_until: until,
        expected_close: r.expected_close.map(date).unwrap_or_default(),
        submitted: date(r.created_at),
        reason: r.reason,
        account: r.account_domain,
        id: r.id,
    }
}

#[derive(Template)]
#[template(path = "partner/registrations.html")]
struct RegistrationsPage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    rows: Vec<RegistrationView>,
}

async fn registrations(State(service): State<Arc<Service>>, visitor: Visitor) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let t = visitor.t();
    match service.registrations(me.caller(), Some(me.partner), None, LIST_LIMIT).await {
        Ok(rows) => {
            let rows = rows.into_iter().map(|r| registration_view(t, r)).collect();
            html(StatusCode::OK, &RegistrationsPage { t, p: &t.partner_pages, user: visitor.chrome(), rows })
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

#[derive(Template)]
#[template(path = "partner/registration.html")]
struct RegistrationPage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    title: String,
    r: RegistrationView,
}

async fn registration(State(service): State<Arc<Service>>, visitor: Visitor, Path(id): Path<String>) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    if !plausible_id(&id) {
        return not_found(&visitor);
    }
    let t = visitor.t();
    match service.registration(me.caller(), &id).await {
        Ok(row) => {
            let r = registration_view(t, row);
            let title = t.partner_pages.registration_title.replace("{account}", &r.account);
            html(StatusCode::OK, &RegistrationPage { t, p: &t.partner_pages, user: visitor.chrome(), title, r })
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

// ---------------------------------------------------------------------------
// Leads

/// A lead as a page shows it.
struct LeadView {
    id: String,
    account: String,
    source: String,
    status_key: String,
    status: String,
    deadline: String,
    reason: String,
    note: String,
    /// The statuses it may be reported in next: (value, words).
    next: Vec<(&'static str, &'static str)>,
}

fn lead_view(t: &Messages, l: pactum_app::store::LeadRow, at: i64) -> LeadView {
    let p = &t.partner_pages;
    let key = l.status.as_str();
    let deadline = match (l.status, l.respond_by) {
        (LeadStatus::Offered, Some(by)) if by > at => {
            p.answer_by.replace("{date}", &date(by)).replace("{left}", &t.time_left(by - at))
        }
        (LeadStatus::Offered, _) => p.lead_expired.to_string(),
        _ => String::new(),
    };
    let next = l.status.reportable().iter().map(|s| (s.as_str(), p.lead_status(s.as_str()))).collect();
    LeadView {
        status: p.lead_status(key).to_string(),
        status_key: key.to_string(),
        deadline,
        next,
        note: l.status_note.unwrap_or_default(),
        reason: l.reason,
        source: l.source,
        account: l.account_domain,
        id: l.id,
    }
}

#[derive(Template)]
#[template(path = "partner/leads.html")]
struct LeadsPage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    notice: Option<&'static str>,
    rows: Vec<LeadView>,
}

async fn leads(State(service): State<Arc<Service>>, visitor: Visitor, RawQuery(query): RawQuery) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let t = visitor.t();
    let at = now();
    let notice = (query.as_deref() == Some("declined=1")).then_some(t.partner_pages.lead_declined);
    match service.leads(me.caller(), Some(me.partner), LIST_LIMIT).await {
        Ok(rows) => {
            let rows = rows.into_iter().map(|l| lead_view(t, l, at)).collect();
            html(StatusCode::OK, &LeadsPage { t, p: &t.partner_pages, user: visitor.chrome(), notice, rows })
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

#[derive(Template)]
#[template(path = "partner/lead.html")]
struct LeadPage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    csrf: String,
    title: String,
    l: LeadView,
    reason: String,
    note: String,
    errors: Errors,
}

/// A lead form's fields.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LeadFields {
    csrf: String,
    reason: String,
    status: String,
    note: String,
}

/// The lead's page, with `status` (200 or 422) and the form's errors.
async fn lead_page(
    service: &Service,
    visitor: &Visitor,
    me: &Partner<'_>,
    id: &str,
    status: StatusCode,
    fields: LeadFields,
    errors: Errors,
) -> Response {
    if !plausible_id(id) {
        return not_found(visitor);
    }
    let t = visitor.t();
    match service.lead(me.caller(), id).await {
        Ok(row) => {
            let l = lead_view(t, row, now());
            let title = t.partner_pages.lead_title.replace("{account}", &l.account);
            let page = LeadPage {
                t,
                p: &t.partner_pages,
                user: visitor.chrome(),
                csrf: me.session.csrf.clone(),
                title,
                l,
                reason: fields.reason,
                note: fields.note,
                errors,
            };
            html(status, &page)
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

async fn lead(State(service): State<Arc<Service>>, visitor: Visitor, Path(id): Path<String>) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    lead_page(&service, &visitor, &me, &id, StatusCode::OK, LeadFields::default(), Errors::default()).await
}

/// The page after a lead step: 303 to `to`, 409 saying why, or the error's
/// page.
fn after_lead_step(visitor: &Visitor, result: Result<String, ServiceError>) -> Response {
    let t = visitor.t();
    match result {
        Ok(to) => (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response(),
        Err(ServiceError::Conflict(reason)) => message(
            StatusCode::CONFLICT,
            t,
            visitor.chrome(),
            t.partner_pages.nav_leads,
            t.partner_pages.conflict.replace("{reason}", &reason),
        ),
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

async fn accept_lead(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<LeadFields>,
) -> Response {
    let me = match posting_on(&visitor, &form.csrf, &id) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let result = service.answer_lead(me.caller(), &id, LeadAnswer::Accept, now()).await;
    after_lead_step(&visitor, result.map(|l| format!("/leads/{}", l.id)))
}

async fn decline_lead(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<LeadFields>,
) -> Response {
    let me = match posting_on(&visitor, &form.csrf, &id) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let p = &visitor.t().partner_pages;
    let problem = if form.reason.trim().is_empty() {
        Some(p.err_decline_reason.to_string())
    } else {
        text_problem(p, &form.reason, MAX_REASON, true)
    };
    if let Some(problem) = problem {
        let mut errors = Errors::default();
        errors.add("reason", problem);
        return lead_page(&service, &visitor, &me, &id, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await;
    }
    let answer = LeadAnswer::Decline { reason: form.reason.trim().to_string() };
    let result = service.answer_lead(me.caller(), &id, answer, now()).await;
    after_lead_step(&visitor, result.map(|_| "/leads?declined=1".to_string()))
}

async fn report_lead(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<LeadFields>,
) -> Response {
    let me = match posting_on(&visitor, &form.csrf, &id) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let p = &visitor.t().partner_pages;
    let mut errors = Errors::default();
    let status = LeadStatus::parse(form.status.trim()).filter(|s| {
        matches!(s, LeadStatus::Contacted | LeadStatus::Qualified | LeadStatus::Converted | LeadStatus::Disqualified)
    });
    if status.is_none() {
        errors.add("status", p.err_report_status);
    }
    if let Some(problem) = text_problem(p, &form.note, MAX_REASON, false) {
        errors.add("note", problem);
    }
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        return lead_page(&service, &visitor, &me, &id, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await;
    };
    let note = Some(form.note.trim().to_string()).filter(|n| !n.is_empty());
    let result = service.report_lead(me.caller(), &id, LeadReport { status, note }, now()).await;
    after_lead_step(&visitor, result.map(|l| format!("/leads/{}", l.id)))
}

// ---------------------------------------------------------------------------
// Commission

/// A commission line as a page shows it.
struct LineView {
    id: i64,
    deal: String,
    kind: String,
    state_key: &'static str,
    state: &'static str,
    due: String,
    amount: String,
    description: String,
}

fn line_view(t: &Messages, l: &CommissionLineRow, at: i64) -> LineView {
    let key = line_state(l, at);
    LineView {
        id: l.id,
        deal: l.deal_id.clone(),
        kind: l.kind.clone(),
        state_key: key,
        state: t.partner_pages.line_state(key),
        due: date(l.due_at),
        amount: money(t, l.amount, &l.currency),
        description: l.description.clone(),
    }
}

#[derive(Template)]
#[template(path = "partner/statement.html")]
struct StatementPage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    title: String,
    partner_name: String,
    period: String,
    previous: String,
    next: String,
    lines: Vec<LineView>,
    totals: Vec<String>,
    print: bool,
    /// The months with lines, the latest first (at most [`MONTHS_LISTED`]).
    months: Vec<String>,
}

/// Months with lines listed on a statement page.
const MONTHS_LISTED: usize = 24;

/// The month after and before `period` (a valid one).
fn neighbours(from: i64, to: i64) -> (String, String) {
    (month_of(from - 1), month_of(to))
}

async fn commission_now(State(service): State<Arc<Service>>, visitor: Visitor, RawQuery(query): RawQuery) -> Response {
    // The month form (`?period=YYYY-MM`) lands here without JavaScript.
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct PeriodQuery {
        period: String,
    }
    let q: PeriodQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let period = if q.period.is_empty() { month_of(now()) } else { q.period };
    statement_page(&service, &visitor, &period, false).await
}

async fn commission(State(service): State<Arc<Service>>, visitor: Visitor, Path(period): Path<String>) -> Response {
    statement_page(&service, &visitor, &period, false).await
}

async fn commission_print(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(period): Path<String>,
) -> Response {
    statement_page(&service, &visitor, &period, true).await
}

/// The statement's bounds, or the 404 of a month that is not one.
fn period_or_404(visitor: &Visitor, period: &str) -> Result<(i64, i64), Box<Response>> {
    month_bounds(period).ok_or_else(|| {
        let t = visitor.t();
        Box::new(message(StatusCode::NOT_FOUND, t, visitor.chrome(), t.not_found, t.not_found))
    })
}

async fn statement_page(service: &Service, visitor: &Visitor, period: &str, print: bool) -> Response {
    let me = match partner_of(visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let (from, to) = match period_or_404(visitor, period) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let t = visitor.t();
    let caller = me.caller();
    let statement = match service.statement(caller, me.partner, from, to).await {
        Ok(s) => s,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let partner_name = match service.partner(caller, me.partner).await {
        Ok(row) => row.name,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let at = now();
    let lines = statement.lines.iter().map(|l| line_view(t, &l.line, at)).collect();
    let mut totals: Vec<String> = vec![money(t, statement.total, &statement.currency)];
    totals.extend(statement.totals.iter().filter(|(c, _)| **c != statement.currency).map(|(c, a)| money(t, *a, c)));
    let (previous, next) = neighbours(from, to);
    let months = if print {
        Vec::new()
    } else {
        // The partner's last 1,000 lines' months: where its commission is.
        let query = LineQuery { partner_id: Some(me.partner.to_string()), limit: Some(1_000), ..LineQuery::default() };
        match service.lines(caller, query).await {
            Ok(lines) => {
                let months: std::collections::BTreeSet<String> = lines.iter().map(|l| month_of(l.due_at)).collect();
                months.into_iter().rev().take(MONTHS_LISTED).collect()
            }
            Err(e) => return service_error(t, visitor.chrome(), e),
        }
    };
    let page = StatementPage {
        t,
        p: &t.partner_pages,
        user: visitor.chrome(),
        title: t.partner_pages.statement_title.replace("{period}", period),
        partner_name,
        period: period.to_string(),
        previous,
        next,
        lines,
        totals,
        print,
        months,
    };
    html(StatusCode::OK, &page)
}

async fn commission_csv(State(service): State<Arc<Service>>, visitor: Visitor, Path(period): Path<String>) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let (from, to) = match period_or_404(&visitor, &period) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match service.statement(me.caller(), me.partner, from, to).await {
        Ok(statement) => {
            // The partner id is letters, digits, `-` and `_`; the period
            // was checked: the name needs no quoting beyond its quotes.
            let disposition = format!("attachment; filename=\"statement-{}-{period}.csv\"", me.partner);
            let disposition =
                HeaderValue::from_str(&disposition).unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                ],
                statement_csv(&statement),
            )
                .into_response()
        }
        Err(e) => service_error(visitor.t(), visitor.chrome(), e),
    }
}

#[derive(Template)]
#[template(path = "partner/line.html")]
struct LinePage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    csrf: String,
    title: String,
    l: LineView,
    period: String,
    disputable: bool,
    reason: String,
    errors: Errors,
}

/// A line form's fields.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LineFields {
    csrf: String,
    reason: String,
}

async fn line_page(
    service: &Service,
    visitor: &Visitor,
    me: &Partner<'_>,
    id: &str,
    status: StatusCode,
    reason: String,
    errors: Errors,
) -> Response {
    let t = visitor.t();
    let Ok(number) = id.parse::<i64>() else {
        return message(StatusCode::NOT_FOUND, t, visitor.chrome(), t.not_found, t.not_found);
    };
    match service.line(me.caller(), number).await {
        Ok(row) => {
            let page = LinePage {
                t,
                p: &t.partner_pages,
                user: visitor.chrome(),
                csrf: me.session.csrf.clone(),
                title: t.partner_pages.line_title.replace("{id}", &row.id.to_string()),
                l: line_view(t, &row, now()),
                period: month_of(row.due_at),
                disputable: row.status.as_str() == "pending",
                reason,
                errors,
            };
            html(status, &page)
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

async fn line(State(service): State<Arc<Service>>, visitor: Visitor, Path(id): Path<String>) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    line_page(&service, &visitor, &me, &id, StatusCode::OK, String::new(), Errors::default()).await
}

async fn dispute_line(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<LineFields>,
) -> Response {
    let me = match posting_on(&visitor, &form.csrf, &id) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let t = visitor.t();
    let p = &t.partner_pages;
    let problem = if form.reason.trim().is_empty() {
        Some(p.err_dispute_reason.to_string())
    } else {
        text_problem(p, &form.reason, MAX_REASON, true)
    };
    if let Some(problem) = problem {
        let mut errors = Errors::default();
        errors.add("reason", problem);
        return line_page(&service, &visitor, &me, &id, StatusCode::UNPROCESSABLE_ENTITY, form.reason, errors).await;
    }
    let Ok(number) = id.parse::<i64>() else {
        return message(StatusCode::NOT_FOUND, t, visitor.chrome(), t.not_found, t.not_found);
    };
    let request = LineStepRequest { reason: form.reason.trim().to_string(), amount: None };
    match service.line_step(me.caller(), number, LineStep::Dispute, request).await {
        Ok(stepped) => {
            let to = format!("/commission/{}#line-{number}", month_of(stepped.line.due_at));
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
        Err(ServiceError::Conflict(_)) => {
            let mut errors = Errors::default();
            errors.add("reason", p.cannot_dispute);
            line_page(&service, &visitor, &me, &id, StatusCode::CONFLICT, form.reason, errors).await
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

// ---------------------------------------------------------------------------
// Estimator

/// The estimator's fields (a GET form: it changes nothing).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct EstimateFields {
    first_year_acv: String,
    services: String,
    currency: String,
    source: String,
}

/// One line of an estimate.
struct EstimateLine {
    description: String,
    rate: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "partner/estimate.html")]
struct EstimatePage {
    t: &'static Messages,
    p: &'static PartnerMessages,
    user: Option<UserChrome>,
    form: EstimateFields,
    currencies: Vec<String>,
    errors: Errors,
    result: Option<String>,
    failed: bool,
    explanation: String,
    lines: Vec<EstimateLine>,
}

/// Basis points as a percentage in `t`'s language: `15`, `12.5`.
fn percent(t: &Messages, bps: i64) -> String {
    let text = format!("{}.{:02}", bps / 100, (bps % 100).abs());
    let text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    format!("{} %", text.replace('.', &t.separators.0.to_string()))
}

async fn estimate(State(service): State<Arc<Service>>, visitor: Visitor, RawQuery(query): RawQuery) -> Response {
    let me = match partner_of(&visitor) {
        Ok(me) => me,
        Err(r) => return *r,
    };
    let t = visitor.t();
    let p = &t.partner_pages;
    let currencies = match currencies(&service, me.caller()) {
        Ok(c) => c,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let asked = query.as_deref().is_some_and(|q| !q.is_empty());
    let mut form: EstimateFields = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    if form.currency.is_empty() {
        form.currency = currencies.first().cloned().unwrap_or_default();
    }
    let mut page = EstimatePage {
        t,
        p,
        user: visitor.chrome(),
        form: form.clone(),
        currencies,
        errors: Errors::default(),
        result: None,
        failed: false,
        explanation: String::new(),
        lines: Vec::new(),
    };
    if !asked {
        return html(StatusCode::OK, &page);
    }
    let currency = form.currency.trim().to_string();
    if !page.currencies.contains(&currency) {
        page.errors.add("currency", p.err_currency);
    }
    let digits = minor_digits(&currency);
    let acv = parse_amount(t, &form.first_year_acv, digits, false);
    let services = if form.services.trim().is_empty() { Ok(0) } else { parse_amount(t, &form.services, digits, true) };
    for (field, parsed, invalid) in
        [("first_year_acv", &acv, p.err_amount), ("services", &services, p.err_amount_zero_ok)]
    {
        match parsed {
            Err(AmountProblem::Invalid) => page.errors.add(field, invalid),
            Err(AmountProblem::TooLarge) => page.errors.add(field, p.err_amount_large),
            Ok(_) => {}
        }
    }
    let source = match form.source.as_str() {
        "partner-sourced" => Some(DealSource::PartnerSourced),
        "partner-influenced" => Some(DealSource::PartnerInfluenced),
        _ => None,
    };
    if source.is_none() {
        page.errors.add("source", p.err_source);
    }
    let (Ok(acv), Ok(services), Some(source), true) = (acv, services, source, page.errors.is_empty()) else {
        return html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let request =
        EstimateRequest { first_year_acv: Money { amount: acv, currency: currency.clone() }, services, source };
    match service.estimate_commission(me.caller(), me.partner, request, now()).await {
        Ok(estimate) => {
            page.failed = estimate.failed;
            page.explanation = estimate.explanation;
            if !estimate.failed {
                page.result = Some(p.estimate_result.replace("{amount}", &money(t, estimate.total, &currency)));
                page.lines = estimate
                    .lines
                    .iter()
                    .filter(|l| l.partner_id == me.partner)
                    .map(|l| EstimateLine {
                        description: l.description.clone(),
                        rate: percent(t, i64::from(l.rate)),
                        amount: money(t, l.amount.amount, &l.amount.currency),
                    })
                    .collect();
            }
            html(StatusCode::OK, &page)
        }
        Err(ServiceError::BadInput(reason)) => {
            page.errors.add("first_year_acv", p.err_not_saved.replace("{reason}", &reason));
            html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{EN, ES};

    #[test]
    fn amounts_read_in_the_visitors_language() {
        assert_eq!(parse_amount(&EN, "45,000.00", 2, false), Ok(4_500_000));
        assert_eq!(parse_amount(&ES, "45.000,5", 2, false), Ok(4_500_050));
        assert_eq!(parse_amount(&EN, "1000", 0, false), Ok(1000));
        assert_eq!(parse_amount(&EN, "0", 2, false), Err(AmountProblem::Invalid));
        assert_eq!(parse_amount(&EN, "0", 2, true), Ok(0));
        assert_eq!(parse_amount(&EN, "1.234", 2, false), Err(AmountProblem::Invalid));
        assert_eq!(parse_amount(&EN, "-5", 2, false), Err(AmountProblem::Invalid));
        assert_eq!(parse_amount(&EN, "1e5", 2, false), Err(AmountProblem::Invalid));
        assert_eq!(parse_amount(&EN, "99999999999999999999", 2, false), Err(AmountProblem::TooLarge));
        assert_eq!(parse_amount(&EN, "10000000000001", 2, false), Err(AmountProblem::TooLarge));
        assert_eq!(parse_amount(&EN, "", 2, false), Err(AmountProblem::Invalid));
    }

    #[test]
    fn dates_and_months_are_checked() {
        assert_eq!(parse_date("2026-11-26"), Some(1_795_651_200));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("26-11-2026"), None);
        assert_eq!(month_bounds("2026-12"), Some((1_796_083_200, 1_798_761_600)));
        assert_eq!(month_bounds("2026-13"), None);
        assert_eq!(month_of(1_795_651_200), "2026-11");
    }

    #[test]
    fn refusals_name_their_field() {
        assert_eq!(refused_field("`amount.currency` is \"EUR\""), Some("amount"));
        assert_eq!(refused_field("`account_domain` \"x\" is not a domain"), Some("account_domain"));
        assert_eq!(refused_field("partner `p` is gone"), None);
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(&EN, 1500), "15 %");
        assert_eq!(percent(&ES, 1250), "12,5 %");
    }
}
