//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the
//! code: every request and response schema is derived (schemars) from the
//! Rust types the handlers use, WIT records included, so the document
//! cannot drift from what the API parses and returns.

use crate::api::{
    ActivateBody, ApproveBody, BacktestBody, DecideBody, HookQuery, LeadQuery, LimitQuery, ListQuery, Period,
    PublishQuery, ReasonBody, RefundBody, RegistrationQuery, RollbackBody, ShadowBody, WebhookBody, WonBody,
};
use crate::store::{
    ActivationRequestRow, BindingChangeRow, DealRow, DecisionRow, KeyRow, LeadRow, OutboxEvent, PartnerRow,
    PublicationRow, RegistrationRow, ScorecardRow,
};
use crate::workflows::lifecycle::{Backtest, Published, Replay, ShadowReport};
use crate::workflows::{NewDeal, NewLead, NewPartner, NewRegistration, ProgramMetrics, Statement};
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

/// `POST /v1/partners/{id}/keys`'s answer (the handler builds it as JSON).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct PartnerKey {
    /// The partner the key acts for.
    partner_id: String,
    /// The API key itself, shown this once.
    key: String,
    /// Its id (`key:` and 12 hex digits of its sha256), for listing and revoking.
    id: String,
}

/// One documented operation.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    query: Vec<Value>,
    request: Option<Value>,
    status: u16,
    response: Value,
    auth: bool,
}

struct Doc {
    generator: SchemaGenerator,
    ops: Vec<Op>,
}

impl Doc {
    fn schema<T: JsonSchema>(&mut self) -> Value {
        serde_json::to_value(self.generator.subschema_for::<T>()).unwrap_or(Value::Null)
    }

    fn op(&mut self, method: &'static str, path: &'static str, summary: &'static str) -> OpBuilder<'_> {
        OpBuilder {
            doc: self,
            op: Op {
                method,
                path,
                summary,
                query: Vec::new(),
                request: None,
                status: 200,
                response: json!({}),
                auth: true,
            },
        }
    }
}

struct OpBuilder<'a> {
    doc: &'a mut Doc,
    op: Op,
}

impl OpBuilder<'_> {
    /// The query parameters: the fields of the struct the handler parses
    /// its query into, with their types, descriptions and whether required.
    fn query<T: JsonSchema>(mut self) -> Self {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                let mut property = property.clone();
                let description = property.as_object_mut().and_then(|p| p.remove("description"));
                let mut parameter = json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()),
                                            "schema": property });
                if let Some(description) = description {
                    parameter["description"] = description;
                }
                self.op.query.push(parameter);
            }
        }
        self
    }

    fn request<T: JsonSchema>(mut self) -> Self {
        self.op.request = Some(self.doc.schema::<T>());
        self
    }

    fn returns<T: JsonSchema>(mut self, status: u16) -> Self {
        self.op.status = status;
        self.op.response = self.doc.schema::<T>();
        self
    }

    fn returns_list<T: JsonSchema>(mut self, field: &str) -> Self {
        let item = self.doc.schema::<T>();
        self.op.response = json!({ "type": "object", "properties": { field: { "type": "array", "items": item } } });
        self
    }

    fn public(mut self) -> Self {
        self.op.auth = false;
        self
    }

    fn add(self) {
        self.doc.ops.push(self.op);
    }
}

/// Every documented `(method, path)`.
pub fn operations() -> Vec<(&'static str, &'static str)> {
    build().ops.iter().map(|o| (o.method, o.path)).collect()
}

fn build() -> Doc {
    let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "#/components/schemas/".into());
    let mut d = Doc { generator: settings.into_generator(), ops: Vec::new() };
    d.op("get", "/healthz", "Liveness").public().add();
    d.op("get", "/metrics", "Prometheus metrics (text)").public().add();
    d.op("get", "/openapi.json", "This document").public().add();
    d.op("get", "/v1/program", "The caller's company: parameters, limits, plugin per hook").add();
    d.op("post", "/v1/decisions/{key}", "Run a hook (`key` = routing, approval, commission, tier-evaluation) on an event; the server adds `input.context`")
        .request::<DecideBody>()
        .returns::<DecisionRow>(201)
        .add();
    d.op("get", "/v1/decisions/{key}", "One decision by id (`key`), with its call record")
        .returns::<DecisionRow>(200)
        .add();
    d.op("get", "/v1/decisions", "Latest decisions (staff)")
        .query::<ListQuery>()
        .returns_list::<DecisionRow>("decisions")
        .add();
    d.op("post", "/v1/partners", "Create a partner (admin, manager)")
        .request::<NewPartner>()
        .returns::<PartnerRow>(201)
        .add();
    d.op("get", "/v1/partners", "Every partner (admin, manager)").returns_list::<PartnerRow>("partners").add();
    d.op("get", "/v1/partners/{id}", "One partner").returns::<PartnerRow>(200).add();
    d.op("post", "/v1/partners/{id}/keys", "An API key bound to the partner (shown once), with its id")
        .returns::<PartnerKey>(201)
        .add();
    for (path, summary) in [
        (
            "/v1/partners/{id}/suspend",
            "Suspend a partner (admin, manager): no new registrations; earned lines still paid",
        ),
        ("/v1/partners/{id}/reactivate", "Reactivate a suspended partner (admin, manager)"),
        (
            "/v1/partners/{id}/offboard",
            "Offboard a partner (admin, manager): no leads, its open registrations released; earned lines still paid",
        ),
    ] {
        d.op("post", path, summary).request::<ReasonBody>().add();
    }
    d.op("get", "/v1/keys", "The company's API keys, by id: role, partner, created, revoked (admin)")
        .returns_list::<KeyRow>("keys")
        .add();
    d.op("delete", "/v1/keys/{id}", "Revoke an API key (admin; not the key making the request)")
        .returns::<KeyRow>(200)
        .add();
    d.op("get", "/v1/partners/{id}/statement", "Commission lines due in [`from`, `to`) with totals")
        .query::<Period>()
        .returns::<Statement>(200)
        .add();
    d.op(
        "post",
        "/v1/registrations",
        "Register a deal: duplicates and conflicts checked, approval hook, protection period",
    )
    .request::<NewRegistration>()
    .returns::<RegistrationRow>(201)
    .add();
    d.op("get", "/v1/registrations", "Registrations, newest first")
        .query::<RegistrationQuery>()
        .returns_list::<RegistrationRow>("registrations")
        .add();
    d.op("get", "/v1/registrations/{id}", "One registration").returns::<RegistrationRow>(200).add();
    d.op("get", "/v1/reviews", "The managers' queue: registrations in manual review, oldest first, with their reason")
        .query::<LimitQuery>()
        .returns_list::<RegistrationRow>("registrations")
        .add();
    d.op(
        "post",
        "/v1/registrations/{id}/approve",
        "Approve a registration in review (admin, manager): protected for `protection_days` (the program's \
         by default); recorded in the decision log with the reviewer. 409 when it is no longer in review",
    )
    .request::<ApproveBody>()
    .returns::<RegistrationRow>(200)
    .add();
    d.op(
        "post",
        "/v1/registrations/{id}/reject",
        "Reject a registration in review with a reason (admin, manager); recorded in the decision log with the \
         reviewer. 409 when it is no longer in review",
    )
    .request::<ReasonBody>()
    .returns::<RegistrationRow>(200)
    .add();
    d.op("post", "/v1/deals", "Create a deal (admin, manager)").request::<NewDeal>().returns::<DealRow>(201).add();
    d.op("get", "/v1/deals/{id}", "A deal with its `commission_lines`").returns::<DealRow>(200).add();
    d.op("post", "/v1/deals/{id}/won", "Close won: commission hook, lines due on the payment terms")
        .request::<WonBody>()
        .returns::<DealRow>(200)
        .add();
    d.op("post", "/v1/deals/{id}/lost", "Close lost").request::<WonBody>().returns::<DealRow>(200).add();
    d.op("post", "/v1/deals/{id}/refund", "Refund: commission hook claws back")
        .request::<RefundBody>()
        .returns::<DealRow>(200)
        .add();
    d.op("post", "/v1/leads", "Route a lead: registration, territory or direct")
        .request::<NewLead>()
        .returns::<LeadRow>(201)
        .add();
    d.op("get", "/v1/leads", "Leads, newest first").query::<LeadQuery>().returns_list::<LeadRow>("leads").add();
    d.op("get", "/v1/leads/{id}", "One lead").returns::<LeadRow>(200).add();
    d.op("post", "/v1/scorecards/{period}", "Run the monthly scorecard (`YYYY-MM`): tier hook per partner")
        .returns_list::<ScorecardRow>("scorecards")
        .add();
    d.op("get", "/v1/scorecards/{period}", "A month's scorecards").returns_list::<ScorecardRow>("scorecards").add();
    d.op("get", "/v1/program/metrics", "Program metrics in [`from`, `to`) beside the seed's benchmarks")
        .query::<Period>()
        .returns::<ProgramMetrics>(200)
        .add();
    d.op("put", "/v1/webhook", "Where notifications go (admin)").request::<WebhookBody>().add();
    d.op("get", "/v1/notifications", "The outbox and delivery state (staff)")
        .query::<LimitQuery>()
        .returns_list::<OutboxEvent>("notifications")
        .add();
    d.op(
        "post",
        "/v1/plugins",
        "Publish a component (body: its bytes, `application/wasm`; query: `name`, `version`): validated, \
         compiled, its company's fixtures run, stored, not live (admin). 201 when new, 200 when these bytes were \
         published before; `cold_start` reports the compile time (or cache load), the compiled size and the first \
         call's time. 413 over the company's `[limits] component-bytes` or the server's limit",
    )
    .query::<PublishQuery>()
    .returns::<Published>(201)
    .add();
    d.op("get", "/v1/plugins", "The company's published plugins, newest first (admin)")
        .returns_list::<PublicationRow>("plugins")
        .add();
    d.op("get", "/v1/bindings", "The plugin serving each hook, and every change of the bindings (admin)")
        .query::<HookQuery>()
        .add();
    d.op(
        "put",
        "/v1/bindings/{hook}",
        "Make a published plugin serve the hook, atomically: calls already started finish on the old one (admin)",
    )
    .request::<ActivateBody>()
    .returns::<BindingChangeRow>(200)
    .add();
    d.op("get", "/v1/activations", "Activation requests of a four-eyes company, newest first (admin)")
        .returns_list::<ActivationRequestRow>("activations")
        .add();
    d.op(
        "post",
        "/v1/activations/{id}/approve",
        "A second admin (not the requester, not the publisher) approves a pending activation: it goes live",
    )
    .returns::<BindingChangeRow>(200)
    .add();
    d.op(
        "post",
        "/v1/bindings/{hook}/rollback",
        "Bind the hook back to the plugin it had before its latest change (admin)",
    )
    .request::<RollbackBody>()
    .returns::<BindingChangeRow>(200)
    .add();
    d.op(
        "get",
        "/v1/decisions/{key}/replay",
        "Run a recorded decision (`key` = its id) again through the plugin it records; compare",
    )
    .returns::<Replay>(200)
    .add();
    d.op(
        "post",
        "/v1/backtests",
        "Replay the company's recorded decisions of a period through a published plugin; what would change (admin)",
    )
    .request::<BacktestBody>()
    .returns::<Backtest>(200)
    .add();
    d.op(
        "put",
        "/v1/shadows/{hook}",
        "Run a published plugin beside the live one on live traffic, never acted on (admin)",
    )
    .request::<ShadowBody>()
    .returns::<ShadowReport>(200)
    .add();
    d.op("get", "/v1/shadows/{hook}", "How often the shadow agrees with the live plugin, and where not (admin)")
        .returns::<ShadowReport>(200)
        .add();
    d.op("delete", "/v1/shadows/{hook}", "Stop the shadow; its results stay recorded (admin)").add();
    d
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut doc = build();
    let mut paths = Map::new();
    for op in &doc.ops {
        let mut operation = json!({
            "summary": op.summary,
            "responses": {
                op.status.to_string(): { "description": "success", "content": { "application/json": { "schema": op.response } } },
                "default": { "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        });
        if let Some(request) = &op.request {
            operation["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": request } } });
        }
        if op.auth {
            operation["security"] = json!([{ "apiKey": [] }]);
        }
        let params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .chain(op.query.iter().cloned())
            .collect();
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(op.path.to_string()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    let mut schemas: Map<String, Value> = doc.generator.take_definitions(true).into_iter().collect();
    schemas.insert(
        "Error".into(),
        json!({ "type": "object", "required": ["error"], "properties": { "error": {
            "type": "object", "required": ["code", "message"],
            "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } }),
    );
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Pactum", "version": env!("CARGO_PKG_VERSION"),
                  "description": "B2B channel-partner programs as code. Every POST accepts an Idempotency-Key header." },
        "components": {
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer", "description": "Authorization: Bearer <api key>" } },
            "schemas": schemas
        },
        "paths": paths
    })
}
