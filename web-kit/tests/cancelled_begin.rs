//! A transaction whose `BEGIN` is cancelled midway (a client hanging up, a deadline) must not
//! reach the next borrower of its pooled connection: `web_kit::db::begin` against sqlx's own
//! `Pool::begin`, on a pool of one connection so the next borrower gets the same session.

use std::time::Duration;

use sqlx::PgPool;
use web_kit::{
    db::{self, Timeouts, connect},
    testing::TestDatabase,
};

/// Server-side work inside the `BEGIN` statement, so the round trip is long enough to cancel.
const SLOW_BEGIN: &str = "BEGIN READ ONLY; SET LOCAL enable_seqscan = off; SELECT pg_sleep(0.3)";

async fn pool_of_one() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create("webkit_cancelled_begin")
        .await
        .unwrap();
    let pool = connect(db.url(), 1, &Timeouts::default()).await.unwrap();
    (db, pool)
}

/// What the next borrower's statements run in: (`transaction_read_only`, `enable_seqscan`), and
/// whether a write succeeds.
async fn next_borrower(pool: &PgPool) -> (String, String, bool) {
    let settings: (String, String) = sqlx::query_as(
        "SELECT current_setting('transaction_read_only'), current_setting('enable_seqscan')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let write = sqlx::query("CREATE TABLE written (id int)")
        .execute(pool)
        .await;
    (settings.0, settings.1, write.is_ok())
}

#[tokio::test]
async fn a_cancelled_begin_leaves_the_next_borrower_outside_any_transaction() {
    let (_db, pool) = pool_of_one().await;
    let cancelled =
        tokio::time::timeout(Duration::from_millis(50), db::begin_with(&pool, SLOW_BEGIN)).await;
    assert!(cancelled.is_err(), "the begin was meant to be cancelled");

    assert_eq!(
        next_borrower(&pool).await,
        ("off".to_owned(), "on".to_owned(), true)
    );
}

/// Why [`db::begin`] exists (transact-rs/sqlx#4393). When this fails, sqlx has fixed it: the
/// wrapper, this test and the clippy.toml entry can go.
#[tokio::test]
async fn sqlx_own_begin_still_leaks_a_cancelled_transaction_into_the_pool() {
    let (_db, pool) = pool_of_one().await;
    #[allow(clippy::disallowed_methods)]
    let cancelled =
        tokio::time::timeout(Duration::from_millis(50), pool.begin_with(SLOW_BEGIN)).await;
    assert!(cancelled.is_err(), "the begin was meant to be cancelled");

    assert_eq!(
        next_borrower(&pool).await,
        ("on".to_owned(), "off".to_owned(), false)
    );
}

#[tokio::test]
async fn a_begin_that_is_not_cancelled_is_an_ordinary_transaction() {
    let (_db, pool) = pool_of_one().await;
    let mut transaction = db::begin(&pool).await.unwrap();
    sqlx::query("CREATE TABLE kept (id int)")
        .execute(&mut *transaction)
        .await
        .unwrap();
    transaction.commit().await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'kept'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 1);
}
