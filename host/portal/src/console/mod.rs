//! The staff console (issue 17, item 4): pages for admins and managers over
//! the application's functions, called with the signed-in person's
//! [`Caller`]. The console never checks a role itself: what a person may do
//! is the application's capability table, and its `Forbidden` is shown as a
//! 403 page (so a partner user gets 403 on every console page).
//!
//! | route | what |
//! |---|---|
//! | `GET /console/reviews`, `POST /console/reviews/{id}/approve`, `.../reject` | the review queue |
//! | `GET`, `POST /console/partners` | partners: list, create |
//! | `GET /console/partners/{id}`, `POST .../edit`, `.../certify`, `.../step`, `.../tier` | a partner |
//! | `GET /console/plugins`, `POST .../upload` (multipart), `.../backtest`, `.../shadow`, `.../activate`, `.../approve/{id}`, `.../rollback` | the plugin lifecycle |
//! | `GET /console/payouts`, `POST .../lines/{id}` (hold, release, void), `POST .../runs`, `GET .../runs/{id}/csv` | payouts |
//! | `GET /console/leads`, `GET /console/metrics?period=`, `POST .../scorecards` | leads with their routing; program metrics beside the benchmarks, a month's scorecards |
//! | `GET /console/decisions?hook=`, `GET /console/decisions/{id}`, `POST .../replay` | the decision log |

mod decisions;
mod insights;
mod partners;
mod payouts;
mod plugins;
mod reviews;

use crate::{FORM_LIMIT, Visitor, csrf_refused, see_other};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pactum_app::service::{Caller, Service};
use pactum_app::users::same_token;
use std::sync::Arc;

/// The console's routes.
pub(crate) fn routes() -> Router<Arc<Service>> {
    Router::new()
        .route("/console", get(|| async { see_other("/console/reviews") }))
        .route("/assets/console.js", get(script))
        .route("/console/reviews", get(reviews::queue))
        .route("/console/reviews/{id}/approve", post(reviews::approve))
        .route("/console/reviews/{id}/reject", post(reviews::reject))
        .route("/console/partners", get(partners::list).post(partners::create))
        .route("/console/partners/{id}", get(partners::page))
        .route("/console/partners/{id}/edit", post(partners::edit))
        .route("/console/partners/{id}/certify", post(partners::certify))
        .route("/console/partners/{id}/step", post(partners::step))
        .route("/console/partners/{id}/tier", post(partners::tier))
        .route("/console/plugins", get(plugins::page))
        .route("/console/plugins/backtest", post(plugins::backtest))
        .route("/console/plugins/shadow", post(plugins::shadow))
        .route("/console/plugins/activate", post(plugins::activate))
        .route("/console/plugins/approve/{id}", post(plugins::approve))
        .route("/console/plugins/rollback", post(plugins::rollback))
        .route("/console/decisions", get(decisions::list))
        .route("/console/decisions/{id}", get(decisions::page))
        .route("/console/decisions/{id}/replay", post(decisions::replay))
        .route("/console/leads", get(insights::leads))
        .route("/console/metrics", get(insights::metrics))
        .route("/console/metrics/scorecards", post(insights::run_scorecards))
        .route("/console/payouts", get(payouts::page))
        .route("/console/payouts/lines/{id}", post(payouts::line_step))
        .route("/console/payouts/runs", post(payouts::run))
        .route("/console/payouts/runs/{id}/csv", get(payouts::csv))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        // A component's bytes: bounded by the runtime's component limit
        // as the upload reads them, not by the forms' limit.
        .route("/console/plugins/upload", post(plugins::upload).layer(DefaultBodyLimit::disable()))
}

/// The console's optional script: "working…" on long actions.
const SCRIPT: &str = include_str!("../../assets/console.js");

async fn script() -> Response {
    use axum::http::{HeaderValue, header};
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

/// The signed-in person's caller, or the redirect to the sign-in page.
// The error is the response to send at once: returned once per request.
#[allow(clippy::result_large_err)]
fn caller(visitor: &Visitor) -> Result<Caller, Response> {
    match &visitor.session {
        Some((_, session)) => Ok(session.caller.clone()),
        None => Err(see_other("/sign-in")),
    }
}

/// For a POST: the caller, once the form's token is the session's.
#[allow(clippy::result_large_err)]
fn posting(visitor: &Visitor, csrf: &str) -> Result<Caller, Response> {
    let Some((_, session)) = &visitor.session else { return Err(see_other("/sign-in")) };
    if csrf.is_empty() || !same_token(&session.csrf, csrf) {
        return Err(csrf_refused(visitor));
    }
    Ok(session.caller.clone())
}

/// 303 to a console path built at run time.
fn redirect(to: String) -> Response {
    (axum::http::StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to)]).into_response()
}

/// The first 12 hex digits of a plugin hash.
fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// A `YYYY-MM-DD` date as Unix seconds at its UTC midnight.
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let at = (era * 146_097 + doe - 719_468) * 86_400;
    // 2027-02-31 and the like do not round-trip.
    (crate::date(at) == format!("{y:04}-{m:02}-{d:02}")).then_some(at)
}

/// A field's text, at most `max` characters (cut, for showing it back).
fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_round_trip() {
        assert_eq!(parse_date("2026-11-26"), Some(1_795_651_200));
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400));
        assert_eq!(parse_date("2027-02-31"), None);
        assert_eq!(parse_date("26-11-2026"), None);
        assert_eq!(parse_date(""), None);
    }
}
