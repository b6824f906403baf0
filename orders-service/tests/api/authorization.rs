//! The authorization matrix: every route the router serves (read from the router itself, so a new
//! route without a row here fails the test) x anonymous / another user / the owner (the order's
//! buyer) / an admin, each cell with the status it must answer. Every cell acts on a CONFIRMED
//! order of its own.

use serde_json::{Value, json};
use uuid::Uuid;
use web_kit::testing::matrix::{self, Caller, Row, row};

use crate::helpers::spawn_app_with;

/// Statuses for anonymous / another user / the buyer / an admin. `{product}` in a body is a
/// product of the catalog copy.
fn rows() -> Vec<Row> {
    let card = json!({"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"});
    let order = json!({"items": [{"product_id": "{product}", "quantity": 1}]});
    let mut rows = matrix::operational("/api/orders/openapi.json");
    rows.extend([
        row("POST", "/api/orders", Some(order), [401, 201, 201, 201]),
        // Everyone sees their own orders only (the list is the caller's).
        row("GET", "/api/orders", None, [401, 200, 200, 200]),
        // A buyer's order does not exist for another user (no IDOR). An admin (support) may see
        // and cancel any order, but only its buyer may pay for it.
        row("GET", "/api/orders/{id}", None, [401, 404, 200, 200]),
        row(
            "POST",
            "/api/orders/{id}/cancel",
            Some(json!({})),
            [401, 404, 200, 200],
        ),
        row(
            "POST",
            "/api/orders/{id}/pay",
            Some(card),
            [401, 404, 200, 403],
        ),
        row("GET", "/api/orders/{id}/events", None, [401, 404, 200, 200]),
        // The stream administration is for admins only.
        row("GET", "/api/admin/streams", None, [401, 403, 403, 200]),
        row("GET", "/api/admin/dead-letters", None, [401, 403, 403, 200]),
        row(
            "POST",
            "/api/admin/dead-letters/{id}/replay",
            Some(json!({})),
            [401, 403, 403, 404],
        ),
    ]);
    rows
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_matrix_says() {
    let app = spawn_app_with(|settings| {
        settings.buyer_limits.max_open_orders = 1_000;
        settings.buyer_limits.placements_per_window = 1_000;
    })
    .await;
    let rows = rows();
    matrix::assert_covers(&orders_service::routes::stateless_router(), &rows);

    let owner = app.user();
    let another = app.user();
    let admin = app.admin();
    let product = app.product(Uuid::now_v7(), "Moanin'", "12.50").await;
    matrix::check(&rows, |cell| {
        let app = &app;
        let owner = &owner;
        let token = match cell.caller {
            Caller::Anonymous => None,
            Caller::Another => Some(another.token.clone()),
            Caller::Owner => Some(owner.token.clone()),
            Caller::Admin => Some(admin.token.clone()),
        };
        async move {
            let order = app.confirmed_order(owner, product).await;
            let id = if cell.route.starts_with("/api/admin/") {
                "1-0".to_owned()
            } else {
                order.to_string()
            };
            let path = cell.route.replace("{id}", &id);
            let body: Option<Value> = cell.body.map(|body| {
                serde_json::from_str(&body.to_string().replace("{product}", &product.to_string()))
                    .unwrap()
            });
            matrix::status_of(
                &app.client,
                cell.method,
                &app.url(&path),
                token.as_deref(),
                body.as_ref(),
            )
            .await
        }
    })
    .await;
    app.stop().await;
}
