//! Payouts over HTTP (issue 16, item 5): lines held, released, voided,
//! disputed, resolved and adjusted by people, each in the decision log
//! with who did it; payout runs that pay each partner's payable lines once,
//! carry what is below the minimum or negative, and export CSV whose
//! totals equal the statements. Both databases (`PACTUM_TEST_DATABASE_URL`).

mod common;

use axum::http::StatusCode;
use common::app::{App, app, query_i64};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

const DAY: i64 = 86_400;
/// 2026-08-10: deals closed then are due (NET 30) on 2026-09-09.
const AUG_10: i64 = 1_786_320_000;
/// 2026-09-10: due 2026-10-10.
const SEP_10: i64 = AUG_10 + 31 * DAY;
/// The end of September 2026 (2026-10-01) and of October (2026-11-01).
const OCT_1: i64 = 1_790_812_800;
const NOV_1: i64 = 1_793_491_200;

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

/// A company on the stock plugins with Acme's program, a payout minimum
/// of $1,000 and a 5-day review window; returns its admin key.
async fn company(app: &App) -> String {
    let program = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/acme/policy.toml"))
        .unwrap()
        .replace("slug = \"acme\"", "slug = \"payco\"")
        + "\npayout-minimum = { amount = 100_000, currency = \"USD\" }\npayout-review-days = 5\n";
    let (_, admin) = app
        .service
        .create_tenant(&program, Path::new("payco/policy.toml"), |_| {
            Some(pactum_plugin_artifacts::STOCK_BYTES.to_vec())
        })
        .await
        .unwrap();
    admin
}

/// A referral partner (15 %) and its key.
async fn partner(app: &App, admin: &str, id: &str) -> String {
    let (status, body) = app
        .send(
            "POST",
            "/v1/partners",
            Some(admin),
            Some(json!({ "id": id, "name": format!("Partner {id}, Inc"), "kind": "referral" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.send("POST", &format!("/v1/partners/{id}/keys"), Some(admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["key"].as_str().unwrap().to_string()
}

/// Opens and wins a deal of `acv` cents at `at`; returns its lines' ids.
async fn won(app: &App, admin: &str, id: &str, partner: &str, acv: i64, at: i64) -> Vec<i64> {
    let deal = json!({ "id": id, "partner_id": partner, "account_domain": format!("{id}.example.com"),
                       "first_year_acv": usd(acv), "source": "partner-sourced" });
    let (status, body) = app.send("POST", "/v1/deals", Some(admin), Some(deal)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) =
        app.send("POST", &format!("/v1/deals/{id}/won"), Some(admin), Some(json!({ "closed_at": at }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["commission_lines"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect()
}

/// `POST uri` with each of `bodies` at once; the answers in any order.
async fn at_once(app: &Arc<App>, key: &str, uri: &str, bodies: Vec<Value>) -> Vec<(StatusCode, Value)> {
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies {
        let (app, key, uri) = (app.clone(), key.to_string(), uri.to_string());
        tasks.spawn(async move { app.send("POST", &uri, Some(&key), Some(body)).await });
    }
    tasks.join_all().await
}

async fn step(app: &App, key: &str, line: i64, step: &str, body: Value) -> (StatusCode, Value) {
    app.send("POST", &format!("/v1/lines/{line}/{step}"), Some(key), Some(body)).await
}

/// The CSV's rows as `(partner, amount_minor, lines)`, checking the
/// header and that `amount` is `amount_minor` in dollars.
fn csv_rows(csv: &str) -> Vec<(String, i64, i64)> {
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("run_id,period,reference,partner_id,partner_name,currency,amount,amount_minor,lines"),
        "{csv}"
    );
    rows.map(|row| {
        // The partner's name ("Partner p-b, Inc") is quoted.
        let (head, rest) = row.split_once(",\"").unwrap();
        let (_, tail) = rest.split_once("\",").unwrap();
        let head: Vec<&str> = head.split(',').collect();
        let tail: Vec<&str> = tail.split(',').collect();
        let minor: i64 = tail[2].parse().unwrap();
        assert_eq!(tail[0], "USD", "{row}");
        assert_eq!(tail[1], format!("{}.{:02}", minor / 100, minor % 100), "{row}");
        (head[3].to_string(), minor, tail[3].parse().unwrap())
    })
    .collect()
}

/// What the partner's statement up to `to` says was paid by run `run`.
async fn paid_by_run(app: &App, key: &str, partner: &str, run: i64, to: i64) -> (i64, usize) {
    let (status, statement) =
        app.send("GET", &format!("/v1/partners/{partner}/statement?from=0&to={to}"), Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "{statement}");
    let paid: Vec<&Value> = statement["lines"].as_array().unwrap().iter().filter(|l| l["payout_run"] == run).collect();
    assert!(paid.iter().all(|l| l["status"] == "paid"), "{statement}");
    (paid.iter().map(|l| l["amount"].as_i64().unwrap()).sum(), paid.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_run_pays_once_carries_the_rest_and_its_csv_matches_the_statements() {
    let app = Arc::new(app().await);
    let admin = company(&app).await;
    let a = partner(&app, &admin, "p-a").await;
    let b = partner(&app, &admin, "p-b").await;
    let _c = partner(&app, &admin, "p-c").await;

    // September: A earns $75 (below the $1,000 minimum), B $15,000 and
    // $3,000, C $15,000.
    let a1 = won(&app, &admin, "d-a1", "p-a", 50_000, AUG_10).await;
    let b1 = won(&app, &admin, "d-b1", "p-b", 10_000_000, AUG_10).await;
    let b2 = won(&app, &admin, "d-b2", "p-b", 2_000_000, AUG_10).await;
    let c1 = won(&app, &admin, "d-c1", "p-c", 10_000_000, AUG_10).await;
    assert_eq!((a1.len(), b1.len(), b2.len(), c1.len()), (1, 1, 1, 1));

    // B disputes its $3,000 line; A may not dispute B's line, nor hold one.
    let (status, body) = step(&app, &a, b2[0], "dispute", json!({ "reason": "not mine" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = step(&app, &a, a1[0], "hold", json!({ "reason": "mine" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, disputed) =
        step(&app, &b, b2[0], "dispute", json!({ "reason": "the deal was $25,000, not $20,000" })).await;
    assert_eq!(status, StatusCode::OK, "{disputed}");
    assert_eq!(disputed["line"]["status"], "disputed");
    let (_, queue) = app.send("GET", "/v1/lines?status=disputed", Some(&admin), None).await;
    assert_eq!(queue["lines"].as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue["lines"][0]["id"], b2[0]);

    // A period whose review window is still open cannot be paid.
    let (status, body) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2099-01" }))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("review window of 2099-01 is open"), "{body}");

    // Eight finance people press "run" for September at once: one run pays.
    let run = json!({ "period": "2026-09", "reference": "BATCH-9" });
    let answers = at_once(&app, &admin, "/v1/payout-runs", vec![run; 8]).await;
    let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{answers:?}");
    let september = created[0].clone();
    let run1 = september["id"].as_i64().unwrap();
    assert_eq!(september["totals"]["USD"], 3_000_000, "{september}");
    assert_eq!((september["payouts"].as_i64(), september["lines"].as_i64()), (Some(2), Some(2)));
    assert_eq!(september["carried"], json!([{ "partner_id": "p-a", "currency": "USD", "amount": 7_500, "lines": 1 }]));
    assert_eq!(query_i64(&app.database_url, "SELECT COUNT(*) FROM commission_lines WHERE status = 'paid'").await, 2);
    assert_eq!(query_i64(&app.database_url, "SELECT COUNT(*) FROM payout_runs").await, 1);

    // Its CSV: one row per partner paid, equal to what each statement
    // shows paid by the run.
    let (status, headers, csv) =
        app.send_full("GET", &format!("/v1/payout-runs/{run1}/csv"), Some(&admin), Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.as_str().unwrap();
    assert!(
        csv.contains(&format!("{run1},2026-09,BATCH-9/p-b/USD,p-b,\"Partner p-b, Inc\",USD,15000.00,1500000,1")),
        "{csv}"
    );
    let rows = csv_rows(csv);
    assert_eq!(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["p-b", "p-c"]);
    for (partner, amount, lines) in &rows {
        assert_eq!(paid_by_run(&app, &admin, partner, run1, OCT_1).await, (*amount, *lines as usize), "{partner}");
    }

    // The same period again, or an earlier one: refused, nothing moves.
    let (status, body) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-09" }))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(&format!("by payout run {run1}")), "{body}");
    let (status, _) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-08" }))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // October: the dispute is upheld in part (-$500, linked to the line);
    // A earns $1,500 more; C's deal is refunded in full, clawing back more
    // than the $75 it earns meanwhile.
    let (status, resolved) =
        step(&app, &admin, b2[0], "resolve", json!({ "reason": "ACV corrected", "amount": -50_000 })).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["line"]["status"], "pending");
    assert_eq!(resolved["adjustment"]["adjusts"], b2[0]);
    assert_eq!(resolved["adjustment"]["amount"], -50_000);
    let (status, body) = step(&app, &admin, b2[0], "resolve", json!({ "reason": "again" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is pending"), "{body}");
    won(&app, &admin, "d-a2", "p-a", 1_000_000, SEP_10).await;
    won(&app, &admin, "d-c2", "p-c", 50_000, SEP_10).await;
    let (status, body) = app
        .send("POST", "/v1/deals/d-c1/refund", Some(&admin), Some(json!({ "amount": usd(10_000_000), "at": SEP_10 })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, october) =
        app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-10" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{october}");
    let run2 = october["id"].as_i64().unwrap();
    // A: $75 carried + $1,500; B: $3,000 - $500; C: -$15,000 + $75, carried.
    assert_eq!(october["totals"]["USD"], 157_500 + 250_000, "{october}");
    assert_eq!(
        october["carried"],
        json!([{ "partner_id": "p-c", "currency": "USD", "amount": -1_492_500, "lines": 2 }])
    );
    let (_, detail) = app.send("GET", &format!("/v1/payout-runs/{run2}"), Some(&admin), None).await;
    let payouts: Vec<(&str, i64, i64)> = detail["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["partner_id"].as_str().unwrap(), p["amount"].as_i64().unwrap(), p["lines"].as_i64().unwrap()))
        .collect();
    assert_eq!(payouts, [("p-a", 157_500, 2), ("p-b", 250_000, 2)]);
    assert_eq!(detail["payouts"][0]["reference"], "payco-2026-10/p-a/USD");
    let (_, _, csv) = app.send_full("GET", &format!("/v1/payout-runs/{run2}/csv"), Some(&admin), Vec::new()).await;
    for (partner, amount, lines) in csv_rows(csv.as_str().unwrap()) {
        assert_eq!(paid_by_run(&app, &admin, &partner, run2, NOV_1).await, (amount, lines as usize), "{partner}");
    }

    // The partner's statement shows every state and who made each line.
    let (_, statement) =
        app.send("GET", &format!("/v1/partners/p-b/statement?from=0&to={NOV_1}"), Some(&b), None).await;
    let lines = statement["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{statement}");
    assert!(lines.iter().all(|l| l["status"] == "paid"), "{statement}");
    let adjustment = lines.iter().find(|l| l["kind"] == "adjustment").unwrap();
    assert_eq!((adjustment["plugin_hash"].is_null(), adjustment["decided_by"].is_string()), (true, true));
    assert!(lines.iter().filter(|l| l["kind"] == "fee").all(|l| l["plugin_hash"].as_str().unwrap().len() == 64));
    assert_eq!(statement["by_status"]["paid"], 1_500_000 + 250_000);

    // Each person's step is in the decision log, with who took it.
    let (_, log) = app.send("GET", "/v1/decisions?hook=commission&limit=100", Some(&admin), None).await;
    let manual: Vec<(&str, bool)> = log["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "manual")
        .map(|d| (d["subject"].as_str().unwrap(), d["actor"].as_str().is_some_and(|a| a.starts_with("key:"))))
        .collect();
    let line = |id: i64| format!("line:{id}");
    let (b2, b2_twice) = (line(b2[0]), line(b2[0]));
    assert_eq!(
        manual,
        [("payout:2026-10", true), (b2.as_str(), true), ("payout:2026-09", true), (b2_twice.as_str(), true)],
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_lines_wait_then_are_released_or_voided_and_steps_are_guarded() {
    let app = Arc::new(app().await);
    let admin = company(&app).await;
    let p = partner(&app, &admin, "p-h").await;
    let l1 = won(&app, &admin, "d-h1", "p-h", 10_000_000, AUG_10).await[0];
    let l2 = won(&app, &admin, "d-h2", "p-h", 10_000_000, AUG_10).await[0];

    // Four managers hold the same line at once: one holds it.
    let holds = (0..4).map(|i| json!({ "reason": format!("audit {i}") })).collect();
    let answers = at_once(&app, &admin, &format!("/v1/lines/{l1}/hold"), holds).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count(), 3, "{answers:?}");
    step(&app, &admin, l2, "hold", json!({ "reason": "duplicate deal" })).await;

    // Held lines are not paid: the run pays nothing and carries nothing.
    let (status, run) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-09" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(
        (run["payouts"].as_i64(), run["totals"].clone(), run["carried"].clone()),
        (Some(0), json!({}), json!([]))
    );

    // Released, l1 is paid by the next run; voided, l2 never is.
    let (status, released) = step(&app, &admin, l1, "release", json!({ "reason": "audit passed" })).await;
    assert_eq!((status, released["line"]["status"].as_str()), (StatusCode::OK, Some("pending")), "{released}");
    let (status, voided) = step(&app, &admin, l2, "void", json!({ "reason": "duplicate of d-h1" })).await;
    assert_eq!((status, voided["line"]["note"].as_str()), (StatusCode::OK, Some("duplicate of d-h1")), "{voided}");
    for (s, body) in [("release", json!({ "reason": "x" })), ("adjust", json!({ "reason": "x", "amount": 5 }))] {
        let (status, body) = step(&app, &admin, l2, s, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{s}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(&format!("line {l2} is voided")), "{body}");
    }
    let (status, run) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-10" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["totals"]["USD"], 1_500_000, "{run}");
    let (_, statement) =
        app.send("GET", &format!("/v1/partners/p-h/statement?from=0&to={NOV_1}"), Some(&p), None).await;
    assert_eq!(statement["by_status"], json!({ "paid": 1_500_000, "voided": 1_500_000 }), "{statement}");
    assert_eq!(statement["total"], 1_500_000, "a voided line is owed nothing");

    // A paid line's adjustment is due now: the next run pays it.
    let (status, adjusted) = step(&app, &admin, l1, "adjust", json!({ "reason": "SPIFF", "amount": 20_000 })).await;
    assert_eq!(status, StatusCode::OK, "{adjusted}");
    assert_eq!(
        (adjusted["line"]["status"].as_str(), adjusted["adjustment"]["status"].as_str()),
        (Some("paid"), Some("pending"))
    );
    assert!(adjusted["adjustment"]["due_at"].as_i64().unwrap() > NOV_1);
    // The deal is refunded afterwards: the clawback is the plugin's, on
    // its own lines (the adjustment is not a line kind it knows).
    let (status, refunded) = app
        .send("POST", "/v1/deals/d-h1/refund", Some(&admin), Some(json!({ "amount": usd(1_000_000), "at": SEP_10 })))
        .await;
    assert_eq!(status, StatusCode::OK, "{refunded}");
    let clawback = refunded["commission_lines"].as_array().unwrap().iter().find(|l| l["kind"] == "clawback").cloned();
    assert_eq!(clawback.unwrap()["amount"], -150_000, "{refunded}");

    // Bad input names the field.
    for (s, body, message) in [
        ("hold", json!({ "reason": " " }), "`reason` must not be empty"),
        ("adjust", json!({ "reason": "x" }), "`amount` is required"),
        ("adjust", json!({ "reason": "x", "amount": 0 }), "`amount` must be a nonzero"),
        ("hold", json!({ "reason": "x", "amount": 5 }), "`amount` is only for adjust and resolve"),
    ] {
        let (status, body) = step(&app, &admin, l1, s, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{s}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(message), "{body}");
    }
    let (status, _) = step(&app, &admin, 999_999, "hold", json!({ "reason": "x" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-13" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-11", "reference": "a,b" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.send("POST", "/v1/payout-runs", Some(&p), Some(json!({ "period": "2026-11" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_eur_deal_in_a_usd_and_eur_program_is_paid_in_eur_and_totalled_apart() {
    let app = Arc::new(app().await);
    let program = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/acme/policy.toml"))
        .unwrap()
        .replace("slug = \"acme\"", "slug = \"euroco\"")
        .replace("currency = \"USD\"\n", "currency = \"USD\"\ncurrencies = [\"EUR\"]\n")
        + "\npayout-minimum = { amount = 100_000, currency = \"USD\" }\n";
    let (_, admin) = app
        .service
        .create_tenant(&program, Path::new("euroco/policy.toml"), |_| {
            Some(pactum_plugin_artifacts::STOCK_BYTES.to_vec())
        })
        .await
        .unwrap();
    let key = partner(&app, &admin, "p-eu").await;
    let eur = |amount: i64| json!({ "amount": amount, "currency": "EUR" });
    let deal = |id: &str, acv: Value| {
        json!({ "id": id, "partner_id": "p-eu", "account_domain": format!("{id}.example"), "first_year_acv": acv,
                "source": "partner-sourced" })
    };
    // A currency the program does not take is refused, naming those it does.
    let (status, body) = app
        .send("POST", "/v1/deals", Some(&admin), Some(deal("d-jpy", json!({ "amount": 1_000, "currency": "JPY" }))))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("accepts USD, EUR"), "{body}");
    let (status, body) = app
        .send("POST", "/v1/deals", Some(&admin), Some(json!({ "id": "d-mixed", "partner_id": "p-eu",
            "account_domain": "m.example", "first_year_acv": eur(1_000), "services": usd(5), "source": "partner-sourced" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "services in another currency than the deal: {body}");

    // A EUR deal and a USD deal, both won in August: lines in their own currency.
    // (EUR 750 earned: below the $1,000 minimum as a number, paid all the
    // same: the minimum is in USD.)
    for (id, acv) in [("d-eur", eur(500_000)), ("d-usd", usd(2_000_000))] {
        let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(deal(id, acv))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, won) =
            app.send("POST", &format!("/v1/deals/{id}/won"), Some(&admin), Some(json!({ "closed_at": AUG_10 }))).await;
        assert_eq!(status, StatusCode::OK, "{won}");
        let currency = if id == "d-eur" { "EUR" } else { "USD" };
        assert_eq!(won["commission_lines"][0]["currency"], currency, "{won}");
    }
    let (_, statement) =
        app.send("GET", &format!("/v1/partners/p-eu/statement?from=0&to={OCT_1}"), Some(&key), None).await;
    assert_eq!(statement["totals"], json!({ "EUR": 75_000, "USD": 300_000 }), "{statement}");
    assert_eq!((statement["currency"].as_str(), statement["total"].as_i64()), (Some("USD"), Some(300_000)));

    // September's run pays one payout per currency; the USD minimum does
    // not apply to EUR.
    let (status, run) = app.send("POST", "/v1/payout-runs", Some(&admin), Some(json!({ "period": "2026-09" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["totals"], json!({ "EUR": 75_000, "USD": 300_000 }), "{run}");
    let (_, _, csv) =
        app.send_full("GET", &format!("/v1/payout-runs/{}/csv", run["id"]), Some(&admin), Vec::new()).await;
    let csv = csv.as_str().unwrap();
    assert!(csv.contains("/p-eu/EUR,p-eu,\"Partner p-eu, Inc\",EUR,750.00,75000,1"), "{csv}");
    assert!(csv.contains("/p-eu/USD,p-eu,\"Partner p-eu, Inc\",USD,3000.00,300000,1"), "{csv}");

    // Tiers and program revenue are in USD: the EUR deal counts at the
    // rate the company gives for its month, and not without one.
    let (status, body) = app.send("POST", "/v1/scorecards/2026-08", Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("no EUR rate for 2026-08"), "{body}");
    for (rates, why) in [
        (json!({ "EUR": "1,10" }), "a decimal like"),
        (json!({ "USD": "1" }), "other currencies are EUR"),
        (json!({ "JPY": "0.0067" }), "other currencies are EUR"),
    ] {
        let (status, body) =
            app.send("PUT", "/v1/program/rates/2026-08", Some(&admin), Some(json!({ "rates": rates }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(why), "{body}");
    }
    let (status, rates) =
        app.send("PUT", "/v1/program/rates/2026-08", Some(&admin), Some(json!({ "rates": { "EUR": "1.10" } }))).await;
    assert_eq!((status, rates["rates_micros"]["EUR"].as_i64()), (StatusCode::OK, Some(1_100_000)), "{rates}");
    let (status, run) = app.send("POST", "/v1/scorecards/2026-08", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let card = run["scorecards"].as_array().unwrap().iter().find(|c| c["partner_id"] == "p-eu").unwrap().clone();
    // $20,000 + EUR 5,000 at 1.10 = $25,500.
    assert_eq!((card["won_revenue"].as_i64(), card["trailing_revenue"].as_i64()), (Some(2_550_000), Some(2_550_000)));
    assert_eq!(card["won_deals"], 2);
    let (aug_1, sep_1) = (AUG_10 - 9 * DAY, AUG_10 + 22 * DAY);
    let (status, m) =
        app.send("GET", &format!("/v1/program/metrics?from={aug_1}&to={sep_1}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(
        (m["numbers"]["won_revenue"].as_i64(), m["numbers"]["partner_sourced_revenue"].as_i64()),
        (Some(2_550_000), Some(2_550_000))
    );
}
