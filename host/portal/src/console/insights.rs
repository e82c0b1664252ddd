//! `/console/leads` (each lead with its routing: where it went, why, who
//! was offered it before) and `/console/metrics` (the program metrics of
//! the last 12 months beside the seed's good and great benchmarks, as a
//! table and an inline SVG chart).

use super::caller;
use crate::messages::Messages;
use crate::{UserChrome, Visitor, date, html, service_error};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pactum_app::auth::Capability;
use pactum_app::service::{Service, now};
use std::sync::Arc;

/// Leads listed.
const LISTED: i64 = 200;

struct LeadLine {
    id: String,
    account: String,
    source: String,
    destination: String,
    reason: String,
    tried: String,
    status: String,
    decision_id: i64,
    created: String,
}

#[derive(Template)]
#[template(path = "console/leads.html")]
struct LeadsPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    leads: Vec<LeadLine>,
}

struct MetricLine {
    key: &'static str,
    name: &'static str,
    value: String,
    good: String,
    great: String,
    rating_key: &'static str,
    rating: &'static str,
    y: usize,
    value_w: i64,
    good_x: i64,
    great_x: i64,
}

#[derive(Template)]
#[template(path = "console/metrics.html")]
struct MetricsPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    period: String,
    metrics: Vec<MetricLine>,
    chart_height: usize,
}

pub(super) async fn leads(State(service): State<Arc<Service>>, visitor: Visitor) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = visitor.t();
    // Every lead, not a partner's own: staff's (the capability to route them).
    let found = match caller.require(Capability::ManageDeals) {
        Ok(()) => service.leads(&caller, None, LISTED).await,
        Err(e) => Err(e),
    };
    let rows = match found {
        Ok(rows) => rows,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let leads = rows
        .into_iter()
        .map(|l| LeadLine {
            destination: l.partner_id.clone().unwrap_or(l.destination),
            tried: l.tried.join(", "),
            status: l.status.to_string(),
            created: date(l.created_at),
            decision_id: l.decision_id,
            id: l.id,
            account: l.account_domain,
            source: l.source,
            reason: l.reason,
        })
        .collect();
    html(StatusCode::OK, &LeadsPage { t, user: visitor.chrome(), leads })
}

/// A value in its unit: a percentage of basis points, or days.
fn shown(t: &Messages, unit: &str, value: i64) -> String {
    if unit == "days" {
        t.console.days_value.replace("{n}", &value.to_string())
    } else {
        let (whole, frac) = (value / 100, (value % 100).abs());
        let (decimal, _) = t.separators;
        format!("{whole}{decimal}{frac:02} %")
    }
}

pub(super) async fn metrics(State(service): State<Arc<Service>>, visitor: Visitor) -> Response {
    let caller = match caller(&visitor) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = visitor.t();
    let c = t.console;
    let to = now();
    let from = to - 365 * 86_400;
    let report = match service.program_metrics(&caller, from, to).await {
        Ok(r) => r,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let metrics = report
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            // Percentages on 0-100 %, days on 0 to a year (or the value).
            let scale = if m.unit == "days" { m.value.unwrap_or(0).max(365) } else { 10_000 };
            let x = |v: i64| (i128::from(v.clamp(0, scale)) * 400 / i128::from(scale.max(1))) as i64;
            MetricLine {
                key: m.metric,
                name: match m.metric {
                    "partner-revenue" => c.metric_partner_revenue,
                    "active-partners" => c.metric_active_partners,
                    "partner-win-rate" => c.metric_partner_win_rate,
                    "time-to-first-deal" => c.metric_time_to_first_deal,
                    "partner-retention" => c.metric_partner_retention,
                    other => other,
                },
                value: m.value.map_or_else(|| c.rating_no_data.to_string(), |v| shown(t, m.unit, v)),
                good: shown(t, m.unit, m.good),
                great: shown(t, m.unit, m.great),
                rating_key: m.rating,
                rating: match m.rating {
                    "great" => c.rating_great,
                    "good" => c.rating_good,
                    "below" => c.rating_below,
                    _ => c.rating_no_data,
                },
                y: 10 + i * 50,
                value_w: m.value.map_or(0, x),
                good_x: 180 + x(m.good),
                great_x: 180 + x(m.great),
            }
        })
        .collect::<Vec<_>>();
    let page = MetricsPage {
        t,
        user: visitor.chrome(),
        period: c.metrics_period.replace("{from}", &date(from)).replace("{to}", &date(to)),
        chart_height: 20 + metrics.len() * 50,
        metrics,
    };
    html(StatusCode::OK, &page)
}
