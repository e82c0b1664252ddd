//! Issue 17, item 4: the staff console through the router like a browser
//! would use it: the review queue (approve, reject, errors, the race of
//! two managers), partners (create, edit, certify, tier override in the
//! decision log), the plugin lifecycle (upload, fixture verdict, backtest,
//! activation, a decision by the new plugin, rollback), the decision log
//! and its replay, and partner users kept out (403 on every console page).
//!
//! Runs on SQLite, and on PostgreSQL with `PACTUM_TEST_DATABASE_URL`.

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use common::pages::{Browser, PASSWORD, form, partner, signed_in};
use pactum_plugin_artifacts::NORTHWIND_BYTES;
use serde_json::{Value, json};

const DAY: i64 = 86_400;

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A registration of `partner` that Acme's approval plugin sends to manual
/// review (12 employees: outside its profile); its id.
async fn in_review(app: &App, partner: &str, domain: &str) -> String {
    let body = json!({ "partner_id": partner, "account_domain": domain, "account_name": "Tiny",
        "industry": "software", "employees": 12, "country": "US", "amount": { "amount": 100_000, "currency": "USD" } });
    let (status, r) = app.send("POST", "/v1/registrations", Some(app.key("acme")), Some(body)).await;
    assert_eq!((status, r["status"].as_str()), (StatusCode::CREATED, Some("review")), "{r}");
    r["id"].as_str().unwrap().to_string()
}

async fn registration(app: &App, id: &str) -> Value {
    let (status, r) = app.send("GET", &format!("/v1/registrations/{id}"), Some(app.key("acme")), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r
}

/// Creates and wins a $100,000 deal of `partner`; the won deal.
async fn win(app: &App, partner: &str, id: &str) -> Value {
    let admin = app.key("acme");
    let deal = json!({ "id": id, "partner_id": partner, "account_domain": format!("{id}.example"),
        "first_year_acv": { "amount": 10_000_000, "currency": "USD" }, "source": "partner-sourced" });
    let (status, body) = app.send("POST", "/v1/deals", Some(admin), Some(deal)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.send("POST", &format!("/v1/deals/{id}/won"), Some(admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The latest decision of `hook`, from the JSON API.
async fn latest_decision(app: &App, hook: &str) -> Value {
    let uri = format!("/v1/decisions?hook={hook}&limit=1");
    let (status, body) = app.send("GET", &uri, Some(app.key("acme")), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["decisions"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_works_the_review_queue() {
    let app = app().await;
    partner(&app, "p-1").await;
    let (first, second) = (in_review(&app, "p-1", "one.example").await, in_review(&app, "p-1", "two.example").await);
    let mut manager = signed_in(&app, "mara@acme.example", "manager", None).await;

    // The queue: oldest first, each with the plugin's reason and its forms.
    let page = manager.get(&app, "/console/reviews").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Registrations waiting for review</h1>"), "{}", page.body);
    let (a, b) = (
        page.body.find(&format!("id=\"registration-{first}\"")),
        page.body.find(&format!("id=\"registration-{second}\"")),
    );
    assert!(a.unwrap() < b.unwrap(), "oldest first");
    assert!(page.body.contains(&format!("<label for=\"days-{first}\">Protection days</label>")), "{}", page.body);
    assert!(page.body.contains("Leave empty for the program&#39;s 90 days."), "{}", page.body);
    assert!(page.body.contains("id=\"nav-reviews\""), "the staff navigation");
    let csrf = page.csrf();

    // Days out of range: the error next to the field, nothing decided.
    let bad = manager.post(&app, &format!("/console/reviews/{first}/approve"), &[("csrf", &csrf), ("days", "0")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(&format!("id=\"days-error-{first}\"")), "{}", bad.body);
    assert!(bad.body.contains("whole number of days from 1 to 3,650"), "{}", bad.body);
    // Approved for 45 days.
    let done =
        manager.post(&app, &format!("/console/reviews/{first}/approve"), &[("csrf", &csrf), ("days", "45")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let next = manager.get(&app, done.location().unwrap()).await;
    assert!(next.body.contains(&format!("Registration {first} is approved.")), "{}", next.body);
    assert!(!next.body.contains(&format!("id=\"registration-{first}\"")), "{}", next.body);
    let r = registration(&app, &first).await;
    assert_eq!(r["status"], "approved", "{r}");
    let left = r["protected_until"].as_i64().unwrap() - pactum::service::now();
    assert!((45 * DAY - 60..=45 * DAY).contains(&left), "{r}");

    // Rejecting needs a reason: the sentence next to the field.
    let bad =
        manager.post(&app, &format!("/console/reviews/{second}/reject"), &[("csrf", &csrf), ("reason", "  ")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(&format!("id=\"reason-error-{second}\"")), "{}", bad.body);
    assert!(bad.body.contains("Write a reason: it is required."), "{}", bad.body);
    let reason = "The account is a customer of ours already.";
    let done =
        manager.post(&app, &format!("/console/reviews/{second}/reject"), &[("csrf", &csrf), ("reason", reason)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let r = registration(&app, &second).await;
    assert_eq!((r["status"].as_str(), r["reason"].as_str()), (Some("rejected"), Some(reason)), "{r}");

    // Without the form's token: refused.
    let third = in_review(&app, "p-1", "three.example").await;
    let page = manager.post(&app, &format!("/console/reviews/{third}/approve"), &[("days", "30")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Two managers decide the same registration: the second sees who won.
    let mut other = signed_in(&app, "otto@acme.example", "manager", None).await;
    let other_csrf = other.get(&app, "/console/reviews").await.csrf();
    let done = manager.post(&app, &format!("/console/reviews/{third}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let late = other
        .post(&app, &format!("/console/reviews/{third}/reject"), &[("csrf", &other_csrf), ("reason", "not ours")])
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(late.body.contains(&format!("Someone else decided registration {third} first")), "{}", late.body);
    assert_eq!(registration(&app, &third).await["status"], "approved");

    // At the same moment: one wins, the other gets the conflict.
    let fourth = in_review(&app, "p-1", "four.example").await;
    let (approve, reject) =
        (form(&[("csrf", &csrf)]), form(&[("csrf", &other_csrf), ("reason", "duplicate of an older registration")]));
    let (approve_uri, reject_uri) =
        (format!("/console/reviews/{fourth}/approve"), format!("/console/reviews/{fourth}/reject"));
    let (ra, rb) = tokio::join!(
        manager.request(&app, "POST", &approve_uri, Some(approve)),
        other.request(&app, "POST", &reject_uri, Some(reject))
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT], "{} / {}", ra.body, rb.body);
    let loser = if ra.status == StatusCode::CONFLICT { &ra } else { &rb };
    assert!(loser.body.contains("Someone else decided"), "{}", loser.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_partner_and_overrides_its_tier() {
    let app = app().await;
    let mut admin = signed_in(&app, "ada@acme.example", "admin", None).await;
    let page = admin.get(&app, "/console/partners").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Partners</h1>"));
    let csrf = page.csrf();

    let missing = admin.post(&app, "/console/partners", &[("csrf", &csrf), ("id", ""), ("name", "Globex")]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("id=\"id-error\"") && missing.body.contains("This field is required."));
    let fields = [
        ("csrf", csrf.as_str()),
        ("id", "globex"),
        ("name", "Globex Partners"),
        ("kind", "reseller"),
        ("territories", "emea, us-west"),
        ("manager", "Mara"),
        ("contact_email", "ops@globex.example"),
    ];
    let created = admin.post(&app, "/console/partners", &fields).await;
    assert_eq!((created.status, created.location()), (StatusCode::SEE_OTHER, Some("/console/partners/globex")));
    let again = admin.post(&app, "/console/partners", &fields).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("A partner with this id exists already."), "{}", again.body);
    let bad_email = [("csrf", csrf.as_str()), ("id", "initech"), ("name", "Initech"), ("contact_email", "nope")];
    let refused = admin.post(&app, "/console/partners", &bad_email).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"new-error\""), "{}", refused.body);

    let page = admin.get(&app, "/console/partners/globex").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Globex Partners</h1>") && page.body.contains("emea, us-west"), "{}", page.body);
    assert!(page.body.contains("ops@globex.example") && page.body.contains("reseller"), "{}", page.body);

    // Edit, certify (the expiry shown), suspend.
    let edit = [
        ("csrf", csrf.as_str()),
        ("name", "Globex Partners"),
        ("territories", "emea"),
        ("manager", "Otto"),
        ("contact_email", ""),
    ];
    let done = admin.post(&app, "/console/partners/globex/edit", &edit).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let cert = [("csrf", csrf.as_str()), ("certification", "sales-pro"), ("expires", "2027-06-30")];
    assert_eq!(admin.post(&app, "/console/partners/globex/certify", &cert).await.status, StatusCode::SEE_OTHER);
    let bad_date = [("csrf", csrf.as_str()), ("certification", "x"), ("expires", "30/06/2027")];
    let bad = admin.post(&app, "/console/partners/globex/certify", &bad_date).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("year-month-day"), "{}", bad.body);
    let page = admin.get(&app, "/console/partners/globex?saved=1").await;
    assert!(page.body.contains("sales-pro") && page.body.contains("2027-06-30"), "{}", page.body);
    assert!(page.body.contains("value=\"Otto\"") && !page.body.contains("ops@globex.example"), "{}", page.body);

    // The tier by hand needs a reason; given one, it is in the decision log.
    let no_reason = [("csrf", csrf.as_str()), ("tier", "gold"), ("reason", "")];
    let bad = admin.post(&app, "/console/partners/globex/tier", &no_reason).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"tier-error\"") && bad.body.contains("Write a reason"), "{}", bad.body);
    let reason = "Strategic account signed at board level";
    let tier = [("csrf", csrf.as_str()), ("tier", "gold"), ("reason", reason)];
    assert_eq!(admin.post(&app, "/console/partners/globex/tier", &tier).await.status, StatusCode::SEE_OTHER);
    let page = admin.get(&app, "/console/partners/globex").await;
    assert!(page.body.contains("data-tier=\"gold\">Gold</dd>"), "{}", page.body);
    let same = admin.post(&app, "/console/partners/globex/tier", &tier).await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(same.body.contains("at this tier already"), "{}", same.body);
    let log = admin.get(&app, "/console/decisions?hook=tier-evaluation").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains(reason) && log.body.contains("globex"), "{}", log.body);

    let suspend = [("csrf", csrf.as_str()), ("step", "suspend"), ("reason", "contract under review")];
    assert_eq!(admin.post(&app, "/console/partners/globex/step", &suspend).await.status, StatusCode::SEE_OTHER);
    let twice = admin.post(&app, "/console/partners/globex/step", &suspend).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    assert!(twice.body.contains("id=\"step-error\""), "{}", twice.body);
    let page = admin.get(&app, "/console/partners").await;
    assert!(page.body.contains("suspended"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_uploads_backtests_and_activates_a_commission_plugin() {
    let app = app().await;
    partner(&app, "p-1").await;
    win(&app, "p-1", "d-before").await;
    let northwind = sha256(NORTHWIND_BYTES);
    let mut admin = signed_in(&app, "ada@acme.example", "admin", None).await;
    let page = admin.get(&app, "/console/plugins").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Plugins</h1>") && page.body.contains("id=\"live-commission\""), "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    // The optional script, allowed by the pages' content policy.
    assert!(page.body.contains("<script src=\"/assets/console.js\" defer>"));
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let script = admin.get(&app, "/assets/console.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let csrf = page.csrf();
    let stock = app.service.plugin_for("acme", pactum::runtime::HookKind::Commission).unwrap().to_hex();

    // Acme's fixtures fail Northwind's plugin: refused, saying which.
    let fields = [("csrf", csrf.as_str()), ("name", "northwind"), ("version", "1.0.0"), ("hook", "commission")];
    let refused = admin.upload(&app, "/console/plugins/upload", &fields, ("file", NORTHWIND_BYTES)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("id=\"upload-error\""), "{}", refused.body);
    assert!(refused.body.contains("1 of 3 fixtures passed"), "{}", refused.body);
    // No file: the sentence, nothing published.
    let empty = admin.upload(&app, "/console/plugins/upload", &fields, ("file", b"")).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Choose a component file to upload."), "{}", empty.body);
    // Overridden: published, with its verdict and its cold start.
    let mut fields = fields.to_vec();
    fields.push(("override", "1"));
    let published = admin.upload(&app, "/console/plugins/upload", &fields, ("file", NORTHWIND_BYTES)).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    assert!(published.body.contains(&northwind), "{}", published.body);
    assert!(
        published.body.contains("1 of 3 fixtures passed; overridden by user:ada@acme.example"),
        "{}",
        published.body
    );
    assert!(published.body.contains("Cold start:") && published.body.contains("id=\"took\""), "{}", published.body);

    // A backtest over the last 30 days: the partner's row and the chart.
    let at = pactum::service::now();
    let (from, to) = (date(at - 30 * DAY), date(at + DAY));
    let backtest = [
        ("csrf", csrf.as_str()),
        ("hook", "commission"),
        ("plugin", northwind.as_str()),
        ("from", from.as_str()),
        ("to", to.as_str()),
    ];
    let result = admin.post(&app, "/console/plugins/backtest", &backtest).await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.body);
    assert!(result.body.contains("1 recorded decisions replayed"), "{}", result.body);
    assert!(result.body.contains("id=\"partner-p-1\""), "{}", result.body);
    assert!(result.body.contains("<svg class=\"chart\"") && result.body.contains("<rect"), "{}", result.body);
    let reversed = [("from", to.as_str()), ("to", from.as_str())];
    let mut bad = backtest.to_vec();
    bad.retain(|(k, _)| *k != "from" && *k != "to");
    bad.extend(reversed);
    let bad = admin.post(&app, "/console/plugins/backtest", &bad).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("The start must be before the end."), "{}", bad.body);

    // As a shadow beside the live plugin: its agreement shows.
    let shadow = [("csrf", csrf.as_str()), ("hook", "commission"), ("plugin", northwind.as_str())];
    let done = admin.post(&app, "/console/plugins/shadow", &shadow).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    win(&app, "p-1", "d-shadowed").await;
    // The shadow runs in the background and is written in batches.
    let mut page = admin.get(&app, "/console/plugins").await;
    for _ in 0..100 {
        if page.body.contains("of 1 live decisions") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = admin.get(&app, "/console/plugins").await;
    }
    assert!(page.body.contains(&format!("Shadow {}: agreed on", &northwind[..12])), "{}", page.body);
    assert!(page.body.contains("of 1 live decisions"), "{}", page.body);

    // Activation needs a reason, then makes it live.
    let short = &northwind[..12];
    let mut activate = vec![("csrf", csrf.as_str()), ("hook", "commission"), ("plugin", northwind.as_str())];
    let bad = admin.post(&app, "/console/plugins/activate", &activate).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(&format!("id=\"activate-error-commission-{short}\"")), "{}", bad.body);
    activate.extend([("reason", "Northwind's rates for Acme"), ("override", "1")]);
    let done = admin.post(&app, "/console/plugins/activate", &activate).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some("/console/plugins?activated=commission")));
    let page = admin.get(&app, "/console/plugins?activated=commission").await;
    assert!(page.body.contains("The plugin now serves the commission hook."), "{}", page.body);
    assert!(page.body.contains(&format!("id=\"live-commission\">{northwind}<")), "{}", page.body);

    // A deal won afterwards is decided by it, as the decision page shows.
    win(&app, "p-1", "d-after").await;
    let decision = latest_decision(&app, "commission").await;
    assert_eq!(decision["plugin"], northwind.as_str(), "{decision}");
    let page = admin.get(&app, &format!("/console/decisions/{}", decision["id"])).await;
    assert!(page.body.contains(&format!("id=\"plugin-hash\">{northwind}<")), "{}", page.body);

    // A manager may not manage plugins; the admin rolls back with a reason.
    let mut manager = signed_in(&app, "mara@acme.example", "manager", None).await;
    let page = manager.get(&app, "/console/plugins").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("managing plugins needs an admin key"), "{}", page.body);
    assert!(!manager.get(&app, "/console/reviews").await.body.contains("id=\"nav-plugins\""));
    let rollback = [("csrf", csrf.as_str()), ("hook", "commission"), ("reason", "")];
    assert_eq!(admin.post(&app, "/console/plugins/rollback", &rollback).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rollback = [("csrf", csrf.as_str()), ("hook", "commission"), ("reason", "back to stock")];
    let done = admin.post(&app, "/console/plugins/rollback", &rollback).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = admin.get(&app, "/console/plugins").await;
    assert!(page.body.contains(&format!("id=\"live-commission\">{stock}<")), "{}", page.body);
}

/// Unix seconds as `YYYY-MM-DD` (UTC), through the console's own form.
fn date(at: i64) -> String {
    let z = at.div_euclid(DAY) + 719_468;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_log_replays_and_partner_users_are_kept_out() {
    let app = app().await;
    partner(&app, "p-1").await;
    let body = json!({ "partner_id": "p-1", "account_domain": "globex.example", "account_name": "Globex",
        "industry": "software", "employees": 400, "country": "US",
        "amount": { "amount": 4_500_000, "currency": "USD" } });
    let (status, r) = app.send("POST", "/v1/registrations", Some(app.key("acme")), Some(body)).await;
    assert_eq!((status, r["status"].as_str()), (StatusCode::CREATED, Some("approved")), "{r}");
    let id = r["decision_id"].as_i64().unwrap();

    let mut admin = signed_in(&app, "ada@acme.example", "admin", None).await;
    let log = admin.get(&app, "/console/decisions?hook=approval").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    assert!(log.body.contains("<h1>Decision log</h1>"));
    assert!(log.body.contains(&format!("href=\"/console/decisions/{id}\"")), "{}", log.body);
    let routing = admin.get(&app, "/console/decisions?hook=routing").await;
    assert!(!routing.body.contains(&format!("id=\"decision-{id}\"")), "{}", routing.body);
    let page = admin.get(&app, &format!("/console/decisions/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("<h1>Decision {id}</h1>")), "{}", page.body);
    assert!(page.body.contains("<pre id=\"input\"") && page.body.contains("&#34;globex.example&#34;"), "{}", page.body);
    assert!(page.body.contains("id=\"plugin-hash\""), "{}", page.body);
    let replay = admin.post(&app, &format!("/console/decisions/{id}/replay"), &[("csrf", &page.csrf())]).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert!(replay.body.contains("data-same=\"true\""), "{}", replay.body);
    assert!(replay.body.contains("The replay gives the same answer."), "{}", replay.body);
    assert_eq!(admin.get(&app, "/console/decisions/999999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.get(&app, "/console/decisions/nope").await.status, StatusCode::NOT_FOUND);

    // In Spanish.
    let mut spanish = admin.clone();
    spanish.language = Browser::spanish().language;
    let page = spanish.get(&app, "/console/reviews").await;
    assert!(page.body.contains("<h1>Registros pendientes de revisión</h1>"), "{}", page.body);
    assert!(page.body.contains("Registro de decisiones"), "{}", page.body);

    // A partner user: 403 on every console page, GET or POST, and no
    // console navigation.
    let link = common::pages::invite(&app, "pat@p1.example", "partner", Some("p-1")).await;
    let mut partner_user = Browser::default();
    partner_user.accept(&app, &link, common::pages::PASSWORD).await;
    let home = partner_user.get(&app, "/").await;
    assert!(!home.body.contains("nav-reviews"), "{}", home.body);
    let csrf = home.csrf();
    for uri in [
        "/console/reviews",
        "/console/partners",
        "/console/partners/p-1",
        "/console/plugins",
        "/console/decisions",
        &format!("/console/decisions/{id}"),
    ] {
        let page = partner_user.get(&app, uri).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{uri}: {}", page.body);
    }
    for uri in
        ["/console/partners", "/console/partners/p-1/tier", "/console/plugins/rollback", "/console/reviews/x/approve"]
    {
        let page = partner_user
            .post(
                &app,
                uri,
                &[
                    ("csrf", &csrf),
                    ("tier", "gold"),
                    ("reason", "x"),
                    ("id", "x"),
                    ("name", "x"),
                    ("hook", "commission"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{uri}: {}", page.body);
    }
    let replay = partner_user.post(&app, &format!("/console/decisions/{id}/replay"), &[("csrf", &csrf)]).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    // Signed out: to the sign-in page.
    let page = Browser::default().get(&app, "/console/plugins").await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/sign-in")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_holds_releases_and_runs_a_period_s_payouts() {
    let app = app().await;
    partner(&app, "p-1").await;
    let admin_key = app.key("acme");
    // A deal won 150 days ago: its line fell due in a month whose review
    // window has closed.
    let deal = json!({ "id": "d-old", "partner_id": "p-1", "account_domain": "old.example",
        "first_year_acv": { "amount": 10_000_000, "currency": "USD" }, "source": "partner-sourced" });
    let (status, body) = app.send("POST", "/v1/deals", Some(admin_key), Some(deal)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let closed = pactum::service::now() - 150 * DAY;
    let (status, body) =
        app.send("POST", "/v1/deals/d-old/won", Some(admin_key), Some(json!({ "closed_at": closed }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, lines) = app.send("GET", "/v1/lines?status=pending", Some(admin_key), None).await;
    let line = &lines["lines"][0];
    let (id, due) = (line["id"].as_i64().unwrap(), line["due_at"].as_i64().unwrap());
    let period = date(due)[..7].to_string();

    let mut admin = signed_in(&app, "fin@acme.example", "admin", None).await;
    let page = admin.get(&app, "/console/payouts").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<h1>Payouts</h1>") && page.body.contains(&format!("id=\"line-{id}\"")),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let uri = format!("/console/payouts/lines/{id}");
    // A hold needs a reason.
    let bad = admin.post(&app, &uri, &[("csrf", &csrf), ("step", "hold"), ("reason", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(&format!("id=\"line-error-{id}\"")), "{}", bad.body);
    let held = admin.post(&app, &uri, &[("csrf", &csrf), ("step", "hold"), ("reason", "checking the deal")]).await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let page = admin.get(&app, held.location().unwrap()).await;
    assert!(page.body.contains(&format!("Line {id} is changed.")) && page.body.contains("held"), "{}", page.body);
    // Held: it cannot be held again (the conflict as a sentence), it is released.
    let twice = admin.post(&app, &uri, &[("csrf", &csrf), ("step", "hold"), ("reason", "again")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let released = admin.post(&app, &uri, &[("csrf", &csrf), ("step", "release"), ("reason", "checked")]).await;
    assert_eq!(released.status, StatusCode::SEE_OTHER, "{}", released.body);

    // The period's run: totals per currency, and its CSV.
    let bad = admin.post(&app, "/console/payouts/runs", &[("csrf", &csrf), ("period", "May 2026")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"run-error\""), "{}", bad.body);
    let run = admin.post(&app, "/console/payouts/runs", &[("csrf", &csrf), ("period", &period)]).await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    let page = admin.get(&app, "/console/payouts").await;
    assert!(page.body.contains(&format!("<td>{period}</td>")), "{}", page.body);
    assert!(page.body.contains("USD "), "{}", page.body);
    let again = admin.post(&app, "/console/payouts/runs", &[("csrf", &csrf), ("period", &period)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let start = page.body.find("/console/payouts/runs/").unwrap();
    let link = page.body[start..].split('"').next().unwrap().to_string();
    let csv = admin.get(&app, &link).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[axum::http::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with("run_id,period,reference,partner_id") && csv.body.contains("p-1"), "{}", csv.body);
    // A manager runs payouts too; a partner user does not.
    let link_partner = common::pages::invite(&app, "pat@p1.example", "partner", Some("p-1")).await;
    let mut partner_user = Browser::default();
    partner_user.accept(&app, &link_partner, common::pages::PASSWORD).await;
    assert_eq!(partner_user.get(&app, "/console/payouts").await.status, StatusCode::FORBIDDEN);
    assert_eq!(partner_user.get(&app, &link).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_show_their_routing_and_metrics_their_benchmarks() {
    let app = app().await;
    partner(&app, "p-1").await;
    let body = json!({ "account_domain": "walk-in.example", "source": "webinar" });
    let (status, lead) = app.send("POST", "/v1/leads", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    let id = lead["id"].as_str().unwrap();
    let mut manager = signed_in(&app, "mara@acme.example", "manager", None).await;
    let page = manager.get(&app, "/console/leads").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Leads and their routing</h1>"), "{}", page.body);
    assert!(page.body.contains(&format!("id=\"lead-{id}\"")) && page.body.contains("webinar"), "{}", page.body);
    assert!(page.body.contains(lead["reason"].as_str().unwrap()), "{}", page.body);
    let page = manager.get(&app, "/console/metrics").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Program metrics</h1>"), "{}", page.body);
    for metric in ["partner-revenue", "active-partners", "partner-win-rate", "time-to-first-deal", "partner-retention"]
    {
        assert!(page.body.contains(&format!("id=\"metric-{metric}\"")), "{metric}: {}", page.body);
    }
    assert!(page.body.contains("<svg class=\"chart\" id=\"metrics-chart\""), "{}", page.body);
    assert!(page.body.contains("15.00 %") && page.body.contains("30.00 %"), "the seed's benchmarks: {}", page.body);

    // A month's scorecards, run from the page.
    assert!(page.body.contains("id=\"no-scorecards\""), "{}", page.body);
    let csrf = page.csrf();
    let bad = manager.post(&app, "/console/metrics/scorecards", &[("csrf", &csrf), ("period", "last")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"period-error\""), "{}", bad.body);
    let run = manager.post(&app, "/console/metrics/scorecards", &[("csrf", &csrf), ("period", "2026-10")]).await;
    assert_eq!((run.status, run.location()), (StatusCode::SEE_OTHER, Some("/console/metrics?period=2026-10")));
    let page = manager.get(&app, "/console/metrics?period=2026-10").await;
    assert!(page.body.contains("Scorecards of 2026-10") && page.body.contains("id=\"scorecard-p-1\""), "{}", page.body);

    let link = common::pages::invite(&app, "pat@p1.example", "partner", Some("p-1")).await;
    let mut partner_user = Browser::default();
    partner_user.accept(&app, &link, common::pages::PASSWORD).await;
    for uri in ["/console/leads", "/console/metrics"] {
        assert_eq!(partner_user.get(&app, uri).await.status, StatusCode::FORBIDDEN, "{uri}");
    }
}

/// A company that requires four eyes: one admin's activation in the
/// console waits, shown as such, with the plugin still not live; she
/// cannot approve her own request; a second admin's approval makes it live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_eyes_activation_waits_for_a_second_admin_in_the_console() {
    let app = app().await;
    let program = "[company]\nslug = \"fourco\"\nname = \"Four Eyes Co\"\ncurrency = \"USD\"\n\
                   [hooks]\ncommission = \"stock\"\n[lifecycle]\nfour-eyes = true\n";
    let stock = std::fs::read(pactum_plugin_artifacts::STOCK).unwrap();
    let (_, key) =
        app.service.create_tenant(program, std::path::Path::new("policy.toml"), |_| Some(stock.clone())).await.unwrap();
    let admin_user = |email: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            let body = serde_json::json!({ "email": email, "name": email, "role": "admin" });
            let (status, invitation) = app.send("POST", "/v1/invitations", Some(&key), Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{invitation}");
            let mut browser = Browser::default();
            let page = browser.accept(app, invitation["link"].as_str().unwrap(), PASSWORD).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            browser
        }
    };
    let (mut ada, mut ben) = (admin_user("ada@fourco.example").await, admin_user("ben@fourco.example").await);
    let northwind = std::fs::read(pactum_plugin_artifacts::NORTHWIND).unwrap();
    let (status, published) = app
        .send_raw("POST", "/v1/plugins?name=northwind&version=1&override_fixtures=true", Some(&key), northwind)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let hash = published["hash"].as_str().unwrap().to_string();
    let live = || {
        let (app, key) = (&app, key.clone());
        async move { app.send("GET", "/v1/program", Some(&key), None).await.1["plugins"]["commission"].clone() }
    };
    let stock_hash = live().await;

    // Ada asks: it waits, and the page says so; nothing is live yet.
    let csrf = ada.get(&app, "/console/plugins").await.csrf();
    let activate = [
        ("csrf", csrf.as_str()),
        ("hook", "commission"),
        ("plugin", hash.as_str()),
        ("reason", "Northwind's rates"),
        ("override", "1"),
    ];
    let asked = ada.post(&app, "/console/plugins/activate", &activate).await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let page = ada.get(&app, asked.location().unwrap()).await;
    assert!(page.body.contains("The activation is waiting for a second admin to approve it."), "{}", page.body);
    assert_eq!(live().await, stock_hash);
    let marker = "id=\"approve-activation-";
    let start = page.body.find(marker).expect("the pending request") + marker.len();
    let id: String = page.body[start..].chars().take_while(char::is_ascii_digit).collect();
    assert!(!id.is_empty(), "{}", page.body);

    // Her own approval is refused; Ben's makes it live.
    let own = ada.post(&app, &format!("/console/plugins/approve/{id}"), &[("csrf", csrf.as_str())]).await;
    assert!(own.status == StatusCode::FORBIDDEN || own.status == StatusCode::CONFLICT, "{}: {}", own.status, own.body);
    assert_eq!(live().await, stock_hash);
    let ben_csrf = ben.get(&app, "/console/plugins").await.csrf();
    let approved = ben.post(&app, &format!("/console/plugins/approve/{id}"), &[("csrf", ben_csrf.as_str())]).await;
    assert_eq!(
        (approved.status, approved.location()),
        (StatusCode::SEE_OTHER, Some("/console/plugins?activated=commission"))
    );
    assert_eq!(live().await, serde_json::json!(hash));
}
