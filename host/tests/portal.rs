//! Issue 17: the portal's foundation, through the router like a browser
//! would use it (cookies, forms, redirects): invitations, sign-in, sessions,
//! CSRF, the sign-in throttle, the partner and staff homes, partner
//! scoping, the message catalog's languages.
//!
//! Runs on SQLite, and on PostgreSQL with `PACTUM_TEST_DATABASE_URL`.

mod common;

use axum::http::{StatusCode, header};
use common::app::{app, execute_sql};
use common::pages::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_partner_user_signs_in_and_sees_its_home() {
    let app = app().await;
    partner(&app, "initech").await;
    let admin = app.key("acme");
    // Silver, with $150,000 won in the last year: $50,000 short of Gold.
    let tier = json!({ "tier": "silver", "reason": "portal test" });
    let (status, body) = app.send("POST", "/v1/partners/initech/tier", Some(admin), Some(tier)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deal = json!({ "id": "d-1", "partner_id": "initech", "account_domain": "won.example",
        "first_year_acv": { "amount": 12_000_000, "currency": "USD" }, "source": "partner-sourced" });
    let (status, body) = app.send("POST", "/v1/deals", Some(admin), Some(deal)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.send("POST", "/v1/deals/d-1/won", Some(admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // And $30,000 won on the 15th of the month three months back: both in
    // the home's chart, each in its month.
    let now = pactum::service::now();
    let (year, month, _) = pactum_pdk::time::civil_date(now);
    let (back_year, back_month) = if month > 3 { (year, month - 3) } else { (year - 1, month + 9) };
    let back = pactum_pdk::time::days_from_civil(back_year, back_month, 15);
    let deal = json!({ "id": "d-2", "partner_id": "initech", "account_domain": "older.example",
        "first_year_acv": { "amount": 3_000_000, "currency": "USD" }, "source": "partner-sourced" });
    app.send("POST", "/v1/deals", Some(admin), Some(deal)).await;
    let (status, body) = app.send("POST", "/v1/deals/d-2/won", Some(admin), Some(json!({ "closed_at": back }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A registration whose protection ends in 10 days, one in 60, and a
    // lead offered on the first one's account.
    let ending = registration(&app, "initech", "globex.example", 10).await;
    let later = registration(&app, "initech", "later.example", 60).await;
    let (status, lead) = app
        .send(
            "POST",
            "/v1/leads",
            Some(admin),
            Some(json!({ "account_domain": "globex.example", "source": "webinar" })),
        )
        .await;
    assert_eq!((status, lead["status"].as_str()), (StatusCode::CREATED, Some("offered")), "{lead}");

    // Signed out, the home sends to the sign-in page.
    let mut browser = Browser::default();
    let page = browser.get(&app, "/").await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/sign-in")));

    // The admin invites a partner user; the answer holds the link, once.
    let body =
        json!({ "email": "Ana@Initech.example", "name": "Ana Ruiz", "role": "partner", "partner_id": "initech" });
    let (status, invitation) = app.send("POST", "/v1/invitations", Some(admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    assert_eq!(invitation["email"], "ana@initech.example");
    let link = invitation["link"].as_str().unwrap();
    assert!(link.starts_with("/invitations/") && link.len() == "/invitations/".len() + 64, "{link}");
    let expires = invitation["expires_at"].as_i64().unwrap() - pactum::service::now();
    assert!((7 * DAY - 5..=7 * DAY).contains(&expires), "{invitation}");

    // The link's form: labelled fields, a password too short is refused
    // next to the field, then one long enough creates the user and signs
    // them in.
    let page = browser.get(&app, link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<label for=\"password\">Password</label>"), "{}", page.body);
    assert!(page.body.contains("name=\"viewport\""));
    assert!(page.body.contains("ana@initech.example"));
    let csrf = page.csrf();
    let short =
        browser.post(&app, link, &[("csrf", &csrf), ("password", "too short"), ("password_again", "too short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("id=\"password-error\""), "{}", short.body);
    assert!(short.body.contains("at least 12 characters"), "{}", short.body);
    let differ = browser
        .post(&app, link, &[("csrf", &csrf), ("password", PASSWORD), ("password_again", "something else")])
        .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(differ.body.contains("are not the same"), "{}", differ.body);
    let page = browser.post(&app, link, &[("csrf", &csrf), ("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/")), "{}", page.body);
    let session = page.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(session.starts_with("pactum_session=") && session.contains("HttpOnly"), "{session}");

    // The partner home: tier, revenue, how far to Gold, the registration
    // ending within 30 days (not the one in 60), the lead with its time.
    let home = browser.get(&app, "/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let body = &home.body;
    assert!(body.contains("Hello, Ana Ruiz"), "{body}");
    assert!(body.contains("Silver"), "{body}");
    assert!(body.contains("USD 150,000.00"), "{body}");
    assert!(body.contains("USD 50,000.00 more to reach Gold."), "{body}");
    // The chart: twelve months, this one the tallest bar, the one three
    // months back a quarter of it, the others empty.
    assert_eq!(body.matches("<rect ").count(), 12, "{body}");
    let this = format!("{year:04}-{month:02}: USD 120,000.00");
    let earlier = format!("{back_year:04}-{back_month:02}: USD 30,000.00");
    let (at_this, at_earlier) = (body.find(&this), body.find(&earlier));
    assert!(at_this.is_some() && at_earlier.is_some() && at_earlier < at_this, "oldest first: {body}");
    assert_eq!(body.matches("height=\"100\"").count(), 1, "{body}");
    assert_eq!(body.matches("height=\"25\"").count(), 1, "{body}");
    assert_eq!(body.matches("height=\"0\"").count(), 10, "{body}");
    assert!(body.contains(&ending) && !body.contains(&later), "{body}");
    assert!(body.contains("9 d 23 h"), "{body}");
    // The lead's 48 hours, less the seconds since it was offered.
    assert!(body.contains("1 d 23 h") || body.contains("2 d 0 h"), "{body}");
    assert!(body.contains("webinar"), "{body}");

    // Signing in again from another browser works with the password.
    let mut other = Browser::default();
    let page = other.sign_in(&app, "ANA@initech.example", PASSWORD).await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/")), "{}", page.body);
    assert_eq!(other.get(&app, "/").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_used_once_even_when_raced() {
    let app = app().await;
    let link = invite(&app, "once@acme.example", "manager", None).await;
    let mut first = Browser::default();
    let page = first.accept(&app, &link, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Used: the link shows why it no longer works, and cannot be used again.
    let mut second = Browser::default();
    let page = second.get(&app, &link).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("has been used already or has expired"), "{}", page.body);
    let csrf = first.get(&app, "/sign-in").await; // signed in: sent home
    assert_eq!(csrf.status, StatusCode::SEE_OTHER);
    let mut third = Browser::default();
    let form_page = third.get(&app, "/sign-in").await;
    let page = third
        .post(&app, &link, &[("csrf", &form_page.csrf()), ("password", PASSWORD), ("password_again", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::GONE);

    // Two browsers submit the same fresh link at once: one user, one 303.
    let link = invite(&app, "race@acme.example", "manager", None).await;
    let (mut a, mut b) = (Browser::default(), Browser::default());
    let (page_a, page_b) = (a.get(&app, &link).await, b.get(&app, &link).await);
    let (csrf_a, csrf_b) = (page_a.csrf(), page_b.csrf());
    let fields = |csrf: &str| form(&[("csrf", csrf), ("password", PASSWORD), ("password_again", PASSWORD)]);
    let (ra, rb) = tokio::join!(
        a.request(&app, "POST", &link, Some(fields(&csrf_a))),
        b.request(&app, "POST", &link, Some(fields(&csrf_b)))
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::GONE], "{} / {}", ra.body, rb.body);
    let users = execute_sql(&app.database_url, "UPDATE users SET name = name WHERE email = 'race@acme.example'").await;
    assert_eq!(users, 1);
    let sessions = execute_sql(&app.database_url, "UPDATE sessions SET csrf = csrf").await;
    assert_eq!(sessions, 2, "the first user's session and the race winner's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_and_forms_need_their_token() {
    let app = app().await;
    let mut browser = signed_in(&app, "staff@acme.example", "manager", None).await;
    let home = browser.get(&app, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    let stolen = browser.clone();

    // Without the CSRF token (or with another), sign-out is refused with a
    // page saying what to do, and the session lives on.
    for fields in [vec![], vec![("csrf", "0".repeat(64))]] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = browser.post(&app, "/sign-out", &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("missing its security token"), "{}", page.body);
        assert_eq!(browser.get(&app, "/").await.status, StatusCode::OK);
    }
    // The sign-in and invitation forms need theirs too.
    let mut stranger = Browser::default();
    let page = stranger.post(&app, "/sign-in", &[("email", "staff@acme.example"), ("password", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let link = invite(&app, "later@acme.example", "manager", None).await;
    let page = stranger.post(&app, &link, &[("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(stranger.get(&app, &link).await.status, StatusCode::OK, "the refused form used nothing");

    // Signed out with the token: the cookie is cleared, and the old cookie
    // no longer opens anything.
    let csrf = home.csrf();
    let page = browser.post(&app, "/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/sign-in")));
    assert!(!browser.cookies.contains_key("pactum_session"));
    let mut stolen = stolen;
    let page = stolen.get(&app, "/").await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/sign-in")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_hold_off_the_sixth_try() {
    let app = app().await;
    signed_in(&app, "ana@acme.example", "admin", None).await;
    let mut browser = Browser::default();
    for _ in 0..5 {
        let page = browser.sign_in(&app, "ana@acme.example", "not the password").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("The email or the password is wrong."), "{}", page.body);
        assert!(page.body.contains("value=\"ana@acme.example\""), "the email stays in the form");
    }
    // The sixth, even with the right password, waits: 429 with Retry-After
    // and a sentence saying when.
    let page = browser.sign_in(&app, "Ana@acme.example", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    let retry: i64 = page.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(page.body.contains("Try again in 15 minutes."), "{}", page.body);
    assert!(!browser.cookies.contains_key("pactum_session"));
    // Another email is not held off; an unknown one fails like a wrong
    // password.
    let page = browser.sign_in(&app, "nobody@acme.example", PASSWORD).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    // The failures are in the database: once they are older than 15
    // minutes, the right password works.
    execute_sql(&app.database_url, "UPDATE sign_in_failures SET at = at - 901").await;
    let page = browser.sign_in(&app, "ana@acme.example", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(browser.get(&app, "/").await.status, StatusCode::OK);
    // A session unused for 12 hours has ended; so has one past its 7 days.
    execute_sql(&app.database_url, "UPDATE sessions SET last_seen_at = last_seen_at - 43201").await;
    let page = browser.get(&app, "/").await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/sign-in")));
    let page = browser.sign_in(&app, "ana@acme.example", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(browser.get(&app, "/").await.status, StatusCode::OK);
    let now = pactum::service::now();
    execute_sql(&app.database_url, &format!("UPDATE sessions SET expires_at = {now}")).await;
    assert_eq!(browser.get(&app, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_user_sees_only_its_partner_and_staff_see_the_queue() {
    let app = app().await;
    partner(&app, "p-mine").await;
    partner(&app, "p-other").await;
    let mine = registration(&app, "p-mine", "mine.example", 5).await;
    let theirs = registration(&app, "p-other", "theirs.example", 5).await;
    // A registration in review (12 employees: outside Acme's profile).
    let body = json!({ "partner_id": "p-other", "account_domain": "tiny.example", "account_name": "Tiny",
        "industry": "software", "employees": 12, "country": "US", "amount": { "amount": 100_000, "currency": "USD" } });
    let (status, review) = app.send("POST", "/v1/registrations", Some(app.key("acme")), Some(body)).await;
    assert_eq!((status, review["status"].as_str()), (StatusCode::CREATED, Some("review")), "{review}");
    let review = review["id"].as_str().unwrap().to_string();

    let mut browser = signed_in(&app, "mine@partner.example", "partner", Some("p-mine")).await;
    let home = browser.get(&app, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&mine) && home.body.contains("mine.example"), "{}", home.body);
    for other in [&theirs, "theirs.example", "p-other", &review, "tiny.example"] {
        assert!(!home.body.contains(other), "{other} leaked: {}", home.body);
    }

    // A manager's home is the review queue.
    let mut staff = signed_in(&app, "boss@acme.example", "manager", None).await;
    let home = staff.get(&app, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Registrations waiting for review"), "{}", home.body);
    assert!(home.body.contains(&review) && home.body.contains("tiny.example"), "{}", home.body);
    assert!(!home.body.contains(&mine), "approved registrations are not in the queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_speak_spanish_to_accept_language_es() {
    let app = app().await;
    partner(&app, "p-es").await;
    let mut browser = Browser::spanish();
    let page = browser.get(&app, "/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"es\">"), "{}", page.body);
    assert!(page.body.contains("Iniciar sesión") && page.body.contains("Contraseña"), "{}", page.body);
    let english = Browser::default().get(&app, "/sign-in").await;
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("Password"));

    let link = invite(&app, "sofia@partner.example", "partner", Some("p-es")).await;
    let page = browser.get(&app, &link).await;
    assert!(page.body.contains("Elige tu contraseña"), "{}", page.body);
    let csrf = page.csrf();
    let short = browser.post(&app, &link, &[("csrf", &csrf), ("password", "corta"), ("password_again", "corta")]).await;
    assert!(short.body.contains("al menos 12 caracteres"), "{}", short.body);
    let page =
        browser.post(&app, &link, &[("csrf", &csrf), ("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let home = browser.get(&app, "/").await;
    assert!(home.body.contains("Tu nivel") && home.body.contains("Registrado"), "{}", home.body);
    assert!(home.body.contains("USD 0,00"), "{}", home.body);
    assert_eq!(browser.get(&app, "/sign-in").await.status, StatusCode::SEE_OTHER, "signed in already: sent home");
    let mut stranger = Browser::spanish();
    let page = stranger.sign_in(&app, "sofia@partner.example", "contraseña equivocada").await;
    assert!(page.body.contains("El correo o la contraseña no son correctos."), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_checked() {
    let app = app().await;
    partner(&app, "p-1").await;
    let admin = app.key("acme");
    let manager = app.service.create_key("acme", "manager", None).await.unwrap();
    let send = |key: String, body: Value| {
        let app = &app;
        async move { app.send("POST", "/v1/invitations", Some(&key), Some(body)).await }
    };
    let ok = json!({ "email": "new@acme.example", "name": "New", "role": "manager" });
    let (status, body) = send(manager.clone(), ok.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["message"], "inviting users needs an admin key");
    let (status, _) = app.send("POST", "/v1/invitations", None, Some(ok.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (body, status, says) in [
        (json!({ "email": "x", "name": "X", "role": "admin" }), 422, "not an email address"),
        (json!({ "email": "a@b.example", "name": " ", "role": "admin" }), 422, "`name` must not be empty"),
        (json!({ "email": "a@b.example", "name": "X", "role": "partner" }), 422, "`partner_id` is required"),
        (json!({ "email": "a@b.example", "name": "X", "role": "admin", "partner_id": "p-1" }), 422, "goes with"),
        (json!({ "email": "a@b.example", "name": "X", "role": "partner", "partner_id": "p-none" }), 404, "no partner"),
        (json!({ "email": "a@b.example", "name": "X", "role": "owner" }), 422, "role"),
        (
            json!({ "email": format!("{}@b.example", "a".repeat(300)), "name": "X", "role": "admin" }),
            422,
            "at most 254",
        ),
        (json!({ "email": "a@b.example", "name": "X".repeat(201), "role": "admin" }), 422, "at most 200"),
    ] {
        let (got, answer) = send(admin.to_string(), body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(says), "{body}: {answer}");
    }
    // An email is one user across the service, whatever its case.
    let link = invite(&app, "taken@acme.example", "manager", None).await;
    Browser::default().accept(&app, &link, PASSWORD).await;
    let (status, body) =
        send(admin.to_string(), json!({ "email": "TAKEN@acme.example", "name": "X", "role": "admin" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // A link that is no token, or an unknown one, is gone.
    assert_eq!(Browser::default().get(&app, "/invitations/nope").await.status, StatusCode::GONE);
    let unknown = format!("/invitations/{}", "a".repeat(64));
    assert_eq!(Browser::default().get(&app, &unknown).await.status, StatusCode::GONE);
    // An expired one too.
    let link = invite(&app, "late@acme.example", "manager", None).await;
    execute_sql(&app.database_url, "UPDATE invitations SET expires_at = 0 WHERE email = 'late@acme.example'").await;
    assert_eq!(Browser::default().get(&app, &link).await.status, StatusCode::GONE);
    // The stylesheet is served.
    let css = Browser::default().get(&app, "/assets/portal.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_gets_in_with_a_link_from_the_command_line() {
    let app = app().await;
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_pactum"))
                .args(&args)
                .env("RUST_LOG", "warn")
                .output()
                .unwrap();
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            (out.status.success(), text)
        })
    };
    let args = |tenant: &str| {
        ["user", "invite", "--tenant", tenant, "--email", "First@Acme.example", "--name", "First Admin"]
            .into_iter()
            .chain(["--public-url", "https://portal.example/", "--database-url", &app.database_url])
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (ok, out) = run(args("nope")).await.unwrap();
    assert!(!ok && out.contains("no tenant \"nope\""), "{out}");
    let (ok, out) = run(args("acme")).await.unwrap();
    assert!(ok && out.contains("Invited first@acme.example (admin) to acme"), "{out}");
    let link = out.split("https://portal.example").nth(1).unwrap().trim().to_string();
    assert!(link.starts_with("/invitations/"), "{out}");
    let mut browser = Browser::default();
    let page = browser.accept(&app, &link, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let home = browser.get(&app, "/").await;
    assert!(home.body.contains("Hello, First Admin") && home.body.contains("Registrations waiting for review"));
}
