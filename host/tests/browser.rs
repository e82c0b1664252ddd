//! The portal in a real browser (issue 17): headless Chromium driven over
//! WebDriver (chromedriver, through `fantoccini`) against the in-process
//! service served on a local port. Each journey saves a screenshot of its
//! last page under `target/tmp/screenshots/`.
//!
//! Needs Chromium and chromedriver (Debian's `chromium` and
//! `chromium-driver`; `PACTUM_CHROMIUM` and `PACTUM_CHROMEDRIVER` name
//! others). `.ci/run` installs them and runs these tests with `--ignored`;
//! locally: `cargo test -p pactum --test browser -- --ignored`.

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A browser session on the app, and what it runs on.
struct Browser {
    client: Client,
    base: String,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Serves `app` on a local port and opens a headless Chromium on it.
async fn browser(app: &App) -> Browser {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let chromium = std::env::var("PACTUM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let chromedriver = std::env::var("PACTUM_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {chromedriver} (apt-get install chromium-driver): {e}"));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"] }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
            Ok(client) => return Browser { client, base, driver },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no WebDriver session from {chromedriver} with {chromium}: {last:?}");
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {}: {e}", self.client.current_url().await.unwrap()),
        }
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Types `text` into the field labelled `label` (the `<label>`'s
    /// text): the page must label its controls for this to find them.
    async fn fill(&self, label: &str, text: &str) {
        let xpath = format!("//label[normalize-space()=\"{label}\"]");
        let label_element = self.client.find(Locator::XPath(&xpath)).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        let id = label_element.attr("for").await.unwrap().unwrap_or_else(|| panic!("label `{label}` names no field"));
        self.find(&format!("#{id}")).await.send_keys(text).await.unwrap();
    }

    /// Waits until the page's `<h1>` reads `heading`.
    async fn heading(&self, heading: &str) {
        let mut seen = None;
        for _ in 0..100 {
            // The page may be replaced between finding and reading: retry.
            if let Ok(h1) = self.client.find(Locator::Css("h1")).await
                && let Ok(text) = h1.text().await
            {
                if text == heading {
                    return;
                }
                seen = Some(text);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page's heading is {seen:?}, not `{heading}`");
    }

    /// Whether the page fits the window's width (no sideways scrolling).
    async fn fits_width(&self) -> bool {
        let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
        self.client.execute(fits, vec![]).await.unwrap().as_bool().unwrap()
    }

    /// Saves a screenshot of the page as `<target>/tmp/screenshots/<name>.png`.
    async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// A new referral partner of acme working EMEA, made over the API.
async fn partner(app: &App, id: &str) {
    partner_of(app, "acme", id).await;
}

/// A new referral partner of `company` working EMEA.
async fn partner_of(app: &App, company: &str, id: &str) {
    let body = json!({ "id": id, "name": format!("Partner {id}"), "kind": "referral", "territories": ["emea"] });
    let (status, answer) = app.send("POST", "/v1/partners", Some(app.key(company)), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// An invitation for a new user of acme, made by its admin over the API:
/// the link.
async fn invite(app: &App, email: &str, role: &str, partner: Option<&str>) -> String {
    let body = json!({ "email": email, "name": "Ana Ruiz", "role": role, "partner_id": partner });
    let (status, answer) = app.send("POST", "/v1/invitations", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["link"].as_str().unwrap().to_string()
}

const PASSWORD: &str = "correct horse battery";

impl Browser {
    /// Opens an invitation link and chooses the password: signed in.
    async fn accept_invitation(&self, link: &str, name: &str) {
        self.goto(link).await;
        self.fill("Password", PASSWORD).await;
        self.fill("Password again", PASSWORD).await;
        self.find("button[type=submit]").await.click().await.unwrap();
        self.heading(&format!("Hello, {name}")).await;
    }

    async fn sign_out(&self) {
        self.find(".sign-out button").await.click().await.unwrap();
        self.heading("Sign in").await;
    }

    async fn sign_in(&self, email: &str, name: &str) {
        self.goto("/sign-in").await;
        self.fill("Email", email).await;
        self.fill("Password", PASSWORD).await;
        self.find("button[type=submit]").await.click().await.unwrap();
        self.heading(&format!("Hello, {name}")).await;
    }

    /// The status the server answers `path` with, fetched by the page
    /// (with the user's cookie).
    async fn status_of(&self, path: &str) -> u16 {
        let script = "const [path, done] = arguments; fetch(path).then(r => done(r.status))";
        let status = self.client.execute_async(script, vec![json!(path)]).await.unwrap();
        status.as_u64().unwrap() as u16
    }

    /// Waits until `css`'s text contains `part`; the text.
    async fn wait_text(&self, css: &str, part: &str) -> String {
        let mut seen = String::new();
        for _ in 0..100 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if text.contains(part) {
                    return text;
                }
                seen = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` reads {seen:?}, without `{part}`");
    }
}

/// A partner of acme with a signed-up user of its own.
async fn partner_user(app: &App, b: &Browser, partner_id: &str, email: &str, name: &str) {
    partner(app, partner_id).await;
    let body = json!({ "email": email, "name": name, "role": "partner", "partner_id": partner_id });
    let (status, answer) = app.send("POST", "/v1/invitations", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    b.accept_invitation(answer["link"].as_str().unwrap(), name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver: .ci/run installs them and runs it"]
async fn an_invited_partner_user_signs_in_registers_a_deal_and_sees_it_approved() {
    let app = app().await;
    partner(&app, "initech").await;
    // Deals won this month and two months back: the home's chart shows them.
    let now = pactum::service::now();
    for (id, acv, closed_at) in [("d-1", 9_000_000, now), ("d-2", 4_500_000, now - 62 * 86_400)] {
        let deal = json!({ "id": id, "partner_id": "initech", "account_domain": format!("{id}.example"),
            "first_year_acv": { "amount": acv, "currency": "USD" }, "source": "partner-sourced" });
        app.send("POST", "/v1/deals", Some(app.key("acme")), Some(deal)).await;
        let won = json!({ "closed_at": closed_at });
        let (status, body) = app.send("POST", &format!("/v1/deals/{id}/won"), Some(app.key("acme")), Some(won)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let link = invite(&app, "ana@initech.example", "partner", Some("initech")).await;
    let b = browser(&app).await;

    // Signed out, the portal sends a visitor to sign in.
    b.goto("/").await;
    b.heading("Sign in").await;

    // The invitation: a password too short is refused next to its field.
    b.goto(&link).await;
    b.heading("Choose your password").await;
    b.fill("Password", "short").await;
    b.fill("Password again", "short").await;
    // The browser's own check (minlength) stops a short password first;
    // the server's is behind it: bypass the browser's to see the server's.
    b.client.execute("document.querySelector('form').noValidate = true", vec![]).await.unwrap();
    b.find("button[type=submit]").await.click().await.unwrap();
    let error = b.text("#password-error").await;
    assert!(error.contains("12"), "{error}");
    assert_eq!(b.find("#password").await.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));

    b.fill("Password", PASSWORD).await;
    b.fill("Password again", PASSWORD).await;
    b.find("button[type=submit]").await.click().await.unwrap();
    b.heading("Hello, Ana Ruiz").await;
    let tier = b.text(".standing .tier").await;
    assert!(!tier.is_empty(), "the home shows the partner's tier");
    assert_eq!(b.client.find_all(Locator::Css("#revenue-chart rect")).await.unwrap().len(), 12);
    assert!(b.fits_width().await);
    b.screenshot("partner-home").await;

    // Registers a deal: the live check says the account is free as the
    // domain is typed; the result page says approved, and until when.
    b.find("#nav-register").await.click().await.unwrap();
    b.heading("Register a deal").await;
    b.fill("Account's domain", "globex.com").await;
    b.wait_text("#domain-check", "No live registration on this account yet.").await;
    b.fill("Account's name", "Globex").await;
    b.fill("Expected deal value", "120,000.00").await;
    b.fill("Country", "US").await;
    b.fill("Industry", "software").await;
    b.fill("Employees", "400").await;
    b.find("#register-submit").await.click().await.unwrap();
    b.heading("Registration for globex.com").await;
    let result = b.find("#registration-result").await;
    assert_eq!(result.attr("data-status").await.unwrap().as_deref(), Some("approved"));
    let until = b.text("#registration-protected-until").await;
    assert!(result.text().await.unwrap().contains(&format!("protected for you until {until}")), "{until}");
    b.screenshot("registration-approved").await;
    b.goto("/").await;

    // At a phone's width the page still fits, without sideways scrolling.
    b.client.set_window_size(390, 844).await.unwrap();
    assert!(b.fits_width().await, "the partner home scrolls sideways at 390 px");
    b.screenshot("partner-home-phone").await;
    b.client.set_window_size(1280, 900).await.unwrap();

    // Signed out, then in again with the keyboard alone: type the email,
    // Tab to the password, Enter submits.
    b.find(".sign-out button").await.click().await.unwrap();
    b.heading("Sign in").await;
    b.find("#email").await.click().await.unwrap();
    b.client.active_element().await.unwrap().send_keys("ana@initech.example").await.unwrap();
    b.client.active_element().await.unwrap().send_keys(&String::from(char::from(Key::Tab))).await.unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("password"), "Tab goes from email to password");
    focused.send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter))).await.unwrap();
    b.heading("Hello, Ana Ruiz").await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver: .ci/run installs them and runs it"]
async fn a_wrong_password_is_said_next_to_the_form_in_the_browsers_language() {
    let app = app().await;
    partner(&app, "initech").await;
    let link = invite(&app, "luis@initech.example", "partner", Some("initech")).await;
    let b = browser(&app).await;
    b.goto(&link).await;
    b.fill("Password", PASSWORD).await;
    b.fill("Password again", PASSWORD).await;
    b.find("button[type=submit]").await.click().await.unwrap();
    b.heading("Hello, Ana Ruiz").await;
    b.find(".sign-out button").await.click().await.unwrap();

    b.heading("Sign in").await;
    b.fill("Email", "luis@initech.example").await;
    b.fill("Password", "not the password").await;
    b.find("button[type=submit]").await.click().await.unwrap();
    let error = b.find("#form-error").await;
    assert_eq!(error.attr("role").await.unwrap().as_deref(), Some("alert"));
    assert!(!error.text().await.unwrap().is_empty());
    b.screenshot("sign-in-error").await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver: .ci/run installs them and runs it"]
async fn a_partner_declines_a_lead_and_another_partner_accepts_it() {
    let app = app().await;
    let b = browser(&app).await;
    partner_user(&app, &b, "p-a", "ana@a.example", "Ana").await;
    b.sign_out().await;
    partner_user(&app, &b, "p-b", "bea@b.example", "Bea").await;
    b.sign_out().await;
    // A lead in EMEA: offered to p-a first (both cover EMEA).
    let body =
        json!({ "account_domain": "initech.com", "account_name": "Initech", "region": "emea", "source": "webinar" });
    let (status, lead) = app.send("POST", "/v1/leads", Some(app.key("acme")), Some(body)).await;
    assert_eq!((status, lead["partner_id"].as_str()), (StatusCode::CREATED, Some("p-a")), "{lead}");
    let id = lead["id"].as_str().unwrap();

    // Ana sees it on her home, opens it, declines: a reason is required.
    b.sign_in("ana@a.example", "Ana").await;
    b.find(&format!("a[href='/leads/{id}']")).await.click().await.unwrap();
    b.heading("Lead for initech.com").await;
    b.find("#decline-submit").await.click().await.unwrap();
    let error = b.text("#reason-error").await;
    assert!(error.contains("Say why you decline this lead"), "{error}");
    b.fill("Why you decline it", "No capacity this quarter").await;
    b.find("#decline-submit").await.click().await.unwrap();
    b.wait_text("main", "You declined the lead").await;
    b.sign_out().await;

    // Bea has it now, and accepts it.
    b.sign_in("bea@b.example", "Bea").await;
    b.find("#nav-leads").await.click().await.unwrap();
    b.heading("My leads").await;
    b.find(&format!("a[href='/leads/{id}']")).await.click().await.unwrap();
    b.find("#accept-submit").await.click().await.unwrap();
    b.wait_text("#lead-status", "Accepted").await;
    b.screenshot("lead-accepted").await;
    let (_, lead) = app.send("GET", &format!("/v1/leads/{id}"), Some(app.key("acme")), None).await;
    assert_eq!((lead["status"].as_str(), lead["tried"].clone()), (Some("accepted"), json!(["p-a"])));
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver: .ci/run installs them and runs it"]
async fn a_partner_user_cannot_open_another_partners_pages() {
    let app = app().await;
    let b = browser(&app).await;
    partner_user(&app, &b, "p-b", "bea@b.example", "Bea").await;
    // p-a, another partner, registers an account over the API.
    partner(&app, "p-a").await;
    let body = json!({ "partner_id": "p-a", "account_domain": "globex.com", "account_name": "Globex",
        "industry": "software", "employees": 400, "country": "US", "amount": { "amount": 5_000_000, "currency": "USD" } });
    let (status, registration) = app.send("POST", "/v1/registrations", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{registration}");
    let id = registration["id"].as_str().unwrap();

    // Bea edits the URL to p-a's registration: there is no such page.
    b.goto(&format!("/registrations/{id}")).await;
    b.heading("There is no such page.").await;
    assert_eq!(b.status_of(&format!("/registrations/{id}")).await, 404);
    b.screenshot("another-partners-page").await;
    // Her own list is there.
    assert_eq!(b.status_of("/registrations").await, 200);

    // Typing p-a's account in her own form says it is taken, not by whom.
    b.goto("/registrations/new").await;
    b.fill("Account's domain", "globex.com").await;
    let check = b.wait_text("#domain-check", "already registered").await;
    assert!(!check.contains("p-a"), "{check}");
    b.client.clone().close().await.unwrap();
}

/// A staff user of `company` (`role`), signed up in `b`.
async fn staff_user(app: &App, company: &str, b: &Browser, role: &str, email: &str, name: &str) {
    let body = json!({ "email": email, "name": name, "role": role });
    let (status, answer) = app.send("POST", "/v1/invitations", Some(app.key(company)), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    b.accept_invitation(answer["link"].as_str().unwrap(), name).await;
}

/// A registration of `partner` on `domain` that Acme's approval plugin
/// sends to review (12 employees, outside its profile): its id.
async fn in_review(app: &App, partner: &str, domain: &str) -> String {
    let body = json!({ "partner_id": partner, "account_domain": domain, "account_name": domain,
        "industry": "software", "employees": 12, "country": "US", "amount": { "amount": 2_000_000, "currency": "USD" } });
    let (_, registration) = app.send("POST", "/v1/registrations", Some(app.key("acme")), Some(body)).await;
    assert_eq!(registration["status"], "review", "{registration}");
    registration["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver: .ci/run installs them and runs it"]
async fn a_manager_works_the_review_queue() {
    let app = app().await;
    partner(&app, "p-2").await;
    let first = in_review(&app, "p-2", "tiny.io").await;
    let second = in_review(&app, "p-2", "small.io").await;
    let b = browser(&app).await;
    staff_user(&app, "acme", &b, "manager", "mia@acme.example", "Mia").await;

    b.find("#nav-reviews").await.click().await.unwrap();
    b.heading("Registrations waiting for review").await;
    // Oldest first: approve it with the program's protection.
    b.find(&format!("#approve-{first} button")).await.click().await.unwrap();
    b.wait_text("#notice", &format!("Registration {first} is approved.")).await;
    // The other: a rejection needs a reason, said next to the field.
    b.find(&format!("#reject-{second} button")).await.click().await.unwrap();
    b.wait_text(&format!("#reason-error-{second}"), "Write a reason").await;
    b.find(&format!("#reason-{second}")).await.send_keys("Too small for the program").await.unwrap();
    b.find(&format!("#reject-{second} button")).await.click().await.unwrap();
    b.wait_text("#notice", &format!("Registration {second} is rejected.")).await;
    b.find("#queue-empty").await;
    b.screenshot("review-queue-done").await;

    let status = |id: String| {
        let app = &app;
        async move { app.send("GET", &format!("/v1/registrations/{id}"), Some(app.key("acme")), None).await.1 }
    };
    let (approved, rejected) = (status(first).await, status(second).await);
    assert_eq!((approved["status"].as_str(), rejected["status"].as_str()), (Some("approved"), Some("rejected")));
    assert_eq!(rejected["reason"], "Too small for the program");
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver: .ci/run installs them and runs it"]
async fn an_admin_backtests_and_activates_a_commission_plugin_and_the_partners_statement_shows_its_line() {
    // Northwind: its own plugin (12 %) is live; the admin tries the stock
    // plan (15 % under Northwind's parameters).
    let app = app().await;
    let admin = app.key("northwind").to_string();
    partner_of(&app, "northwind", "p-1").await;
    let won = |id: &'static str, closed_at: i64| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let deal = json!({ "id": id, "partner_id": "p-1", "account_domain": format!("{id}.example"),
                "first_year_acv": { "amount": 12_000_000, "currency": "USD" }, "source": "partner-sourced" });
            app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
            let body = json!({ "closed_at": closed_at });
            let (status, deal) = app.send("POST", &format!("/v1/deals/{id}/won"), Some(&admin), Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{deal}");
            deal
        }
    };
    // Won ten days ago under Northwind's plan: 12 %, USD 14,400.00.
    let now = pactum::service::now();
    won("d-1", now - 10 * 86_400).await;

    let b = browser(&app).await;
    staff_user(&app, "northwind", &b, "admin", "ada@northwind.example", "Ada").await;
    b.find("#nav-plugins").await.click().await.unwrap();
    b.heading("Plugins").await;

    // Upload the stock plugin for commission.
    let wasm = std::fs::canonicalize(pactum_plugin_artifacts::STOCK).unwrap();
    b.find("#upload-file").await.send_keys(wasm.to_str().unwrap()).await.unwrap();
    b.find("#upload-name").await.send_keys("stock").await.unwrap();
    b.find("#upload-version").await.send_keys("2.0.0").await.unwrap();
    b.find("#upload-hook option[value=commission]").await.click().await.unwrap();
    b.find("#upload-override").await.click().await.unwrap();
    b.find("#upload-button").await.click().await.unwrap();
    b.heading("Plugin published").await;
    // The stock component serves Northwind's other hooks already: its
    // verdict is theirs; activating it for commission runs the fixtures
    // again (below).
    let verdict = b.text("#fixture-verdict").await;
    assert!(verdict.contains("fixtures passed"), "{verdict}");
    let hash = b.text("#published-hash").await;
    let short = &hash[..12];

    // Backtest it over the last 90 days: p-1 would have been paid 15 %.
    b.find("#back-plugins").await.click().await.unwrap();
    b.find(&format!("#backtest-commission-{short} button[type=submit]")).await.click().await.unwrap();
    b.heading("Backtest").await;
    let row = b.text("#partner-p-1").await;
    assert!(row.contains("USD 18,000.00") && row.contains("USD 14,400.00"), "{row}");
    assert_eq!(b.client.find_all(Locator::Css("#chart rect")).await.unwrap().len(), 2);
    b.screenshot("backtest").await;

    // Activate it, with a reason: Northwind's commission fixtures pin its
    // own 12 %, so the admin overrides them, on the record.
    b.goto("/console/plugins").await;
    let form = format!("#activate-commission-{short}");
    b.find(&format!("#activate-reason-commission-{short}")).await.send_keys("The stock rates").await.unwrap();
    b.find(&format!("{form} input[name=override]")).await.click().await.unwrap();
    b.find(&format!("{form} button[type=submit]")).await.click().await.unwrap();
    b.wait_text("#notice", "now serves the commission hook").await;
    assert!(b.text("#live-commission").await.starts_with(short));

    // A deal won now is paid by it; the partner's statement shows the line.
    let deal = won("d-2", now).await;
    let line = &deal["commission_lines"][0];
    assert_eq!((line["amount"].as_i64(), line["rate_bps"].as_i64()), (Some(1_800_000), Some(1_500)), "{deal}");
    b.sign_out().await;
    let body = json!({ "email": "pat@p1.example", "name": "Pat", "role": "partner", "partner_id": "p-1" });
    let (_, invitation) = app.send("POST", "/v1/invitations", Some(&admin), Some(body)).await;
    b.accept_invitation(invitation["link"].as_str().unwrap(), "Pat").await;
    let due = line["due_at"].as_i64().unwrap();
    let (year, month, _) = pactum_pdk::time::civil_date(due);
    b.goto(&format!("/commission/{year:04}-{month:02}")).await;
    let row = b.text(&format!("#line-{}", line["id"])).await;
    assert!(row.contains("USD 18,000.00"), "{row}");
    b.screenshot("statement").await;
    b.client.clone().close().await.unwrap();
}
