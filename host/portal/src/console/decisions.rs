//! `/console/decisions`: the decision log, filterable by hook; a
//! decision's explanation, input and plugin; its replay.

use super::{caller, posting, short};
use crate::messages::Messages;
use crate::{Form, UserChrome, Visitor, date, html, service_error};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pactum_app::auth::Capability;
use pactum_app::runtime::HookKind;
use pactum_app::service::{Caller, Service, ServiceError};
use pactum_app::store::DecisionRow;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// How many decisions the log shows.
const LISTED: i64 = 200;

struct DecisionLine {
    id: i64,
    hook: String,
    subject: String,
    outcome: String,
    plugin: String,
    when: String,
    explanation: String,
}

#[derive(Template)]
#[template(path = "console/decisions.html")]
struct DecisionsPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    hooks: Vec<(&'static str, bool)>,
    decisions: Vec<DecisionLine>,
}

/// A replay's answer on the decision's page.
struct Replayed {
    same: bool,
    text: String,
    replayed: String,
}

#[derive(Template)]
#[template(path = "console/decision.html")]
struct DecisionPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    title: String,
    d: DecisionRow,
    when: String,
    explanation: String,
    input: String,
    decision: String,
    replay: Option<Replayed>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Filter {
    hook: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Fields {
    csrf: String,
}

/// The human-readable explanation a decision carries: its `reason` or
/// `explanation`, or its lines' explanations.
fn explanation(decision: &Value) -> String {
    for key in ["reason", "explanation"] {
        if let Some(text) = decision[key].as_str() {
            return text.to_string();
        }
    }
    if let Some(lines) = decision["lines"].as_array() {
        let texts: Vec<&str> = lines
            .iter()
            .filter_map(|l| l["explanation"].as_str().or(l["description"].as_str()).or(l["reason"].as_str()))
            .collect();
        if !texts.is_empty() {
            return texts.join(" ");
        }
    }
    decision.to_string().chars().take(300).collect()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

pub(super) async fn list(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Query(filter): Query<Filter>,
) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = visitor.t();
    let hook = HookKind::parse(&filter.hook);
    let rows = match caller.require(Capability::ReadDecisions) {
        Ok(()) => service.decisions(&caller.tenant, hook, LISTED).await,
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let decisions = rows
        .into_iter()
        .map(|d| DecisionLine {
            id: d.id,
            explanation: explanation(&d.decision),
            plugin: d.actor.clone().unwrap_or_else(|| short(&d.plugin)),
            when: date(d.event_time),
            subject: d.subject.unwrap_or_default(),
            outcome: d.outcome,
            hook: d.hook,
        })
        .collect();
    let hooks = HookKind::ALL.iter().map(|h| (h.interface(), Some(*h) == hook)).collect();
    html(StatusCode::OK, &DecisionsPage { t, user: visitor.chrome(), hooks, decisions })
}

async fn render(service: &Service, visitor: &Visitor, caller: &Caller, id: &str, replay: Option<Replayed>) -> Response {
    let t = visitor.t();
    let Ok(id) = id.parse::<i64>() else {
        return service_error(t, visitor.chrome(), ServiceError::NotFound("no such decision".into()));
    };
    let row = match caller.require(Capability::ReadDecisions) {
        Ok(()) => service.decision(&caller.tenant, id).await,
        Err(e) => Err(e),
    };
    let d = match row {
        Ok(d) => d,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let page = DecisionPage {
        t,
        user: visitor.chrome(),
        csrf: visitor.chrome().map(|u| u.csrf).unwrap_or_default(),
        title: t.console.decision_title.replace("{id}", &d.id.to_string()),
        when: date(d.event_time),
        explanation: explanation(&d.decision),
        input: pretty(&d.record["input"]),
        decision: pretty(&d.decision),
        replay,
        d,
    };
    html(StatusCode::OK, &page)
}

pub(super) async fn page(State(service): State<Arc<Service>>, visitor: Visitor, Path(id): Path<String>) -> Response {
    match caller(&visitor) {
        Ok(caller) => render(&service, &visitor, &caller, &id, None).await,
        Err(r) => r,
    }
}

pub(super) async fn replay(
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
    let Ok(number) = id.parse::<i64>() else {
        return service_error(visitor.t(), visitor.chrome(), ServiceError::NotFound("no such decision".into()));
    };
    let replayed = match service.replay(Some(&caller), number).await {
        Ok(r) => Replayed {
            same: r.same,
            text: if r.same { c.replay_same } else { c.replay_different }.to_string(),
            replayed: pretty(&r.replayed),
        },
        // A person's decision: nothing to replay.
        Err(ServiceError::Conflict(_)) => {
            Replayed { same: false, text: c.replay_manual.into(), replayed: String::new() }
        }
        Err(e) => return service_error(visitor.t(), visitor.chrome(), e),
    };
    render(&service, &visitor, &caller, &id, Some(replayed)).await
}
