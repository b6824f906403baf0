//! The authorization matrix: every route the router serves (read from the router itself, so a new
//! route without a row here fails the test) x anonymous / another user / the owner (the account
//! the request is about) / an admin, each cell with the status it must answer. Every cell signs
//! up an account of its own; callers present bearer tokens (the cookie flows have their own
//! tests: sessions.rs).

use serde_json::{Value, json};
use uuid::Uuid;
use web_kit::testing::matrix::{self, Caller, Row, row};

use crate::helpers::{PASSWORD, plain_client, spawn_app_with};

const ADMIN_EMAIL: &str = "root@example.com";

/// Statuses for anonymous / another user / the owner / an admin. `{email}` and `{name}` in a
/// body are the cell's own account (signed up beforehand) or a new one (signup).
fn rows() -> Vec<Row> {
    let account = json!({"email": "{email}", "password": PASSWORD});
    let signup = json!({"username": "{name}x", "email": "x{email}", "password": PASSWORD});
    let mut rows = matrix::operational("/api/auth/openapi.json");
    rows.extend([
        row("GET", "/api/auth/jwks", None, [200, 200, 200, 200]),
        row(
            "POST",
            "/api/auth/signup",
            Some(signup),
            [201, 201, 201, 201],
        ),
        row(
            "POST",
            "/api/auth/login",
            Some(account),
            [200, 200, 200, 200],
        ),
        // Only the refresh cookie refreshes: an access token (stolen or not) never does.
        row("POST", "/api/auth/refresh", None, [401, 401, 401, 401]),
        row("POST", "/api/auth/logout", None, [204, 204, 204, 204]),
        row(
            "POST",
            "/api/auth/logout-everywhere",
            None,
            [401, 204, 204, 204],
        ),
        row("GET", "/api/auth/me", None, [401, 200, 200, 200]),
        // Demo users are off here (as in production).
        row("POST", "/api/auth/demo-login", None, [404, 404, 404, 404]),
    ]);
    rows
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_matrix_says() {
    let app = spawn_app_with(|settings| {
        settings.demo_users = false;
        settings.admin = Some(auth_service::config::AdminAccount {
            email: ADMIN_EMAIL.to_owned(),
            password: PASSWORD.to_owned(),
            username: "root".to_owned(),
        });
    })
    .await;
    let rows = rows();
    matrix::assert_covers(&auth_service::routes::stateless_router(), &rows);

    let token = |session: &Value| session["access_token"].as_str().unwrap().to_owned();
    let unique = || format!("u{}", &Uuid::new_v4().simple().to_string()[..12]);
    matrix::check(&rows, |cell| {
        let app = &app;
        async move {
            // Fresh accounts for every cell: a logout in one cell revokes that cell's token.
            let another = token(&app.registered_user(&unique()).await);
            let name = unique();
            let owner = token(&app.registered_user(&name).await);
            let admin = token(&app.login(ADMIN_EMAIL, PASSWORD).await.json().await.unwrap());
            let bearer = match cell.caller {
                Caller::Anonymous => None,
                Caller::Another => Some(another),
                Caller::Owner => Some(owner),
                Caller::Admin => Some(admin),
            };
            let body: Option<Value> = cell.body.map(|body| {
                let text = body
                    .to_string()
                    .replace("{email}", &format!("{name}@example.com"));
                serde_json::from_str(&text.replace("{name}", &name)).unwrap()
            });
            matrix::status_of(
                &plain_client(),
                cell.method,
                &app.url(cell.route),
                bearer.as_deref(),
                body.as_ref(),
            )
            .await
        }
    })
    .await;
}
