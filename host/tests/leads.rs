//! Lead acceptance over HTTP (issue 16, item 4): a routed lead is offered
//! to its partner, who accepts or declines it within the program's SLA; on
//! decline or timeout the host routes it again without the partners tried;
//! an accepted lead's partner reports its progress. The scheduler fires
//! each offer's timeout once, across a restart and two replicas. Both
//! databases (`PACTUM_TEST_DATABASE_URL`).

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::Service;
use pactum::store::Db;
use serde_json::{Value, json};
use std::sync::Arc;

const HOUR: i64 = 3_600;

fn now() -> i64 {
    pactum::service::now()
}

/// A referral partner working `territory`, and its key.
async fn partner(app: &App, id: &str, territory: &str) -> String {
    let admin = app.key("acme");
    let body = json!({ "id": id, "name": format!("Partner {id}"), "kind": "referral", "territories": [territory] });
    let (status, answer) = app.send("POST", "/v1/partners", Some(admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = app.send("POST", &format!("/v1/partners/{id}/keys"), Some(admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["key"].as_str().unwrap().to_string()
}

async fn lead(app: &App, domain: &str) -> Value {
    let body = json!({ "account_domain": domain, "region": "emea", "source": "webinar" });
    let (status, lead) = app.send("POST", "/v1/leads", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    lead
}

/// The routing decisions recorded for lead `id`, oldest first.
async fn routings(app: &App, id: &str) -> Vec<Value> {
    let (_, log) = app.send("GET", "/v1/decisions?hook=routing&limit=500", Some(app.key("acme")), None).await;
    let mut mine: Vec<Value> =
        log["decisions"].as_array().unwrap().iter().filter(|d| d["subject"] == id).cloned().collect();
    mine.reverse();
    mine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_lead_goes_to_the_next_partner_then_times_out_to_direct() {
    let app = app().await;
    let a = partner(&app, "p-a", "apac").await;
    let b = partner(&app, "p-b", "emea").await;
    // A holds an approved registration on the account.
    let registration = json!({ "partner_id": "p-a", "account_domain": "globex.com", "account_name": "Globex",
        "industry": "software", "employees": 400, "country": "US", "amount": { "amount": 5_000_000, "currency": "USD" } });
    let (status, body) = app.send("POST", "/v1/registrations", Some(&a), Some(registration)).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::CREATED, Some("approved")), "{body}");

    // Offered to A (its registration), with the program's 48 hours.
    let offered = lead(&app, "globex.com").await;
    let id = offered["id"].as_str().unwrap().to_string();
    assert_eq!((offered["status"].as_str(), offered["partner_id"].as_str()), (Some("offered"), Some("p-a")));
    let respond_by = offered["respond_by"].as_i64().unwrap();
    assert!((offered["created_at"].as_i64().unwrap() + 48 * HOUR - respond_by).abs() <= 1, "{offered}");

    // B cannot answer A's offer; A declines: routed again without A, to B
    // (its territory), a new offer with its own clock.
    let (status, _) = app.send("POST", &format!("/v1/leads/{id}/accept"), Some(&b), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) =
        app.send("POST", &format!("/v1/leads/{id}/decline"), Some(&a), Some(json!({ "reason": " " }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, declined) =
        app.send("POST", &format!("/v1/leads/{id}/decline"), Some(&a), Some(json!({ "reason": "no capacity" }))).await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!((declined["status"].as_str(), declined["partner_id"].as_str()), (Some("offered"), Some("p-b")));
    assert_eq!(declined["tried"], json!(["p-a"]));
    let (status, body) =
        app.send("POST", &format!("/v1/leads/{id}/decline"), Some(&a), Some(json!({ "reason": "again" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "A no longer sees it: {body}");

    // Nothing fires before B's offer runs out; then the lead goes direct.
    let b_by = declined["respond_by"].as_i64().unwrap();
    let fired = app.service.fire_due(b_by - 1, 100).await.unwrap();
    assert_eq!(fired.leads_rerouted, 0, "{fired:?}");
    let fired = app.service.fire_due(b_by, 100).await.unwrap();
    assert_eq!(fired.leads_rerouted, 1, "{fired:?}");
    let (_, direct) = app.send("GET", &format!("/v1/leads/{id}"), Some(app.key("acme")), None).await;
    assert_eq!((direct["status"].as_str(), direct["destination"].as_str()), (Some("direct"), Some("direct")));
    assert_eq!((direct["partner_id"].clone(), direct["tried"].clone()), (Value::Null, json!(["p-a", "p-b"])));
    assert_eq!(app.service.fire_due(b_by + 100 * HOUR, 100).await.unwrap().leads_rerouted, 0, "fired once");

    // Three routing decisions: A, then B after A's decline, then direct.
    let decisions = routings(&app, &id).await;
    let destinations: Vec<&Value> = decisions.iter().map(|d| &d["decision"]["destination"]).collect();
    assert_eq!(destinations, [&json!({ "partner": "p-a" }), &json!({ "partner": "p-b" }), &json!("direct")]);
    assert_eq!(direct["decision_id"], decisions[2]["id"]);
    // The plugin saw neither partner tried when it routed again.
    let seen = |d: &Value| d["record"]["input"]["partners"].as_array().unwrap().len();
    assert_eq!((seen(&decisions[1]), seen(&decisions[2])), (1, 0), "{decisions:?}");
    assert!(decisions[2]["record"]["input"]["registrations"].as_array().unwrap().is_empty());
    let (_, events) = app.send("GET", "/v1/notifications?limit=500", Some(app.key("acme")), None).await;
    let rerouted: Vec<&Value> =
        events["notifications"].as_array().unwrap().iter().filter(|n| n["event"] == "lead.rerouted").collect();
    assert_eq!(rerouted.len(), 2, "{events}");
}

/// Declines lead `id` as partner `key`; the lead as routed again.
async fn decline(app: &App, id: &str, key: &str) -> Value {
    let body = json!({ "reason": "no capacity" });
    let (status, lead) = app.send("POST", &format!("/v1/leads/{id}/decline"), Some(key), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{lead}");
    lead
}

/// The re-routing case with the company's routing plugin of 0.1.0 (the
/// stock one), then of 0.2.0 (published and activated over the API): the
/// same decline, two answers. The 0.1.0 plugin is never shown the partner
/// that declined and offers the lead to the next; the 0.2.0 one is shown
/// it (`tried`) and, by its own rule, sends the lead direct naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_plugins_of_0_1_0_and_0_2_0_on_the_same_reroute() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    let a = partner(&app, "p-a", "emea").await;
    partner(&app, "p-b", "emea").await;

    let case = |domain: &'static str| {
        let (app, a) = (&app, &a);
        async move {
            let offered = lead(app, domain).await;
            let id = offered["id"].as_str().unwrap().to_string();
            assert_eq!(offered["partner_id"], "p-a", "{offered}");
            let again = decline(app, &id, a).await;
            assert_eq!(again["tried"], json!(["p-a"]), "{again}");
            (again, routings(app, &id).await)
        }
    };

    // 0.1.0: the stock plugin. After A's decline it sees only B, offers B.
    let (stock_lead, stock_log) = case("globex.com").await;
    assert_eq!((stock_lead["status"].as_str(), stock_lead["partner_id"].as_str()), (Some("offered"), Some("p-b")));

    // 0.2.0: published like any plugin (it passes the company's routing
    // fixtures), reported at its version, activated.
    let wasm = std::fs::read(pactum_plugin_artifacts::ROUTING_V0_2).unwrap();
    let (status, published) =
        app.send_raw("POST", "/v1/plugins?name=routing-v2&version=1.0.0&hook=routing", Some(&admin), wasm).await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let hash = published["hash"].as_str().unwrap().to_string();
    let (_, plugins) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    let version_of = |name: &str| {
        let all = plugins["plugins"].as_array().unwrap();
        all.iter().find(|p| p["name"] == name).map(|p| p["wit_version"].clone()).unwrap_or_else(|| panic!("{plugins}"))
    };
    assert_eq!((version_of("routing-v2"), version_of("stock")), (json!("0.2.0"), json!("0.1.0")));
    let activate = json!({ "plugin": hash, "reason": "routing that knows who declined" });
    let (status, body) = app.send("PUT", "/v1/bindings/routing", Some(&admin), Some(activate)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (v2_lead, v2_log) = case("initech.com").await;
    assert_eq!((v2_lead["status"].as_str(), v2_lead["partner_id"].clone()), (Some("direct"), Value::Null));
    assert_eq!(v2_lead["reason"], "already offered to p-a: direct sales takes it from here", "{v2_lead}");

    // Two routing decisions per lead, each by its own plugin, and the
    // inputs of the second say the same for both versions: B alone among
    // the partners, A tried.
    for (log, plugin) in [(&stock_log, None), (&v2_log, Some(hash.as_str()))] {
        assert_eq!(log.len(), 2, "{log:?}");
        if let Some(plugin) = plugin {
            assert!(log.iter().all(|d| d["plugin"] == plugin), "{log:?}");
        }
        let input = &log[1]["record"]["input"];
        let partners: Vec<&Value> = input["partners"].as_array().unwrap().iter().map(|p| &p["id"]).collect();
        assert_eq!((partners, &input["tried"]), (vec![&json!("p-b")], &json!(["p-a"])), "{input}");
    }
    assert_ne!(stock_log[1]["plugin"], v2_log[1]["plugin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_lead_reports_forwards_and_never_times_out() {
    let app = app().await;
    let b = partner(&app, "p-b", "emea").await;
    let offered = lead(&app, "initech.com").await;
    let id = offered["id"].as_str().unwrap();
    let respond_by = offered["respond_by"].as_i64().unwrap();
    // Offered two hours ago, so the response times below are not zero.
    let sql = format!("UPDATE leads SET offered_at = offered_at - 7200 WHERE id = '{id}'");
    assert_eq!(common::app::execute_sql(&app.database_url, &sql).await, 1);

    let (status, accepted) = app.send("POST", &format!("/v1/leads/{id}/accept"), Some(&b), None).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["accepted_at"].as_i64().unwrap() >= offered["created_at"].as_i64().unwrap());
    assert!(accepted["respond_by"].is_null());
    for (what, body) in [("accept", None), ("decline", Some(json!({ "reason": "changed my mind" })))] {
        let (status, body) = app.send("POST", &format!("/v1/leads/{id}/{what}"), Some(&b), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{what}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("is accepted"), "{body}");
    }
    assert_eq!(app.service.fire_due(respond_by + HOUR, 100).await.unwrap().leads_rerouted, 0);

    let report = |status: &str| json!({ "status": status, "note": format!("{status} today") });
    let (status, contacted) =
        app.send("POST", &format!("/v1/leads/{id}/status"), Some(&b), Some(report("contacted"))).await;
    assert_eq!(status, StatusCode::OK, "{contacted}");
    let first_contact = contacted["first_contact_at"].as_i64().unwrap();
    let (status, qualified) =
        app.send("POST", &format!("/v1/leads/{id}/status"), Some(&b), Some(report("qualified"))).await;
    assert_eq!((status, qualified["status_note"].as_str()), (StatusCode::OK, Some("qualified today")), "{qualified}");
    assert_eq!(qualified["first_contact_at"], first_contact, "the first contact stays the first");
    let (status, body) = app.send("POST", &format!("/v1/leads/{id}/status"), Some(&b), Some(report("contacted"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "backwards: {body}");
    let (status, body) = app.send("POST", &format!("/v1/leads/{id}/status"), Some(&b), Some(report("offered"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, converted) =
        app.send("POST", &format!("/v1/leads/{id}/status"), Some(&b), Some(report("converted"))).await;
    assert_eq!((status, converted["status"].as_str()), (StatusCode::OK, Some("converted")), "{converted}");

    // Each answer and report is in the decision log, with who gave it
    // (after the routing decision itself).
    let steps: Vec<(String, bool)> = routings(&app, id)
        .await
        .iter()
        .skip(1)
        .map(|d| {
            (
                d["decision"]["status"].as_str().unwrap().to_string(),
                d["actor"].as_str().is_some_and(|a| a.starts_with("key:")),
            )
        })
        .collect();
    let expected: Vec<(String, bool)> =
        ["accepted", "contacted", "qualified", "converted"].iter().map(|s| (s.to_string(), true)).collect();
    assert_eq!(steps, expected);

    // The month's scorecard carries the partner's response times.
    let offered_at = converted["offered_at"].as_i64().unwrap();
    let accepted_at = converted["accepted_at"].as_i64().unwrap();
    let period = pactum_pdk::time::format_date(accepted_at)[..7].to_string();
    let (status, cards) = app.send("POST", &format!("/v1/scorecards/{period}"), Some(app.key("acme")), None).await;
    assert_eq!(status, StatusCode::OK, "{cards}");
    let card = cards["scorecards"].as_array().unwrap().iter().find(|c| c["partner_id"] == "p-b").unwrap().clone();
    assert_eq!(card["leads_accepted"], 1, "{card}");
    assert!(accepted_at - offered_at >= 7_200, "{converted}");
    assert_eq!(card["accept_avg_s"], accepted_at - offered_at, "{card}");
    assert_eq!(card["first_contact_avg_s"], first_contact - offered_at, "{card}");

    // A lead that went direct has no one to answer it.
    let (status, body) = app
        .send(
            "POST",
            "/v1/leads",
            Some(app.key("acme")),
            Some(json!({ "account_domain": "umbrella.com", "region": "latam", "source": "web" })),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::CREATED, Some("direct")), "{body}");
    let (status, body) = app
        .send("POST", &format!("/v1/leads/{}/accept", body["id"].as_str().unwrap()), Some(app.key("acme")), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_offer_times_out_once_across_a_restart_and_two_replicas() {
    let app = app().await;
    partner(&app, "p-b", "emea").await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(lead(&app, &format!("lead-{n}.example")).await["id"].as_str().unwrap().to_string());
    }
    let due = now() + 49 * HOUR;

    // The first process fires two, then stops.
    let fired = app.service.fire_due(due, 2).await.unwrap();
    assert_eq!(fired.leads_rerouted, 2, "{fired:?}");
    app.service.shutdown().await;

    // Two replicas start on the same database and fire at the same time.
    let replica = || async {
        let db = Db::open(&app.database_url).await.unwrap();
        let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
        Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await.unwrap())
    };
    let (one, two) = (replica().await, replica().await);
    let (a, b) = tokio::join!(one.fire_due(due, 100), two.fire_due(due, 100));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.leads_rerouted + b.leads_rerouted, 4, "{a:?} {b:?}");
    assert_eq!(a.failed + b.failed, 0, "{a:?} {b:?}");

    // Each lead: its first routing and one more, direct.
    for id in &ids {
        let decisions = routings(&app, id).await;
        assert_eq!(decisions.len(), 2, "{id}: {decisions:?}");
        let lead = one.db().lead("acme", id).await.unwrap().unwrap();
        assert_eq!((lead.status.as_str(), lead.tried.as_slice()), ("direct", ["p-b".to_string()].as_slice()));
    }
}
