//! The HTTP API end to end (router in-process, real SQLite file): the demo
//! companies decide through their own plugins, keys scope every read to one
//! tenant, bad input gets a clear error, and a failing plugin takes the
//! documented fallback with the event recorded.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::app::app;
use serde_json::{Value, json};
use std::path::Path;
use tower::ServiceExt;

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

fn won_deal(acv: i64, quarter_to_date: i64) -> Value {
    json!({
        "event_time": 1_795_651_200,
        "input": {
            "event": "won",
            "deal": {
                "id": "d-1", "first_year_acv": usd(acv), "services": usd(0),
                "source": "partner-sourced", "closed_at": 1_795_651_200
            },
            "partner": {
                "id": "p-1", "name": "Initech", "kind": "referral", "tier": "silver",
                "territories": [], "certifications": [], "active": true
            },
            "prior_lines": [],
            "quarter_to_date": usd(quarter_to_date)
        }
    })
}

fn paid(decision: &Value) -> i64 {
    decision["decision"]["lines"].as_array().unwrap().iter().map(|l| l["amount"]["amount"].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn each_company_decides_with_its_own_plugin_and_records_it() {
    let app = app().await;
    let (status, acme) = app
        .send("POST", "/v1/decisions/commission", Some(app.key("acme")), Some(won_deal(12_000_000, 10_000_000)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{acme}");
    assert_eq!(paid(&acme), 1_800_000); // 15 % of $120,000
    assert_eq!(acme["fallback"], false);
    assert_eq!(acme["outcome"], "ok");
    assert_eq!(acme["record"]["company"], "acme");
    assert!(acme["record"]["fuel_used"].as_u64().unwrap() > 0);

    let (status, northwind) = app
        .send("POST", "/v1/decisions/commission", Some(app.key("northwind")), Some(won_deal(12_000_000, 10_000_000)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{northwind}");
    assert_eq!(paid(&northwind), 1_860_000); // 12 % + 6 % accelerator on the $70K above quota
    assert_ne!(acme["plugin"], northwind["plugin"]);

    // Read back, by id and in the list.
    let id = acme["id"].as_i64().unwrap();
    let (status, again) = app.send("GET", &format!("/v1/decisions/{id}"), Some(app.key("acme")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["decision"], acme["decision"]);
    let (_, list) = app.send("GET", "/v1/decisions?hook=commission", Some(app.key("acme")), None).await;
    assert_eq!(list["decisions"].as_array().unwrap().len(), 1);

    // The program shows the plugin bound to each hook.
    let (_, program) = app.send("GET", "/v1/program", Some(app.key("northwind")), None).await;
    assert_eq!(program["plugins"]["commission"], northwind["plugin"]);
    assert_eq!(program["company"]["currency"], "USD");
}

#[tokio::test]
async fn keys_scope_everything_to_one_tenant() {
    let app = app().await;
    let (status, body) = app.send("GET", "/v1/program", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = app.send("GET", "/v1/program", Some("pk_acme_not-a-key"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, acme) =
        app.send("POST", "/v1/decisions/commission", Some(app.key("acme")), Some(won_deal(12_000_000, 0))).await;
    let id = acme["id"].as_i64().unwrap();
    let (status, body) = app.send("GET", &format!("/v1/decisions/{id}"), Some(app.key("northwind")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, list) = app.send("GET", "/v1/decisions", Some(app.key("northwind")), None).await;
    assert!(list["decisions"].as_array().unwrap().is_empty());
}

/// An API key can be revoked: it stops working at once, stays listed (audit
/// records name it), and a key cannot revoke itself.
#[tokio::test]
async fn a_revoked_key_authenticates_nothing() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    let partner = json!({ "id": "p-1", "name": "Initech", "kind": "referral" });
    let (status, body) = app.send("POST", "/v1/partners", Some(&admin), Some(partner)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, created) = app.send("POST", "/v1/partners/p-1/keys", Some(&admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (key, id) = (created["key"].as_str().unwrap(), created["id"].as_str().unwrap());
    // The id is the first 12 hex digits of the key's sha256.
    assert_eq!(id.len(), "key:".len() + 12);
    assert!(sha256_hex(key).starts_with(id.strip_prefix("key:").unwrap()), "{id}");

    let (status, _) = app.send("GET", "/v1/partners/p-1", Some(key), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, keys) = app.send("GET", "/v1/keys", Some(&admin), None).await;
    let listed: Vec<_> = keys["keys"].as_array().unwrap().iter().filter(|k| k["id"] == id).collect();
    assert_eq!(listed.len(), 1, "{keys}");
    assert_eq!(
        (&listed[0]["role"], &listed[0]["partner_id"], &listed[0]["revoked_at"]),
        (&json!("partner"), &json!("p-1"), &Value::Null)
    );

    // Only an admin lists or revokes; a partner key may not.
    let (status, _) = app.send("GET", "/v1/keys", Some(key), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.send("DELETE", &format!("/v1/keys/{id}"), Some(key), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, revoked) = app.send("DELETE", &format!("/v1/keys/{id}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let at = revoked["revoked_at"].as_i64().unwrap();
    assert!(revoked["revoked_by"].as_str().unwrap().starts_with("key:"), "{revoked}");
    let (status, body) = app.send("GET", "/v1/partners/p-1", Some(key), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Again: nothing changes; the first revocation stands.
    let (status, again) = app.send("DELETE", &format!("/v1/keys/{id}"), Some(&admin), None).await;
    assert_eq!((status, again["revoked_at"].as_i64()), (StatusCode::OK, Some(at)));

    let (status, body) = app.send("DELETE", "/v1/keys/key:000000000000", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app.send("DELETE", "/v1/keys/not-an-id", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Another company's admin cannot revoke acme's own admin key.
    let own = format!("key:{}", &sha256_hex(&admin)[..12]);
    let (status, _) = app.send("DELETE", &format!("/v1/keys/{own}"), Some(app.key("northwind")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app.send("DELETE", &format!("/v1/keys/{own}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app.send("GET", "/v1/program", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn bad_input_gets_a_clear_error() {
    let app = app().await;
    let key = Some(app.key("acme"));

    let mut missing = won_deal(12_000_000, 0);
    missing["input"]["deal"].as_object_mut().unwrap().remove("first_year_acv");
    let (status, body) = app.send("POST", "/v1/decisions/commission", key, Some(missing)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("input.deal") && message.contains("first_year_acv"), "{message}");

    let mut wrong_type = won_deal(12_000_000, 0);
    wrong_type["input"]["partner"]["kind"] = json!("Franchise");
    let (status, body) = app.send("POST", "/v1/decisions/commission", key, Some(wrong_type)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["message"].as_str().unwrap().contains("input.partner.kind"), "{body}");

    let mut with_context = won_deal(12_000_000, 0);
    with_context["input"]["context"] = json!({});
    let (status, body) = app.send("POST", "/v1/decisions/commission", key, Some(with_context)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["message"].as_str().unwrap().contains("input.context"));

    let (status, body) = app.send("POST", "/v1/decisions/pricing", key, Some(won_deal(1, 0))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown-hook")));

    let request = Request::post("/v1/decisions/commission")
        .header("authorization", format!("Bearer {}", app.key("acme")))
        .body(Body::from("{not json"))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let (status, _) = app.send("GET", "/v1/decisions/abc", key, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.send("GET", "/v1/decisions?limit=0", key, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.send("GET", "/v1/decisions/999999", key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failing_plugin_takes_the_fallback_and_the_event_is_recorded() {
    let app = app().await;
    let program = r#"
        [company]
        slug = "hostile"
        name = "Hostile Inc"
        currency = "USD"
        [hooks]
        commission = "hostile"
        [params]
        mode = "panic"
    "#;
    let hostile = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let stock = pactum_plugin_artifacts::STOCK_BYTES.to_vec();
    let (slug, key) = app
        .service
        .create_tenant(program, Path::new("hostile/policy.toml"), |name| match name {
            "hostile" => Some(hostile.clone()),
            "stock" => Some(stock.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(slug, "hostile");

    let (status, body) = app.send("POST", "/v1/decisions/commission", Some(&key), Some(won_deal(12_000_000, 0))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["fallback"], true);
    assert_eq!(body["outcome"], "trap");
    assert!(body["decision"]["lines"].as_array().unwrap().is_empty());
    assert!(body["decision"]["explanation"].as_str().unwrap().starts_with("Commission held"));
    let error = &body["record"]["result"]["error"];
    assert_eq!(error["kind"], "trap");
    assert!(error["message"].as_str().unwrap().contains("commission table for partner p-1 is corrupt"), "{error}");

    // The other tenants are unaffected.
    let (status, acme) =
        app.send("POST", "/v1/decisions/commission", Some(app.key("acme")), Some(won_deal(12_000_000, 0))).await;
    assert_eq!((status, paid(&acme)), (StatusCode::CREATED, 1_800_000));

    let (_, metrics) = app.send("GET", "/metrics", None, None).await;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains(r#"pactum_hook_calls_total{tenant="hostile",hook="commission",outcome="trap"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"pactum_hook_calls_total{tenant="acme",hook="commission",outcome="ok"} 1"#));
}

#[tokio::test]
async fn health_and_an_existing_tenant_cannot_be_created_twice() {
    let app = app().await;
    let (status, body) = app.send("GET", "/healthz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let err = app.service.seed_examples(&policies, pactum::bundled_plugin).await.unwrap_err();
    assert!(err.to_string().contains("tenant `acme` exists already"), "{err}");
}

#[tokio::test]
async fn one_program_serves_a_second_tenant_and_keys_are_checked() {
    let app = app().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/acme");
    let text = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    let (slug, key) = app
        .service
        .create_tenant_as(Some("globex"), &text, &dir, |name| pactum::bundled_plugin(&dir, name))
        .await
        .unwrap();
    assert_eq!(slug, "globex");
    let (status, program) = app.send("GET", "/v1/program", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(program["company"]["slug"], "globex");

    let manager = app.service.create_key("globex", "manager", None).await.unwrap();
    assert!(manager.starts_with("pk_globex_"));
    let (status, _) = app.send("GET", "/v1/partners", Some(&manager), None).await;
    assert_eq!(status, StatusCode::OK);
    for (role, partner, expected) in [
        ("partner", None, "needs --partner"),
        ("partner", Some("nobody"), "no partner `nobody`"),
        ("owner", None, "must be admin, manager or partner"),
        ("admin", Some("p-1"), "goes with --role partner"),
    ] {
        let err = app.service.create_key("globex", role, partner).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{role}/{partner:?}: {err}");
    }
    let err = app.service.create_key("nope", "admin", None).await.unwrap_err().to_string();
    assert!(err.contains("no tenant `nope`"), "{err}");
    let err = app.service.create_tenant_as(Some("Bad Slug"), &text, &dir, |_| None).await.unwrap_err().to_string();
    assert!(err.contains("lower-case"), "{err}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_from_the_code() {
    let app = app().await;
    let (status, doc) = app.send("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let register = &doc["paths"]["/v1/registrations"]["post"];
    assert_eq!(
        register["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewRegistration"
    );
    assert_eq!(register["security"][0]["apiKey"], json!([]));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in ["NewRegistration", "RegistrationRow", "Money", "PartnerKind", "DecisionRow", "Error"] {
        assert!(schemas.contains_key(name), "missing schema {name}");
    }
    // A publish reports its cold start.
    let published = &schemas["Published"]["properties"];
    assert_eq!(published["cold_start"]["$ref"], "#/components/schemas/ColdStart", "{published}");
    let cold = schemas["ColdStart"]["properties"].as_object().unwrap();
    for field in ["source", "load_ms", "component_bytes", "artifact_bytes", "first_call_us"] {
        assert!(cold.contains_key(field), "ColdStart has no {field}");
    }
    // The money schema is integer minor units, not a float.
    assert_eq!(schemas["Money"]["properties"]["amount"]["type"], "integer");

    // Statuses and content types come from the handlers' return types.
    let responses = |path: &str, method: &str| -> Vec<String> {
        let mut codes: Vec<String> = doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} has no responses"))
            .keys()
            .filter(|k| *k != "default")
            .cloned()
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(responses("/v1/registrations", "post"), ["201"]);
    assert_eq!(responses("/v1/registrations", "get"), ["200"]);
    assert_eq!(responses("/v1/plugins", "post"), ["200", "201"]);
    assert_eq!(responses("/v1/bindings/{hook}", "put"), ["200", "202"]);
    assert_eq!(responses("/v1/shadows/{hook}", "delete"), ["204"]);
    assert!(doc["paths"]["/v1/shadows/{hook}"]["delete"]["responses"]["204"].get("content").is_none());
    assert!(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]["text/plain"].is_object());
    assert!(doc["paths"]["/metrics"]["get"].get("security").is_none(), "metrics need no key");
    let publish = &doc["paths"]["/v1/plugins"]["post"]["requestBody"]["content"];
    assert_eq!(publish["application/wasm"]["schema"]["format"], "binary", "{publish}");
    let list = &doc["paths"]["/v1/registrations"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(list["$ref"], "#/components/schemas/Registrations", "{list}");
    assert_eq!(
        schemas["Registrations"]["properties"]["registrations"]["items"]["$ref"],
        "#/components/schemas/RegistrationRow"
    );

    // One spelling per case: the WIT's for its enums, the host's own in
    // kebab case too, in the schema as on the wire.
    let cases = |name: &str| -> Vec<String> {
        let schema = &schemas[name];
        let list = schema["enum"].as_array().cloned().unwrap_or_else(|| {
            schema["oneOf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["const"].as_str().map(Value::from))
                .collect()
        });
        list.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(cases("PartnerKind"), ["referral", "reseller", "implementation", "technology", "strategic"]);
    assert_eq!(cases("Tier"), ["registered", "silver", "gold", "platinum"]);
    assert_eq!(cases("DealSource"), ["partner-sourced", "partner-influenced", "direct"]);
    assert_eq!(cases("PartnerStatus"), ["active", "suspended", "offboarded"]);

    // Query parameters come from the structs the handlers parse them into.
    let query = |path: &str, method: &str| -> Vec<(String, bool)> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| (p["name"].as_str().unwrap().to_string(), p["required"].as_bool().unwrap()))
            .collect()
    };
    let named = |list: Vec<(String, bool)>| list.into_iter().map(|(n, r)| format!("{n}:{r}")).collect::<Vec<_>>();
    assert_eq!(named(query("/v1/decisions", "get")), ["hook:false", "limit:false"]);
    assert_eq!(named(query("/v1/partners/{id}/statement", "get")), ["from:true", "to:true"]);
    assert_eq!(named(query("/v1/registrations", "get")), ["limit:false", "partner:false", "status:false"]);
    // An enum parameter's cases stand in the parameter itself (no
    // reference to a schema the parameter cannot reach).
    let status = doc["paths"]["/v1/lines"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap()
        .to_string();
    assert!(!status.contains("$ref") && status.contains("\"disputed\""), "{status}");
    let publish = named(query("/v1/plugins", "post"));
    assert!(publish.contains(&"name:true".to_string()) && publish.contains(&"hook:false".to_string()), "{publish:?}");

    // Every documented operation is routed (no fallback 404, no 405).
    let operations = pactum::openapi::operations();
    assert!(operations.len() >= 25);
    for (method, path) in operations {
        let uri = path.replace("{key}", "commission").replace("{period}", "2026-10").replace("{id}", "x");
        let (status, body) = app.send(&method.to_uppercase(), &uri, None, Some(json!({}))).await;
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && body["error"]["message"] != "no such route",
            "{method} {path} is documented but not routed: {status} {body}"
        );
    }
}
