//! A client that hangs up in the middle of `POST /api/orders` leaves nothing half-done: the
//! placement runs on its own task, commits as if the client had waited, and its
//! Idempotency-Key answers the retry with that same order.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;
use tokio::{io::AsyncWriteExt, net::TcpStream};
use web_kit::testing::wait_until;

use crate::helpers::{PATIENCE, TestApp, spawn_app_with};

/// The states of the server's side of the connection from local port `client_port`, from
/// `/proc/net/tcp` (hex `address:port` columns, state in the fourth).
fn server_side_states(server_port: u16, client_port: u16) -> Vec<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let port_of = |column: &str| {
        column
            .rsplit(':')
            .next()
            .and_then(|port| u16::from_str_radix(port, 16).ok())
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let (local, remote, state) = (columns.get(1)?, columns.get(2)?, columns.get(3)?);
            (port_of(local)? == server_port && port_of(remote)? == client_port)
                .then(|| u8::from_str_radix(state, 16).ok())
                .flatten()
        })
        .collect()
}

const ESTABLISHED: u8 = 0x01;
const CLOSE_WAIT: u8 = 0x08;

async fn waiting_on_a_lock(app: &TestApp) -> bool {
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
    )
    .bind(app.db.name())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    waiting > 0
}

#[tokio::test]
async fn a_placement_whose_client_hangs_up_while_it_waits_still_commits_whole_and_its_key_replays_it()
 {
    // Lock waits long enough for the test to hang up before it lets the placement go.
    let app = spawn_app_with(|settings| {
        settings.database_timeouts.lock = Duration::from_secs(30);
        settings.database_timeouts.statement = Duration::from_secs(30);
    })
    .await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});
    sqlx::query("INSERT INTO buyer_order_counts (user_id, placed, open_at_most) VALUES ($1, 0, 0)")
        .bind(buyer.id)
        .execute(&app.pool)
        .await
        .unwrap();
    // The buyer's row, locked by another session: the order's INSERT waits on it.
    let mut locker = sqlx::PgConnection::connect(app.db.url()).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM buyer_order_counts WHERE user_id = $1 FOR UPDATE")
        .bind(buyer.id)
        .execute(&mut *lock)
        .await
        .unwrap();

    let server_port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", server_port))
        .await
        .unwrap();
    let client_port = client.local_addr().unwrap().port();
    let payload = body.to_string();
    let request = format!(
        "POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: hang-up\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{payload}",
        buyer.token,
        payload.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    wait_until(
        PATIENCE,
        "the placement waits on the locked row",
        || async { waiting_on_a_lock(&app).await.then_some(()) },
    )
    .await;

    assert_eq!(
        server_side_states(server_port, client_port),
        [ESTABLISHED],
        "the server's side of the connection is visible"
    );
    drop(client);
    wait_until(
        PATIENCE,
        "the server has dropped the hung-up request",
        || async {
            let states = server_side_states(server_port, client_port);
            (!states.contains(&ESTABLISHED) && !states.contains(&CLOSE_WAIT)).then_some(())
        },
    )
    .await;
    lock.commit().await.unwrap();

    wait_until(PATIENCE, "the placement commits", || async {
        let answered = app
            .count("SELECT count(*) FROM idempotency_keys WHERE response_body IS NOT NULL")
            .await;
        (answered == 1).then_some(())
    })
    .await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM order_items").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM order_status_history").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE event_type = 'order.placed'")
            .await,
        1
    );
    let order_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let retry = app.place_order_with_key(&buyer, "hang-up", &body).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retried: Value = retry.json().await.unwrap();
    assert_eq!(retried["id"], json!(order_id), "{retried}");
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}
