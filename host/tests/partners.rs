//! A partner's lifecycle by people over HTTP (issue 16, item 3): details
//! changed field by field, certifications issued and renewed, a manual
//! tier in the decision log; and the scheduler's notices, once each:
//! certifications 30 days before they expire, reviews past their SLA.
//! Both databases (`PACTUM_TEST_DATABASE_URL`).

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use serde_json::{Value, json};
use std::sync::Arc;

const DAY: i64 = 86_400;

async fn partner(app: &App, id: &str) -> String {
    let admin = app.key("acme");
    let body = json!({ "id": id, "name": "Initech", "kind": "reseller", "territories": ["emea"], "manager": "ann" });
    let (status, answer) = app.send("POST", "/v1/partners", Some(admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, key) = app.send("POST", &format!("/v1/partners/{id}/keys"), Some(admin), None).await;
    key["key"].as_str().unwrap().to_string()
}

/// The company's events named `event`, oldest first.
async fn events(app: &App, event: &str) -> Vec<Value> {
    let (_, all) = app.send("GET", "/v1/notifications?limit=500", Some(app.key("acme")), None).await;
    let mut found: Vec<Value> =
        all["notifications"].as_array().unwrap().iter().filter(|n| n["event"] == event).cloned().collect();
    found.sort_by_key(|n| n["id"].as_i64());
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_is_updated_certified_and_given_a_tier_by_hand() {
    let app = Arc::new(app().await);
    let key = partner(&app, "p-1").await;
    let admin = app.key("acme").to_string();

    // Field by field: what is not named stays; null clears.
    let patch = json!({ "territories": ["emea", "apac"], "contact_email": "ops@initech.example", "manager": null });
    let (status, updated) = app.send("PATCH", "/v1/partners/p-1", Some(&admin), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["territories"], json!(["emea", "apac"]));
    assert_eq!((updated["name"].as_str(), updated["manager"].clone()), (Some("Initech"), Value::Null));
    assert_eq!(updated["contact_email"], "ops@initech.example");
    assert_eq!(updated["version"], 1);
    let changed = events(&app, "partner.updated").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["payload"]["change"]["before"]["manager"], "ann");
    // The same values again change nothing.
    let (_, same) = app.send("PATCH", "/v1/partners/p-1", Some(&admin), Some(json!({ "manager": null }))).await;
    assert_eq!(same["version"], 1);
    for (body, field) in [
        (json!({ "contact_email": "not-an-email" }), "contact_email"),
        (json!({ "name": "" }), "name"),
        (json!({ "colour": "blue" }), "colour"),
    ] {
        let (status, answer) = app.send("PATCH", "/v1/partners/p-1", Some(&admin), Some(body)).await;
        assert!(status.is_client_error(), "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(field), "{answer}");
    }
    let (status, _) = app.send("PATCH", "/v1/partners/p-1", Some(&key), Some(json!({ "name": "Mine" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.send("PATCH", "/v1/partners/p-404", Some(&admin), Some(json!({ "name": "X" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Four managers certify it at once, each for another course: every
    // certification is kept (none lost to a read-modify-write race).
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..4 {
        let (app, admin) = (app.clone(), admin.clone());
        tasks.spawn(async move {
            let body = json!({ "expires_at": null });
            app.send("PUT", &format!("/v1/partners/p-1/certifications/course-{n}"), Some(&admin), Some(body)).await
        });
    }
    for (status, body) in tasks.join_all().await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, now) = app.send("GET", "/v1/partners/p-1", Some(&admin), None).await;
    assert_eq!(now["certifications"].as_array().unwrap().len(), 4, "{now}");
    assert_eq!(now["version"], 5, "{now}");

    // A certification issued, then renewed with a later expiry.
    let expires = pactum::service::now() + 200 * DAY;
    let (status, certified) = app
        .send(
            "PUT",
            "/v1/partners/p-1/certifications/sales-foundations",
            Some(&admin),
            Some(json!({ "expires_at": expires })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{certified}");
    let sales =
        |p: &Value| p["certifications"].as_array().unwrap().iter().find(|c| c["name"] == "sales-foundations").cloned();
    assert_eq!(sales(&certified), Some(json!({ "name": "sales-foundations", "expires_at": expires })));
    let (_, renewed) = app
        .send(
            "PUT",
            "/v1/partners/p-1/certifications/sales-foundations",
            Some(&admin),
            Some(json!({ "expires_at": expires + 365 * DAY })),
        )
        .await;
    assert_eq!(renewed["certifications"].as_array().unwrap().len(), 5, "renewed, not added: {renewed}");
    assert_eq!(sales(&renewed).unwrap()["expires_at"], expires + 365 * DAY);
    let renewals: Vec<Value> = events(&app, "partner.certified")
        .await
        .iter()
        .filter(|e| e["payload"]["change"]["certification"] == "sales-foundations")
        .map(|e| e["payload"]["change"]["renewed"].clone())
        .collect();
    assert_eq!(renewals, [json!(false), json!(true)]);

    // A tier by hand: in the decision log with who and why.
    let (status, gold) = app
        .send("POST", "/v1/partners/p-1/tier", Some(&admin), Some(json!({ "tier": "gold", "reason": "strategic" })))
        .await;
    assert_eq!((status, gold["tier"].as_str()), (StatusCode::OK, Some("gold")), "{gold}");
    let (status, body) = app
        .send("POST", "/v1/partners/p-1/tier", Some(&admin), Some(json!({ "tier": "gold", "reason": "again" })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, log) = app.send("GET", "/v1/decisions?hook=tier-evaluation", Some(&admin), None).await;
    let entry = &log["decisions"][0];
    assert_eq!((entry["outcome"].as_str(), entry["subject"].as_str()), (Some("manual"), Some("p-1")), "{log}");
    assert!(entry["actor"].as_str().unwrap().starts_with("key:"));
    assert_eq!(entry["decision"]["tier"], "gold");
    let overridden = events(&app, "partner.tier-overridden").await;
    assert_eq!(overridden[0]["payload"]["decision_id"], entry["id"]);
    assert_eq!(overridden[0]["payload"]["change"]["from"], "registered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_warns_of_expiring_certifications_and_overdue_reviews_once() {
    let app = app().await;
    let key = partner(&app, "p-1").await;
    let admin = app.key("acme").to_string();
    let now = pactum::service::now();

    // Expiring in 40 days: nothing yet; 10 days later, one notice, once.
    let expires = now + 40 * DAY;
    let cert = json!({ "expires_at": expires });
    app.send("PUT", "/v1/partners/p-1/certifications/cloud", Some(&admin), Some(cert)).await;
    assert_eq!(app.service.fire_due(now, 100).await.unwrap().notices, 0);
    assert_eq!(app.service.fire_due(now + 10 * DAY + 1, 100).await.unwrap().notices, 1);
    assert_eq!(app.service.fire_due(now + 11 * DAY, 100).await.unwrap().notices, 0);
    let warned = events(&app, "partner.certification-expiring").await;
    assert_eq!(warned.len(), 1);
    assert_eq!(
        (warned[0]["payload"]["certification"].as_str(), warned[0]["payload"]["expires_at"].as_i64()),
        (Some("cloud"), Some(expires))
    );
    // Renewed, it is warned of again before its new date.
    let renewed = now + 50 * DAY;
    app.send("PUT", "/v1/partners/p-1/certifications/cloud", Some(&admin), Some(json!({ "expires_at": renewed })))
        .await;
    assert_eq!(app.service.fire_due(now + 25 * DAY, 100).await.unwrap().notices, 1);

    // A registration in review (12 employees: outside Acme's profile):
    // overdue after 2 business days, escalated after 4, once each.
    let registration = json!({ "partner_id": "p-1", "account_domain": "tiny.io", "account_name": "Tiny",
        "industry": "software", "employees": 12, "country": "US", "amount": { "amount": 100_000, "currency": "USD" } });
    let (status, review) = app.send("POST", "/v1/registrations", Some(&key), Some(registration)).await;
    assert_eq!((status, review["status"].as_str()), (StatusCode::CREATED, Some("review")), "{review}");
    let created = review["created_at"].as_i64().unwrap();
    let overdue = pactum::scheduler::add_business_days(created, 2);
    let escalated = pactum::scheduler::add_business_days(created, 4);
    assert_eq!(app.service.fire_due(overdue - 1, 100).await.unwrap().notices, 0);
    assert_eq!(app.service.fire_due(overdue, 100).await.unwrap().notices, 1);
    assert_eq!(app.service.fire_due(overdue + 1, 100).await.unwrap().notices, 0);
    assert_eq!(app.service.fire_due(escalated, 100).await.unwrap().notices, 1);
    let late = events(&app, "registration.review-overdue").await;
    assert_eq!((late.len(), late[0]["payload"]["manager"].as_str()), (1, Some("ann")));
    assert_eq!(events(&app, "registration.review-escalated").await.len(), 1);
    // Decided, it is no longer waited for.
    let id = review["id"].as_str().unwrap();
    let (status, body) =
        app.send("POST", &format!("/v1/registrations/{id}/approve"), Some(&admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(app.service.db().reviews_waiting_since(escalated + DAY).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_changes_wait_for_a_manager_when_the_program_says_so() {
    let app = Arc::new(app().await);
    // Acme's program with tier-approval on.
    let program =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/acme/policy.toml"))
            .unwrap()
            .replace("slug = \"acme\"", "slug = \"tiered\"")
            + "\ntier-approval = true\n";
    let (_, admin) = app
        .service
        .create_tenant(&program, std::path::Path::new("tiered/policy.toml"), |_| {
            Some(pactum_plugin_artifacts::STOCK_BYTES.to_vec())
        })
        .await
        .unwrap();
    let oct_15 = 1_792_022_400; // 2026-10-15
    for (id, manager, acv) in [("p-up", Some("ann"), 21_000_000), ("p-no", None, 21_000_000)] {
        let body = json!({ "id": id, "name": id, "kind": "reseller", "manager": manager });
        app.send("POST", "/v1/partners", Some(&admin), Some(body)).await;
        let deal = json!({ "id": format!("d-{id}"), "partner_id": id, "account_domain": format!("{id}.example"),
                           "first_year_acv": { "amount": acv, "currency": "USD" }, "source": "partner-sourced" });
        app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
        let (status, body) = app
            .send("POST", &format!("/v1/deals/d-{id}/won"), Some(&admin), Some(json!({ "closed_at": oct_15 })))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // The run promotes both to Silver on paper; neither tier changes yet.
    let (status, run) = app.send("POST", "/v1/scorecards/2026-10", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    for card in run["scorecards"].as_array().unwrap() {
        assert_eq!((card["tier_after"].as_str(), card["tier_status"].as_str()), (Some("silver"), Some("pending")));
    }
    let (_, p) = app.send("GET", "/v1/partners/p-up", Some(&admin), None).await;
    assert_eq!(p["tier"], "registered");
    let (_, queue) = app.send("GET", "/v1/tier-changes", Some(&admin), None).await;
    assert_eq!(queue["scorecards"].as_array().unwrap().len(), 2, "{queue}");
    // The scorecard went to the manager of the partner that has one.
    let (_, all) = app.send("GET", "/v1/notifications?limit=500", Some(&admin), None).await;
    let ready: Vec<&Value> =
        all["notifications"].as_array().unwrap().iter().filter(|n| n["event"] == "scorecard.ready").collect();
    assert_eq!(ready.len(), 1, "{all}");
    assert_eq!(
        (ready[0]["payload"]["manager"].as_str(), ready[0]["payload"]["scorecard"]["partner_id"].as_str()),
        (Some("ann"), Some("p-up"))
    );

    // Four managers approve p-up at once: one does; p-no is rejected.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..4 {
        let (app, admin) = (app.clone(), admin.clone());
        tasks.spawn(async move {
            let body = json!({ "reason": format!("approved by manager {n}") });
            app.send("POST", "/v1/tier-changes/p-up/2026-10/approve", Some(&admin), Some(body)).await
        });
    }
    let answers = tasks.join_all().await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count(), 3, "{answers:?}");
    let (status, rejected) = app
        .send("POST", "/v1/tier-changes/p-no/2026-10/reject", Some(&admin), Some(json!({ "reason": "wait a quarter" })))
        .await;
    assert_eq!((status, rejected["tier_status"].as_str()), (StatusCode::OK, Some("rejected")), "{rejected}");
    let (_, up) = app.send("GET", "/v1/partners/p-up", Some(&admin), None).await;
    let (_, no) = app.send("GET", "/v1/partners/p-no", Some(&admin), None).await;
    assert_eq!((up["tier"].as_str(), no["tier"].as_str()), (Some("silver"), Some("registered")));
    let (_, log) = app.send("GET", "/v1/decisions?hook=tier-evaluation&limit=100", Some(&admin), None).await;
    let manual: Vec<(&str, &Value)> = log["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "manual")
        .map(|d| (d["subject"].as_str().unwrap(), &d["decision"]["approved"]))
        .collect();
    assert_eq!(manual, [("p-no", &json!(false)), ("p-up", &json!(true))]);
    let (_, queue) = app.send("GET", "/v1/tier-changes", Some(&admin), None).await;
    assert!(queue["scorecards"].as_array().unwrap().is_empty());
    let (status, _) =
        app.send("POST", "/v1/tier-changes/p-404/2026-10/approve", Some(&admin), Some(json!({ "reason": "x" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
