//! `/console/reviews`: registrations in manual review, oldest first, each
//! approved (with protection days) or rejected (with a reason).

use super::{bounded, caller, posting, redirect};
use crate::messages::Messages;
use crate::{Form, UserChrome, Visitor, date, html, money, service_error};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pactum_app::runtime::types::ParamValue;
use pactum_app::service::{Caller, Service, ServiceError, now};
use pactum_app::workflows::Review;
use serde::Deserialize;
use std::sync::Arc;

/// The longest reason taken.
const MAX_REASON: usize = 1_000;

/// A registration waiting, with its forms.
struct Waiting {
    id: String,
    partner: String,
    account: String,
    amount: String,
    date: String,
    reason: String,
    days: String,
    days_error: Option<String>,
    reject_reason: String,
    reason_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/reviews.html")]
struct ReviewsPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    days_hint: String,
    notice: Option<String>,
    alert: Option<String>,
    queue: Vec<Waiting>,
}

/// What was sent for one registration, to show back with its error.
#[derive(Default)]
struct Sent {
    id: String,
    days: String,
    days_error: Option<String>,
    reason: String,
    reason_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Done {
    approved: String,
    rejected: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ReviewFields {
    csrf: String,
    days: String,
    reason: String,
}

/// The program's protection days (90 when it sets none).
fn program_days(service: &Service, caller: &Caller) -> i64 {
    service
        .tenant(&caller.tenant)
        .ok()
        .and_then(|t| {
            t.program.params.iter().find(|p| p.name == "protection-days").and_then(|p| match p.value {
                ParamValue::Integer(d) => Some(d),
                _ => None,
            })
        })
        .unwrap_or(90)
}

async fn render(
    service: &Service,
    visitor: &Visitor,
    caller: &Caller,
    status: StatusCode,
    notice: Option<String>,
    alert: Option<String>,
    sent: Sent,
) -> Response {
    let t = visitor.t();
    let rows = match service.review_queue(caller, 200).await {
        Ok(rows) => rows,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let mut sent = Some(sent);
    let queue = rows
        .into_iter()
        .map(|r| {
            let mine = sent.take_if(|s| s.id == r.id).unwrap_or_default();
            Waiting {
                amount: money(t, r.amount, &r.currency),
                date: date(r.created_at),
                partner: r.partner_id,
                account: r.account_domain,
                reason: r.reason,
                days: mine.days,
                days_error: mine.days_error,
                reject_reason: mine.reason,
                reason_error: mine.reason_error,
                id: r.id,
            }
        })
        .collect();
    let page = ReviewsPage {
        t,
        user: visitor.chrome(),
        csrf: visitor.chrome().map(|u| u.csrf).unwrap_or_default(),
        days_hint: t.console.protection_days_hint.replace("{days}", &program_days(service, caller).to_string()),
        notice,
        alert,
        queue,
    };
    html(status, &page)
}

pub(super) async fn queue(State(service): State<Arc<Service>>, visitor: Visitor, Query(done): Query<Done>) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let notice = if !done.approved.is_empty() {
        Some(c.approved_done.replace("{id}", &bounded(&done.approved, 64)))
    } else if !done.rejected.is_empty() {
        Some(c.rejected_done.replace("{id}", &bounded(&done.rejected, 64)))
    } else {
        None
    };
    render(&service, &visitor, &caller, StatusCode::OK, notice, None, Sent::default()).await
}

/// The page after a review the application refused.
async fn refused(
    service: &Service,
    visitor: &Visitor,
    caller: &Caller,
    id: &str,
    e: ServiceError,
    sent: Sent,
    approving: bool,
) -> Response {
    let c = visitor.t().console;
    match e {
        ServiceError::Conflict(_) => {
            let alert = c.review_conflict.replace("{id}", id);
            render(service, visitor, caller, StatusCode::CONFLICT, None, Some(alert), Sent::default()).await
        }
        ServiceError::BadInput(why) => {
            let error = Some(format!("{} {why}", c.refused));
            // Next to the field of the form that was sent.
            let sent =
                if approving { Sent { days_error: error, ..sent } } else { Sent { reason_error: error, ..sent } };
            render(service, visitor, caller, StatusCode::UNPROCESSABLE_ENTITY, None, None, sent).await
        }
        e => service_error(visitor.t(), visitor.chrome(), e),
    }
}

pub(super) async fn approve(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ReviewFields>,
) -> Response {
    let caller = match posting(&visitor, &form.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let days = form.days.trim();
    let protection_days = if days.is_empty() {
        None
    } else {
        match days.parse::<u32>() {
            Ok(d) if (1..=3_650).contains(&d) => Some(d),
            _ => {
                let sent =
                    Sent { id, days: bounded(days, 10), days_error: Some(c.days_invalid.into()), ..Sent::default() };
                return render(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, None, None, sent).await;
            }
        }
    };
    match service.review_registration(&caller, &id, Review::Approve { protection_days, reason: None }, now()).await {
        Ok(row) => redirect(format!("/console/reviews?approved={}", row.id)),
        Err(e) => {
            let sent = Sent { id: id.clone(), days: bounded(days, 10), ..Sent::default() };
            refused(&service, &visitor, &caller, &id, e, sent, true).await
        }
    }
}

pub(super) async fn reject(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ReviewFields>,
) -> Response {
    let caller = match posting(&visitor, &form.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let reason = form.reason.trim();
    let error = if reason.is_empty() {
        Some(c.reason_required)
    } else if reason.chars().count() > MAX_REASON {
        Some(c.reason_too_long)
    } else {
        None
    };
    let sent = Sent { id: id.clone(), reason: bounded(reason, MAX_REASON), ..Sent::default() };
    if let Some(error) = error {
        let sent = Sent { reason_error: Some(error.into()), ..sent };
        return render(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, None, None, sent).await;
    }
    match service.review_registration(&caller, &id, Review::Reject { reason: reason.to_string() }, now()).await {
        Ok(row) => redirect(format!("/console/reviews?rejected={}", row.id)),
        Err(e) => refused(&service, &visitor, &caller, &id, e, sent, false).await,
    }
}
