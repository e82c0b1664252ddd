//! Issue 18: the isolation matrix. Two companies, each with an admin, a
//! manager, two partners with keys and data of every kind (partners,
//! registrations, won deals with commission lines, leads, decisions,
//! notifications, a published plugin, a shadow, scorecards). Then every
//! route of the OpenAPI document is called as someone who must not see one
//! party's data: the other company's admin and manager, the other partner
//! of the same company, no key, a revoked key. No answer may contain the
//! party's ids, names, account domains, amounts or key ids; the status is
//! 401 without a valid key, 403 or 404 for another party's record, and a
//! list is filtered to the caller's own. A route without a case here fails
//! the test, so a new route is covered or noticed.
//!
//! Runs on SQLite, and on PostgreSQL with `PACTUM_TEST_DATABASE_URL`.

mod common;

use axum::http::StatusCode;
use common::app::{App, app};
use pactum_plugin_artifacts::{HOSTILE, NORTHWIND_BYTES, STOCK_BYTES};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const T: i64 = 1_795_651_200; // 2026-11-26
const FAR: i64 = 4_102_444_800; // 2100-01-01

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// One partner's records: what no one but its company's staff and its own
/// key may see.
#[derive(Debug, Clone, Default)]
struct PartnerData {
    id: String,
    key: String,
    key_id: String,
    registration: String,
    deal: String,
    lead: String,
    /// Its commission line.
    line: i64,
    /// Strings that must not leak: ids, names, domains, key ids.
    strings: BTreeSet<String>,
    /// Amounts that must not leak (all over 100,000 minor units).
    amounts: BTreeSet<i64>,
}

/// One company's keys and records.
#[derive(Debug, Clone, Default)]
struct Company {
    slug: String,
    admin: String,
    manager: String,
    /// A manager key revoked before the matrix runs.
    revoked: String,
    partners: Vec<PartnerData>,
    decisions: BTreeSet<i64>,
    /// A payout run of the company's.
    payout_run: i64,
    /// A plugin only this company published (its sha256).
    own_plugin: String,
    /// The company-wide strings that must not leak (beside its partners').
    strings: BTreeSet<String>,
}

impl Company {
    /// Everything of the company that another company must not see.
    fn secrets(&self) -> Secrets {
        let mut s =
            Secrets { tenant: Some(self.slug.clone()), decisions: self.decisions.clone(), ..Default::default() };
        s.strings.extend(self.strings.iter().cloned());
        for p in &self.partners {
            s.strings.extend(p.strings.iter().cloned());
            s.amounts.extend(p.amounts.iter().copied());
        }
        s
    }
}

/// What must not appear in an answer.
#[derive(Debug, Clone, Default)]
struct Secrets {
    strings: BTreeSet<String>,
    amounts: BTreeSet<i64>,
    decisions: BTreeSet<i64>,
    /// The company's slug, as a `company`/`tenant` field's value.
    tenant: Option<String>,
}

impl PartnerData {
    fn secrets(&self) -> Secrets {
        Secrets { strings: self.strings.clone(), amounts: self.amounts.clone(), ..Default::default() }
    }
}

/// Each leak found in `value`, as a message; markers the request itself
/// carried (`sent`) are an echo, not a leak.
fn leaks(value: &Value, secrets: &Secrets, sent: &str, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            for m in &secrets.strings {
                if s.contains(m.as_str()) && !sent.contains(m.as_str()) {
                    out.push(format!("`{m}` in {s:?}"));
                }
            }
        }
        Value::Number(n) => {
            if let Some(n) = n.as_i64()
                && secrets.amounts.contains(&n.abs())
                && !sent.contains(&n.abs().to_string())
            {
                out.push(format!("amount {n}"));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| leaks(v, secrets, sent, out)),
        Value::Object(fields) => {
            for (k, v) in fields {
                if matches!(k.as_str(), "company" | "tenant" | "slug")
                    && secrets.tenant.as_deref().is_some_and(|t| v == t)
                {
                    out.push(format!("`{k}: {v}`"));
                }
                let is_decision =
                    k == "decision_id" || (k == "id" && fields.contains_key("hook") && fields.contains_key("outcome"));
                if is_decision && v.as_i64().is_some_and(|id| secrets.decisions.contains(&id)) {
                    out.push(format!("decision {v} (`{k}`)"));
                }
                leaks(v, secrets, sent, out);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

async fn post(app: &App, key: &str, path: &str, body: Value) -> Value {
    let (status, answer) = app.send("POST", path, Some(key), Some(body)).await;
    assert!(status.is_success(), "POST {path}: {status} {answer}");
    answer
}

/// One company with two partners and their records; `base` makes its
/// amounts its own.
async fn company(app: &App, slug: &str, base: i64, own_plugin: &[u8]) -> Company {
    let admin = app.key(slug).to_string();
    let manager = app.service.create_key(slug, "manager", None).await.unwrap();
    let revoked = app.service.create_key(slug, "manager", None).await.unwrap();
    let revoked_id = format!("key:{}", &sha256(revoked.as_bytes())[..12]);
    let (status, body) = app.send("DELETE", &format!("/v1/keys/{revoked_id}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut c =
        Company { slug: slug.into(), admin: admin.clone(), manager: manager.clone(), revoked, ..Default::default() };
    for key in [&admin, &manager] {
        c.strings.insert(format!("key:{}", &sha256(key.as_bytes())[..12]));
    }

    for n in 1..=2 {
        let id = format!("{slug}-partner-{n}");
        let name = format!("{slug} Partner Number {n} Ltd");
        post(
            app,
            &manager,
            "/v1/partners",
            json!({ "id": id, "name": name, "kind": "Referral", "territories": [format!("{slug}-territory-{n}")] }),
        )
        .await;
        let created = post(app, &admin, &format!("/v1/partners/{id}/keys"), json!({})).await;
        let (key, key_id) = (created["key"].as_str().unwrap().to_string(), created["id"].as_str().unwrap().to_string());
        let (reg_domain, deal_domain, lead_domain) =
            (format!("{slug}-reg-{n}.example"), format!("{slug}-deal-{n}.example"), format!("{slug}-lead-{n}.example"));
        let reg_amount = base + 10 * n;
        let registration = post(
            app,
            &key,
            "/v1/registrations",
            json!({ "partner_id": id, "account_domain": reg_domain, "account_name": format!("{slug} Account {n} Inc"),
                    "industry": "software", "employees": 400, "country": "US", "amount": usd(reg_amount) }),
        )
        .await;
        let deal = format!("{slug}-deal-{n}");
        let acv = base + 1_000 + n;
        post(
            app,
            &manager,
            "/v1/deals",
            json!({ "id": deal, "partner_id": id, "account_domain": deal_domain, "first_year_acv": usd(acv),
                    "source": "PartnerSourced" }),
        )
        .await;
        let won = post(app, &manager, &format!("/v1/deals/{deal}/won"), json!({ "closed_at": T })).await;
        let lines = won["commission_lines"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "{won}");
        // A lead for the registered account goes to this partner.
        let lead = post(app, &manager, "/v1/leads", json!({ "account_domain": reg_domain, "source": "webinar" })).await;
        assert_eq!(lead["partner_id"], json!(id), "{lead}");
        let mut p = PartnerData {
            id: id.clone(),
            key,
            key_id: key_id.clone(),
            registration: registration["id"].as_str().unwrap().to_string(),
            deal: deal.clone(),
            lead: lead["id"].as_str().map(str::to_string).unwrap_or_else(|| lead["id"].to_string()),
            line: lines[0]["id"].as_i64().unwrap(),
            ..Default::default()
        };
        p.strings.extend([
            id,
            name,
            reg_domain,
            deal_domain,
            lead_domain,
            format!("{slug} Account {n} Inc"),
            format!("{slug}-territory-{n}"),
            deal,
            key_id,
            p.registration.clone(),
            p.lead.clone(),
        ]);
        p.amounts.extend([reg_amount, acv]);
        p.amounts.extend(lines.iter().filter_map(|l| l["amount"]["amount"].as_i64()).map(i64::abs));
        p.amounts.retain(|&a| a > 100_000);
        for d in [&registration["decision_id"], &won["decision_id"], &lead["decision_id"]] {
            c.decisions.extend(d.as_i64());
        }
        c.partners.push(p);
    }
    // The decision log, the scorecards, a webhook, a plugin only this
    // company published and a shadow running it.
    let (_, decisions) = app.send("GET", "/v1/decisions?limit=500", Some(&admin), None).await;
    c.decisions.extend(decisions["decisions"].as_array().unwrap().iter().filter_map(|d| d["id"].as_i64()));
    assert!(c.decisions.len() >= 6, "{decisions}");
    post(app, &manager, "/v1/scorecards/2026-11", json!({})).await;
    let run =
        post(app, &manager, "/v1/payout-runs", json!({ "period": "2026-09", "reference": format!("{slug}-batch") }))
            .await;
    c.payout_run = run["id"].as_i64().unwrap();
    c.strings.insert(format!("{slug}-batch"));
    let webhook = format!("http://127.0.0.1:9/{slug}-webhook-path");
    let (status, body) = app
        .send("PUT", "/v1/webhook", Some(&admin), Some(json!({ "url": webhook, "secret": "s3cret-s3cret-s3cret" })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    c.strings.insert(webhook);
    let plugin_name = format!("{slug}-private-plugin");
    let (status, body) = app
        .send_raw(
            "POST",
            &format!("/v1/plugins?name={plugin_name}&version=7.7.7&hook=commission&override_fixtures=true"),
            Some(&admin),
            own_plugin.to_vec(),
        )
        .await;
    assert!(status.is_success(), "{body}");
    c.own_plugin = sha256(own_plugin);
    c.strings.insert(plugin_name);
    let (status, body) =
        app.send("PUT", "/v1/shadows/commission", Some(&admin), Some(json!({ "plugin": c.own_plugin }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, notifications) = app.send("GET", "/v1/notifications", Some(&admin), None).await;
    assert!(notifications["notifications"].as_array().unwrap().len() >= 6, "{notifications}");
    c
}

/// Whose data a cell is about, and who calls.
struct Cell<'a> {
    /// The party whose records the path and body name.
    victim: &'a Company,
    /// Its partner whose records are named (the first).
    partner: &'a PartnerData,
    /// What must not leak to this caller.
    secrets: Secrets,
    caller: &'static str,
    key: Option<String>,
}

/// How a route is called: its concrete path, its body, and whether it
/// names the victim's record (then only 401, 403 or 404 may answer) or
/// acts in the caller's own scope (then any answer but 5xx, as long as
/// nothing leaks).
struct Call {
    path: String,
    body: Option<Vec<u8>>,
    names_victim: bool,
    /// The victim's record is named in the body, not the path: a 422
    /// naming the field, as for a record that does not exist, is fine too.
    in_body: bool,
}

fn json_body(v: Value) -> Option<Vec<u8>> {
    Some(v.to_string().into_bytes())
}

/// The case for each documented route; `None` when there is none (the test
/// then fails naming the route).
fn case(method: &str, template: &str, cell: &Cell) -> Option<Call> {
    let (v, p) = (cell.victim, cell.partner);
    let victim = |path: String, body: Option<Vec<u8>>| Some(Call { path, body, names_victim: true, in_body: false });
    let in_body = |path: &str, body: Option<Vec<u8>>| {
        Some(Call { path: path.to_string(), body, names_victim: true, in_body: true })
    };
    let own = |path: &str, body: Option<Vec<u8>>| {
        Some(Call { path: path.to_string(), body, names_victim: false, in_body: false })
    };
    let caller = cell.caller.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let reason = || json_body(json!({ "reason": "isolation matrix" }));
    match (method, template) {
        ("get", "/healthz" | "/metrics" | "/openapi.json" | "/v1/program") => own(template, None),
        ("post", "/v1/decisions/{key}") => own(
            "/v1/decisions/commission",
            json_body(json!({ "event_time": T, "input": {
                "event": "Won",
                "deal": { "id": "intruder-deal", "first_year_acv": usd(5_000), "services": usd(0),
                          "source": "PartnerSourced", "closed_at": T },
                "partner": { "id": "intruder", "name": "Intruder", "kind": "Referral", "tier": "Silver",
                             "territories": [], "certifications": [], "active": true },
                "prior_lines": [], "quarter_to_date": usd(0) } })),
        ),
        ("get", "/v1/decisions/{key}") => victim(format!("/v1/decisions/{}", v.decisions.first().unwrap()), None),
        ("get", "/v1/decisions/{key}/replay") => {
            victim(format!("/v1/decisions/{}/replay", v.decisions.last().unwrap()), None)
        }
        ("get", "/v1/decisions") => own("/v1/decisions?limit=500", None),
        ("post", "/v1/partners") => own(
            "/v1/partners",
            json_body(json!({ "id": format!("intruder-{caller}"), "name": "Intruder", "kind": "Referral" })),
        ),
        ("get", "/v1/partners") => own("/v1/partners", None),
        ("get", "/v1/partners/{id}") => victim(format!("/v1/partners/{}", p.id), None),
        ("post", "/v1/partners/{id}/keys") => victim(format!("/v1/partners/{}/keys", p.id), None),
        ("patch", "/v1/partners/{id}") => {
            victim(format!("/v1/partners/{}", p.id), json_body(json!({ "territories": ["intruder-land"] })))
        }
        ("put", "/v1/partners/{id}/certifications/{name}") => victim(
            format!("/v1/partners/{}/certifications/intruder-cert", p.id),
            json_body(json!({ "expires_at": FAR })),
        ),
        ("post", "/v1/partners/{id}/tier") => victim(
            format!("/v1/partners/{}/tier", p.id),
            json_body(json!({ "tier": "platinum", "reason": "isolation matrix" })),
        ),
        ("post", "/v1/partners/{id}/suspend" | "/v1/partners/{id}/reactivate" | "/v1/partners/{id}/offboard") => {
            victim(template.replace("{id}", &p.id), reason())
        }
        ("get", "/v1/partners/{id}/statement") => {
            victim(format!("/v1/partners/{}/statement?from=0&to={FAR}", p.id), None)
        }
        ("get", "/v1/keys") => own("/v1/keys", None),
        ("delete", "/v1/keys/{id}") => victim(format!("/v1/keys/{}", p.key_id), None),
        ("post", "/v1/registrations") => in_body(
            "/v1/registrations",
            json_body(json!({ "partner_id": p.id, "account_domain": "intruder-reg.example",
                              "account_name": "Intruder", "amount": usd(5_000) })),
        ),
        ("get", "/v1/registrations") => own(&format!("/v1/registrations?partner={}&limit=500", p.id), None),
        ("get", "/v1/registrations/{id}") => victim(format!("/v1/registrations/{}", p.registration), None),
        ("post", "/v1/registrations/{id}/approve") => {
            victim(format!("/v1/registrations/{}/approve", p.registration), json_body(json!({})))
        }
        ("post", "/v1/registrations/{id}/reject") => {
            victim(format!("/v1/registrations/{}/reject", p.registration), reason())
        }
        ("get", "/v1/reviews") => own("/v1/reviews?limit=500", None),
        ("get", "/v1/extensions") => own("/v1/extensions?limit=500", None),
        ("post", "/v1/registrations/{id}/extension") => victim(
            format!("/v1/registrations/{}/extension", p.registration),
            json_body(json!({ "days": 30, "reason": "isolation matrix" })),
        ),
        ("post", "/v1/registrations/{id}/extension/grant" | "/v1/registrations/{id}/extension/refuse") => {
            victim(template.replace("{id}", &p.registration), reason())
        }
        ("post", "/v1/deals") => in_body(
            "/v1/deals",
            json_body(json!({ "id": format!("intruder-deal-{caller}"), "partner_id": p.id,
                              "account_domain": "intruder-deal.example", "first_year_acv": usd(5_000),
                              "source": "PartnerSourced" })),
        ),
        ("get", "/v1/deals/{id}") => victim(format!("/v1/deals/{}", p.deal), None),
        ("post", "/v1/deals/{id}/won" | "/v1/deals/{id}/lost") => {
            victim(template.replace("{id}", &p.deal), json_body(json!({})))
        }
        ("post", "/v1/deals/{id}/refund") => {
            victim(format!("/v1/deals/{}/refund", p.deal), json_body(json!({ "amount": usd(1_000) })))
        }
        // A lead for the victim's registered account: routing must not
        // reveal who holds it.
        ("post", "/v1/leads") => {
            let domain = p.strings.iter().find(|s| s.contains("-reg-")).unwrap();
            own("/v1/leads", json_body(json!({ "account_domain": domain, "source": "webinar" })))
        }
        ("get", "/v1/leads") => own(&format!("/v1/leads?partner={}&limit=500", p.id), None),
        ("get", "/v1/leads/{id}") => victim(format!("/v1/leads/{}", p.lead), None),
        ("post", "/v1/leads/{id}/accept") => victim(format!("/v1/leads/{}/accept", p.lead), None),
        ("post", "/v1/leads/{id}/decline") => victim(format!("/v1/leads/{}/decline", p.lead), reason()),
        ("post", "/v1/leads/{id}/status") => {
            victim(format!("/v1/leads/{}/status", p.lead), json_body(json!({ "status": "contacted" })))
        }
        ("post" | "get", "/v1/scorecards/{period}") => own("/v1/scorecards/2026-11", None),
        ("get", "/v1/tier-changes") => own("/v1/tier-changes", None),
        ("post", "/v1/tier-changes/{partner}/{period}/approve" | "/v1/tier-changes/{partner}/{period}/reject") => {
            victim(template.replace("{partner}", &p.id).replace("{period}", "2026-11"), reason())
        }
        ("get", "/v1/lines") => own(&format!("/v1/lines?partner_id={}&limit=1000", p.id), None),
        ("get", "/v1/lines/{id}") => victim(format!("/v1/lines/{}", p.line), None),
        ("post", "/v1/lines/{id}/adjust" | "/v1/lines/{id}/resolve") => victim(
            template.replace("{id}", &p.line.to_string()),
            json_body(json!({ "reason": "isolation matrix", "amount": 5 })),
        ),
        (
            "post",
            "/v1/lines/{id}/hold" | "/v1/lines/{id}/release" | "/v1/lines/{id}/void" | "/v1/lines/{id}/dispute",
        ) => victim(template.replace("{id}", &p.line.to_string()), reason()),
        ("post", "/v1/payout-runs") => own("/v1/payout-runs", json_body(json!({ "period": "2026-10" }))),
        ("get", "/v1/payout-runs") => own("/v1/payout-runs", None),
        ("get", "/v1/payout-runs/{id}" | "/v1/payout-runs/{id}/csv") => {
            victim(template.replace("{id}", &v.payout_run.to_string()), None)
        }
        ("post", "/v1/import") => own("/v1/import", json_body(json!({}))),
        ("post", "/v1/import/{kind}") => own("/v1/import/partners", Some(b"id,name,kind,joined_at\n".to_vec())),
        ("put", "/v1/program/rates/{period}") => {
            own("/v1/program/rates/2026-10", json_body(json!({ "rates": { "EUR": "1.08" } })))
        }
        ("get", "/v1/program/rates/{period}") => own("/v1/program/rates/2026-10", None),
        ("get", "/v1/program/metrics") => own(&format!("/v1/program/metrics?from=0&to={FAR}"), None),
        ("put", "/v1/webhook") => own(
            "/v1/webhook",
            json_body(json!({ "url": "http://127.0.0.1:9/intruder", "secret": "intruder-intruder-1" })),
        ),
        ("get", "/v1/notifications") => own("/v1/notifications?limit=500", None),
        ("post", "/v1/plugins") => own(
            "/v1/plugins?name=intruder&version=1&hook=commission&override_fixtures=true",
            Some(STOCK_BYTES.to_vec()),
        ),
        ("get", "/v1/plugins" | "/v1/bindings" | "/v1/activations") => own(template, None),
        ("put", "/v1/bindings/{hook}") => in_body(
            "/v1/bindings/commission",
            json_body(json!({ "plugin": v.own_plugin, "reason": "intruder", "override_fixtures": true })),
        ),
        ("post", "/v1/bindings/{hook}/rollback") => own("/v1/bindings/approval/rollback", reason()),
        ("post", "/v1/activations/{id}/approve") => victim("/v1/activations/1/approve".into(), None),
        ("post", "/v1/backtests") => in_body(
            "/v1/backtests",
            json_body(json!({ "hook": "commission", "from": 0, "to": FAR, "plugin": v.own_plugin })),
        ),
        ("put", "/v1/shadows/{hook}") => in_body("/v1/shadows/routing", json_body(json!({ "plugin": v.own_plugin }))),
        ("get" | "delete", "/v1/shadows/{hook}") => own("/v1/shadows/commission", None),
        ("post", "/v1/invitations") => in_body(
            "/v1/invitations",
            json_body(json!({ "email": format!("intruder-{caller}@example.com"), "name": "Intruder",
                              "role": "partner", "partner_id": p.id })),
        ),
        _ => None,
    }
}

/// What the matrix saw.
#[derive(Default)]
struct Tally {
    cells: usize,
    failures: Vec<String>,
    /// What each intruder sent so far: once sent, a marker is the
    /// intruder's own data too (a lead it routed for the victim's account
    /// domain is its own lead), so finding it later is no leak.
    sent: std::collections::HashMap<String, String>,
}

async fn run_cell(app: &App, method: &str, template: &str, public: bool, cell: &Cell<'_>, tally: &mut Tally) {
    let Some(call) = case(method, template, cell) else {
        tally.failures.push(format!("{} {template}: no case in the isolation matrix", method.to_uppercase()));
        return;
    };
    let body = call.body.clone().unwrap_or_default();
    let (status, _, answer) = app.send_full(&method.to_uppercase(), &call.path, cell.key.as_deref(), body).await;
    tally.cells += 1;
    let what = format!("{} {} as {} ({})", method.to_uppercase(), call.path, cell.caller, cell.victim.slug);
    let intruder = format!("{} -> {}", cell.caller.replace("'s admin", "").replace("'s manager", ""), cell.victim.slug);
    let sent = tally.sent.entry(intruder).or_default();
    sent.push_str(&format!(" {} {}", call.path, String::from_utf8_lossy(call.body.as_deref().unwrap_or_default())));
    let sent = sent.clone();
    let mut found = Vec::new();
    leaks(&answer, &cell.secrets, &sent, &mut found);
    if !found.is_empty() {
        tally.failures.push(format!("{what}: {status} leaks {}: {answer}", found.join(", ")));
    }
    let expected = if cell.key.is_none() || cell.caller == "revoked key" {
        if public { status == StatusCode::OK } else { status == StatusCode::UNAUTHORIZED }
    } else if call.names_victim {
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
            || (call.in_body && status == StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        !status.is_server_error()
    };
    if !expected {
        tally.failures.push(format!("{what}: unexpected {status}: {answer}"));
    }
}

/// The victim company's own view of its records, to compare before and
/// after the matrix: nothing the intruders did may change it.
async fn snapshot(app: &App, c: &Company) -> Vec<Value> {
    let mut views = Vec::new();
    let mut paths = vec!["/v1/partners".to_string(), "/v1/keys".into(), "/v1/bindings".into(), "/v1/plugins".into()];
    paths.push("/v1/shadows/commission".into());
    for p in &c.partners {
        paths.push(format!("/v1/deals/{}", p.deal));
        paths.push(format!("/v1/registrations/{}", p.registration));
        paths.push(format!("/v1/partners/{}/statement?from=0&to={FAR}", p.id));
    }
    paths.push(format!("/v1/payout-runs/{}", c.payout_run));
    for path in paths {
        let (status, mut body) = app.send("GET", &path, Some(&c.admin), None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        // Keys are used, not changed: drop when each was last used.
        if let Some(keys) = body["keys"].as_array_mut() {
            keys.iter_mut().filter_map(Value::as_object_mut).for_each(|k| {
                k.remove("last_used_at");
            });
        }
        views.push(json!({ "path": path, "body": body }));
    }
    views
}

#[tokio::test(flavor = "multi_thread")]
async fn no_caller_sees_another_partys_data_on_any_route() {
    let app = app().await;
    let acme = company(&app, "acme", 31_337_000, &std::fs::read(HOSTILE).unwrap()).await;
    let northwind = company(&app, "northwind", 47_474_000, NORTHWIND_BYTES).await;
    let document = pactum::openapi::document();
    let operations = pactum::openapi::operations();
    assert!(operations.len() >= 40, "{operations:?}");

    let mut tally = Tally::default();
    for (victim, intruder) in [(&acme, &northwind), (&northwind, &acme)] {
        let before = snapshot(&app, victim).await;
        let partner = &victim.partners[0];
        let other_partner = &victim.partners[1];
        let cells = [
            Cell {
                victim,
                partner,
                secrets: victim.secrets(),
                caller: "other company's admin",
                key: Some(intruder.admin.clone()),
            },
            Cell {
                victim,
                partner,
                secrets: victim.secrets(),
                caller: "other company's manager",
                key: Some(intruder.manager.clone()),
            },
            Cell {
                victim,
                partner,
                secrets: partner.secrets(),
                caller: "other partner",
                key: Some(other_partner.key.clone()),
            },
            Cell { victim, partner, secrets: victim.secrets(), caller: "no key", key: None },
            Cell {
                victim,
                partner,
                secrets: victim.secrets(),
                caller: "revoked key",
                key: Some(victim.revoked.clone()),
            },
        ];
        for (method, template) in &operations {
            let public = document["paths"][*template][*method].get("security").is_none();
            for cell in &cells {
                run_cell(&app, method, template, public, cell, &mut tally).await;
            }
        }
        let after = snapshot(&app, victim).await;
        for (b, a) in before.iter().zip(&after) {
            if b != a {
                tally.failures.push(format!("{}'s view changed: before {b}\nafter {a}", victim.slug));
            }
        }
    }
    eprintln!(
        "isolation matrix ({}): {} routes x 5 callers x 2 companies = {} cells checked, {} failures",
        if app.database_url.starts_with("postgres") { "postgres" } else { "sqlite" },
        operations.len(),
        tally.cells,
        tally.failures.len()
    );
    assert!(tally.failures.is_empty(), "{} failures:\n{}", tally.failures.len(), tally.failures.join("\n"));
    assert_eq!(tally.cells, operations.len() * 10);
}
