//! The pool's server-side deadlines against the real PostgreSQL: a long statement, a long lock
//! wait and a transaction left idle are each ended, the idle one releasing its row lock, while
//! migrations still run however long they take.

use std::{collections::HashMap, time::Duration};

use refinery_core::{Migration, Runner};
use sqlx::{Connection, PgConnection, PgPool};
use web_kit::{
    config::Env,
    db::{MIGRATION_LOCK, Timeouts, connect, migrate},
    testing::TestDatabase,
};

/// Longest any of these tests waits for something that must happen: a bound for a hang, not a
/// speed check.
const HANG: Duration = Duration::from_secs(20);

const SHORT: Duration = Duration::from_millis(300);

async fn database(timeouts: Timeouts) -> (TestDatabase, PgPool) {
    let db = TestDatabase::create("webkit_deadlines").await.unwrap();
    let pool = connect(db.url(), 4, &timeouts).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL); INSERT INTO items VALUES (1, 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    (db, pool)
}

/// A session of its own, without the pool's deadlines.
async fn plain(db: &TestDatabase) -> PgConnection {
    PgConnection::connect(db.url()).await.unwrap()
}

fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .map(|code| code.into_owned())
}

#[tokio::test]
async fn every_session_starts_with_the_deadlines_and_server_side_keepalives() {
    let (_db, pool) = database(Timeouts::default()).await;

    let mut settings = HashMap::new();
    for name in [
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "tcp_keepalives_idle",
        "tcp_keepalives_interval",
        "tcp_keepalives_count",
        "client_connection_check_interval",
    ] {
        let value: String = sqlx::query_scalar("SELECT current_setting($1)")
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
        settings.insert(name, value);
    }

    assert_eq!(settings["statement_timeout"], "5s");
    assert_eq!(settings["lock_timeout"], "4s");
    assert_eq!(settings["idle_in_transaction_session_timeout"], "3s");
    // Over TCP (the test server's URL is 127.0.0.1); a Unix socket would read 0.
    assert_eq!(settings["tcp_keepalives_idle"], "10");
    assert_eq!(settings["tcp_keepalives_interval"], "5");
    assert_eq!(settings["tcp_keepalives_count"], "3");
    assert_eq!(settings["client_connection_check_interval"], "5s");
    pool.close().await;
}

#[tokio::test]
async fn a_statement_longer_than_the_statement_timeout_fails_with_the_timeout_error() {
    let (_db, pool) = database(Timeouts {
        statement: SHORT,
        ..Timeouts::default()
    })
    .await;

    let error = sqlx::query("SELECT pg_sleep(5)")
        .execute(&pool)
        .await
        .unwrap_err();

    assert_eq!(sqlstate(&error).as_deref(), Some("57014"), "{error}");
    assert!(error.to_string().contains("statement timeout"), "{error}");
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("the session is still usable");
    pool.close().await;
}

#[tokio::test]
async fn a_lock_wait_longer_than_the_lock_timeout_fails_with_the_lock_error() {
    let (db, pool) = database(Timeouts {
        lock: SHORT,
        ..Timeouts::default()
    })
    .await;
    let mut holder = plain(&db).await;
    let mut held = holder.begin().await.unwrap();
    sqlx::query("SELECT n FROM items WHERE id = 1 FOR UPDATE")
        .execute(&mut *held)
        .await
        .unwrap();

    let error = sqlx::query("UPDATE items SET n = n + 1 WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap_err();

    assert_eq!(sqlstate(&error).as_deref(), Some("55P03"), "{error}");
    held.rollback().await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn a_transaction_left_idle_is_ended_and_another_session_gets_its_row_lock() {
    let (db, pool) = database(Timeouts {
        idle_in_transaction: SHORT,
        ..Timeouts::default()
    })
    .await;
    // A peer that wrote, then froze inside its transaction.
    let mut frozen = web_kit::db::begin(&pool).await.unwrap();
    sqlx::query("UPDATE items SET n = 100 WHERE id = 1")
        .execute(&mut *frozen)
        .await
        .unwrap();

    // Another session, with no lock timeout of its own, waits for the row.
    let mut other = plain(&db).await;
    tokio::time::timeout(
        HANG,
        sqlx::query("UPDATE items SET n = n + 1 WHERE id = 1").execute(&mut other),
    )
    .await
    .expect("the frozen transaction's row lock is released")
    .unwrap();

    let n: i32 = sqlx::query_scalar("SELECT n FROM items WHERE id = 1")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(n, 1, "the frozen transaction's write was rolled back");
    assert!(
        frozen.commit().await.is_err(),
        "the frozen peer's session was ended"
    );
    pool.close().await;
}

#[tokio::test]
async fn migrations_wait_and_run_past_the_pools_deadlines_which_the_pool_keeps() {
    let (db, pool) = database(Timeouts {
        statement: SHORT,
        lock: SHORT,
        ..Timeouts::default()
    })
    .await;
    // Another replica is migrating: it holds the lock longer than the lock timeout.
    let mut replica = plain(&db).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut replica)
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(SHORT * 3).await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut replica)
            .await
            .unwrap();
        replica
    });
    let slow = Migration::unapplied(
        "V1__slow",
        "SELECT pg_sleep(1); CREATE TABLE tags (id int PRIMARY KEY)",
    )
    .unwrap();

    tokio::time::timeout(HANG, migrate(&pool, Runner::new(&[slow])))
        .await
        .expect("migrations finish")
        .expect("migrations are not cut by the pool's deadlines");

    release.await.unwrap();
    sqlx::query("INSERT INTO tags (id) VALUES (1)")
        .execute(&pool)
        .await
        .expect("the migration ran");
    for _ in 0..4 {
        let error = sqlx::query("SELECT pg_sleep(1)")
            .execute(&pool)
            .await
            .expect_err("every pooled session still has the statement timeout");
        assert_eq!(sqlstate(&error).as_deref(), Some("57014"), "{error}");
    }
    pool.close().await;
}

#[test]
fn the_deadlines_are_read_in_milliseconds_with_defaults_and_zero_turns_one_off() {
    let map: HashMap<&str, &str> = [
        ("DATABASE_STATEMENT_TIMEOUT_MS", "2500"),
        ("DATABASE_LOCK_TIMEOUT_MS", "0"),
    ]
    .into();
    let env = Env::from_lookup(|name| map.get(name).map(|value| (*value).to_owned()));

    let timeouts = Timeouts::from_env(&env).unwrap();

    assert_eq!(timeouts.statement, Duration::from_millis(2500));
    assert_eq!(timeouts.lock, Duration::ZERO);
    assert_eq!(
        timeouts.idle_in_transaction,
        Timeouts::default().idle_in_transaction
    );
    let bad: HashMap<&str, &str> = [("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", "3s")].into();
    let error = Timeouts::from_env(&Env::from_lookup(|name| {
        bad.get(name).map(|value| (*value).to_owned())
    }))
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS is malformed"),
        "{error}"
    );
}
