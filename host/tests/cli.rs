//! The `pactum` command against real databases and a real server:
//! `plugin push` to a running service, `decision replay` on a database.

mod common;

use common::app::app;
use pactum_plugin_artifacts::NORTHWIND;
use serde_json::json;
use std::process::Command;

fn pactum(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pactum")).args(args).env("RUST_LOG", "warn").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn plugin_push_publishes_to_a_running_server_and_replay_checks_a_decision() {
    let app = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    let admin = app.key("acme").to_string();

    let push = |extra: &[&str]| {
        let mut args = vec!["plugin", "push", NORTHWIND, "--server", &server, "--key", &admin];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || pactum(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };

    // Wrong company for the key, wrong hook, failing fixtures, then overridden.
    let (ok, out) = run(push(&["--hook", "commission", "--tenant", "northwind"])).await.unwrap();
    assert!(!ok && out.contains("the key belongs to company \"acme\""), "{out}");
    let (ok, out) = run(push(&["--hook", "routing", "--tenant", "acme", "--version", "1.0.0"])).await.unwrap();
    assert!(!ok && out.contains("does not export the routing hook"), "{out}");
    let (ok, out) = run(push(&["--hook", "commission", "--tenant", "acme", "--version", "1.0.0"])).await.unwrap();
    assert!(!ok && out.contains("refused (422)") && out.contains("fails the company's fixtures"), "{out}");
    let (ok, out) =
        run(push(&["--hook", "commission", "--tenant", "acme", "--version", "1.0.0", "--override-fixtures"]))
            .await
            .unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("overridden by key:") && out.contains("not live yet"), "{out}");
    // The cold start: the server runs Northwind's plugin already; Acme's
    // fixtures timed its first call.
    assert!(out.contains("cold start: already loaded; component ") && out.contains("; first call "), "{out}");
    let (_, plugins) = app.send("GET", "/v1/plugins", Some(&admin), None).await;
    let names: Vec<&str> = plugins["plugins"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"northwind_commission"), "{names:?}");
    // Activate it, then roll back, from the command line.
    let hash = pactum::runtime::PluginHash::of(&std::fs::read(NORTHWIND).unwrap()).to_hex();
    let server_args = ["--server", server.as_str(), "--key", admin.as_str()].map(String::from).to_vec();
    let mut args = ["plugin", "activate", &hash, "--hook", "commission", "--reason", "try Northwind's rule"]
        .map(String::from)
        .to_vec();
    args.extend(server_args.clone());
    let (ok, out) = run(args.clone()).await.unwrap();
    assert!(!ok && out.contains("refused (422)") && out.contains("fixtures"), "{out}");
    args.push("--override-fixtures".into());
    let (ok, out) = run(args).await.unwrap();
    assert!(ok && out.contains(&format!("-> \"{hash}\"")), "{out}");
    let (_, program) = app.send("GET", "/v1/program", Some(&admin), None).await;
    assert_eq!(program["plugins"]["commission"], hash.as_str());
    let mut args = ["plugin", "rollback", "--hook", "commission", "--reason", "no"].map(String::from).to_vec();
    args.extend(server_args);
    let (ok, out) = run(args).await.unwrap();
    assert!(ok && out.contains("rolled back"), "{out}");
    let (_, program) = app.send("GET", "/v1/program", Some(&admin), None).await;
    assert_ne!(program["plugins"]["commission"], hash.as_str());
    // Not a component: refused with the server's reason.
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"junk").unwrap();
    let path = junk.path().to_str().unwrap().to_string();
    let args =
        ["plugin", "push", &path, "--hook", "commission", "--tenant", "acme", "--server", &server, "--key", &admin]
            .map(String::from)
            .to_vec();
    let (ok, out) = run(args).await.unwrap();
    assert!(!ok && out.contains("refused (422)") && out.contains("not a WebAssembly file"), "{out}");

    // A recorded decision replays from the database alone.
    app.send("POST", "/v1/partners", Some(&admin), Some(json!({ "id": "p-1", "name": "P", "kind": "referral" }))).await;
    let (_, decision) = app
        .send(
            "POST",
            "/v1/decisions/commission",
            Some(&admin),
            Some(json!({ "input": {
                "event": "won",
                "deal": { "id": "d-1", "first_year_acv": { "amount": 12_000_000, "currency": "USD" },
                          "services": { "amount": 0, "currency": "USD" }, "source": "partner-sourced", "closed_at": 0 },
                "partner": { "id": "p-1", "name": "P", "kind": "referral", "tier": "registered", "territories": [],
                             "certifications": [], "active": true },
                "prior_lines": [], "quarter_to_date": { "amount": 0, "currency": "USD" }
            }})),
        )
        .await;
    let id = decision["id"].as_i64().unwrap_or_else(|| panic!("{decision}")).to_string();
    let cache = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["decision", "replay", &id, "--database-url", &app.database_url, "--cache-dir"]
        .into_iter()
        .map(String::from)
        .chain([cache.path().display().to_string()])
        .collect();
    let (ok, out) = run(args.clone()).await.unwrap();
    assert!(ok && out.contains("same result"), "{out}");
    // A tampered record (Acme's $18,000 fee rewritten as $19,000) no
    // longer replays to itself: the command says so and exits 1.
    let tampered = common::app::execute_sql(
        &app.database_url,
        &format!("UPDATE decisions SET record = REPLACE(record, '1800000', '1900000') WHERE id = {id}"),
    )
    .await;
    assert_eq!(tampered, 1);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pactum")).args(&args).env("RUST_LOG", "warn").output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("DIFFERENT") && text.contains("1900000") && text.contains("1800000"), "{text}");
    let (ok, out) =
        run(["decision", "replay", "999999", "--database-url", &app.database_url].map(String::from).to_vec())
            .await
            .unwrap();
    assert!(!ok && out.contains("no decision 999999"), "{out}");
}

#[test]
fn plugin_test_runs_a_company_s_fixtures_offline() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let fixtures = |company: &str| root.join("policies").join(company).join("fixtures").display().to_string();
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path().display().to_string();
    let stock = pactum_plugin_artifacts::STOCK;

    // The stock plugin passes Acme's fixtures for every hook.
    let (ok, out) = pactum(&["plugin", "test", stock, &fixtures("acme"), "--cache-dir", &cache]);
    assert!(ok, "{out}");
    assert!(out.contains("12 of 12 fixtures passed") && out.contains("pass commission/referral-120k"), "{out}");
    // Compiled the first time, loaded from the cache the next.
    assert!(out.contains(" bytes, compiled in "), "{out}");
    let (ok, out) = pactum(&["plugin", "test", stock, &fixtures("acme"), "--cache-dir", &cache]);
    assert!(ok && out.contains(" bytes, loaded from the compiled cache in "), "{out}");
    // Northwind's plugin passes Northwind's commission fixtures and skips the rest.
    let (ok, out) = pactum(&["plugin", "test", NORTHWIND, &fixtures("northwind"), "--cache-dir", &cache]);
    assert!(ok && out.contains("4 of 4 fixtures passed (9 for hooks the component does not export skipped)"), "{out}");
    // The stock commission fails Northwind's: each difference side by side.
    let (ok, out) = pactum(&["plugin", "test", stock, &fixtures("northwind"), "--cache-dir", &cache]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL commission/referral-120k"), "{out}");
    let row = out.lines().find(|l| l.contains("ok.lines[0].amount.amount")).unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["ok.lines[0].amount.amount", "1440000", "1800000"]);
    assert!(out.contains("fixture(s) failed"), "{out}");
    // No fixtures there: a clear error.
    let (ok, out) =
        pactum(&["plugin", "test", stock, &cache, "--policy", &root.join("policies/acme").display().to_string()]);
    assert!(!ok && out.contains("no fixtures under"), "{out}");
}

/// A production server starts anywhere: in an empty folder, with no
/// `policies/` beside it, it serves no company until one is created; it
/// creates the demo companies only when asked; and `SIGTERM` stops it with
/// exit 0.
#[test]
fn serve_starts_in_an_empty_folder_with_no_companies() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("PACTUM_DATABASE_URL")
        .env_remove("PACTUM_POLICIES")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let healthy = (0..300).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(healthy, "pactum serve did not start in an empty folder");
    // Its database is the folder's own, with no company in it.
    let url = format!("sqlite://{}", dir.path().join("pactum.db").display());
    let (ok, out) = pactum(&["key", "list", "acme", "--database-url", &url]);
    assert!(ok && out.trim().is_empty(), "no company, so no key: {out}");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut printed = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut printed).unwrap();
    assert!(!printed.contains("pk_"), "no key printed without --demo: {printed}");

    // Asked for the demo where there is no policies/ folder: a clear error.
    let (ok, out) = {
        let out = Command::new(env!("CARGO_BIN_EXE_pactum"))
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", "sqlite://demo.db"])
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .env_remove("PACTUM_POLICIES")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert!(!ok && out.contains("policies"), "{out}");
}

/// Serves `app` on a local port: its address.
async fn serve(app: &common::app::App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn payout_run_and_export_from_the_command_line() {
    let app = common::app::app().await;
    let server = serve(&app).await;
    let admin = app.key("acme").to_string();
    let usd = |amount: i64| json!({ "amount": amount, "currency": "USD" });
    app.send("POST", "/v1/partners", Some(&admin), Some(json!({ "id": "p-1", "name": "P", "kind": "referral" }))).await;
    let deal = json!({ "id": "d-1", "partner_id": "p-1", "account_domain": "globex.com",
                       "first_year_acv": usd(12_000_000), "source": "partner-sourced" });
    app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
    // Closed 2026-08-10: due 2026-09-09, paid by September's run.
    let (status, body) =
        app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({ "closed_at": 1_786_320_000 }))).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");

    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || pactum(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let payout = |extra: &[&str]| {
        let mut args = vec!["payout"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--server", &server, "--key", &admin]);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let (ok, out) = run(payout(&["run", "--period", "2026-09", "--reference", "B-1"])).await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("for 2026-09: 1 payouts, 1 lines, USD 18000.00; 0 balances carried over"), "{out}");
    let id = out.split_whitespace().nth(2).unwrap().to_string();
    let (ok, out) = run(payout(&["run", "--period", "2026-09"])).await.unwrap();
    assert!(!ok && out.contains("refused (409)") && out.contains("made already"), "{out}");

    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap().to_string();
    let (ok, out) = run(payout(&["export", &id, "--output", &path])).await.unwrap();
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "run_id,period,reference,partner_id,partner_name,currency,amount,amount_minor,lines\n\
             {id},2026-09,B-1/p-1/USD,p-1,P,USD,18000.00,1800000,1\n"
        )
    );
    let (ok, out) = run(payout(&["export", "999999"])).await.unwrap();
    assert!(!ok && out.contains("refused (404)") && out.contains("no payout run 999999"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_from_the_command_line_reports_refused_rows_and_exits_1() {
    let app = app().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("partners.csv");
    std::fs::write(&csv, "id,name,kind,joined_at\ncli-1,One,referral,1700000000\ncli-2,Two,alien,1700000000\n")
        .unwrap();
    let cache = dir.path().join("cache").display().to_string();
    let args = |extra: &[&str]| {
        let mut args = vec!["import", csv.to_str().unwrap(), "--tenant", "acme", "--kind", "partners"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--database-url", &app.database_url, "--cache-dir", &cache]);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || pactum(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let (ok, out) = run(args(&[])).await.unwrap();
    assert!(!ok, "{out}");
    assert!(
        out.contains("refused: partners row 2: `kind` must be") && out.contains("nothing imported: 1 rows refused"),
        "{out}"
    );
    assert!(app.service.db().partner("acme", "cli-1").await.unwrap().is_none());
    let (ok, out) = run(args(&["--partial"])).await.unwrap();
    assert!(!ok && out.contains("imported into acme: 1 partners"), "{out}");
    assert!(app.service.db().partner("acme", "cli-1").await.unwrap().is_some());
}

/// Issue 16: every step people take has a command. Against a running
/// server, each with the key of whoever takes it: the review queue, a
/// lead declined by one partner and accepted by the next, a line held
/// and released, a manual tier and a suspension, an extension asked for
/// and granted; refusals exit non-zero with the server's sentence.
#[tokio::test(flavor = "multi_thread")]
async fn the_steps_people_take_from_the_command_line() {
    let app = common::app::app().await;
    let server = serve(&app).await;
    let admin = app.key("acme").to_string();
    let mut keys = Vec::new();
    for id in ["p-1", "p-2"] {
        let body = json!({ "id": id, "name": format!("Partner {id}"), "kind": "referral", "territories": ["emea"] });
        let (status, _) = app.send("POST", "/v1/partners", Some(&admin), Some(body)).await;
        assert_eq!(status, axum::http::StatusCode::CREATED);
        let (_, key) = app.send("POST", &format!("/v1/partners/{id}/keys"), Some(&admin), None).await;
        keys.push(key["key"].as_str().unwrap().to_string());
    }
    let (p1, p2) = (keys[0].clone(), keys[1].clone());
    let cli = |key: &str, args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["--server".into(), server.clone(), "--key".into(), key.to_string()]);
        tokio::task::spawn_blocking(move || pactum(&all.iter().map(String::as_str).collect::<Vec<_>>()))
    };

    // The review queue: a registration outside Acme's profile waits; a
    // manager approves it for 30 days; rejecting it afterwards is refused.
    let small = json!({ "partner_id": "p-2", "account_domain": "tiny.io", "account_name": "Tiny", "industry": "software",
                        "employees": 12, "country": "US", "amount": { "amount": 5_000_000, "currency": "USD" } });
    let (_, review) = app.send("POST", "/v1/registrations", Some(&p2), Some(small)).await;
    let reg = review["id"].as_str().unwrap().to_string();
    let (ok, out) = cli(&admin, &["review", "list"]).await.unwrap();
    assert!(ok && out.contains(&format!("{reg} status=review partner_id=p-2")), "{out}");
    let (ok, out) = cli(&admin, &["review", "approve", &reg, "--days", "30"]).await.unwrap();
    assert!(ok && out.starts_with(&format!("{reg} status=approved")), "{out}");
    let (ok, out) = cli(&admin, &["review", "reject", &reg, "--reason", "too late"]).await.unwrap();
    assert!(!ok && out.contains("refused (409)") && out.contains("approved, not in review"), "{out}");
    let (ok, out) = cli(&admin, &["review", "list"]).await.unwrap();
    assert!(ok && out.trim() == "(none)", "{out}");

    // The extension: the partner asks, the manager grants fewer days.
    let (_, before) = app.send("GET", &format!("/v1/registrations/{reg}"), Some(&admin), None).await;
    let until = before["protected_until"].as_i64().unwrap();
    let (ok, out) = cli(&p2, &["extension", "request", &reg, "--days", "20", "--reason", "long cycle"]).await.unwrap();
    assert!(ok, "{out}");
    let (ok, out) =
        cli(&admin, &["extension", "grant", &reg, "--days", "10", "--reason", "ten is enough"]).await.unwrap();
    assert!(ok && out.contains(&format!("protected_until={}", until + 10 * 86_400)), "{out}");

    // A lead: offered to p-1, declined on the command line, offered to
    // p-2, accepted and reported on.
    let (_, lead) = app
        .send(
            "POST",
            "/v1/leads",
            Some(&admin),
            Some(json!({ "account_domain": "initech.com", "region": "emea", "source": "webinar" })),
        )
        .await;
    let lead = lead["id"].as_str().unwrap().to_string();
    let (ok, out) = cli(&p1, &["lead", "decline", &lead, "--reason", "no capacity"]).await.unwrap();
    assert!(ok && out.contains("status=offered partner_id=p-2"), "{out}");
    let (ok, out) = cli(&p2, &["lead", "accept", &lead]).await.unwrap();
    assert!(ok && out.contains("status=accepted"), "{out}");
    let (ok, out) = cli(&p2, &["lead", "report", &lead, "--status", "contacted", "--note", "called"]).await.unwrap();
    assert!(ok && out.contains("status=contacted"), "{out}");
    let (ok, out) = cli(&p1, &["lead", "accept", &lead]).await.unwrap();
    assert!(!ok && out.contains("refused (404)"), "{out}");

    // A line held, then released; the JSON answer on asking.
    let deal = json!({ "id": "d-1", "partner_id": "p-2", "account_domain": "tiny.io", "source": "partner-sourced",
                       "first_year_acv": { "amount": 12_000_000, "currency": "USD" } });
    app.send("POST", "/v1/deals", Some(&admin), Some(deal)).await;
    let (_, won) = app.send("POST", "/v1/deals/d-1/won", Some(&admin), Some(json!({}))).await;
    let line = won["commission_lines"][0]["id"].as_i64().unwrap_or_else(|| panic!("{won}")).to_string();
    let (ok, out) = cli(&admin, &["line", "hold", &line, "--reason", "checking the contract"]).await.unwrap();
    assert!(ok && out.starts_with(&format!("{line} status=held")), "{out}");
    let (ok, out) = cli(&admin, &["line", "release", &line, "--reason", "contract checked", "--json"]).await.unwrap();
    let released: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(ok && released["line"]["status"] == "pending", "{out}");

    // A partner: a manual tier, a change of name, a suspension; a change
    // with nothing in it is refused before any call.
    let (ok, out) = cli(&admin, &["partner", "tier", "p-1", "gold", "--reason", "strategic account"]).await.unwrap();
    assert!(ok && out.contains("tier=gold"), "{out}");
    let (ok, out) = cli(&admin, &["partner", "update", "p-1", "--name", "Partner One"]).await.unwrap();
    assert!(ok, "{out}");
    let (ok, out) = cli(&admin, &["partner", "suspend", "p-1", "--reason", "contract ended"]).await.unwrap();
    assert!(ok && out.contains("status=suspended"), "{out}");
    let (_, p) = app.send("GET", "/v1/partners/p-1", Some(&admin), None).await;
    assert_eq!(
        (p["name"].as_str(), p["tier"].as_str(), p["status"].as_str()),
        (Some("Partner One"), Some("gold"), Some("suspended"))
    );
    let (ok, out) = cli(&admin, &["partner", "update", "p-1"]).await.unwrap();
    assert!(!ok && out.contains("nothing to change"), "{out}");
    // A partner's key cannot take a manager's step.
    let (ok, out) = cli(&p2, &["partner", "tier", "p-2", "platinum", "--reason", "self-promotion"]).await.unwrap();
    assert!(!ok && out.contains("refused (403)"), "{out}");
}
