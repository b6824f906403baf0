//! An authorization matrix test's parts: the kinds of caller, rows of expected statuses per
//! route, a check that the rows cover exactly the routes a router serves (so a new route without
//! a row fails the test), and a request that holds every refusal to the JSON error body.

use std::collections::BTreeSet;

use axum::Router;
use serde_json::Value;

/// Who sends the request: nobody signed in, a user who does not own the resource, its owner, an
/// administrator (who owns nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Another,
    Owner,
    Admin,
}

impl Caller {
    /// Every kind of caller, in the order of a [`Row`]'s statuses.
    pub const ALL: [Caller; 4] = [
        Caller::Anonymous,
        Caller::Another,
        Caller::Owner,
        Caller::Admin,
    ];
}

/// One route of the matrix: method, path as the router declares it (`/api/orders/{id}`), the
/// request body if any, and the status each [`Caller`] must get, in [`Caller::ALL`]'s order.
pub struct Row {
    pub method: &'static str,
    pub route: &'static str,
    pub body: Option<Value>,
    pub expect: [u16; 4],
}

/// A [`Row`].
pub fn row(
    method: &'static str,
    route: &'static str,
    body: Option<Value>,
    expect: [u16; 4],
) -> Row {
    Row {
        method,
        route,
        body,
        expect,
    }
}

/// The rows of the routes every service serves to anyone: `/health`, `/ready`, `/metrics` (for
/// the network inside; nginx does not route them) and its OpenAPI document at `openapi`.
pub fn operational(openapi: &'static str) -> Vec<Row> {
    ["/health", "/ready", "/metrics", openapi]
        .into_iter()
        .map(|route| row("GET", route, None, [200, 200, 200, 200]))
        .collect()
}

/// Panics unless `rows` name exactly the (method, route) pairs `router` serves.
pub fn assert_covers<S>(router: &Router<S>, rows: &[Row]) {
    let routed = crate::openapi::router_operations(router).expect("the router's routes");
    let listed: BTreeSet<(String, String)> = rows
        .iter()
        .map(|row| (row.method.to_owned(), row.route.to_owned()))
        .collect();
    let missing: Vec<_> = routed.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix row: {missing:?}"
    );
    assert!(stale.is_empty(), "matrix rows for no route: {stale:?}");
}

/// Sends one request (with `token` as a bearer token, `body` as JSON) and returns its status;
/// panics when a 4xx or 5xx comes without the JSON error body.
pub async fn status_of(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> u16 {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the service answers");
    let status = response.status().as_u16();
    if status >= 400 {
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            body["error"]["code"].is_string(),
            "{method} {url}: {status} without the JSON error body: {body}"
        );
    }
    status
}

/// One cell of the matrix, as [`check`] hands it over.
pub struct Cell {
    pub method: &'static str,
    pub route: &'static str,
    pub body: Option<Value>,
    pub caller: Caller,
}

/// Runs every cell: `cell` prepares the cell's own resource and sends its request, returning the
/// status. Panics listing every cell that answered otherwise.
pub async fn check<F, Fut>(rows: &[Row], mut cell: F)
where
    F: FnMut(Cell) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let mut wrong = Vec::new();
    for row in rows {
        for (caller, want) in Caller::ALL.into_iter().zip(row.expect) {
            let got = cell(Cell {
                method: row.method,
                route: row.route,
                body: row.body.clone(),
                caller,
            })
            .await;
            if got != want {
                wrong.push(format!(
                    "{} {} as {caller:?}: {got}, expected {want}",
                    row.method, row.route
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
