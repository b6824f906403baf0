use std::time::Duration;

use futures::future::join_all;
use orders_service::{live::Live, sweeper::Sweeper};
use serde_json::json;
use uuid::Uuid;
use web_kit::testing::wait_until;

use crate::helpers::{PATIENCE, TestApp, spawn_app, spawn_app_with};

fn sweeper(app: &TestApp) -> Sweeper {
    let redis = web_kit::redis_pool::create(&app.settings.redis_url, &[], None).unwrap();
    Sweeper {
        pool: app.pool.clone(),
        live: Live::new(redis, &app.prefix),
        pending_timeout: app.settings.pending_timeout,
        interval: Duration::from_millis(1),
        idempotency_key_ttl: app.settings.idempotency_key_ttl,
    }
}

async fn history(app: &TestApp, order_id: Uuid) -> Vec<(Option<String>, String)> {
    sqlx::query_as(
        "SELECT from_status, to_status FROM order_status_history WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payment_racing_expiry_has_exactly_one_winner() {
    let app = spawn_app_with(|settings| settings.sweep_interval = Duration::from_secs(3600)).await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(app.confirmed_order(&buyer, product).await);
    }
    for (index, order_id) in orders.iter().enumerate() {
        sqlx::query(
            "UPDATE orders SET expires_at = clock_timestamp() + make_interval(secs => $2)
             WHERE id = $1",
        )
        .bind(order_id)
        .bind(index as f64 * 0.02)
        .execute(&app.pool)
        .await
        .unwrap();
    }

    let sweep = {
        let sweeper = sweeper(&app);
        let pool = app.pool.clone();
        tokio::spawn(async move {
            wait_until(PATIENCE, "every order leaves CONFIRMED", || async {
                sweeper.sweep_once().await.unwrap();
                let left: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                (left == 0).then_some(())
            })
            .await;
        })
    };
    let payments = join_all(
        orders
            .iter()
            .map(|order_id| app.pay(&buyer, *order_id, "4242424242424242")),
    )
    .await;
    sweep.await.unwrap();
    app.wait_until_quiet().await;

    for (order_id, payment) in orders.iter().zip(payments) {
        let status = app.status(*order_id).await;
        let paid = app.published_for(*order_id, "order.paid").await.len();
        let expired = app.published_for(*order_id, "order.expired").await.len();
        let moves = history(&app, *order_id).await.len();
        match payment.status().as_u16() {
            200 => assert_eq!((status.as_str(), paid, expired, moves), ("PAID", 1, 0, 3)),
            409 => assert_eq!(
                (status.as_str(), paid, expired, moves),
                ("EXPIRED", 0, 1, 3)
            ),
            other => panic!("unexpected payment status {other}"),
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancellation_racing_confirmation_has_exactly_one_winner_and_releases_the_stock() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(app.order(&buyer, product, 1).await);
    }

    let (app_ref, buyer_ref) = (&app, &buyer);
    let cancels = join_all(orders.iter().map(|order_id| async move {
        let (response, _) = tokio::join!(
            app_ref.cancel(buyer_ref, *order_id),
            app_ref.inventory_event("stock.reserved", json!({"order_id": order_id, "lines": []}))
        );
        response.status().as_u16()
    }))
    .await;
    app.wait_until_quiet().await;

    for (order_id, cancel) in orders.iter().zip(cancels) {
        assert_eq!(cancel, 200);
        assert_eq!(app.status(*order_id).await, "CANCELLED");
        let history = history(&app, *order_id).await;
        let out_of_pending: Vec<_> = history
            .iter()
            .filter(|(from, _)| from.as_deref() == Some("PENDING"))
            .collect();
        assert_eq!(out_of_pending.len(), 1, "{history:?}");
        let releases = app.published_for(*order_id, "order.cancelled").await.len();
        if out_of_pending[0].1 == "CONFIRMED" {
            // Confirmation won; the cancellation then left CONFIRMED and released once.
            assert_eq!(history.len(), 3);
            assert_eq!(releases, 1);
        } else {
            // Cancellation won; the late reservation was given back too.
            assert_eq!(history.len(), 2);
            assert_eq!(releases, 2);
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_sweepers_at_once_expire_each_order_exactly_once() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let mut orders = Vec::new();
    // One buyer each: a buyer may hold only a few open orders.
    for _ in 0..30 {
        orders.push(app.order(&app.user(), product, 1).await);
    }
    for order_id in &orders {
        app.reserve(*order_id).await;
    }
    for order_id in &orders {
        app.wait_for_status(*order_id, "CONFIRMED").await;
    }
    sqlx::query("UPDATE orders SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();

    let sweepers: Vec<_> = (0..3).map(|_| sweeper(&app)).collect();
    let moved: usize = join_all(sweepers.iter().map(Sweeper::sweep_once))
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();

    // The app's own sweeper may have taken some too; together they moved each order once.
    assert!(moved <= orders.len());
    for order_id in &orders {
        app.wait_for_status(*order_id, "EXPIRED").await;
    }
    let expired_events = app
        .count("SELECT count(*) FROM outbox WHERE event_type = 'order.expired'")
        .await;
    assert_eq!(expired_events, 30);
    let expiries = app
        .count("SELECT count(*) FROM order_status_history WHERE to_status = 'EXPIRED'")
        .await;
    assert_eq!(expiries, 30);
    app.stop().await;
}
