//! The routes and the OpenAPI 3.1 document served at `/openapi.json`, from
//! one declaration.
//!
//! Each resource module registers its handlers on an [`Api`] with a method,
//! a path and a summary, nothing else: the request body, the query
//! parameters, whether a key is needed and every response (status, content
//! type, schema) are read off the handler's own signature, through the
//! [`DocArg`] trait of each extractor it takes ([`Auth`], [`Body`],
//! [`Query`], [`WasmBody`]) and the [`DocResponse`] trait of what it
//! returns ([`Json`], [`Created`], [`NoContent`], ...). Schemas are derived
//! with schemars from the Rust types, WIT records included. A route cannot
//! be served without being documented, and its document cannot say
//! something other than what the handler parses and returns.

use crate::api::{
    ApiError, AppState, Auth, Body, Created, CreatedOrExisting, Csv, CsvBody, LargeBody, NoContent, Query, Text,
    WasmBody,
};
use axum::Json;
use axum::extract::{MatchedPath, Path, State};
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::future::Future;

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `get`, `post`, `put` or `delete`.
    pub method: &'static str,
    /// The route, with `{name}` for each path parameter.
    pub path: &'static str,
    summary: &'static str,
    query: Vec<Value>,
    /// The request body's `content`: schema by media type.
    request: Option<Value>,
    responses: Vec<(u16, Option<(&'static str, Value)>)>,
    auth: bool,
    large_body: bool,
}

/// What an extractor adds to its handler's operation.
pub trait DocArg {
    /// Adds this argument's part (body, query, security) to `op`.
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator);
}

/// What a handler's return type documents: its responses.
pub trait DocResponse {
    /// Adds this type's responses to `op`.
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator);
}

/// A handler whose operation can be read off its signature: every argument
/// a [`DocArg`], its output a [`DocResponse`]. Implemented for every `async
/// fn` of up to seven such arguments; `Args` is the tuple of their types.
pub trait Documented<Args> {
    /// Adds the arguments' and the output's parts to `op`.
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator);
}

macro_rules! documented {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> Documented<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> Fut,
            Fut: Future,
            Fut::Output: DocResponse,
            $($arg: DocArg,)*
        {
            fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
                $($arg::document(op, schemas);)*
                <Fut::Output as DocResponse>::document(op, schemas);
            }
        }
    };
}
documented!();
documented!(A1);
documented!(A1, A2);
documented!(A1, A2, A3);
documented!(A1, A2, A3, A4);
documented!(A1, A2, A3, A4, A5);
documented!(A1, A2, A3, A4, A5, A6);
documented!(A1, A2, A3, A4, A5, A6, A7);

/// The routes of the service and their documentation, built together.
pub struct Api {
    routes: BTreeMap<&'static str, MethodRouter<AppState>>,
    ops: Vec<Operation>,
    schemas: SchemaGenerator,
}

impl Default for Api {
    fn default() -> Api {
        let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "#/components/schemas/".into());
        Api { routes: BTreeMap::new(), ops: Vec::new(), schemas: settings.into_generator() }
    }
}

impl Operation {
    /// Adds a response: its status and, unless it has no body, its content
    /// type and schema.
    pub fn respond(&mut self, status: u16, content: Option<(&'static str, impl serde::Serialize)>) {
        let content = content.map(|(t, schema)| (t, serde_json::to_value(schema).unwrap_or(Value::Null)));
        self.responses.push((status, content));
    }
}

impl Api {
    fn add<H, T, D>(
        &mut self,
        filter: MethodFilter,
        method: &'static str,
        path: &'static str,
        summary: &'static str,
        h: H,
    ) where
        H: Handler<T, AppState> + Documented<D>,
        T: 'static,
    {
        let mut op = Operation {
            method,
            path,
            summary,
            query: Vec::new(),
            request: None,
            responses: Vec::new(),
            auth: false,
            large_body: false,
        };
        H::document(&mut op, &mut self.schemas);
        assert!(!self.ops.iter().any(|o| o.method == method && o.path == path), "{method} {path} is registered twice");
        self.ops.push(op);
        let route = self.routes.remove(path).unwrap_or_default();
        self.routes.insert(path, route.on(filter, h));
    }

    /// `GET path`.
    pub fn get<H, T, D>(&mut self, path: &'static str, summary: &'static str, h: H) -> &mut Api
    where
        H: Handler<T, AppState> + Documented<D>,
        T: 'static,
    {
        self.add(MethodFilter::GET, "get", path, summary, h);
        self
    }

    /// `POST path`.
    pub fn post<H, T, D>(&mut self, path: &'static str, summary: &'static str, h: H) -> &mut Api
    where
        H: Handler<T, AppState> + Documented<D>,
        T: 'static,
    {
        self.add(MethodFilter::POST, "post", path, summary, h);
        self
    }

    /// `PUT path`.
    pub fn put<H, T, D>(&mut self, path: &'static str, summary: &'static str, h: H) -> &mut Api
    where
        H: Handler<T, AppState> + Documented<D>,
        T: 'static,
    {
        self.add(MethodFilter::PUT, "put", path, summary, h);
        self
    }

    /// `PATCH path`.
    pub fn patch<H, T, D>(&mut self, path: &'static str, summary: &'static str, h: H) -> &mut Api
    where
        H: Handler<T, AppState> + Documented<D>,
        T: 'static,
    {
        self.add(MethodFilter::PATCH, "patch", path, summary, h);
        self
    }

    /// `DELETE path`.
    pub fn delete<H, T, D>(&mut self, path: &'static str, summary: &'static str, h: H) -> &mut Api
    where
        H: Handler<T, AppState> + Documented<D>,
        T: 'static,
    {
        self.add(MethodFilter::DELETE, "delete", path, summary, h);
        self
    }

    /// The documented operations, in the order they were registered.
    pub fn operations(&self) -> &[Operation] {
        &self.ops
    }

    /// The paths whose bodies may be as large as a component (a
    /// [`WasmBody`] route): the server's component limit applies there,
    /// not the 2 MiB of every other route.
    pub fn large_body_paths(&self) -> Vec<&'static str> {
        self.ops.iter().filter(|o| o.large_body).map(|o| o.path).collect()
    }

    /// The routes, without state; `large_body_limit` is the body limit of
    /// [`Api::large_body_paths`].
    pub fn into_router(self, large_body_limit: usize) -> axum::Router<AppState> {
        let large = self.large_body_paths();
        self.routes.into_iter().fold(axum::Router::new(), |router, (path, route)| {
            let route = if large.contains(&path) {
                route.layer(axum::extract::DefaultBodyLimit::max(large_body_limit))
            } else {
                route
            };
            router.route(path, route)
        })
    }

    /// The OpenAPI document.
    pub fn document(mut self) -> Value {
        let mut paths = Map::new();
        for op in &self.ops {
            let mut responses = Map::new();
            for (status, content) in &op.responses {
                let mut response = json!({ "description": description(*status) });
                if let Some((content_type, schema)) = content {
                    response["content"] = json!({ *content_type: { "schema": schema } });
                }
                responses.insert(status.to_string(), response);
            }
            responses.insert(
                "default".into(),
                json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }),
            );
            let mut operation = json!({ "summary": op.summary, "responses": responses });
            if let Some(content) = &op.request {
                operation["requestBody"] = json!({ "required": true, "content": content });
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
        let mut schemas: Map<String, Value> = self.schemas.take_definitions(true).into_iter().collect();
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
}

fn description(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "created",
        202 => "accepted: waiting for a second admin",
        204 => "done; no content",
        _ => "success",
    }
}

fn schema<T: JsonSchema>(schemas: &mut SchemaGenerator) -> Value {
    serde_json::to_value(schemas.subschema_for::<T>()).unwrap_or(Value::Null)
}

/// Every route, registered by its resource's module.
pub fn api() -> Api {
    let mut api = Api::default();
    crate::api::routes(&mut api);
    api
}

/// Every documented `(method, path)`.
pub fn operations() -> Vec<(&'static str, &'static str)> {
    api().operations().iter().map(|o| (o.method, o.path)).collect()
}

/// The OpenAPI document, built once.
pub fn document() -> Value {
    static DOCUMENT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| api().document());
    DOCUMENT.clone()
}

// ---- the extractors ----

impl<S> DocArg for State<S> {
    fn document(_: &mut Operation, _: &mut SchemaGenerator) {}
}

/// Path parameters are read off the route's template.
impl<T> DocArg for Path<T> {
    fn document(_: &mut Operation, _: &mut SchemaGenerator) {}
}

impl DocArg for MatchedPath {
    fn document(_: &mut Operation, _: &mut SchemaGenerator) {}
}

impl DocArg for Auth {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        op.auth = true;
    }
}

impl<T: JsonSchema> DocArg for Body<T> {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.request = Some(json!({ "application/json": { "schema": schema::<T>(schemas) } }));
    }
}

impl<T: JsonSchema> DocArg for LargeBody<T> {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.request = Some(json!({ "application/json": { "schema": schema::<T>(schemas) } }));
        op.large_body = true;
    }
}

impl DocArg for CsvBody {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        op.request = Some(json!({ "text/csv": { "schema": { "type": "string" } } }));
        op.large_body = true;
    }
}

impl DocArg for WasmBody {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        // The bytes are read whatever the media type says.
        let bytes = json!({ "schema": { "type": "string", "format": "binary" } });
        op.request = Some(json!({ "application/wasm": bytes, "application/octet-stream": bytes }));
        op.large_body = true;
    }
}

/// The query parameters: the fields of the struct the handler parses its
/// query into, with their types, descriptions and whether required.
impl<T: JsonSchema> DocArg for Query<T> {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        // A parameter's schema stands alone: references to the struct's own
        // definitions (an enum's cases) are inlined.
        let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
        inline_refs(&mut schema, &defs, 0);
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            let mut property = property.clone();
            let description = property.as_object_mut().and_then(|p| p.remove("description"));
            let mut parameter = json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": property });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            op.query.push(parameter);
        }
    }
}

/// Replaces each `{"$ref": "#/$defs/X"}` in `value` with `defs.X`
/// (itself inlined), to a depth of 8.
fn inline_refs(value: &mut Value, defs: &Value, depth: usize) {
    if depth > 8 {
        return;
    }
    if let Some(name) = value.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"))
        && let Some(def) = defs.get(name)
    {
        *value = def.clone();
        inline_refs(value, defs, depth + 1);
        return;
    }
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| inline_refs(v, defs, depth + 1)),
        Value::Array(items) => items.iter_mut().for_each(|v| inline_refs(v, defs, depth + 1)),
        _ => {}
    }
}

// ---- the responses ----

impl<T: JsonSchema> DocResponse for Json<T> {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.responses.push((200, Some(("application/json", schema::<T>(schemas)))));
    }
}

impl<T: JsonSchema> DocResponse for Created<T> {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.responses.push((201, Some(("application/json", schema::<T>(schemas)))));
    }
}

impl<T: JsonSchema> DocResponse for CreatedOrExisting<T> {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        let schema = schema::<T>(schemas);
        op.responses.push((201, Some(("application/json", schema.clone()))));
        op.responses.push((200, Some(("application/json", schema))));
    }
}

impl DocResponse for NoContent {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        op.responses.push((204, None));
    }
}

impl DocResponse for Text {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        op.responses.push((200, Some(("text/plain", json!({ "type": "string" })))));
    }
}

impl DocResponse for crate::api::import::ImportAnswer {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        let report = schema::<crate::workflows::import::ImportReport>(schemas);
        op.responses.push((200, Some(("application/json", report.clone()))));
        // 422: rows refused (the report), or a body that is no import at
        // all (the API's error).
        let refused = json!({ "anyOf": [report, { "$ref": "#/components/schemas/Error" }] });
        op.responses.push((422, Some(("application/json", refused))));
    }
}

impl DocResponse for Csv {
    fn document(op: &mut Operation, _: &mut SchemaGenerator) {
        op.responses.push((200, Some(("text/csv", json!({ "type": "string" })))));
    }
}

impl<R: DocResponse> DocResponse for Result<R, ApiError> {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        R::document(op, schemas);
    }
}
