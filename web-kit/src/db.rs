//! PostgreSQL start-up: a pool whose every session has deadlines ([`Timeouts`]), and refinery
//! migrations run through sqlx (refinery has no sqlx driver, so [`SqlxMigrator`] implements its
//! async traits on one connection), serialised across replicas by an advisory lock. A binary also starts on a database that a newer release
//! already migrated further (a rollback; migrations are expand/contract, docs/deploy.md).

use std::time::Duration;

use refinery_core::{
    AsyncMigrate, Migration, Runner,
    traits::r#async::{AsyncQuery, AsyncTransaction},
};
use sqlx::{
    AssertSqlSafe, Connection, Executor, PgPool, Postgres, Row, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::config::{self, Env, EnvError, Setting};

/// Why the database could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot reach the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[source] refinery_core::Error),
    #[error("the database's migrations do not fit this release: {0}")]
    Schema(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// Server-side deadlines of every pooled session, so that a stuck statement, a lock wait or a
/// peer frozen inside a transaction (SIGSTOP, a hung handler) cannot hold row locks for long.
/// Zero turns one off (PostgreSQL's meaning).
///
/// The defaults nest: a transaction left idle is ended first (3 s), so a session waiting for its
/// row locks gets them before its own lock wait gives up (4 s), and every statement ends within
/// 5 s, half of stream-lib's handler deadline (10 s) and a sixth of the HTTP request timeout
/// (30 s). Our statements take milliseconds; migrations run without these (see [`migrate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `statement_timeout` (`DATABASE_STATEMENT_TIMEOUT_MS`, default 5000).
    pub statement: Duration,
    /// `lock_timeout` (`DATABASE_LOCK_TIMEOUT_MS`, default 4000).
    pub lock: Duration,
    /// `idle_in_transaction_session_timeout` (`DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`, default
    /// 3000): the server ends the session, its transaction rolls back and its locks are released.
    pub idle_in_transaction: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            statement: Duration::from_secs(5),
            lock: Duration::from_secs(4),
            idle_in_transaction: Duration::from_secs(3),
        }
    }
}

impl Timeouts {
    /// Reads `DATABASE_STATEMENT_TIMEOUT_MS`, `DATABASE_LOCK_TIMEOUT_MS` and
    /// `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` (milliseconds, [`config::DATABASE_TIMEOUTS`]), their
    /// declared defaults (those of [`Timeouts::default`]) where unset.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, EnvError> {
        let millis = |setting: &Setting| env.parse(setting).map(Duration::from_millis);
        Ok(Self {
            statement: millis(&config::DATABASE_STATEMENT_TIMEOUT_MS)?,
            lock: millis(&config::DATABASE_LOCK_TIMEOUT_MS)?,
            idle_in_transaction: millis(&config::DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS)?,
        })
    }
}

/// Server-side TCP keepalives: the server finds a client whose host or network vanished
/// (half-open connection) within about 10 + 3 × 5 = 25 s and ends its session, releasing its
/// locks (session advisory locks included); `client_connection_check_interval` also stops a
/// running statement of a client that is gone. sqlx 0.9 has no client-side keepalive option
/// (launchbadge/sqlx#3540); the client's own waits are bounded by the pool's acquire timeout,
/// stream-lib's handler deadline and the HTTP request timeout.
const KEEPALIVES: [(&str, &str); 4] = [
    ("tcp_keepalives_idle", "10"),
    ("tcp_keepalives_interval", "5"),
    ("tcp_keepalives_count", "3"),
    ("client_connection_check_interval", "5000"),
];

/// A pool that waits at most `acquire_timeout` for a connection, so a dead database turns into a
/// quick 503 instead of a hung request; every session gets `timeouts` and server-side keepalives
/// as startup options. Its usage is sampled into the `db_pool_*` metrics. Connections are handed
/// out without a ping (see the body).
pub async fn connect(
    url: &str,
    max_connections: u32,
    timeouts: &Timeouts,
) -> Result<PgPool, DbError> {
    let options: PgConnectOptions = url.parse().map_err(DbError::Connect)?;
    let millis = |duration: Duration| duration.as_millis().to_string();
    let options = options
        .options([
            ("statement_timeout", millis(timeouts.statement)),
            ("lock_timeout", millis(timeouts.lock)),
            (
                "idle_in_transaction_session_timeout",
                millis(timeouts.idle_in_transaction),
            ),
        ])
        .options(KEEPALIVES);
    // No ping on acquire (sqlx's default sends one before handing out an idle connection: a
    // round trip on every checkout, the most frequent statement of all). A connection the server
    // ended while idle fails its first statement instead, and sqlx then closes it.
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(DbError::Connect)?;
    crate::observability::watch_pool(&pool);
    Ok(pool)
}

/// Begins a transaction on a connection of `pool`, safe against cancellation: use it instead of
/// `Pool::begin` (clippy.toml disallows that one).
///
/// sqlx 0.9's `Pool::begin` is not cancel-safe on PostgreSQL (transact-rs/sqlx#4393): a future
/// dropped while the `BEGIN` round trip is in flight (a client hanging up, a request deadline, a
/// handler deadline) leaves the session inside a transaction sqlx does not track, and the pool
/// hands that connection to the next borrower. Its statements then run inside that transaction,
/// with its settings (`READ ONLY`, say) and holding its locks, and after the first error every
/// statement on the connection fails with 25P02 until it is recycled. Here the `BEGIN` runs on a
/// task of its own: a caller dropped meanwhile leaves the task to finish it and drop the
/// transaction, which rolls it back before the connection is used again.
///
/// The pool hands out connections without a ping ([`connect`]), so a connection the server ended
/// while idle fails its `BEGIN`: that one is closed and the `BEGIN` tried once more on another.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    begin_on_own_task(pool, None).await
}

/// [`begin`] with a custom `BEGIN` statement (`BEGIN READ ONLY; SET LOCAL ...`).
pub async fn begin_with(
    pool: &PgPool,
    statement: &'static str,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    begin_on_own_task(pool, Some(statement)).await
}

#[allow(clippy::disallowed_methods)] // the one place that may call `Pool::begin`
async fn begin_on_own_task(
    pool: &PgPool,
    statement: Option<&'static str>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    let begin = async move {
        let once = || async {
            match statement {
                Some(statement) => pool.begin_with(statement).await,
                None => pool.begin().await,
            }
        };
        match once().await {
            Err(error) if is_dead_connection(&error) => {
                tracing::warn!(%error, "a pooled connection was dead; beginning on another");
                once().await
            }
            begun => begun,
        }
    };
    match tokio::spawn(begin).await {
        Ok(begun) => begun,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Only a runtime shutting down cancels the task.
        Err(_) => Err(sqlx::Error::PoolClosed),
    }
}

/// The connection is gone (the server ended the session, 57P01, or the socket broke).
fn is_dead_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(error) => error.code().as_deref() == Some("57P01"),
        _ => false,
    }
}

/// The PostgreSQL advisory lock that [`migrate`] holds while it migrates ("market").
pub const MIGRATION_LOCK: i64 = 0x6d61_726b_6574;

/// Applies the embedded migrations (`refinery::embed_migrations!`) once, even when several
/// replicas start together: they queue on a PostgreSQL advisory lock.
///
/// A database that already holds migrations newer than every one this binary knows (the release
/// after this one ran, then was rolled back) is accepted as it is, with a warning: each migration
/// keeps the previous release working (expand/contract), so nothing needs undoing. Anything else
/// unknown or out of order is refused, as refinery refuses it.
pub async fn migrate(pool: &PgPool, runner: Runner) -> Result<(), DbError> {
    // A connection of its own, never handed back to the pool: waiting for another replica's
    // migrations and running a long one must not be cut by the pool's statement and lock
    // timeouts.
    let mut connection = pool.acquire().await?.detach();
    sqlx::raw_sql("SET statement_timeout = 0; SET lock_timeout = 0")
        .execute(&mut connection)
        .await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut connection)
        .await?;
    let mut migrator = SqlxMigrator(connection);
    let outcome = migrate_locked(&mut migrator, &runner).await;
    let mut connection = migrator.0;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    outcome
}

async fn migrate_locked(migrator: &mut SqlxMigrator, runner: &Runner) -> Result<(), DbError> {
    let history: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('refinery_schema_history')::text")
            .fetch_one(&mut migrator.0)
            .await?;
    let applied = match history {
        Some(_) => runner
            .get_applied_migrations_async(migrator)
            .await
            .map_err(DbError::Migrate)?,
        None => Vec::new(),
    };
    let newer = newer_migrations(runner.get_migrations(), &applied)?;
    if let Some(latest) = newer.last() {
        tracing::warn!(
            database = %latest,
            binary = ?runner.get_migrations().iter().map(Migration::version).max(),
            unknown = newer.len(),
            "the database is migrated beyond this release (a rollback?); running on it as it is"
        );
        return Ok(());
    }
    let report = runner.run_async(migrator).await.map_err(DbError::Migrate)?;
    for migration in report.applied_migrations() {
        tracing::info!(%migration, "migration applied");
    }
    Ok(())
}

/// The applied migrations this binary does not know, when they are all newer than every one it
/// knows and it knows nothing unapplied or different: the schema of a later release. Empty when
/// the binary knows every applied migration (refinery then checks and applies as usual).
fn newer_migrations<'a>(
    known: &[Migration],
    applied: &'a [Migration],
) -> Result<Vec<&'a Migration>, DbError> {
    let mut unknown: Vec<&Migration> = applied
        .iter()
        .filter(|app| !known.iter().any(|m| m.version() == app.version()))
        .collect();
    if unknown.is_empty() {
        return Ok(unknown);
    }
    unknown.sort();
    let latest_known = known.iter().map(Migration::version).max();
    if let Some(older) = unknown
        .iter()
        .find(|app| Some(app.version()) < latest_known)
    {
        return Err(DbError::Schema(format!(
            "applied migration {older} is unknown to this release, yet older than its latest"
        )));
    }
    for migration in known {
        match applied
            .iter()
            .find(|app| app.version() == migration.version())
        {
            None => {
                return Err(DbError::Schema(format!(
                    "migration {migration} was never applied, and the database is already at {}",
                    unknown[unknown.len() - 1]
                )));
            }
            Some(app) if app != migration => {
                return Err(DbError::Schema(format!(
                    "applied migration {app} differs from this release's {migration}"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(unknown)
}

/// refinery's async driver traits over one sqlx connection.
pub struct SqlxMigrator(sqlx::PgConnection);

impl AsyncTransaction for SqlxMigrator {
    type Error = sqlx::Error;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &'a mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let mut transaction = self.0.begin().await?;
        let mut count = 0;
        for query in queries {
            // Migration files are our own SQL, embedded at compile time.
            transaction
                .execute(sqlx::raw_sql(AssertSqlSafe(query.to_owned())))
                .await?;
            count += 1;
        }
        transaction.commit().await?;
        Ok(count)
    }
}

impl AsyncQuery<Vec<Migration>> for SqlxMigrator {
    async fn query<'a>(&'a mut self, query: &'a str) -> Result<Vec<Migration>, Self::Error> {
        let rows = sqlx::query(AssertSqlSafe(query.to_owned()))
            .fetch_all(&mut self.0)
            .await?;
        rows.iter()
            .map(|row| {
                let applied_on: String = row.try_get(2)?;
                let applied_on = OffsetDateTime::parse(&applied_on, &Rfc3339)
                    .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
                let checksum: String = row.try_get(3)?;
                let checksum = checksum
                    .parse::<u64>()
                    .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
                Ok(Migration::applied(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    applied_on,
                    checksum,
                ))
            })
            .collect()
    }
}

impl AsyncMigrate for SqlxMigrator {}

#[cfg(test)]
mod tests {
    use refinery_core::{Migration, Runner};
    use sqlx::PgPool;

    use super::{DbError, migrate, newer_migrations};
    use crate::testing::TestDatabase;

    fn migration(name: &str, sql: &str) -> Migration {
        Migration::unapplied(name, sql).unwrap()
    }

    fn release(migrations: &[(&str, &str)]) -> Runner {
        let migrations: Vec<Migration> = migrations
            .iter()
            .map(|(name, sql)| migration(name, sql))
            .collect();
        Runner::new(&migrations)
    }

    const V1: (&str, &str) = (
        "V1__create_items",
        "CREATE TABLE items (id int PRIMARY KEY)",
    );
    const V2: (&str, &str) = (
        "V2__add_item_note",
        "ALTER TABLE items ADD COLUMN note text",
    );
    const V3: (&str, &str) = ("V3__create_tags", "CREATE TABLE tags (id int PRIMARY KEY)");

    async fn database() -> (TestDatabase, PgPool) {
        let db = TestDatabase::create("webkit_migrate").await.unwrap();
        let pool = PgPool::connect(db.url()).await.unwrap();
        (db, pool)
    }

    async fn applied_versions(pool: &PgPool) -> Vec<i32> {
        sqlx::query_scalar("SELECT version FROM refinery_schema_history ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_binary_starts_on_a_database_with_one_more_migration_than_it_knows() {
        let (_db, pool) = database().await;
        migrate(&pool, release(&[V1, V2])).await.unwrap();

        // The previous release, which knows only V1, starts on the schema V2 left behind.
        migrate(&pool, release(&[V1])).await.unwrap();

        assert_eq!(applied_versions(&pool).await, [1, 2]);
        sqlx::query("INSERT INTO items (id) VALUES (1)")
            .execute(&pool)
            .await
            .expect("the old release's writes still work on the expanded table");
        pool.close().await;
    }

    #[tokio::test]
    async fn the_newer_release_then_applies_only_what_is_missing() {
        let (_db, pool) = database().await;
        migrate(&pool, release(&[V1, V2])).await.unwrap();
        migrate(&pool, release(&[V1])).await.unwrap();

        migrate(&pool, release(&[V1, V2, V3])).await.unwrap();

        assert_eq!(applied_versions(&pool).await, [1, 2, 3]);
        pool.close().await;
    }

    #[tokio::test]
    async fn an_unknown_migration_older_than_the_binarys_latest_is_refused() {
        let (_db, pool) = database().await;
        migrate(&pool, release(&[V1, V2])).await.unwrap();

        let refused = migrate(&pool, release(&[V1, V3])).await;

        assert!(matches!(refused, Err(DbError::Schema(_))), "{refused:?}");
        assert_eq!(applied_versions(&pool).await, [1, 2]);
        pool.close().await;
    }

    #[tokio::test]
    async fn a_rollback_onto_a_changed_migration_is_refused() {
        let (_db, pool) = database().await;
        migrate(&pool, release(&[V1, V2])).await.unwrap();

        let edited = (
            "V1__create_items",
            "CREATE TABLE items (id bigint PRIMARY KEY)",
        );
        let refused = migrate(&pool, release(&[edited])).await;

        assert!(matches!(refused, Err(DbError::Schema(_))), "{refused:?}");
        pool.close().await;
    }

    #[tokio::test]
    async fn a_changed_migration_is_still_refused_without_a_rollback() {
        let (_db, pool) = database().await;
        migrate(&pool, release(&[V1])).await.unwrap();

        let edited = (
            "V1__create_items",
            "CREATE TABLE items (id bigint PRIMARY KEY)",
        );
        let refused = migrate(&pool, release(&[edited])).await;

        assert!(matches!(refused, Err(DbError::Migrate(_))), "{refused:?}");
        pool.close().await;
    }

    #[test]
    fn the_declared_deadlines_are_the_defaults() {
        let timeouts = super::Timeouts::from_env(&crate::config::Env::from_lookup(|_| None));

        assert_eq!(timeouts.unwrap(), super::Timeouts::default());
    }

    #[test]
    fn newer_migrations_are_only_those_past_the_binarys_latest() {
        let known = [migration(V1.0, V1.1), migration(V2.0, V2.1)];
        let mut applied = known.to_vec();
        for migration in &mut applied {
            migration.set_applied();
        }
        assert!(newer_migrations(&known, &applied).unwrap().is_empty());

        let mut future = migration(V3.0, V3.1);
        future.set_applied();
        applied.push(future);
        let newer = newer_migrations(&known, &applied).unwrap();
        assert_eq!(newer.iter().map(|m| m.version()).collect::<Vec<_>>(), [3]);

        // A binary that knows a migration the newer database never got is refused.
        let gap = [migration(V1.0, V1.1), migration(V2.0, V2.1)];
        let skipped = [applied[0].clone(), applied[2].clone()];
        assert!(matches!(
            newer_migrations(&gap, &skipped),
            Err(DbError::Schema(_))
        ));
    }
}
