//! What every service's OpenAPI document shares: the security schemes (the `access_token`
//! cookie and `Authorization: Bearer`), the one error body, and the error responses that the
//! standard layers and extractors give any operation (so a handler's annotation lists only its
//! own outcomes). Also the list of operations a document describes, and the list of routes an
//! axum router serves, so a test can hold one against the other.
//!
//! A service builds its router and its document from the same declarations (utoipa-axum's
//! `OpenApiRouter` with `routes!`), then passes the document through [`finish`].

use std::{cmp::Ordering, collections::BTreeSet};

use axum::{Router, http::Method};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        Content, HttpMethod, Info, License, OpenApi, Ref, RefOr, Response,
        header::Header,
        path::{Operation as PathOperation, ParameterIn, PathItem},
        schema::{ObjectBuilder, Type},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::ErrorBody;

/// The security scheme of the `access_token` HttpOnly cookie (the browser).
pub const COOKIE_AUTH: &str = "cookie";
/// The security scheme of `Authorization: Bearer <access token>` (API clients).
pub const BEARER_AUTH: &str = "bearer";

/// The tag of `/health`, `/ready`, `/metrics` and `/openapi.json`.
pub const OPERATIONS_TAG: &str = "operations";

/// One operation: a method on a path template (`/api/orders/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub method: Method,
    pub path: String,
    /// Whether the operation takes a signed-in caller (it names a security scheme and no
    /// anonymous alternative).
    pub requires_auth: bool,
}

impl Ord for Operation {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.path.as_str(), self.method.as_str())
            .cmp(&(other.path.as_str(), other.method.as_str()))
    }
}

impl PartialOrd for Operation {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Sets the document's title, version and description, adds the security schemes and the error
/// body, and completes every operation with the error responses it can give beside its own.
pub fn finish(mut doc: OpenApi, title: &str, version: &str, description: &str) -> OpenApi {
    let mut info = Info::new(title, version);
    info.description = Some(description.to_owned());
    info.license = Some(License::new("MIT"));
    doc.info = info;

    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    components.security_schemes.insert(
        COOKIE_AUTH.to_owned(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(
            ApiKeyValue::with_description(
                "access_token",
                "The access token in the HttpOnly cookie that sign-in sets (the browser).",
            ),
        ))),
    );
    components.security_schemes.insert(
        BEARER_AUTH.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "The `access_token` of a sign-in response (API clients). EdDSA-signed; \
                     auth-service's public keys are at `/api/auth/jwks`.",
                ))
                .build(),
        )),
    );

    for item in doc.paths.paths.values_mut() {
        let shared_params = item.parameters.clone().unwrap_or_default();
        for (method, operation) in operations_mut(item) {
            let changes_state = !matches!(
                method,
                HttpMethod::Get | HttpMethod::Head | HttpMethod::Options
            );
            add_standard_responses(operation, &shared_params, changes_state);
        }
    }
    doc
}

/// Every operation the document describes, sorted by path then method.
pub fn document_operations(doc: &OpenApi) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, operation) in operations(item) {
            out.push(Operation {
                method,
                path: path.clone(),
                requires_auth: requires_auth(operation),
            });
        }
    }
    out.sort();
    out
}

/// Every (method, path) an axum router serves (HEAD, which axum adds to every GET, left out),
/// read from the router's `Debug` output: axum has no other way to list its routes. Fails when
/// that output cannot be read (another axum version), so a test using it cannot pass vacuously.
pub fn router_operations<S>(router: &Router<S>) -> Result<BTreeSet<(String, String)>, String> {
    let text = format!("{router:?}");
    let unreadable = |what: &str| format!("cannot read the router's {what} from its Debug output");
    let routed = text
        .split_once("path_router: PathRouter { routes: {")
        .and_then(|(_, rest)| rest.split_once("fallback_router:"))
        .map(|(routed, _)| routed)
        .ok_or_else(|| unreadable("path router"))?;
    let (routes, nodes) = routed
        .split_once("node: Node { paths: {")
        .ok_or_else(|| unreadable("paths"))?;

    let mut paths = std::collections::BTreeMap::new();
    for entry in nodes.split("RouteId(").skip(1) {
        let (id, rest) = entry
            .split_once("): \"")
            .ok_or_else(|| unreadable("route ids"))?;
        let (path, _) = rest
            .split_once('"')
            .ok_or_else(|| unreadable("route paths"))?;
        paths.insert(id.to_owned(), path.to_owned());
    }
    let mut out = BTreeSet::new();
    for entry in routes.split("RouteId(").skip(1) {
        let (id, rest) = entry
            .split_once("): ")
            .ok_or_else(|| unreadable("routes"))?;
        let path = paths.get(id).ok_or_else(|| unreadable("route of an id"))?;
        let methods = rest
            .split_once("allow_header: Bytes(b\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(methods, _)| methods)
            .ok_or_else(|| format!("route {path} is not a method router with an Allow header"))?;
        for method in methods.split(',').filter(|method| *method != "HEAD") {
            out.insert((method.to_owned(), path.clone()));
        }
    }
    if out.is_empty() {
        return Err(unreadable("routes (none found)"));
    }
    Ok(out)
}

/// Holds a router against its document: every route the router serves must be an operation of
/// the document and the other way round. The error names each one that is not.
pub fn check_router_against_document<S>(router: &Router<S>, doc: &OpenApi) -> Result<(), String> {
    let routed = router_operations(router)?;
    let documented: BTreeSet<(String, String)> = document_operations(doc)
        .into_iter()
        .map(|operation| (operation.method.to_string(), operation.path))
        .collect();
    let mut problems = Vec::new();
    for (method, path) in routed.difference(&documented) {
        problems.push(format!("{method} {path} is routed but not in the document"));
    }
    for (method, path) in documented.difference(&routed) {
        problems.push(format!("{method} {path} is in the document but not routed"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Every `$ref` of the document names a component it has (a dangling one, such as a parameter's
/// `value_type` whose schema was never registered, leaves clients and fuzzers without a type).
/// The error names each dangling reference.
pub fn check_references(doc: &OpenApi) -> Result<(), String> {
    fn walk(value: &serde_json::Value, found: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.insert(target.clone());
                }
                map.values().for_each(|value| walk(value, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|value| walk(value, found)),
            _ => {}
        }
    }
    let json = serde_json::to_value(doc).map_err(|error| error.to_string())?;
    let mut targets = BTreeSet::new();
    walk(&json, &mut targets);
    let dangling: Vec<String> = targets
        .into_iter()
        .filter(|target| {
            let resolved = target
                .strip_prefix('#')
                .and_then(|pointer| json.pointer(pointer));
            resolved.is_none()
        })
        .map(|target| format!("{target} is referenced but not in the document"))
        .collect();
    if dangling.is_empty() {
        Ok(())
    } else {
        Err(dangling.join("\n"))
    }
}

fn operations(item: &PathItem) -> Vec<(Method, &PathOperation)> {
    [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::OPTIONS, &item.options),
        (Method::HEAD, &item.head),
        (Method::PATCH, &item.patch),
        (Method::TRACE, &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|operation| (method, operation)))
    .collect()
}

fn operations_mut(item: &mut PathItem) -> Vec<(HttpMethod, &mut PathOperation)> {
    [
        (HttpMethod::Get, &mut item.get),
        (HttpMethod::Put, &mut item.put),
        (HttpMethod::Post, &mut item.post),
        (HttpMethod::Delete, &mut item.delete),
        (HttpMethod::Options, &mut item.options),
        (HttpMethod::Head, &mut item.head),
        (HttpMethod::Patch, &mut item.patch),
        (HttpMethod::Trace, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
    .collect()
}

/// A signed-in caller is required: some security requirement, and none of them empty (an empty
/// one is the anonymous alternative).
fn requires_auth(operation: &PathOperation) -> bool {
    operation.security.as_ref().is_some_and(|requirements| {
        !requirements.is_empty()
            && requirements
                .iter()
                .all(|requirement| requirement != &Default::default())
    })
}

/// A response with the JSON error body.
pub fn error_response(description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".to_owned(),
        Content::new(Some(Ref::from_schema_name(ErrorBody::name()))).into(),
    );
    response
}

/// A response with the JSON error body and `Retry-After` (seconds).
pub fn error_response_with_retry_after(description: &str) -> Response {
    let mut response = error_response(description);
    let mut header = Header::new(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1)),
    );
    header.description = Some("Seconds to wait before trying again.".to_owned());
    response
        .headers
        .insert("Retry-After".to_owned(), RefOr::T(header));
    response
}

fn add_standard_responses(
    operation: &mut PathOperation,
    shared: &[RefOr<utoipa::openapi::path::Parameter>],
    changes_state: bool,
) {
    let located = |location: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .chain(shared)
            .any(|parameter| matches!(parameter, RefOr::T(p) if p.parameter_in == location))
    };
    let mut standard: Vec<(&str, Response)> = Vec::new();
    if located(ParameterIn::Path) {
        standard.push((
            "400",
            error_response("A path parameter is malformed (`invalid_path`)."),
        ));
    }
    if located(ParameterIn::Query) {
        standard.push((
            "400",
            error_response("The query string cannot be read (`invalid_query`)."),
        ));
    }
    if operation.request_body.is_some() {
        standard.extend([
            (
                "400",
                error_response("The body is not JSON (`malformed_json`)."),
            ),
            (
                "413",
                error_response("The body is too large (`payload_too_large`)."),
            ),
            (
                "415",
                error_response("The body is not `application/json` (`unsupported_media_type`)."),
            ),
            (
                "422",
                error_response(
                    "The body does not fit the schema (`invalid_body`) or a field is invalid \
                     (`validation_failed`, with `fields`).",
                ),
            ),
        ]);
    }
    if requires_auth(operation) {
        standard.push((
            "401",
            error_response(
                "Not signed in, or the token is invalid, expired or revoked (`unauthorized`, \
                 `invalid_token`, `token_expired`, `token_revoked`).",
            ),
        ));
    }
    if changes_state {
        standard.push((
            "403",
            error_response(
                "A request with the session cookie sent from another site \
                 (`cross_site_request`).",
            ),
        ));
    }
    standard.extend([
        (
            "500",
            error_response("Something failed on the server (`internal_error`)."),
        ),
        (
            "503",
            error_response_with_retry_after(
                "A dependency (database, Redis) is unavailable, or the request took too long \
                 (`unavailable`, `timeout`).",
            ),
        ),
    ]);
    for (status, response) in standard {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert(RefOr::T(response));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};

    async fn handler() {}

    #[test]
    fn the_routes_of_a_router_are_read_with_their_methods() {
        let router: Router<()> = Router::new()
            .route("/a", get(handler).post(handler))
            .route("/b/{id}", post(handler))
            .layer(tower::layer::util::Identity::new());
        let routes = router_operations(&router).unwrap();
        let expected: BTreeSet<(String, String)> =
            [("GET", "/a"), ("POST", "/a"), ("POST", "/b/{id}")]
                .into_iter()
                .map(|(method, path)| (method.to_owned(), path.to_owned()))
                .collect();
        assert_eq!(routes, expected);
    }

    #[test]
    fn a_route_missing_from_the_document_is_named() {
        let router: Router<()> = Router::new()
            .route("/a", get(handler))
            .route("/b", post(handler));
        let mut doc = OpenApi::default();
        let mut item = PathItem::default();
        item.get = Some(PathOperation::new());
        doc.paths.paths.insert("/a".into(), item);

        let error = check_router_against_document(&router, &doc).unwrap_err();

        assert_eq!(error, "POST /b is routed but not in the document");
    }

    #[test]
    fn a_reference_to_a_schema_the_document_lacks_is_named() {
        let mut doc = finish(OpenApi::default(), "t", "1", "d");
        assert_eq!(check_references(&doc), Ok(()));
        let mut operation = PathOperation::new();
        operation.responses.responses.insert(
            "200".into(),
            RefOr::T({
                let mut response = Response::new("ok");
                response.content.insert(
                    "application/json".into(),
                    Content::new(Some(Ref::from_schema_name("Missing"))).into(),
                );
                response
            }),
        );
        let mut item = PathItem::default();
        item.get = Some(operation);
        doc.paths.paths.insert("/x".into(), item);

        assert_eq!(
            check_references(&doc),
            Err("#/components/schemas/Missing is referenced but not in the document".into())
        );
    }

    #[test]
    fn every_operation_gets_the_internal_and_unavailable_errors() {
        let mut doc = OpenApi::default();
        let mut item = PathItem::default();
        item.get = Some(PathOperation::new());
        doc.paths.paths.insert("/x".into(), item);
        let doc = finish(doc, "t", "1", "d");
        let json = serde_json::to_value(&doc).unwrap();
        let responses = &json["paths"]["/x"]["get"]["responses"];
        assert!(responses["500"].is_object());
        assert!(responses["503"]["headers"]["Retry-After"].is_object());
        assert_eq!(json["openapi"], "3.1.0");
        assert!(json["components"]["schemas"]["ErrorBody"].is_object());
    }
}
