//! Retention: published outbox rows past the retention are purged in small batches; young
//! published rows and unpublished rows stay.

use std::time::Duration;

use stream_lib::outbox::retention::purge_published;

use crate::helpers::*;

async fn insert_rows(db: &TestDb, count: i32, published: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO outbox (stream, event_id, event_type, source, occurred_at, correlation_id,
                             payload, published_at)
         SELECT 'orders_stream', gen_random_uuid(), 'order.placed', 'test', now(), 'req', '{{}}',
                {published}
         FROM generate_series(1, $1)"
    )))
    .bind(count)
    .execute(&db.pool)
    .await
    .unwrap();
}

async fn count(db: &TestDb, condition: &'static str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM outbox WHERE {condition}"
    )))
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn purge_deletes_old_published_rows_in_batches_and_keeps_young_and_unpublished_ones() {
    let db = TestDb::new("retention_purge").await;
    insert_rows(&db, 2500, "now() - interval '2 days'").await;
    insert_rows(&db, 10, "now() - interval '1 hour'").await;
    insert_rows(&db, 5, "NULL").await;
    let day = Duration::from_secs(24 * 3600);

    // At most two statements of 1000 in one round.
    assert_eq!(purge_published(&db.pool, day, 1000, 2).await.unwrap(), 2000);
    assert_eq!(purge_published(&db.pool, day, 1000, 50).await.unwrap(), 500);
    assert_eq!(purge_published(&db.pool, day, 1000, 50).await.unwrap(), 0);

    assert_eq!(
        count(&db, "published_at IS NOT NULL").await,
        10,
        "young rows stay"
    );
    assert_eq!(
        count(&db, "published_at IS NULL").await,
        5,
        "unpublished rows stay"
    );
}
