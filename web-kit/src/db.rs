//! PostgreSQL start-up: a pool, and refinery migrations run through sqlx (refinery has no sqlx
//! driver, so [`SqlxMigrator`] implements its async traits on one pooled connection), serialised
//! across replicas by an advisory lock. Also [`TestDatabase`], a throw-away database for tests.

use std::time::Duration;

use refinery_core::{
    AsyncMigrate, Migration, Runner,
    traits::r#async::{AsyncQuery, AsyncTransaction},
};
use sqlx::{
    AssertSqlSafe, Connection, Executor, PgPool, Row,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Why the database could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot reach the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[source] refinery_core::Error),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// A pool that waits at most `acquire_timeout` for a connection, so a dead database turns into a
/// quick 503 instead of a hung request.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let options: PgConnectOptions = url.parse().map_err(DbError::Connect)?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// Applies the embedded migrations (`refinery::embed_migrations!`) once, even when several
/// replicas start together: they queue on a PostgreSQL advisory lock.
pub async fn migrate(pool: &PgPool, runner: Runner) -> Result<(), DbError> {
    const MIGRATION_LOCK: i64 = 0x6d61_726b_6574; // "market"
    let mut connection = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *connection)
        .await?;
    let mut migrator = SqlxMigrator(connection);
    let report = runner.run_async(&mut migrator).await;
    let mut connection = migrator.0;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *connection)
        .await?;
    let report = report.map_err(DbError::Migrate)?;
    for migration in report.applied_migrations() {
        tracing::info!(%migration, "migration applied");
    }
    Ok(())
}

/// refinery's async driver traits over one sqlx connection.
pub struct SqlxMigrator(PoolConnection<sqlx::Postgres>);

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
            .fetch_all(&mut *self.0)
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

/// A database created for one test and dropped when the value is dropped (even when the test
/// panics), so tests run in parallel and leave nothing behind.
///
/// The server comes from `TEST_DATABASE_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`).
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create(label: &str) -> Result<Self, DbError> {
        let server_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!(
            "t_{}_{}",
            label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            uuid::Uuid::new_v4().simple()
        );
        let mut admin = sqlx::PgConnection::connect(&server_url)
            .await
            .map_err(DbError::Connect)?;
        admin
            .execute(AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .await?;
        admin.close().await?;
        let url = replace_database(&server_url, &name);
        Ok(Self {
            name,
            url,
            server_url,
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Drop cannot await, and may run inside a runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&server_url).await?;
                admin
                    .execute(AssertSqlSafe(format!(
                        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                    )))
                    .await?;
                admin.close().await
            })?;
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

fn replace_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_end = base.find("://").map_or(0, |scheme| scheme + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_swapped_and_the_query_kept() {
        assert_eq!(
            replace_database("postgres://u@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5432/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
