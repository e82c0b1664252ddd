//! `/console/payouts`: commission lines not yet paid (hold, release, void
//! with a reason), the payout runs with their totals per currency (run
//! one for a period), each run's CSV for the finance system.

use super::{bounded, caller, posting, redirect};
use crate::messages::Messages;
use crate::{Form, UserChrome, Visitor, date, html, money, service_error};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pactum_app::service::{Caller, Service, ServiceError, now};
use pactum_app::workflows::payouts::{LineQuery, LineStepRequest, NewRun};
use serde::Deserialize;
use std::sync::Arc;

/// Lines listed per status.
const LISTED: i64 = 200;

struct LineRow {
    id: i64,
    partner: String,
    deal: String,
    amount: String,
    status: String,
    due: String,
    description: String,
    /// The steps it can take now: `(value, label)`.
    steps: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

struct RunRow {
    id: i64,
    period: String,
    reference: String,
    payouts: i64,
    totals: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/payouts.html")]
struct PayoutsPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    notice: Option<String>,
    lines: Vec<LineRow>,
    runs: Vec<RunRow>,
    period: String,
    reference: String,
    run_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Notice {
    line: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Fields {
    csrf: String,
    step: String,
    reason: String,
    period: String,
    reference: String,
}

/// What the page shows beside the state.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    line_error: Option<(i64, String)>,
    run_error: Option<String>,
    period: String,
    reference: String,
}

/// Last month, `YYYY-MM`.
fn last_month() -> String {
    let today = date(now());
    let (y, m) = (today[..4].parse::<i32>().unwrap_or(1970), today[5..7].parse::<i32>().unwrap_or(1));
    if m == 1 { format!("{:04}-12", y - 1) } else { format!("{y:04}-{:02}", m - 1) }
}

async fn lines(
    service: &Service,
    caller: &Caller,
    status: &str,
) -> Result<Vec<pactum_app::store::CommissionLineRow>, ServiceError> {
    let query: LineQuery = serde_json::from_value(serde_json::json!({ "status": status, "limit": LISTED }))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    service.lines(caller, query).await
}

async fn render(service: &Service, visitor: &Visitor, caller: &Caller, status: StatusCode, shown: Shown) -> Response {
    let t = visitor.t();
    let c = t.console;
    // The runs first: they need the payouts capability, the lines only a
    // staff one.
    let runs = match service.payout_runs(caller).await {
        Ok(runs) => runs,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let mut rows = Vec::new();
    for (status, steps) in
        [("pending", vec![("hold", c.hold)]), ("held", vec![("release", c.release), ("void", c.void)])]
    {
        match lines(service, caller, status).await {
            Ok(found) => rows.extend(found.into_iter().map(|l| LineRow {
                error: shown.line_error.as_ref().filter(|(id, _)| *id == l.id).map(|(_, e)| e.clone()),
                amount: money(t, l.amount, &l.currency),
                status: c.status(&l.status.to_string()),
                due: date(l.due_at),
                id: l.id,
                partner: l.partner_id,
                deal: l.deal_id,
                description: l.description,
                steps: steps.clone(),
            })),
            Err(e) => return service_error(t, visitor.chrome(), e),
        }
    }
    rows.sort_by_key(|l| l.id);
    let runs = runs
        .into_iter()
        .map(|r| RunRow {
            totals: if r.summary.totals.is_empty() {
                c.nothing_paid.to_string()
            } else {
                r.summary.totals.iter().map(|(cur, amount)| money(t, *amount, cur)).collect::<Vec<_>>().join(", ")
            },
            payouts: r.summary.payouts,
            created: date(r.created_at),
            id: r.id,
            period: r.period,
            reference: r.reference,
        })
        .collect();
    let page = PayoutsPage {
        t,
        user: visitor.chrome(),
        csrf: visitor.chrome().map(|u| u.csrf).unwrap_or_default(),
        notice: shown.notice,
        lines: rows,
        runs,
        period: if shown.period.is_empty() { last_month() } else { shown.period },
        reference: shown.reference,
        run_error: shown.run_error,
    };
    html(status, &page)
}

pub(super) async fn page(State(service): State<Arc<Service>>, visitor: Visitor, Query(n): Query<Notice>) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let notice = n.line.parse::<i64>().ok().map(|id| visitor.t().console.line_done.replace("{id}", &id.to_string()));
    render(&service, &visitor, &caller, StatusCode::OK, Shown { notice, ..Shown::default() }).await
}

pub(super) async fn line_step(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let Ok(id) = id.parse::<i64>() else {
        return service_error(visitor.t(), visitor.chrome(), ServiceError::NotFound("no such line".into()));
    };
    let reason = f.reason.trim();
    let problem = if reason.is_empty() {
        Some(c.reason_required.to_string())
    } else if reason.chars().count() > 1_000 {
        Some(c.reason_too_long.to_string())
    } else if !matches!(f.step.as_str(), "hold" | "release" | "void") {
        Some(c.required.to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        let shown = Shown { line_error: Some((id, problem)), ..Shown::default() };
        return render(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, shown).await;
    }
    let Ok(step) = serde_json::from_value(serde_json::Value::String(f.step.clone())) else {
        return service_error(visitor.t(), visitor.chrome(), ServiceError::BadInput("step".into()));
    };
    let request = LineStepRequest { reason: reason.to_string(), amount: None };
    match service.line_step(&caller, id, step, request).await {
        Ok(_) => redirect(format!("/console/payouts?line={id}")),
        Err(e @ (ServiceError::BadInput(_) | ServiceError::Conflict(_))) => {
            let status = if matches!(e, ServiceError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let shown = Shown { line_error: Some((id, format!("{} {e}", c.refused))), ..Shown::default() };
            render(&service, &visitor, &caller, status, shown).await
        }
        Err(e) => service_error(visitor.t(), visitor.chrome(), e),
    }
}

pub(super) async fn run(State(service): State<Arc<Service>>, visitor: Visitor, Form(f): Form<Fields>) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let period = bounded(f.period.trim(), 7);
    let reference = bounded(f.reference.trim(), 64);
    let shown = |error: String| Shown {
        run_error: Some(error),
        period: period.clone(),
        reference: reference.clone(),
        ..Shown::default()
    };
    let month_ok = f.period.trim().len() == 7 && super::parse_date(&format!("{}-01", f.period.trim())).is_some();
    if !month_ok {
        return render(
            &service,
            &visitor,
            &caller,
            StatusCode::UNPROCESSABLE_ENTITY,
            shown(c.period_invalid_month.into()),
        )
        .await;
    }
    let new = NewRun { period: period.clone(), reference: (!reference.is_empty()).then(|| reference.clone()) };
    match service.run_payouts(&caller, new).await {
        Ok(_) => redirect("/console/payouts".to_string()),
        Err(e @ (ServiceError::BadInput(_) | ServiceError::Conflict(_))) => {
            let status = if matches!(e, ServiceError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(&service, &visitor, &caller, status, shown(format!("{} {e}", c.refused))).await
        }
        Err(e) => service_error(visitor.t(), visitor.chrome(), e),
    }
}

pub(super) async fn csv(State(service): State<Arc<Service>>, visitor: Visitor, Path(id): Path<String>) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return service_error(visitor.t(), visitor.chrome(), ServiceError::NotFound("no such run".into()));
    };
    match service.payout_csv(&caller, id).await {
        Ok(body) => {
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"payout-run-{id}.csv\""))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => service_error(visitor.t(), visitor.chrome(), e),
    }
}
