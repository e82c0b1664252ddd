//! `/console/partners`: the partners, a new one, and a partner's page (its
//! details, certifications, lifecycle step and manual tier).

use super::{bounded, caller, parse_date, posting, redirect};
use crate::messages::Messages;
use crate::{Form, UserChrome, Visitor, date, html, service_error};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pactum_app::auth::Capability;
use pactum_app::service::{Caller, Service, ServiceError, now};
use pactum_app::store::{PartnerRow, PartnerStep};
use pactum_app::workflows::NewPartner;
use pactum_app::workflows::partners::{Certify, PartnerUpdate, TierOverride};
use serde::Deserialize;
use std::sync::Arc;

/// The partner kinds, as the application names them.
const KINDS: [&str; 5] = ["referral", "reseller", "implementation", "technology", "strategic"];
/// The tiers, lowest first.
const TIERS: [&str; 4] = ["registered", "silver", "gold", "platinum"];
/// The longest text field taken (longer ones are the application's to refuse).
const MAX_FIELD: usize = 1_000;

struct PartnerLine {
    id: String,
    name: String,
    kind: String,
    tier: String,
    status: String,
}

/// The new-partner form as sent, with its errors.
#[derive(Default)]
struct NewForm {
    id: String,
    name: String,
    kind: String,
    territories: String,
    manager: String,
    contact_email: String,
    id_error: Option<String>,
    name_error: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/partners.html")]
struct PartnersPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    partners: Vec<PartnerLine>,
    kinds: Vec<(&'static str, bool)>,
    form: NewForm,
}

struct CertLine {
    name: String,
    expires: String,
}

/// Errors and the notice on a partner's page.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    edit_error: Option<String>,
    certify_error: Option<String>,
    step_error: Option<String>,
    tier_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/partner.html")]
struct PartnerPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    p: PartnerRow,
    tier: String,
    status: String,
    joined: String,
    territories: String,
    manager: String,
    contact: String,
    certs: Vec<CertLine>,
    tiers: Vec<(&'static str, String)>,
    out: Outcome,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Fields {
    csrf: String,
    id: String,
    name: String,
    kind: String,
    territories: String,
    manager: String,
    contact_email: String,
    certification: String,
    expires: String,
    step: String,
    tier: String,
    reason: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Notice {
    saved: String,
}

fn csrf_of(visitor: &Visitor) -> String {
    visitor.chrome().map(|u| u.csrf).unwrap_or_default()
}

/// Comma-separated territories, trimmed, empties dropped.
fn territories(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| bounded(t, MAX_FIELD)).take(101).collect()
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| bounded(text, MAX_FIELD))
}

async fn render_list(
    service: &Service,
    visitor: &Visitor,
    caller: &Caller,
    status: StatusCode,
    form: NewForm,
) -> Response {
    let t = visitor.t();
    let rows = match service.partners(caller).await {
        Ok(rows) => rows,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let partners = rows
        .into_iter()
        .map(|p| PartnerLine {
            tier: t.tier(&p.tier),
            status: p.status.to_string(),
            id: p.id,
            name: p.name,
            kind: p.kind,
        })
        .collect();
    let kinds = KINDS.iter().map(|k| (*k, *k == form.kind)).collect();
    html(status, &PartnersPage { t, user: visitor.chrome(), csrf: csrf_of(visitor), partners, kinds, form })
}

pub(super) async fn list(State(service): State<Arc<Service>>, visitor: Visitor) -> Response {
    match caller(&visitor) {
        Ok(caller) => render_list(&service, &visitor, &caller, StatusCode::OK, NewForm::default()).await,
        Err(r) => r,
    }
}

pub(super) async fn create(State(service): State<Arc<Service>>, visitor: Visitor, Form(f): Form<Fields>) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let mut form = NewForm {
        id: bounded(f.id.trim(), 64),
        name: bounded(f.name.trim(), MAX_FIELD),
        kind: bounded(&f.kind, 32),
        territories: bounded(&f.territories, 4 * MAX_FIELD),
        manager: bounded(f.manager.trim(), MAX_FIELD),
        contact_email: bounded(f.contact_email.trim(), 254),
        ..NewForm::default()
    };
    if form.id.is_empty() {
        form.id_error = Some(c.required.into());
    }
    if form.name.is_empty() {
        form.name_error = Some(c.required.into());
    }
    if form.id_error.is_some() || form.name_error.is_some() {
        return render_list(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, form).await;
    }
    let kind = if KINDS.contains(&form.kind.as_str()) { form.kind.clone() } else { "referral".into() };
    let new = serde_json::json!({
        "id": form.id, "name": form.name, "kind": kind, "territories": territories(&form.territories),
        "manager": optional(&form.manager), "contact_email": optional(&form.contact_email),
    });
    let new: NewPartner = match serde_json::from_value(new) {
        Ok(new) => new,
        Err(e) => {
            form.error = Some(format!("{} {e}", c.refused));
            return render_list(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, form).await;
        }
    };
    match service.create_partner(&caller, new, now()).await {
        Ok(row) => redirect(format!("/console/partners/{}", row.id)),
        Err(ServiceError::Conflict(_)) => {
            form.id_error = Some(c.partner_exists.into());
            render_list(&service, &visitor, &caller, StatusCode::CONFLICT, form).await
        }
        Err(ServiceError::BadInput(why)) => {
            form.error = Some(format!("{} {why}", c.refused));
            render_list(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, form).await
        }
        Err(e) => service_error(visitor.t(), visitor.chrome(), e),
    }
}

async fn render_partner(
    service: &Service,
    visitor: &Visitor,
    caller: &Caller,
    id: &str,
    status: StatusCode,
    out: Outcome,
) -> Response {
    let t = visitor.t();
    // The list first: it is what needs a staff capability (a partner
    // user may read its own partner, not manage it).
    if let Err(e) = caller.require(Capability::ManagePartners) {
        return service_error(t, visitor.chrome(), e);
    }
    let p = match service.partner(caller, id).await {
        Ok(p) => p,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let certs = p
        .certifications
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| CertLine {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    expires: c["expires_at"].as_i64().map_or_else(|| t.console.never.to_string(), date),
                })
                .collect()
        })
        .unwrap_or_default();
    let page = PartnerPage {
        t,
        user: visitor.chrome(),
        csrf: csrf_of(visitor),
        tier: t.tier(&p.tier),
        status: t.console.status(&p.status.to_string()),
        joined: date(p.joined_at),
        territories: p.territories.join(", "),
        manager: p.manager.clone().unwrap_or_default(),
        contact: p.contact_email.clone().unwrap_or_default(),
        certs,
        tiers: TIERS.iter().map(|k| (*k, t.tier(k))).collect(),
        p,
        out,
    };
    html(status, &page)
}

pub(super) async fn page(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let out = Outcome {
        notice: (!notice.saved.is_empty()).then(|| visitor.t().console.saved.to_string()),
        ..Outcome::default()
    };
    render_partner(&service, &visitor, &caller, &id, StatusCode::OK, out).await
}

/// The partner's page after a change: back to it, or with the error where
/// `place` puts it.
async fn after(
    service: &Service,
    visitor: &Visitor,
    caller: &Caller,
    id: &str,
    done: Result<(), ServiceError>,
    place: fn(&mut Outcome) -> &mut Option<String>,
) -> Response {
    let c = visitor.t().console;
    let (status, text) = match done {
        Ok(()) => return redirect(format!("/console/partners/{id}?saved=1")),
        Err(ServiceError::BadInput(why)) => (StatusCode::UNPROCESSABLE_ENTITY, format!("{} {why}", c.refused)),
        Err(ServiceError::Conflict(why)) => (StatusCode::CONFLICT, format!("{} {why}", c.step_conflict)),
        Err(e) => return service_error(visitor.t(), visitor.chrome(), e),
    };
    let mut out = Outcome::default();
    *place(&mut out) = Some(text);
    render_partner(service, visitor, caller, id, status, out).await
}

/// A user error found before calling the application.
async fn invalid(
    service: &Service,
    visitor: &Visitor,
    caller: &Caller,
    id: &str,
    text: &str,
    place: fn(&mut Outcome) -> &mut Option<String>,
) -> Response {
    let mut out = Outcome::default();
    *place(&mut out) = Some(text.to_string());
    render_partner(service, visitor, caller, id, StatusCode::UNPROCESSABLE_ENTITY, out).await
}

pub(super) async fn edit(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let place: fn(&mut Outcome) -> &mut Option<String> = |o| &mut o.edit_error;
    if f.name.trim().is_empty() {
        return invalid(&service, &visitor, &caller, &id, visitor.t().console.required, place).await;
    }
    let update = PartnerUpdate {
        name: Some(bounded(f.name.trim(), MAX_FIELD)),
        territories: Some(territories(&bounded(&f.territories, 4 * MAX_FIELD))),
        manager: Some(optional(&f.manager)),
        contact_email: Some(optional(&f.contact_email)),
    };
    let done = service.update_partner(&caller, &id, update).await.map(drop);
    after(&service, &visitor, &caller, &id, done, place).await
}

pub(super) async fn certify(
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
    let place: fn(&mut Outcome) -> &mut Option<String> = |o| &mut o.certify_error;
    let name = bounded(f.certification.trim(), MAX_FIELD);
    if name.is_empty() {
        return invalid(&service, &visitor, &caller, &id, c.required, place).await;
    }
    let expires_at = match f.expires.trim() {
        "" => None,
        text => match parse_date(text) {
            Some(at) => Some(at),
            None => return invalid(&service, &visitor, &caller, &id, c.date_invalid, place).await,
        },
    };
    let done = service.certify_partner(&caller, &id, &name, Certify { expires_at }).await.map(drop);
    after(&service, &visitor, &caller, &id, done, place).await
}

/// A reason: required, at most [`MAX_FIELD`] characters.
fn reason_problem(t: &Messages, reason: &str) -> Option<&'static str> {
    if reason.trim().is_empty() {
        Some(t.console.reason_required)
    } else if reason.chars().count() > MAX_FIELD {
        Some(t.console.reason_too_long)
    } else {
        None
    }
}

pub(super) async fn step(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let place: fn(&mut Outcome) -> &mut Option<String> = |o| &mut o.step_error;
    if let Some(problem) = reason_problem(visitor.t(), &f.reason) {
        return invalid(&service, &visitor, &caller, &id, problem, place).await;
    }
    let step = match f.step.as_str() {
        "suspend" => PartnerStep::Suspend,
        "reactivate" => PartnerStep::Reactivate,
        "offboard" => PartnerStep::Offboard,
        _ => return invalid(&service, &visitor, &caller, &id, visitor.t().console.required, place).await,
    };
    let done = service.partner_step(&caller, &id, step, f.reason.trim()).await.map(drop);
    after(&service, &visitor, &caller, &id, done, place).await
}

pub(super) async fn tier(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let place: fn(&mut Outcome) -> &mut Option<String> = |o| &mut o.tier_error;
    if let Some(problem) = reason_problem(visitor.t(), &f.reason) {
        return invalid(&service, &visitor, &caller, &id, problem, place).await;
    }
    let request = serde_json::json!({ "tier": f.tier, "reason": f.reason.trim() });
    let request: TierOverride = match serde_json::from_value(request) {
        Ok(r) if TIERS.contains(&f.tier.as_str()) => r,
        _ => return invalid(&service, &visitor, &caller, &id, visitor.t().console.required, place).await,
    };
    let done = match service.override_tier(&caller, &id, request, now()).await {
        Err(ServiceError::Conflict(_)) => {
            return invalid(&service, &visitor, &caller, &id, visitor.t().console.tier_same, place).await;
        }
        done => done.map(drop),
    };
    after(&service, &visitor, &caller, &id, done, place).await
}
