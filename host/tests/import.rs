//! Importing history over HTTP (issue 16, item 7): 10,000 rows with 3 bad
//! ones report exactly those 3 and import nothing until fixed (or the rest
//! with `partial`); CSV files of one kind; imported history counts from day
//! one (a registration made 100 days ago is no longer protected, imported
//! won deals are in the month's scorecard). Both databases.

mod common;

use axum::http::StatusCode;
use common::app::{App, app, query_i64};
use serde_json::{Value, json};

const DAY: i64 = 86_400;
const OCT_15: i64 = 1_792_022_400; // 2026-10-15

fn usd(field: &str, amount: i64, mut row: Value) -> Value {
    row[field] = json!(amount);
    row["currency"] = json!("USD");
    row
}

/// 10,000 rows: 100 partners, 2,000 registrations, 5,000 deals, 2,900
/// lines; `bad` puts the three mistakes in (a partner of an unknown kind, a
/// won deal without its close date, a line of a deal that does not exist),
/// each in a row nothing else depends on.
fn history(bad: bool) -> Value {
    let partners: Vec<Value> = (0..100)
        .map(|i| {
            let kind = if bad && i == 99 { "distributor" } else { "referral" };
            json!({ "id": format!("h-p{i}"), "name": format!("Partner {i}"), "kind": kind, "joined_at": OCT_15 - 400 * DAY,
                    "territories": "emea; apac" })
        })
        .collect();
    let registrations: Vec<Value> = (0..2_000)
        .map(|i| {
            usd(
                "amount",
                1_000_000,
                json!({ "id": format!("h-r{i}"), "partner_id": format!("h-p{}", i % 99),
                "account_domain": format!("h-account-{i}.example"), "status": "approved",
                "protected_until": OCT_15 + 90 * DAY, "created_at": OCT_15 }),
            )
        })
        .collect();
    let deals: Vec<Value> = (0..5_000)
        .map(|i| {
            let closed = if bad && i == 4_999 { Value::Null } else { json!(OCT_15) };
            usd(
                "first_year_acv",
                2_000_000,
                json!({ "id": format!("h-d{i}"), "partner_id": format!("h-p{}", i % 99),
                "account_domain": format!("h-deal-{i}.example"), "source": "partner-sourced", "stage": "won",
                "closed_at": closed, "created_at": OCT_15 - 30 * DAY }),
            )
        })
        .collect();
    let lines: Vec<Value> = (0..2_900)
        .map(|i| {
            let deal = if bad && i == 1_999 { "h-d-missing".to_string() } else { format!("h-d{i}") };
            usd(
                "amount",
                300_000,
                json!({ "deal_id": deal, "partner_id": format!("h-p{}", i % 99), "kind": "fee",
                "rate_bps": 1500, "status": "paid", "due_at": OCT_15 + 30 * DAY }),
            )
        })
        .collect();
    json!({ "partners": partners, "registrations": registrations, "deals": deals, "lines": lines })
}

async fn count(app: &App, table: &str) -> i64 {
    query_i64(&app.database_url, &format!("SELECT COUNT(*) FROM {table} WHERE tenant = 'acme'")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_rows_with_three_bad_ones_import_nothing_until_fixed() {
    let app = app().await;
    let admin = app.key("acme").to_string();

    let (status, report) = app.send("POST", "/v1/import", Some(&admin), Some(history(true))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", report["refused"]);
    assert_eq!((report["applied"].as_bool(), report["refused_count"].as_u64()), (Some(false), Some(3)));
    let refused: Vec<(&str, u64)> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["row"].as_u64().unwrap()))
        .collect();
    assert_eq!(refused, [("partners", 100), ("deals", 5_000), ("lines", 2_000)]);
    let messages: Vec<&str> =
        report["refused"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap()).collect();
    assert!(
        messages[0].contains("`kind`") && messages[1].contains("`closed_at`") && messages[2].contains("h-d-missing"),
        "{messages:?}"
    );
    for table in ["partners", "registrations", "deals", "commission_lines"] {
        assert_eq!(count(&app, table).await, 0, "{table}: nothing imported");
    }

    // Fixed, it is imported whole, in one go.
    let (status, report) = app.send("POST", "/v1/import", Some(&admin), Some(history(false))).await;
    assert_eq!(status, StatusCode::OK, "{}", report["refused"]);
    assert_eq!(
        report["imported"],
        json!({ "partners": 100, "accounts": 0, "registrations": 2_000, "deals": 5_000, "lines": 2_900 })
    );
    assert_eq!(
        (count(&app, "partners").await, count(&app, "registrations").await, count(&app, "deals").await),
        (100, 2_000, 5_000)
    );
    assert_eq!(count(&app, "commission_lines").await, 2_900);
    let (_, partner) = app.send("GET", "/v1/partners/h-p1", Some(&admin), None).await;
    assert_eq!(partner["territories"], json!(["emea", "apac"]));
    // The same rows again: every one exists already.
    let (status, report) = app.send("POST", "/v1/import", Some(&admin), Some(history(false))).await;
    assert_eq!((status, report["refused_count"].as_u64()), (StatusCode::UNPROCESSABLE_ENTITY, Some(7_100)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_history_counts_from_day_one_and_csv_imports_one_kind() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    let now = pactum::service::now();

    // Partners from CSV, one line bad: with partial, the others come in.
    let csv = "id,name,kind,territories,joined_at\n\
               c-1,\"Initech, Inc\",referral,emea,1700000000\n\
               c-2,Hooli,reseller,,1700000000\n\
               c-3,Bad,alien,,1700000000\n";
    let (status, report) = app.send_raw("POST", "/v1/import/partners", Some(&admin), csv.as_bytes().to_vec()).await;
    assert_eq!((status, report["refused"][0]["row"].as_u64()), (StatusCode::UNPROCESSABLE_ENTITY, Some(3)), "{report}");
    let (status, report) =
        app.send_raw("POST", "/v1/import/partners?partial=true", Some(&admin), csv.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"]["partners"], 2);
    let (_, initech) = app.send("GET", "/v1/partners/c-1", Some(&admin), None).await;
    assert_eq!(initech["name"], "Initech, Inc");
    let (status, body) = app.send_raw("POST", "/v1/import/partners", Some(&admin), b"id,name\nx\n".to_vec()).await;
    assert!(status.is_client_error() && body["error"]["message"].as_str().unwrap().contains("CSV line 2"), "{body}");
    let (status, _) = app.send_raw("POST", "/v1/import/unicorns", Some(&admin), b"id\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A registration made 100 days ago with 90 days of protection, and two
    // deals won in October 2026.
    let history = json!({
        "registrations": [{ "id": "old-r", "partner_id": "c-1", "account_domain": "globex.com", "amount": 5_000_000,
            "currency": "USD", "status": "approved", "protected_until": now - 10 * DAY, "created_at": now - 100 * DAY }],
        "deals": [
            { "id": "old-d1", "partner_id": "c-2", "account_domain": "a.example", "first_year_acv": 12_000_000,
              "currency": "USD", "source": "partner-sourced", "stage": "won", "closed_at": OCT_15, "created_at": OCT_15 - DAY },
            { "id": "old-d2", "partner_id": "c-2", "account_domain": "b.example", "first_year_acv": 9_000_000,
              "currency": "USD", "source": "partner-sourced", "stage": "won", "closed_at": OCT_15, "created_at": OCT_15 - DAY }
        ]
    });
    let (status, report) = app.send("POST", "/v1/import", Some(&admin), Some(history)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // Its protection ended: another partner registers the account and is
    // approved, not refused as a conflict.
    let (_, key) = app.send("POST", "/v1/partners/c-2/keys", Some(&admin), None).await;
    let registration = json!({ "partner_id": "c-2", "account_domain": "globex.com", "account_name": "Globex",
        "industry": "software", "employees": 400, "country": "US", "amount": { "amount": 1_000_000, "currency": "USD" } });
    let (status, body) =
        app.send("POST", "/v1/registrations", Some(key["key"].as_str().unwrap()), Some(registration)).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::CREATED, Some("approved")), "{body}");
    // The imported won deals are October's: the scorecard counts them.
    let (_, run) = app.send("POST", "/v1/scorecards/2026-10", Some(&admin), None).await;
    let card = run["scorecards"].as_array().unwrap().iter().find(|c| c["partner_id"] == "c-2").unwrap().clone();
    assert_eq!((card["won_deals"].as_i64(), card["won_revenue"].as_i64()), (Some(2), Some(21_000_000)), "{card}");
    // Imports are an admin's.
    let (status, _) = app.send("POST", "/v1/import", Some(key["key"].as_str().unwrap()), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
