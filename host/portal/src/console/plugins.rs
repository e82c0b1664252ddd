//! `/console/plugins`: per hook, the live plugin, its shadow and the
//! published ones; upload (multipart), backtest, shadow, activate (four
//! eyes where the company asks for it), approve, roll back.

use super::{bounded, caller, parse_date, posting, redirect, short};
use crate::messages::Messages;
use crate::{Form, UserChrome, Visitor, date, html, money, service_error};
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use pactum_app::auth::Capability;
use pactum_app::runtime::HookKind;
use pactum_app::service::{Caller, Service, ServiceError, now};
use pactum_app::workflows::lifecycle::{Activation, FixturePolicy};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

/// Room for the multipart framing and the small fields beside the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// Partners drawn in a backtest's chart (the table lists them all).
const CHARTED: usize = 40;

/// Where a refusal is shown.
#[derive(Default)]
enum Place {
    #[default]
    Top,
    Upload,
    Activate(String, String),
    Backtest(String, String),
    Rollback(String),
}

struct PublishedLine {
    hash: String,
    short: String,
    name: String,
    version: String,
    published: String,
    fixtures: String,
    live: bool,
    activate_error: Option<String>,
    backtest_error: Option<String>,
}

struct HookSection {
    hook: &'static str,
    heading: String,
    live: Option<String>,
    shadow: Option<String>,
    published: Vec<PublishedLine>,
    rollback_error: Option<String>,
}

struct PendingLine {
    id: i64,
    hook: String,
    plugin: String,
    reason: String,
    requested_by: String,
}

#[derive(Template)]
#[template(path = "console/plugins.html")]
struct PluginsPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    notice: Option<String>,
    alert: Option<String>,
    pending: Vec<PendingLine>,
    hooks: Vec<HookSection>,
    hook_names: Vec<&'static str>,
    upload_error: Option<String>,
    upload_name: String,
    upload_version: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "console/published.html")]
struct PublishedPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    hash: String,
    name: String,
    version: String,
    hooks: String,
    fixtures: String,
    cold_start: String,
    first_call: Option<String>,
    took: String,
}

struct PartnerBar {
    partner: String,
    recorded: String,
    candidate: String,
    difference: String,
    y: usize,
    recorded_w: i64,
    candidate_w: i64,
}

#[derive(Template)]
#[template(path = "console/backtest.html")]
struct BacktestPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    hook: String,
    candidate: String,
    period: String,
    summary: String,
    took: String,
    rows: Vec<PartnerBar>,
    chart_height: usize,
    transitions: Vec<(String, String, usize)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Notice {
    activated: String,
    pending: String,
    rolled_back: String,
    shadow: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Fields {
    csrf: String,
    hook: String,
    plugin: String,
    reason: String,
    from: String,
    to: String,
    #[serde(rename = "override")]
    override_fixtures: String,
}

/// What the page shows beside the state.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    error: Option<(Place, String)>,
    upload_name: String,
    upload_version: String,
}

async fn render(service: &Service, visitor: &Visitor, caller: &Caller, status: StatusCode, shown: Shown) -> Response {
    let t = visitor.t();
    let c = t.console;
    let (publications, requests) = match service.publications(caller).await {
        Ok(p) => match service.activation_requests(caller).await {
            Ok(r) => (p, r),
            Err(e) => return service_error(t, visitor.chrome(), e),
        },
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let (mut alert, mut upload_error) = (None, None);
    let mut placed: Option<(Place, String)> = None;
    match shown.error {
        Some((Place::Top, text)) => alert = Some(text),
        Some((Place::Upload, text)) => upload_error = Some(text),
        other => placed = other,
    }
    let mut hooks = Vec::new();
    for hook in HookKind::ALL {
        let name = hook.interface();
        let live = service.plugin_for(&caller.tenant, hook).map(|h| h.to_hex());
        let shadow = match service.shadow_report(caller, hook).await {
            Ok(r) => r.plugin.map(|p| {
                c.shadow_status
                    .replace("{plugin}", &short(&p))
                    .replace("{agreed}", &r.agreed.to_string())
                    .replace("{runs}", &r.runs.to_string())
                    .replace("{pct}", &format!("{}.{:02}", r.agreement_bps / 100, r.agreement_bps % 100))
            }),
            Err(e) => return service_error(t, visitor.chrome(), e),
        };
        let published = publications
            .iter()
            .filter(|p| p.hooks.iter().any(|h| h == name))
            .map(|p| {
                let error_for = |place: &Place| match (&placed, place) {
                    (Some((Place::Activate(h, k), text)), Place::Activate(..))
                    | (Some((Place::Backtest(h, k), text)), Place::Backtest(..))
                        if *h == p.hash && k == name =>
                    {
                        Some(text.clone())
                    }
                    _ => None,
                };
                PublishedLine {
                    activate_error: error_for(&Place::Activate(String::new(), String::new())),
                    backtest_error: error_for(&Place::Backtest(String::new(), String::new())),
                    live: live.as_deref() == Some(p.hash.as_str()),
                    hash: p.hash.clone(),
                    short: short(&p.hash),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    published: date(p.published_at),
                    fixtures: p.fixtures.clone(),
                }
            })
            .collect();
        let rollback_error = match &placed {
            Some((Place::Rollback(k), text)) if k == name => Some(text.clone()),
            _ => None,
        };
        hooks.push(HookSection {
            hook: name,
            heading: c.hook_heading.replace("{hook}", name),
            live,
            shadow,
            published,
            rollback_error,
        });
    }
    let pending = requests
        .into_iter()
        .filter(|r| r.status == "pending")
        .map(|r| PendingLine {
            id: r.id,
            hook: r.hook,
            plugin: short(&r.plugin_hash),
            reason: r.reason,
            requested_by: r.requested_by,
        })
        .collect();
    let at = now();
    let page = PluginsPage {
        t,
        user: visitor.chrome(),
        csrf: visitor.chrome().map(|u| u.csrf).unwrap_or_default(),
        notice: shown.notice,
        alert,
        pending,
        hooks,
        hook_names: HookKind::ALL.iter().map(|h| h.interface()).collect(),
        upload_error,
        upload_name: shown.upload_name,
        upload_version: shown.upload_version,
        from: date(at - 90 * 86_400),
        to: date(at + 86_400),
    };
    html(status, &page)
}

pub(super) async fn page(State(service): State<Arc<Service>>, visitor: Visitor, Query(n): Query<Notice>) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let hook_of = |s: &str| HookKind::parse(s).map(|h| h.interface());
    let notice = if let Some(h) = hook_of(&n.activated) {
        Some(c.activated.replace("{hook}", h))
    } else if hook_of(&n.pending).is_some() {
        Some(c.waiting_second_admin.to_string())
    } else if let Some(h) = hook_of(&n.rolled_back) {
        Some(c.rolled_back.replace("{hook}", h))
    } else {
        hook_of(&n.shadow).map(|_| c.shadow.to_string())
    };
    render(&service, &visitor, &caller, StatusCode::OK, Shown { notice, ..Shown::default() }).await
}

/// The page with a refusal at `place`.
async fn refused(service: &Service, visitor: &Visitor, caller: &Caller, place: Place, e: ServiceError) -> Response {
    let c = visitor.t().console;
    let (status, text) = match e {
        ServiceError::FixturesFailed(_) => (StatusCode::UNPROCESSABLE_ENTITY, format!("{} {e}", c.fixtures_failed)),
        ServiceError::BadInput(_) | ServiceError::Plugin { .. } | ServiceError::Program(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, format!("{} {e}", c.refused))
        }
        ServiceError::Conflict(_) => (StatusCode::CONFLICT, format!("{} {e}", c.refused)),
        e => return service_error(visitor.t(), visitor.chrome(), e),
    };
    render(service, visitor, caller, status, Shown { error: Some((place, text)), ..Shown::default() }).await
}

async fn invalid(service: &Service, visitor: &Visitor, caller: &Caller, place: Place, text: &str) -> Response {
    let shown = Shown { error: Some((place, text.to_string())), ..Shown::default() };
    render(service, visitor, caller, StatusCode::UNPROCESSABLE_ENTITY, shown).await
}

fn fixtures(f: &Fields) -> FixturePolicy {
    if f.override_fixtures.is_empty() { FixturePolicy::Enforce } else { FixturePolicy::Override }
}

/// A hook the form names, or the page saying it is missing.
fn hook(f: &Fields) -> Option<HookKind> {
    HookKind::parse(&f.hook)
}

pub(super) async fn activate(State(service): State<Arc<Service>>, visitor: Visitor, Form(f): Form<Fields>) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let Some(hook) = hook(&f) else { return invalid(&service, &visitor, &caller, Place::Top, c.required).await };
    let place = Place::Activate(f.plugin.clone(), hook.interface().to_string());
    let reason = f.reason.trim();
    if reason.is_empty() {
        return invalid(&service, &visitor, &caller, place, c.reason_required).await;
    }
    if reason.chars().count() > 1_000 {
        return invalid(&service, &visitor, &caller, place, c.reason_too_long).await;
    }
    match service.activate(&caller, hook, &f.plugin, reason, fixtures(&f)).await {
        Ok(Activation::Live(_)) => redirect(format!("/console/plugins?activated={}", hook.interface())),
        Ok(Activation::Pending(_)) => redirect(format!("/console/plugins?pending={}", hook.interface())),
        Err(e) => refused(&service, &visitor, &caller, place, e).await,
    }
}

pub(super) async fn approve(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return service_error(visitor.t(), visitor.chrome(), ServiceError::NotFound("no such request".into()));
    };
    match service.approve_activation(&caller, id).await {
        Ok(change) => redirect(format!("/console/plugins?activated={}", bounded(&change.hook, 32))),
        Err(e) => refused(&service, &visitor, &caller, Place::Top, e).await,
    }
}

pub(super) async fn rollback(State(service): State<Arc<Service>>, visitor: Visitor, Form(f): Form<Fields>) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let Some(hook) = hook(&f) else { return invalid(&service, &visitor, &caller, Place::Top, c.required).await };
    let place = Place::Rollback(hook.interface().to_string());
    let reason = f.reason.trim();
    if reason.is_empty() {
        return invalid(&service, &visitor, &caller, place, c.reason_required).await;
    }
    if reason.chars().count() > 1_000 {
        return invalid(&service, &visitor, &caller, place, c.reason_too_long).await;
    }
    match service.rollback(&caller, hook, reason).await {
        Ok(_) => redirect(format!("/console/plugins?rolled_back={}", hook.interface())),
        Err(e) => refused(&service, &visitor, &caller, place, e).await,
    }
}

pub(super) async fn shadow(State(service): State<Arc<Service>>, visitor: Visitor, Form(f): Form<Fields>) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    let Some(hook) = hook(&f) else { return invalid(&service, &visitor, &caller, Place::Top, c.required).await };
    match service.start_shadow(&caller, hook, &f.plugin).await {
        Ok(_) => redirect(format!("/console/plugins?shadow={}", hook.interface())),
        Err(e) => {
            let place = Place::Activate(f.plugin.clone(), hook.interface().to_string());
            refused(&service, &visitor, &caller, place, e).await
        }
    }
}

pub(super) async fn backtest(State(service): State<Arc<Service>>, visitor: Visitor, Form(f): Form<Fields>) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = visitor.t();
    let c = t.console;
    let Some(hook) = hook(&f) else { return invalid(&service, &visitor, &caller, Place::Top, c.required).await };
    let place = Place::Backtest(f.plugin.clone(), hook.interface().to_string());
    let (Some(from), Some(to)) = (parse_date(&f.from), parse_date(&f.to)) else {
        return invalid(&service, &visitor, &caller, place, c.date_invalid).await;
    };
    if from >= to {
        return invalid(&service, &visitor, &caller, place, c.period_invalid).await;
    }
    let started = Instant::now();
    let report = match service.backtest_published(&caller, hook, from, to, &f.plugin).await {
        Ok(r) => r,
        Err(e) => return refused(&service, &visitor, &caller, place, e).await,
    };
    let took = started.elapsed().as_millis();
    let currency = service.tenant(&caller.tenant).map(|t| t.program.currency.clone()).unwrap_or_else(|_| "USD".into());
    let max = report.by_partner.iter().flat_map(|p| [p.recorded.abs(), p.candidate.abs()]).max().unwrap_or(0).max(1);
    let width = |v: i64| (i128::from(v.abs()) * 440 / i128::from(max)) as i64;
    let rows: Vec<PartnerBar> = report
        .by_partner
        .iter()
        .enumerate()
        .map(|(i, p)| PartnerBar {
            partner: p.partner_id.clone(),
            recorded: money(t, p.recorded, &currency),
            candidate: money(t, p.candidate, &currency),
            difference: money(t, p.candidate - p.recorded, &currency),
            y: 10 + i.min(CHARTED) * 44,
            recorded_w: width(p.recorded),
            candidate_w: width(p.candidate),
        })
        .collect();
    let charted = rows.len().min(CHARTED);
    let page = BacktestPage {
        t,
        user: visitor.chrome(),
        hook: report.hook.clone(),
        candidate: report.candidate.clone(),
        period: format!("{} – {}", date(from), date(to)),
        summary: c
            .backtest_summary
            .replace("{decisions}", &report.decisions.to_string())
            .replace("{changed}", &report.changed.to_string()),
        took: c.took.replace("{ms}", &took.to_string()),
        rows,
        chart_height: 20 + charted * 44,
        transitions: report.transitions.into_iter().map(|tr| (tr.from, tr.to, tr.count)).collect(),
    };
    html(StatusCode::OK, &page)
}

/// One part of a `multipart/form-data` body: its field name and bytes.
struct Part<'a> {
    name: String,
    data: &'a [u8],
}

/// The parts of a `multipart/form-data` body with `boundary`; `None` when
/// it is not one.
fn multipart<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("\r\n--{boundary}");
    let delimiter = delimiter.as_bytes();
    let find = |from: usize| -> Option<usize> {
        let mut i = from;
        while i + delimiter.len() <= body.len() {
            let next = body[i..].iter().position(|&b| b == b'\r')? + i;
            if body[next..].starts_with(delimiter) {
                return Some(next);
            }
            i = next + 1;
        }
        None
    };
    // The body starts with the delimiter without its CRLF.
    let first = &delimiter[2..];
    if !body.starts_with(first) {
        return None;
    }
    let mut parts = Vec::new();
    let mut at = first.len();
    loop {
        // After a delimiter: `--` ends the body, CRLF starts a part.
        if body[at..].starts_with(b"--") {
            return Some(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return None;
        }
        let start = at + 2;
        let headers_end = body[start..].windows(4).position(|w| w == b"\r\n\r\n")? + start;
        let headers = std::str::from_utf8(&body[start..headers_end]).ok()?;
        let name = headers
            .split("\r\n")
            .find(|h| h.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|h| h.split(';').map(str::trim).find_map(|p| p.strip_prefix("name=")))
            .map(|n| n.trim_matches('"').to_string())?;
        let data_start = headers_end + 4;
        let end = find(data_start)?;
        parts.push(Part { name, data: &body[data_start..end] });
        at = end + delimiter.len();
        if parts.len() > 16 {
            return None;
        }
    }
}

fn label_ok(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

pub(super) async fn upload(State(service): State<Arc<Service>>, visitor: Visitor, request: Request) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = visitor.t().console;
    // Only admins publish: refused before the body is read.
    if let Err(e) = caller.require(Capability::ChangeProgram) {
        return service_error(visitor.t(), visitor.chrome(), e);
    }
    let limit = service.runtime().config().max_component_bytes;
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
        .and_then(|v| v.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")))
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 70);
    let Some(boundary) = boundary else {
        return invalid(&service, &visitor, &caller, Place::Upload, c.file_required).await;
    };
    let body = match axum::body::to_bytes(request.into_body(), limit + MULTIPART_OVERHEAD).await {
        Ok(body) => body,
        Err(_) => {
            let text = c.file_too_large.replace("{limit}", &limit.to_string());
            let shown = Shown { error: Some((Place::Upload, text)), ..Shown::default() };
            return render(&service, &visitor, &caller, StatusCode::PAYLOAD_TOO_LARGE, shown).await;
        }
    };
    let Some(parts) = multipart(&body, &boundary) else {
        return invalid(&service, &visitor, &caller, Place::Upload, c.file_required).await;
    };
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.data[..p.data.len().min(1_024)]).trim().to_string())
            .unwrap_or_default()
    };
    if let Err(r) = posting(&visitor, &text("csrf")) {
        return r;
    }
    let (name, version, hook_name) = (text("name"), text("version"), text("hook"));
    let shown_back = |error: String| Shown {
        error: Some((Place::Upload, error)),
        upload_name: bounded(&name, 64),
        upload_version: bounded(&version, 64),
        ..Shown::default()
    };
    let wasm = parts.iter().find(|p| p.name == "file").map(|p| p.data).unwrap_or_default();
    let problem = if wasm.is_empty() {
        Some(c.file_required.to_string())
    } else if wasm.len() > limit {
        Some(c.file_too_large.replace("{limit}", &limit.to_string()))
    } else if !label_ok(&name) || !label_ok(&version) {
        Some(format!("{} / {}: {}", c.name, c.version, c.label_invalid))
    } else {
        None
    };
    if let Some(problem) = problem {
        return render(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, shown_back(problem)).await;
    }
    let hook = HookKind::parse(&hook_name);
    let policy = if text("override").is_empty() { FixturePolicy::Enforce } else { FixturePolicy::Override };
    let started = Instant::now();
    let published = service.publish_plugin(&caller, &name, &version, hook, policy, wasm.to_vec()).await;
    let took = started.elapsed().as_millis();
    let published = match published {
        Ok(p) => p,
        Err(e) => {
            let text = match &e {
                ServiceError::FixturesFailed(_) => format!("{} {e}", c.fixtures_failed),
                ServiceError::BadInput(_) | ServiceError::Plugin { .. } => format!("{} {e}", c.refused),
                _ => return service_error(visitor.t(), visitor.chrome(), e),
            };
            return render(&service, &visitor, &caller, StatusCode::UNPROCESSABLE_ENTITY, shown_back(text)).await;
        }
    };
    let cs = &published.cold_start;
    let source = serde_json::to_value(cs.source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let page = PublishedPage {
        t: visitor.t(),
        user: visitor.chrome(),
        hash: published.plugin.hash.clone(),
        name: published.plugin.name.clone(),
        version: published.plugin.version.clone(),
        hooks: published.plugin.hooks.join(", "),
        fixtures: published.plugin.fixtures.clone(),
        cold_start: c.cold_start.replace("{ms}", &cs.load_ms.to_string()).replace("{source}", &source),
        first_call: cs.first_call_us.map(|us| c.first_call.replace("{us}", &us.to_string())),
        took: c.took.replace("{ms}", &took.to_string()),
    };
    html(StatusCode::CREATED, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_split_into_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"file\"; filename=\"p.wasm\"\r\nContent-Type: application/wasm\r\n\r\n\
\0asm\r\n\r\x01\r\n--XyZ--\r\n";
        let parts = multipart(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].data), ("csrf", &b"abc"[..]));
        assert_eq!((parts[1].name.as_str(), parts[1].data), ("file", &b"\0asm\r\n\r\x01"[..]));
        assert!(multipart(b"garbage", "XyZ").is_none());
        assert!(multipart(b"--XyZ\r\nno headers end", "XyZ").is_none());
    }
}
