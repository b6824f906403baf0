//! The inbox: recording a batch of event ids in one statement, and pruning old ids in batches.

use std::time::Duration;

use stream_lib::inbox;
use uuid::Uuid;

use crate::helpers::*;

async fn inbox_rows(db: &TestDb, consumer: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM inbox WHERE consumer = $1")
        .bind(consumer)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn record_batch_returns_only_the_ids_not_seen_before_by_that_consumer() {
    let db = TestDb::new("inbox_batch").await;
    let (old, new, repeated) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut connection = db.pool.acquire().await.unwrap();
    let recorded = inbox::record_batch(&mut connection, "a", &[old])
        .await
        .unwrap();
    assert_eq!(recorded, [old]);

    let mut fresh = inbox::record_batch(&mut connection, "a", &[old, new, repeated, repeated])
        .await
        .unwrap();
    fresh.sort();
    let mut expected = vec![new, repeated];
    expected.sort();
    assert_eq!(fresh, expected);
    // Another consumer has an inbox of its own.
    let other = inbox::record_batch(&mut connection, "b", &[old])
        .await
        .unwrap();
    assert_eq!(other, [old]);
    assert!(
        inbox::record_batch(&mut connection, "a", &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(inbox_rows(&db, "a").await, 3);
}

#[tokio::test]
async fn a_rolled_back_batch_records_nothing() {
    let db = TestDb::new("inbox_rollback").await;
    let id = Uuid::now_v7();
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    inbox::record_batch(&mut transaction, "a", &[id])
        .await
        .unwrap();
    transaction.rollback().await.unwrap();
    let mut connection = db.pool.acquire().await.unwrap();
    assert_eq!(
        inbox::record_batch(&mut connection, "a", &[id])
            .await
            .unwrap(),
        [id]
    );
}

#[tokio::test]
async fn prune_deletes_old_ids_of_one_consumer_in_batches_and_keeps_young_ones() {
    let db = TestDb::new("inbox_prune").await;
    sqlx::raw_sql(
        "INSERT INTO inbox (consumer, event_id, handled_at)
         SELECT 'a', gen_random_uuid(), now() - interval '8 days' FROM generate_series(1, 2500);
         INSERT INTO inbox (consumer, event_id, handled_at)
         SELECT 'a', gen_random_uuid(), now() - interval '1 day' FROM generate_series(1, 30);
         INSERT INTO inbox (consumer, event_id, handled_at)
         SELECT 'b', gen_random_uuid(), now() - interval '8 days' FROM generate_series(1, 20);",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let week = Duration::from_secs(7 * 24 * 3600);

    let deleted = inbox::prune(&db.pool, "a", week, 1000).await.unwrap();

    assert_eq!(deleted, 2500);
    assert_eq!(inbox_rows(&db, "a").await, 30, "young ids stay");
    assert_eq!(
        inbox_rows(&db, "b").await,
        20,
        "another consumer's ids stay"
    );
    assert_eq!(inbox::prune(&db.pool, "a", week, 1000).await.unwrap(), 0);
}
