//! The authorization matrix: every route the router serves (read from the router itself, so a new
//! route without a row here fails the test) x anonymous / another user / the owner (the seller) /
//! an admin, each cell with the status it must answer. Every cell acts on a listing of its own.

use serde_json::json;
use web_kit::testing::matrix::{self, Caller, Row, row};

use crate::helpers::spawn_app;

/// Statuses for anonymous / another user / the seller / an admin.
fn rows() -> Vec<Row> {
    let listing =
        json!({"name": "Giant Steps", "category": "Records", "price": "19.99", "stock": 3});
    let mut rows = matrix::operational("/api/products/openapi.json");
    rows.extend([
        row("GET", "/api/products", None, [200, 200, 200, 200]),
        row("POST", "/api/products", Some(listing), [401, 201, 201, 201]),
        row(
            "GET",
            "/api/products/categories",
            None,
            [200, 200, 200, 200],
        ),
        row("GET", "/api/products/mine", None, [401, 200, 200, 200]),
        row("GET", "/api/products/{id}", None, [200, 200, 200, 200]),
        // A listing is changed or removed by its seller, or by an administrator (moderation).
        row(
            "PATCH",
            "/api/products/{id}",
            Some(json!({"price": "21.00"})),
            [401, 403, 200, 200],
        ),
        row("DELETE", "/api/products/{id}", None, [401, 403, 204, 204]),
    ]);
    rows
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_matrix_says() {
    let app = spawn_app().await;
    let rows = rows();
    matrix::assert_covers(&products_service::routes::stateless_router(), &rows);

    let owner = app.user("owner");
    let another = app.user("another");
    let admin = app.admin();
    matrix::check(&rows, |cell| {
        let app = &app;
        let token = match cell.caller {
            Caller::Anonymous => None,
            Caller::Another => Some(another.token.clone()),
            Caller::Owner => Some(owner.token.clone()),
            Caller::Admin => Some(admin.token.clone()),
        };
        let owner = &owner;
        async move {
            let listing = app.listing(owner, json!({})).await;
            let path = cell.route.replace("{id}", listing["id"].as_str().unwrap());
            matrix::status_of(
                &app.client,
                cell.method,
                &app.url(&path),
                token.as_deref(),
                cell.body.as_ref(),
            )
            .await
        }
    })
    .await;
    app.stop().await;
}
