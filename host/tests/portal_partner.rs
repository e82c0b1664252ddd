//! Issue 17, item 3: a partner user's pages, through the router like a
//! browser would use them: register a deal and see its result, the
//! duplicate check, partner scoping by URL, answering leads, disputing a
//! commission line, the statement's CSV, and the commission estimator
//! (the live plugin, nothing recorded).
//!
//! Runs on SQLite, and on PostgreSQL with `PACTUM_TEST_DATABASE_URL`.

mod common;

use axum::http::{StatusCode, header};
use common::app::{App, app, query_i64};
use common::pages::*;
use serde_json::{Value, json};

/// Unix seconds as a UTC date, `2026-12-05` (as the pages write it).
fn day(at: i64) -> String {
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

/// A signed-in user of partner `id` (created first).
async fn partner_user(app: &App, id: &str) -> Browser {
    partner(app, id).await;
    signed_in(app, &format!("ana@{id}.example"), "partner", Some(id)).await
}

/// A lead on `domain`, routed by the company (to the partner holding a
/// registration on it).
async fn lead(app: &App, domain: &str) -> Value {
    let body = json!({ "account_domain": domain, "source": "webinar" });
    let (status, lead) = app.send("POST", "/v1/leads", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    lead
}

/// A deal of `partner` worth `acv` cents won now; its commission lines.
async fn won_deal(app: &App, partner: &str, id: &str, acv: i64) -> Vec<Value> {
    let admin = app.key("acme");
    let deal = json!({ "id": id, "partner_id": partner, "account_domain": format!("{id}.example"),
        "first_year_acv": { "amount": acv, "currency": "USD" }, "source": "partner-sourced" });
    let (status, body) = app.send("POST", "/v1/deals", Some(admin), Some(deal)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.send("POST", &format!("/v1/deals/{id}/won"), Some(admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, lines) = app.send("GET", &format!("/v1/lines?partner_id={partner}"), Some(admin), None).await;
    lines["lines"].as_array().unwrap().iter().filter(|l| l["deal_id"] == id).cloned().collect()
}

async fn decisions(app: &App) -> i64 {
    query_i64(&app.database_url, "SELECT COUNT(*) FROM decisions").await
}

async fn lines(app: &App) -> i64 {
    query_i64(&app.database_url, "SELECT COUNT(*) FROM commission_lines").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_registers_a_deal_and_sees_it_approved_with_its_protection_date() {
    let app = app().await;
    let mut ana = partner_user(&app, "initech").await;

    // The home links to every partner page.
    let home = ana.get(&app, "/").await;
    for link in ["/registrations/new", "/registrations", "/leads", "/commission", "/estimate"] {
        assert!(home.body.contains(&format!("href=\"{link}\"")), "{link} in {}", home.body);
    }

    let form = ana.get(&app, "/registrations/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("<h1>Register a deal</h1>"), "{}", form.body);
    for field in ["account_domain", "account_name", "amount", "currency", "expected_close", "country", "industry"] {
        assert!(form.body.contains(&format!("<label for=\"{field}\">")), "a label for {field}");
    }
    assert!(form.body.contains("src=\"/assets/partner.js\""));
    let csrf = form.csrf();

    // A bad amount and no name: 422, each error next to its field, the
    // typed values kept.
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("account_domain", "globex.example"),
        ("account_name", ""),
        ("amount", "lots"),
        ("currency", "USD"),
        ("expected_close", "2027-03-31"),
        ("country", "US"),
        ("industry", "software"),
        ("employees", "400"),
    ];
    let refused = ana.post(&app, "/registrations", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("id=\"amount-error\">Enter an amount greater than zero"), "{}", refused.body);
    assert!(refused.body.contains("id=\"account_name-error\">Fill in this field."), "{}", refused.body);
    assert!(refused.body.contains("value=\"globex.example\""));
    assert_eq!(query_i64(&app.database_url, "SELECT COUNT(*) FROM registrations").await, 0);

    // Without its token the form is refused.
    let forged = ana.post(&app, "/registrations", &fields[1..]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    fields[2] = ("account_name", "Globex");
    fields[3] = ("amount", "45,000.00");
    let sent = ana.post(&app, "/registrations", &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let to = sent.location().unwrap().to_string();
    let id = to.strip_prefix("/registrations/").unwrap().to_string();

    let (_, stored) = app.send("GET", &format!("/v1/registrations/{id}"), Some(app.key("acme")), None).await;
    assert_eq!(stored["status"], "approved", "{stored}");
    assert_eq!(stored["amount"], 4_500_000);
    let until = day(stored["protected_until"].as_i64().unwrap());

    let page = ana.get(&app, &to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Registration for globex.example</h1>"), "{}", page.body);
    assert!(page.body.contains(&format!("Approved. The account is protected for you until {until}.")), "{}", page.body);
    assert!(page.body.contains("USD 45,000.00"));

    let list = ana.get(&app, "/registrations").await;
    assert!(list.body.contains(&format!("id=\"registration-{id}\" data-status=\"approved\"")), "{}", list.body);
    assert!(list.body.contains(&until));

    // The same page in Spanish.
    ana.language = Some("es");
    let page = ana.get(&app, &to).await;
    assert!(page.body.contains(&format!("La cuenta está protegida para ti hasta el {until}.")), "{}", page.body);
    assert!(page.body.contains("Registrar una oportunidad"), "the navigation speaks Spanish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duplicate_check_says_registered_without_naming_the_holder() {
    let app = app().await;
    partner(&app, "holder").await;
    registration(&app, "holder", "held.example", 60).await;
    let mut ana = partner_user(&app, "initech").await;

    let taken = ana.get(&app, "/registrations/check?domain=Held.example").await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    assert!(taken.body.contains("This account is already registered."), "{}", taken.body);
    assert!(taken.body.contains("data-taken=\"true\""));
    for secret in ["holder", "Globex", "45,000"] {
        assert!(!taken.body.contains(secret), "the check names {secret}: {}", taken.body);
    }

    let free = ana.get(&app, "/registrations/check?domain=free.example").await;
    assert_eq!(free.status, StatusCode::OK);
    assert!(free.body.contains("No live registration on this account yet."), "{}", free.body);

    let bad = ana.get(&app, "/registrations/check?domain=not%20a%20domain").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Signed out, the check answers nothing.
    let stranger = Browser::default().get(&app, "/registrations/check?domain=held.example").await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert!(!stranger.body.contains("registered"));

    let script = ana.get(&app, "/assets/partner.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.body.contains("/registrations/check?domain="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_partners_registration_lead_and_lines_answer_404() {
    let app = app().await;
    partner(&app, "other").await;
    let theirs = registration(&app, "other", "theirs.example", 60).await;
    let their_lead = lead(&app, "theirs.example").await;
    assert_eq!(their_lead["partner_id"], "other", "{their_lead}");
    let their_lines = won_deal(&app, "other", "d-other", 12_000_000).await;
    let their_line = their_lines[0]["id"].as_i64().unwrap();
    let period = day(their_lines[0]["due_at"].as_i64().unwrap())[..7].to_string();

    let mut ana = partner_user(&app, "initech").await;
    let not_found = [
        format!("/registrations/{theirs}"),
        format!("/leads/{}", their_lead["id"].as_str().unwrap()),
        format!("/lines/{their_line}"),
        "/registrations/r_nope".to_string(),
        "/lines/not-a-number".to_string(),
        format!("/leads/{}", "x".repeat(200)),
        "/commission/2026-13".to_string(),
    ];
    for uri in &not_found {
        let page = ana.get(&app, uri).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{uri}: {}", page.body);
        assert!(!page.body.contains("theirs.example"), "{uri}");
    }
    // Nor may they be stepped on.
    let csrf = ana.get(&app, "/leads").await.csrf();
    let lead_id = their_lead["id"].as_str().unwrap();
    let accepted = ana.post(&app, &format!("/leads/{lead_id}/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(accepted.status, StatusCode::NOT_FOUND);
    let disputed =
        ana.post(&app, &format!("/lines/{their_line}/dispute"), &[("csrf", &csrf), ("reason", "mine")]).await;
    assert_eq!(disputed.status, StatusCode::NOT_FOUND);
    // Their statement's month, seen by Ana, is Ana's own: empty.
    let statement = ana.get(&app, &format!("/commission/{period}")).await;
    assert_eq!(statement.status, StatusCode::OK);
    assert!(!statement.body.contains("d-other") && statement.body.contains("id=\"no-lines\""), "{}", statement.body);
    let csv = ana.get(&app, &format!("/commission/{period}/csv")).await;
    assert!(!csv.body.contains("d-other"), "{}", csv.body);
    // The lists hold only Ana's.
    assert!(!ana.get(&app, "/registrations").await.body.contains("theirs.example"));
    assert!(!ana.get(&app, "/leads").await.body.contains("theirs.example"));

    // Staff have no partner pages.
    let mut manager = signed_in(&app, "max@acme.example", "manager", None).await;
    assert_eq!(manager.get(&app, "/registrations").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_is_declined_only_with_a_reason_and_accepted_ones_are_reported() {
    let app = app().await;
    let mut ana = partner_user(&app, "initech").await;
    registration(&app, "initech", "first.example", 60).await;
    registration(&app, "initech", "second.example", 60).await;
    let first = lead(&app, "first.example").await;
    let second = lead(&app, "second.example").await;
    let (first, second) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());

    let list = ana.get(&app, "/leads").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&format!("id=\"lead-{first}\" data-status=\"offered\"")), "{}", list.body);
    assert!(list.body.contains("left)"), "the time left to answer: {}", list.body);

    let page = ana.get(&app, &format!("/leads/{first}")).await;
    assert!(page.body.contains("<h1>Lead for first.example</h1>"), "{}", page.body);
    assert!(page.body.contains("<label for=\"reason\">"));
    let csrf = page.csrf();

    // No reason: 422, the sentence next to the field, nothing changed.
    let refused = ana.post(&app, &format!("/leads/{first}/decline"), &[("csrf", &csrf), ("reason", "  ")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"reason-error\" role=\"alert\">Say why you decline this lead"),
        "{}",
        refused.body
    );
    let (_, stored) = app.send("GET", &format!("/v1/leads/{first}"), Some(app.key("acme")), None).await;
    assert_eq!((stored["status"].as_str(), stored["partner_id"].as_str()), (Some("offered"), Some("initech")));

    // With one, it is routed on, away from Ana.
    let reason = [("csrf", csrf.as_str()), ("reason", "Outside our region")];
    let declined = ana.post(&app, &format!("/leads/{first}/decline"), &reason).await;
    assert_eq!((declined.status, declined.location()), (StatusCode::SEE_OTHER, Some("/leads?declined=1")));
    let (_, stored) = app.send("GET", &format!("/v1/leads/{first}"), Some(app.key("acme")), None).await;
    assert_ne!(stored["partner_id"], "initech", "{stored}");
    assert!(stored["tried"].as_array().unwrap().contains(&json!("initech")), "{stored}");
    let list = ana.get(&app, "/leads?declined=1").await;
    assert!(list.body.contains("You declined the lead. It has been routed on."));
    assert_eq!(ana.get(&app, &format!("/leads/{first}")).await.status, StatusCode::NOT_FOUND);

    // The other is accepted, then reported contacted.
    let accepted = ana.post(&app, &format!("/leads/{second}/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let page = ana.get(&app, &format!("/leads/{second}")).await;
    assert!(page.body.contains("data-status=\"accepted\""), "{}", page.body);
    assert!(page.body.contains("<option value=\"contacted\">Contacted</option>"), "{}", page.body);
    let again = ana.post(&app, &format!("/leads/{second}/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let wrong = ana.post(&app, &format!("/leads/{second}/report"), &[("csrf", &csrf), ("status", "offered")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"status-error\""), "{}", wrong.body);
    let report = [("csrf", csrf.as_str()), ("status", "contacted"), ("note", "Call on Monday")];
    let reported = ana.post(&app, &format!("/leads/{second}/report"), &report).await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER, "{}", reported.body);
    let page = ana.get(&app, &format!("/leads/{second}")).await;
    assert!(page.body.contains("id=\"lead-status\" data-status=\"contacted\""), "{}", page.body);
    assert!(page.body.contains("Call on Monday"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disputed_line_shows_on_the_statement_and_the_csv_totals_as_it_does() {
    let app = app().await;
    let mut ana = partner_user(&app, "initech").await;
    // Referral, partner-sourced: 15 % of $120,000 and of $80,000.
    let first = won_deal(&app, "initech", "d-1", 12_000_000).await;
    won_deal(&app, "initech", "d-2", 8_000_000).await;
    let line = first[0]["id"].as_i64().unwrap();
    let due = first[0]["due_at"].as_i64().unwrap();
    let period = day(due)[..7].to_string();

    let page = ana.get(&app, &format!("/commission/{period}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("<h1>Commission statement, {period}</h1>")), "{}", page.body);
    assert!(page.body.contains(&format!("id=\"line-{line}\" data-state=\"pending\"")), "{}", page.body);
    assert!(page.body.contains("Pending (not due yet)"));
    assert!(page.body.contains("USD 18,000.00") && page.body.contains("USD 30,000.00"), "{}", page.body);
    // The current month's page lists the months with commission.
    let now = ana.get(&app, "/commission").await;
    assert!(now.body.contains(&format!("<a href=\"/commission/{period}\"")), "{}", now.body);

    // No reason: 422 next to the field.
    let line_page = ana.get(&app, &format!("/lines/{line}")).await;
    assert_eq!(line_page.status, StatusCode::OK);
    let csrf = line_page.csrf();
    let refused = ana.post(&app, &format!("/lines/{line}/dispute"), &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"reason-error\" role=\"alert\">Say what is wrong"), "{}", refused.body);

    let reason = [("csrf", csrf.as_str()), ("reason", "The rate should be 20 %")];
    let disputed = ana.post(&app, &format!("/lines/{line}/dispute"), &reason).await;
    assert_eq!(disputed.status, StatusCode::SEE_OTHER, "{}", disputed.body);
    assert_eq!(disputed.location(), Some(format!("/commission/{period}#line-{line}").as_str()));
    let page = ana.get(&app, &format!("/commission/{period}")).await;
    assert!(page.body.contains(&format!("id=\"line-{line}\" data-state=\"disputed\"")), "{}", page.body);
    assert!(page.body.contains("<td class=\"state\">Disputed</td>"));
    // Twice: 409, said next to the field.
    let again = ana.post(&app, &format!("/lines/{line}/dispute"), &reason).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("Only a pending line can be disputed."));

    // The CSV: its lines and its total are the statement's.
    let csv = ana.get(&app, &format!("/commission/{period}/csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"statement-initech-{period}.csv\""));
    let rows: Vec<Vec<&str>> = csv.body.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let total_row = rows.iter().find(|r| r[0] == "total").expect("a total row");
    let (status, statement) = app
        .send(
            "GET",
            &format!("/v1/partners/initech/statement?from={}&to={}", month_start(&period), month_end(&period)),
            Some(app.key("acme")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{statement}");
    assert_eq!(statement["total"], 3_000_000);
    assert_eq!(total_row[7].parse::<i64>().unwrap(), statement["total"].as_i64().unwrap());
    assert_eq!(total_row[6], "30000.00");
    let sum: i64 = rows.iter().filter(|r| r[0] != "total").map(|r| r[7].parse::<i64>().unwrap()).sum();
    assert_eq!(sum, 3_000_000);
    assert!(rows.iter().any(|r| r[0] == line.to_string() && r[3] == "disputed"), "{}", csv.body);

    // The printable statement: the same lines, no forms.
    let print = ana.get(&app, &format!("/commission/{period}/print")).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print.body.contains("USD 30,000.00") && !print.body.contains("<form method=\"get\""));
}

/// The first second of month `YYYY-MM` (through the portal's own pages'
/// convention: UTC).
fn month_start(period: &str) -> i64 {
    let (y, m) = period.split_once('-').unwrap();
    days_from_civil(y.parse().unwrap(), m.parse().unwrap(), 1) * 86_400
}

fn month_end(period: &str) -> i64 {
    let (y, m): (i64, i64) = {
        let (y, m) = period.split_once('-').unwrap();
        (y.parse().unwrap(), m.parse().unwrap())
    };
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(y, m, 1) * 86_400
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimator_shows_what_the_live_plugin_pays_and_records_nothing() {
    let app = app().await;
    let mut ana = partner_user(&app, "initech").await;
    let form = ana.get(&app, "/estimate").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<h1>Commission estimator</h1>") && form.body.contains("<label for=\"source\">"));

    let (decisions_before, lines_before) = (decisions(&app).await, lines(&app).await);
    // Acme's stock plan: a referral partner's sourced deal earns
    // referral-rate-bps (1500) of first-year ACV; an influenced one
    // cosell-rate-bps (1200).
    let sourced =
        ana.get(&app, "/estimate?first_year_acv=120%2C000.00&services=&currency=USD&source=partner-sourced").await;
    assert_eq!(sourced.status, StatusCode::OK, "{}", sourced.body);
    assert!(sourced.body.contains("Your commission would be USD 18,000.00."), "{}", sourced.body);
    assert!(sourced.body.contains("15 %"), "{}", sourced.body);
    let influenced =
        ana.get(&app, "/estimate?first_year_acv=120000&services=5000&currency=USD&source=partner-influenced").await;
    assert!(influenced.body.contains("Your commission would be USD 14,400.00."), "{}", influenced.body);
    ana.language = Some("es");
    let spanish =
        ana.get(&app, "/estimate?first_year_acv=120.000%2C00&services=0&currency=USD&source=partner-sourced").await;
    assert!(spanish.body.contains("Tu comisión sería de USD 18.000,00."), "{}", spanish.body);
    ana.language = None;
    assert_eq!(decisions(&app).await, decisions_before, "the estimate wrote a decision");
    assert_eq!(lines(&app).await, lines_before, "the estimate wrote a line");

    // Bad input: 422 next to the field.
    let bad = ana.get(&app, "/estimate?first_year_acv=0&services=-1&currency=XXX&source=direct").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["first_year_acv", "services", "currency", "source"] {
        assert!(bad.body.contains(&format!("id=\"{field}-error\"")), "{field}: {}", bad.body);
    }
    let huge = ana.get(&app, "/estimate?first_year_acv=99999999999999999&currency=USD&source=partner-sourced").await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(huge.body.contains("This amount is too large."));
    assert_eq!(decisions(&app).await, decisions_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_in_review_or_rejected_says_so_with_the_reason() {
    let app = app().await;
    partner(&app, "holder").await;
    let held = registration(&app, "holder", "held.example", 60).await;
    let mut ana = partner_user(&app, "initech").await;
    let csrf = ana.get(&app, "/registrations/new").await.csrf();
    let fields = |domain: &'static str, industry: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("account_domain", domain.to_string()),
            ("account_name", "Some account".to_string()),
            ("amount", "10000".to_string()),
            ("currency", "USD".to_string()),
            ("country", "US".to_string()),
            ("industry", industry.to_string()),
            ("employees", "400".to_string()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let mut ana = ana.clone();
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let sent = ana.post(app, "/registrations", &fields).await;
            assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
            ana.get(app, sent.location().unwrap()).await
        }
    };
    // Outside the ideal profile (industry): a manager decides.
    let review = send(fields("mine.example", "mining")).await;
    assert!(review.body.contains("data-status=\"review\""), "{}", review.body);
    assert!(review.body.contains("In review: a partner manager will decide."), "{}", review.body);
    assert!(review.body.contains("id=\"registration-reason\""), "the plugin's reason is shown");
    // Another partner's live registration on the account: rejected.
    let rejected = send(fields("held.example", "software")).await;
    assert!(rejected.body.contains("data-status=\"rejected\""), "{}", rejected.body);
    assert!(rejected.body.contains("Rejected.") && rejected.body.contains("id=\"registration-reason\""));
    // The reason says why without naming the other partner or its record.
    assert!(
        rejected.body.contains("in conflict with another partner&#39;s registration")
            || rejected.body.contains("in conflict with another partner's registration"),
        "{}",
        rejected.body
    );
    assert!(!rejected.body.contains("holder") && !rejected.body.contains(&held), "{}", rejected.body);
    // The registration's own page, in Spanish.
    ana.language = Some("es");
    let list = ana.get(&app, "/registrations").await;
    assert!(list.body.contains("Rechazado") && list.body.contains("En revisión"), "{}", list.body);
}
