//! `/console/leads` (each lead with its routing: where it went, why, who
//! was offered it before) and `/console/metrics` (the program metrics of
//! the last 12 months beside the seed's good and great benchmarks, as a
//! table and an inline SVG chart).

use super::{bounded, caller, posting, redirect};
use crate::messages::Messages;
use crate::{Form, money};
use crate::{UserChrome, Visitor, date, html, service_error};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pactum_app::auth::Capability;
use pactum_app::service::{Service, ServiceError, now};
use serde::Deserialize;
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
    csrf: String,
    period_value: String,
    scorecards_heading: String,
    scorecards: Vec<ScoreLine>,
    period_error: Option<String>,
}

struct ScoreLine {
    partner: String,
    registered: i64,
    won: i64,
    win_rate: String,
    revenue: String,
    tier: String,
    reason: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PeriodFields {
    csrf: String,
    period: String,
}

/// Last month, `YYYY-MM`.
fn last_month() -> String {
    let today = date(now());
    let (y, m) = (today[..4].parse::<i32>().unwrap_or(1970), today[5..7].parse::<i32>().unwrap_or(1));
    if m == 1 { format!("{:04}-12", y - 1) } else { format!("{y:04}-{:02}", m - 1) }
}

/// Whether `text` is a month, `YYYY-MM`.
fn is_month(text: &str) -> bool {
    text.len() == 7 && super::parse_date(&format!("{text}-01")).is_some()
}

/// Runs a month's scorecards (admin or manager), then shows them.
pub(super) async fn run_scorecards(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Form(f): Form<PeriodFields>,
) -> Response {
    let caller = match posting(&visitor, &f.csrf) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let period = f.period.trim();
    if !is_month(period) {
        return metrics_page(
            &service,
            &visitor,
            bounded(period, 7),
            Some(visitor.t().console.period_invalid_month.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match service.run_scorecards(&caller, period).await {
        Ok(_) => redirect(format!("/console/metrics?period={period}")),
        Err(ServiceError::BadInput(why)) => {
            let error = format!("{} {why}", visitor.t().console.refused);
            metrics_page(&service, &visitor, period.to_string(), Some(error), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => service_error(visitor.t(), visitor.chrome(), e),
    }
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

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PeriodQuery {
    period: String,
}

pub(super) async fn metrics(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let period = q.period.trim();
    if period.is_empty() || is_month(period) {
        let period = if period.is_empty() { last_month() } else { period.to_string() };
        metrics_page(&service, &visitor, period, None, StatusCode::OK).await
    } else {
        let error = visitor.t().console.period_invalid_month.to_string();
        metrics_page(&service, &visitor, bounded(period, 7), Some(error), StatusCode::UNPROCESSABLE_ENTITY).await
    }
}

async fn metrics_page(
    service: &Service,
    visitor: &Visitor,
    period: String,
    period_error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = match caller(visitor) {
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
    let scorecards = if period_error.is_none() {
        match service.scorecards(&caller, &period).await {
            Ok(rows) => rows
                .into_iter()
                .map(|s| ScoreLine {
                    win_rate: shown(t, "bps", s.win_rate_bps),
                    revenue: money(t, s.won_revenue, &s.currency),
                    tier: format!("{} → {}", t.tier(&s.tier_before), t.tier(&s.tier_after)),
                    partner: s.partner_id,
                    registered: s.registered_deals,
                    won: s.won_deals,
                    reason: s.reason,
                })
                .collect(),
            Err(e) => return service_error(t, visitor.chrome(), e),
        }
    } else {
        Vec::new()
    };
    let page = MetricsPage {
        t,
        user: visitor.chrome(),
        csrf: visitor.chrome().map(|u| u.csrf).unwrap_or_default(),
        scorecards_heading: c.scorecards.replace("{period}", &period),
        period_value: period,
        scorecards,
        period_error,
        period: c.metrics_period.replace("{from}", &date(from)).replace("{to}", &date(to)),
        chart_height: 20 + metrics.len() * 50,
        metrics,
    };
    html(status, &page)
}
