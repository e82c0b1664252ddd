//! The plugin lifecycle over HTTP: publish (validated, stored, not live),
//! refusals that change nothing, activation while requests run (no failed
//! request, no mixed result), rollback, the binding history, and replay of
//! recorded decisions.

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use pactum_plugin_artifacts::{NORTHWIND_BYTES, STOCK_BYTES};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const T: i64 = 1_795_651_200; // 2026-11-26

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

async fn partner(app: &App, company: &str, id: &str) {
    let admin = app.key(company).to_string();
    let body = json!({ "id": id, "name": format!("Partner {id}"), "kind": "referral" });
    let (status, body) = app.send("POST", "/v1/partners", Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Creates and wins a $10,000 deal for p-1; returns the won deal.
async fn win(app: &App, company: &str, id: &str) -> (StatusCode, Value) {
    let admin = app.key(company).to_string();
    let deal = json!({
        "id": id, "partner_id": "p-1", "account_domain": format!("{id}.example.com"),
        "first_year_acv": { "amount": 1_000_000, "currency": "USD" }, "source": "partner-sourced"
    });
    let (status, body) = app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
    if status != StatusCode::CREATED {
        return (status, body);
    }
    app.send("POST", &format!("/v1/deals/{id}/won"), Some(&admin), Some(json!({ "closed_at": T }))).await
}

async fn commission_binding(app: &App, company: &str) -> String {
    let (_, program) = app.send("GET", "/v1/program", Some(app.key(company)), None).await;
    program["plugins"]["commission"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn refused_publishes_change_nothing() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    let (_, before) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    // The bundled plugin passed every fixture of the hooks it serves.
    assert_eq!(before["plugins"][0]["fixtures"], "12 of 12 fixtures passed", "{before}");
    let core_module = wat::parse_str("(module (func (export \"f\")))").unwrap();
    for (body, query, status, needle) in [
        (b"not wasm at all".to_vec(), "name=x&version=1", StatusCode::UNPROCESSABLE_ENTITY, "not a WebAssembly file"),
        (core_module, "name=x&version=1", StatusCode::UNPROCESSABLE_ENTITY, "core WebAssembly module"),
        (Vec::new(), "name=x&version=1", StatusCode::BAD_REQUEST, "component's bytes"),
        (STOCK_BYTES.to_vec(), "name=x", StatusCode::BAD_REQUEST, "version"),
        (STOCK_BYTES.to_vec(), "name=no%20spaces&version=1", StatusCode::UNPROCESSABLE_ENTITY, "`name`"),
    ] {
        let (got, error) = app.send_raw("POST", &format!("/v1/plugins?{query}"), Some(&admin), body).await;
        assert_eq!(got, status, "{query}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{query}: {message}");
    }
    let (_, after) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    assert_eq!(before, after);

    // Only an admin key manages plugins.
    partner(&app, "acme", "p-1").await;
    let (_, key) = app.send("POST", "/v1/partners/p-1/keys", Some(&admin), None).await;
    let partner_key = key["key"].as_str().unwrap();
    let (status, _) =
        app.send_raw("POST", "/v1/plugins?name=x&version=1", Some(partner_key), NORTHWIND_BYTES.to_vec()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Acme's commission fixtures fail Northwind's plugin (it reads
    // parameters Acme does not have): refused, naming the fixtures...
    let (status, error) =
        app.send_raw("POST", "/v1/plugins?name=northwind&version=1.0.0", Some(&admin), NORTHWIND_BYTES.to_vec()).await;
    assert_eq!((status, error["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("fixtures-failed")));
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("1 of 3 fixtures passed"), "{message}");
    assert!(message.contains("commission/referral-120k: result expected {\"ok\""), "{message}");
    assert!(message.contains("got {\"error\""), "{message}");
    let (_, after) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    assert_eq!(before, after);
    // ...unless the admin overrides them, which is recorded.
    let (status, published) = app
        .send_raw(
            "POST",
            "/v1/plugins?name=northwind&version=1.0.0&override_fixtures=true",
            Some(&admin),
            NORTHWIND_BYTES.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let verdict = published["fixtures"].as_str().unwrap();
    assert!(verdict.starts_with("1 of 3 fixtures passed; overridden by key:"), "{verdict}");
    // Northwind's plugin was loaded already (it serves Northwind): no compilation.
    assert_eq!(published["cold_start"]["source"], "memory", "{published}");

    // A published plugin for another hook cannot serve this one.
    let hash = published["hash"].as_str().unwrap();
    let (status, error) =
        app.send("PUT", "/v1/bindings/routing", Some(&admin), Some(json!({ "plugin": hash, "reason": "try" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("does not export the routing hook"));
    // Nor can another company's plugin, or one never published.
    let (status, _) = app
        .send(
            "PUT",
            "/v1/bindings/commission",
            Some(app.key("northwind")),
            Some(json!({ "plugin": "00".repeat(32), "reason": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(commission_binding(&app, "acme").await, sha256(STOCK_BYTES));
}

#[tokio::test]
async fn activation_under_load_then_rollback_and_replay() {
    let app = Arc::new(app().await);
    partner(&app, "northwind", "p-1").await;
    let admin = app.key("northwind").to_string();
    let (northwind, stock) = (sha256(NORTHWIND_BYTES), sha256(STOCK_BYTES));
    assert_eq!(commission_binding(&app, "northwind").await, northwind);

    // Northwind's fixtures pin its own rates: the stock commission fails
    // them, side by side (expected 12 %, got 15 %).
    let (status, error) = app
        .send_raw("POST", "/v1/plugins?name=stock&version=2.0.0&hook=commission", Some(&admin), STOCK_BYTES.to_vec())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("commission/referral-120k: ok.lines[0].amount.amount expected 1440000, got 1800000"),
        "{message}"
    );
    // Publishing with the override: stored, not live. The stock plugin is
    // there already (it serves Northwind's other hooks): the same bytes are
    // not stored twice.
    let (status, published) = app
        .send_raw(
            "POST",
            "/v1/plugins?name=stock&version=2.0.0&hook=commission&override_fixtures=true",
            Some(&admin),
            STOCK_BYTES.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!((published["hash"].as_str(), published["created"].as_bool()), (Some(stock.as_str()), Some(false)));
    assert!(published["hooks"].as_array().unwrap().iter().any(|h| h == "commission"));
    assert_eq!(commission_binding(&app, "northwind").await, northwind);

    // Deals are won on four tasks while the commission plugin is swapped,
    // once eight of them are done.
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (app, done) = (app.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for i in 0..12 {
                results.push(win(&app, "northwind", &format!("d-{t}-{i}")).await);
                done.fetch_add(1, Ordering::SeqCst);
            }
            results
        }));
    }
    while done.load(Ordering::SeqCst) < 8 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let activate = |override_fixtures: bool| {
        let body = json!({
            "plugin": stock, "reason": "standard rates from December", "override_fixtures": override_fixtures
        });
        let (app, admin) = (app.clone(), admin.clone());
        async move { app.send("PUT", "/v1/bindings/commission", Some(&admin), Some(body)).await }
    };
    let (status, error) = activate(false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, change) = activate(true).await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert!(change["fixtures"].as_str().unwrap().contains("overridden by key:"), "{change}");
    assert_eq!(
        (change["from_hash"].as_str(), change["to_hash"].as_str()),
        (Some(northwind.as_str()), Some(stock.as_str()))
    );
    let mut won = Vec::new();
    for task in tasks {
        won.extend(task.await.unwrap());
    }
    for (status, body) in &won {
        assert_eq!(*status, StatusCode::OK, "a request failed during the swap: {body}");
    }
    // After the switch, every call uses the new plugin.
    let (status, last) = win(&app, "northwind", "d-last").await;
    assert_eq!(status, StatusCode::OK, "{last}");
    won.push((status, last));

    // Every decision names the plugin that made it and replays to the same
    // output through that plugin: no mixed results.
    let mut by_plugin = std::collections::HashMap::<String, usize>::new();
    for (_, deal) in &won {
        let decision_id = deal["commission_lines"][0]["decision_id"].as_i64().unwrap();
        let (_, decision) = app.send("GET", &format!("/v1/decisions/{decision_id}"), Some(&admin), None).await;
        let plugin = decision["plugin"].as_str().unwrap().to_string();
        let (status, replay) =
            app.send("GET", &format!("/v1/decisions/{decision_id}/replay"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{replay}");
        assert!(replay["same"].as_bool().unwrap(), "decision {decision_id} replays differently: {replay}");
        assert_eq!(replay["plugin"], plugin.as_str());
        // The stock rule pays Northwind's referral rate, 15 %; Northwind's
        // own pays 12 % below its quota (and 18 % above).
        let total: i64 =
            deal["commission_lines"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).sum();
        if plugin == stock {
            assert_eq!(total, 150_000, "{deal}");
        } else {
            assert_eq!(plugin, northwind);
            assert!(total == 120_000 || total > 120_000 && total <= 180_000, "{deal}");
        }
        *by_plugin.entry(plugin).or_default() += 1;
    }
    assert_eq!(
        by_plugin.get(&stock).copied().unwrap_or(0) + by_plugin.get(&northwind).copied().unwrap_or(0),
        won.len()
    );
    assert!(by_plugin.get(&northwind).copied().unwrap_or(0) >= 8, "{by_plugin:?}");
    assert!(by_plugin.contains_key(&stock), "no decision after the switch: {by_plugin:?}");
    let last_decision = won.last().unwrap().1["commission_lines"][0]["decision_id"].as_i64().unwrap();
    let (_, last) = app.send("GET", &format!("/v1/decisions/{last_decision}"), Some(&admin), None).await;
    assert_eq!(last["plugin"], stock.as_str());

    // Rollback: one call back to the previous plugin, and its numbers.
    let (status, back) = app
        .send("POST", "/v1/bindings/commission/rollback", Some(&admin), Some(json!({ "reason": "finance said no" })))
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["to_hash"], northwind.as_str());
    assert_eq!(back["reason"], "rollback: finance said no");
    assert_eq!(back["fixtures"], "4 of 4 fixtures passed");
    assert_eq!(commission_binding(&app, "northwind").await, northwind);
    let (_, after) = win(&app, "northwind", "d-after").await;
    let decision_id = after["commission_lines"][0]["decision_id"].as_i64().unwrap();
    let (_, decision) = app.send("GET", &format!("/v1/decisions/{decision_id}"), Some(&admin), None).await;
    assert_eq!(decision["plugin"], northwind.as_str());

    // The history: who, when, why, from which hash to which, newest first.
    let (_, bindings) = app.send("GET", "/v1/bindings?hook=commission", Some(&admin), None).await;
    let changes = bindings["changes"].as_array().unwrap();
    let reasons: Vec<&str> = changes.iter().map(|c| c["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["rollback: finance said no", "standard rates from December", "created with the company"]);
    assert!(changes[0]["changed_by"].as_str().unwrap().starts_with("key:"));
    assert_eq!(changes[2]["from_hash"], Value::Null);
    assert_eq!(bindings["bindings"]["commission"], northwind.as_str());

    // Rolling back twice flips back; the very first binding has nothing before it.
    let (_, bindings) = app.send("GET", "/v1/bindings?hook=routing", Some(&admin), None).await;
    assert_eq!(bindings["changes"].as_array().unwrap().len(), 1);
    let (status, error) = app.send("POST", "/v1/bindings/routing/rollback", Some(&admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
}

#[tokio::test]
async fn the_operators_replay_finds_a_decision_by_id_alone() {
    let app = app().await;
    partner(&app, "acme", "p-1").await;
    let (status, won) = win(&app, "acme", "d-1").await;
    assert_eq!(status, StatusCode::OK, "{won}");
    let decision_id = won["commission_lines"][0]["decision_id"].as_i64().unwrap();
    let replay = app.service.replay(None, decision_id).await.unwrap();
    assert!(replay.same);
    assert_eq!(replay.tenant, "acme");
    assert_eq!(replay.recorded["ok"]["lines"][0]["amount"]["amount"], 150_000);
    // Another company's key cannot replay it.
    let (status, _) =
        app.send("GET", &format!("/v1/decisions/{decision_id}/replay"), Some(app.key("northwind")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backtest_reports_what_a_candidate_would_change() {
    let app = app().await;
    let admin = app.key("northwind").to_string();
    partner(&app, "northwind", "p-1").await;
    partner(&app, "northwind", "p-2").await;
    // A fixed history: three deals won under Northwind's plugin (12 %,
    // below its quarterly quota), one registration approved, one reviewed.
    for (id, partner, acv) in [("d-1", "p-1", 5_000_000), ("d-2", "p-1", 4_000_000), ("d-3", "p-2", 3_000_000)] {
        let deal = json!({
            "id": id, "partner_id": partner, "account_domain": format!("{id}.example.com"),
            "first_year_acv": { "amount": acv, "currency": "USD" }, "source": "partner-sourced"
        });
        app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
        let (status, won) =
            app.send("POST", &format!("/v1/deals/{id}/won"), Some(&admin), Some(json!({ "closed_at": T }))).await;
        assert_eq!(status, StatusCode::OK, "{won}");
    }
    for (domain, employees) in [("big.example.com", 400), ("tiny.example.com", 5)] {
        let body = json!({
            "partner_id": "p-1", "account_domain": domain, "account_name": "A", "employees": employees,
            "amount": { "amount": 1_000_000, "currency": "USD" }
        });
        let (status, r) = app.send("POST", "/v1/registrations", Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{r}");
    }
    let stock = sha256(STOCK_BYTES);
    let backtest = |hook: &str, plugin: &str, from: i64, to: i64| {
        let body = json!({ "hook": hook, "from": from, "to": to, "plugin": plugin });
        let admin = admin.clone();
        let app = &app;
        async move { app.send("POST", "/v1/backtests", Some(&admin), Some(body)).await }
    };
    let day = 86_400;

    // The stock rule would pay Northwind's referral rate, 15 %, instead of 12 %.
    let (status, report) = backtest("commission", &stock, T - day, T + day).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!((report["decisions"].as_i64(), report["changed"].as_i64()), (Some(3), Some(3)));
    assert_eq!(
        report["by_partner"],
        json!([
            { "partner_id": "p-1", "recorded": 1_080_000, "candidate": 1_350_000 },
            { "partner_id": "p-2", "recorded": 360_000, "candidate": 450_000 }
        ])
    );
    let first = &report["differences"][0];
    assert_eq!(first["subject"], "d-1");
    assert_eq!(first["recorded"]["ok"]["lines"][0]["amount"]["amount"], 600_000);
    assert_eq!(first["candidate"]["ok"]["lines"][0]["amount"]["amount"], 750_000);

    // The live plugin against its own history changes nothing; another
    // period has nothing to replay.
    let (_, same) = backtest("commission", &sha256(NORTHWIND_BYTES), T - day, T + day).await;
    assert_eq!((same["decisions"].as_i64(), same["changed"].as_i64()), (Some(3), Some(0)));
    let (_, empty) = backtest("commission", &stock, T - 30 * day, T - 20 * day).await;
    assert_eq!(empty["decisions"], 0);

    // Approval: outcomes counted from → to (the registrations were
    // decided now, by the server's clock).
    let now = pactum::service::now();
    let (_, approvals) = backtest("approval", &stock, now - day, now + day).await;
    assert_eq!(approvals["changed"], 0, "{approvals}");
    assert_eq!(
        approvals["transitions"],
        json!([
            { "from": "approve 60", "to": "approve 60", "count": 1 },
            { "from": "review", "to": "review", "count": 1 }
        ])
    );

    // Bad requests.
    let (status, _) = backtest("commission", &stock, T, T).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = backtest("commission", &"0".repeat(64), T - day, T + day).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = backtest("routing", &sha256(NORTHWIND_BYTES), T - day, T + day).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The same from the command line, offline on the database, with progress.
    let cache = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(["plugin", "backtest", pactum_plugin_artifacts::STOCK, "--tenant", "northwind", "--hook", "commission"])
        .args(["--from", "2026-11-25", "--to", "2026-11-27", "--database-url", &app.database_url, "--cache-dir"])
        .arg(cache.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("3 commission decisions of northwind replayed") && stdout.contains("3 would change"),
        "{stdout}"
    );
    let row: Vec<&str> = stdout.lines().find(|l| l.starts_with("p-1 ")).unwrap().split_whitespace().collect();
    assert_eq!(row, ["p-1", "1080000", "1350000", "270000"]);
    assert!(stderr.contains("backtest: 3 of 3 decisions replayed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shadow_is_recorded_and_compared_never_acted_on() {
    let app = app().await;
    let admin = app.key("northwind").to_string();
    partner(&app, "northwind", "p-1").await;
    let (northwind, stock) = (sha256(NORTHWIND_BYTES), sha256(STOCK_BYTES));
    let (status, report) =
        app.send("PUT", "/v1/shadows/commission", Some(&admin), Some(json!({ "plugin": stock }))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!((report["plugin"].as_str(), report["runs"].as_i64()), (Some(stock.as_str()), Some(0)));

    // Live decisions are Northwind's own (12 %), whatever the shadow says.
    for i in 0..3 {
        let (status, won) = win(&app, "northwind", &format!("d-{i}")).await;
        assert_eq!(status, StatusCode::OK, "{won}");
        assert_eq!(won["commission_lines"][0]["amount"], 120_000);
        let id = won["commission_lines"][0]["decision_id"].as_i64().unwrap();
        let (_, decision) = app.send("GET", &format!("/v1/decisions/{id}"), Some(&admin), None).await;
        assert_eq!(decision["plugin"], northwind.as_str());
    }
    // The shadow ran beside each (in the background) and disagreed each time.
    let report = loop {
        let (_, report) = app.send("GET", "/v1/shadows/commission", Some(&admin), None).await;
        if report["runs"] == 3 {
            break report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!((report["agreed"].as_i64(), report["agreement_bps"].as_i64()), (Some(0), Some(0)));
    let difference = &report["differences"][0];
    assert_eq!(difference["live"]["ok"]["lines"][0]["amount"]["amount"], 120_000);
    assert_eq!(difference["shadow"]["ok"]["lines"][0]["amount"]["amount"], 150_000);
    // The same from the command line, on the database.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(["plugin", "shadow-report", "--tenant", "northwind", "--hook", "commission"])
        .args(["--database-url", &app.database_url])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("0 of 3 live decisions agreed (0.00 %)"), "{stdout}");

    // The live plugin as its own shadow agrees every time.
    app.send("PUT", "/v1/shadows/commission", Some(&admin), Some(json!({ "plugin": northwind }))).await;
    win(&app, "northwind", "d-same").await;
    let report = loop {
        let (_, report) = app.send("GET", "/v1/shadows/commission", Some(&admin), None).await;
        if report["runs"] == 1 {
            break report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(report["agreement_bps"], 10_000);

    // A failing shadow fails nothing live.
    let hostile = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let size = hostile.len() as u64;
    let (_, published) =
        app.send_raw("POST", "/v1/plugins?name=hostile&version=1&override_fixtures=true", Some(&admin), hostile).await;
    let hash = published["hash"].as_str().unwrap().to_string();
    // The publish reports the cold start: compiled now (this server had
    // never seen it), its compiled size, the first fixture call's time.
    let cold = &published["cold_start"];
    assert_eq!((cold["source"].as_str(), cold["component_bytes"].as_u64()), (Some("compiled"), Some(size)), "{cold}");
    assert!(cold["artifact_bytes"].as_u64().is_some_and(|b| b > 0), "{cold}");
    assert!(cold["first_call_us"].as_u64().is_some_and(|us| us > 0), "{cold}");
    assert!(published["compile_ms"].as_u64().is_some(), "{published}");
    app.send("PUT", "/v1/shadows/commission", Some(&admin), Some(json!({ "plugin": hash }))).await;
    let (status, won) = win(&app, "northwind", "d-hostile").await;
    assert_eq!((status, won["commission_lines"][0]["amount"].as_i64()), (StatusCode::OK, Some(120_000)));
    let report = loop {
        let (_, report) = app.send("GET", "/v1/shadows/commission", Some(&admin), None).await;
        if report["runs"] == 1 {
            break report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(report["differences"][0]["shadow"]["error"]["kind"], "policy", "{report}");

    // Stopped: no shadow, and stopping again is a 404.
    let (status, _) = app.send("DELETE", "/v1/shadows/commission", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, report) = app.send("GET", "/v1/shadows/commission", Some(&admin), None).await;
    assert_eq!(report["plugin"], Value::Null);
    let (status, _) = app.send("DELETE", "/v1/shadows/commission", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn four_eyes_activation_waits_for_a_second_admin() {
    let app = app().await;
    let program = "[company]\nslug = \"fourco\"\nname = \"Four Eyes Co\"\ncurrency = \"USD\"\n\
                   [hooks]\ncommission = \"stock\"\n[lifecycle]\nfour-eyes = true\n";
    let (_, first) = app
        .service
        .create_tenant(program, std::path::Path::new("policy.toml"), |_| Some(STOCK_BYTES.to_vec()))
        .await
        .unwrap();
    let second = app.service.create_key("fourco", "admin", None).await.unwrap();
    let third = app.service.create_key("fourco", "admin", None).await.unwrap();
    let northwind = sha256(NORTHWIND_BYTES);
    let hostile_bytes = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let hostile = sha256(&hostile_bytes);
    let publish = |key: String, name: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            let uri = format!("/v1/plugins?name={name}&version=1&override_fixtures=true");
            let (status, body) = app.send_raw("POST", &uri, Some(&key), bytes).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    };
    let activate = |key: String, plugin: String| {
        let app = &app;
        async move {
            let body = json!({ "plugin": plugin, "reason": "new rates" });
            app.send("PUT", "/v1/bindings/commission", Some(&key), Some(body)).await
        }
    };
    let approve = |key: String, id: i64| {
        let app = &app;
        async move { app.send("POST", &format!("/v1/activations/{id}/approve"), Some(&key), None).await }
    };
    let live = || {
        let (app, key) = (&app, first.clone());
        async move {
            let (_, program) = app.send("GET", "/v1/program", Some(&key), None).await;
            program["plugins"]["commission"].as_str().unwrap().to_string()
        }
    };

    // Asked for: pending, not live.
    publish(first.clone(), "northwind", NORTHWIND_BYTES.to_vec()).await;
    let (status, request) = activate(first.clone(), northwind.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{request}");
    assert_eq!(request["status"], "pending");
    assert_eq!(live().await, sha256(STOCK_BYTES));
    let id = request["id"].as_i64().unwrap();

    // Not by the admin who asked; by another, once.
    let (status, error) = approve(first.clone(), id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    let (status, change) = approve(second.clone(), id).await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(live().await, northwind);
    let by = change["changed_by"].as_str().unwrap();
    assert!(by.starts_with("key:") && by.contains(" approved by key:"), "{by}");
    let (status, _) = approve(third.clone(), id).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Not by the plugin's publisher either.
    publish(second.clone(), "hostile", hostile_bytes).await;
    let (_, request) = activate(first.clone(), hostile.clone()).await;
    let id = request["id"].as_i64().unwrap();
    let (status, error) = approve(second.clone(), id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("publisher"));
    let (status, _) = approve(third.clone(), id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(live().await, hostile);

    // A rollback goes live at once.
    let (status, back) =
        app.send("POST", "/v1/bindings/commission/rollback", Some(&first), Some(json!({ "reason": "oops" }))).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(live().await, northwind);
    let (_, list) = app.send("GET", "/v1/activations", Some(&first), None).await;
    let statuses: Vec<&str> =
        list["activations"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["approved", "approved"]);
}

#[tokio::test]
async fn a_component_over_the_size_limit_is_refused() {
    let limit = 200_000;
    let app = common::app::app_with(pactum::runtime::RuntimeConfig {
        max_component_bytes: limit,
        ..pactum::runtime::RuntimeConfig::default()
    })
    .await;
    let admin = app.key("acme").to_string();
    let (_, before) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    // Just over: the runtime refuses it; far over: the server does not read it all.
    for (size, status, needle) in [
        (limit + 1, StatusCode::PAYLOAD_TOO_LARGE, "200001 bytes, over the limit of 200000 bytes"),
        (4 * limit, StatusCode::PAYLOAD_TOO_LARGE, "over this server's limit of 200000 bytes"),
    ] {
        let mut bytes = STOCK_BYTES.to_vec();
        bytes.resize(size, 0);
        let (got, error) = app.send_raw("POST", "/v1/plugins?name=big&version=1", Some(&admin), bytes).await;
        assert_eq!(got, status, "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains(needle), "{error}");
    }
    let (_, after) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_company_limits_the_size_of_its_components() {
    let app = app().await;
    let program = |limit: usize| {
        format!(
            "[company]\nslug = \"smallco\"\nname = \"Small Co\"\ncurrency = \"USD\"\n\
             [hooks]\ncommission = \"stock\"\n[limits]\ncomponent-bytes = {limit}\n"
        )
    };
    let path = std::path::Path::new("policy.toml");
    // Its own program's plugins must fit...
    let err =
        app.service.create_tenant(&program(1_000), path, |_| Some(STOCK_BYTES.to_vec())).await.unwrap_err().to_string();
    assert!(err.contains(&format!("{} bytes, over the limit of 1000 bytes", STOCK_BYTES.len())), "{err}");
    assert!(err.contains("component-bytes"), "{err}");
    // ...and so must what it publishes: refused before it is read, naming
    // the limit and the size.
    let limit = STOCK_BYTES.len();
    let (_, admin) = app.service.create_tenant(&program(limit), path, |_| Some(STOCK_BYTES.to_vec())).await.unwrap();
    let (_, before) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    let mut bigger = NORTHWIND_BYTES.to_vec();
    bigger.resize(limit + 1, 0);
    let (status, error) = app.send_raw("POST", "/v1/plugins?name=big&version=1", Some(&admin), bigger).await;
    assert_eq!((status, error["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too-large")));
    let message = error["error"]["message"].as_str().unwrap();
    let expected =
        format!("the component is {} bytes, over the limit of {limit} bytes (`[limits] component-bytes`)", limit + 1);
    assert!(message.contains(&expected), "{message}");
    let (_, after) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    assert_eq!(before, after);
}

/// A policy that caches its parameters in a module-level variable (the
/// hostile plugin's `first-params` mode) still decides with each company's
/// own: every company's snapshot is warmed with its own parameters, never
/// a built-in set shared by all. (Here, where its service runs in a process
/// of its own: `large_pool.rs` counts page faults.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_company_s_snapshot_is_warmed_with_its_own_parameters() {
    use pactum::runtime::HookKind;
    let config = pactum::runtime::RuntimeConfig { large_component_bytes: Some(0), ..Default::default() };
    let app = common::app::app_with(config).await;
    let hostile = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let stock = std::fs::read(pactum_plugin_artifacts::STOCK).unwrap();
    let mut companies = Vec::new();
    for (slug, rate) in [("first", 100), ("second", 200)] {
        let program = format!(
            "[company]\nslug = \"{slug}\"\nname = \"{slug}\"\ncurrency = \"USD\"\n[hooks]\ncommission = \"hostile\"\n\
             [params]\nmode = \"first-params\"\nrate-bps = {rate}\n"
        );
        let resolve = |name: &str| match name {
            "hostile" => Some(hostile.clone()),
            "stock" => Some(stock.clone()),
            _ => None,
        };
        let (_, key) = app.service.create_tenant(&program, std::path::Path::new("policy.toml"), resolve).await.unwrap();
        companies.push((slug, rate, key));
    }
    let won = serde_json::json!({ "event_time": 1_795_651_200, "input": {
        "event": "won",
        "deal": { "id": "d-1", "first_year_acv": { "amount": 100, "currency": "USD" },
                  "services": { "amount": 0, "currency": "USD" }, "source": "partner-sourced", "closed_at": 0 },
        "partner": { "id": "p-1", "name": "P", "kind": "referral", "tier": "registered", "territories": [],
                     "certifications": [], "active": true },
        "prior_lines": [], "quarter_to_date": { "amount": 0, "currency": "USD" } } });
    for (slug, rate, key) in &companies {
        let plugin = app.service.tenant(slug).unwrap().plugins[&HookKind::Commission].clone();
        assert!(plugin.is_preinitialized(), "{slug}: the snapshot, not the component as published");
        for _ in 0..3 {
            let (status, body) = app.send("POST", "/v1/decisions/commission", Some(key), Some(won.clone())).await;
            assert_eq!(status, axum::http::StatusCode::CREATED, "{body}");
            let expected = format!("rate {rate} bps, from the parameters of {slug}");
            assert_eq!(body["decision"]["explanation"], expected.as_str(), "{slug}: {body}");
        }
    }
    // One component, two snapshots: the same hash, recorded in both
    // companies' decisions, and two loaded plugins.
    let first = app.service.tenant("first").unwrap().plugins[&HookKind::Commission].clone();
    let second = app.service.tenant("second").unwrap().plugins[&HookKind::Commission].clone();
    assert_eq!(first.hash(), second.hash());
    assert!(!std::sync::Arc::ptr_eq(&first, &second));
}
