//! Pactum's browser portal: server-rendered HTML pages served by `pactum
//! serve` itself at `/`, beside the JSON API (`/v1/...`).
//!
//! Pages are [askama] templates (`host/portal/templates`, compiled into the
//! binary) with one small stylesheet (`assets/portal.css`, embedded with
//! `include_str!`); no JavaScript but two small progressive scripts: the
//! registration form's live check (`assets/partner.js`) and the console's
//! "working…" state on long actions (`assets/console.js`); every page
//! works without them. Every sentence comes from the message catalog
//! ([`messages`]), in the language of `Accept-Language`.
//!
//! **Layering.** The portal is a presentation layer over the application
//! (`pactum-app`), a sibling of the JSON API (`pactum-server`), never above
//! or below it: it calls the same application functions (no SQL here), and
//! a signed-in person becomes the same [`Caller`] an API key would, so
//! every capability check and partner scoping is the application's. The
//! server, which owns the listening HTTP service, merges [`router`] into
//! its own (`pactum_server::api::router`), so `pactum serve` and the
//! in-process tests serve both; this crate does not know the server.
//!
//! **Sign-in.** An admin invites a person (`POST /v1/invitations`, or
//! `pactum user invite`); the link `/invitations/{token}` asks for a
//! password and signs them in. A session is an HttpOnly, SameSite=Lax
//! cookie ([`SESSION_COOKIE`]) whose sha256 is stored
//! ([`pactum_app::users`]); the cookies are also `Secure` when the proxy
//! in front of the service says the request came over HTTPS.
//!
//! **CSRF.** Every POST form carries a token, compared in constant time:
//! the session's own once signed in; before (sign-in, invitation), the
//! value of a random pre-session cookie ([`CSRF_COOKIE`], double submit). A
//! POST without it gets a 403 page saying what to do.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | a partner user's home (tier, revenue, protections ending, leads to answer) or staff's (the review queue); signed out: to `/sign-in` |
//! | `GET`, `POST /sign-in` | sign in (429 with `Retry-After` after 5 failures in 15 minutes) |
//! | `POST /sign-out` | end the session |
//! | `GET`, `POST /invitations/{token}` | choose a password, become a user, be signed in |
//! | `GET /assets/portal.css` | the stylesheet |
//! | `/registrations`, `/leads`, `/commission`, `/lines`, `/estimate` | a partner user's pages ([`partner`]) |
//! | `/console/...` | the staff console (`console`): reviews, partners, plugins, decisions |

mod console;
pub mod messages;
mod partner;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use messages::{Lang, Messages};
use pactum_app::service::{Caller, Service, ServiceError, now};
use pactum_app::users::{
    MAX_EMAIL_CHARS, MIN_PASSWORD_CHARS, MonthRevenue, PasswordProblem, SESSION_MAX_S, Session, SignInError, new_token,
    password_problem, same_token,
};
use pactum_app::workflows::payouts::minor_digits;
use serde::Deserialize;
use std::sync::Arc;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "pactum_session";
/// The pre-session CSRF cookie's name (sign-in and invitation forms).
pub const CSRF_COOKIE: &str = "pactum_csrf";
/// The largest form body accepted: every field is bounded far below it.
const FORM_LIMIT: usize = 16 * 1024;
/// The stylesheet, embedded.
const CSS: &str = include_str!("../assets/portal.css");

/// The portal's routes, for the server to merge beside the API's.
pub fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/invitations/{token}", get(invitation_form).post(accept_invitation))
        .route("/assets/portal.css", get(stylesheet))
        .merge(partner::routes())
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .merge(console::routes())
}

/// Who is asking: their language, their session if signed in, and the
/// pre-session CSRF cookie if they have one.
struct Visitor {
    lang: Lang,
    /// The session cookie's token and its live session.
    session: Option<(String, Session)>,
    /// The pre-session CSRF cookie.
    csrf_cookie: Option<String>,
    /// Whether the request reached the service over HTTPS, as the proxy in
    /// front of it says: the cookies set are then `Secure`.
    https: bool,
}

impl Visitor {
    fn t(&self) -> &'static Messages {
        self.lang.messages()
    }

    /// The header's user box: their name and the sign-out form's token.
    fn chrome(&self) -> Option<UserChrome> {
        self.session.as_ref().map(|(_, s)| UserChrome {
            name: s.name.clone(),
            csrf: s.csrf.clone(),
            partner: s.caller.partner.is_some(),
            staff: s.caller.is_staff(),
            admin: pactum_app::auth::may(s.caller.role, pactum_app::auth::Capability::ChangeProgram),
        })
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

impl FromRequestParts<Arc<Service>> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, service: &Arc<Service>) -> Result<Visitor, Response> {
        let lang = Lang::from_accept_language(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => match service.session(&token, now()).await {
                Ok(found) => found.map(|s| (token, s)),
                Err(e) => return Err(service_error(lang.messages(), None, e)),
            },
            None => None,
        };
        let https = behind_https(&parts.headers);
        Ok(Visitor { lang, session, csrf_cookie: cookie(&parts.headers, CSRF_COOKIE), https })
    }
}

/// A form body: `application/x-www-form-urlencoded`, at most
/// [`FORM_LIMIT`] bytes; every field optional (a missing one is empty).
struct Form<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Form<T>, Response> {
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            let status = e.status();
            (status, format!("the form could not be read: {}", e.body_text())).into_response()
        })?;
        serde_urlencoded::from_bytes(&bytes)
            .map(Form)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("the form could not be read: {e}")).into_response())
    }
}

/// Every form's fields; each page reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields {
    csrf: String,
    email: String,
    password: String,
    password_again: String,
}

/// The signed-in person in the page's header.
struct UserChrome {
    name: String,
    csrf: String,
    /// A partner's user: the partner pages' navigation is shown.
    partner: bool,
    /// Staff (not a partner user): the console's navigation is shown.
    staff: bool,
    /// May change the program: the plugins link is shown.
    admin: bool,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    t: &'static Messages,
    user: Option<UserChrome>,
    token: String,
    csrf: String,
    intro: String,
    email: String,
    password_error: Option<String>,
    again_error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: &'static Messages,
    user: Option<UserChrome>,
    title: String,
    message: String,
    link_to: &'static str,
    link_text: String,
}

/// A row of the partner home's registrations.
struct EndingRow {
    id: String,
    account: String,
    amount: String,
    date: String,
    left: String,
}

/// A row of the partner home's leads.
struct LeadLine {
    id: String,
    account: String,
    source: String,
    left: String,
}

#[derive(Template)]
#[template(path = "partner_home.html")]
struct PartnerHomePage {
    t: &'static Messages,
    user: Option<UserChrome>,
    hello: String,
    partner_name: String,
    tier_key: String,
    tier: String,
    revenue: String,
    next_tier: String,
    bars: Vec<Bar>,
    ending: Vec<EndingRow>,
    leads: Vec<LeadLine>,
}

/// One month's bar of the partner home's revenue chart (SVG units: the
/// chart is 360 wide, bars stand on y = 110).
struct Bar {
    /// The month's short name, under the bar.
    short: &'static str,
    /// `2026-01: USD 12,000.00`, the bar's title.
    label: String,
    x: i64,
    y: i64,
    height: i64,
    /// The centre of the bar, for its name.
    middle: i64,
}

/// The bars of `months` (oldest first), the tallest 100 high.
fn bars(t: &'static Messages, months: &[MonthRevenue], currency: &str) -> Vec<Bar> {
    let top = months.iter().map(|m| m.revenue.max(0)).max().unwrap_or(0);
    months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let revenue = i128::from(m.revenue.max(0));
            let height = if top == 0 { 0 } else { (revenue * 100 / i128::from(top)) as i64 };
            // A month with any revenue shows, however small.
            let height = if revenue > 0 { height.max(2) } else { 0 };
            let number: usize = m.period.get(5..7).and_then(|n| n.parse().ok()).unwrap_or(1);
            let x = 6 + 30 * i as i64;
            Bar {
                short: t.month_names[number.clamp(1, 12) - 1],
                label: format!("{}: {}", m.period, money(t, m.revenue, currency)),
                x,
                y: 110 - height,
                height,
                middle: x + 11,
            }
        })
        .collect()
}

/// A row of the review queue.
struct QueueRow {
    id: String,
    partner: String,
    account: String,
    amount: String,
    date: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct StaffHomePage {
    t: &'static Messages,
    user: Option<UserChrome>,
    hello: String,
    queue: Vec<QueueRow>,
}

/// An HTML page with `status` and the portal's headers: never cached, no
/// framing, no referrer (an invitation's token is in its URL), and a
/// content policy allowing only our own stylesheet.
fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; \
                     frame-ancestors 'none'; base-uri 'none'",
                ),
            );
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a portal page");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the server log").into_response()
        }
    }
}

/// A page with one message.
fn message(
    status: StatusCode,
    t: &'static Messages,
    user: Option<UserChrome>,
    title: &str,
    text: impl Into<String>,
) -> Response {
    let page = MessagePage {
        t,
        user,
        title: title.to_string(),
        message: text.into(),
        link_to: "/",
        link_text: t.back_home.to_string(),
    };
    html(status, &page)
}

/// The page for an application error: 403 with its reason, 404, or 500
/// (logged).
fn service_error(t: &'static Messages, user: Option<UserChrome>, e: ServiceError) -> Response {
    match e {
        ServiceError::Forbidden(reason) => {
            message(StatusCode::FORBIDDEN, t, user, t.forbidden_title, format!("{} {reason}.", t.not_allowed))
        }
        ServiceError::NotFound(_) => message(StatusCode::NOT_FOUND, t, user, t.not_found, t.not_found),
        e => {
            tracing::error!(error = %e, "a portal page failed");
            message(StatusCode::INTERNAL_SERVER_ERROR, t, user, t.server_error, t.server_error)
        }
    }
}

/// 403: the form came without its token.
fn csrf_refused(visitor: &Visitor) -> Response {
    tracing::warn!("a portal form without a valid CSRF token");
    let t = visitor.t();
    message(StatusCode::FORBIDDEN, t, visitor.chrome(), t.forbidden_title, t.csrf_refused)
}

/// 303 to `to`.
fn see_other(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// Whether the proxy in front of the service says the request came over
/// HTTPS (`X-Forwarded-Proto: https`, or `proto=https` in `Forwarded`).
/// The service itself speaks plain HTTP; a client that sends the header
/// directly only makes its own cookies `Secure`.
fn behind_https(headers: &HeaderMap) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_ascii_lowercase())
    };
    first("x-forwarded-proto").is_some_and(|p| p == "https")
        || first("forwarded").is_some_and(|f| f.split(';').any(|part| part.trim() == "proto=https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, the whole site; `Secure`
/// when the visitor came over HTTPS.
fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/{age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("pactum_invalid=; Max-Age=0"))
}

/// Adds the session cookie for `token` to `response`.
fn with_session(mut response: Response, token: &str, secure: bool) -> Response {
    let cookie = set_cookie(SESSION_COOKIE, token, Some(SESSION_MAX_S), secure);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The pre-session CSRF token: the visitor's cookie, or a new one (then set
/// on the response by [`with_csrf_cookie`]).
fn pre_session_csrf(visitor: &Visitor) -> Result<(String, bool), ServiceError> {
    match &visitor.csrf_cookie {
        Some(token) => Ok((token.clone(), false)),
        None => new_token().map(|t| (t, true)),
    }
}

fn with_csrf_cookie(mut response: Response, token: &str, new: bool, secure: bool) -> Response {
    if new {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, token, None, secure));
    }
    response
}

/// Whether a pre-session form's token matches the visitor's cookie.
fn pre_session_csrf_ok(visitor: &Visitor, sent: &str) -> bool {
    visitor.csrf_cookie.as_deref().is_some_and(|cookie| !sent.is_empty() && same_token(cookie, sent))
}

/// Unix seconds as a UTC date, `2026-12-05`.
fn date(at: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = at.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn money(t: &Messages, amount: i64, currency: &str) -> String {
    t.money(amount, currency, minor_digits(currency))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        CSS,
    )
        .into_response()
}

async fn home(State(service): State<Arc<Service>>, visitor: Visitor) -> Response {
    let Some((_, session)) = &visitor.session else { return see_other("/sign-in") };
    let t = visitor.t();
    let hello = t.hello.replace("{name}", &session.name);
    if session.caller.partner.is_some() {
        partner_home(&service, &visitor, &session.caller, hello).await
    } else {
        match service.review_queue(&session.caller, 100).await {
            Ok(rows) => {
                let queue = rows
                    .into_iter()
                    .map(|r| QueueRow {
                        amount: money(t, r.amount, &r.currency),
                        date: date(r.created_at),
                        id: r.id,
                        partner: r.partner_id,
                        account: r.account_domain,
                        reason: r.reason,
                    })
                    .collect();
                html(StatusCode::OK, &StaffHomePage { t, user: visitor.chrome(), hello, queue })
            }
            Err(e) => service_error(t, visitor.chrome(), e),
        }
    }
}

async fn partner_home(service: &Service, visitor: &Visitor, caller: &Caller, hello: String) -> Response {
    let t = visitor.t();
    let at = now();
    let home = match service.partner_home(caller, at).await {
        Ok(home) => home,
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let s = &home.standing;
    let next_tier = match &s.next {
        Some(next) if next.missing > 0 => t
            .to_next_tier
            .replace("{amount}", &money(t, next.missing, &s.currency))
            .replace("{tier}", &t.tier(&next.tier)),
        Some(next) => t.next_tier_reached.replace("{tier}", &t.tier(&next.tier)),
        None if s.top => t.top_tier.to_string(),
        // The program sets no revenue for the next tier: nothing to say.
        None => String::new(),
    };
    let ending = home
        .ending
        .into_iter()
        .map(|r| {
            let until = r.protected_until.unwrap_or(at);
            EndingRow {
                amount: money(t, r.amount, &r.currency),
                date: date(until),
                left: t.time_left(until - at),
                id: r.id,
                account: r.account_domain,
            }
        })
        .collect();
    let leads = home
        .leads
        .into_iter()
        .map(|l| LeadLine {
            left: t.time_left(l.respond_by.unwrap_or(at) - at),
            account: l.account_domain,
            source: l.source,
            id: l.id,
        })
        .collect();
    let page = PartnerHomePage {
        t,
        user: visitor.chrome(),
        hello,
        partner_name: s.partner_name.clone(),
        tier_key: s.tier.clone(),
        tier: t.tier(&s.tier),
        revenue: money(t, s.trailing_revenue, &s.currency),
        next_tier,
        bars: bars(t, &s.months, &s.currency),
        ending,
        leads,
    };
    html(StatusCode::OK, &page)
}

fn sign_in_page(visitor: &Visitor, csrf: String, email: &str, error: Option<String>) -> SignInPage {
    // The email is shown back only when it could be one.
    let email = if email.chars().count() <= MAX_EMAIL_CHARS { email.to_string() } else { String::new() };
    SignInPage { t: visitor.t(), user: None, csrf, email, error }
}

async fn sign_in_form(visitor: Visitor) -> Response {
    if visitor.session.is_some() {
        return see_other("/");
    }
    let (csrf, new) = match pre_session_csrf(&visitor) {
        Ok(c) => c,
        Err(e) => return service_error(visitor.t(), visitor.chrome(), e),
    };
    let page = sign_in_page(&visitor, csrf.clone(), "", None);
    with_csrf_cookie(html(StatusCode::OK, &page), &csrf, new, visitor.https)
}

async fn sign_in(State(service): State<Arc<Service>>, visitor: Visitor, Form(form): Form<Fields>) -> Response {
    if !pre_session_csrf_ok(&visitor, &form.csrf) {
        return csrf_refused(&visitor);
    }
    let t = visitor.t();
    match service.sign_in(&form.email, &form.password, now()).await {
        Ok(signed) => with_session(see_other("/"), &signed.token, visitor.https),
        Err(SignInError::Wrong) => {
            let page = sign_in_page(&visitor, form.csrf.clone(), &form.email, Some(t.wrong_credentials.into()));
            html(StatusCode::UNAUTHORIZED, &page)
        }
        Err(SignInError::Throttled { retry_after_s }) => {
            let minutes = (retry_after_s + 59) / 60;
            let error = t.throttled.replace("{minutes}", &minutes.to_string());
            let page = sign_in_page(&visitor, form.csrf.clone(), &form.email, Some(error));
            let mut response = html(StatusCode::TOO_MANY_REQUESTS, &page);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            response
        }
        Err(SignInError::Service(e)) => service_error(t, None, e),
    }
}

async fn sign_out(State(service): State<Arc<Service>>, visitor: Visitor, Form(form): Form<Fields>) -> Response {
    let Some((token, session)) = &visitor.session else { return see_other("/sign-in") };
    if form.csrf.is_empty() || !same_token(&session.csrf, &form.csrf) {
        return csrf_refused(&visitor);
    }
    if let Err(e) = service.sign_out(token).await {
        return service_error(visitor.t(), visitor.chrome(), e);
    }
    let mut response = see_other("/sign-in");
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0), visitor.https));
    response
}

/// 410: the invitation link no longer works.
fn invitation_gone(visitor: &Visitor) -> Response {
    let t = visitor.t();
    message(StatusCode::GONE, t, visitor.chrome(), t.invitation_title, t.invitation_gone)
}

async fn invitation_form(State(service): State<Arc<Service>>, visitor: Visitor, Path(token): Path<String>) -> Response {
    let t = visitor.t();
    let invitation = match service.open_invitation(&token, now()).await {
        Ok(Some(i)) => i,
        Ok(None) => return invitation_gone(&visitor),
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let (csrf, new) = match pre_session_csrf(&visitor) {
        Ok(c) => c,
        Err(e) => return service_error(visitor.t(), visitor.chrome(), e),
    };
    let page = InvitationPage {
        t,
        user: visitor.chrome(),
        intro: t.invitation_intro.replace("{name}", &invitation.name),
        email: invitation.email,
        token,
        csrf: csrf.clone(),
        password_error: None,
        again_error: None,
    };
    with_csrf_cookie(html(StatusCode::OK, &page), &csrf, new, visitor.https)
}

async fn accept_invitation(
    State(service): State<Arc<Service>>,
    visitor: Visitor,
    Path(token): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if !pre_session_csrf_ok(&visitor, &form.csrf) {
        return csrf_refused(&visitor);
    }
    let t = visitor.t();
    let at = now();
    let invitation = match service.open_invitation(&token, at).await {
        Ok(Some(i)) => i,
        Ok(None) => return invitation_gone(&visitor),
        Err(e) => return service_error(t, visitor.chrome(), e),
    };
    let password_error = match password_problem(&form.password) {
        Some(PasswordProblem::TooShort) => Some(t.password_too_short.replace("{min}", &MIN_PASSWORD_CHARS.to_string())),
        Some(PasswordProblem::TooLong) => Some(t.password_too_long.to_string()),
        None => None,
    };
    let again_error =
        (password_error.is_none() && form.password != form.password_again).then(|| t.passwords_differ.to_string());
    if password_error.is_some() || again_error.is_some() {
        let page = InvitationPage {
            t,
            user: visitor.chrome(),
            intro: t.invitation_intro.replace("{name}", &invitation.name),
            email: invitation.email,
            token,
            csrf: form.csrf.clone(),
            password_error,
            again_error,
        };
        return html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match service.accept_invitation(&token, &form.password, at).await {
        Ok(signed) => with_session(see_other("/"), &signed.token, visitor.https),
        Err(ServiceError::Conflict(_)) => invitation_gone(&visitor),
        Err(e) => service_error(t, visitor.chrome(), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_795_651_200), "2026-11-26");
        assert_eq!(date(951_782_400), "2000-02-29");
    }

    #[test]
    fn cookies_are_secure_behind_an_https_proxy() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.append(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert!(behind_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(behind_https(&headers(&[("x-forwarded-proto", "HTTPS, http")])));
        assert!(behind_https(&headers(&[("forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43")])));
        assert!(!behind_https(&headers(&[("x-forwarded-proto", "http")])));
        assert!(!behind_https(&headers(&[("forwarded", "for=192.0.2.60;proto=http")])));
        assert!(!behind_https(&headers(&[])));
        let plain = set_cookie("pactum_session", "abc", Some(60), false);
        assert_eq!(plain, "pactum_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60");
        let secure = set_cookie("pactum_session", "abc", Some(60), true);
        assert_eq!(secure, "pactum_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure");
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; pactum_session=abc; pactum_csrf=x"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, CSRF_COOKIE).as_deref(), Some("x"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
