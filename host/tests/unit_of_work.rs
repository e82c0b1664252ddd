//! Money moves exactly once: every workflow step that changes money or a
//! record's state is one unit of work, guarded in SQL against concurrent
//! callers. Run on SQLite by default and on PostgreSQL in CI
//! (`PACTUM_TEST_DATABASE_URL`, see `common/app.rs`).
//!
//! - Many concurrent calls of one transition (won, lost, refund): exactly
//!   one moves the deal and pays or claws back; every other call gets 409
//!   naming the deal's current stage, and nothing of theirs is stored.
//! - A failure injected before each write statement of each step (the
//!   store's test hook, [`pactum::store::Db::fail_at_statement`]) leaves
//!   nothing of that step visible, and the same request then succeeds.

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use serde_json::{Value, json};
use std::sync::Arc;

/// How many callers race for one transition.
const RACERS: usize = 50;

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

async fn partner(app: &App, id: &str) {
    let admin = app.key("acme").to_string();
    let body = json!({ "id": id, "name": format!("Partner {id}"), "kind": "referral", "territories": ["emea"] });
    let (status, body) = app.send("POST", "/v1/partners", Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn deal(app: &App, id: &str, partner: Option<&str>, acv: i64) {
    let admin = app.key("acme").to_string();
    let source = if partner.is_some() { "partner-sourced" } else { "direct" };
    let body = json!({ "id": id, "partner_id": partner, "account_domain": format!("{id}.com"),
                       "first_year_acv": usd(acv), "source": source });
    let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Sends `RACERS` copies of one request at once; returns each answer.
async fn race(app: &Arc<App>, uri: &str, body: Value) -> Vec<(StatusCode, Value)> {
    race_each(app, |_| (uri.to_string(), body.clone())).await
}

/// Sends `RACERS` requests at once, the `i`-th being `request(i)` (a URI
/// and a body), with the company's admin key; returns each answer.
async fn race_each(app: &Arc<App>, request: impl Fn(usize) -> (String, Value)) -> Vec<(StatusCode, Value)> {
    let admin = app.key("acme").to_string();
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..RACERS {
        let (app, admin, barrier) = (app.clone(), admin.clone(), barrier.clone());
        let (uri, body) = request(i);
        tasks.spawn(async move {
            barrier.wait().await;
            app.send("POST", &uri, Some(&admin), Some(body)).await
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.unwrap());
    }
    answers
}

/// Exactly one answer is 200; every other one is 409 and its message
/// contains `names` (the deal's current state).
fn exactly_one_moved(answers: &[(StatusCode, Value)], names: &str) -> Value {
    let ok: Vec<_> = answers.iter().filter(|(s, _)| *s == StatusCode::OK).collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!(ok.len(), 1, "exactly one call moves the deal: {statuses:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "conflict", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{message:?} should name {names:?}");
    }
    ok[0].1.clone()
}

/// The company's decisions about `subject`, and its events about a deal.
async fn decisions_about(app: &App, hook: &str, subject: &str) -> usize {
    let admin = app.key("acme");
    let (_, all) = app.send("GET", &format!("/v1/decisions?hook={hook}&limit=500"), Some(admin), None).await;
    all["decisions"].as_array().unwrap().iter().filter(|d| d["subject"] == subject).count()
}

async fn events(app: &App, event: &str) -> Vec<Value> {
    let admin = app.key("acme");
    let (_, all) = app.send("GET", "/v1/notifications?limit=500", Some(admin), None).await;
    all["notifications"].as_array().unwrap().iter().filter(|e| e["event"] == event).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_wins_pay_once() {
    let app = Arc::new(app().await);
    partner(&app, "p-1").await;
    deal(&app, "d-1", Some("p-1"), 12_000_000).await;

    let answers = race(&app, "/v1/deals/d-1/won", json!({})).await;
    let won = exactly_one_moved(&answers, "is won already");
    assert_eq!(won["stage"], "won");
    // Acme's 15 % referral fee on $120,000: one line of $18,000.
    let lines = won["commission_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{won}");
    assert_eq!(lines[0]["amount"], 1_800_000);

    let (_, now) = app.send("GET", "/v1/deals/d-1", Some(app.key("acme")), None).await;
    assert_eq!(now["commission_lines"].as_array().unwrap().len(), 1, "{now}");
    assert_eq!(decisions_about(&app, "commission", "d-1").await, 1);
    assert_eq!(events(&app, "commission.created").await.len(), 1);
    let (_, statement) =
        app.send("GET", "/v1/partners/p-1/statement?from=0&to=4102444800", Some(app.key("acme")), None).await;
    assert_eq!(statement["total"], 1_800_000, "{statement}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refunds_claw_back_once() {
    let app = Arc::new(app().await);
    partner(&app, "p-1").await;
    deal(&app, "d-1", Some("p-1"), 12_000_000).await;
    let (status, body) = app.send("POST", "/v1/deals/d-1/won", Some(app.key("acme")), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The whole ACV refunded: one refund takes it; the others find it
    // refunded (in SQL, or by the fast check once the first is stored).
    let answers = race(&app, "/v1/deals/d-1/refund", json!({ "amount": usd(12_000_000) })).await;
    let refunded = exactly_one_moved(&answers, "refunded");
    assert_eq!(refunded["refunded"], 12_000_000);
    let amounts: Vec<i64> =
        refunded["commission_lines"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, [1_800_000, -1_800_000], "one fee, one clawback");
    assert_eq!(decisions_about(&app, "commission", "d-1").await, 2, "the win's and one refund's");
    assert_eq!(events(&app, "commission.clawback").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_losses_and_direct_wins_close_once() {
    let app = Arc::new(app().await);
    partner(&app, "p-1").await;
    deal(&app, "d-lost", Some("p-1"), 12_000_000).await;
    let answers = race(&app, "/v1/deals/d-lost/lost", json!({})).await;
    let lost = exactly_one_moved(&answers, "is lost already");
    assert_eq!(lost["stage"], "lost");
    assert_eq!(events(&app, "deal.lost").await.len(), 1);

    // A direct deal has no commission: its win is the guarded close alone.
    deal(&app, "d-direct", None, 5_000_000).await;
    let answers = race(&app, "/v1/deals/d-direct/won", json!({})).await;
    exactly_one_moved(&answers, "is won already");
    assert_eq!(events(&app, "deal.won").await.len(), 1);
    let answers = race(&app, "/v1/deals/d-direct/refund", json!({ "amount": usd(5_000_000) })).await;
    exactly_one_moved(&answers, "refunded");
    assert_eq!(events(&app, "deal.refunded").await.len(), 1);

    // A won deal cannot be lost, nor a lost one won.
    let (status, body) = app.send("POST", "/v1/deals/d-lost/won", Some(app.key("acme")), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is lost already"), "{body}");
}

/// Everything a step may write, as the API and the store show it.
async fn visible(app: &App, domains: &[&str]) -> Value {
    let admin = app.key("acme");
    let mut seen = serde_json::Map::new();
    for uri in [
        "/v1/decisions?limit=500",
        "/v1/notifications?limit=500",
        "/v1/registrations?limit=500",
        "/v1/leads?limit=500",
        "/v1/partners",
        "/v1/deals/d-partner",
        "/v1/deals/d-direct",
        "/v1/deals/d-lost",
        "/v1/scorecards/2026-11",
        "/v1/partners/p-1/statement?from=0&to=4102444800",
    ] {
        let (_, body) = app.send("GET", uri, Some(admin), None).await;
        seen.insert(uri.to_string(), body);
    }
    for domain in domains {
        let (account, _) = app.service.db().account_with_live_registrations("acme", domain, 0).await.unwrap();
        seen.insert(format!("account {domain}"), serde_json::to_value(account).unwrap());
    }
    Value::Object(seen)
}

/// Runs `step` with a failure injected before its 1st, 2nd, ... write
/// statement: each time nothing of it is visible afterwards. Then, once the
/// step has fewer statements than the failure is set at, it succeeds.
/// Returns how many statements the step wrote.
async fn fails_whole_then_succeeds<F, Fut>(app: &App, what: &str, domains: &[&str], step: F) -> u64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    let db = app.service.db().clone();
    for n in 1.. {
        let before = visible(app, domains).await;
        db.fail_at_statement(n);
        let (status, body) = step().await;
        if db.fault_armed() {
            db.fail_at_statement(0);
            assert!(status.is_success(), "{what}: the retry succeeds: {status} {body}");
            assert!(n > 2, "{what}: a step of one statement proves nothing ({n})");
            assert_ne!(visible(app, domains).await, before, "{what}: the retry is stored");
            return n - 1;
        }
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}, failure at statement {n}: {body}");
        let after = visible(app, domains).await;
        assert_eq!(after, before, "{what}: a failure at write statement {n} left part of the step behind");
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_between_any_two_writes_leaves_nothing_and_a_retry_succeeds() {
    let app = app().await;
    partner(&app, "p-1").await;
    let admin = app.key("acme").to_string();
    let a = &app;

    let registration = json!({ "partner_id": "p-1", "account_domain": "globex.com", "account_name": "Globex",
                                "industry": "software", "employees": 400, "country": "US", "amount": usd(12_000_000) });
    let n = fails_whole_then_succeeds(a, "registration", &["globex.com"], || {
        a.send("POST", "/v1/registrations", Some(&admin), Some(registration.clone()))
    })
    .await;
    assert_eq!(n, 4, "account, decision, registration, event");

    let lead =
        json!({ "account_domain": "initech.com", "account_name": "Initech", "region": "emea", "source": "webinar" });
    let n = fails_whole_then_succeeds(a, "lead", &["initech.com"], || {
        a.send("POST", "/v1/leads", Some(&admin), Some(lead.clone()))
    })
    .await;
    assert_eq!(n, 4, "account, decision, lead, event");

    // A partner deal on the registered account: the win closes the
    // registration with it.
    let body = json!({ "id": "d-partner", "partner_id": "p-1", "account_domain": "globex.com",
                       "first_year_acv": usd(12_000_000), "source": "partner-sourced" });
    let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let n = fails_whole_then_succeeds(a, "partner deal won", &[], || {
        a.send("POST", "/v1/deals/d-partner/won", Some(&admin), Some(json!({})))
    })
    .await;
    assert_eq!(n, 5, "deal, registration, decision, lines, event");
    let (_, registrations) = app.send("GET", "/v1/registrations", Some(&admin), None).await;
    assert_eq!(registrations["registrations"][0]["status"], "won");

    let n = fails_whole_then_succeeds(a, "partner deal refunded", &[], || {
        a.send("POST", "/v1/deals/d-partner/refund", Some(&admin), Some(json!({ "amount": usd(6_000_000) })))
    })
    .await;
    assert_eq!(n, 5, "deal, decision, clawback line, the line it takes back, event");

    deal(&app, "d-direct", None, 5_000_000).await;
    fails_whole_then_succeeds(a, "direct deal won", &[], || {
        a.send("POST", "/v1/deals/d-direct/won", Some(&admin), Some(json!({})))
    })
    .await;
    fails_whole_then_succeeds(a, "direct deal refunded", &[], || {
        a.send("POST", "/v1/deals/d-direct/refund", Some(&admin), Some(json!({ "amount": usd(1_000_000) })))
    })
    .await;
    deal(&app, "d-lost", Some("p-1"), 5_000_000).await;
    fails_whole_then_succeeds(a, "deal lost", &[], || {
        a.send("POST", "/v1/deals/d-lost/lost", Some(&admin), Some(json!({})))
    })
    .await;

    // The scorecard: the won $120,000 (closed in November 2026) promotes
    // p-1 to Silver. Decisions, scorecards, the tier and its escalation
    // event are one unit of work.
    let at = 1_795_651_200; // 2026-11-26
    deal(&app, "d-nov", Some("p-1"), 12_000_000).await;
    let (status, body) = app.send("POST", "/v1/deals/d-nov/won", Some(&admin), Some(json!({ "closed_at": at }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let n =
        fails_whole_then_succeeds(a, "scorecard", &[], || a.send("POST", "/v1/scorecards/2026-11", Some(&admin), None))
            .await;
    assert!(n >= 3, "decisions, scorecards, tier: {n}");
    let (_, p1) = app.send("GET", "/v1/partners/p-1", Some(&admin), None).await;
    assert_eq!(p1["tier"], "silver", "{p1}");
}

/// The people's steps (issue 16) are units of work too: a failure before
/// any of their writes leaves nothing of them, and a retry succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_in_a_person_s_step_leaves_nothing_and_a_retry_succeeds() {
    let app = app().await;
    partner(&app, "p-1").await;
    let admin = app.key("acme").to_string();
    let a = &app;
    let aug_10 = 1_786_320_000; // due 2026-09-09, paid by September's run
    deal(&app, "d-partner", Some("p-1"), 12_000_000).await;
    let (status, won) =
        app.send("POST", "/v1/deals/d-partner/won", Some(&admin), Some(json!({ "closed_at": aug_10 }))).await;
    assert_eq!(status, StatusCode::OK, "{won}");
    let line = won["commission_lines"][0]["id"].as_i64().unwrap();
    let post = |uri: String, body: Value| {
        let admin = admin.clone();
        async move { a.send("POST", &uri, Some(&admin), Some(body)).await }
    };

    let n = fails_whole_then_succeeds(a, "line held", &[], || {
        post(format!("/v1/lines/{line}/hold"), json!({ "reason": "audit" }))
    })
    .await;
    assert_eq!(n, 3, "line, decision, event");
    post(format!("/v1/lines/{line}/release"), json!({ "reason": "audited" })).await;
    let n = fails_whole_then_succeeds(a, "line adjusted", &[], || {
        post(format!("/v1/lines/{line}/adjust"), json!({ "reason": "SPIFF", "amount": 10_000 }))
    })
    .await;
    assert_eq!(n, 4, "line, decision, adjustment line, event");
    let n = fails_whole_then_succeeds(a, "payout run", &[], || {
        post("/v1/payout-runs".into(), json!({ "period": "2026-09" }))
    })
    .await;
    assert!(n >= 5, "decision, run, lines, payouts, summary, event: {n}");

    let (status, lead) = app
        .send(
            "POST",
            "/v1/leads",
            Some(&admin),
            Some(json!({ "account_domain": "hooli.com", "region": "emea", "source": "web" })),
        )
        .await;
    assert_eq!((status, lead["status"].as_str()), (StatusCode::CREATED, Some("offered")), "{lead}");
    let id = lead["id"].as_str().unwrap().to_string();
    let n = fails_whole_then_succeeds(a, "lead declined", &["hooli.com"], || {
        post(format!("/v1/leads/{id}/decline"), json!({ "reason": "no capacity" }))
    })
    .await;
    assert!(n >= 3, "lead, decision, event: {n}");

    let registration = json!({ "partner_id": "p-1", "account_domain": "globex.com", "account_name": "Globex",
                                "industry": "software", "employees": 400, "country": "US", "amount": usd(1_000_000) });
    let (_, reg) = app.send("POST", "/v1/registrations", Some(&admin), Some(registration)).await;
    let reg = reg["id"].as_str().unwrap().to_string();
    let n = fails_whole_then_succeeds(a, "extension asked", &[], || {
        post(format!("/v1/registrations/{reg}/extension"), json!({ "days": 30, "reason": "procurement" }))
    })
    .await;
    assert_eq!(n, 2, "registration, event");
    let n = fails_whole_then_succeeds(a, "extension granted", &[], || {
        post(format!("/v1/registrations/{reg}/extension/grant"), json!({ "reason": "ok" }))
    })
    .await;
    assert_eq!(n, 3, "registration, decision, event");
    let n = fails_whole_then_succeeds(a, "tier set by hand", &[], || {
        post("/v1/partners/p-1/tier".into(), json!({ "tier": "gold", "reason": "strategic" }))
    })
    .await;
    assert_eq!(n, 3, "partner, decision, event");
    let history = json!({ "partners": [{ "id": "p-old", "name": "Old", "kind": "referral", "joined_at": aug_10 }] });
    let n = fails_whole_then_succeeds(a, "import", &[], || post("/v1/import".into(), history.clone())).await;
    assert_eq!(n, 3, "decision, partners, event");
}

/// A direct hook call for the hostile tenant (its commission spins).
fn spin_call() -> Value {
    json!({
        "event_time": 1_795_651_200,
        "input": {
            "event": "won",
            "deal": { "id": "d-1", "first_year_acv": usd(100), "services": usd(0),
                      "source": "partner-sourced", "closed_at": 1_795_651_200 },
            "partner": { "id": "p-1", "name": "Initech", "kind": "referral", "tier": "silver",
                         "territories": [], "certifications": [], "active": true },
            "prior_lines": [],
            "quarter_to_date": usd(0)
        }
    })
}

/// Creates company `slug`, whose commission plugin (the hostile one) spins
/// until its deadline of `deadline_ms`; returns its admin key.
async fn spinner(app: &App, slug: &str, deadline_ms: u64) -> String {
    let program = format!(
        "[company]\nslug = \"{slug}\"\nname = \"{slug}\"\ncurrency = \"USD\"\n[hooks]\ncommission = \"hostile\"\n\
         [limits]\ndeadline-ms = {deadline_ms}\nfuel = 1000000000000\n[params]\nmode = \"spin\"\n"
    );
    let hostile = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let stock = pactum_plugin_artifacts::STOCK_BYTES.to_vec();
    let resolve = |name: &str| match name {
        "hostile" => Some(hostile.clone()),
        "stock" => Some(stock.clone()),
        _ => None,
    };
    app.service.create_tenant(&program, std::path::Path::new("policy.toml"), resolve).await.unwrap().1
}

/// Overload is not a decision: a call that finds its company's share of
/// the instance slots taken waits a bounded time, then gets 503 with
/// `Retry-After`, and nothing is recorded. Another company still decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_capacity_a_call_gets_503_and_nothing_is_recorded() {
    use pactum::admission::AdmissionLimits;
    use std::time::Duration;
    let admission = AdmissionLimits { slots: 3, share: 1, wait: Duration::from_millis(100) };
    let options = pactum::service::ServiceOptions { admission: Some(admission), ..Default::default() };
    let app = Arc::new(common::app::app_with_options(pactum::runtime::RuntimeConfig::default(), options).await);
    let key = spinner(&app, "spinner", 1_500).await;
    let call = |app: Arc<App>, key: String| async move {
        app.send_full("POST", "/v1/decisions/commission", Some(&key), spin_call().to_string().into_bytes()).await
    };

    // The first call takes the company's one slot and spins to its deadline.
    let first = tokio::spawn(call(app.clone(), key.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, body) = call(app.clone(), key.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert!(body["error"]["message"].as_str().unwrap().contains("nothing was recorded"), "{body}");

    // Another company is not held up by it.
    let acme = app.key("acme").to_string();
    let (status, _, body) = call(app.clone(), acme).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, _, body) = first.await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["outcome"], "timeout", "{body}");
    let (_, decisions) = app.send("GET", "/v1/decisions?limit=500", Some(&key), None).await;
    assert_eq!(decisions["decisions"].as_array().unwrap().len(), 1, "only the admitted call is recorded: {decisions}");
    let (_, metrics) = app.send("GET", "/metrics", None, None).await;
    let metrics = metrics.as_str().unwrap();
    assert!(!metrics.contains(r#"tenant="spinner",hook="commission",outcome="host""#), "{metrics}");
}

/// A registration the approval plugin sent to manual review (Acme: fewer
/// than 50 employees).
async fn in_review(app: &App, domain: &str) -> Value {
    let admin = app.key("acme").to_string();
    let body = json!({ "partner_id": "p-1", "account_domain": domain, "account_name": "Tiny",
                       "industry": "software", "employees": 12, "country": "US", "amount": usd(1_000_000) });
    let (status, registration) = app.send("POST", "/v1/registrations", Some(&admin), Some(body)).await;
    assert_eq!((status, registration["status"].as_str()), (StatusCode::CREATED, Some("review")), "{registration}");
    registration
}

/// Manual review: the managers' queue, oldest first with the plugin's
/// reason; a manager's approval or rejection is a decision-log entry naming
/// the manager; the step is one unit of work; a partner key may do none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reviews_a_registration_and_the_log_names_the_manager() {
    let app = app().await;
    partner(&app, "p-1").await;
    let manager = app.service.create_key("acme", "manager", None).await.unwrap();
    let manager_id = format!("key:{}", &pactum::service::key_hash(&manager)[..12]);
    let first = in_review(&app, "tiny.io").await;
    let second = in_review(&app, "small.io").await;

    let (status, queue) = app.send("GET", "/v1/reviews", Some(&manager), None).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let queue = queue["registrations"].as_array().unwrap();
    assert_eq!(queue.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), [first["id"].clone(), second["id"].clone()]);
    assert!(queue[0]["reason"].as_str().unwrap().contains("12 employees"), "{}", queue[0]);

    // A partner key may neither see the queue nor decide.
    let partner_key = app.service.create_key("acme", "partner", Some("p-1")).await.unwrap();
    let id = first["id"].as_str().unwrap();
    let (status, _) = app.send("GET", "/v1/reviews", Some(&partner_key), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        app.send("POST", &format!("/v1/registrations/{id}/approve"), Some(&partner_key), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Rejecting needs a reason.
    let (status, body) = app
        .send("POST", &format!("/v1/registrations/{id}/reject"), Some(&manager), Some(json!({ "reason": " " })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Approved with the program's 90 days; the failure-injection loop shows
    // the transition, the entry, the link and the event are one unit.
    let uri = format!("/v1/registrations/{id}/approve");
    let n = fails_whole_then_succeeds(&app, "manual approval", &[], || {
        app.send("POST", &uri, Some(&manager), Some(json!({})))
    })
    .await;
    assert_eq!(n, 4, "transition, decision, link, event");
    let (_, approved) = app.send("GET", &format!("/v1/registrations/{id}"), Some(&manager), None).await;
    assert_eq!(approved["status"], "approved");
    let protected = approved["protected_until"].as_i64().unwrap() - pactum::service::now();
    assert!((90 * 86_400 - 60..=90 * 86_400).contains(&protected), "{approved}");
    let decision_id = approved["decision_id"].as_i64().unwrap();
    let (_, decision) = app.send("GET", &format!("/v1/decisions/{decision_id}"), Some(&manager), None).await;
    assert_eq!(decision["actor"], manager_id.as_str(), "{decision}");
    assert_eq!(
        (&decision["hook"], &decision["outcome"], &decision["plugin"]),
        (&json!("approval"), &json!("manual"), &json!(""))
    );
    assert_eq!(decision["decision"]["outcome"], json!({ "approve": 90 }), "{decision}");
    assert_eq!(decision["subject"], id);
    let reviewed = events(&app, "registration.reviewed").await;
    assert_eq!(reviewed.len(), 1);
    assert_eq!(reviewed[0]["payload"]["id"], id);
    // Once decided, it is no longer in review; a person's decision has no
    // plugin to replay.
    let (status, body) = app.send("POST", &uri, Some(&manager), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("approved"), "{body}");
    let (status, body) = app.send("GET", &format!("/v1/decisions/{decision_id}/replay"), Some(&manager), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // The other one, rejected, with its reason for the partner.
    let other = second["id"].as_str().unwrap();
    let reason = "Too small for the reseller program this year";
    let (status, rejected) = app
        .send("POST", &format!("/v1/registrations/{other}/reject"), Some(&manager), Some(json!({ "reason": reason })))
        .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!((rejected["status"].as_str(), rejected["reason"].as_str()), (Some("rejected"), Some(reason)));
    let (_, queue) = app.send("GET", "/v1/reviews", Some(&manager), None).await;
    assert!(queue["registrations"].as_array().unwrap().is_empty(), "{queue}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_reviews_decide_once() {
    let app = Arc::new(app().await);
    partner(&app, "p-1").await;
    let registration = in_review(&app, "tiny.io").await;
    let id = registration["id"].as_str().unwrap();
    let admin = app.key("acme").to_string();
    // Half approve, half reject, all at once.
    let answers = race_each(&app, |i| {
        if i % 2 == 0 {
            (format!("/v1/registrations/{id}/approve"), json!({ "protection_days": 30 }))
        } else {
            (format!("/v1/registrations/{id}/reject"), json!({ "reason": "duplicate of an older deal" }))
        }
    })
    .await;
    let decided = exactly_one_moved(&answers, "review");
    let (_, now) = app.send("GET", &format!("/v1/registrations/{id}"), Some(&admin), None).await;
    assert_eq!(now["status"], decided["status"]);
    let (_, log) = app.send("GET", "/v1/decisions?hook=approval&limit=500", Some(&admin), None).await;
    let manual = log["decisions"].as_array().unwrap().iter().filter(|d| d["outcome"] == "manual").count();
    assert_eq!(manual, 1, "one person's decision recorded");
    assert_eq!(events(&app, "registration.reviewed").await.len(), 1);
}

/// POSTs `body` to `uri` with an Authorization header written as given and
/// an Idempotency-Key, straight to the router: `(status, replayed, body)`.
async fn post_idempotent(
    app: &App,
    authorization: &str,
    key: &str,
    uri: &str,
    body: &Value,
) -> (StatusCode, bool, Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::post(uri)
        .header("authorization", authorization)
        .header("idempotency-key", key)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, replayed, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Idempotency keys: scoped to the API key (not the header's spelling),
/// the query is part of the request's identity, a request the client
/// abandons still finishes and answers its retry, and a claim left by a
/// crash is taken over once its lease has run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_survive_abandoned_requests_and_crashes() {
    let app = app().await;
    partner(&app, "p-1").await;
    let admin = app.key("acme").to_string();
    let registration = json!({ "partner_id": "p-1", "account_domain": "globex.com", "account_name": "Globex",
                               "industry": "software", "employees": 400, "country": "US", "amount": usd(100) });

    // One caller, two spellings of its header: one registration.
    let (status, replayed, first) =
        post_idempotent(&app, &format!("Bearer {admin}"), "k-1", "/v1/registrations", &registration).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{first}");
    let (status, replayed, again) =
        post_idempotent(&app, &format!("Bearer  {admin}"), "k-1", "/v1/registrations", &registration).await;
    assert_eq!((status, replayed, &again["id"]), (StatusCode::CREATED, true, &first["id"]), "{again}");
    // The same key on another query string is another request: refused.
    let (status, _, body) =
        post_idempotent(&app, &format!("Bearer {admin}"), "k-1", "/v1/registrations?dry=1", &registration).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "idempotency-key-reused");

    // A crash left a claim unfinished (as the database shows it after a
    // kill -9 mid-request): a retry within the lease is told to wait, one
    // after it runs the request again.
    let lead = json!({ "account_domain": "initech.com", "source": "webinar" });
    let (status, _, routed) = post_idempotent(&app, &format!("Bearer {admin}"), "k-2", "/v1/leads", &lead).await;
    assert_eq!(status, StatusCode::CREATED, "{routed}");
    let url = &app.database_url;
    let crashed = "UPDATE idempotency SET status = 0, body = NULL WHERE key = 'k-2'";
    assert_eq!(common::app::execute_sql(url, crashed).await, 1);
    let (status, _, body) = post_idempotent(&app, &format!("Bearer {admin}"), "k-2", "/v1/leads", &lead).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "in-progress");
    let aged = "UPDATE idempotency SET created_at = created_at - 61 WHERE key = 'k-2'";
    assert_eq!(common::app::execute_sql(url, aged).await, 1);
    let (status, replayed, rerun) = post_idempotent(&app, &format!("Bearer {admin}"), "k-2", "/v1/leads", &lead).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{rerun}");
    // The first run's lead had committed: the rerun finds it (its id comes
    // from the key) instead of routing the lead a second time.
    assert_eq!(rerun, routed, "the rerun answers with the lead the first run made");
    let (status, replayed, _) = post_idempotent(&app, &format!("Bearer {admin}"), "k-2", "/v1/leads", &lead).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "the rerun's answer is stored");
    let (_, leads) = app.send("GET", "/v1/leads", Some(&admin), None).await;
    assert_eq!(leads["leads"].as_array().unwrap().len(), 1, "{leads}");

    // The same crash window for a registration and a deal (an id the server
    // makes): one record each, however often the lost answer is retried.
    let deal = json!({ "partner_id": "p-1", "account_domain": "globex.com", "first_year_acv": usd(1_000),
                       "source": "partner-sourced" });
    for (key, uri, body, list) in [
        (
            "k-4",
            "/v1/registrations",
            &json!({ "partner_id": "p-1", "account_domain": "hooli.com",
                                              "account_name": "Hooli", "amount": usd(100) }),
            "registrations",
        ),
        ("k-5", "/v1/deals", &deal, ""),
    ] {
        let (status, _, first) = post_idempotent(&app, &format!("Bearer {admin}"), key, uri, body).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        for _ in 0..2 {
            let lost = format!(
                "UPDATE idempotency SET status = 0, body = NULL, created_at = created_at - 61 WHERE key = '{key}'"
            );
            assert_eq!(common::app::execute_sql(url, &lost).await, 1);
            let (status, replayed, rerun) = post_idempotent(&app, &format!("Bearer {admin}"), key, uri, body).await;
            assert_eq!((status, replayed, &rerun["id"]), (StatusCode::CREATED, false, &first["id"]), "{rerun}");
        }
        if !list.is_empty() {
            let (_, rows) = app.send("GET", &format!("{uri}?partner=p-1&limit=500"), Some(&admin), None).await;
            let same = rows[list].as_array().unwrap().iter().filter(|r| r["account_domain"] == "hooli.com").count();
            assert_eq!(same, 1, "{rows}");
        }
    }
    let deals = common::app::query_i64(url, "SELECT COUNT(*) FROM deals").await;
    assert_eq!(deals, 1, "one deal for one key");

    // A client that gives up on a slow request: the request finishes
    // anyway, and the retry gets its answer instead of 409 for ever.
    let slow = spinner(&app, "slow", 700).await;
    let auth = format!("Bearer {slow}");
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(150),
        post_idempotent(&app, &auth, "k-3", "/v1/decisions/commission", &spin_call()),
    )
    .await;
    assert!(abandoned.is_err(), "the client gave up before the answer");
    let (status, _, body) = post_idempotent(&app, &auth, "k-3", "/v1/decisions/commission", &spin_call()).await;
    assert_eq!(status, StatusCode::CONFLICT, "still running: {body}");
    // Retried until it has finished (its deadline is 0.7 s; on a loaded
    // machine it may take longer): then its stored answer comes back.
    let started = std::time::Instant::now();
    let (status, replayed, body) = loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let answer = post_idempotent(&app, &auth, "k-3", "/v1/decisions/commission", &spin_call()).await;
        if answer.0 != StatusCode::CONFLICT || started.elapsed() > std::time::Duration::from_secs(20) {
            break answer;
        }
    };
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{body}");
    assert_eq!(body["outcome"], "timeout", "{body}");
    let (_, decisions) = app.send("GET", "/v1/decisions?limit=500", Some(&slow), None).await;
    assert_eq!(decisions["decisions"].as_array().unwrap().len(), 1, "the abandoned request ran once");
}
