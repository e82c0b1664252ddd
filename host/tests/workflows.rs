//! The program's workflows over HTTP with the seed's numbers: deal
//! registration with protection periods and conflicts, partner-scoped keys,
//! deals won and refunded into commission lines due NET 30, statements,
//! Northwind's accelerator fed by the quarter's won deals, and the held
//! commission when a plugin fails.

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use serde_json::{Value, json};
use std::path::Path;

const DAY: i64 = 86_400;
const T: i64 = 1_795_651_200; // 2026-11-26

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

async fn partner(app: &App, company: &str, id: &str, kind: &str) -> String {
    let admin = app.key(company).to_string();
    let (status, body) = app
        .send(
            "POST",
            "/v1/partners",
            Some(&admin),
            Some(json!({ "id": id, "name": format!("Partner {id}"), "kind": kind, "territories": ["emea"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.send("POST", &format!("/v1/partners/{id}/keys"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["key"].as_str().unwrap().to_string()
}

fn registration(partner: &str, domain: &str, employees: u32) -> Value {
    json!({
        "partner_id": partner, "account_domain": domain, "account_name": "Globex",
        "industry": "software", "employees": employees, "country": "US", "amount": usd(12_000_000)
    })
}

#[tokio::test]
async fn deal_registration_protects_rejects_conflicts_and_reviews() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let p2 = partner(&app, "acme", "p-2", "reseller").await;

    let (status, first) =
        app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "Globex.com", 400))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "approved");
    assert_eq!(first["account_domain"], "globex.com");
    let created = first["created_at"].as_i64().unwrap();
    assert_eq!(first["protected_until"].as_i64().unwrap(), created + 90 * DAY);
    assert!(first["decision_id"].as_i64().is_some() && first["plugin_hash"].as_str().unwrap().len() == 64);

    // Another partner on the same account: rejected, without naming the
    // first (the reason is the second partner's to read).
    let (_, second) =
        app.send("POST", "/v1/registrations", Some(&p2), Some(registration("p-2", "globex.com", 400))).await;
    assert_eq!(second["status"], "rejected");
    let reason = second["reason"].as_str().unwrap();
    assert!(reason.contains("in conflict with another partner's registration"), "{reason}");
    assert!(!reason.contains(first["id"].as_str().unwrap()) && !reason.contains("p-1"), "{reason}");

    // Outside Acme's ideal profile (50+ employees): manual review.
    let (_, small) = app.send("POST", "/v1/registrations", Some(&p2), Some(registration("p-2", "tiny.io", 12))).await;
    assert_eq!(small["status"], "review");
    assert!(small["reason"].as_str().unwrap().contains("12 employees"));

    // The admin sees all three, filtered by status.
    let admin = app.key("acme").to_string();
    let (_, list) = app.send("GET", "/v1/registrations?status=approved", Some(&admin), None).await;
    assert_eq!(list["registrations"].as_array().unwrap().len(), 1);

    // The protection period ends: the background job expires it, and the
    // account is free for the next partner.
    let expired = app.service.expire_registrations(created + 91 * DAY).await.unwrap();
    assert_eq!(expired, 1);
    let (_, after) =
        app.send("GET", &format!("/v1/registrations/{}", first["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!(after["status"], "expired");
}

#[tokio::test]
async fn partner_keys_see_only_their_own_partner() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let p2 = partner(&app, "acme", "p-2", "referral").await;
    let (_, reg) = app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "globex.com", 400))).await;
    let id = reg["id"].as_str().unwrap();

    let (status, _) = app.send("GET", &format!("/v1/registrations/{id}"), Some(&p2), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.send("GET", &format!("/v1/registrations/{id}"), Some(&p1), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.send("GET", "/v1/registrations", Some(&p2), None).await;
    assert!(list["registrations"].as_array().unwrap().is_empty());
    let (_, list) = app.send("GET", "/v1/registrations?partner=p-1", Some(&p2), None).await;
    assert!(list["registrations"].as_array().unwrap().is_empty());

    let (status, body) =
        app.send("POST", "/v1/registrations", Some(&p2), Some(registration("p-1", "initech.com", 400))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = app
        .send("POST", "/v1/partners", Some(&p1), Some(json!({ "id": "p-9", "name": "X", "kind": "referral" })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.send("GET", "/v1/partners/p-2", Some(&p1), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The decision log holds every partner's registrations: a partner key
    // may neither read it nor write to it by running a hook directly.
    let decision_id = reg["decision_id"].as_i64().unwrap();
    for (method, uri) in [
        ("GET", "/v1/decisions?hook=approval".to_string()),
        ("GET", format!("/v1/decisions/{decision_id}")),
        ("GET", "/v1/notifications".to_string()),
        ("GET", "/v1/keys".to_string()),
        ("POST", "/v1/scorecards/2026-11".to_string()),
    ] {
        let (status, body) = app.send(method, &uri, Some(&p2), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("needs an admin"), "{body}");
    }
    let input = json!({ "input": { "event": "won", "prior_lines": [], "quarter_to_date": usd(0),
        "deal": { "id": "d-1", "first_year_acv": usd(100), "services": usd(0), "source": "partner-sourced", "closed_at": 0 },
        "partner": { "id": "p-2", "name": "P", "kind": "referral", "tier": "registered", "territories": [],
                     "certifications": [], "active": true } } });
    let (status, _) = app.send("POST", "/v1/decisions/commission", Some(&p2), Some(input)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A partner may read the program it works under.
    let (status, _) = app.send("GET", "/v1/program", Some(&p2), None).await;
    assert_eq!(status, StatusCode::OK);

    // Another company's key sees nothing of Acme's.
    let (status, _) = app.send("GET", &format!("/v1/registrations/{id}"), Some(app.key("northwind")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.send("GET", "/v1/partners/p-1", Some(app.key("northwind")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn deal(id: &str, partner: &str, acv: i64) -> Value {
    json!({ "id": id, "partner_id": partner, "account_domain": "globex.com", "first_year_acv": usd(acv), "source": "partner-sourced" })
}

#[tokio::test]
async fn won_deal_pays_net_30_and_a_refund_claws_back() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let admin = app.key("acme").to_string();
    let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(deal("d-1", "p-1", 12_000_000))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, won) = app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({ "closed_at": T }))).await;
    assert_eq!(status, StatusCode::OK, "{won}");
    assert_eq!(won["stage"], "won");
    let lines = won["commission_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    // $120,000 first-year ACV from a referral partner at 15 %: $18,000.00, NET 30.
    assert_eq!((lines[0]["amount"].as_i64(), lines[0]["kind"].as_str()), (Some(1_800_000), Some("fee")));
    assert_eq!((lines[0]["status"].as_str(), lines[0]["due_at"].as_i64()), (Some("pending"), Some(T + 30 * DAY)));

    let (status, refunded) = app
        .send(
            "POST",
            "/v1/deals/d-1/refund",
            Some(&admin),
            Some(json!({ "amount": usd(6_000_000), "at": T + 10 * DAY })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refunded}");
    let lines = refunded["commission_lines"].as_array().unwrap();
    assert_eq!((lines[1]["amount"].as_i64(), lines[1]["kind"].as_str()), (Some(-900_000), Some("clawback")));
    assert_eq!(lines[1]["due_at"].as_i64(), Some(T + 40 * DAY));
    // The clawback names the line it takes back, and that line shows it.
    assert_eq!(lines[1]["adjusts"], lines[0]["id"]);
    assert_eq!((lines[0]["clawed_back"].as_i64(), lines[1]["clawed_back"].as_i64()), (Some(900_000), Some(0)));

    // The partner's statement for the period: $18,000 - $9,000.
    let (status, statement) =
        app.send("GET", &format!("/v1/partners/p-1/statement?from={T}&to={}", T + 60 * DAY), Some(&p1), None).await;
    assert_eq!(status, StatusCode::OK, "{statement}");
    assert_eq!(statement["total"], 900_000);
    assert_eq!(statement["lines"].as_array().unwrap().len(), 2);
    let (_, before) =
        app.send("GET", &format!("/v1/partners/p-1/statement?from={T}&to={}", T + 35 * DAY), Some(&p1), None).await;
    assert_eq!(before["total"], 1_800_000);

    // Mistakes are refused, and nothing changes.
    let (status, _) = app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // More than the deal's ACV can never be refunded: invalid input.
    let (status, body) =
        app.send("POST", "/v1/deals/d-1/refund", Some(&admin), Some(json!({ "amount": usd(12_000_001) }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Within it, but more than what earlier refunds left: the deal's state
    // is in the way, and the answer names it.
    let (status, body) =
        app.send("POST", "/v1/deals/d-1/refund", Some(&admin), Some(json!({ "amount": usd(7_000_000) }))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("6000000 refunded already"), "{body}");
    let (status, _) = app.send("POST", "/v1/deals/d-404/won", Some(&admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.send("POST", "/v1/deals/d-1/won", Some(&p1), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, after) = app.send("GET", "/v1/deals/d-1", Some(&admin), None).await;
    assert_eq!(after["commission_lines"].as_array().unwrap().len(), 2);
    assert_eq!(after["refunded"], 6_000_000);
}

#[tokio::test]
async fn northwind_accelerates_on_the_quarter_won_so_far() {
    let app = app().await;
    partner(&app, "northwind", "p-1", "referral").await;
    let admin = app.key("northwind").to_string();
    for (id, acv, closed) in [("d-1", 10_000_000, T - 20 * DAY), ("d-2", 12_000_000, T)] {
        app.send("POST", "/v1/deals", Some(&admin), Some(deal(id, "p-1", acv))).await;
        let (status, won) =
            app.send("POST", &format!("/v1/deals/{id}/won"), Some(&admin), Some(json!({ "closed_at": closed }))).await;
        assert_eq!(status, StatusCode::OK, "{won}");
    }
    // d-1: $100K, below the $150K quota: 12 % = $12,000.
    let (_, d1) = app.send("GET", "/v1/deals/d-1", Some(&admin), None).await;
    let total = |d: &Value| {
        d["commission_lines"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).sum::<i64>()
    };
    assert_eq!(total(&d1), 1_200_000);
    // d-2: $120K with $100K already won this quarter: $70K above quota
    // earns 18 % instead of 12 %: $14,400 + $4,200.
    let (_, d2) = app.send("GET", "/v1/deals/d-2", Some(&admin), None).await;
    assert_eq!(total(&d2), 1_860_000);
    assert_eq!(d2["commission_lines"][1]["kind"], "bonus");
}

#[tokio::test]
async fn a_failing_commission_plugin_holds_the_commission() {
    let app = app().await;
    let program = "[company]\nslug = \"hostile\"\nname = \"Hostile\"\ncurrency = \"USD\"\n[hooks]\ncommission = \"hostile\"\n[params]\nmode = \"spin\"\n[limits]\ndeadline-ms = 20\nfuel = 100_000_000_000\n";
    let hostile = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let (_, admin) = app
        .service
        .create_tenant(program, Path::new("policy.toml"), |name| match name {
            "hostile" => Some(hostile.clone()),
            _ => Some(pactum_plugin_artifacts::STOCK_BYTES.to_vec()),
        })
        .await
        .unwrap();
    app.send("POST", "/v1/partners", Some(&admin), Some(json!({ "id": "p-1", "name": "P", "kind": "referral" }))).await;
    app.send("POST", "/v1/deals", Some(&admin), Some(deal("d-1", "p-1", 12_000_000))).await;
    let (status, won) = app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({ "closed_at": T }))).await;
    assert_eq!(status, StatusCode::OK, "{won}");
    let lines = won["commission_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["status"].as_str(), lines[0]["amount"].as_i64()), (Some("held"), Some(0)));
    // The program's deadline (20 ms), not the short budget a call first
    // gets on the request's own thread.
    assert!(lines[0]["description"].as_str().unwrap().contains("deadline of 20 ms"), "{}", lines[0]["description"]);
    let (_, decisions) = app.send("GET", "/v1/decisions?hook=commission", Some(&admin), None).await;
    assert_eq!(decisions["decisions"][0]["outcome"], "timeout");
    assert_eq!(decisions["decisions"][0]["record"]["result"]["error"]["deadline_ms"], 20, "{decisions}");

    // The next call of the same plugin, no longer tried on the request's
    // thread, is decided the same way.
    app.send("POST", "/v1/deals", Some(&admin), Some(deal("d-2", "p-1", 12_000_000))).await;
    let (status, won) = app.send("POST", "/v1/deals/d-2/won", Some(&admin), Some(json!({ "closed_at": T }))).await;
    assert_eq!(status, StatusCode::OK, "{won}");
    assert_eq!(won["commission_lines"][0]["status"], "held", "{won}");
    assert!(won["commission_lines"][0]["description"].as_str().unwrap().contains("deadline of 20 ms"), "{won}");
}

#[tokio::test]
async fn bad_workflow_input_names_the_field() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let admin = app.key("acme").to_string();
    let mut eur = registration("p-1", "globex.com", 400);
    eur["amount"]["currency"] = json!("EUR");
    let cases = [
        (eur, "amount.currency"),
        (json!({ "partner_id": "p-1", "account_domain": "globex.com" }), "account_name"),
        (registration("p-1", "not a domain", 400), "account_domain"),
        (
            json!({ "partner_id": "p-1", "account_domain": "g.com", "account_name": "G", "amount": { "amount": "lots", "currency": "USD" } }),
            "amount.amount",
        ),
    ];
    for (body, field) in cases {
        let (status, error) = app.send("POST", "/v1/registrations", Some(&p1), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains(field), "{field}: {error}");
    }
    let (status, error) = app
        .send("POST", "/v1/partners", Some(&admin), Some(json!({ "id": "p 2", "name": "X", "kind": "referral" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, _) = app
        .send("POST", "/v1/partners", Some(&admin), Some(json!({ "id": "p-1", "name": "X", "kind": "referral" })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, error) = app
        .send(
            "POST",
            "/v1/deals",
            Some(&admin),
            Some(
                json!({ "account_domain": "g.com", "first_year_acv": usd(1), "source": "direct", "partner_id": "p-1" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    // A status that is none of the spellings is a bad query, naming them.
    let (status, error) = app.send("GET", "/v1/registrations?status=bogus", Some(&admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"]["message"].as_str().unwrap().contains("`review`"), "{error}");
    let (status, _) = app.send("GET", "/v1/registrations?status=Review", Some(&admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one spelling: lower case");
    let (status, _) = app.send("GET", "/v1/partners/p-1/statement?from=10&to=5", Some(&admin), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every input is bounded before anything is written: money within 10^15
/// minor units, times within the years 1970 to 9999, texts within their
/// lengths and free of control characters; a body is one JSON value.
#[tokio::test]
async fn inputs_out_of_bounds_are_refused_naming_the_field() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let admin = app.key("acme").to_string();
    let refused = |status: StatusCode, error: &Value, field: &str| {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {error}");
        assert!(error["error"]["message"].as_str().unwrap().contains(field), "{field}: {error}");
    };

    // A first-year ACV of 9e18 cents: refused, and nothing stored.
    let body = json!({ "id": "d-huge", "partner_id": "p-1", "account_domain": "g.com",
                       "first_year_acv": usd(9_000_000_000_000_000_000), "source": "partner-sourced" });
    let (status, error) = app.send("POST", "/v1/deals", Some(&admin), Some(body)).await;
    refused(status, &error, "first_year_acv.amount");
    let (status, _) = app.send("GET", "/v1/deals/d-huge", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Closing at the end of time: refused before the deal is touched; the
    // deal then closes normally.
    let body = json!({ "id": "d-1", "partner_id": "p-1", "account_domain": "g.com",
                       "first_year_acv": usd(12_000_000), "source": "partner-sourced" });
    let (status, _) = app.send("POST", "/v1/deals", Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    for closed_at in [i64::MAX, -1, 253_402_300_800] {
        let (status, error) =
            app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({ "closed_at": closed_at }))).await;
        refused(status, &error, "closed_at");
    }
    let (status, deal) =
        app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({ "closed_at": 253_402_300_799_i64 }))).await;
    assert_eq!(status, StatusCode::OK, "{deal}");
    assert_eq!(deal["commission_lines"].as_array().unwrap().len(), 1, "{deal}");

    // Texts: too long, or with a NUL (which PostgreSQL would refuse).
    let mut long_domain = registration("p-1", &format!("{}.com", "a".repeat(200_000)), 400);
    let (status, error) = app.send("POST", "/v1/registrations", Some(&p1), Some(long_domain.take())).await;
    refused(status, &error, "account_domain");
    let mut nul = registration("p-1", "globex.com", 400);
    nul["account_name"] = json!("Globex\u{0}Inc");
    let (status, error) = app.send("POST", "/v1/registrations", Some(&p1), Some(nul)).await;
    refused(status, &error, "account_name");
    let big_name = json!({ "id": "p-2", "name": "x".repeat(1_500_000), "kind": "referral" });
    let (status, error) = app.send("POST", "/v1/partners", Some(&admin), Some(big_name)).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE, "{status} {error}");
    assert!(error["error"]["code"].is_string(), "a JSON error: {error}");
    let nul_partner = json!({ "id": "p-3", "name": "P\u{0}", "kind": "referral" });
    let (status, error) = app.send("POST", "/v1/partners", Some(&admin), Some(nul_partner)).await;
    refused(status, &error, "name");
    let lead = json!({ "account_domain": "initech.com", "source": "web\u{0}inar" });
    let (status, error) = app.send("POST", "/v1/leads", Some(&admin), Some(lead)).await;
    refused(status, &error, "source");
    let (_, list) = app.send("GET", "/v1/registrations", Some(&admin), None).await;
    assert!(list["registrations"].as_array().unwrap().is_empty(), "nothing was stored: {list}");

    // One JSON value per body: text after it is refused, not ignored.
    let mut text = registration("p-1", "globex.com", 400).to_string().into_bytes();
    text.extend_from_slice(b" and more");
    let (status, error) = app.send_raw("POST", "/v1/registrations", Some(&p1), text).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"]["code"], "invalid-json");
    // A body over the limit: 413, in the same JSON shape as every error.
    let (status, error) = app.send_raw("POST", "/v1/registrations", Some(&p1), vec![b' '; 10 << 20]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert_eq!(error["error"]["code"], "too-large");
    let (status, error) = app.send_raw("POST", "/v1/decisions/commission", Some(&admin), vec![b' '; 10 << 20]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert_eq!(error["error"]["code"], "too-large");
}

#[tokio::test]
async fn leads_go_to_the_registered_partner_then_the_territory_then_direct() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await; // territory emea
    let admin = app.key("acme").to_string();
    let (_, reg) = app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "globex.com", 400))).await;
    assert_eq!(reg["status"], "approved");

    let lead = |domain: &str, region: &str| json!({ "account_domain": domain, "region": region, "source": "webinar", "contact_email": "cto@example.com" });
    let cases = [
        ("globex.com", "apac", "partner", Some("p-1"), "registered-deal"),
        ("initech.com", "EMEA", "partner", Some("p-1"), "partner-territory"),
        ("hooli.com", "apac", "direct", None, "direct"),
    ];
    for (domain, region, destination, partner_id, attribution) in cases {
        let (status, routed) = app.send("POST", "/v1/leads", Some(&admin), Some(lead(domain, region))).await;
        assert_eq!(status, StatusCode::CREATED, "{routed}");
        assert_eq!(routed["destination"], destination, "{domain}: {routed}");
        assert_eq!(routed["partner_id"].as_str(), partner_id, "{domain}");
        assert_eq!(routed["attribution"], attribution, "{domain}");
        assert!(routed["decision_id"].as_i64().is_some());
    }
    // The partner sees the two leads routed to it, not the direct one.
    let (_, mine) = app.send("GET", "/v1/leads", Some(&p1), None).await;
    assert_eq!(mine["leads"].as_array().unwrap().len(), 2);
    let (_, all) = app.send("GET", "/v1/leads", Some(&admin), None).await;
    assert_eq!(all["leads"].as_array().unwrap().len(), 3);
    let (status, _) = app.send("POST", "/v1/leads", Some(&p1), Some(lead("x.com", "emea"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        app.send("POST", "/v1/leads", Some(&admin), Some(json!({ "account_domain": "x.com", "source": "" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Territories match whole and in any case, non-ASCII ones too (the
    // database's narrowing must not lose them, nor let near misses in).
    let (status, body) = app
        .send(
            "POST",
            "/v1/partners",
            Some(&admin),
            Some(json!({ "id": "p-at", "name": "Alpen", "kind": "reseller", "territories": ["Österreich", "CH"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (domain, region, partner_id) in
        [("wien.at", "ÖSTERREICH", Some("p-at")), ("zug.ch", "ch", Some("p-at")), ("near.miss", "em_a", None)]
    {
        let (_, routed) = app.send("POST", "/v1/leads", Some(&admin), Some(lead(domain, region))).await;
        assert_eq!(routed["partner_id"].as_str(), partner_id, "{domain} in {region}: {routed}");
    }
}

const OCT_15: i64 = 1_792_022_400; // 2026-10-15

#[tokio::test]
async fn monthly_scorecard_sets_tiers_from_trailing_revenue_and_certifications() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    let certified = json!({
        "id": "p-cert", "name": "Certified", "kind": "reseller", "tier": "silver",
        "certifications": [{ "name": "sales-foundations", "expires_at": T + 365 * DAY }]
    });
    let (status, body) = app.send("POST", "/v1/partners", Some(&admin), Some(certified)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    partner(&app, "acme", "p-plain", "reseller").await;
    for (id, partner_id, acv) in
        [("d-1", "p-cert", 21_000_000), ("d-2", "p-plain", 21_000_000), ("d-3", "p-plain", 5_000_000)]
    {
        app.send("POST", "/v1/deals", Some(&admin), Some(deal(id, partner_id, acv))).await;
    }
    app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({ "closed_at": OCT_15 }))).await;
    app.send("POST", "/v1/deals/d-2/won", Some(&admin), Some(json!({ "closed_at": OCT_15 }))).await;
    app.send("POST", "/v1/deals/d-3/lost", Some(&admin), Some(json!({ "closed_at": OCT_15 }))).await;

    let (status, run) = app.send("POST", "/v1/scorecards/2026-10", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let cards = run["scorecards"].as_array().unwrap();
    let card = |id: &str| cards.iter().find(|c| c["partner_id"] == id).unwrap().clone();
    // $210,000 trailing won revenue and Gold's one certification: Gold.
    let cert = card("p-cert");
    assert_eq!((cert["tier_before"].as_str(), cert["tier_after"].as_str()), (Some("silver"), Some("gold")));
    assert_eq!((cert["change"].as_str(), cert["escalate"].as_bool()), (Some("promote"), Some(true)));
    assert_eq!((cert["won_deals"].as_i64(), cert["win_rate_bps"].as_i64()), (Some(1), Some(10_000)));
    // The same revenue without a certification stops at Silver; one won,
    // one lost: 50 % win rate.
    let plain = card("p-plain");
    assert_eq!((plain["tier_after"].as_str(), plain["change"].as_str()), (Some("silver"), Some("promote")));
    assert_eq!(
        (plain["won_deals"].as_i64(), plain["lost_deals"].as_i64(), plain["win_rate_bps"].as_i64()),
        (Some(1), Some(1), Some(5_000))
    );
    assert_eq!(plain["trailing_revenue"], 21_000_000);

    // Each escalation is queued as a notification.
    let (_, outbox) = app.send("GET", "/v1/notifications", Some(&admin), None).await;
    let escalations: Vec<&Value> =
        outbox["notifications"].as_array().unwrap().iter().filter(|n| n["event"] == "tier.escalated").collect();
    assert_eq!(escalations.len(), 2);
    assert!(escalations.iter().any(|n| n["payload"]["partner_id"] == "p-cert" && n["payload"]["tier_after"] == "gold"));

    // The partner's tier changed; the scorecard can be read back.
    let (_, p) = app.send("GET", "/v1/partners/p-cert", Some(&admin), None).await;
    assert_eq!(p["tier"], "gold");
    let (_, read) = app.send("GET", "/v1/scorecards/2026-10", Some(&admin), None).await;
    assert_eq!(read["scorecards"].as_array().unwrap().len(), 2);
    // Each scorecard names its own tier decision (decisions are stored in
    // batches and matched back by subject).
    for card in read["scorecards"].as_array().unwrap() {
        let (_, decision) =
            app.send("GET", &format!("/v1/decisions/{}", card["decision_id"]), Some(&admin), None).await;
        assert_eq!(decision["subject"], card["partner_id"]);
        assert_eq!(decision["decision"]["reason"], card["reason"]);
    }
    // Running a period again replaces its scorecards instead of adding more.
    let (status, _) = app.send("POST", "/v1/scorecards/2026-10", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, again) = app.send("GET", "/v1/scorecards/2026-10", Some(&admin), None).await;
    assert_eq!(again["scorecards"].as_array().unwrap().len(), 2);
    let (status, _) = app.send("POST", "/v1/scorecards/2026-13", Some(&admin), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Running the next month again keeps Gold (the revenue is still trailing).
    let (_, nov) = app.send("POST", "/v1/scorecards/2026-11", Some(&admin), None).await;
    let cert = nov["scorecards"].as_array().unwrap().iter().find(|c| c["partner_id"] == "p-cert").unwrap().clone();
    assert_eq!(
        (cert["tier_after"].as_str(), cert["change"].as_str(), cert["escalate"].as_bool()),
        (Some("gold"), Some("keep"), Some(false))
    );
}

#[tokio::test]
async fn program_metrics_against_the_seed_benchmarks() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    partner(&app, "acme", "p-1", "referral").await;
    partner(&app, "acme", "p-2", "referral").await;
    app.send("POST", "/v1/deals", Some(&admin), Some(deal("d-1", "p-1", 21_000_000))).await;
    app.send(
        "POST",
        "/v1/deals",
        Some(&admin),
        Some(json!({ "id": "d-2", "account_domain": "a.com", "first_year_acv": usd(9_000_000), "source": "direct" })),
    )
    .await;
    app.send("POST", "/v1/deals", Some(&admin), Some(deal("d-3", "p-2", 1_000_000))).await;
    let influenced = json!({ "id": "d-4", "partner_id": "p-2", "account_domain": "b.com",
                             "first_year_acv": usd(4_000_000), "source": "partner-influenced" });
    app.send("POST", "/v1/deals", Some(&admin), Some(influenced)).await;
    for (id, verb) in [("d-1", "won"), ("d-2", "won"), ("d-3", "lost"), ("d-4", "won")] {
        let (status, body) = app
            .send("POST", &format!("/v1/deals/{id}/{verb}"), Some(&admin), Some(json!({ "closed_at": OCT_15 })))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, m) = app
        .send("GET", &format!("/v1/program/metrics?from={}&to={}", OCT_15 - DAY, OCT_15 + DAY), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let metric = |name: &str| m["metrics"].as_array().unwrap().iter().find(|x| x["metric"] == name).unwrap().clone();
    // $250K of $340K won is partner revenue: 73.52 %, "great" (seed: 30
    // %+): $210K partner-sourced and $40K partner-influenced, shown apart.
    assert_eq!(
        (metric("partner-revenue")["value"].as_i64(), metric("partner-revenue")["rating"].as_str()),
        (Some(7_352), Some("great"))
    );
    let n = &m["numbers"];
    assert_eq!(
        (n["partner_sourced_revenue"].as_i64(), n["partner_influenced_revenue"].as_i64(), n["won_revenue"].as_i64()),
        (Some(21_000_000), Some(4_000_000), Some(34_000_000))
    );
    // Both active partners won a deal: 100 %, "great" (seed: 60 %+).
    assert_eq!(
        (metric("active-partners")["value"].as_i64(), metric("active-partners")["rating"].as_str()),
        (Some(10_000), Some("great"))
    );
    // Two partner deals won, one lost: 66.66 %.
    assert_eq!(metric("partner-win-rate")["value"].as_i64(), Some(6_666));
    // Partners joined just now: no cohort before the period.
    assert_eq!(metric("partner-retention")["rating"], "no-data");
    let (status, _) = app.send("GET", "/v1/program/metrics?from=5&to=1", Some(&admin), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_retried_create_with_an_idempotency_key_creates_nothing_new() {
    let app = app().await;
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let post = |key: &'static str, body: Value| {
        let p1 = p1.clone();
        let router = app.router.clone();
        async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let request = axum::http::Request::post("/v1/registrations")
                .header("authorization", format!("Bearer {p1}"))
                .header("idempotency-key", key)
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let replayed = response.headers().get("idempotent-replayed").is_some();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, replayed, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let (status, replayed, first) = post("retry-1", registration("p-1", "globex.com", 400)).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{first}");
    let (status, replayed, again) = post("retry-1", registration("p-1", "globex.com", 400)).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["status"], "approved"); // not "rejected as a duplicate of itself"
    let (_, list) = app.send("GET", "/v1/registrations", Some(&p1), None).await;
    assert_eq!(list["registrations"].as_array().unwrap().len(), 1);

    // The same key for another request is refused; a new key creates.
    let (status, _, body) = post("retry-1", registration("p-1", "initech.com", 400)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "idempotency-key-reused");
    let (status, _, _) = post("retry-2", registration("p-1", "initech.com", 400)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = app.send("GET", "/v1/registrations", Some(&p1), None).await;
    assert_eq!(list["registrations"].as_array().unwrap().len(), 2);
}

/// A registration or a lead, its decision and its notification are written
/// in one transaction that concurrent requests share (group commit): each
/// request still gets back its own decision, and queues exactly one event
/// carrying the record as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_each_get_their_own_decision_and_event() {
    let app = std::sync::Arc::new(app().await);
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let admin = app.key("acme").to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (a, key) = (app.clone(), p1.clone());
        tasks.spawn(async move {
            let body = registration("p-1", &format!("batch-{i}.com"), 400);
            ("registration", a.send("POST", "/v1/registrations", Some(&key), Some(body)).await)
        });
        let (a, key) = (app.clone(), admin.clone());
        tasks.spawn(async move {
            let region = if i % 2 == 0 { "emea" } else { "apac" };
            let body = json!({ "account_domain": format!("lead-{i}.com"), "region": region, "source": "webinar" });
            ("lead", a.send("POST", "/v1/leads", Some(&key), Some(body)).await)
        });
    }
    let mut created = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (kind, (status, body)) = done.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{kind}: {body}");
        created.push((kind, body));
    }
    assert_eq!(created.len(), 40);

    let (_, events) = app.send("GET", "/v1/notifications?limit=500", Some(&admin), None).await;
    let events = events["notifications"].as_array().unwrap();
    let mut decision_ids = std::collections::HashSet::new();
    for (kind, body) in &created {
        let id = body["id"].as_str().unwrap();
        let decision_id = body["decision_id"].as_i64().unwrap();
        assert!(decision_ids.insert(decision_id), "decision {decision_id} given to two records");
        let (status, decision) = app.send("GET", &format!("/v1/decisions/{decision_id}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{decision}");
        assert_eq!(decision["subject"], id, "{kind} {id} points at another record's decision");
        let hook = if *kind == "lead" { "routing" } else { "approval" };
        assert_eq!(decision["hook"], hook);
        let theirs: Vec<_> = events.iter().filter(|e| e["payload"]["id"] == id).collect();
        assert_eq!(theirs.len(), 1, "{kind} {id}: events {theirs:?}");
        let event = if *kind == "lead" { "lead.routed" } else { "registration.decided" };
        assert_eq!(theirs[0]["event"], event);
        assert_eq!(&theirs[0]["payload"], body, "the event carries the record as stored");
    }
}

/// A batch of decided writes is stored whole or not at all, and the group
/// committer keeps one bad write from failing the others queued with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_write_fails_alone_and_leaves_nothing_behind() {
    use pactum::runtime::{HookKind, PluginHash};
    use pactum::store::{DecidedRecord, DecidedWrite, DecisionToWrite, GroupCommit, RegistrationRow};
    let app = app().await;
    partner(&app, "acme", "p-1", "referral").await;
    let write = |id: &str, partner: &str| DecidedWrite {
        decision: DecisionToWrite {
            tenant: "acme".into(),
            hook: HookKind::Approval,
            plugin: PluginHash::of(b"test"),
            subject: id.into(),
            event_time: T,
            outcome: "ok",
            record: json!({ "test": true }),
            decision: json!({ "outcome": "review" }),
            fallback: false,
        },
        record: DecidedRecord::Registration(RegistrationRow {
            id: id.into(),
            partner_id: partner.into(),
            account_domain: format!("{id}.com"),
            amount: 100,
            currency: "USD".into(),
            expected_close: None,
            status: pactum::domain::RegistrationStatus::Review,
            protected_until: None,
            reason: "test".into(),
            decision_id: None,
            plugin_hash: None,
            created_at: T,
            extension: None,
        }),
        event: "registration.decided",
        account: None,
    };
    let db = app.service.db().clone();
    let decisions = || async { app.service.decisions("acme", Some(HookKind::Approval), 500).await.unwrap().len() };
    let before = decisions().await;

    // `r-bad` names a partner that does not exist: the whole batch fails,
    // and neither its decision nor its neighbour's stays.
    let failed = db.write_decided(vec![write("r-good", "p-1"), write("r-bad", "nobody")]).await;
    assert!(failed.is_err());
    assert_eq!(decisions().await, before, "a failed batch left decisions behind");

    // Queued together, the good writes succeed and the bad one fails alone.
    let tasks = pactum::tasks::Tasks::default();
    let (group, _) = GroupCommit::start(db, tasks.stopping());
    let (first, second, third) = tokio::join!(
        group.write(write("r-1", "p-1")),
        group.write(write("r-2", "nobody")),
        group.write(write("r-3", "p-1")),
    );
    let results = [first, second, third];
    assert!(results[0].is_ok() && results[2].is_ok(), "{:?} {:?}", results[0], results[2]);
    assert!(results[1].is_err());
    for (i, id) in [(0, "r-1"), (2, "r-3")] {
        let written = results[i].as_ref().unwrap();
        let DecidedRecord::Registration(row) = &written.record else { panic!("not a registration") };
        assert_eq!(row.id, id);
        assert_eq!(row.decision_id, Some(written.decision.id));
        assert_eq!(written.decision.subject.as_deref(), Some(id));
    }
    assert_eq!(decisions().await, before + 2);
}

/// A partner's lifecycle: suspended (no new registrations), reactivated,
/// offboarded (its open registrations released, no leads, its earned line
/// still payable), each step once, with its reason in the event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_is_suspended_reactivated_and_offboarded() {
    let app = std::sync::Arc::new(app().await);
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let admin = app.key("acme").to_string();
    let (_, approved) =
        app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "globex.com", 400))).await;
    assert_eq!(approved["status"], "approved");
    let deal = json!({ "id": "d-1", "partner_id": "p-1", "account_domain": "globex.com",
                       "first_year_acv": usd(12_000_000), "source": "partner-sourced" });
    app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
    let (status, _) = app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, open) =
        app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "initech.com", 400))).await;
    assert_eq!(open["status"], "approved");

    let step = |what: &str, reason: &str| {
        let (app, admin, uri) = (app.clone(), admin.clone(), format!("/v1/partners/p-1/{what}"));
        let body = json!({ "reason": reason });
        async move { app.send("POST", &uri, Some(&admin), Some(body)).await }
    };
    let (status, body) = step("suspend", " ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required: {body}");
    let (status, body) = step("suspend", "late on the certification").await;
    assert_eq!((status, body["partner"]["status"].as_str()), (StatusCode::OK, Some("suspended")), "{body}");
    let (status, body) = step("suspend", "again").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is suspended"), "{body}");
    // Suspended: it cannot register deals.
    let (status, body) =
        app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "hooli.com", 400))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = step("reactivate", "certified").await;
    assert_eq!((status, body["partner"]["status"].as_str()), (StatusCode::OK, Some("active")), "{body}");

    // Offboarded by many managers at once: one step; its open
    // registration is released, its won one stays won.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        tasks.spawn(step("offboard", "the agreement ended"));
    }
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.unwrap());
    }
    let done: Vec<_> = answers.iter().filter(|(s, _)| *s == StatusCode::OK).collect();
    assert_eq!(done.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT));
    assert_eq!(done[0].1["released_registrations"], 1, "{}", done[0].1);
    let (_, released) =
        app.send("GET", &format!("/v1/registrations/{}", open["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!(released["status"], "expired", "{released}");
    assert!(released["reason"].as_str().unwrap().contains("offboarded"), "{released}");
    let (_, won) =
        app.send("GET", &format!("/v1/registrations/{}", approved["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!(won["status"], "won");
    // No leads for it: its territory's lead goes direct.
    let (_, lead) = app
        .send(
            "POST",
            "/v1/leads",
            Some(&admin),
            Some(json!({ "account_domain": "umbrella.com", "region": "emea", "source": "webinar" })),
        )
        .await;
    assert_eq!(lead["destination"], "direct", "{lead}");
    // Its earned line is still there to be paid.
    let (_, statement) = app.send("GET", "/v1/partners/p-1/statement?from=0&to=4102444800", Some(&admin), None).await;
    assert_eq!(statement["total"], 1_800_000, "{statement}");
    // Each step's event carries who and why.
    let (_, events) = app.send("GET", "/v1/notifications?limit=500", Some(&admin), None).await;
    let steps: Vec<_> = events["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("partner."))
        .map(|e| (e["event"].as_str().unwrap().to_string(), e["payload"]["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(steps.contains(&("partner.offboarded".into(), "the agreement ended".into())), "{steps:?}");
}

/// A deal opened from an approved registration carries its partner and
/// account over and keeps the link; winning it closes the registration. A
/// registration not (or no longer) approved cannot open one, and a partner
/// or account other than the registration's is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_is_opened_from_an_approved_registration() {
    let app = std::sync::Arc::new(app().await);
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let p2 = partner(&app, "acme", "p-2", "referral").await;
    let admin = app.key("acme").to_string();
    let (_, approved) =
        app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "globex.com", 400))).await;
    assert_eq!(approved["status"], "approved", "{approved}");
    let (_, review) = app.send("POST", "/v1/registrations", Some(&p2), Some(registration("p-2", "tiny.io", 12))).await;
    assert_eq!(review["status"], "review", "{review}");
    let from = |registration: &Value, extra: Value| {
        let mut body = json!({ "registration_id": registration["id"], "first_year_acv": usd(12_000_000),
                               "source": "partner-sourced" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };

    // Not approved: 409 naming its status. Another partner or account: 422.
    let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(from(&review, json!({})))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is review"), "{body}");
    for extra in [json!({ "partner_id": "p-2" }), json!({ "account_domain": "initech.com" })] {
        let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(from(&approved, extra))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let unknown = json!({ "id": "r-none" });
    let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(from(&unknown, json!({})))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .send("POST", "/v1/deals", Some(&admin), Some(json!({ "first_year_acv": usd(1), "source": "direct" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no account and no registration: {body}");

    // Opened from the approved one, by several callers at once: one deal,
    // partner and account carried over; the others get 409.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let body = from(&approved, json!({ "id": format!("d-r{i}"), "partner_id": "p-1" }));
        let (app, admin, barrier) = (app.clone(), admin.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            app.send("POST", "/v1/deals", Some(&admin), Some(body)).await
        });
    }
    let answers = tasks.join_all().await;
    let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("has opened a deal already"), "{body}");
    }
    let deal = created[0].clone();
    let id = deal["id"].as_str().unwrap().to_string();
    assert_eq!(
        (&deal["registration_id"], deal["partner_id"].as_str(), deal["account_domain"].as_str()),
        (&approved["id"], Some("p-1"), Some("globex.com"))
    );
    let (status, won) =
        app.send("POST", &format!("/v1/deals/{id}/won"), Some(&admin), Some(json!({ "closed_at": T }))).await;
    assert_eq!(status, StatusCode::OK, "{won}");
    assert_eq!(won["registration_id"], approved["id"]);
    let (_, closed) =
        app.send("GET", &format!("/v1/registrations/{}", approved["id"].as_str().unwrap()), Some(&p1), None).await;
    assert_eq!(closed["status"], "won", "winning the deal closes its registration: {closed}");
    let (status, _) = app.send("POST", "/v1/deals", Some(&admin), Some(from(&approved, json!({})))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a won registration opens no second deal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_asks_for_more_protection_and_a_manager_decides() {
    let app = std::sync::Arc::new(app().await);
    let p1 = partner(&app, "acme", "p-1", "referral").await;
    let p2 = partner(&app, "acme", "p-2", "referral").await;
    let admin = app.key("acme").to_string();
    let (_, reg) = app.send("POST", "/v1/registrations", Some(&p1), Some(registration("p-1", "globex.com", 400))).await;
    let id = reg["id"].as_str().unwrap().to_string();
    let until = reg["protected_until"].as_i64().unwrap();

    // Bad input and other partners are refused; the partner asks.
    let ask = |days: i64| json!({ "days": days, "reason": "procurement takes a quarter" });
    let (status, _) = app.send("POST", &format!("/v1/registrations/{id}/extension"), Some(&p1), Some(ask(0))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.send("POST", &format!("/v1/registrations/{id}/extension"), Some(&p2), Some(ask(30))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, asked) =
        app.send("POST", &format!("/v1/registrations/{id}/extension"), Some(&p1), Some(ask(45))).await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert_eq!(
        asked["extension"],
        json!({ "days": 45, "reason": "procurement takes a quarter", "status": "requested" })
    );
    let (status, _) = app.send("POST", &format!("/v1/registrations/{id}/extension"), Some(&p1), Some(ask(60))).await;
    assert_eq!(status, StatusCode::CONFLICT, "one request at a time");
    let (_, queue) = app.send("GET", "/v1/extensions", Some(&admin), None).await;
    assert_eq!(queue["registrations"][0]["id"], json!(id));
    let (status, _) = app
        .send("POST", &format!("/v1/registrations/{id}/extension/grant"), Some(&p1), Some(json!({ "reason": "me" })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Three managers grant 30 of the 45 days at once: it is extended once.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..3 {
        let (app, admin, id) = (app.clone(), admin.clone(), id.clone());
        tasks.spawn(async move {
            let body = json!({ "reason": format!("ok by {n}"), "days": 30 });
            app.send("POST", &format!("/v1/registrations/{id}/extension/grant"), Some(&admin), Some(body)).await
        });
    }
    let answers = tasks.join_all().await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count(), 2, "{answers:?}");
    let (_, now) = app.send("GET", &format!("/v1/registrations/{id}"), Some(&admin), None).await;
    assert_eq!(now["protected_until"].as_i64(), Some(until + 30 * DAY), "{now}");
    assert_eq!((now["extension"]["status"].as_str(), now["extension"]["days"].as_i64()), (Some("granted"), Some(30)));

    // A second request, refused: the protection stays.
    app.send("POST", &format!("/v1/registrations/{id}/extension"), Some(&p1), Some(ask(10))).await;
    let (status, refused) = app
        .send(
            "POST",
            &format!("/v1/registrations/{id}/extension/refuse"),
            Some(&admin),
            Some(json!({ "reason": "enough" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(
        (refused["extension"]["status"].as_str(), refused["protected_until"].as_i64()),
        (Some("refused"), Some(until + 30 * DAY))
    );
    let (_, log) = app.send("GET", "/v1/decisions?hook=approval&limit=100", Some(&admin), None).await;
    let manual: Vec<&Value> =
        log["decisions"].as_array().unwrap().iter().filter(|d| d["outcome"] == "manual").collect();
    assert_eq!(manual.len(), 2, "{log}");
    assert_eq!(
        (manual[0]["decision"]["refuse"].clone(), manual[1]["decision"]["extend"].clone()),
        (json!(true), json!(30))
    );
    assert!(manual.iter().all(|d| d["actor"].as_str().is_some_and(|a| a.starts_with("key:"))));
}
